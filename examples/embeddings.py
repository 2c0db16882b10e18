"""Embeddings: vectors for two texts, and their cosine similarity."""

from __future__ import annotations

import math

from meganova import MegaNova

with MegaNova() as client:
    result = client.embeddings.create(["Neon Harbor", "the night market"], "BAAI/bge-m3", dimensions=8)
    first, second = (item.floats() for item in result.data)
    dot = sum(a * b for a, b in zip(first, second))
    norms = math.sqrt(sum(a * a for a in first)) * math.sqrt(sum(b * b for b in second))
    print(len(result.data), "vectors of", len(first), "numbers; cosine similarity", round(dot / norms, 4))
    print("tokens:", result.usage.total_tokens if result.usage else None)
