"""A client the SDK builds itself sends each request straight to its transport, built without
`httpx.Client.build_request`/`send` (`runtime/request.OwnClient`, `runtime/send._pool_send`). What goes
out must be exactly what the httpx path sends: the same method, URL, headers in the same order, body and
timeout, for JSON calls, streams, per-call extras, query parameters and uploads, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List, Tuple

import httpx
import pytest

from meganova import AsyncMegaNova, MegaNova
from meganova.custom.runtime.pool import NoCookies
from meganova.custom.runtime.request import OwnClient

from conftest import API_KEY, BASE_URL, CHAT_RESPONSE, chunk_event, sse_response

MODELS = {"object": "list", "data": [{"id": "m1", "object": "model", "created": 1, "owned_by": "x"}]}
TRANSCRIPTION = {"text": "hello"}


def _answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/models"):
        return httpx.Response(200, json=MODELS)
    if path.endswith("/audio/transcriptions"):
        return httpx.Response(200, json=TRANSCRIPTION)
    if b'"stream":true' in request.content:
        return sse_response([chunk_event("Hi"), chunk_event(finish="stop"), b"data: [DONE]\n\n"])
    return httpx.Response(200, json=CHAT_RESPONSE)


def _seen(request: httpx.Request) -> Tuple[Any, ...]:
    """What went out, but for what differs by design on every call (its Idempotency-Key, a multipart
    boundary)."""
    headers = [(k, v) for k, v in request.headers.multi_items() if k != "idempotency-key"]
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        boundary = content_type.split("boundary=")[1].encode()
        body = request.read().replace(boundary, b"BOUNDARY")
        headers = [(k, "multipart/form-data; boundary=BOUNDARY" if k == "content-type" else v) for k, v in headers]
    else:
        body = request.read()
    return (request.method, str(request.url), headers, body, request.extensions.get("timeout"))


CALLS: List[Tuple[str, Dict[str, Any]]] = [
    ("chat", {}),
    ("chat", {"extra_headers": {"X-Tenant": "t1", "accept": "application/x-ndjson"}, "timeout": 3.0}),
    ("chat", {"extra_query": {"trace": "1"}, "extra_body": {"top_k": 4}}),
    ("stream", {}),
    ("models", {}),
    ("upload", {}),
]


def _sync_call(client: MegaNova, what: str, extras: Dict[str, Any]) -> None:
    if what == "chat":
        client.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}], **extras)
    elif what == "stream":
        assert (
            "".join(c.delta or "" for c in client.chat.stream(model="m", messages=[{"role": "user", "content": "Hi"}]))
            == "Hi"
        )
    elif what == "models":
        client.models.list(**extras)
    else:
        client.audio.transcribe(file=b"RIFF....", filename="a.wav", model="whisper", **extras)


async def _async_call(client: AsyncMegaNova, what: str, extras: Dict[str, Any]) -> None:
    if what == "chat":
        await client.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}], **extras)
    elif what == "stream":
        parts = [
            c.delta or "" async for c in client.chat.stream(model="m", messages=[{"role": "user", "content": "Hi"}])
        ]
        assert "".join(parts) == "Hi"
    elif what == "models":
        await client.models.list(**extras)
    else:
        await client.audio.transcribe(file=b"RIFF....", filename="a.wav", model="whisper", **extras)


def _recorder() -> Tuple[List[httpx.Request], Callable[[httpx.Request], httpx.Response]]:
    seen: List[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _answer(request)

    return seen, handle


@pytest.mark.parametrize("what,extras", CALLS)
def test_sync_own_client_sends_what_httpx_would(what: str, extras: Dict[str, Any]) -> None:
    own = MegaNova(api_key=API_KEY, base_url=BASE_URL, max_retries=0)
    assert OwnClient.of(own._http) is not None
    own_seen, handle = _recorder()
    own._http._transport = httpx.MockTransport(handle)  # the one the direct path picks (no proxy mounts)
    user_seen, user_handle = _recorder()
    user_http = httpx.Client(transport=httpx.MockTransport(user_handle), timeout=own._http.timeout, cookies=NoCookies())
    user = MegaNova(api_key=API_KEY, base_url=BASE_URL, max_retries=0, http_client=user_http)
    assert OwnClient.of(user_http) is None
    _sync_call(own, what, extras)
    _sync_call(user, what, extras)
    assert len(own_seen) == len(user_seen) == 1
    assert _seen(own_seen[0]) == _seen(user_seen[0])
    if "accept" in extras.get("extra_headers", {}):  # a call's header replaces the client's, whatever its case
        assert (
            own_seen[0].headers.get_list("accept")
            == user_seen[0].headers.get_list("accept")
            == ["application/x-ndjson"]
        )
    own.close()
    user.close()


@pytest.mark.parametrize("what,extras", CALLS)
def test_async_own_client_sends_what_httpx_would(what: str, extras: Dict[str, Any]) -> None:
    async def main() -> Tuple[Tuple[Any, ...], Tuple[Any, ...]]:
        own = AsyncMegaNova(api_key=API_KEY, base_url=BASE_URL, max_retries=0)
        assert OwnClient.of(own._http) is not None
        own_seen, handle = _recorder()
        own._http._transport = httpx.MockTransport(handle)
        user_seen, user_handle = _recorder()
        user_http = httpx.AsyncClient(
            transport=httpx.MockTransport(user_handle), timeout=own._http.timeout, cookies=NoCookies()
        )
        user = AsyncMegaNova(api_key=API_KEY, base_url=BASE_URL, max_retries=0, http_client=user_http)
        await _async_call(own, what, extras)
        await _async_call(user, what, extras)
        assert len(own_seen) == len(user_seen) == 1
        await own.close()
        await user.close()
        return _seen(own_seen[0]), _seen(user_seen[0])

    mine, theirs = asyncio.run(main())
    assert mine == theirs


def test_event_hooks_added_to_the_own_pool_are_honoured() -> None:
    """A user who reaches into the pool and adds hooks gets them: the call goes through `http.send`."""
    client = MegaNova(api_key=API_KEY, base_url=BASE_URL, max_retries=0)
    seen, handle = _recorder()
    client._http._transport = httpx.MockTransport(handle)
    hooked: List[str] = []
    client._http.event_hooks["request"].append(lambda request: hooked.append(request.method))
    client.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    assert hooked == ["POST"] and len(seen) == 1
    client.close()


def test_with_options_keeps_the_direct_path_and_its_own_headers() -> None:
    client = MegaNova(api_key=API_KEY, base_url=BASE_URL, max_retries=0)
    seen, handle = _recorder()
    client._http._transport = httpx.MockTransport(handle)
    tenant = client.with_options(default_headers={"X-Tenant": "acme"})
    tenant.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    client.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    assert seen[0].headers["x-tenant"] == "acme"
    assert "x-tenant" not in seen[1].headers  # the merged headers of one options never leak to another
    assert seen[0].headers["authorization"] == seen[1].headers["authorization"] == f"Bearer {API_KEY}"
    client.close()


def test_a_direct_answer_has_its_request_and_elapsed() -> None:
    """What `httpx.Client.send` sets on an answer, the direct path sets too (`http_response.request`,
    `.elapsed`), for a user who reads them under `with_raw_response`."""
    client = MegaNova(api_key=API_KEY, base_url=BASE_URL, max_retries=0)
    seen, handle = _recorder()
    client._http._transport = httpx.MockTransport(handle)
    raw = client.chat.with_raw_response.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    assert raw.http_response.request is seen[0]
    assert raw.http_response.elapsed.total_seconds() >= 0
    client.close()
