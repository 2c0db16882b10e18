"""Every Python example of the README runs as written against the local server (`MockServer`), each block
on its own and all of them top to bottom; every program of examples/ runs in a subprocess against it,
configured by the environment only; the guideline's section 10 runs against an in-process API on
`httpx.MockTransport` (its `manta-flash` alias is not a model id the local server knows)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, List

import httpx
import pytest

from meganova.testing import AGENT_KEY, MockServer

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
    from meganova.custom.runtime.pool import AsyncShardedTransport, ShardedTransport

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
        exec(compile(code, "<example>", "exec", dont_inherit=True), {"__name__": "__example__"})
    return out.getvalue()


def readme_blocks() -> List[str]:
    """Every Python example of the README, in order."""
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def _is_pytest_example(block: str) -> bool:
    return "def test_" in block


@pytest.fixture
def local_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MockServer]:
    """A MockServer that takes the README's placeholder keys, the environment pointing at it (as a reader
    set up for the local server has it), and a scratch working directory for the files examples write."""
    with MockServer(api_key="YOUR_API_KEY", agent_keys=("agent_YOUR_KEY",)) as server:
        monkeypatch.setenv("MEGANOVA_API_KEY", "YOUR_API_KEY")
        monkeypatch.setenv("MEGANOVA_BASE_URL", server.url)
        monkeypatch.setenv("MEGANOVA_STUDIO_BASE_URL", server.root_url)
        monkeypatch.chdir(tmp_path)
        yield server


@pytest.mark.skipif(not README.exists(), reason="README.md is beside the tests only in a source checkout")
def test_every_readme_example_runs_on_its_own(local_api: MockServer) -> None:
    """Each block runs as written in a fresh namespace: none needs a client from an earlier one."""
    blocks = [block for block in readme_blocks() if not _is_pytest_example(block)]
    assert len(blocks) >= 10
    outputs = []
    for number, block in enumerate(blocks):
        try:
            outputs.append(_run(block))
        except Exception as problem:  # pragma: no cover - the failure message names the block
            raise AssertionError(f"README example {number} fails on its own:\n{block}") from problem
    output = "\n".join(outputs)
    paths = {request.path for request in local_api.requests}
    assert "/v1/chat/completions" in paths and "/v1/usage/summary" in paths and "/v1/billing/balance" in paths
    assert "meganova-ai/manta-flash-1.0 ['text'] 32768" in output
    assert "Balance: 42.5 USD" in output
    assert "MegaNova error" not in output and "Rate-limited" not in output
    assert (Path.cwd() / "lantern.png").read_bytes()[:4] == b"\x89PNG"
    assert "completed https://" in output
    for path in ("/v1/embeddings", "/v1/images/generations", "/v1/audio/speech", "/v1/audio/transcriptions"):
        assert path in paths
    for path in ("/v1/rerank", "/v1/videos/generations", "/api/v1/serverless/models/filter", "/v1/usage/time_range"):
        assert path in paths
    assert "/agents/v1/agent_YOUR_KEY/confirm-tool" in paths


@pytest.mark.skipif(not README.exists(), reason="README.md is beside the tests only in a source checkout")
def test_readme_examples_run_top_to_bottom(local_api: MockServer) -> None:
    """All the blocks in one namespace, in order, as a reader pasting them one after another runs them."""
    blocks = [block for block in readme_blocks() if not _is_pytest_example(block)]
    output = _run("\n".join(blocks))
    assert "Balance: 42.5 USD" in output and "completed https://" in output


@pytest.mark.skipif(not README.exists(), reason="README.md is beside the tests only in a source checkout")
def test_readme_mockserver_example_runs() -> None:
    (block,) = [b for b in readme_blocks() if _is_pytest_example(b)]
    namespace: dict = {"__name__": "__example__"}
    exec(compile(block, "<README MockServer example>", "exec"), namespace)
    tests = [name for name in namespace if name.startswith("test_")]
    assert len(tests) == 2
    for name in tests:
        with MockServer() as server:
            namespace[name](server)


EXAMPLES = README.parent / "examples"
EXAMPLE_PROGRAMS = {
    # program: what its output must show (a line fragment each)
    "chat.py": ["tokens, finish_reason stop, req_", "Luna: Hello! I am Luna.", 'Luna: You told me earlier: "Where'],
    "streaming.py": ['You said "Tell me about Neon Harbor tonight."', 'You said "One word for the harbor?"'],
    "models.py": ["meganova-ai/manta-flash-1.0 32768 ['text']", "Manta Flash 1.0", "not found: 404 model_not_found"],
    "embeddings.py": ["2 vectors of 8 numbers; cosine similarity 0."],
    "images.py": ["saved lantern.png ("],
    "audio.py": ["tts: ", "bytes of WAV", "saved ", "transcribed: "],
    "rerank.py": ["1.000  the noodle stand on Pier Nine"],
    "videos.py": ["completed https://", "looked up: vgen_"],
    "serverless.py": ["5 text models:", "popular:"],
    "usage.py": ["requests,", "meganova-ai/manta-flash-1.0:"],
    "billing.py": ["balance: 42.5 USD active", "total: 25.575"],
    "studio_agent.py": ["Luna - ", "the agent asks to run book_table", "is booked"],
    "tool_round_trip.py": [
        "the model calls get_weather({'city': 'Paris', 'unit': 'celsius'})",
        "answer: get_weather says: Sunny and 21 degrees celsius in Paris",
    ],
    "structured_output.py": ["['age', 'favourite_dishes', 'mood', 'name'] cheerful"],
    "character_chat.py": [
        "Luna: *Luna looks up from the steam.* Evening, Ana. Hungry?",
        "Ana: When does the market close? The tide is turning.",
        "(the session 'ana' holds 5 messages)",
    ],
}


def test_every_example_program_is_tested() -> None:
    if not EXAMPLES.exists():
        pytest.skip("examples/ is beside the tests only in a source checkout")
    programs = {path.name for path in EXAMPLES.glob("*.py")} - {"demo.py"}
    assert programs == set(EXAMPLE_PROGRAMS)


@pytest.fixture(scope="module")
def example_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.mark.skipif(not EXAMPLES.exists(), reason="examples/ is beside the tests only in a source checkout")
@pytest.mark.parametrize("program", sorted(EXAMPLE_PROGRAMS))
def test_example_program_runs_against_the_local_server(
    program: str, example_server: MockServer, tmp_path: Path
) -> None:
    """Each program in a subprocess, configured only by the environment, as a user runs it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MEGANOVA_")}
    env.update(
        MEGANOVA_API_KEY=str(example_server.api_key),
        MEGANOVA_BASE_URL=example_server.url,
        MEGANOVA_AGENT_KEY=AGENT_KEY,
        MEGANOVA_STUDIO_BASE_URL=example_server.root_url,
    )
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / program)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not result.stderr, result.stderr
    for fragment in EXAMPLE_PROGRAMS[program]:
        assert fragment in result.stdout, f"{program} printed:\n{result.stdout}"


def test_guideline_section_10_examples_run(api: Api) -> None:
    output = _run(GUIDELINE_SECTION_10)
    assert output.startswith("Hello!\nNeon lights.")
    assert "Balance: 42.5 USD" in output
    assert "Meganova API error" not in output and "Rate-limited" not in output
    assert api.calls.count("POST /v1/chat/completions") == 4
