"""Reading successful answers into the generated models. Pure, shared by sync and async.

Whatever a 2xx body holds (not JSON, an HTML page, missing fields, wrong types), the caller gets a
model or an `APIResponseValidationError` with status, request id and body: never a `KeyError`,
`JSONDecodeError`, `TypeError` or `RecursionError` (JSON nested too deep is "not JSON"). The client's
secrets, should the server echo one, are scrubbed from the error (the request carries them).
"""

from __future__ import annotations

import json
from typing import Any, Optional, TypeVar

import httpx

from .errors import (
    APIError,
    APIResponseValidationError,
    ErrorInfo,
    MeganovaError,
    api_error,
    status_of_error_event,
)
from .secrets import Secrets, scrub, secrets_of

T = TypeVar("T")

_MAX_BODY = 2000
_decode_json = json.JSONDecoder().decode  # JSON is UTF-8 (RFC 8259); a str skips json.loads' encoding sniffing


def request_id_of(response: httpx.Response) -> Optional[str]:
    """The answer's `X-Request-Id` header."""
    request_id: Optional[str] = response.headers.get("x-request-id")
    return request_id


def secrets_of_answer(response: httpx.Response) -> Secrets:
    """The secrets to scrub from errors about `response`: those its request carries."""
    return secrets_of(response._request)  # None for a response built by hand


def _body_for_error(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return response.content[:_MAX_BODY].decode(errors="replace")


def validation_error(message: str, response: httpx.Response, body: Any = None) -> APIResponseValidationError:
    """An `APIResponseValidationError` for `response`, the key scrubbed from every field."""
    secrets = secrets_of_answer(response)
    return APIResponseValidationError(
        scrub(message, secrets),
        status=response.status_code,
        request_id=scrub(request_id_of(response), secrets),
        body=scrub(body, secrets),
    )


def _of_answer(error: APIResponseValidationError, response: httpx.Response) -> APIResponseValidationError:
    """A field's validation error, given the answer's status and request id (the key scrubbed)."""
    return validation_error(error.message, response, error.body)


def parse_model(cls: type[T], response: httpx.Response, strict: bool = False) -> T:
    """`cls.from_dict` of the JSON body, with `request_id` set when the model has one; with `strict`,
    every field is checked now (else each is checked when read)."""
    try:
        model: Any = cls.from_dict(_decode_json(response.content.decode()))  # type: ignore[attr-defined]
        if strict:
            model.validate()
    except APIResponseValidationError as exc:  # strict: a field does not match
        raise _of_answer(exc, response) from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        detail = (
            "not JSON"
            if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError, RecursionError))
            else f"{type(exc).__name__}: {exc}"
        )
        content_type = response.headers.get("content-type", "no content type")
        error = validation_error(
            f"The answer is not a valid {cls.__name__} ({detail}; {content_type}).", response, _body_for_error(response)
        )
        if secrets_of_answer(response).holds(str(exc)):
            raise error from None  # the cause would show a secret
        raise error from exc
    if hasattr(model, "request_id"):
        model.request_id = request_id_of(response)
    return model  # type: ignore[no-any-return]


def parse_answer(cast_to: Any, response: httpx.Response, strict: bool = False, unwrap: Optional[str] = None) -> Any:
    """A successful answer as `cast_to`: a generated model (or its field `unwrap`), `bytes` (the body)
    or `str` (its text)."""
    if cast_to is bytes:
        if not is_binary(response):
            raise not_binary(response)
        return response.content
    if cast_to is str:
        return response.text
    text_field = getattr(cast_to, "text_field", None)  # the spec allows a text/plain answer too
    model_class = getattr(cast_to, "model_class", None)  # a generated `read_model`: the class, imported now
    if model_class is not None:
        cast_to = model_class()
    if text_field is not None and response.headers.get("content-type", "").startswith("text/plain"):
        return cast_to.from_dict({text_field: response.text})  # a transcription asked for as text, srt or vtt
    model = parse_model(cast_to, response, strict)
    if unwrap is None:
        return model
    try:
        return getattr(model, unwrap)
    except APIResponseValidationError as exc:
        raise _of_answer(exc, response) from None


def is_event_stream(response: httpx.Response) -> bool:
    """Whether a streamed answer really is an event stream (not a JSON or HTML page)."""
    content_type = response.headers.get("content-type", "text/event-stream")
    return "json" not in content_type and "html" not in content_type


def not_an_event_stream(response: httpx.Response) -> APIResponseValidationError:
    """The error for a streamed answer that is not an event stream (its body must have been read)."""
    return validation_error(
        f"Asked for an event stream, the server answered {response.headers.get('content-type')}.",
        response,
        _body_for_error(response),
    )


def is_sse_content_type(response: httpx.Response) -> bool:
    """Whether the answer says it is an event stream (`text/event-stream`, any parameters)."""
    content_type: str = response.headers.get("content-type", "")
    return content_type[:17].lower() == "text/event-stream"


def is_binary(response: httpx.Response) -> bool:
    """Whether a binary answer (audio, an image) is one: its content type is neither JSON nor HTML."""
    content_type = response.headers.get("content-type", "").lower()
    return "json" not in content_type and "html" not in content_type


def not_binary(response: httpx.Response) -> MeganovaError:
    """The error a binary answer that is JSON or HTML stands for (its body must have been read): the
    `APIError` its `error` object describes, else an `APIResponseValidationError`; never audio or an image."""
    body = _body_for_error(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        error = {"message": error}
    secrets = secrets_of_answer(response)
    if isinstance(error, dict):
        info = ErrorInfo(
            str(error.get("message") or "The server answered an error instead of the binary answer."),
            type=None if error.get("type") is None else str(error.get("type")),
            code=None if error.get("code") is None else str(error.get("code")),
            param=None if error.get("param") is None else str(error.get("param")),
            body=body,
        )
        api: APIError = api_error(
            status_of_error_event(error), info, request_id=request_id_of(response), secrets=secrets
        )
        return api
    return validation_error(
        f"Asked for a binary answer (audio, an image), the server answered "
        f"{response.headers.get('content-type')}; it was not returned or saved.",
        response,
        body,
    )


def redirect_error(response: httpx.Response) -> APIError:
    """The error for a 3xx answer: the SDK's pool does not follow redirects, and only a 2xx is a success."""
    location = scrub(response.headers.get("location"), secrets_of_answer(response))
    where = f" to {location}" if location else " (no Location)"
    error = APIError(
        f"HTTP {response.status_code}: the server redirected{where}; redirects are not followed. "
        "Check base_url (a proxy or an old URL?).",
        status=response.status_code,
        request_id=scrub(request_id_of(response), secrets_of_answer(response)),
        body=scrub(_body_for_error(response), secrets_of_answer(response)),
    )
    return error
