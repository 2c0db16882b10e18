"""Retries: what is retried, how often, how long we wait (fake clock), and the Idempotency-Key."""

from __future__ import annotations

import email.utils
import time
from typing import Callable

import httpx
import pytest

from meganova.custom.runtime.retry import backoff, parse_retry_after, wait_before_retry
from meganova.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)

from conftest import CHAT_RESPONSE, DONE, Harness, chunk_event, json_response, sse_response

ERROR = {"error": {"message": "nope"}}


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 520])
def test_retryable_status_then_success(harness: Callable[..., Harness], status: int) -> None:
    h = harness([json_response(status, ERROR), json_response(status, ERROR), json_response(200, CHAT_RESPONSE)])
    assert h.chat().choices[0].message.content == "Hello!"
    assert len(h.requests) == 3
    assert len({r.headers["idempotency-key"] for r in h.requests}) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
    ],
)
def test_client_errors_are_never_retried(harness: Callable[..., Harness], status: int, cls: type) -> None:
    h = harness([json_response(status, ERROR), json_response(200, CHAT_RESPONSE)])
    with pytest.raises(cls):
        h.chat()
    assert len(h.requests) == 1 and h.waits == []


def test_gives_up_after_max_retries(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(503, ERROR)], max_retries=2)
    with pytest.raises(InternalServerError):
        h.chat()
    assert len(h.requests) == 3
    assert len(h.waits) == 2


def test_max_retries_zero_sends_once(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(503, ERROR)], max_retries=0)
    with pytest.raises(InternalServerError):
        h.chat()
    assert len(h.requests) == 1


def test_backoff_waits_grow_and_are_capped(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(500, ERROR)], max_retries=7)
    with pytest.raises(InternalServerError):
        h.chat()
    caps = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert len(h.waits) == 7
    for wait, cap in zip(h.waits, caps):
        assert cap * 0.75 <= wait <= cap


def test_backoff_formula() -> None:
    assert backoff(0, lambda: 0.0) == 0.5
    assert backoff(3, lambda: 1.0) == 4.0 * 0.75
    assert backoff(10, lambda: 0.0) == 8.0


def test_retry_after_seconds_is_used(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(429, ERROR, {"retry-after": "3"}), json_response(200, CHAT_RESPONSE)])
    h.chat()
    assert h.waits == [3.0]


def test_retry_after_ms_wins(harness: Callable[..., Harness]) -> None:
    h = harness(
        [json_response(429, ERROR, {"retry-after-ms": "250", "retry-after": "3"}), json_response(200, CHAT_RESPONSE)]
    )
    h.chat()
    assert h.waits == [0.25]


def test_retry_after_http_date(harness: Callable[..., Harness]) -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    h = harness([json_response(503, ERROR, {"retry-after": when}), json_response(200, CHAT_RESPONSE)])
    h.chat()
    assert len(h.waits) == 1 and 3.0 <= h.waits[0] <= 5.0


def test_retry_after_too_large_is_not_waited_out(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(429, ERROR, {"retry-after": "3600"}), json_response(200, CHAT_RESPONSE)])
    with pytest.raises(RateLimitError) as info:
        h.chat()
    assert info.value.retry_after == 3600.0
    assert len(h.requests) == 1 and h.waits == []


@pytest.mark.parametrize("value", ["0", "-5", "soon", ""])
def test_unusable_retry_after_falls_back_to_backoff(harness: Callable[..., Harness], value: str) -> None:
    h = harness([json_response(429, ERROR, {"retry-after": value}), json_response(200, CHAT_RESPONSE)])
    h.chat()
    assert len(h.waits) == 1 and 0.375 <= h.waits[0] <= 0.5


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "garbage"}) is None
    assert wait_before_retry(0, 61.0) is None
    assert wait_before_retry(0, 60.0) == 60.0


def test_x_should_retry_false_overrides(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(503, ERROR, {"x-should-retry": "false"}), json_response(200, CHAT_RESPONSE)])
    with pytest.raises(InternalServerError):
        h.chat()
    assert len(h.requests) == 1


def test_x_should_retry_true_overrides(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(400, ERROR, {"x-should-retry": "true"}), json_response(200, CHAT_RESPONSE)])
    h.chat()
    assert len(h.requests) == 2


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ReadError("reset by peer"),
        httpx.RemoteProtocolError("server disconnected without sending a response"),
        httpx.ConnectTimeout("connect timeout"),
        httpx.ReadTimeout("read timeout"),
    ],
)
def test_transport_errors_are_retried_with_the_same_key(harness: Callable[..., Harness], error: Exception) -> None:
    h = harness([error, error, json_response(200, CHAT_RESPONSE)])
    assert h.chat().choices[0].message.content == "Hello!"
    assert len(h.requests) == 3
    assert len({r.headers["idempotency-key"] for r in h.requests}) == 1


def test_transport_errors_beyond_retries_raise(harness: Callable[..., Harness]) -> None:
    h = harness([httpx.ReadTimeout("slow")], max_retries=1)
    with pytest.raises(APITimeoutError):
        h.chat()
    assert len(h.requests) == 2
    h = harness([httpx.ConnectError("refused")], max_retries=1)
    with pytest.raises(APIConnectionError):
        h.call(lambda c: c.models.list())
    assert len(h.requests) == 2


def test_non_transient_transport_error_is_not_retried(harness: Callable[..., Harness]) -> None:
    h = harness([httpx.UnsupportedProtocol("ftp?")])
    with pytest.raises(APIConnectionError):
        h.chat()
    assert len(h.requests) == 1


def test_stream_is_retried_before_its_first_byte(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(429, ERROR), sse_response([chunk_event("ok", finish="stop"), DONE])])
    chunks = h.stream()
    assert "".join(c.delta for c in chunks) == "ok"
    assert len(h.requests) == 2
    assert h.requests[0].headers["idempotency-key"] == h.requests[1].headers["idempotency-key"]


def test_stream_broken_before_its_first_chunk_is_sent_again(harness: Callable[..., Harness]) -> None:
    drop = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    h = harness([sse_response([b": ping\n\n"], error=drop), sse_response([chunk_event("ok", finish="stop"), DONE])])
    chunks = h.stream()
    assert "".join(c.delta for c in chunks) == "ok" and chunks[-1].done
    assert len(h.requests) == 2 and len(h.waits) == 1
    assert h.requests[0].headers["idempotency-key"] == h.requests[1].headers["idempotency-key"]


def test_stream_broken_before_its_first_chunk_beyond_retries_raises(harness: Callable[..., Harness]) -> None:
    h = harness(lambda request: sse_response([], error=httpx.ReadError("reset")), max_retries=2)
    with pytest.raises(APIConnectionError):
        h.stream()
    assert len(h.requests) == 3 and len(h.waits) == 2


def test_stream_broken_after_first_chunk_raises_and_is_not_retried(harness: Callable[..., Harness]) -> None:
    h = harness([sse_response([chunk_event("par")], error=httpx.RemoteProtocolError("incomplete chunked read"))])
    with pytest.raises(APIConnectionError):
        h.stream()
    assert len(h.requests) == 1


def test_conflict_is_retried_then_raised(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(409, ERROR)], max_retries=1)
    with pytest.raises(ConflictError):
        h.chat()
    assert len(h.requests) == 2


def test_retry_after_on_503_is_used(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(503, ERROR, {"retry-after": "1"}), json_response(200, CHAT_RESPONSE)])
    h.chat()
    assert h.waits == [1.0]
