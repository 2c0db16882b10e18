"""Building answers: JSON bodies, the standard error body, validation errors, reading a JSON request body."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from ._http import Answer, RecordedRequest

__all__ = ["dumps", "error_answer", "error_body", "invalid", "json_object", "ok"]

_STATUS_ERRORS: Dict[int, Tuple[str, str, str]] = {
    400: ("Bad request", "invalid_request_error", "bad_request"),
    401: ("Invalid API key", "authentication_error", "invalid_api_key"),
    403: ("This key may not do this", "permission_error", "forbidden"),
    404: ("Not found", "not_found_error", "not_found"),
    405: ("Method not allowed", "invalid_request_error", "method_not_allowed"),
    408: ("Request timeout", "timeout_error", "request_timeout"),
    409: ("A request with this Idempotency-Key is in progress", "conflict_error", "idempotency_conflict"),
    413: ("Request too large", "invalid_request_error", "request_too_large"),
    422: ("The body is not valid", "invalid_request_error", "validation_error"),
    429: ("Rate limit reached, try again later", "rate_limit_error", "rate_limit_exceeded"),
    500: ("Internal server error", "server_error", "internal_error"),
    502: ("Bad gateway", "server_error", "bad_gateway"),
    503: ("The model is overloaded", "server_error", "overloaded"),
    504: ("Gateway timeout", "server_error", "gateway_timeout"),
}


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def ok(value: Any) -> Answer:
    """A 200 with `value` as its JSON body."""
    return Answer(200, dumps(value))


def error_body(
    status: int,
    message: Optional[str] = None,
    *,
    type: Optional[str] = None,
    code: Optional[str] = None,
    param: Optional[str] = None,
) -> Dict[str, Any]:
    """The standard error body `{"error": {message, type, code, param}}`, with defaults for `status`."""
    default = _STATUS_ERRORS.get(status)
    if default is None:
        default = (
            ("Unknown error", "server_error", f"http_{status}")
            if status >= 500
            else ("Request failed", "invalid_request_error", f"http_{status}")
        )
    return {
        "error": {
            "message": message if message is not None else default[0],
            "type": type if type is not None else default[1],
            "code": code if code is not None else default[2],
            "param": param,
        }
    }


def error_answer(
    status: int,
    message: Optional[str] = None,
    *,
    type: Optional[str] = None,
    code: Optional[str] = None,
    param: Optional[str] = None,
    headers: Optional[List[Tuple[str, str]]] = None,
) -> Answer:
    """An `Answer` with the standard error body."""
    body = error_body(status, message, type=type, code=code, param=param)
    return Answer(status, dumps(body), headers=list(headers or ()))


def invalid(message: str, param: Optional[str]) -> Answer:
    """A 422 validation error naming the field `param`."""
    return error_answer(422, message, type="invalid_request_error", code="validation_error", param=param)


def json_object(request: RecordedRequest, what: str = "request") -> Tuple[Dict[str, Any], Optional[Answer]]:
    """The JSON object body, or the 400 / 422 answer when the body is empty, not JSON, or not an object."""
    if request.json is None:
        if request.body.strip():
            return {}, error_answer(400, "The body is not valid JSON", code="invalid_json")
        return {}, error_answer(400, f"The body is empty; send a JSON {what}", code="invalid_json")
    if not isinstance(request.json, dict):
        return {}, invalid("The body must be a JSON object", None)
    return request.json, None
