"""The `MeganovaError` hierarchy, and the pure function that turns an HTTP error answer into one.

MeganovaError
├── APIError                      an HTTP error answer (status >= 400), or an error event in a stream
│   ├── BadRequestError           400
│   ├── AuthenticationError       401
│   ├── PermissionDeniedError     403
│   ├── NotFoundError             404
│   ├── ConflictError             409
│   ├── UnprocessableEntityError  422
│   ├── RateLimitError            429
│   └── InternalServerError       >= 500
├── APIConnectionError            no answer: refused, reset, dropped mid-body or mid-stream
│   └── APITimeoutError           no answer in time
└── APIResponseValidationError    a 2xx answer that is not what the API describes
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from .secrets import MASK, Secret, Secrets, scrub

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ErrorInfo",
    "InternalServerError",
    "MeganovaError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "VideoTimeoutError",
    "error_for_status",
    "parse_error_body",
    "scrub",
    "MASK",
]


class MeganovaError(Exception):
    """The base of every error the SDK raises.

    `message` is the server's own message where there is one. `status`, `code`, `type`, `param`,
    `request_id` and `body` are set whenever the server sent them, else None.
    """

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        status: Optional[int] = None,
        type: Optional[str] = None,
        param: Optional[str] = None,
        request_id: Optional[str] = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.type = type
        self.param = param
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        details = [
            f"{name}={value}"
            for name, value in (("status", self.status), ("code", self.code), ("request_id", self.request_id))
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r})"


class APIError(MeganovaError):
    """An HTTP error answer from the API (status >= 400), or an error event inside a stream.

    `status_code` is `status` (openai-python's name); `response` is the `httpx.Response` of the error
    answer when there is one (None for an error event inside a stream)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: Optional[float] = None,
        response: Optional[httpx.Response] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        """Seconds the server asked us to wait (Retry-After), when it said."""
        self.response = response
        """The HTTP answer (`httpx.Response`, its body read), when there is one."""

    @property
    def status_code(self) -> Optional[int]:
        """The HTTP status: `status`, by openai-python's name."""
        return self.status


APIStatusError = APIError
"""The name openai-python uses for `APIError`; kept as an alias for code moving over."""


class BadRequestError(APIError):
    """400: the request is not valid."""


class AuthenticationError(APIError):
    """401: the API key is missing or not valid."""


class PermissionDeniedError(APIError):
    """403: the key may not do this."""


class NotFoundError(APIError):
    """404: no such resource (or model)."""


class ConflictError(APIError):
    """409: conflicts with a request in progress."""


class UnprocessableEntityError(APIError):
    """422: the body is well-formed but not valid."""


class RateLimitError(APIError):
    """429: rate limited; `retry_after` says how long the server asked to wait, when it did."""


class InternalServerError(APIError):
    """A status >= 500: the server (or a proxy in front of it) failed."""


class APIConnectionError(MeganovaError):
    """No (complete) answer: connection refused or reset, or the body or stream was cut off."""


class APITimeoutError(APIConnectionError):
    """The server did not answer in time (connect, read or write timeout)."""


class VideoTimeoutError(APITimeoutError):
    """A video generation did not finish within `timeout` seconds (`videos.generate(wait=True)`);
    `generation` is its last known state (a `VideoGeneration`)."""

    generation: Any = None


class APIResponseValidationError(MeganovaError):
    """A 2xx answer whose body is not what the API describes (not JSON, missing fields, wrong types)."""


_STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_MAX_MESSAGE = 500
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class ErrorInfo:
    """What an error body says, whatever its shape: message, type, code, param and the body itself."""

    __slots__ = ("body", "code", "message", "param", "type")

    def __init__(
        self,
        message: str,
        *,
        type: Optional[str] = None,
        code: Optional[str] = None,
        param: Optional[str] = None,
        body: Any = None,
    ) -> None:
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.body = body


def _text(value: Any) -> Optional[str]:
    """A field (code, type, param) as text: a str as it is, a number as digits, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return _json_text(value)


def _json_text(value: Any) -> str:
    """Compact JSON of a parsed value, at most `_MAX_MESSAGE` characters."""
    try:
        return json.dumps(value, ensure_ascii=False)[:_MAX_MESSAGE]
    except (ValueError, TypeError, RecursionError):
        return f"a {type(value).__name__} that cannot be shown"


def _message(value: Any) -> Optional[str]:
    """A message field as text (a str as sent, anything else as JSON); None when empty or absent."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    return value if isinstance(value, str) else _json_text(value)


def _detail_item(item: Any) -> str:
    """One item of a FastAPI validation list: `loc: msg` when it has that shape, else its JSON."""
    if not isinstance(item, dict):
        return item if isinstance(item, str) else _json_text(item)
    loc = item.get("loc")
    if isinstance(loc, list):
        where = ".".join(p if isinstance(p, str) else _json_text(p) for p in loc if p != "body")
    else:
        where = _text(loc) or ""
    msg = _message(item.get("msg")) or _json_text(item)
    return f"{where}: {msg}" if where else msg


def _from_json(data: Any) -> Optional[ErrorInfo]:
    """Reads the error shapes seen in the wild; None when `data` is none of them. Total: any JSON works."""
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):  # OpenAI style: {"error": {"message", "type", "code", "param"}}
        message = _message(error.get("message")) or _message(error.get("detail")) or _json_text(error)
        return ErrorInfo(
            message,
            type=_text(error.get("type")),
            code=_text(error.get("code")),
            param=_text(error.get("param")),
            body=data,
        )
    if isinstance(error, str) and error:  # {"error": "text"}
        return ErrorInfo(error, code=_text(data.get("code")), type=_text(data.get("type")), body=data)
    detail = data.get("detail")
    if isinstance(detail, str) and detail:  # FastAPI: {"detail": "text"}
        return ErrorInfo(detail, body=data)
    if isinstance(detail, list):  # FastAPI validation: {"detail": [{"loc": [...], "msg": ...}]}
        parts = []
        size = 0
        for item in detail:
            part = _detail_item(item)
            parts.append(part)
            size += len(part) + 2
            if size > _MAX_MESSAGE:
                break
        return ErrorInfo("; ".join(parts)[:_MAX_MESSAGE] or "validation error", body=data)
    text = data.get("message")
    if isinstance(text, str) and text:
        return ErrorInfo(text, code=_text(data.get("code")), type=_text(data.get("type")), body=data)
    return None


def parse_error_body(status: int, content: bytes) -> ErrorInfo:
    """What an error answer's body says. Never raises, whatever the body: JSON of any shape or depth,
    HTML, text or nothing. JSON too deep to parse is shown as text."""
    stripped = content.strip()
    if not stripped:
        return ErrorInfo(f"HTTP {status} with an empty body", body=None)
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        data = None
    else:
        try:
            info = _from_json(data)
        except RecursionError:  # a shape nested near the parser's limit
            info = None
        if info is not None:
            return info
        return ErrorInfo(f"HTTP {status}: {stripped[:_MAX_MESSAGE].decode(errors='replace')}", body=data)
    text = stripped.decode(errors="replace")
    if stripped[:1] == b"<":  # an HTML page, usually from a proxy or CDN
        title = _HTML_TITLE.search(stripped)
        what = title.group(1).decode(errors="replace").strip() if title else "an HTML error page"
        return ErrorInfo(f"HTTP {status}: {' '.join(what.split())[:_MAX_MESSAGE]}", body=text)
    return ErrorInfo(f"HTTP {status}: {' '.join(text[: _MAX_MESSAGE * 4].split())[:_MAX_MESSAGE]}", body=text)


def error_for_status(
    status: int,
    content: bytes,
    *,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
    secrets: Union[Secrets, Secret, str, None] = None,
) -> APIError:
    """The `APIError` subclass for an error answer, with everything its body says.

    `secrets` (the client's: `secrets_of(request)`) are scrubbed from every field, should the server echo one.
    """
    info = parse_error_body(status, content)
    return api_error(status, info, request_id=request_id, retry_after=retry_after, secrets=secrets)


def api_error(
    status: int,
    info: ErrorInfo,
    *,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
    secrets: Union[Secrets, Secret, str, None] = None,
) -> APIError:
    """The `APIError` subclass for `status`, built from an `ErrorInfo`; `secrets` scrubbed from every field."""
    if status >= 500:
        cls: type[APIError] = InternalServerError
    else:
        cls = _STATUS_ERRORS.get(status, APIError)
    return cls(
        scrub(info.message, secrets),
        status=status,
        code=scrub(info.code, secrets),
        type=scrub(info.type, secrets),
        param=scrub(info.param, secrets),
        request_id=scrub(request_id, secrets),
        body=scrub(info.body, secrets),
        retry_after=retry_after,
    )


def status_of_error_event(error: Mapping[str, Any]) -> int:
    """The HTTP status an error event inside a 200 stream stands for (the stream's own status is 200)."""
    for key in ("status", "status_code", "code"):
        value = error.get(key)
        if isinstance(value, int) and 400 <= value <= 599:
            return value
    return _EVENT_TYPE_STATUS.get(str(error.get("type")), 500)


_EVENT_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
}
