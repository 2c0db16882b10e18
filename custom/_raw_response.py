"""`APIResponse`: what a method returns under `client.with_raw_response`: the HTTP answer, and `parse()`."""

from __future__ import annotations

from typing import Any, Optional

import httpx

from ._response import parse_answer, request_id_of


class APIResponse:
    """A successful answer before it is read as a model: `status_code`, `headers`, `request_id`,
    `content`, `http_response`, and `parse()` for what the method returns without `with_raw_response`."""

    __slots__ = ("_cast_to", "_parsed", "_strict", "_unwrap", "http_response")

    def __init__(
        self, response: httpx.Response, cast_to: Any, strict: bool = False, unwrap: Optional[str] = None
    ) -> None:
        self.http_response = response
        self._cast_to = cast_to
        self._strict = strict
        self._unwrap = unwrap
        self._parsed: Any = None

    @property
    def status_code(self) -> int:
        """The HTTP status (2xx: error answers raise as usual)."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The answer's headers."""
        return self.http_response.headers

    @property
    def request_id(self) -> Optional[str]:
        """The answer's `X-Request-Id`."""
        return request_id_of(self.http_response)

    @property
    def content(self) -> bytes:
        """The body, as received (decoded from gzip)."""
        return self.http_response.content

    def parse(self) -> Any:
        """The body read as the method's usual result (once; later calls give the same object)."""
        if self._parsed is None:
            self._parsed = parse_answer(self._cast_to, self.http_response, self._strict, self._unwrap)
        return self._parsed

    def __repr__(self) -> str:
        return f"<APIResponse {self.status_code} request_id={self.request_id!r}>"
