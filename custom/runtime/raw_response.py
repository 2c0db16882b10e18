"""What a method returns under `with_raw_response`: the generated `APIResponse` over the HTTP answer,
whose `parse()` reads it as the method would have; and under `with_streaming_response`, a
`StreamedAPIResponse` whose body is read lazily (`iter_bytes`, `iter_lines`, `parse()`)."""

from __future__ import annotations

import codecs
import re
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Generic,
    Iterable,
    Iterator,
    List,
    Optional,
    TypeVar,
    cast,
)

import httpx

from .body import Decoder
from .errors import MeganovaError
from .response import parse_answer, request_id_of, validation_error

_UNSET: Any = object()

if TYPE_CHECKING:
    from ...types import APIResponse


def raw_answer(response: httpx.Response, cast_to: Any, strict: bool, unwrap: Optional[str]) -> APIResponse[Any]:
    """The `APIResponse` for a successful answer (nothing is parsed until `parse()`)."""
    from ...types import APIResponse

    return APIResponse(response, lambda: parse_answer(cast_to, response, strict, unwrap))


def raw_download(response: httpx.Response, written: int) -> APIResponse[int]:
    """The `APIResponse` of a download written to a file: `parse()` is the number of bytes written."""
    from ...types import APIResponse

    return APIResponse(response, lambda: written)


# --- with_streaming_response: the answer's body read lazily -------------------------------------------


def _decoded(raws: Iterable[bytes], decoder: Decoder) -> Iterator[bytes]:
    for raw in raws:
        yield from decoder.decode(raw)
    yield from decoder.flush()


class _Text:
    """Bytes to text, incrementally, in the answer's charset (UTF-8 when it names none or an unknown one)."""

    __slots__ = ("_decoder",)

    def __init__(self, response: httpx.Response) -> None:
        try:
            factory = codecs.getincrementaldecoder(response.charset_encoding or "utf-8")
        except LookupError:
            factory = codecs.getincrementaldecoder("utf-8")
        self._decoder = factory(errors="replace")

    def decode(self, piece: bytes) -> str:
        return str(self._decoder.decode(piece))

    def flush(self) -> str:
        return str(self._decoder.decode(b"", True))


_LINE_END = re.compile("(\r\n|\r|\n)")


class _Lines:
    """Text to lines (LF, CRLF or CR ends, split across pieces too), without their ends."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, text: str) -> List[str]:
        text = self._pending + text
        parts = _LINE_END.split(text)  # line, end, line, end, ..., the rest
        self._pending = parts.pop()
        if parts and parts[-1] == "\r":  # its LF may come in the next piece
            parts.pop()
            self._pending = parts.pop() + "\r" + self._pending
        return parts[0::2]

    def flush(self) -> List[str]:
        pending, self._pending = self._pending, ""
        return [line for line in _LINE_END.split(pending)[0::2] if line] if pending else []


def _chunks(pieces: Iterable[bytes], size: Optional[int]) -> Iterator[bytes]:
    """`pieces` as they are (none empty), or re-cut to `size` bytes each (the last may be shorter)."""
    if not size:
        yield from (piece for piece in pieces if piece)
        return
    buffer = b""
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


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
        from .send import connection_error

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
        """The body's bytes (decoded by the one body reader, `_body.Decoder`: gzip, deflate, stacked, in
        bounded steps), as they arrive; in pieces of `chunk_size` bytes when given."""
        response = self.http_response
        if getattr(response, "_content", None) is not None:
            yield from _chunks([response.content], chunk_size)
            return
        decoder = Decoder(response.headers)
        try:
            yield from _chunks(_decoded(response.iter_raw(), decoder), chunk_size)
        except httpx.HTTPError as exc:
            raise self._failed(exc) from None

    def iter_text(self, chunk_size: Optional[int] = None) -> Iterator[str]:
        """The body as text, as it arrives (from `iter_bytes`)."""
        text = _Text(self.http_response)
        for piece in self.iter_bytes(chunk_size):
            out = text.decode(piece)
            if out:
                yield out
        tail = text.flush()
        if tail:
            yield tail

    def iter_lines(self) -> Iterator[str]:
        """The body's lines (without their line ends), as they arrive: an event stream's `data: ...` lines."""
        lines = _Lines()
        for text in self.iter_text():
            yield from lines.feed(text)
        yield from lines.flush()

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
        """The body's bytes (decoded by the one body reader, `_body.Decoder`, in bounded steps), as they
        arrive; in pieces of `chunk_size` bytes when given."""
        response = self.http_response
        if getattr(response, "_content", None) is not None:
            for piece in _chunks([response.content], chunk_size):
                yield piece
            return
        decoder = Decoder(response.headers)
        buffer = b""
        try:
            async for raw in response.aiter_raw():
                for piece in decoder.decode(raw):
                    if not chunk_size:
                        yield piece
                        continue
                    buffer += piece
                    while len(buffer) >= chunk_size:
                        yield buffer[:chunk_size]
                        buffer = buffer[chunk_size:]
            for piece in decoder.flush():
                buffer += piece
        except httpx.HTTPError as exc:
            raise self._failed(exc) from None
        for piece in _chunks([buffer], chunk_size):
            yield piece

    async def iter_text(self, chunk_size: Optional[int] = None) -> AsyncIterator[str]:
        """The body as text, as it arrives (from `iter_bytes`)."""
        text = _Text(self.http_response)
        async for piece in self.iter_bytes(chunk_size):
            out = text.decode(piece)
            if out:
                yield out
        tail = text.flush()
        if tail:
            yield tail

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body's lines (without their line ends), as they arrive."""
        lines = _Lines()
        async for text in self.iter_text():
            for line in lines.feed(text):
                yield line
        for line in lines.flush():
            yield line

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
