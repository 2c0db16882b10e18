"""The deadline of one attempt, enforced on every socket operation of the pools we build ourselves.

httpcore applies `timeout` to each read, and reads its value once per phase (headers, body): a server
dripping a byte every second, or sending `100 Continue` forever, never trips it. So the send loops set
a deadline for each attempt of a non-streamed call (`attempt()`, a context variable: per thread, per
task), and our pools' network streams (`DeadlineBackend`, `AsyncDeadlineBackend`, put under each
httpcore pool by `install`) give every connect, read and write only the time left: past the deadline
they raise httpcore's own timeout errors, which httpx maps to `httpx.TimeoutException`s.

A user's own `http_client=` is never changed: with it, the send loops still check the deadline between
body pieces, but a dripped header phase is bounded only by httpx's per-read timeout.
"""

from __future__ import annotations

import contextvars
import ssl
import time
from typing import Any, Iterable, Mapping, Optional, Union

import httpcore
import httpx

_deadline: contextvars.ContextVar[Optional[float]] = contextvars.ContextVar("meganova_deadline", default=None)

attempt_deadline = _deadline
"""The deadline (a `time.monotonic()` value) of the attempt in progress in this thread or task, or None."""


def budget_of(request: httpx.Request) -> Optional[float]:
    """Seconds one attempt of `request` may take: the largest of its connect, read, write and pool
    timeouts, or None (no deadline) when its read timeout is None."""
    timeouts: Mapping[str, Optional[float]] = request.extensions.get("timeout") or {}
    if timeouts.get("read") is None:
        return None
    return max(value for value in timeouts.values() if value is not None)


def _left(timeout: Optional[float], error: type[Exception]) -> Optional[float]:
    """`timeout`, cut to the time left before the deadline; raises `error` when none is left."""
    deadline = _deadline.get()
    if deadline is not None:
        left = deadline - time.monotonic()
        if timeout is None or left < timeout:
            timeout = left
    if timeout is not None and timeout <= 0:
        raise error("The attempt's time is up.")  # a 0 timeout would make the socket non-blocking
    return timeout


class _Stream(httpcore.NetworkStream):
    __slots__ = ("_stream",)

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: Optional[float] = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: Optional[float] = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: Optional[str] = None, timeout: Optional[float] = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """A network backend whose streams keep to the attempt's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: Optional[float] = None,
        local_address: Optional[str] = None,
        socket_options: Optional[Iterable[Any]] = None,
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: Optional[float] = None, socket_options: Optional[Iterable[Any]] = None
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    __slots__ = ("_stream",)

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: Optional[float] = None) -> bytes:
        return await self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: Optional[float] = None) -> None:
        await self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: Optional[str] = None, timeout: Optional[float] = None
    ) -> httpcore.AsyncNetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    """An async network backend whose streams keep to the attempt's deadline."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: Optional[float] = None,
        local_address: Optional[str] = None,
        socket_options: Optional[Iterable[Any]] = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: Optional[float] = None, socket_options: Optional[Iterable[Any]] = None
    ) -> httpcore.AsyncNetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def install(shard: Union[httpx.HTTPTransport, httpx.AsyncHTTPTransport]) -> bool:
    """Put the deadline backend under the httpcore pool of one of our pool's shards (idempotent), as
    `_pool` builds it; False, changing nothing, where httpx/httpcore's insides differ (then only the
    between-pieces check of the body remains)."""
    pool = getattr(shard, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        return False
    if not isinstance(backend, (DeadlineBackend, AsyncDeadlineBackend)):
        wrap = DeadlineBackend if isinstance(shard, httpx.HTTPTransport) else AsyncDeadlineBackend
        pool._network_backend = wrap(backend)  # type: ignore[union-attr]
    return True
