"""`client.images`: image generation (`generate`), generated from the spec.

Extension (`_before_request`), one rule for `width` and `height`: both, without `size`, become `size`
("WxH"), as in the 0.4 SDK; one without the other, or either with `size`, is refused with a
`MeganovaError` saying why, before anything is sent (the API takes only `size`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

from ...api.images import AsyncImagesResource, ImagesResource
from ..runtime.errors import MeganovaError

if TYPE_CHECKING:
    from ...types import Request


def size_of(body: Dict[str, Any]) -> None:
    """Replaces `width` and `height` in a request body by `size` ("WxH"); refuses what that rule cannot
    express (one without the other, or either beside `size`)."""
    width, height = body.pop("width", None), body.pop("height", None)
    if width is None and height is None:
        return
    if "size" in body:
        raise MeganovaError(
            f"Pass either size={body['size']!r} or width and height, not both: the API takes only size."
        )
    if width is None or height is None:
        given, missing = ("width", "height") if height is None else ("height", "width")
        raise MeganovaError(f"{given} needs {missing} too: together they are sent as size='<width>x<height>'.")
    body["size"] = f"{width}x{height}"


class _SizeFromWidthAndHeight:
    def _before_request(self, operation: str, request: Request) -> Request:
        if request.json is not None:
            size_of(request.json)
        return request


class Images(_SizeFromWidthAndHeight, ImagesResource):
    """Image generation: `generate()`; each image has `url` or `b64_json`, and `save(path)`."""


class AsyncImages(_SizeFromWidthAndHeight, AsyncImagesResource):
    """Image generation: `await generate()`."""
