"""What a method returns under `with_raw_response`: the generated `APIResponse` over the HTTP answer,
whose `parse()` reads it as the method would have."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import httpx

from ._response import parse_answer

if TYPE_CHECKING:
    from ..types import APIResponse


def raw_answer(response: httpx.Response, cast_to: Any, strict: bool, unwrap: Optional[str]) -> APIResponse[Any]:
    """The `APIResponse` for a successful answer (nothing is parsed until `parse()`)."""
    from ..types import APIResponse

    return APIResponse(response, lambda: parse_answer(cast_to, response, strict, unwrap))


def raw_download(response: httpx.Response, written: int) -> APIResponse[int]:
    """The `APIResponse` of a download written to a file: `parse()` is the number of bytes written."""
    from ..types import APIResponse

    return APIResponse(response, lambda: written)
