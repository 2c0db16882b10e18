"""Every error status and every body shape seen in the wild maps to the right error, with its details."""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest

from meganova import MeganovaError
from meganova.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    error_for_status,
)

from conftest import API_KEY, Harness, json_response

OPENAI_BODY = {"error": {"message": "Bad thing", "type": "invalid_request_error", "code": "bad", "param": "model"}}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (520, InternalServerError),
        (402, APIError),
        (413, APIError),
    ],
)
def test_status_maps_to_class_with_details(harness: Callable[..., Harness], status: int, cls: type) -> None:
    h = harness([json_response(status, OPENAI_BODY)], max_retries=0)
    with pytest.raises(cls) as info:
        h.chat()
    error = info.value
    assert type(error) is cls
    assert isinstance(error, MeganovaError)
    assert (error.status, error.code, error.type, error.param) == (status, "bad", "invalid_request_error", "model")
    assert error.request_id == f"req_{status}"
    assert error.message == "Bad thing"
    assert error.body == OPENAI_BODY
    assert str(error) == f"Bad thing (status={status}, code=bad, request_id=req_{status})"


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b'{"error": "model overloaded"}', "application/json", "model overloaded"),
        (b'{"detail": "Not authenticated"}', "application/json", "Not authenticated"),
        (
            b'{"detail": [{"loc": ["body", "messages"], "msg": "field required", "type": "missing"}]}',
            "application/json",
            "messages: field required",
        ),
        (b'{"message": "plain message", "code": "x"}', "application/json", "plain message"),
        (b'["weird"]', "application/json", 'HTTP 400: ["weird"]'),
        (
            b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "text/html",
            "HTTP 400: 502 Bad Gateway",
        ),
        (b"<html><body>no title</body></html>", "text/html", "HTTP 400: an HTML error page"),
        (b"upstream connect error\n", "text/plain", "HTTP 400: upstream connect error"),
        (b"", "", "HTTP 400 with an empty body"),
        (b"\xff\xfe garbage \x00", "application/octet-stream", "HTTP 400: \ufffd\ufffd garbage \x00"),
        (b'{"error": {"type": "x"}}', "application/json", '{"type": "x"}'),
    ],
)
def test_every_body_shape_gives_a_useful_message(content: bytes, content_type: str, message: str) -> None:
    error = error_for_status(400, content, request_id="req_1")
    assert isinstance(error, BadRequestError)
    assert error.message == message
    assert error.request_id == "req_1"


def test_html_error_page_from_proxy_on_a_call(harness: Callable[..., Harness]) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body><center>cloudflare</center></body></html>"
    h = harness([httpx.Response(502, content=page, headers={"content-type": "text/html"})], max_retries=0)
    with pytest.raises(InternalServerError) as info:
        h.call(lambda c: c.models.list())
    assert info.value.status == 502
    assert info.value.message == "HTTP 502: 502 Bad Gateway"
    assert "cloudflare" in info.value.body


def test_rate_limit_error_carries_retry_after(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(429, OPENAI_BODY, {"retry-after": "7"})], max_retries=0)
    with pytest.raises(RateLimitError) as info:
        h.chat()
    assert info.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"not json at all", "text/plain"),
        (b"<html><title>Captive portal</title></html>", "text/html"),
        (b"", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"null", "application/json"),
    ],
)
def test_malformed_success_body_raises_validation_error(
    harness: Callable[..., Harness], content: bytes, content_type: str
) -> None:
    h = harness([httpx.Response(200, content=content, headers={"content-type": content_type, "x-request-id": "r9"})])
    with pytest.raises(APIResponseValidationError) as info:
        h.chat()
    assert info.value.status == 200
    assert info.value.request_id == "r9"
    assert len(h.requests) == 1  # a 2xx is never sent again


@pytest.mark.parametrize(
    "body",
    [{"id": "x"}, {"id": "x", "choices": "nope"}, {"id": "x", "choices": None}],
)
def test_a_missing_or_mistyped_required_field_raises_when_read_naming_it(
    harness: Callable[..., Harness], body: dict
) -> None:
    h = harness([json_response(200, {**body, "model": "m", "usage": {"prompt_tokens": 1}})])
    resp = h.chat()  # the rest of the answer works
    assert resp.id == "x" and resp.model == "m" and resp.to_dict()["id"] == "x"
    with pytest.raises(APIResponseValidationError, match=r"ChatResponse\.choices"):
        resp.choices
    with pytest.raises(APIResponseValidationError, match=r"TokenUsage\.completion_tokens"):
        resp.usage.completion_tokens
    assert resp.usage.prompt_tokens == 1


def test_a_nested_object_missing_a_required_field_fails_only_that_field(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(200, {"id": "x", "choices": [{"index": 0}, {"index": "one", "message": {}}]})])
    resp = h.chat()
    assert len(resp.choices) == 2 and resp.choices[0].index == 0
    with pytest.raises(APIResponseValidationError, match=r"ChatChoice\.message"):
        resp.choices[0].message
    with pytest.raises(APIResponseValidationError, match=r"ChatChoice\.index: expected an integer"):
        resp.choices[1].index
    with pytest.raises(APIResponseValidationError, match=r"ChatMessage\.role"):
        resp.choices[1].message.role
    assert resp.choices[1].message.content is None  # optional: absent reads as None


def test_strict_response_validation_raises_when_the_answer_arrives(harness: Callable[..., Harness]) -> None:
    body = {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": 5}}]}
    h = harness([json_response(200, body)], strict_response_validation=True)
    with pytest.raises(APIResponseValidationError, match=r"ChatMessage\.content") as info:
        h.chat()
    assert info.value.status == 200
    lenient = harness([json_response(200, body)]).chat()
    assert lenient.choices[0].message.content is None  # lenient: an optional field of another type is None
    assert lenient.choices[0].message["content"] == 5  # dict access: as sent


def test_connection_and_timeout_errors(harness: Callable[..., Harness]) -> None:
    h = harness([httpx.ConnectError("connection refused")], max_retries=0)
    with pytest.raises(APIConnectionError) as info:
        h.chat()
    assert not isinstance(info.value, APITimeoutError)
    h = harness([httpx.ReadTimeout("timed out")], max_retries=0)
    with pytest.raises(APITimeoutError):
        h.chat()


def test_key_echoed_by_server_is_scrubbed(harness: Callable[..., Harness]) -> None:
    body = {"error": {"message": f"Incorrect API key provided: {API_KEY}", "code": "invalid_api_key"}}
    h = harness([json_response(401, body)])
    with pytest.raises(AuthenticationError) as info:
        h.chat()
    assert API_KEY not in str(info.value)
    assert API_KEY not in repr(info.value)
    assert "sk-***" in str(info.value)


def test_error_classes_are_picklable_enough_to_reraise() -> None:
    error: Any = RateLimitError("slow", status=429, code="rate", retry_after=2.0)
    assert isinstance(error, APIError)
    assert error.retry_after == 2.0
    assert repr(error) == "RateLimitError('slow', status=429, code='rate')"
