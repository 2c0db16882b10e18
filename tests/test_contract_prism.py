"""Contract test: every non-streaming method, sync and async, against Prism mocking openapi/meganova.yaml
with request validation on. A request that violates the spec fails the test (Prism names the field in
`sl-violations`), and every answer Prism builds from the spec's examples parses into our models.

This proves the SDK and the spec agree, independently of our own local server. `make test` installs
Prism (.tools/) and sets MEGANOVA_PRISM and MEGANOVA_SPEC; without them (a bare `pytest`) it is skipped.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import socket
import subprocess
import time
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest

from meganova import AsyncMegaNova, MegaNova
from meganova.cloud import AsyncCloudAgent, CloudAgent
from meganova.errors import UnprocessableEntityError
from meganova.models import BillingBalance, ChatResponse, ModelInfo, UsageSummary

PRISM = os.environ.get("MEGANOVA_PRISM")
SUMMARY: List[str] = []
SPEC = os.environ.get("MEGANOVA_SPEC")

pytestmark = pytest.mark.skipif(
    not (PRISM and SPEC), reason="needs MEGANOVA_PRISM and MEGANOVA_SPEC (make test sets them)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def prism() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [str(PRISM), "mock", str(SPEC), "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/billing/balance", headers={"Authorization": "Bearer probe"}, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else b""
                    raise RuntimeError(f"Prism did not start: {output!r}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


class Violations:
    """Collects Prism's `sl-violations` header from every answer."""

    def __init__(self) -> None:
        self.found: List[str] = []
        self.answers = 0

    def hook(self, response: httpx.Response) -> None:
        self.answers += 1
        if "sl-violations" in response.headers:
            self.found.append(f"{response.request.method} {response.request.url}: {response.headers['sl-violations']}")

    async def ahook(self, response: httpx.Response) -> None:
        self.hook(response)


NOW = datetime.datetime(2025, 11, 30, 12, 0)
# Every non-streaming method, written once for both clients: (resource, method, keyword arguments).
CALLS: List[Tuple[str, str, Dict[str, Any]]] = [
    (
        "chat",
        "create",
        dict(
            model="meganova-ai/manta-flash-1.0",
            messages=[{"role": "user", "content": "Hi"}],
            temperature=0.9,
            max_tokens=64,
            top_p=0.9,
            stop=["\n\n"],
            seed=1,
            user="u1",
        ),
    ),
    (
        "chat",
        "create",
        dict(
            session_id="sess_123",
            messages=[{"role": "system", "content": "Be Luna."}, {"role": "user", "content": "Hi"}],
        ),
    ),
    ("models", "list", {}),
    ("models", "get", dict(model_id="manta-flash-1.0")),  # Prism cannot match a "/" inside a path parameter
    ("usage", "summary", dict(from_=NOW - datetime.timedelta(days=30), to=NOW, group_by="model", user_id="u1")),
    ("usage", "summary", dict(from_=NOW.replace(tzinfo=datetime.timezone.utc), to="2025-11-30T23:59:59Z")),
    ("billing", "get_balance", {}),
]
# The operations beyond chat, models, usage and billing (the 0.4 SDK's surface), for both clients.
MORE_CALLS: List[Tuple[str, str, Tuple[Any, ...], Dict[str, Any], str]] = [
    ("embeddings", "create", (["Neon Harbor at night"], "BAAI/bge-m3"), dict(dimensions=4), "EmbeddingResponse"),
    (
        "images",
        "generate",
        ("A lantern market",),
        dict(model="black-forest-labs/FLUX.1-dev", width=512, height=512),
        "ImagesResponse",
    ),
    ("audio", "transcribe", (b"RIFF\x24\x00\x00\x00WAVE",), dict(filename="hello.wav", language="en"), "Transcription"),
    ("audio", "tts", ("Hi Luna",), dict(model="hexgrad/Kokoro-82M", voice="af_heart"), "bytes"),
    (
        "rerank",
        "create",
        ("noodles", ["a noodle stand", "a ferry"]),
        dict(model="BAAI/bge-reranker-v2-m3", top_n=1),
        "RerankResponse",
    ),
    ("videos", "generate", ("The harbor at dawn",), dict(model="Byteplus/seedance-1-0-pro-250528"), "VideoGeneration"),
    ("videos", "get", ("vid_7d0c9a4e",), {}, "VideoGeneration"),
    ("serverless", "list_models", (), dict(modality="text", search="manta"), "ServerlessModelsPage"),
    ("billing", "get_user_instance_billings", (), {}, "InstanceBillings"),
    (
        "usage",
        "time_range",
        (),
        dict(start_time=NOW - datetime.timedelta(days=7), end_time=NOW, team_id="t1"),
        "UsageTimeRange",
    ),
]
AGENT_CALLS: List[Tuple[str, Tuple[Any, ...], Dict[str, Any], str]] = [
    ("info", (), {}, "AgentInfo"),
    ("chat", ("Hello!",), dict(conversation_id="conv_1"), "AgentChatResponse"),
    ("confirm_tool", ("appr_1", "approve"), {}, "AgentChatResponse"),
    ("completions", ([{"role": "user", "content": "Hi"}],), dict(max_tokens=16), "ChatResponse"),
]


def _type_name(value: Any) -> str:
    """The generated model's name (of a hand-written subclass: its generated base's)."""
    if isinstance(value, bytes):
        return "bytes"
    cls = type(value)
    return cls.__mro__[1].__name__ if cls.__module__.startswith("meganova.custom") else cls.__name__


def _exercise_more_sync(client: MegaNova, agent: Any) -> List[Tuple[str, Any]]:
    answers = [(name, getattr(getattr(client, r), m)(*args, **kwargs)) for r, m, args, kwargs, name in MORE_CALLS]
    return answers + [(name, getattr(agent, m)(*args, **kwargs)) for m, args, kwargs, name in AGENT_CALLS]


async def _exercise_more_async(client: AsyncMegaNova, agent: Any) -> List[Tuple[str, Any]]:
    answers = [(name, await getattr(getattr(client, r), m)(*args, **kwargs)) for r, m, args, kwargs, name in MORE_CALLS]
    return answers + [(name, await getattr(agent, m)(*args, **kwargs)) for m, args, kwargs, name in AGENT_CALLS]


def _check_more(results: List[Tuple[str, Any]]) -> None:
    for expected, value in results:
        assert _type_name(value) == expected, (expected, value)
        if not isinstance(value, bytes):
            value.validate()  # every field the spec's example holds reads as the spec says


def _exercise_sync(client: MegaNova) -> List[Any]:
    return [getattr(getattr(client, resource), method)(**kwargs) for resource, method, kwargs in CALLS]


async def _exercise_async(client: AsyncMegaNova) -> List[Any]:
    return [await getattr(getattr(client, resource), method)(**kwargs) for resource, method, kwargs in CALLS]


def _check(results: List[Any]) -> None:
    chat, session_chat, models, model, summary, plain_summary, balance = results
    for response in (chat, session_chat):
        assert isinstance(response, ChatResponse)
        assert response.choices[0].message["content"]
        assert response.request_id == "req_7d0c9a4e21b3"
    assert [m.id for m in models] == ["meganova-ai/manta-flash-1.0", "meganova-ai/manta-pro-1.0"]
    assert all(isinstance(m, ModelInfo) for m in models)
    assert isinstance(model, ModelInfo) and model.pricing.prompt_tokens_per_1k == 0.0002
    assert isinstance(summary, UsageSummary) and summary.groups[0].key == "meganova-ai/manta-flash-1.0"
    assert isinstance(plain_summary, UsageSummary)
    assert isinstance(balance, BillingBalance) and balance.currency == "USD"


def test_sync_client_agrees_with_the_spec(prism: str) -> None:
    violations = Violations()
    http = httpx.Client(event_hooks={"response": [violations.hook]})
    with MegaNova(api_key="sk-contract", base_url=prism, http_client=http, max_retries=0) as client:
        _check(_exercise_sync(client))
        agent = CloudAgent("agent_contract", base_url=prism, http_client=http, max_retries=0)
        _check_more(_exercise_more_sync(client, agent))
    assert violations.answers == 7 + len(MORE_CALLS) + len(AGENT_CALLS)
    assert violations.found == []
    SUMMARY.append(f"contract (Prism, sync): {violations.answers} calls, {len(violations.found)} spec violations")


def test_async_client_agrees_with_the_spec(prism: str) -> None:
    violations = Violations()

    async def run() -> Tuple[List[Any], List[Tuple[str, Any]]]:
        http = httpx.AsyncClient(event_hooks={"response": [violations.ahook]})
        async with AsyncMegaNova(api_key="sk-contract", base_url=prism, http_client=http, max_retries=0) as client:
            agent = AsyncCloudAgent("agent_contract", base_url=prism, http_client=http, max_retries=0)
            return await _exercise_async(client), await _exercise_more_async(client, agent)

    first, more = asyncio.run(run())
    _check(first)
    _check_more(more)
    assert violations.answers == 7 + len(MORE_CALLS) + len(AGENT_CALLS)
    assert violations.found == []
    SUMMARY.append(f"contract (Prism, async): {violations.answers} calls, {len(violations.found)} spec violations")


def test_prism_really_validates_requests(prism: str) -> None:
    """The check above means something: a body that breaks the spec is refused, and named."""
    violations = Violations()
    http = httpx.Client(event_hooks={"response": [violations.hook]})
    client = MegaNova(api_key="sk-contract", base_url=prism, http_client=http, max_retries=0)
    with pytest.raises(UnprocessableEntityError):
        client.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}], temperature=7)
    assert len(violations.found) == 1 and "temperature" in violations.found[0]
