"""Every Python example of the README, and of the guideline's section 10, runs (sync and async) against
an in-process MegaNova API on `httpx.MockTransport`, unchanged but for where the client connects."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any, List

import httpx
import pytest

from conftest import CHAT_RESPONSE, MODEL_INFO, chunk_event, usage_event

README = Path(__file__).resolve().parent.parent / "README.md"

GUIDELINE_SECTION_10 = """
from meganova import MegaNova

client = MegaNova(api_key="YOUR_API_KEY")

resp = client.chat.create(
    messages=[{"role": "user", "content": "Hi Luna, how are you?"}],
    model="manta-flash"
)

print(resp.choices[0].message["content"])

for chunk in client.chat.stream(
    messages=[{"role": "user", "content": "Tell me about Neon Harbor tonight."}],
    model="manta-flash"
):
    print(chunk.delta, end="", flush=True)

models = client.models.list()
for m in models:
    print(m.id, m.modalities, m.context_length)

balance = client.billing.get_balance()
print("Balance:", balance.balance, balance.currency)

resp = client.chat.create(
    session_id="sess_123",
    messages=[{"role": "user", "content": "Hi!"}],
)
print(resp.choices[0].message["content"])

from meganova import MegaNova, MeganovaError
from meganova.errors import RateLimitError

try:
    resp = client.chat.create(messages=[{"role": "user", "content": "Hi"}], model="manta-flash")
except RateLimitError as e:
    print("Rate-limited, retry later:", e)
except MeganovaError as e:
    print("Meganova API error:", e)
"""

SUMMARY = {
    "from": "2025-11-01T00:00:00Z",
    "to": "2025-11-30T23:59:59Z",
    "total_requests": 2,
    "prompt_tokens": 10,
    "completion_tokens": 20,
    "total_tokens": 30,
    "cost": 0.01,
    "currency": "USD",
    "groups": [],
}


class Api:
    """An in-process stand-in of the API that checks what it is sent."""

    def __init__(self) -> None:
        self.calls: List[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer YOUR_API_KEY"
        path = request.url.path
        self.calls.append(f"{request.method} {path}")
        headers = {"x-request-id": f"req_{len(self.calls)}"}
        if request.method == "POST" and path == "/v1/chat/completions":
            body = json.loads(request.content)
            assert body["messages"] and ("model" in body or "session_id" in body)
            if body.get("stream"):
                events = [
                    chunk_event("Neon", role="assistant"),
                    chunk_event(" lights.", finish="stop"),
                    usage_event(),
                    b"data: [DONE]\n\n",
                ]
                return httpx.Response(
                    200, content=b"".join(events), headers={**headers, "content-type": "text/event-stream"}
                )
            return httpx.Response(200, json=CHAT_RESPONSE, headers=headers)
        if path == "/v1/models":
            return httpx.Response(200, json={"object": "list", "data": [MODEL_INFO]}, headers=headers)
        if path == "/v1/models/meganova-ai/manta-flash-1.0":
            return httpx.Response(200, json=MODEL_INFO, headers=headers)
        if path == "/v1/usage/summary":
            assert request.url.params["from"] and request.url.params["to"]
            return httpx.Response(200, json=SUMMARY, headers=headers)
        if path == "/v1/billing/balance":
            return httpx.Response(200, json={"balance": 42.5, "currency": "USD", "status": "active"}, headers=headers)
        return httpx.Response(404, json={"error": {"message": "no such path"}}, headers=headers)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Api:
    """Every client the examples build connects to `Api` instead of the network."""
    from meganova import AsyncMegaNova, MegaNova
    from meganova.custom._pool import AsyncShardedTransport, ShardedTransport

    handler = Api()
    real_client, real_async_client = httpx.Client, httpx.AsyncClient

    class Client(real_client):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs: Any) -> None:
            if isinstance(kwargs.get("transport"), (ShardedTransport, type(None))):  # our pool: not the raw bridge
                kwargs["transport"] = httpx.MockTransport(handler)
            super().__init__(**kwargs)

    class AsyncClient(real_async_client):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs: Any) -> None:
            if isinstance(kwargs.get("transport"), (AsyncShardedTransport, type(None))):
                kwargs["transport"] = httpx.MockTransport(handler)
            super().__init__(**kwargs)

    monkeypatch.setattr(httpx, "Client", Client)  # the raw client's bridge is built from these
    monkeypatch.setattr(httpx, "AsyncClient", AsyncClient)
    monkeypatch.setattr(MegaNova, "_http_class", Client)  # the clients' own pools
    monkeypatch.setattr(AsyncMegaNova, "_http_class", AsyncClient)
    monkeypatch.delenv("MEGANOVA_BASE_URL", raising=False)
    return handler


def _run(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<example>", "exec"), {"__name__": "__example__"})
    return out.getvalue()


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def readme_blocks() -> List[str]:
    """The README's examples of chat, models, usage and billing (the MockServer example and the section
    "More of the API" run on their own, below, against the local server)."""
    more = _section("More of the API")
    text = README.read_text().replace(more, "").replace(_section("Characters and sessions"), "")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    return [block for block in blocks if "MockServer" not in block]


@pytest.mark.skipif(not README.exists(), reason="README.md is beside the tests only in a source checkout")
def test_readme_more_of_the_api_runs_against_the_local_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from meganova.testing import MockServer

    blocks = re.findall(r"```python\n(.*?)```", _section("More of the API"), flags=re.DOTALL)
    assert len(blocks) == 2
    with MockServer(agent_keys=("agent_YOUR_KEY",)) as server:
        monkeypatch.setenv("MEGANOVA_API_KEY", server.api_key)
        monkeypatch.setenv("MEGANOVA_BASE_URL", server.url)
        monkeypatch.setenv("MEGANOVA_STUDIO_BASE_URL", server.root_url)
        monkeypatch.chdir(tmp_path)
        output = _run("\n".join(blocks))
        paths = {r.path for r in server.requests}
    assert (tmp_path / "lantern.png").read_bytes()[:4] == b"\x89PNG"
    assert "completed https://" in output
    for path in ("/v1/embeddings", "/v1/images/generations", "/v1/audio/speech", "/v1/audio/transcriptions"):
        assert path in paths
    for path in ("/v1/rerank", "/v1/videos/generations", "/api/v1/serverless/models/filter", "/v1/usage/time_range"):
        assert path in paths
    assert "/agents/v1/agent_YOUR_KEY/confirm-tool" in paths


@pytest.mark.skipif(not README.exists(), reason="README.md is beside the tests only in a source checkout")
def test_readme_mockserver_example_runs() -> None:
    from meganova.testing import MockServer

    (block,) = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL) if "MockServer" in b]
    namespace: dict = {"__name__": "__example__"}
    exec(compile(block, "<README MockServer example>", "exec"), namespace)
    tests = [name for name in namespace if name.startswith("test_")]
    assert len(tests) == 2
    for name in tests:
        with MockServer() as server:
            namespace[name](server)


@pytest.mark.skipif(not README.exists(), reason="README.md is beside the tests only in a source checkout")
def test_readme_examples_run(api: Api) -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 7
    output = _run("\n".join(blocks))
    assert "Hello!" in output  # the chat answer
    assert "Neon lights." in output  # the sync and async streams
    assert output.count("Neon lights.") == 2
    assert "meganova-ai/manta-flash-1.0 ['text'] 32768" in output
    assert "Balance: 42.5 USD" in output
    assert "30 0.01 USD" in output
    assert "POST /v1/chat/completions" in api.calls and "GET /v1/usage/summary" in api.calls


def test_guideline_section_10_examples_run(api: Api) -> None:
    output = _run(GUIDELINE_SECTION_10)
    assert output.startswith("Hello!\nNeon lights.")
    assert "Balance: 42.5 USD" in output
    assert "Meganova API error" not in output and "Rate-limited" not in output
    assert api.calls.count("POST /v1/chat/completions") == 4
