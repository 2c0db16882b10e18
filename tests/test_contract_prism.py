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
    assert violations.answers == 7
    assert violations.found == []
    SUMMARY.append(f"contract (Prism, sync): {violations.answers} calls, {len(violations.found)} spec violations")


def test_async_client_agrees_with_the_spec(prism: str) -> None:
    violations = Violations()

    async def run() -> List[Any]:
        http = httpx.AsyncClient(event_hooks={"response": [violations.ahook]})
        async with AsyncMegaNova(api_key="sk-contract", base_url=prism, http_client=http, max_retries=0) as client:
            return await _exercise_async(client)

    _check(asyncio.run(run()))
    assert violations.answers == 7
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
