"""A hostile world, over real sockets on loopback, for the clients we build ourselves (sync and async):
proxies from the environment (plain forwarding and CONNECT tunnels), certificates named by SSL_CERT_FILE
after the first client, fork, cookies, cancellation mid-body, two event loops, the pool's limits."""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import random
import time
import warnings
from pathlib import Path
from typing import Any, Iterator, List

import httpx
import pytest
from net_servers import MODEL, CertAuthority, ChatServer, ForwardingProxy

from meganova import AsyncMegaNova, MegaNova
from meganova.custom.runtime.options import DEFAULT_LIMITS
from meganova.custom.runtime.pool import SHARDS, AsyncShardedTransport, ShardedTransport
from meganova.errors import APIConnectionError
from meganova.testing import MockServer

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")
HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """A hang fails the run (with every thread's traceback) instead of stalling CI."""
    faulthandler.dump_traceback_later(300, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def proxy() -> Iterator[ForwardingProxy]:
    running = ForwardingProxy()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertAuthority:
    return CertAuthority(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def tls_server(ca: CertAuthority) -> Iterator[ChatServer]:
    running = ChatServer(tls=ca.server_context(), content="Hello over TLS.")
    yield running
    running.stop()


def run_calls(flavour: str, base_url: str, calls: int = 3, api_key: str = "test", **kwargs: Any) -> List[str]:
    """`calls` chat completions and one stream (MockServer only streams) on a new client of `flavour`."""
    stream = kwargs.pop("stream", True)
    if flavour == "sync":
        with MegaNova(api_key=api_key, base_url=base_url, max_retries=0, **kwargs) as client:
            texts = [str(client.chat.create(model=MODEL, messages=HI).choices[0].message.content) for _ in range(calls)]
            if stream:
                texts.append("".join(chunk.delta for chunk in client.chat.stream(model=MODEL, messages=HI)))
            return texts

    async def main() -> List[str]:
        async with AsyncMegaNova(api_key=api_key, base_url=base_url, max_retries=0, **kwargs) as client:
            texts = []
            for _ in range(calls):
                texts.append(str((await client.chat.create(model=MODEL, messages=HI)).choices[0].message.content))
            if stream:
                chunks = [chunk async for chunk in await client.chat.stream(model=MODEL, messages=HI)]
                texts.append("".join(chunk.delta for chunk in chunks))
            return texts

    return asyncio.run(asyncio.wait_for(main(), 120))


# --- 8a: proxies from the environment --------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_http_proxy_from_the_environment_and_no_proxy(
    flavour: str, server: MockServer, proxy: ForwardingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = run_calls(flavour, server.url)  # direct
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.com,10.0.0.1")  # other hosts: still proxied
    assert run_calls(flavour, server.url) == expected
    assert len(proxy.forwarded) == 4  # 3 calls and a stream, each through the proxy
    assert all(line.startswith(f"POST {server.url}/chat/completions") for line in proxy.forwarded)
    with httpx.Client() as plain:  # httpx, with the same environment, agrees
        assert plain.get(f"{server.url}/models", headers={"Authorization": "Bearer test"}).status_code == 200
    assert len(proxy.forwarded) == 5

    monkeypatch.setenv("NO_PROXY", "example.com,127.0.0.1")
    assert run_calls(flavour, server.url) == expected
    monkeypatch.setenv("no_proxy", "*")  # the lowercase form wins, as in urllib and httpx
    assert run_calls(flavour, server.url) == expected
    assert len(proxy.forwarded) == 5  # nothing more went through the proxy


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "ALL_PROXY"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_https_through_a_connect_tunnel(
    flavour: str,
    variable: str,
    tls_server: ChatServer,
    proxy: ForwardingProxy,
    ca: CertAuthority,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca))
    texts = run_calls(flavour, tls_server.base_url("https"), stream=False)
    assert texts == ["Hello over TLS."] * 3
    assert proxy.tunnels and set(proxy.tunnels) == {f"127.0.0.1:{tls_server.port}"}
    assert proxy.forwarded == []  # a tunnel, not a forwarded request: the proxy never saw the traffic
    assert len(tls_server.seen) == 3


def test_an_unusable_proxy_is_a_meganova_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from meganova.errors import MeganovaError

    monkeypatch.setenv("HTTPS_PROXY", "ftp://user:secret-password@proxy.example:21")
    with pytest.raises(MeganovaError) as caught:
        MegaNova(api_key="test", base_url="https://api.example/v1")
    assert "secret-password" not in str(caught.value) and "ftp://" in str(caught.value)


# --- 8b: SSL_CERT_FILE set after the first HTTPS client ---------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_ssl_cert_file_set_after_the_first_https_client(
    flavour: str, tls_server: ChatServer, ca: CertAuthority, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = CertAuthority(tmp_path, name="another CA")  # CA A: does not sign the server
    monkeypatch.setenv("SSL_CERT_FILE", str(other.ca))
    with pytest.raises(APIConnectionError):
        run_calls(flavour, tls_server.base_url("https"), calls=1, stream=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca))
    assert run_calls(flavour, tls_server.base_url("https"), calls=2, stream=False) == ["Hello over TLS."] * 2
    monkeypatch.delenv("SSL_CERT_FILE")  # back to certifi's bundle: the test CA is not trusted any more
    with pytest.raises(APIConnectionError):
        run_calls(flavour, tls_server.base_url("https"), calls=1, stream=False)


# --- 8c: fork ------------------------------------------------------------------------------------


def test_a_forked_child_does_not_share_the_parents_connections(server: MockServer) -> None:
    client = MegaNova(api_key=server.api_key, base_url=server.url, max_retries=0, timeout=10)

    def ask(who: str, count: int) -> List[str]:
        """The prompts whose answer was not about them (a crossed answer, or an error)."""
        wrong = []
        for i in range(count):
            prompt = f"{who} {i}"
            try:
                resp = client.chat.create(model=MODEL, messages=[{"role": "user", "content": prompt}])
                if f'"{prompt}"' not in str(resp.choices[0].message.content):
                    wrong.append(prompt)
            except Exception as exc:
                wrong.append(f"{prompt}: {type(exc).__name__}")
        return wrong

    assert ask("warm-up", 5) == []  # the pool holds a connection now
    reader, writer = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() in a process with threads
        pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            os.close(reader)
            os.write(writer, json.dumps(ask("child", 300)).encode())
        finally:
            os._exit(0)
    os.close(writer)
    parent_wrong = ask("parent", 300)
    with os.fdopen(reader, "rb") as pipe:
        child_report = pipe.read()
    os.waitpid(pid, 0)
    child_wrong = json.loads(child_report)
    client.close()
    assert (parent_wrong, child_wrong) == ([], [])


def test_a_forked_child_starts_with_empty_pools_and_the_parents_stay(server: MockServer) -> None:
    sync = MegaNova(api_key=server.api_key, base_url=server.url)
    sync.models.list()
    transport = sync._http._transport
    assert isinstance(transport, ShardedTransport)
    parent_pools = list(transport._shards)
    reader, writer = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        try:
            os.close(reader)
            fresh = all(shard not in parent_pools and not shard._pool.connections for shard in transport._shards)
            os.write(writer, b"fresh" if fresh else b"inherited")
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    assert report == b"fresh"
    assert transport._shards == parent_pools and len(parent_pools[0]._pool.connections) == 1  # untouched
    sync.models.list()
    sync.close()
    assert server.connections_accepted == 1


# --- 8d: cookies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_no_cookie_is_ever_sent_back(flavour: str) -> None:
    cookies = ChatServer()
    try:
        if flavour == "sync":
            with MegaNova(api_key="test", base_url=cookies.base_url()) as client:
                variant = client.with_options(timeout=30)
                for i in range(50):
                    (client if i % 2 else variant).chat.create(model=MODEL, messages=HI)
        else:

            async def main() -> None:
                async with AsyncMegaNova(api_key="test", base_url=cookies.base_url()) as client:
                    variant = client.with_options(max_retries=1)
                    for i in range(50):
                        await (client if i % 2 else variant).chat.create(model=MODEL, messages=HI)

            asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        cookies.stop()
    assert len(cookies.seen) == 50
    assert [headers for headers in cookies.seen if "cookie" in headers] == []


def test_a_users_own_http_client_keeps_its_cookies() -> None:
    cookies = ChatServer()
    try:
        with httpx.Client() as own:
            client = MegaNova(api_key="test", base_url=cookies.base_url(), http_client=own)
            for _ in range(3):
                client.chat.create(model=MODEL, messages=HI)
    finally:
        cookies.stop()
    assert "cookie" in cookies.seen[-1]  # used as given


# --- 8e: cancellation mid-body -------------------------------------------------------------------


def test_calls_cancelled_mid_body_release_their_shard() -> None:
    drip = ChatServer(drip=lambda: time.sleep(0.001))
    rng = random.Random(8)
    outcomes = {"done": 0, "cancelled": 0}

    async def main() -> List[int]:
        client = AsyncMegaNova(api_key="test", base_url=drip.base_url(), max_retries=0)

        async def one() -> None:
            call = asyncio.ensure_future(client.chat.create(model=MODEL, messages=HI))
            await asyncio.sleep(rng.random() * 0.3)  # before, during or after the body (~50 ms)
            call.cancel()
            try:
                await call
                outcomes["done"] += 1
            except asyncio.CancelledError:
                outcomes["cancelled"] += 1

        for _ in range(40):
            await asyncio.gather(*(one() for _ in range(50)))
        transport = client._http._transport
        assert isinstance(transport, AsyncShardedTransport)
        busy = list(transport._balancer._busy)
        resp = await client.chat.create(model=MODEL, messages=HI)  # the next call works
        assert resp.choices[0].message.content == "Hello from the loopback."
        await client.close()
        return busy

    try:
        busy = asyncio.run(asyncio.wait_for(main(), 240))
    finally:
        drip.stop()
    assert sum(outcomes.values()) == 2000 and outcomes["cancelled"] >= 100
    assert drip.aborted >= 20  # so many were cancelled mid-body
    assert busy == [0] * SHARDS


def test_a_sync_read_interrupted_mid_body_releases_its_shard() -> None:
    """An exception that is not an httpx error (KeyboardInterrupt, or here a test's own) while reading a
    body: the shard is released although nobody closes the answer."""

    class Interrupt(BaseException):
        pass

    pieces = {"n": 0}

    def drip() -> None:
        time.sleep(0.001)

    server = ChatServer(drip=drip)
    try:
        transport = ShardedTransport(verify=False, limits=DEFAULT_LIMITS)
        with httpx.Client(transport=transport) as http:
            for _ in range(20):
                response = http.send(http.build_request("GET", server.base_url()), stream=True)
                try:
                    for _ in response.iter_raw(16):
                        pieces["n"] += 1
                        raise Interrupt
                except Interrupt:
                    pass  # the answer is dropped without close()
            assert transport._balancer._busy == [0] * SHARDS
    finally:
        server.stop()
    assert pieces["n"] == 20


# --- 8f: one async client under two event loops --------------------------------------------------


def test_one_async_client_under_two_asyncio_runs(server: MockServer) -> None:
    client = AsyncMegaNova(api_key=server.api_key, base_url=server.url, max_retries=0)  # "at import time"

    async def one_call() -> List[str]:
        resp = await client.chat.create(model=MODEL, messages=HI)
        stream = await client.chat.stream(model=MODEL, messages=HI)
        chunks = [chunk async for chunk in stream]
        return [str(resp.choices[0].message.content), "".join(chunk.delta for chunk in chunks)]

    first = asyncio.run(asyncio.wait_for(one_call(), 60))
    second = asyncio.run(asyncio.wait_for(one_call(), 60))
    third = asyncio.run(asyncio.wait_for(one_call(), 60))
    assert first == second == third and first[0] == first[1]
    transport = client._http._transport
    assert isinstance(transport, AsyncShardedTransport)
    assert len(transport._pools) == 1  # the pools of the closed loops were dropped

    async def close() -> None:
        await client.close()

    asyncio.run(close())


# --- 8g: what the pool keeps ---------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_the_pool_keeps_the_documented_totals(flavour: str) -> None:
    client: Any = (MegaNova if flavour == "sync" else AsyncMegaNova)(api_key="test", base_url="http://127.0.0.1:9/v1")
    transport = client._http._transport
    shards = transport._shards if flavour == "sync" else transport._current.shards
    pools = [shard._pool for shard in shards]
    assert len(pools) == SHARDS
    assert sum(pool._max_connections for pool in pools) == DEFAULT_LIMITS.max_connections == 1000
    assert sum(pool._max_keepalive_connections for pool in pools) == DEFAULT_LIMITS.max_keepalive_connections == 100
