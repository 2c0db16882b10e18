"""What a method returns under `with_raw_response`: the generated `APIResponse` over the HTTP answer,
whose `parse()` reads it as the method would have; and under `with_streaming_response`, a
`StreamedAPIResponse` whose body is read lazily (`iter_bytes`, `iter_lines`, `parse()`)."""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Generic,
    Iterator,
    List,
    Optional,
    TypeVar,
    cast,
)

import httpx

from ._response import parse_answer, request_id_of, validation_error
from .errors import MeganovaError

_UNSET: Any = object()

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


# --- with_streaming_response: the answer's body read lazily -------------------------------------------

T = TypeVar("T")


class _StreamedBase(Generic[T]):
    """What both flavours share: the answer's status, headers, request id, and the body's bound."""

    __slots__ = ("_closed", "_limit", "_parse", "_parsed", "_reads_body", "http_response")

    def __init__(
        self,
        response: httpx.Response,
        parse: Callable[[], T],
        *,
        reads_body: bool = True,
        limit: int = 64 * 1024 * 1024,
    ) -> None:
        self.http_response = response
        self._parse = parse
        self._parsed: Any = _UNSET
        self._reads_body = reads_body
        self._limit = limit
        self._closed = False

    @property
    def status_code(self) -> int:
        """The HTTP status (a 2xx: error answers raise before the body is handed over)."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The answer's headers."""
        return self.http_response.headers

    @property
    def request_id(self) -> Optional[str]:
        """The answer's `X-Request-Id`."""
        return request_id_of(self.http_response)

    def _failed(self, exc: httpx.HTTPError) -> MeganovaError:
        from ._transport import connection_error

        return connection_error(exc, self.http_response.request)

    def _too_large(self) -> MeganovaError:
        return validation_error(
            f"The answer's body is larger than max_response_bytes ({self._limit} bytes): read it with "
            "iter_bytes() instead.",
            self.http_response,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code} request_id={self.request_id!r}>"


class StreamedAPIResponse(_StreamedBase[T]):
    """An answer whose body is read when asked (`with_streaming_response`, as openai-python's): in a
    `with` block, `iter_bytes()`, `iter_text()`, `iter_lines()`, or `read()` / `parse()` (the method's
    usual result, the body read whole, within `max_response_bytes`). The block's end closes it. The
    body's pieces wait at most the client's `timeout` each (as a stream's)."""

    def iter_bytes(self, chunk_size: Optional[int] = None) -> Iterator[bytes]:
        """The body's bytes (decoded from gzip), as they arrive."""
        try:
            yield from self.http_response.iter_bytes(chunk_size)
        except httpx.HTTPError as exc:
            raise self._failed(exc) from None

    def iter_text(self, chunk_size: Optional[int] = None) -> Iterator[str]:
        """The body as text, as it arrives."""
        try:
            yield from self.http_response.iter_text(chunk_size)
        except httpx.HTTPError as exc:
            raise self._failed(exc) from None

    def iter_lines(self) -> Iterator[str]:
        """The body's lines (without their line ends), as they arrive: an event stream's `data: ...` lines."""
        try:
            yield from self.http_response.iter_lines()
        except httpx.HTTPError as exc:
            raise self._failed(exc) from None

    def read(self) -> bytes:
        """The whole body (at most `max_response_bytes`, decoded)."""
        response = self.http_response
        content: Optional[bytes] = getattr(response, "_content", None)
        if content is None:
            pieces: List[bytes] = []
            size = 0
            for piece in self.iter_bytes():
                size += len(piece)
                if size > self._limit:
                    self.close()
                    raise self._too_large()
                pieces.append(piece)
            content = response._content = b"".join(pieces)
        return content

    def parse(self) -> T:
        """The body read as the method's usual result (once: later calls give the same object)."""
        if self._parsed is _UNSET:
            if self._reads_body:
                self.read()
            self._parsed = self._parse()
        parsed: T = self._parsed
        return parsed

    def close(self) -> None:
        """Close the answer (its connection goes back to the pool, or is closed if the body was not read)."""
        if not self._closed:
            self._closed = True
            self.http_response.close()

    def __enter__(self) -> StreamedAPIResponse[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncStreamedAPIResponse(_StreamedBase[T]):
    """`StreamedAPIResponse` for `AsyncMegaNova`: in an `async with` block, `iter_bytes()`,
    `iter_text()`, `iter_lines()` (async iterators), `await read()`, `await parse()`."""

    async def iter_bytes(self, chunk_size: Optional[int] = None) -> AsyncIterator[bytes]:
        """The body's bytes (decoded from gzip), as they arrive."""
        try:
            async for piece in self.http_response.aiter_bytes(chunk_size):
                yield piece
        except httpx.HTTPError as exc:
            raise self._failed(exc) from None

    async def iter_text(self, chunk_size: Optional[int] = None) -> AsyncIterator[str]:
        """The body as text, as it arrives."""
        try:
            async for piece in self.http_response.aiter_text(chunk_size):
                yield piece
        except httpx.HTTPError as exc:
            raise self._failed(exc) from None

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body's lines (without their line ends), as they arrive."""
        try:
            async for line in self.http_response.aiter_lines():
                yield line
        except httpx.HTTPError as exc:
            raise self._failed(exc) from None

    async def read(self) -> bytes:
        """The whole body (at most `max_response_bytes`, decoded)."""
        response = self.http_response
        content: Optional[bytes] = getattr(response, "_content", None)
        if content is None:
            pieces: List[bytes] = []
            size = 0
            async for piece in self.iter_bytes():
                size += len(piece)
                if size > self._limit:
                    await self.close()
                    raise self._too_large()
                pieces.append(piece)
            content = response._content = b"".join(pieces)
        return content

    async def parse(self) -> T:
        """The body read as the method's usual result (once: later calls give the same object)."""
        if self._parsed is _UNSET:
            if self._reads_body:
                await self.read()
            self._parsed = self._parse()
        parsed: T = self._parsed
        return parsed

    async def close(self) -> None:
        """Close the answer."""
        if not self._closed:
            self._closed = True
            await self.http_response.aclose()

    async def __aenter__(self) -> AsyncStreamedAPIResponse[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class ResponseContext(Generic[T]):
    """What a `with_streaming_response` method returns: `with ... as response:` sends the request and
    gives a `StreamedAPIResponse`, closed at the block's end."""

    __slots__ = ("_response", "_send")

    def __init__(self, send: Callable[[], Any]) -> None:
        self._send = send
        self._response: Optional[StreamedAPIResponse[T]] = None

    def __enter__(self) -> StreamedAPIResponse[T]:
        self._response = cast("StreamedAPIResponse[T]", self._send())
        return self._response

    def __exit__(self, *exc_info: object) -> None:
        if self._response is not None:
            self._response.close()


class AsyncResponseContext(Generic[T]):
    """What an async `with_streaming_response` method returns: `async with ... as response:` sends the
    request and gives an `AsyncStreamedAPIResponse`, closed at the block's end."""

    __slots__ = ("_response", "_send")

    def __init__(self, send: Callable[[], Awaitable[Any]]) -> None:
        self._send = send
        self._response: Optional[AsyncStreamedAPIResponse[T]] = None

    async def __aenter__(self) -> AsyncStreamedAPIResponse[T]:
        self._response = cast("AsyncStreamedAPIResponse[T]", await self._send())
        return self._response

    async def __aexit__(self, *exc_info: object) -> None:
        if self._response is not None:
            await self._response.close()
