"""Middleware: run once per HTTP attempt inside the retry loop, sync and async, over MockServer's sockets
and over a mock transport: retries seen per attempt, requests changed, short-circuits, streams and
downloads passing through, errors observed, secrets masked."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable, Iterator, List

import httpx
import pytest

from meganova import AsyncMegaNova, MegaNova, MeganovaError
from meganova.custom.runtime.middleware import MiddlewareRequest
from meganova.errors import APIConnectionError, RateLimitError
from meganova.testing import MockServer

from conftest import API_KEY, CHAT_RESPONSE, json_response

MODEL = "meganova-ai/manta-flash-1.0"
MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


class Audit:
    """An audit-log middleware, in both flavours: records what it saw of each attempt."""

    def __init__(self) -> None:
        self.seen: List[Any] = []

    def handle(self, request: MiddlewareRequest, call_next: Callable[[MiddlewareRequest], httpx.Response]) -> Any:
        self.seen.append(("request", request.operation, request.attempt, request.method, request.url, request.headers))
        try:
            response = call_next(request)
        except Exception as exc:
            self.seen.append(("error", type(exc).__name__))
            raise
        self.seen.append(("response", response.status_code))
        return response

    async def handle_async(
        self, request: MiddlewareRequest, call_next: Callable[[MiddlewareRequest], Awaitable[httpx.Response]]
    ) -> Any:
        self.seen.append(("request", request.operation, request.attempt, request.method, request.url, request.headers))
        try:
            response = await call_next(request)
        except Exception as exc:
            self.seen.append(("error", type(exc).__name__))
            raise
        self.seen.append(("response", response.status_code))
        return response


def run(mode: str, client: Any, fn: Callable[[Any], Any]) -> Any:
    if mode == "sync":
        with client:
            return fn(client)

    async def go() -> Any:
        async with client:
            return await fn(client)

    return asyncio.run(go())


def make(mode: str, server: MockServer, **kwargs: Any) -> Any:
    cls = MegaNova if mode == "sync" else AsyncMegaNova
    kwargs.setdefault("api_key", server.api_key)
    return cls(base_url=server.url, **kwargs)


def test_each_attempt_passes_through_middleware_with_its_number(mode: str, server: MockServer) -> None:
    server.reset()
    server.enqueue(status=429, headers={"Retry-After": "0"})
    audit = Audit()
    resp = run(mode, make(mode, server, middleware=[audit]), lambda c: c.chat.create(model=MODEL, messages=MESSAGES))
    assert resp.choices[0].message["content"]
    requests = [entry for entry in audit.seen if entry[0] == "request"]
    assert [(r[1], r[2]) for r in requests] == [("create_chat_completion", 0), ("create_chat_completion", 1)]
    assert [entry for entry in audit.seen if entry[0] == "response"] == [("response", 429), ("response", 200)]
    assert len(server.requests) == 2


def test_the_key_is_masked_in_what_middleware_sees(mode: str, server: MockServer) -> None:
    server.reset()
    audit = Audit()
    run(mode, make(mode, server, middleware=[audit]), lambda c: c.models.list())
    request = next(entry for entry in audit.seen if entry[0] == "request")
    assert request[1] == "list_models"
    shown = json.dumps(request)
    assert server.api_key not in shown
    assert request[5]["authorization"] == "<redacted>"


def test_a_header_per_tenant_reaches_the_server(mode: str, server: MockServer) -> None:
    server.reset()
    if mode == "sync":

        def tenant(request: MiddlewareRequest, call_next: Any) -> httpx.Response:
            request.set_header("X-Tenant", "acme")
            return call_next(request)  # type: ignore[no-any-return]

    else:

        async def tenant(request: MiddlewareRequest, call_next: Any) -> httpx.Response:  # type: ignore[misc]
            request.set_header("X-Tenant", "acme")
            return await call_next(request)  # type: ignore[no-any-return]

    run(mode, make(mode, server, middleware=[tenant]), lambda c: c.models.list())
    assert server.requests[-1].headers.get("x-tenant") == "acme"


def test_a_short_circuit_answer_is_read_like_the_servers(mode: str, server: MockServer) -> None:
    server.reset()
    if mode == "sync":

        def cache(request: MiddlewareRequest, call_next: Any) -> httpx.Response:
            return httpx.Response(200, json=CHAT_RESPONSE, headers={"x-request-id": "req_cached"})

    else:

        async def cache(request: MiddlewareRequest, call_next: Any) -> httpx.Response:  # type: ignore[misc]
            return httpx.Response(200, json=CHAT_RESPONSE, headers={"x-request-id": "req_cached"})

    resp = run(mode, make(mode, server, middleware=[cache]), lambda c: c.chat.create(model=MODEL, messages=MESSAGES))
    assert resp.choices[0].message["content"] == "Hello!"
    assert resp.request_id == "req_cached"
    assert server.requests == []


def test_a_short_circuit_error_answer_raises_its_error(mode: str, server: MockServer) -> None:
    if mode == "sync":

        def limit(request: MiddlewareRequest, call_next: Any) -> httpx.Response:
            return json_response(429, {"error": {"message": "slow down", "code": "rate_limited"}})

    else:

        async def limit(request: MiddlewareRequest, call_next: Any) -> httpx.Response:  # type: ignore[misc]
            return json_response(429, {"error": {"message": "slow down", "code": "rate_limited"}})

    with pytest.raises(RateLimitError) as info:
        run(
            mode,
            make(mode, server, middleware=[limit], max_retries=0),
            lambda c: c.chat.create(model=MODEL, messages=MESSAGES),
        )
    assert info.value.code == "rate_limited"


def test_streams_and_downloads_pass_through(mode: str, server: MockServer, tmp_path: Any) -> None:
    server.reset()
    audit = Audit()
    client = make(mode, server, middleware=[audit])
    target = tmp_path / "speech.wav"
    if mode == "sync":

        def calls(c: Any) -> str:
            text = "".join(chunk.delta for chunk in c.chat.stream(model=MODEL, messages=MESSAGES))
            c.audio.tts_to_file(target, input="Hello", model="tts-1", voice="alloy")
            return text

    else:

        async def calls(c: Any) -> str:  # type: ignore[misc]
            stream = await c.chat.stream(model=MODEL, messages=MESSAGES)
            text = "".join([chunk.delta async for chunk in stream])
            await c.audio.tts_to_file(target, input="Hello", model="tts-1", voice="alloy")
            return text

    text = run(mode, client, calls)
    assert text
    assert target.stat().st_size > 0
    operations = [entry[1] for entry in audit.seen if entry[0] == "request"]
    assert operations == ["create_chat_completion", "create_speech"]


def test_transport_errors_are_seen_then_retried(mode: str) -> None:
    audit = Audit()
    answers: List[Any] = [httpx.ConnectError("refused"), json_response(200, CHAT_RESPONSE)]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    transport = httpx.MockTransport(handler)
    if mode == "sync":
        client: Any = MegaNova(api_key=API_KEY, http_client=httpx.Client(transport=transport), middleware=[audit])
        client._sender.sleep = lambda seconds: None
    else:
        client = AsyncMegaNova(api_key=API_KEY, http_client=httpx.AsyncClient(transport=transport), middleware=[audit])

        async def no_sleep(seconds: float) -> None:
            return None

        client._sender.sleep = no_sleep
    resp = run(mode, client, lambda c: c.chat.create(model=MODEL, messages=MESSAGES))
    assert resp.id == CHAT_RESPONSE["id"]
    assert [entry[:3] for entry in audit.seen if entry[0] != "request"] == [
        ("error", "ConnectError"),
        ("response", 200),
    ]


def test_an_error_after_retries_is_a_meganova_error(mode: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    audit = Audit()
    transport = httpx.MockTransport(handler)
    http: Any = httpx.Client(transport=transport) if mode == "sync" else httpx.AsyncClient(transport=transport)
    cls: Any = MegaNova if mode == "sync" else AsyncMegaNova
    client = cls(api_key=API_KEY, http_client=http, middleware=[audit], max_retries=0)
    with pytest.raises(APIConnectionError):
        run(mode, client, lambda c: c.chat.create(model=MODEL, messages=MESSAGES))
    assert ("error", "ConnectError") in audit.seen


def test_middleware_order_is_first_outermost() -> None:
    order: List[str] = []

    def outer(request: MiddlewareRequest, call_next: Any) -> httpx.Response:
        order.append("outer in")
        response: httpx.Response = call_next(request)
        order.append("outer out")
        return response

    def inner(request: MiddlewareRequest, call_next: Any) -> httpx.Response:
        order.append("inner in")
        response: httpx.Response = call_next(request)
        order.append("inner out")
        return response

    transport = httpx.MockTransport(lambda request: json_response(200, CHAT_RESPONSE))
    with MegaNova(api_key=API_KEY, http_client=httpx.Client(transport=transport), middleware=[outer, inner]) as c:
        c.chat.create(model=MODEL, messages=MESSAGES)
        assert order == ["outer in", "inner in", "inner out", "outer out"]
        order.clear()
        c.with_options(middleware=[inner]).chat.create(model=MODEL, messages=MESSAGES)
        assert order == ["inner in", "inner out"]


def test_bad_middleware_is_refused_at_construction() -> None:
    with pytest.raises(MeganovaError, match="list of middleware"):
        MegaNova(api_key=API_KEY, middleware=lambda r, n: n(r))  # type: ignore[arg-type]
    with pytest.raises(MeganovaError, match="callable"):
        MegaNova(api_key=API_KEY, middleware=["not a middleware"])

    def sync_one(request: MiddlewareRequest, call_next: Any) -> httpx.Response:
        return call_next(request)  # type: ignore[no-any-return]

    with pytest.raises(MeganovaError, match="async middleware"):
        AsyncMegaNova(api_key=API_KEY, middleware=[sync_one])


def test_a_middleware_that_returns_no_response_is_a_clear_error() -> None:
    transport = httpx.MockTransport(lambda request: json_response(200, CHAT_RESPONSE))
    with (
        MegaNova(
            api_key=API_KEY, http_client=httpx.Client(transport=transport), middleware=[lambda r, n: None]
        ) as client,
        pytest.raises(MeganovaError, match=r"must return an httpx\.Response"),
    ):
        client.chat.create(model=MODEL, messages=MESSAGES)


def test_the_request_repr_and_body_hide_the_key() -> None:
    seen: List[MiddlewareRequest] = []

    def spy(request: MiddlewareRequest, call_next: Any) -> httpx.Response:
        seen.append(request)
        return call_next(request)  # type: ignore[no-any-return]

    transport = httpx.MockTransport(lambda request: json_response(200, CHAT_RESPONSE))
    with MegaNova(api_key=API_KEY, http_client=httpx.Client(transport=transport), middleware=[spy]) as client:
        client.chat.create(model=MODEL, messages=[{"role": "user", "content": f"my key is {API_KEY}"}])
    request = seen[0]
    assert API_KEY not in repr(request)
    assert request.content is not None and API_KEY.encode() not in request.content
    assert request.unmasked().headers["authorization"] == f"Bearer {API_KEY}"
