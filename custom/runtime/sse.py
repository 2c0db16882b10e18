"""An incremental server-sent events decoder, written once from the SSE specification. No I/O.

Feed it bytes as they arrive, in pieces of any size; it returns the events completed so far. Linear in
the input: a piece without a line end is only stored, never re-scanned. Lines end with LF, CR or CRLF,
even when a CRLF (or a multi-byte character) is split across two pieces. `data:` lines of one event are
joined with "\\n"; a UTF-8 byte order mark at the very start of the stream is skipped (even split across
pieces), as the specification says; comment lines (`: ping`) are dropped; `event:`, `id:` and `retry:` are
kept; a `retry:` that is not a plain decimal number Python can read (5,000 digits, say) is ignored, as the
specification says.

Memory is bounded: one line, and one event's data, may hold at most `MAX_EVENT_BYTES` (16 MiB). The bytes
are counted as they arrive (a line without an end is only stored, counted); past the cap the decoder drops
what it held and raises `APIResponseValidationError` (status 200, the first bytes of the line as `body`).
"""

from __future__ import annotations

import contextlib
from typing import List, Optional

import attrs

from .errors import APIResponseValidationError

MAX_EVENT_BYTES = 16 * 1024 * 1024
"""The most one SSE line, or the data of one event, may hold (bytes, counted as they arrive)."""

_EXCERPT = 300
_BOM = b"\xef\xbb\xbf"


@attrs.define(slots=True)
class ServerSentEvent:
    """One event: its `data` (bytes, lines joined with LF), `event` type, `id` and `retry`."""

    data: bytes
    event: str = "message"
    id: Optional[str] = None
    retry: Optional[int] = None


class SSEDecoder:
    """Turns a byte stream into `ServerSentEvent`s; see the module docstring."""

    __slots__ = (
        "_data",
        "_event",
        "_id",
        "_limit",
        "_pending",
        "_pieces",
        "_retry",
        "_size",
        "_skip_lf",
        "_start",
    )

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._pieces: List[bytes] = []  # the start of a line whose end has not arrived
        self._pending = 0  # the bytes in `_pieces`
        self._skip_lf = False  # the last piece ended with CR: a LF first in the next piece belongs to it
        self._data: List[bytes] = []
        self._size = 0  # the bytes of the `data:` lines in `_data` (line ends included)
        self._limit = max_event_bytes
        self._event: Optional[str] = None
        self._id: Optional[str] = None
        self._retry: Optional[int] = None
        self._start: Optional[bytes] = b""
        """The first bytes of the stream while they may still be a byte order mark; None after."""

    def feed(self, piece: bytes) -> List[ServerSentEvent]:
        """The events that `piece` completes (often none, sometimes several). Raises
        `APIResponseValidationError` when a line or an event's data grows past the cap."""
        if self._start is not None:  # the stream's first bytes: a byte order mark is skipped
            piece = self._skip_bom(piece)
        if (  # the usual piece, one whole `data: ...` event, in a single test of C speed each
            piece[-2:] == b"\n\n"
            and piece[:6] == b"data: "
            and piece.count(b"\n") == 2
            and not (self._pieces or self._data or self._skip_lf or self._event)
            and b"\r" not in piece
            and len(piece) <= self._limit
        ):
            return [ServerSentEvent(piece[6:-2], "message", self._id, self._retry)]
        if self._skip_lf:
            self._skip_lf = False
            if piece[:1] == b"\n":
                piece = piece[1:]
        last = piece[-1:]
        if last == b"\n" or last == b"\r":  # the usual case: the piece ends at a line end
            tail = b""
            self._skip_lf = last == b"\r"
        else:
            cut = max(piece.rfind(b"\n"), piece.rfind(b"\r")) + 1
            if cut == 0:  # no line end at all: only store it (and count it)
                if piece:
                    self._pieces.append(piece)
                    self._pending += len(piece)
                    if self._pending > self._limit:
                        self._too_large("line", b"".join(self._pieces[:_EXCERPT]))
                return []
            tail = piece[cut:]
            piece = piece[:cut]
        if self._pieces:
            self._pieces.append(piece)
            piece = b"".join(self._pieces)
            self._pieces = []
            self._pending = 0
        if tail:
            if len(tail) > self._limit:
                self._too_large("line", tail)
            self._pieces.append(tail)
            self._pending = len(tail)
        events: List[ServerSentEvent] = []
        data = self._data
        size = self._size
        limit = self._limit
        for line in piece.splitlines():
            if not line:  # a blank line ends the event
                if data:
                    events.append(
                        ServerSentEvent(
                            data[0] if len(data) == 1 else b"\n".join(data),
                            self._event or "message",
                            self._id,
                            self._retry,
                        )
                    )
                    data = self._data = []
                    size = 0
                self._event = None
            elif line[:5] == b"data:":
                data.append(line[6:] if line[5:6] == b" " else line[5:])
                size += len(line) + 1
                if size > limit:
                    self._too_large("event", b"\n".join(data[:_EXCERPT]))
            elif line[:1] != b":":  # not a comment
                if self._field(line):
                    size += len(line) + 1
                    if size > limit:
                        self._too_large("event", b"\n".join(data[:_EXCERPT]))
        self._size = size
        return events

    def _skip_bom(self, piece: bytes) -> bytes:
        start = self._start + piece if self._start else piece
        if len(start) < 3 and _BOM.startswith(start):  # maybe a mark split across pieces: wait for more
            self._start = start
            return b""
        self._start = None
        return start[3:] if start[:3] == _BOM else start

    def _field(self, line: bytes) -> bool:
        """Applies a field other than `data: ...`; True when it added a data line."""
        field, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            self._data.append(value)
            return True
        if field == b"event":
            self._event = value.decode(errors="replace")
        elif field == b"id" and b"\0" not in value:
            self._id = value.decode(errors="replace")
        elif field == b"retry" and value.isdigit():
            with contextlib.suppress(ValueError):  # more digits than Python reads (3.11+): ignored
                self._retry = int(value)
        return False

    def _too_large(self, what: str, start: bytes) -> None:
        self._pieces = []
        self._data = []
        self._pending = self._size = 0
        self._event = None
        raise APIResponseValidationError(
            f"A stream {what} is longer than {self._limit} bytes (MAX_EVENT_BYTES): the stream was stopped.",
            status=200,
            body=start[:_EXCERPT],
        )

    @property
    def pending(self) -> bool:
        """Whether bytes of an unfinished event are held (at the end of a body: it was cut off)."""
        return bool(self._pieces or self._data or self._start)
