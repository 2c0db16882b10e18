"""The hand-written extras of some generated models: mixins that the generated class inherits from
where the spec names one (`x-meganova-extras: <MixinName>` on the schema). They use only the model's
own JSON and fields, and import no generated model (the generated models import them).

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
from typing import Any, List, Optional, Union, overload

from ..types import Field
from .errors import MeganovaError


class _PerThousand(Field[Optional[float]]):
    """A price per 1,000 tokens: the field as sent, else 1,000 times the per-token decimal `per_token`."""

    def __init__(self, name: str, per_token: str, doc: str) -> None:
        super().__init__(name, _read_price, doc=doc)
        self.per_token = per_token

    @overload
    def __get__(self, obj: None, cls: Any = None) -> _PerThousand: ...
    @overload
    def __get__(self, obj: object, cls: Any = None) -> Optional[float]: ...
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


class ModelPricingExtras:
    """Prices per 1,000 tokens (the guideline's names), beside the per-token decimal strings as sent."""

    __slots__ = ()

    prompt_tokens_per_1k = _PerThousand(
        "prompt_tokens_per_1k", "prompt", "Price of 1,000 prompt tokens (as sent, or 1,000 x `prompt`)."
    )
    completion_tokens_per_1k = _PerThousand(
        "completion_tokens_per_1k",
        "completion",
        "Price of 1,000 completion tokens (as sent, or 1,000 x `completion`).",
    )


class EmbeddingExtras:
    """`floats()`: the vector, decoded from base64 when it came so."""

    __slots__ = ()
    embedding: Union[List[float], str]
    index: int

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


class ImageExtras:
    """`save(path)` and `image_bytes()`: the decoded `b64_json`."""

    __slots__ = ()
    b64_json: Optional[str]

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
