"""The connection pool of the clients we build ourselves: several small httpcore pools, not one big one.

httpcore 1.0's pool scans all its connections, several times, each time a request starts or ends
(`_assign_requests_to_connections`), and polls each idle socket while at it: with 64 requests in flight
that is thousands of calls per request, and it, not the network, bounds throughput. Spread over `SHARDS`
pools, each scan is short. A request goes to the pool with the fewest requests in flight, the first one
on ties, so one request at a time always reuses the same connection.

A user's own `http_client=` is used as given, never wrapped.
"""

from __future__ import annotations

import ssl
import threading
from typing import AsyncIterator, Iterator, List, Union

import httpx

SHARDS = 8


class Balancer:
    """Which shard takes the next request: the least busy, the first on ties. Thread-safe, no I/O."""

    __slots__ = ("_busy", "_lock")

    def __init__(self, shards: int) -> None:
        self._busy: List[int] = [0] * shards
        self._lock = threading.Lock()

    def acquire(self) -> int:
        """The shard for a request starting now."""
        with self._lock:
            busy = self._busy
            index = busy.index(min(busy))
            busy[index] += 1
            return index

    def release(self, index: int) -> None:
        """The request on `index` is over (its answer was read or closed, or it failed)."""
        with self._lock:
            self._busy[index] -= 1


def _limits(limits: httpx.Limits, shards: int) -> httpx.Limits:
    per_shard = max(1, (limits.max_connections or 1000) // shards)
    keepalive = max(1, ((limits.max_keepalive_connections or 100) * 2) // shards)
    return httpx.Limits(max_connections=per_shard, max_keepalive_connections=keepalive)


class _Released:
    """Releases a shard once, when the answer's body is closed."""

    __slots__ = ("_balancer", "_index")

    def __init__(self, balancer: Balancer, index: int) -> None:
        self._balancer = balancer
        self._index = index

    def __call__(self) -> None:
        if self._index >= 0:
            self._balancer.release(self._index)
            self._index = -1


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, release: _Released) -> None:
        self._stream = stream
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._release()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, release: _Released) -> None:
        self._stream = stream
        self._release = release

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()


class ShardedTransport(httpx.BaseTransport):
    """`SHARDS` `httpx.HTTPTransport`s behind one transport."""

    def __init__(self, *, verify: Union[ssl.SSLContext, bool], limits: httpx.Limits, shards: int = SHARDS) -> None:
        self._shards = [httpx.HTTPTransport(verify=verify, limits=_limits(limits, shards)) for _ in range(shards)]
        self._balancer = Balancer(shards)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        release = _Released(self._balancer, self._balancer.acquire())
        try:
            response = self._shards[release._index].handle_request(request)
        except BaseException:
            release()
            raise
        response.stream = _SyncBody(response.stream, release)  # type: ignore[arg-type]
        return response

    def close(self) -> None:
        for shard in self._shards:
            shard.close()


class AsyncShardedTransport(httpx.AsyncBaseTransport):
    """`SHARDS` `httpx.AsyncHTTPTransport`s behind one transport."""

    def __init__(self, *, verify: Union[ssl.SSLContext, bool], limits: httpx.Limits, shards: int = SHARDS) -> None:
        self._shards = [httpx.AsyncHTTPTransport(verify=verify, limits=_limits(limits, shards)) for _ in range(shards)]
        self._balancer = Balancer(shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        release = _Released(self._balancer, self._balancer.acquire())
        try:
            response = await self._shards[release._index].handle_async_request(request)
        except BaseException:
            release()
            raise
        response.stream = _AsyncBody(response.stream, release)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()
