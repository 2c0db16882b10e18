"""HTTP/1.1 plumbing: reading a request off a socket, the recorded request, the answer to write."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from typing import IO, Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qsl

__all__ = [
    "Answer",
    "BadRequest",
    "FormPart",
    "Headers",
    "MultipartError",
    "RecordedRequest",
    "StreamItem",
    "parse_multipart",
    "read_request",
    "record",
    "status_line",
]

StreamItem = Union[Mapping[str, Any], str, bytes]
"""One item of an event stream: a dict (sent as `data: <json>`), the text of one event, or raw bytes."""

_MAX_LINE = 65536
_MAX_HEADERS = 200


class Headers(Mapping[str, str]):
    """Request headers as sent; names compare case-insensitively, repeated headers are joined with ", "."""

    __slots__ = ("_map", "raw")

    def __init__(self, items: List[Tuple[str, str]]) -> None:
        self.raw = items
        """The (name, value) pairs in the order and case they were sent."""
        merged: Dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        self._map = merged

    def __getitem__(self, name: str) -> str:
        return self._map[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def get_list(self, name: str) -> List[str]:
        """Every value sent under `name`, in order."""
        key = name.lower()
        return [value for item, value in self.raw if item.lower() == key]

    def __repr__(self) -> str:
        return f"Headers({self.raw!r})"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (recorded before it is answered, whatever the answer)."""

    method: str
    """`GET`, `POST`, ..."""
    path: str
    """The path as sent, without the query and not percent-decoded: `/v1/models/meganova-ai/manta-flash-1.0`."""
    query: Dict[str, str]
    """The query parameters, percent-decoded; the first value of a repeated name."""
    headers: Headers
    """The headers; `headers["authorization"]` and `headers["Authorization"]` are the same."""
    body: bytes
    """The body (de-chunked when sent chunked)."""
    json: Any
    """The body parsed as JSON, or None when it is empty or not JSON."""
    query_string: str = ""
    """The raw query, without the `?`."""
    http_version: str = "HTTP/1.1"
    """The version on the request line."""
    connection_id: int = 0
    """Which TCP connection it came on: 1 for the first one the server accepted (since `reset()`), ..."""

    @property
    def text(self) -> str:
        """The body as text (UTF-8, invalid bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Answer:
    """What to send back: a status, headers, and either a body (Content-Length) or events (chunked)."""

    status: int
    body: bytes = b""
    content_type: Optional[str] = "application/json"
    headers: List[Tuple[str, str]] = field(default_factory=list)
    events: Optional[List[StreamItem]] = None
    """When set, the answer is a chunked event stream of these items."""
    epilogue: int = 0
    """How many of the last `events` come after the finish_reason chunk (the usage chunk, `[DONE]`)."""


class BadRequest(Exception):
    """The bytes received are not an HTTP/1.x request."""


def _read_line(rfile: IO[bytes]) -> bytes:
    line = rfile.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise BadRequest("line too long")
    return line


def _read_chunked(rfile: IO[bytes]) -> bytes:
    parts: List[bytes] = []
    while True:
        size_line = _read_line(rfile)
        if not size_line:
            raise BadRequest("connection closed inside a chunked body")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest("bad chunk size") from None
        if size == 0:
            while _read_line(rfile) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(parts)
        data = rfile.read(size)
        if len(data) < size:
            raise BadRequest("connection closed inside a chunk")
        parts.append(data)
        _read_line(rfile)


def read_request(
    rfile: IO[bytes], send_continue: Optional[Callable[[], None]] = None
) -> Optional[Tuple[str, str, str, Headers, bytes]]:
    """(method, target, version, headers, body) of the next request; None when the client closed.

    `send_continue` is called before the body is read when the client sent `Expect: 100-continue`.
    Raises `BadRequest` when the bytes are not a request.
    """
    line = _read_line(rfile)
    while line in (b"\r\n", b"\n"):  # stray line ends between requests are allowed
        line = _read_line(rfile)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest("bad request line")
    method, target, version = parts
    items: List[Tuple[str, str]] = []
    while True:
        header = _read_line(rfile)
        if header in (b"\r\n", b"\n"):
            break
        if not header:
            raise BadRequest("connection closed inside the headers")
        if len(items) >= _MAX_HEADERS:
            raise BadRequest("too many headers")
        name, sep, value = header.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("bad header line")
        items.append((name, value.strip()))
    headers = Headers(items)
    if send_continue is not None and headers.get("expect", "").lower() == "100-continue":
        send_continue()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _read_chunked(rfile)
    else:
        length_text = headers.get("content-length")
        if length_text is None:
            body = b""
        else:
            try:
                length = int(length_text)
            except ValueError:
                raise BadRequest("bad Content-Length") from None
            if length < 0:
                raise BadRequest("bad Content-Length")
            body = rfile.read(length) if length else b""
            if len(body) < length:
                raise BadRequest("connection closed inside the body")
    return method, target, version, headers, body


def record(
    method: str, target: str, version: str, headers: Headers, body: bytes, connection_id: int
) -> RecordedRequest:
    """The `RecordedRequest` for a request just read."""
    path, _, query_string = target.partition("?")
    query: Dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        query.setdefault(name, value)
    parsed: Any = None
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    return RecordedRequest(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        json=parsed,
        query_string=query_string,
        http_version=version,
        connection_id=connection_id,
    )


_REASONS: Dict[int, str] = {status.value: status.phrase for status in HTTPStatus}
_REASONS.update({520: "Unknown Error", 521: "Web Server Is Down", 522: "Connection Timed Out"})


def status_line(status: int) -> str:
    """`HTTP/1.1 <status> <reason>` with its line end."""
    return f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"


# --- multipart/form-data ----------------------------------------------------------------------------


class MultipartError(ValueError):
    """The body is not valid multipart/form-data."""


@dataclass(frozen=True)
class FormPart:
    """One part of a multipart/form-data body."""

    name: str
    """The form field's name (`Content-Disposition: form-data; name="..."`)."""
    data: bytes
    filename: Optional[str] = None
    """The file name, for a file part."""
    content_type: Optional[str] = None

    @property
    def text(self) -> str:
        """The value as text (UTF-8, invalid bytes replaced)."""
        return self.data.decode("utf-8", errors="replace")


def _header_params(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message


def parse_multipart(content_type: str, body: bytes) -> List[FormPart]:
    """The parts of a multipart/form-data `body` sent with this `Content-Type` (RFC 7578).

    Raises `MultipartError` when the content type is not multipart/form-data with a boundary, or the body
    is not framed by it.
    """
    header = _header_params("Content-Type", content_type)
    if header.get_content_type() != "multipart/form-data":
        raise MultipartError(f"the content type is {header.get_content_type()}, not multipart/form-data")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MultipartError("the Content-Type has no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    start = body.find(delimiter)
    if start < 0 or (start > 0 and body[start - 2 : start] != b"\r\n"):
        raise MultipartError("the body does not start with the boundary")
    position = start + len(delimiter)
    parts: List[FormPart] = []
    while True:
        if body[position : position + 2] == b"--":
            return parts
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise MultipartError("a boundary line has extra bytes")
        head_end = body.find(b"\r\n\r\n", line_end)
        if head_end < 0:
            raise MultipartError("a part's headers do not end")
        headers = Headers(
            [
                (name.strip(), value.strip())
                for name, _, value in (
                    line.partition(":") for line in body[line_end + 2 : head_end].decode("latin-1").split("\r\n")
                )
                if name
            ]
        )
        data_start = head_end + 4
        data_end = body.find(b"\r\n" + delimiter, data_start)
        if data_end < 0:
            raise MultipartError("a part is not closed by the boundary")
        disposition = headers.get("content-disposition")
        if disposition is None:
            raise MultipartError("a part has no Content-Disposition")
        params = _header_params("Content-Disposition", disposition)
        if params.get_content_disposition() != "form-data":
            raise MultipartError("a part's Content-Disposition is not form-data")
        field_name = params.get_param("name", header="content-disposition")
        if not isinstance(field_name, str) or not field_name:
            raise MultipartError("a part has no name")
        parts.append(
            FormPart(
                name=field_name,
                data=body[data_start:data_end],
                filename=params.get_filename(),
                content_type=headers.get("content-type"),
            )
        )
        position = data_end + 2 + len(delimiter)
