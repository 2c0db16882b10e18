"""An incremental server-sent events decoder, written once from the SSE specification. No I/O.

Feed it bytes as they arrive, in pieces of any size; it returns the events completed so far. Linear in
the input: a piece without a line end is only stored, never re-scanned. Lines end with LF, CR or CRLF,
even when a CRLF (or a multi-byte character) is split across two pieces. `data:` lines of one event are
joined with "\\n"; comment lines (`: ping`) are dropped; `event:`, `id:` and `retry:` are kept.
"""

from __future__ import annotations

from typing import List, Optional

import attrs


@attrs.define(slots=True)
class ServerSentEvent:
    """One event: its `data` (bytes, lines joined with LF), `event` type, `id` and `retry`."""

    data: bytes
    event: str = "message"
    id: Optional[str] = None
    retry: Optional[int] = None


class SSEDecoder:
    """Turns a byte stream into `ServerSentEvent`s; see the module docstring."""

    __slots__ = ("_data", "_event", "_id", "_pieces", "_retry", "_skip_lf")

    def __init__(self) -> None:
        self._pieces: List[bytes] = []  # the start of a line whose end has not arrived
        self._skip_lf = False  # the last piece ended with CR: a LF first in the next piece belongs to it
        self._data: List[bytes] = []
        self._event: Optional[str] = None
        self._id: Optional[str] = None
        self._retry: Optional[int] = None

    def feed(self, piece: bytes) -> List[ServerSentEvent]:
        """The events that `piece` completes (often none, sometimes several)."""
        if self._skip_lf:
            self._skip_lf = False
            if piece[:1] == b"\n":
                piece = piece[1:]
        if b"\n" not in piece and b"\r" not in piece:
            if piece:
                self._pieces.append(piece)
            return []
        if self._pieces:
            self._pieces.append(piece)
            piece = b"".join(self._pieces)
            self._pieces = []
        lines = piece.splitlines(keepends=True)
        last = lines[-1]
        if last[-1:] == b"\r":
            self._skip_lf = True
        elif last[-1:] != b"\n":
            self._pieces.append(lines.pop())
        events: List[ServerSentEvent] = []
        for line in lines:
            event = self._line(line.rstrip(b"\r\n"))
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: bytes) -> Optional[ServerSentEvent]:
        if not line:
            return self._dispatch()
        if line[:1] == b":":
            return None
        field, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            self._data.append(value)
        elif field == b"event":
            self._event = value.decode(errors="replace")
        elif field == b"id" and b"\0" not in value:
            self._id = value.decode(errors="replace")
        elif field == b"retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> Optional[ServerSentEvent]:
        if not self._data:
            self._event = None
            return None
        event = ServerSentEvent(
            data=b"\n".join(self._data), event=self._event or "message", id=self._id, retry=self._retry
        )
        self._data = []
        self._event = None
        return event

    @property
    def pending(self) -> bool:
        """Whether bytes of an unfinished event are held (at the end of a body: it was cut off)."""
        return bool(self._pieces or self._data)
