"""Load and concurrency over real sockets against MockServer: one sync client shared by 32 threads
sending 5,000 requests, and one async client running 500 concurrent streams. Zero errors, every answer
checked, and the connections stay within what the design guarantees, whatever the scheduling:

- With N requests in flight, no shard of the pool (`_pool.py`) has more than ceil(N / 8) of them (the
  least busy shard takes the next request), and a shard opens a connection only when none of its own is
  idle: so it never holds more live connections than that. Counted on the client side (a network backend
  that counts the sockets it opens and closes), since the server sees a close only some time later.
- More connections may be opened over a run than that, but only to replace ones the client closed: an
  idle connection expires after 5 s (httpx's keep-alive expiry), which a busy machine can reach mid-run.

Figures are printed in the suite's closing lines; no timing is asserted."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, List, Tuple, Union

import httpcore
import pytest

from meganova import AsyncMegaNova, MegaNova
from meganova.custom.runtime.pool import SHARDS, AsyncShardedTransport, Balancer, ShardedTransport
from meganova.testing import MockServer

SUMMARY: List[str] = []
MODEL = "meganova-ai/manta-flash-1.0"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


class Sockets:
    """What a client's pool did with sockets: how many it opened and closed (all shards together)."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed = 0
        self._lock = threading.Lock()

    def count(self, opened: int = 0, closed: int = 0) -> None:
        with self._lock:
            self.opened += opened
            self.closed += closed

    @property
    def live(self) -> int:
        return self.opened - self.closed


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, sockets: Sockets) -> None:
        self._inner, self._sockets, self._closed = inner, sockets, False

    def read(self, max_bytes: int, timeout: Any = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: Any = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._sockets.count(closed=1)
        self._inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(*args, **kwargs), self._sockets)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream, sockets: Sockets) -> None:
        self._inner, self._sockets, self._closed = inner, sockets, False

    async def read(self, max_bytes: int, timeout: Any = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: Any = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._sockets.count(closed=1)
        await self._inner.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.start_tls(*args, **kwargs), self._sockets)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, sockets: Sockets) -> None:
        self._inner, self._sockets = inner, sockets

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(*args, **kwargs)
        self._sockets.count(opened=1)
        return _Stream(stream, self._sockets)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend, sockets: Sockets) -> None:
        self._inner, self._sockets = inner, sockets

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(*args, **kwargs)
        self._sockets.count(opened=1)
        return _AsyncStream(stream, self._sockets)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PeakBalancer(Balancer):
    """A `Balancer` that remembers the most requests one shard ever had in flight."""

    __slots__ = ("peak",)

    def __init__(self, shards: int) -> None:
        super().__init__(shards)
        self.peak = 0

    def acquire(self) -> int:
        index = super().acquire()
        with self._lock:
            self.peak = max(self.peak, self._busy[index])
        return index


def instrument(client: Union[MegaNova, AsyncMegaNova]) -> Tuple[Sockets, PeakBalancer]:
    """Counts the sockets of a new client's pool, and the peak of requests in flight per shard."""
    transport = client._http._transport
    sockets, balancer = Sockets(), PeakBalancer(SHARDS)
    if isinstance(transport, ShardedTransport):
        shards: List[Any] = transport._shards
        transport._balancer = balancer
        for shard in shards:
            shard._pool._network_backend = _Backend(shard._pool._network_backend, sockets)
    else:
        assert isinstance(transport, AsyncShardedTransport)
        shards = transport._current.shards
        transport._current.balancer = balancer
        for shard in shards:
            shard._pool._network_backend = _AsyncBackend(shard._pool._network_backend, sockets)
    return sockets, balancer


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
    sockets, balancer = instrument(client)
    threads_seen = set()

    def one(prompt: str) -> bool:
        threads_seen.add(threading.get_ident())
        resp = client.chat.create(model=MODEL, messages=[{"role": "user", "content": prompt}])
        return resp.choices[0].message["content"] == expected[prompt] and resp.request_id is not None

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(one, prompts))
    elapsed = time.perf_counter() - started
    live, expired = sockets.live, sockets.closed
    client.close()
    assert results.count(True) == 5000
    assert len(server.requests) == 5000
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 5000
    assert server.connections_accepted == sockets.opened  # every connection the server saw was this pool's
    # At most 32 requests in flight: at most ceil(32 / 8) = 4 on a shard, so at most 4 live connections
    # a shard, 32 in all; any other connection opened replaced one the client had closed (expired).
    assert 1 <= balancer.peak <= math.ceil(32 / SHARDS)
    assert 1 <= live <= SHARDS * balancer.peak <= 32
    assert sockets.opened <= 32 + expired
    SUMMARY.append(
        f"load sync: 5000 requests from 32 threads on one client, 0 errors, {server.connections_accepted} TCP "
        f"connections ({live} live at the end, {expired} closed on the way), at most {balancer.peak} "
        f"requests on a shard, {5000 / elapsed:.0f} req/s (client and server share this process)"
    )


def test_one_async_client_500_concurrent_streams(server: MockServer) -> None:
    prompt = "Tell me about Neon Harbor tonight."
    expected = expected_reply(server, prompt)
    server.reset()
    counted: List[Any] = []

    async def main() -> List[str]:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url, max_retries=0, timeout=60) as client:
            counted.extend(instrument(client))

            async def one() -> str:
                stream = await client.chat.stream(model=MODEL, messages=[{"role": "user", "content": prompt}])
                chunks = [chunk async for chunk in stream]
                assert chunks[-1].done and stream.usage is not None  # the usage said once, on its own chunk
                assert [chunk.usage for chunk in chunks if chunk.usage is not None] == [stream.usage]
                return "".join(chunk.delta for chunk in chunks)

            return await asyncio.gather(*(one() for _ in range(500)))

    started = time.perf_counter()
    texts = asyncio.run(main())
    elapsed = time.perf_counter() - started
    assert texts == [expected] * 500
    sockets, balancer = counted
    assert server.connections_accepted == sockets.opened <= 500  # a stream at a time on each connection
    assert balancer.peak <= math.ceil(500 / SHARDS)
    SUMMARY.append(
        f"load async: 500 concurrent streams on one client, 0 errors, {server.connections_accepted} TCP "
        f"connections, {500 / elapsed:.0f} streams/s"
    )


def test_streams_read_to_the_end_reuse_one_connection(server: MockServer) -> None:
    """500 streams in a row, sync then async: each one returns its connection to the pool."""
    server.reset()
    messages = [{"role": "user", "content": "Hi"}]
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        sync_sockets, sync_balancer = instrument(client)
        for _ in range(250):
            assert list(client.chat.stream(model=MODEL, messages=messages))[-1].done
        sync_live = sync_sockets.live
    counted: List[Any] = []

    async def main() -> None:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as aclient:
            counted.extend(instrument(aclient))
            for _ in range(250):
                stream = await aclient.chat.stream(model=MODEL, messages=messages)
                assert [chunk async for chunk in stream][-1].done
            counted.append(counted[0].live)

    asyncio.run(main())
    async_sockets, async_balancer, async_live = counted
    # One request at a time: always the first shard, one live connection, reused; another one is opened
    # only after the client closed it (it idled past the keep-alive expiry: a stalled machine).
    assert (sync_balancer.peak, async_balancer.peak) == (1, 1)
    assert (sync_live, async_live) == (1, 1)  # opened == 1 + closed, before the client closed it
    assert server.connections_accepted == sync_sockets.opened + async_sockets.opened
    SUMMARY.append(
        f"load sequential streams: 250 sync + 250 async streams on {sync_sockets.opened} and "
        f"{async_sockets.opened} TCP connection(s)"
    )
