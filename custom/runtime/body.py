"""The one body reader of the SDK: every answer (JSON, event stream, binary, download to a file) is read
from httpx's raw pieces (`iter_raw()` / `aiter_raw()`, never `iter_bytes()`) and decoded here. Pure,
shared by the sync and async loops, which only feed it the raw pieces they read.

- `Decoder`: the incremental decoding alone (an event stream's body goes through it piece by piece; the
  SSE decoder then bounds each event, `MAX_EVENT_BYTES`).
- `BodyReader`: a whole answer, decoded, counted against `max_response_bytes`; in memory, or written
  piece by piece to a sink (a download's temporary file).

The body is decoded here (identity, gzip, deflate, or a stack of them, as `Content-Encoding` says), in
steps of at most `STEP` bytes: httpx's decoders inflate a whole network read at once, so 64 KiB of a
gzip bomb would become 64 MiB before anything could count it (and gzip inside gzip, 64 GiB). Decoded
bytes are counted as they come; past the limit, `feed` says so and nothing more is read. Encodings we
do not decode (the clients ask only for gzip and deflate) are kept as sent, like httpx does.
"""

from __future__ import annotations

import zlib
from typing import Callable, Iterator, List, Mapping, Optional

import httpx

STEP = 1 << 20
"""The most bytes one decoding step produces."""
MAX_LAYERS = 4
"""A longer stack of encodings is kept as sent (undecoded)."""
HEAD = 64 * 1024
"""How much of an oversized body `head()` keeps."""


class _Inflate:
    """One gzip or deflate layer, producing at most `STEP` bytes per step (httpx's rules: a deflate body
    may be zlib-wrapped or raw; data after a gzip member's end is ignored)."""

    __slots__ = ("_deflate", "_first", "_z")

    def __init__(self, gzip: bool) -> None:
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._deflate = not gzip
        self._first = True

    def decode(self, data: bytes) -> Iterator[bytes]:
        while not self._z.eof:
            try:
                out = self._z.decompress(data, STEP)
            except zlib.error as exc:
                if self._deflate and self._first:  # a raw deflate stream, without the zlib wrapper
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._first = False
                    continue
                raise httpx.DecodingError(f"The body is not valid {self._name()}: {exc}") from None
            self._first = False
            if out:
                yield out
            data = self._z.unconsumed_tail
            if not data and len(out) < STEP:
                return

    def flush(self) -> Iterator[bytes]:
        yield from self.decode(b"")

    def _name(self) -> str:
        return "deflate" if self._deflate else "gzip"


def _layers(headers: Mapping[str, str]) -> List[_Inflate]:
    """The decoders for `Content-Encoding`, in decoding order; none when any layer is one we do not decode."""
    value = headers.get("content-encoding")
    if not value:
        return []
    names = [name.strip().lower() for name in value.split(",")]
    names = [name for name in names if name and name != "identity"]
    if len(names) > MAX_LAYERS or any(name not in ("gzip", "x-gzip", "deflate") for name in names):
        return []
    return [_Inflate(gzip=name != "deflate") for name in reversed(names)]


class Decoder:
    """Decodes a body's `Content-Encoding` (stacked too) incrementally: each piece it yields holds at
    most `STEP` bytes, so no single raw piece is ever inflated whole. Identity passes pieces as they are."""

    __slots__ = ("_layers",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._layers = _layers(headers)

    @property
    def identity(self) -> bool:
        """Whether the body is read as sent (nothing to decode)."""
        return not self._layers

    def decode(self, raw: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next raw piece (a generator: nothing is inflated before it is asked for)."""
        if not self._layers:
            if raw:
                yield raw
            return
        yield from self._decode(raw, 0)

    def flush(self) -> Iterator[bytes]:
        """The decoded pieces left at the end of the body."""
        for index, layer in enumerate(self._layers):
            for out in layer.flush():
                yield from self._decode(out, index + 1)

    def _decode(self, data: bytes, index: int) -> Iterator[bytes]:
        if index == len(self._layers):
            yield data
            return
        for out in self._layers[index].decode(data):
            yield from self._decode(out, index + 1)


class BodyReader:
    """Collects a body's decoded bytes, up to `limit`: in memory, or handed to `sink` (a callable taking
    each decoded piece, e.g. a download's file) keeping only the first `HEAD` bytes for errors."""

    __slots__ = ("_decoder", "_parts", "_sink", "limit", "size")

    def __init__(
        self, headers: Mapping[str, str], limit: int, sink: Optional[Callable[[bytes], object]] = None
    ) -> None:
        self._decoder = Decoder(headers)
        self._parts: List[bytes] = []
        self._sink = sink
        self.limit = limit
        self.size = 0

    def feed(self, raw: bytes) -> bool:
        """Takes the next raw piece; False once the decoded body is larger than `limit`."""
        return all(self._add(piece) for piece in self._decoder.decode(raw))

    def finish(self) -> Optional[bytes]:
        """The whole decoded body (b"" with a sink); None if flushing the decoders took it past `limit`."""
        if not all(self._add(piece) for piece in self._decoder.flush()):
            return None
        if self._sink is not None:
            return b""
        parts = self._parts
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def head(self) -> bytes:
        """The first `HEAD` bytes read (for the error of an oversized answer)."""
        head: List[bytes] = []
        size = 0
        for part in self._parts:
            head.append(part[: HEAD - size])
            size += len(head[-1])
            if size >= HEAD:
                break
        return b"".join(head)

    def _add(self, piece: bytes) -> bool:
        before = self.size
        self.size += len(piece)
        if self.size > self.limit:
            self._parts.append(piece[: max(0, HEAD - before)])
            return False
        if self._sink is None:
            self._parts.append(piece)
        else:
            if before < HEAD:
                self._parts.append(piece[: HEAD - before])
            self._sink(piece)
        return True
