"""The API key never appears in a repr, on every object a user can reach: clients (also after `raw` was
used, and through `vars()`), the raw client, options, streams of both shapes, answers, `APIResponse`s,
errors, Studio agents. Over real HTTP against MockServer."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator, List

import pytest

from meganova import AsyncMegaNova, MegaNova
from meganova.cloud import CloudAgent
from meganova.errors import MeganovaError
from meganova.testing import AGENT_KEY, MockServer

KEY = "sk-secret-7b3e9f1a2c4d5e6f"
MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY, chat_models=None) as running:
        yield running


def shown(objects: List[Any]) -> str:
    parts = []
    for obj in objects:
        parts.append(repr(obj))
        parts.append(str(obj))
        if hasattr(obj, "__dict__"):
            parts.append(repr(vars(obj)))
    return "\n".join(parts)


def test_no_repr_shows_the_key(server: MockServer) -> None:
    client = MegaNova(api_key=KEY, base_url=server.url)
    raw = client.raw  # once `raw` was used, vars(client) holds it
    answer = client.chat.create(model="m", messages=MESSAGES)
    stream = client.chat.stream(model="m", messages=MESSAGES)
    chunks = list(stream)
    openai_stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    events = list(openai_stream)
    raw_answer = client.models.with_raw_response.list()
    try:
        client.models.get("meganova-ai/no-such-model")
    except MeganovaError as exc:
        error: Any = exc
    bad = MegaNova(api_key="sk-wrong-key-000000", base_url=server.url, max_retries=0)
    try:
        bad.billing.get_balance()
    except MeganovaError as exc:
        auth_error: Any = exc
    agent = CloudAgent(AGENT_KEY, base_url=server.root_url)
    everything = [
        client,
        raw,
        client._options,
        client.with_options(timeout=5),
        answer,
        stream,
        chunks[0],
        chunks[-1],
        openai_stream,
        events[0],
        raw_answer,
        raw_answer.parse(),
        error,
        agent,
        agent.chat("Hello!"),
    ]
    text = shown(everything)
    assert KEY not in text
    assert AGENT_KEY not in shown([agent, agent._client, agent._client._options])
    assert "sk-wrong-key-000000" not in shown([bad, auth_error])
    client.close()


def test_no_repr_of_the_async_client_shows_the_key(server: MockServer) -> None:
    async def main() -> str:
        async with AsyncMegaNova(api_key=KEY, base_url=server.url) as client:
            raw = client.raw
            stream = await client.chat.stream(model="m", messages=MESSAGES)
            chunks = [chunk async for chunk in stream]
            return shown([client, raw, client._options, stream, chunks[0]])

    assert KEY not in asyncio.run(main())
