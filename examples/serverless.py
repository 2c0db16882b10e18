"""The serverless catalogue: models by modality and by tag."""

from __future__ import annotations

from meganova import MegaNova

with MegaNova() as client:
    page = client.serverless.list_models(modality="text_generation")
    print(page.count, "text models:", ", ".join(str(m.model_name) for m in page.models or []))
    popular = client.serverless.list_models(highlight="popular")
    print("popular:", ", ".join(str(m.model_name) for m in popular.models or []))
