"""`client.images`: image generation (`generate`), generated from the spec.

Extension (`_before_request`): `width` and `height` become `size` ("WxH") when `size` is left out, as
in the 0.4 SDK; they are never sent on their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...api.images import AsyncImagesResource, ImagesResource

if TYPE_CHECKING:
    from ...types import Request


class _SizeFromWidthAndHeight:
    def _before_request(self, operation: str, request: Request) -> Request:
        body = request.json
        if body is not None:
            width, height = body.pop("width", None), body.pop("height", None)
            if "size" not in body and width and height:
                body["size"] = f"{width}x{height}"
        return request


class Images(_SizeFromWidthAndHeight, ImagesResource):
    """Image generation: `generate()`; each image has `url` or `b64_json`, and `save(path)`."""


class AsyncImages(_SizeFromWidthAndHeight, AsyncImagesResource):
    """Image generation: `await generate()`."""
