"""The hand-written extras of some generated models: mixins that the generated class inherits from
where the spec names one (`x-meganova-extras: <MixinName>` on the schema). They use only the model's
own JSON and fields, and import no generated model (the generated models import them).

- `ModelPricing`: `prompt_tokens_per_1k` / `completion_tokens_per_1k` (the guideline's names) as the
  server sends them, else computed from the per-token decimal strings the live API sends.
- `Embedding`: `floats()`, the vector whether it came as numbers or as base64 (`encoding_format="base64"`).
- `Image`: `save(path)` writes the decoded `b64_json`; `image_bytes()` gives them.
- `RerankResult`: `document_text`, the document's text whether the server sent a string or an object.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, List, Optional, Union

from .runtime.errors import MeganovaError


def _per_thousand(obj: Any, name: str, per_token: str) -> Optional[float]:
    """A price per 1,000 tokens: the field `name` as sent, else 1,000 times the per-token decimal `per_token`."""
    sent = _read_price(obj.get(name))
    if sent is not None:
        return sent
    value = obj.get(per_token)
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return float(Decimal(str(value).strip()) * 1000)
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

    if TYPE_CHECKING:

        def get(self, key: str, default: Any = None) -> Any: ...  # the model's (`Model.get`)

    @property
    def prompt_tokens_per_1k(self) -> Optional[float]:
        """Price of 1,000 prompt tokens (as sent, or 1,000 x `prompt`)."""
        return _per_thousand(self, "prompt_tokens_per_1k", "prompt")

    @property
    def completion_tokens_per_1k(self) -> Optional[float]:
        """Price of 1,000 completion tokens (as sent, or 1,000 x `completion`)."""
        return _per_thousand(self, "completion_tokens_per_1k", "completion")


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


class RerankResultExtras:
    """`document_text`: the returned document's text, whichever form the server sent it in."""

    __slots__ = ()
    document: Any

    @property
    def document_text(self) -> Optional[str]:
        """The document's text: `document` when it is a string, else its `text` (None without a document)."""
        document = self.document
        if document is None or isinstance(document, str):
            return document
        text = document.get("text")
        return text if isinstance(text, str) else None
