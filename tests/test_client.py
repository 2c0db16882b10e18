"""Client configuration: the key, the base URL, headers, timeouts, with_options, repr, logging, raw."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from typing import Any, Callable

import httpx
import pytest

from meganova import AsyncMegaNova, MegaNova, MeganovaError, __version__

from conftest import API_KEY, BASE_URL, CHAT_RESPONSE, MODEL_INFO, Harness, json_response


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEGANOVA_API_KEY", raising=False)
    monkeypatch.delenv("MEGANOVA_BASE_URL", raising=False)


@pytest.mark.parametrize("cls", [MegaNova, AsyncMegaNova])
def test_missing_key_fails_at_construction_saying_how_to_set_it(cls: Any) -> None:
    with pytest.raises(MeganovaError, match="MEGANOVA_API_KEY"):
        cls()
    with pytest.raises(MeganovaError):
        cls(api_key="")


@pytest.mark.parametrize("bad", ["sk-abc\n", "sk-\rabc", "sk-a\x00b", "sk abc", "sk-é", "sk-\x7f"])
def test_key_with_control_or_odd_characters_is_rejected_without_echoing_it(bad: str) -> None:
    with pytest.raises(MeganovaError) as info:
        MegaNova(api_key=bad)
    assert bad.strip() not in str(info.value)


def test_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEGANOVA_API_KEY", API_KEY)
    monkeypatch.setenv("MEGANOVA_BASE_URL", "https://gw.example/meganova/v1/")
    client = MegaNova()
    assert client.base_url == "https://gw.example/meganova/v1"


def test_default_base_url_is_production() -> None:
    assert MegaNova(api_key=API_KEY).base_url == "https://api.meganova.ai/v1"


def test_bad_base_url_is_rejected() -> None:
    with pytest.raises(MeganovaError):
        MegaNova(api_key=API_KEY, base_url="api.meganova.ai/v1")


def test_headers_on_every_request(harness: Callable[..., Harness]) -> None:
    balance = {"balance": 1.5, "currency": "USD", "status": "active"}
    h = harness(
        [json_response(200, CHAT_RESPONSE), json_response(200, balance)],
        region="eu-west",
        user_agent_extra="my-bot/2.0",
        default_headers={"X-Team": "night"},
    )
    h.chat()
    h.call(lambda c: c.billing.get_balance())
    for request in h.requests:
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert request.headers["user-agent"] == f"meganova-python/{__version__} my-bot/2.0"
        assert request.headers["x-mn-sdk"] == "python"
        assert request.headers["x-mn-region"] == "eu-west"
        assert request.headers["x-team"] == "night"
    assert "idempotency-key" in h.requests[0].headers  # the POST
    assert "idempotency-key" not in h.requests[1].headers  # the GET


def test_no_region_header_for_auto(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(200, CHAT_RESPONSE)])
    h.chat()
    assert "x-mn-region" not in h.requests[0].headers


def test_each_call_gets_its_own_idempotency_key(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(200, CHAT_RESPONSE)])
    h.chat()
    h.chat()
    assert h.requests[0].headers["idempotency-key"] != h.requests[1].headers["idempotency-key"]
    h.chat(extra_headers={"Idempotency-Key": "mine-1"})
    assert h.requests[2].headers["idempotency-key"] == "mine-1"


def test_base_url_path_prefix_is_kept(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(200, MODEL_INFO)], base_url="https://gw.example/meganova/v1/")
    h.call(lambda c: c.models.get("meganova-ai/manta-flash-1.0"))
    assert str(h.requests[0].url) == "https://gw.example/meganova/v1/models/meganova-ai/manta-flash-1.0"


def test_per_call_extras(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(200, CHAT_RESPONSE)])
    h.chat(extra_headers={"X-Trace": "t1"}, extra_query={"debug": "1"}, extra_body={"seed": 7}, top_p=0.5, timeout=3.0)
    request = h.requests[0]
    assert request.headers["x-trace"] == "t1"
    assert request.url.params["debug"] == "1"
    body = __import__("json").loads(request.content)
    assert body["seed"] == 7 and body["top_p"] == 0.5
    assert request.extensions["timeout"] == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}


def test_timeout_float_caps_connect_at_five_seconds(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(200, CHAT_RESPONSE)], timeout=30)
    h.chat()
    assert h.requests[0].extensions["timeout"] == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    h = harness([json_response(200, CHAT_RESPONSE)], timeout=httpx.Timeout(2.0, read=9.0))
    h.chat()
    assert h.requests[0].extensions["timeout"]["read"] == 9.0


def test_with_options_shares_the_pool_and_changes_only_what_is_asked() -> None:
    client = MegaNova(api_key=API_KEY, base_url=BASE_URL)
    quick = client.with_options(timeout=2.0, max_retries=0, default_headers={"X-A": "1"})
    assert quick._http is client._http
    assert quick.max_retries == 0 and client.max_retries == 3
    assert quick.timeout.read == 2.0 and client.timeout.read == 60.0
    assert quick._options.headers["X-A"] == "1" and "X-A" not in client._options.headers
    quick.close()  # does not close the shared pool
    assert not client._http.is_closed
    client.close()
    assert client._http.is_closed


def test_user_http_client_is_used_and_not_closed(harness: Callable[..., Harness]) -> None:
    h = harness([json_response(200, CHAT_RESPONSE)])
    h.chat()
    assert len(h.requests) == 1
    if h.mode == "sync":
        h.client.close()
        assert not h.client._http.is_closed


def test_default_pool_fits_concurrency() -> None:
    from meganova.custom.runtime.pool import SHARDS, ShardedTransport

    client = MegaNova(api_key=API_KEY, base_url=BASE_URL)
    transport = client._http._transport
    assert isinstance(transport, ShardedTransport) and len(transport._shards) == SHARDS
    pools = [shard._pool for shard in transport._shards]
    assert sum(pool._max_connections for pool in pools) == 1000
    assert sum(pool._max_keepalive_connections for pool in pools) == 100  # as the README says


def test_balancer_keeps_one_request_at_a_time_on_the_first_shard() -> None:
    from meganova.custom.runtime.pool import Balancer

    balancer = Balancer(4)
    for _ in range(3):  # sequential use: always shard 0, so one connection is reused
        index = balancer.acquire()
        assert index == 0
        balancer.release(index)
    assert [balancer.acquire() for _ in range(6)] == [0, 1, 2, 3, 0, 1]  # concurrent use spreads
    balancer.release(2)
    assert balancer.acquire() == 2


def test_context_managers_close() -> None:
    with MegaNova(api_key=API_KEY) as client:
        pass
    assert client._http.is_closed

    async def run() -> AsyncMegaNova:
        async with AsyncMegaNova(api_key=API_KEY) as aclient:
            pass
        return aclient

    assert asyncio.run(run())._http.is_closed


@pytest.mark.parametrize("cls", [MegaNova, AsyncMegaNova])
def test_repr_never_shows_the_key(cls: Any) -> None:
    client = cls(api_key=API_KEY, base_url=BASE_URL)
    for text in (repr(client), str(client), repr(client._options), repr(client.with_options(max_retries=1))):
        assert API_KEY not in text
    assert repr(client) == f"{cls.__name__}(base_url='{BASE_URL}', max_retries=3)"


def test_logs_redact_the_key(harness: Callable[..., Harness], caplog: pytest.LogCaptureFixture) -> None:
    h = harness([json_response(500, {"error": {"message": "boom"}}), json_response(200, CHAT_RESPONSE)])
    with caplog.at_level(logging.DEBUG, logger="meganova"):
        h.chat()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Retrying POST" in text and "<redacted>" in text and "HTTP POST" in text
    assert API_KEY not in text


def test_meganova_log_env_turns_logging_on() -> None:
    code = (
        "import httpx, meganova\n"
        "t = httpx.MockTransport(lambda r: httpx.Response(200, json={'balance': 1, 'currency': 'USD', 'status': 'ok'}))\n"
        f"c = meganova.MegaNova(api_key='{API_KEY}', http_client=httpx.Client(transport=t))\n"
        "c.billing.get_balance()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"MEGANOVA_LOG": "debug", "PATH": ""},
        check=True,
    )
    assert "HTTP GET https://api.meganova.ai/v1/billing/balance -> 200" in result.stderr
    assert "Bearer <redacted>" not in result.stderr or API_KEY not in result.stderr
    assert API_KEY not in result.stderr


def test_raw_generated_functions_get_auth_retries_and_headers(mode: str) -> None:
    from meganova.api.chat import create_chat_completion
    from meganova.api.models import get_model
    from meganova.models import ChatRequest, ChatResponse, ModelInfo

    h = Harness(mode, [json_response(503, {"error": {"message": "busy"}}), json_response(200, CHAT_RESPONSE)])
    body = ChatRequest.from_dict(
        {"model": "meganova-ai/manta-flash-1.0", "messages": [{"role": "user", "content": "Hi"}]}
    )
    if mode == "sync":
        response = create_chat_completion.sync_detailed(client=h.client.raw, body=body)
    else:
        response = asyncio.run(create_chat_completion.asyncio_detailed(client=h.client.raw, body=body))
    assert isinstance(response.parsed, ChatResponse)
    assert response.parsed.choices[0].message.content == "Hello!"
    assert len(h.requests) == 2 and len(h.waits) == 1
    first, second = h.requests
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.headers["x-mn-sdk"] == "python"
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]

    h = Harness(mode, [json_response(200, MODEL_INFO)])
    fn = get_model.sync if mode == "sync" else (lambda **kw: asyncio.run(get_model.asyncio(**kw)))
    model = fn(model_id="meganova-ai/manta-flash-1.0", client=h.client.raw)
    assert isinstance(model, ModelInfo)
    assert h.requests[0].url.path == "/v1/models/meganova-ai/manta-flash-1.0"


def test_client_shared_across_threads(harness: Callable[..., Harness]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    h = harness(lambda request: json_response(200, CHAT_RESPONSE))
    if h.mode == "async":

        async def many() -> list:
            return await asyncio.gather(
                *(h.client.chat.create(model="m", messages=[{"role": "user", "content": "x"}]) for _ in range(50))
            )

        results = asyncio.run(many())
    else:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: h.chat(), range(50)))
    assert [r.choices[0].message["content"] for r in results] == ["Hello!"] * 50
    assert len({r.headers["idempotency-key"] for r in h.requests}) == 50
