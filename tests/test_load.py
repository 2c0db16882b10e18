"""Load and concurrency over real sockets against MockServer: one sync client shared by 32 threads
sending 5,000 requests, and one async client running 500 concurrent streams. Zero errors, every answer
checked, and the TCP connections the server accepted stay within what the concurrency needs (the pool
reuses them). Figures are printed in the suite's closing lines; no timing is asserted."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List

import pytest

from meganova import AsyncMegaNova, MegaNova
from meganova.testing import MockServer

SUMMARY: List[str] = []
MODEL = "meganova-ai/manta-flash-1.0"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def expected_reply(server: MockServer, text: str) -> str:
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        return str(
            client.chat.create(model=MODEL, messages=[{"role": "user", "content": text}]).choices[0].message.content
        )


def test_one_sync_client_shared_by_32_threads(server: MockServer) -> None:
    prompts = [f"Request number {i % 50}" for i in range(5000)]
    expected = {p: expected_reply(server, p) for p in set(prompts)}
    server.reset()
    client = MegaNova(api_key=server.api_key, base_url=server.url, max_retries=0)
    threads_seen = set()

    def one(prompt: str) -> bool:
        threads_seen.add(threading.get_ident())
        resp = client.chat.create(model=MODEL, messages=[{"role": "user", "content": prompt}])
        return resp.choices[0].message["content"] == expected[prompt] and resp.request_id is not None

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(one, prompts))
    elapsed = time.perf_counter() - started
    client.close()
    assert results.count(True) == 5000
    assert len(server.requests) == 5000
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 5000
    assert 1 <= server.connections_accepted <= 32  # at most one per thread: the pool reuses them
    SUMMARY.append(
        f"load sync: 5000 requests from 32 threads on one client, 0 errors, {server.connections_accepted} TCP "
        f"connections, {5000 / elapsed:.0f} req/s (client and server share this process)"
    )


def test_one_async_client_500_concurrent_streams(server: MockServer) -> None:
    prompt = "Tell me about Neon Harbor tonight."
    expected = expected_reply(server, prompt)
    server.reset()

    async def main() -> List[str]:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url, max_retries=0, timeout=60) as client:

            async def one() -> str:
                stream = await client.chat.stream(model=MODEL, messages=[{"role": "user", "content": prompt}])
                chunks = [chunk async for chunk in stream]
                assert chunks[-1].done and chunks[-1].usage is not None
                return "".join(chunk.delta for chunk in chunks)

            return await asyncio.gather(*(one() for _ in range(500)))

    started = time.perf_counter()
    texts = asyncio.run(main())
    elapsed = time.perf_counter() - started
    assert texts == [expected] * 500
    assert server.connections_accepted <= 500
    SUMMARY.append(
        f"load async: 500 concurrent streams on one client, 0 errors, {server.connections_accepted} TCP "
        f"connections, {500 / elapsed:.0f} streams/s"
    )


def test_streams_read_to_the_end_reuse_one_connection(server: MockServer) -> None:
    """500 streams in a row, sync then async: each one returns its connection to the pool."""
    server.reset()
    messages = [{"role": "user", "content": "Hi"}]
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        for _ in range(250):
            assert list(client.chat.stream(model=MODEL, messages=messages))[-1].done
    sync_connections = server.connections_accepted

    async def main() -> None:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as aclient:
            for _ in range(250):
                stream = await aclient.chat.stream(model=MODEL, messages=messages)
                assert [chunk async for chunk in stream][-1].done

    asyncio.run(main())
    assert (sync_connections, server.connections_accepted) == (1, 2)
    SUMMARY.append("load sequential streams: 250 sync + 250 async streams on 1 TCP connection each")
