"""The hand-written extras of some generated models, registered at the generator's extension point
(`meganova.types.MODEL_CLASSES`): reading one of these models from an answer gives the subclass here.

- `ModelPricing`: `prompt_tokens_per_1k` / `completion_tokens_per_1k` (the guideline's names) as the
  server sends them, else computed from the per-token decimal strings the live API sends.
- `Embedding`: `floats()`, the vector whether it came as numbers or as base64 (`encoding_format="base64"`).
- `Image`: `save(path)` writes the decoded `b64_json`; `image_bytes()` gives them.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from decimal import Decimal, InvalidOperation
from typing import Any, List, Optional, Union

from ..models.embedding import Embedding as _Embedding
from ..models.image import Image as _Image
from ..models.model_pricing import ModelPricing as _ModelPricing
from ..types import MODEL_CLASSES, Field, Model
from .errors import MeganovaError


class _PerThousand(Field[Optional[float]]):
    """A price per 1,000 tokens: the field as sent, else 1,000 times the per-token decimal `per_token`."""

    def __init__(self, name: str, per_token: str, doc: str) -> None:
        super().__init__(name, _read_price, doc=doc)
        self.per_token = per_token

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        if obj is None:
            return self
        sent = super().__get__(obj, cls)
        if sent is not None:
            return sent
        per_token = obj._data.get(self.per_token)
        if isinstance(per_token, (int, float, str)) and not isinstance(per_token, bool):
            try:
                return float(Decimal(str(per_token).strip()) * 1000)
            except (InvalidOperation, ValueError):
                return None
        return None


def _read_price(value: Any, strict: bool = False) -> Optional[float]:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(Decimal(value.strip()))
        except (InvalidOperation, ValueError):
            return None
    return None


class ModelPricing(_ModelPricing):
    """Prices as sent (`pricing["prompt"]`: a decimal string per token), and per 1,000 tokens."""

    __slots__ = ()

    prompt_tokens_per_1k = _PerThousand(
        "prompt_tokens_per_1k", "prompt", "Price of 1,000 prompt tokens (as sent, or 1,000 x `prompt`)."
    )
    completion_tokens_per_1k = _PerThousand(
        "completion_tokens_per_1k",
        "completion",
        "Price of 1,000 completion tokens (as sent, or 1,000 x `completion`).",
    )


class Embedding(_Embedding):
    """One vector of an embeddings answer; `floats()` decodes a base64 one."""

    __slots__ = ()

    def floats(self) -> List[float]:
        """The vector as floats: as sent, or decoded from base64 little-endian float32."""
        value = self.embedding
        if isinstance(value, list):
            return value
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MeganovaError(f"Embedding {self.index}: not valid base64 ({exc}).") from None
        if len(raw) % 4:
            raise MeganovaError(f"Embedding {self.index}: {len(raw)} bytes is not a whole number of float32.")
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))


class Image(_Image):
    """One generated image: `url`, or `b64_json` that `save()` writes decoded."""

    __slots__ = ()

    def image_bytes(self) -> bytes:
        """The decoded `b64_json` (a `MeganovaError` when the image came as a `url`)."""
        if not self.b64_json:
            raise MeganovaError("This image has no b64_json (ask with response_format='b64_json'); see .url.")
        try:
            return base64.b64decode(self.b64_json, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MeganovaError(f"The image's b64_json is not valid base64 ({exc}).") from None

    def save(self, path: Union[str, os.PathLike[str]]) -> int:
        """Write the decoded image to `path`; the number of bytes written."""
        data = self.image_bytes()
        with open(path, "wb") as file:
            return file.write(data)


def register() -> None:
    """Make the generated code read these models as the subclasses above."""
    extras: List[type[Model]] = [ModelPricing, Embedding, Image]
    for cls in extras:
        MODEL_CLASSES[cls.__name__] = cls


register()
