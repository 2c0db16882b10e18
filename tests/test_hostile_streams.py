"""Streams in a hostile world, over real sockets (MockServer, or a loopback server of our own that writes
exactly the bytes chosen), sync and async: streams left early never hang and release their connection;
`[DONE]` ends the loop whatever follows; whatever the server sends ends as a `MeganovaError`; memory is
bounded; `timeout=` bounds each silence; the API key never shows in an error.

Hangs are bounded by a watchdog (a thread joined with a generous limit) that fails the test; nothing
here asserts a duration."""

from __future__ import annotations

import asyncio
import collections
import faulthandler
import gc
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Deque, Iterator, List, Tuple, TypeVar

import pytest
from hostile_streams_server import DONE, END, MODEL, PING, REQUEST_ID, HostileServer, chunk, event, head

from meganova import AsyncMegaNova, MegaNova
from meganova.custom.runtime.sse import MAX_EVENT_BYTES, SSEDecoder
from meganova.custom.runtime.streaming import _from_dict
from meganova.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    InternalServerError,
    MeganovaError,
)
from meganova.testing import MockServer

T = TypeVar("T")
WATCHDOG = float(os.environ.get("HOSTILE_WATCHDOG", "300"))  # seconds: far beyond any need, even on a loaded machine
MESSAGES = [{"role": "user", "content": "Tell me about Neon Harbor tonight."}]
KEY = "sk-hostile-5ecret-0123456789abcdef"
FD_SLACK = 24  # descriptors a test may leave behind: pool connections kept alive, the server's own


def watchdog(fn: Callable[[], T], seconds: float = WATCHDOG) -> T:
    """Runs `fn` in a thread; fails (with every thread's traceback on stderr) if it has not returned
    after `seconds` instead of hanging the suite."""
    result: List[Any] = []
    error: List[BaseException] = []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=run, name="watched", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        faulthandler.dump_traceback(all_threads=True)
        pytest.fail(f"still running after {seconds:.0f} s: hung (tracebacks of all threads on stderr)")
    if error:
        raise error[0]
    return result[0]  # type: ignore[no-any-return]


@contextmanager
def frequent_gc(gen0: int = 10) -> Iterator[None]:
    """Young collections every `gen0` allocations: the GC then often runs inside httpcore's pool."""
    saved = gc.get_threshold()
    gc.set_threshold(gen0, 1000, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


@contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic GC off: whatever is freed here is freed by reference counting."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"))


def settle_fds(limit: int) -> int:
    """The open descriptors once they are at most `limit`, or after the server threads had ample time to
    see their clients go (a bounded wait, not a timing assertion)."""
    done = threading.Event()
    for _ in range(300):
        count = open_fds()
        if count <= limit:
            return count
        done.wait(0.1)
    return open_fds()


class Boom(Exception):
    pass


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


# --- 1. a stream left early never hangs, and releases its connection ---------------------------------


RECENT: Deque[Any] = collections.deque(maxlen=8)
"""The caller's cycles of the last few streams: once dropped they are old, so only a full collection,
at any point of the next calls (inside httpcore's pool too), finds them."""


def left_early(client: MegaNova, how: str) -> None:
    if how == "break":
        for _chunk in client.chat.stream(model=MODEL, messages=MESSAGES):  # the README's loop, as written
            break
    elif how == "exception":
        try:
            for _chunk in client.chat.stream(model=MODEL, messages=MESSAGES):
                raise Boom
        except Boom:
            pass
    elif how == "never iterated":
        client.chat.stream(model=MODEL, messages=MESSAGES)
    elif how == "cycle":  # kept alive by a cycle of the caller's: only the GC frees it
        stream = client.chat.stream(model=MODEL, messages=MESSAGES)
        next(iter(stream))
        box: List[Any] = [stream]
        box.append(box)
        RECENT.append(box)
    elif how == "with, in an abandoned generator":  # `with` exits when the GC finalizes the generator

        def words() -> Iterator[str]:
            with client.chat.stream(model=MODEL, messages=MESSAGES) as stream:
                for chunk in stream:
                    yield chunk.delta

        generator = words()
        next(generator)
        box = [generator]
        box.append(box)
        RECENT.append(box)
    elif how == "create(stream=True)":
        for _chunk in client.chat.create(model=MODEL, messages=MESSAGES, stream=True):  # type: ignore[attr-defined]
            break


@pytest.mark.parametrize(
    "how", ["break", "exception", "never iterated", "cycle", "with, in an abandoned generator", "create(stream=True)"]
)
def test_2000_sync_streams_left_early_on_one_client(mock: MockServer, how: str) -> None:
    client = MegaNova(api_key=mock.api_key, base_url=mock.url, max_retries=0, timeout=60)
    client.chat.create(model=MODEL, messages=MESSAGES)  # the pool warmed up
    before = open_fds()

    def run() -> None:
        with frequent_gc():
            for _ in range(2000):
                left_early(client, how)

    watchdog(run)
    RECENT.clear()
    # the next ordinary calls work, on the same client
    assert client.chat.create(model=MODEL, messages=MESSAGES).choices[0].message["content"]
    assert client.chat.stream(model=MODEL, messages=MESSAGES).text()
    gc.collect()
    client.chat.create(model=MODEL, messages=MESSAGES)  # closes what a collection may have deferred
    assert settle_fds(before + FD_SLACK) <= before + FD_SLACK
    client.close()


@pytest.mark.parametrize("how", ["break", "exception", "never iterated"])
def test_streams_left_early_are_released_by_reference_counting(mock: MockServer, how: str) -> None:
    """Without the cyclic GC at all, 300 abandoned streams leave no connection open."""
    client = MegaNova(api_key=mock.api_key, base_url=mock.url, max_retries=0)
    client.chat.create(model=MODEL, messages=MESSAGES)
    before = open_fds()

    def run() -> None:
        with no_gc():
            for _ in range(300):
                left_early(client, how)
            assert settle_fds(before + FD_SLACK) <= before + FD_SLACK

    watchdog(run)
    client.close()


def test_a_stream_dies_with_its_last_reference(mock: MockServer) -> None:
    with MegaNova(api_key=mock.api_key, base_url=mock.url) as client, no_gc():
        stream = client.chat.stream(model=MODEL, messages=MESSAGES)
        response = stream.response
        ref = weakref.ref(stream)
        for _chunk in stream:
            break
        assert ref() is not None and not response.is_closed  # it may still be resumed
        del stream
        assert ref() is None  # no cycle: freed without gc.collect()
        assert response.is_closed

        unread = client.chat.stream(model=MODEL, messages=MESSAGES)
        response, ref = unread.response, weakref.ref(unread)
        del unread
        assert ref() is None and response.is_closed


def test_an_async_stream_dies_with_its_last_reference(mock: MockServer) -> None:
    async def main() -> None:
        async with AsyncMegaNova(api_key=mock.api_key, base_url=mock.url) as client:
            with no_gc():
                stream = await client.chat.stream(model=MODEL, messages=MESSAGES)
                response = stream.response
                ref = weakref.ref(stream)
                async for _chunk in stream:
                    break
                del stream
                assert ref() is None
                for _ in range(10):  # the loop closes it: an abandoned async generator is closed by a task
                    await asyncio.sleep(0)
                assert response.is_closed

                unread = await client.chat.stream(model=MODEL, messages=MESSAGES)
                response, ref = unread.response, weakref.ref(unread)
                del unread
                assert ref() is None
                for _ in range(10):
                    await asyncio.sleep(0)
                assert response.is_closed

    watchdog(lambda: asyncio.run(main()))


def test_500_async_streams_left_early_on_one_client(mock: MockServer) -> None:
    async def main() -> int:
        async with AsyncMegaNova(api_key=mock.api_key, base_url=mock.url, max_retries=0) as client:
            await client.chat.create(model=MODEL, messages=MESSAGES)
            before = open_fds()
            with frequent_gc():
                for i in range(500):
                    stream = await client.chat.stream(model=MODEL, messages=MESSAGES)
                    if i % 3 == 0:
                        async for _chunk in stream:
                            break
                    elif i % 3 == 1:
                        try:
                            async for _chunk in stream:
                                raise Boom
                        except Boom:
                            pass
                    del stream  # i % 3 == 2: never iterated
            for _ in range(50):
                await asyncio.sleep(0.01)
                if open_fds() <= before + FD_SLACK:
                    break
            after = open_fds()
            assert (await client.chat.create(model=MODEL, messages=MESSAGES)).choices[0].message["content"]
            return after - before

    assert watchdog(lambda: asyncio.run(main())) <= FD_SLACK


# --- 2. [DONE] ends the stream ------------------------------------------------------------------------

STREAM = [event("Neon"), event(" Harbor"), event(" glows.", finish="stop")]


def pings_after_done(server: HostileServer, conn: socket.socket, request: Any) -> bool:
    conn.sendall(head() + b"".join(chunk(e) for e in STREAM) + chunk(DONE))
    while not server.stopping.is_set():  # a proxy that keeps the body open, forever
        conn.sendall(chunk(PING))
        server.wait(0.05)
    return False


def end_after_done(server: HostileServer, conn: socket.socket, request: Any) -> bool:
    conn.sendall(head() + b"".join(chunk(e) for e in STREAM) + chunk(DONE))
    conn.sendall(END)  # in its own write: it may arrive in a later read
    return True


@pytest.mark.parametrize("read", ["loop", "text", "get_final_response", "create(stream=True)"])
def test_done_then_pings_forever_ends_the_stream_sync(read: str) -> None:
    with HostileServer(lambda c, r: pings_after_done(server, c, r)) as server:
        client = MegaNova(api_key=KEY, base_url=server.url, max_retries=0)

        def run() -> str:
            if read == "create(stream=True)":
                stream = client.chat.create(model=MODEL, messages=MESSAGES, stream=True)
            else:
                stream = client.chat.stream(model=MODEL, messages=MESSAGES)
            if read == "text":
                return stream.text()  # type: ignore[no-any-return]
            if read == "get_final_response":
                return str(stream.get_final_response().choices[0].message["content"])
            chunks = list(stream)
            assert chunks[-1].done
            return "".join(c.delta for c in chunks)

        assert watchdog(run) == "Neon Harbor glows."
        assert watchdog(run) == "Neon Harbor glows."  # the client is fine afterwards
        assert server.connections == 2  # a body that did not end is not reused
        client.close()


@pytest.mark.parametrize("read", ["loop", "text", "get_final_response"])
def test_done_then_pings_forever_ends_the_stream_async(read: str) -> None:
    with HostileServer(lambda c, r: pings_after_done(server, c, r)) as server:

        async def main() -> List[str]:
            texts = []
            async with AsyncMegaNova(api_key=KEY, base_url=server.url, max_retries=0) as client:
                for _ in range(2):
                    stream = await client.chat.stream(model=MODEL, messages=MESSAGES)
                    if read == "text":
                        texts.append(await stream.text())
                    elif read == "get_final_response":
                        texts.append(str((await stream.get_final_response()).choices[0].message["content"]))
                    else:
                        texts.append("".join([c.delta async for c in stream]))
            return texts

        assert watchdog(lambda: asyncio.run(main())) == ["Neon Harbor glows."] * 2
        assert server.connections == 2


def test_a_body_that_ends_after_done_keeps_its_connection() -> None:
    with HostileServer(lambda c, r: end_after_done(server, c, r)) as server:
        with MegaNova(api_key=KEY, base_url=server.url) as client:
            for _ in range(30):
                assert watchdog(lambda: client.chat.stream(model=MODEL, messages=MESSAGES).text()) == (
                    "Neon Harbor glows."
                )

        async def main() -> None:
            async with AsyncMegaNova(api_key=KEY, base_url=server.url) as aclient:
                for _ in range(30):
                    stream = await aclient.chat.stream(model=MODEL, messages=MESSAGES)
                    assert await stream.text() == "Neon Harbor glows."

        watchdog(lambda: asyncio.run(main()))
        assert server.connections == 2  # one per client, reused by all 30 streams


# --- 3. whatever the server sends ends as a MeganovaError ----------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


def one_event(body: bytes) -> Callable[[socket.socket, Any], bool]:
    def handler(conn: socket.socket, request: Any) -> bool:
        conn.sendall(head() + chunk(body) + chunk(DONE) + END)
        return True

    return handler


def stream_both(url: str, **kwargs: Any) -> Tuple[Any, Any]:
    """What a sync and an async client make of the stream: the text, or the exception raised."""

    def sync() -> Any:
        try:
            with MegaNova(api_key=KEY, base_url=url, max_retries=0, **kwargs) as client:
                return client.chat.stream(model=MODEL, messages=MESSAGES).text()
        except Exception as exc:
            return exc

    async def main() -> Any:
        try:
            async with AsyncMegaNova(api_key=KEY, base_url=url, max_retries=0, **kwargs) as client:
                return await (await client.chat.stream(model=MODEL, messages=MESSAGES)).text()
        except Exception as exc:
            return exc

    return watchdog(sync), watchdog(lambda: asyncio.run(main()))


@pytest.mark.parametrize(
    "body",
    [b"data: " + DEEP + b"\n\n", b"event: error\ndata: " + DEEP + b"\n\n", b'data: {"a": ' + DEEP + b"}\n\n"],
    ids=["data", "error event", "in an object"],
)
def test_json_nested_100000_deep(body: bytes) -> None:
    with HostileServer(one_event(body)) as server:
        for result in stream_both(server.url):
            assert isinstance(result, APIResponseValidationError), repr(result)
            assert result.status == 200 and result.request_id == REQUEST_ID
            assert "nested too deeply" in result.message


def test_from_dict_turns_a_recursion_error_into_a_validation_error() -> None:
    class Deep:
        @classmethod
        def from_dict(cls, data: Any) -> Any:
            raise RecursionError("maximum recursion depth exceeded")

    with pytest.raises(APIResponseValidationError) as info:
        _from_dict(Deep, {"a": 1}, "req_1")
    assert info.value.request_id == "req_1" and info.value.__cause__ is None


def test_a_retry_field_of_5000_digits_is_ignored() -> None:
    body = b"retry: " + b"9" * 5000 + b"\n" + event("Neon Harbor glows.", finish="stop")
    with HostileServer(one_event(body)) as server:
        assert stream_both(server.url) == ("Neon Harbor glows.", "Neon Harbor glows.")


def test_sse_decoder_ignores_an_unreadable_retry() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"retry: 1500\ndata: a\n\nretry: " + b"7" * 5000 + b"\ndata: b\n\nretry: 12x\ndata: c\n\n")
    assert [(e.data, e.retry) for e in events] == [(b"a", 1500), (b"b", 1500), (b"c", 1500)]


# --- 4. memory is bounded ------------------------------------------------------------------------------


def test_sse_decoder_caps_a_line_and_an_event() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    for _ in range(9):
        assert decoder.feed(b"x" * 100) == []  # counted as it arrives
    with pytest.raises(APIResponseValidationError) as info:
        decoder.feed(b"x" * 200)
    assert info.value.status == 200 and info.value.body == b"x" * 300
    assert not decoder.pending  # what it held is dropped

    decoder = SSEDecoder(max_event_bytes=1000)
    with pytest.raises(APIResponseValidationError):  # many small data lines of one event
        for _ in range(100):
            decoder.feed(b"data: " + b"y" * 50 + b"\n")
    decoder = SSEDecoder(max_event_bytes=1000)
    assert len(decoder.feed(b"data: " + b"z" * 500 + b"\n\n" + b"data: " + b"z" * 500 + b"\n\n")) == 2
    assert MAX_EVENT_BYTES == 16 * 1024 * 1024


def test_a_40_mib_line_raises_and_memory_stays_bounded() -> None:
    piece = b"a" * 65536

    def handler(conn: socket.socket, request: Any) -> bool:
        conn.sendall(head() + chunk(event("Neon")) + chunk(b"data: "))
        for _ in range(40 * 16):  # 40 MiB, no line end, in 64 KiB pieces
            conn.sendall(chunk(piece))
        conn.sendall(chunk(b"\n\n") + chunk(DONE) + END)
        return False

    child = textwrap.dedent(
        """
        import asyncio, resource, sys
        from meganova import AsyncMegaNova, MegaNova
        from meganova.errors import APIResponseValidationError

        url, flavour = sys.argv[1], sys.argv[2]
        scale = 1 if sys.platform.startswith("linux") else 1024  # ru_maxrss: KiB on Linux, bytes on macOS

        def peak():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 // scale

        def check(exc, chunks):
            assert isinstance(exc, APIResponseValidationError), repr(exc)
            assert exc.status == 200 and exc.request_id == "req_hostile", repr(exc)
            assert isinstance(exc.body, bytes) and len(exc.body) <= 300 and exc.body.startswith(b"data: aaa")
            assert chunks == ["Neon"], chunks

        def sync():
            with MegaNova(api_key="sk-x", base_url=url, max_retries=0) as client:
                base = peak()
                chunks = []
                try:
                    for c in client.chat.stream(model="m", messages=[{"role": "user", "content": "hi"}]):
                        chunks.append(c.delta)
                except Exception as exc:
                    check(exc, chunks)
                    return peak() - base
                raise AssertionError("no error")

        async def main():
            async with AsyncMegaNova(api_key="sk-x", base_url=url, max_retries=0) as client:
                base = peak()
                chunks = []
                try:
                    async for c in await client.chat.stream(model="m", messages=[{"role": "user", "content": "hi"}]):
                        chunks.append(c.delta)
                except Exception as exc:
                    check(exc, chunks)
                    return peak() - base
                raise AssertionError("no error")

        print(sync() if flavour == "sync" else asyncio.run(main()))
        """
    )
    with HostileServer(handler) as server:
        for flavour in ("sync", "async"):
            done = subprocess.run(
                [sys.executable, "-c", child, server.url, flavour],
                capture_output=True,
                text=True,
                timeout=WATCHDOG,
                cwd=Path(__file__).parent,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            growth = int(done.stdout.strip().splitlines()[-1])
            print(f"{flavour}: peak RSS growth {growth / 2**20:.1f} MiB")
            # the cap is 16 MiB; 40 MiB were sent: the peak grows by well under what was sent
            assert growth < 32 * 1024 * 1024, f"{flavour}: peak RSS grew by {growth / 2**20:.1f} MiB"


# --- 5. timeout= bounds each silence --------------------------------------------------------------------


def one_chunk_then_silence(server: HostileServer, conn: socket.socket, request: Any) -> bool:
    conn.sendall(head() + chunk(event("Neon")))
    server.wait(WATCHDOG)
    return False


def test_silence_after_the_first_chunk_raises_a_timeout() -> None:
    with HostileServer(lambda c, r: one_chunk_then_silence(server, c, r)) as server:

        def sync() -> List[str]:
            seen: List[str] = []
            with MegaNova(api_key=KEY, base_url=server.url, timeout=1) as client, pytest.raises(APITimeoutError):
                for c in client.chat.stream(model=MODEL, messages=MESSAGES):  # retries left: unused
                    seen.append(c.delta)
            return seen

        async def main() -> List[str]:
            seen: List[str] = []
            async with AsyncMegaNova(api_key=KEY, base_url=server.url, timeout=1) as client:
                with pytest.raises(APITimeoutError):
                    async for c in await client.chat.stream(model=MODEL, messages=MESSAGES):
                        seen.append(c.delta)
            return seen

        assert watchdog(sync) == ["Neon"]
        assert watchdog(lambda: asyncio.run(main())) == ["Neon"]
        assert len(server.requests) == 2  # a stream that handed out a chunk is never sent again


# --- 6. the API key never shows in an error ----------------------------------------------------------------


def echo_key(kind: str) -> Callable[[socket.socket, Any], bool]:
    def handler(conn: socket.socket, request: Any) -> bool:
        key = request.api_key
        assert key == KEY
        if kind == "malformed":
            body = b'data: {"echo": "' + key.encode() + b'", oops\n\n'
        elif kind == "error event":
            error = {
                "message": f"invalid key {key}",
                "code": key,
                "type": f"type-{key}",
                "param": key,
                "nested": {"deep": [[{"k": key}]], key: "as a key"},
            }
            body = b"data: " + json.dumps({"error": error}).encode() + b"\n\n"
        elif kind == "typed error event":
            body = b"event: error\ndata: " + json.dumps({"message": key, "type": key, "code": key}).encode() + b"\n\n"
        elif kind == "wrong type":
            body = b"data: " + json.dumps({"choices": [{"index": key, "delta": {"content": key}}]}).encode() + b"\n\n"
        else:  # cut: the key straddles the end of the message's excerpt
            body = b"data: " + b"x" * 190 + key.encode() + b"\n\n"
        conn.sendall(head() + chunk(event("Neon")) + chunk(body) + chunk(DONE) + END)
        return True

    return handler


def everything_about(exc: BaseException) -> str:
    """Every way the error shows itself: str, repr, every attribute, args, the chain."""
    parts = [str(exc), repr(exc), repr(exc.args)]
    parts += [repr(value) for value in vars(exc).values()]
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            parts.append(everything_about(linked))
    return "\n".join(parts)


@pytest.mark.parametrize("kind", ["malformed", "error event", "typed error event", "wrong type", "cut"])
def test_the_key_echoed_in_a_bad_event_never_shows_in_the_error(kind: str) -> None:
    with HostileServer(echo_key(kind)) as server:
        for result in stream_both(server.url):
            assert isinstance(result, MeganovaError), repr(result)
            assert result.request_id == REQUEST_ID
            shown = everything_about(result)
            assert KEY not in shown and KEY[:12] not in shown, shown[:2000]
            if kind == "error event":
                assert isinstance(result, InternalServerError)
                assert result.code == "sk-***" and result.param == "sk-***" and "sk-***" in result.message
                assert result.body["error"]["nested"]["deep"] == [[{"k": "sk-***"}]]
        assert not server.errors


def test_a_cut_stream_is_still_a_connection_error() -> None:
    """A body cut right after a chunk: APIConnectionError, on the same hostile server (sanity of the helper)."""

    def handler(conn: socket.socket, request: Any) -> bool:
        conn.sendall(head() + chunk(event("Neon")))
        return False

    with HostileServer(handler) as server:
        for result in stream_both(server.url):
            assert isinstance(result, APIConnectionError), repr(result)
