"""Scripted answers and faults: what `MockServer.enqueue` queues, checked once, applied to one request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._api import chat_response, error_body
from ._http import Answer, RecordedRequest, StreamItem

__all__ = ["FAULTS", "Body", "Script", "make_script"]

Body = Union[None, Mapping[str, Any], List[Any], str, bytes]
"""A scripted body: a dict or list (sent as JSON), text (UTF-8) or raw bytes."""

FAULTS: Dict[str, str] = {
    "reset": "close the connection with a TCP reset (SO_LINGER 0) before any byte of the answer",
    "reset_before_headers": "the same as 'reset'",
    "close": "close the connection cleanly (FIN) before any byte of the answer",
    "close_before_headers": "the same as 'close'",
    "malformed_json": "200, application/json, a JSON text cut off in the middle",
    "html_502": "502 with a proxy's HTML error page",
    "empty_stream": "200, text/event-stream, an empty chunked body",
    "large_response": "200, a valid chat completion whose content is `size` bytes long",
    "stream_error": "the stream, with an error event after `error_after_events` (default 2) events",
    "no_done": "the stream ends after the finish_reason chunk: no usage chunk, no [DONE]",
    "sse_comments_crlf": "the stream with `: ping` comment lines and CRLF line ends",
}
"""The names `enqueue(fault=...)` accepts, with what each one does."""

_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_MALFORMED_JSON = (
    b'{"id":"chatcmpl-broken","object":"chat.completion","created":1764000000,'
    b'"model":"meganova-ai/manta-flash-1.0","choices":[{"index":0,"message":{"role":"assistant","content":"Wide aw'
)
_DEFAULT_ERROR_EVENT: Dict[str, Any] = {
    "message": "The model failed in the middle of the answer",
    "type": "server_error",
    "code": "internal_error",
    "param": None,
}
_LARGE_DEFAULT_REQUEST: Dict[str, Any] = {
    "model": "meganova-ai/manta-flash-1.0",
    "messages": [{"role": "user", "content": "Tell me everything."}],
}


@dataclass(frozen=True)
class Script:
    """One queued answer, used by exactly one request. Build it with `make_script` (it checks the options)."""

    status: Optional[int] = None
    body: Optional[bytes] = None
    content_type: Optional[str] = None
    headers: Tuple[Tuple[str, str], ...] = ()
    fault: Optional[str] = None
    stream_events: Optional[Tuple[StreamItem, ...]] = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    drop_after_bytes: Optional[int] = None
    drop_after_events: Optional[int] = None
    error_after_events: Optional[int] = None
    error: Optional[Mapping[str, Any]] = None
    done: bool = True
    sse_comments: bool = False
    line_ending: str = "\n"
    size: int = 4 * 1024 * 1024

    @property
    def closes_early(self) -> bool:
        """Whether the connection is closed (reset or FIN) before any byte of the answer."""
        return self.fault in ("reset", "reset_before_headers", "close", "close_before_headers")

    @property
    def resets(self) -> bool:
        """Whether the early close is a TCP reset."""
        return self.fault in ("reset", "reset_before_headers")

    def error_event(self) -> Dict[str, Any]:
        """The `data:` payload of the mid-stream error event."""
        error = dict(_DEFAULT_ERROR_EVENT)
        error.update(self.error or {})
        return {"error": error}

    def answer(self, request: RecordedRequest, answer_id: str) -> Optional[Answer]:
        """The scripted answer, or None when the script only modifies the API's normal answer."""
        fault = self.fault
        if fault == "html_502":
            return Answer(self.status or 502, _HTML_502, content_type=self.content_type or "text/html")
        if fault == "malformed_json":
            return Answer(self.status or 200, _MALFORMED_JSON, content_type=self.content_type or "application/json")
        if fault == "empty_stream":
            return Answer(self.status or 200, content_type=self.content_type or "text/event-stream", events=[])
        if fault == "large_response":
            body = request.json if isinstance(request.json, dict) and request.json.get("messages") else None
            try:
                content = chat_response("chatcmpl-" + answer_id, body or _LARGE_DEFAULT_REQUEST, "")
            except (KeyError, TypeError, AttributeError):
                content = chat_response("chatcmpl-" + answer_id, _LARGE_DEFAULT_REQUEST, "")
            words = "Neon harbor lights shimmer on black water. "
            text = (words * (self.size // len(words) + 1))[: self.size]
            head, _, tail = content.partition(b'"content":""')
            return Answer(
                self.status or 200,
                head + b'"content":' + json.dumps(text).encode("utf-8") + tail,
                content_type=self.content_type or "application/json",
            )
        if self.stream_events is not None:
            return Answer(
                self.status or 200,
                content_type=self.content_type or "text/event-stream",
                events=list(self.stream_events),
            )
        if self.body is not None:
            return Answer(self.status or 200, self.body, content_type=self.content_type)
        if self.status is not None:
            if self.status >= 400:
                payload = json.dumps(error_body(self.status)).encode("utf-8")
                return Answer(self.status, payload, content_type=self.content_type or "application/json")
            return Answer(self.status, b"", content_type=self.content_type)
        return None


def _encode_body(body: Body, content_type: Optional[str]) -> Tuple[Optional[bytes], Optional[str]]:
    if body is None:
        return None, content_type
    if isinstance(body, bytes):
        return body, content_type or "application/octet-stream"
    if isinstance(body, str):
        return body.encode("utf-8"), content_type or "text/plain; charset=utf-8"
    return json.dumps(body).encode("utf-8"), content_type or "application/json"


def _check_count(name: str, value: Optional[int]) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be an integer >= 0, not {value!r}")


def _check_seconds(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")


def make_script(
    status: Optional[int] = None,
    body: Body = None,
    *,
    headers: Optional[Mapping[str, str]] = None,
    content_type: Optional[str] = None,
    fault: Optional[str] = None,
    stream_events: Optional[Sequence[StreamItem]] = None,
    delay: float = 0.0,
    chunk_delay: float = 0.0,
    drop_after_bytes: Optional[int] = None,
    drop_after_events: Optional[int] = None,
    error_after_events: Optional[int] = None,
    error: Optional[Mapping[str, Any]] = None,
    done: bool = True,
    sse_comments: bool = False,
    line_ending: str = "\n",
    size: int = 4 * 1024 * 1024,
) -> Script:
    """A checked `Script`; raises ValueError for an unknown fault or options that do not go together."""
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999):
        raise ValueError(f"status must be an integer in 100..999, not {status!r}")
    if status is not None and status < 200:
        raise ValueError("an informational (1xx) status cannot be a final answer")
    _check_seconds("delay", delay)
    _check_seconds("chunk_delay", chunk_delay)
    _check_count("drop_after_bytes", drop_after_bytes)
    _check_count("drop_after_events", drop_after_events)
    _check_count("error_after_events", error_after_events)
    if line_ending not in ("\n", "\r\n", "\r"):
        raise ValueError("line_ending must be '\\n', '\\r\\n' or '\\r'")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"size must be an integer >= 0, not {size!r}")
    if body is not None and stream_events is not None:
        raise ValueError("give either body or stream_events, not both")
    answering_faults = ("html_502", "malformed_json", "empty_stream", "large_response")
    if fault in answering_faults and (body is not None or stream_events is not None):
        raise ValueError(f"fault {fault!r} makes its own body; do not give body or stream_events")
    if fault in FAULTS and fault is not None and fault.startswith(("reset", "close")):
        extra = [
            name
            for name, value in (
                ("status", status),
                ("body", body),
                ("headers", headers),
                ("stream_events", stream_events),
                ("drop_after_bytes", drop_after_bytes),
                ("drop_after_events", drop_after_events),
                ("error_after_events", error_after_events),
            )
            if value is not None
        ]
        if extra:
            raise ValueError(f"fault {fault!r} sends no answer; only delay goes with it, not {', '.join(extra)}")
    if stream_events is not None:
        for item in stream_events:
            if not isinstance(item, (Mapping, str, bytes)):
                raise ValueError(f"a stream event must be a dict, str or bytes, not {type(item).__name__}")
    if fault == "stream_error" and error_after_events is None:
        error_after_events = 2
    if fault == "no_done":
        done = False
    if fault == "sse_comments_crlf":
        sse_comments = True
        line_ending = "\r\n"
    if error is not None and error_after_events is None:
        raise ValueError("error goes with error_after_events (or fault='stream_error')")
    encoded, content_type = _encode_body(body, content_type)
    return Script(
        status=status,
        body=encoded,
        content_type=content_type,
        headers=tuple((str(name), str(value)) for name, value in (headers or {}).items()),
        fault=fault,
        stream_events=(
            tuple(dict(item) if isinstance(item, Mapping) else item for item in stream_events)
            if stream_events is not None
            else None
        ),
        delay=float(delay),
        chunk_delay=float(chunk_delay),
        drop_after_bytes=drop_after_bytes,
        drop_after_events=drop_after_events,
        error_after_events=error_after_events,
        error=dict(error) if error is not None else None,
        done=done,
        sse_comments=sse_comments,
        line_ending=line_ending,
        size=size,
    )
