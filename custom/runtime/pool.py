"""The connection pool of the clients we build ourselves: several small httpcore pools, not one big one.

httpcore 1.0's pool scans all its connections, several times, each time a request starts or ends
(`_assign_requests_to_connections`), and polls each idle socket while at it: with 64 requests in flight
that is thousands of calls per request, and it, not the network, bounds throughput. Spread over `SHARDS`
pools, each scan is short. A request goes to the pool with the fewest requests in flight, the first one
on ties, so one request at a time always reuses the same connection.

What holds, and why:
- Limits: the configured totals are split exactly over the shards (1000 connections, 100 kept alive:
  125 and 13/12 per shard), so the whole pool never holds more than the totals.
- With N requests in flight, no shard has more than ceil(N / SHARDS) of them (least busy first), and a
  shard opens a connection only when none of its own is idle: it never holds more live connections than
  the most requests it has had in flight at once. An idle connection is closed after 5 s (httpx's
  keep-alive expiry) and a later request on that shard opens a new one.
- Proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`) are honoured as
  httpx honours them (`environment_mounts`): httpx reads them only when no `transport=` is given.
- After `os.fork()` the child forgets the connections it inherited (never closing them: they are the
  parent's too), and starts with empty pools.
- An async pool belongs to the event loop its connections were made in: under another running loop (a
  second `asyncio.run()`) the transport uses another pool, and forgets the ones of closed loops.
- No cookie is ever kept (`NoCookies`): an API client gains nothing from them.
- Connection integrity: bytes left on a connection after the end of an answer close that connection
  (`close_if_trailing`); no call ever reads another call's answer.

A user's own `http_client=` is used as given, never wrapped.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import ssl
import threading
import weakref
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple, TypeVar, Union

import httpx
from httpx._transports.default import map_httpcore_exceptions  # present in every httpx 0.23 to 0.29
from httpx._utils import get_environment_proxies  # present in every httpx 0.23 to 0.29

from .chunked import READ_BYTES, ChunkedBody, source_of
from .errors import MeganovaError

SHARDS = 8
Verify = Union[ssl.SSLContext, bool]


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


def _limits(limits: httpx.Limits, shards: int) -> List[httpx.Limits]:
    """Each shard's limits: the totals split exactly (the first shards take the remainder)."""

    def split(total: int) -> List[int]:
        return [max(1, total // shards + (1 if i < total % shards else 0)) for i in range(shards)]

    connections = split(limits.max_connections or 1000)
    keepalive = split(limits.max_keepalive_connections or 100)
    return [
        httpx.Limits(max_connections=c, max_keepalive_connections=k, keepalive_expiry=limits.keepalive_expiry)
        for c, k in zip(connections, keepalive)
    ]


class _Released:
    """Releases a shard once: when the answer's body is closed, or its reading or the request failed."""

    __slots__ = ("_balancer", "_index")

    def __init__(self, balancer: Balancer, index: int) -> None:
        self._balancer = balancer
        self._index = index

    def __call__(self) -> None:
        index, self._index = self._index, -1
        if index >= 0:
            self._balancer.release(index)


def _h11_of(stream: Any) -> Any:
    """The h11 state machine of the connection an answer's body is read from (httpx's ResponseStream ->
    httpcore's PoolByteStream -> HTTP11ConnectionByteStream -> HTTP11Connection), or None elsewhere
    (HTTP/2, other insides)."""
    inner = getattr(getattr(stream, "_httpcore_stream", None), "_stream", None)
    return getattr(getattr(inner, "_connection", None), "_h11_state", None)


def close_if_trailing(stream: Any) -> bool:
    """At the end of a body read whole: when bytes follow the end of the answer on its connection (a
    proxy that wrote the answer twice, a Content-Length shorter than what was sent), marks the
    connection broken so that httpcore closes it instead of reusing it: the next call never reads those
    bytes as its own answer. True when it did. (Bytes that arrive later are caught by httpcore itself:
    it drops an idle connection that has become readable.)"""
    h11 = _h11_of(stream)
    try:
        if h11 is None or not h11.trailing_data[0]:
            return False
        h11.send_failed()  # our_state ERROR: httpcore's _response_closed then closes the connection
    except AttributeError:  # another h11
        return False
    return True


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, release: _Released) -> None:
        self._stream = stream
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        # httpcore closes its side itself when reading fails (an interrupt, a reset): release ours too,
        # whether or not the caller closes the answer afterwards.
        try:
            source = source_of(self._stream)
            if source is not None:  # a chunked body: its data read here (`chunked.py`), its end by h11
                body = ChunkedBody()
                piece = body.feed(source.buffered())
                while True:
                    if piece:
                        yield piece
                    if body.done:
                        break
                    with map_httpcore_exceptions():
                        data = source.network.read(READ_BYTES, source.timeout)
                    if not data:
                        raise body.truncated()
                    piece = body.feed(data)
                source.finish(body)
            yield from self._stream
        except BaseException:
            try:
                self._stream.close()  # not reused: closed mid-body
            finally:
                self._release()
            raise
        close_if_trailing(self._stream)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._release()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, release: _Released) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # A cancellation mid-body: httpcore closes its side itself, and the answer may never be closed.
        try:
            source = source_of(self._stream)
            if source is not None:  # as in _SyncBody
                body = ChunkedBody()
                piece = body.feed(source.buffered())
                while True:
                    if piece:
                        yield piece
                    if body.done:
                        break
                    with map_httpcore_exceptions():
                        data = await source.network.read(READ_BYTES, source.timeout)
                    if not data:
                        raise body.truncated()
                    piece = body.feed(data)
                source.finish(body)
            async for chunk in self._stream:
                yield chunk
        except BaseException:
            try:
                await self._stream.aclose()  # not reused: closed mid-body
            finally:
                self._release()
            raise
        close_if_trailing(self._stream)

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()


# --- the shards ---------------------------------------------------------------------------------

ShardT = TypeVar("ShardT", httpx.HTTPTransport, httpx.AsyncHTTPTransport)


def _new_shards(
    kind: Callable[..., ShardT], verify: Verify, limits: httpx.Limits, proxy: Optional[str], shards: int
) -> Tuple[List[ShardT], Balancer]:
    extra: Dict[str, Any] = {} if proxy is None else {"proxy": httpx.Proxy(url=proxy)}
    from .deadline_backend import install  # imports httpcore: when the first pool is built

    pools = [kind(verify=verify, limits=each, **extra) for each in _limits(limits, shards)]
    for pool in pools:
        install(pool)  # each connect, read and write gets only the attempt's time left
    return pools, Balancer(shards)


_live: weakref.WeakSet[Union[ShardedTransport, AsyncShardedTransport]] = weakref.WeakSet()
"""Every transport of ours alive in this process: the child of a fork resets them all."""


def _after_fork_in_child() -> None:
    for transport in list(_live):
        transport._forget_inherited()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)


class ShardedTransport(httpx.BaseTransport):
    """`SHARDS` `httpx.HTTPTransport`s behind one transport (all through `proxy`, when given)."""

    def __init__(
        self, *, verify: Verify, limits: httpx.Limits, proxy: Optional[str] = None, shards: int = SHARDS
    ) -> None:
        self._config = (verify, limits, proxy, shards)
        self._shards, self._balancer = _new_shards(httpx.HTTPTransport, *self._config)
        _live.add(self)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        balancer = self._balancer
        release = _Released(balancer, balancer.acquire())
        try:
            response = self._shards[release._index].handle_request(request)
            response.stream = _SyncBody(response.stream, release)  # type: ignore[arg-type]
        except BaseException:
            release()
            raise
        return response

    def _forget_inherited(self) -> None:
        """In a forked child: new, empty pools. The inherited ones are dropped, never closed (closing
        would shut connections the parent still uses); the child's copies of their sockets go with them."""
        self._shards, self._balancer = _new_shards(httpx.HTTPTransport, *self._config)

    def close(self) -> None:
        for shard in self._shards:
            shard.close()


_UNCLAIMED = object()
"""The loop of a pool no request has used yet."""


class _LoopPools:
    """The shards of one event loop, and their balancer."""

    __slots__ = ("balancer", "loop", "shards")

    def __init__(self, loop: object, config: Tuple[Any, ...]) -> None:
        self.loop = loop
        self.shards, self.balancer = _new_shards(httpx.AsyncHTTPTransport, *config)


def _running_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # another async library (trio): one pool
        return None


class AsyncShardedTransport(httpx.AsyncBaseTransport):
    """`SHARDS` `httpx.AsyncHTTPTransport`s behind one transport, per event loop (all through `proxy`,
    when given).

    Connections belong to the loop they were made in: a client built at import time and used under two
    `asyncio.run()` calls gets a fresh pool in the second loop; the pools of closed loops are dropped
    without being awaited (their loop cannot run anything any more)."""

    def __init__(
        self, *, verify: Verify, limits: httpx.Limits, proxy: Optional[str] = None, shards: int = SHARDS
    ) -> None:
        self._config = (verify, limits, proxy, shards)
        self._lock = threading.Lock()
        self._current = _LoopPools(_UNCLAIMED, self._config)
        self._pools: Dict[Optional[asyncio.AbstractEventLoop], _LoopPools] = {}
        _live.add(self)

    @property
    def _balancer(self) -> Balancer:
        """The balancer of the pool used last (for tests and diagnostics)."""
        return self._current.balancer

    def _pools_for(self, loop: Optional[asyncio.AbstractEventLoop]) -> _LoopPools:
        """The pool of `loop` (rare: the first request, or the running loop changed)."""
        with self._lock:
            for known in [known for known in self._pools if known is not None and known.is_closed()]:
                del self._pools[known]  # dropped, not closed: their loop is gone
            pools = self._pools.get(loop)
            if pools is None:
                pools = self._current if self._current.loop is _UNCLAIMED else _LoopPools(loop, self._config)
                pools.loop = loop
                self._pools[loop] = pools
            self._current = pools
            return pools

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = _running_loop()
        pools = self._current
        if pools.loop is not loop:
            pools = self._pools_for(loop)
        balancer = pools.balancer
        release = _Released(balancer, balancer.acquire())
        try:
            response = await pools.shards[release._index].handle_async_request(request)
            response.stream = _AsyncBody(response.stream, release)  # type: ignore[arg-type]
        except BaseException:
            release()
            raise
        return response

    def _forget_inherited(self) -> None:
        """In a forked child: no pool at all; the next request makes a new one (see ShardedTransport)."""
        self._lock = threading.Lock()
        self._current = _LoopPools(_UNCLAIMED, self._config)
        self._pools = {}

    async def aclose(self) -> None:
        """Closes the pool of the running loop; the others are dropped (their loops may be gone)."""
        with self._lock:
            pools, self._pools = self._pools, {}
        mine = pools.get(_running_loop())
        if mine is not None:
            for shard in mine.shards:
                await shard.aclose()


# --- what the clients we build are given ----------------------------------------------------------


def environment_mounts(
    kind: Callable[..., Union[ShardedTransport, AsyncShardedTransport]], verify: Verify, limits: httpx.Limits
) -> Dict[str, Any]:
    """`mounts=` for the proxies of the environment, read as httpx reads them when it builds its own
    transport: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` (and their lowercase forms); the hosts of
    `NO_PROXY` map to None (direct: our own transport). Empty without proxies."""
    mounts: Dict[str, Any] = {}
    for pattern, url in get_environment_proxies().items():
        if url is None:
            mounts[pattern] = None
            continue
        try:
            mounts[pattern] = kind(verify=verify, limits=limits, proxy=url)
        except (ValueError, ImportError, TypeError) as exc:
            scheme = url.split("://", 1)[0]  # never the whole URL: it may hold a password
            raise MeganovaError(
                f"The proxy set in the environment for {pattern!r} URLs ({scheme}://...) cannot be used: "
                f"{type(exc).__name__}. Use an http:// or https:// proxy (socks5:// needs `pip install "
                f"httpx[socks]`), or list the API's host in NO_PROXY."
            ) from None
    return mounts


class NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing: `Set-Cookie` answers are ignored, no `Cookie` header is sent."""

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        pass

    def extract_cookies(self, response: Any, request: Any) -> None:
        pass

    def set_cookie_if_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> None:
        pass

    def make_cookies(self, response: Any, request: Any) -> List[http.cookiejar.Cookie]:
        return []
