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
from typing import Any, Mapping, Optional

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
    "error_for_status",
    "parse_error_body",
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
    """An HTTP error answer from the API (status >= 400), or an error event inside a stream."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        """Seconds the server asked us to wait (Retry-After), when it said."""


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
    return None if value is None else str(value)


def _from_json(data: Any) -> Optional[ErrorInfo]:
    """Reads the error shapes seen in the wild; None when `data` is none of them."""
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):  # OpenAI style: {"error": {"message", "type", "code", "param"}}
        message = error.get("message") or error.get("detail") or json.dumps(error)[:_MAX_MESSAGE]
        return ErrorInfo(
            str(message),
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
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{loc}: {item.get('msg', item)}" if loc else str(item.get("msg", item)))
            else:
                parts.append(str(item))
        return ErrorInfo("; ".join(parts)[:_MAX_MESSAGE] or "validation error", body=data)
    message = data.get("message")
    if isinstance(message, str) and message:
        return ErrorInfo(message, code=_text(data.get("code")), type=_text(data.get("type")), body=data)
    return None


def parse_error_body(status: int, content: bytes) -> ErrorInfo:
    """What an error answer's body says. Never raises, whatever the body: JSON, HTML, text or nothing."""
    stripped = content.strip()
    if not stripped:
        return ErrorInfo(f"HTTP {status} with an empty body", body=None)
    try:
        data = json.loads(stripped)
    except ValueError:
        data = None
    else:
        info = _from_json(data)
        if info is not None:
            return info
        return ErrorInfo(f"HTTP {status}: {stripped[:_MAX_MESSAGE].decode(errors='replace')}", body=data)
    text = stripped.decode(errors="replace")
    if stripped[:1] == b"<":  # an HTML page, usually from a proxy or CDN
        title = _HTML_TITLE.search(stripped)
        what = title.group(1).decode(errors="replace").strip() if title else "an HTML error page"
        return ErrorInfo(f"HTTP {status}: {' '.join(what.split())[:_MAX_MESSAGE]}", body=text)
    return ErrorInfo(f"HTTP {status}: {' '.join(text.split())[:_MAX_MESSAGE]}", body=text)


def error_for_status(
    status: int,
    content: bytes,
    *,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
    secret: Optional[str] = None,
) -> APIError:
    """The `APIError` subclass for an error answer, with everything its body says.

    `secret` (the API key) is scrubbed from the message, should the server echo it.
    """
    info = parse_error_body(status, content)
    return api_error(status, info, request_id=request_id, retry_after=retry_after, secret=secret)


def api_error(
    status: int,
    info: ErrorInfo,
    *,
    request_id: Optional[str] = None,
    retry_after: Optional[float] = None,
    secret: Optional[str] = None,
) -> APIError:
    """The `APIError` subclass for `status`, built from an `ErrorInfo`."""
    if status >= 500:
        cls: type[APIError] = InternalServerError
    else:
        cls = _STATUS_ERRORS.get(status, APIError)
    message = info.message
    body = info.body
    if secret and secret in message:
        message = message.replace(secret, "sk-***")
    if secret and isinstance(body, str) and secret in body:
        body = body.replace(secret, "sk-***")
    return cls(
        message,
        status=status,
        code=info.code,
        type=info.type,
        param=info.param,
        request_id=request_id,
        body=body,
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
