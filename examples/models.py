"""Models: the list, one model by its id (ids hold a slash), and an unknown id."""

from __future__ import annotations

from meganova import MegaNova
from meganova.errors import NotFoundError

with MegaNova() as client:
    for model in client.models.list():
        print(model.id, model.context_length, model.modalities)
    flash = client.models.get("meganova-ai/manta-flash-1.0")
    print(flash.name, "prompt price per token:", flash.pricing.prompt if flash.pricing else None)
    try:
        client.models.get("meganova-ai/no-such-model")
    except NotFoundError as e:
        print("not found:", e.status, e.code)
