"""Reading a chunked answer's body (an event stream, most of all) without an h11 event per chunk.

httpcore reads a body through h11, which makes one event per HTTP chunk: for a stream of small chunks
(one SSE event each) that is most of the client's CPU per token. For an answer of our own pools whose
body is chunked, the data chunks are read here instead, straight from the connection's network stream
(the same one httpcore reads, under the same read timeout and attempt deadline), every chunk complete in
one network read joined into one piece. The last chunk (`0`), its trailers and whatever follows are
handed back to h11, which ends the message as usual: the connection is then reused exactly when httpcore
would reuse it, and bytes after the answer still close it (`pool.close_if_trailing`).

`ChunkedBody` is the parser (sans-I/O, shared by the sync and async loops in `pool.py`); `source_of`
finds the connection's h11 state, network stream and read timeout, or None whenever anything is not as
expected (another httpcore or h11, HTTP/2, a body already begun, a length-framed body): that body is
read through h11 as before.
"""

from __future__ import annotations

from typing import Any, List, NamedTuple, Optional

import httpx

MAX_HEADER_LINE = 4096
"""The longest chunk-size line (with its extensions) accepted."""

READ_BYTES = 64 * 1024
"""How much one network read asks for (httpcore's own size)."""

_HEX = b"0123456789abcdefABCDEF"
_TRUNCATED = "peer closed connection without sending complete message body (incomplete chunked read)"


def _size(line: bytes) -> int:
    """The size of a chunk from its size line (`1a;ext=1`); `RemoteProtocolError` when malformed."""
    digits = line.split(b";", 1)[0].rstrip(b" \t")
    if not 1 <= len(digits) <= 16 or digits.translate(None, _HEX):
        raise httpx.RemoteProtocolError(f"illegal chunk header: {line[:64]!r}")
    return int(digits, 16)


class ChunkedBody:
    """The data of a chunked body, fed the bytes as they arrive; stops at the last chunk, whose bytes
    and what follows them are kept in `rest` for h11."""

    __slots__ = ("_buffer", "_crlf", "_left", "done", "rest")

    def __init__(self) -> None:
        self._buffer = b""
        self._left = 0  # bytes of the current chunk still to come
        self._crlf = False  # the CRLF after a chunk's data is still to come
        self.done = False
        self.rest = b""

    def feed(self, data: bytes) -> bytes:
        """The chunk data found in `data` (after what came before), joined; b"" when none yet."""
        buf = self._buffer + data if self._buffer else data
        size = len(buf)
        pos = 0
        out: List[bytes] = []
        while True:
            if self._left:
                take = min(self._left, size - pos)
                if take:
                    out.append(buf[pos : pos + take])
                    pos += take
                    self._left -= take
                if self._left:
                    break
                self._crlf = True
            if self._crlf:
                tail = buf[pos : pos + 2]
                if tail != b"\r\n"[: len(tail)]:
                    raise httpx.RemoteProtocolError(f"malformed chunk footer: {tail!r} (expected b'\\r\\n')")
                if len(tail) < 2:
                    break
                pos += 2
                self._crlf = False
            end = buf.find(b"\r\n", pos)
            if end < 0:
                if size - pos > MAX_HEADER_LINE:
                    raise httpx.RemoteProtocolError("chunk header too long")
                break
            length = _size(buf[pos:end])
            if length == 0:
                self.done = True
                self.rest = buf[pos:]
                pos = size
                break
            pos = end + 2
            self._left = length
        self._buffer = buf[pos:] if pos < size else b""
        return out[0] if len(out) == 1 else b"".join(out)

    def truncated(self) -> httpx.RemoteProtocolError:
        """The error for a connection closed before the last chunk."""
        return httpx.RemoteProtocolError(_TRUNCATED)


class Source(NamedTuple):
    """Where a chunked body is read from: the connection's h11 state (and its buffer), network stream, read timeout."""

    h11: Any
    extract: Any
    """h11's receive buffer's `_extract(count)`."""
    network: Any
    timeout: Optional[float]

    def buffered(self) -> bytes:
        """What h11 had already received past the headers, taken from its buffer (to feed first)."""
        return bytes(self.extract(len(self.h11._receive_buffer)))

    def finish(self, body: ChunkedBody) -> None:
        """The last chunk and what follows it, back to h11: it ends the message (trailers and all)."""
        self.h11.receive_data(body.rest)


def source_of(stream: Any) -> Optional[Source]:
    """The `Source` of an answer's unread body (httpx's ResponseStream -> httpcore's PoolByteStream ->
    HTTP11ConnectionByteStream), when it is chunked and h11 is at its first chunk; else None."""
    try:
        inner = stream._httpcore_stream._stream
        connection = inner._connection
        h11 = connection._h11_state
        reader = h11._reader
        if (
            type(reader).__name__ != "ChunkedReader"
            or reader._bytes_in_chunk
            or reader._bytes_to_discard
            or reader._reading_trailer
            or h11._receive_buffer_closed
            or inner._closed
        ):
            return None
        timeout = inner._request.extensions.get("timeout", {}).get("read")
        network = connection._network_stream
        extract = h11._receive_buffer._extract
    except (AttributeError, TypeError):
        return None
    return Source(h11, extract, network, timeout)
