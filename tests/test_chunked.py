"""The chunked body reader of our pools (`runtime/chunked.py`): data chunks read without an h11 event
each, the last chunk handed back to h11. The parser on every split of the bytes; then over sockets, with
a server that writes exactly the bytes chosen: drips, chunk extensions, trailers, bytes after the answer,
malformed sizes and footers, a cut body; sync and async; the connection reused exactly when it is sound."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Callable, List, Tuple

import httpx
import pytest
from hostile_streams_server import DONE, END, MODEL, HostileServer, chunk, event, head
from hypothesis import given, settings
from hypothesis import strategies as st

from meganova import AsyncMegaNova, MegaNova, MeganovaError
from meganova.custom.runtime import chunked, pool
from meganova.custom.runtime.chunked import ChunkedBody

KEY = "sk-chunked-0123456789"
MESSAGES = [{"role": "user", "content": "Hi"}]


def parse(pieces: List[bytes]) -> Tuple[bytes, bytes]:
    """The data, and what h11 gets: the parser's `rest` and the pieces not fed (h11 reads those itself)."""
    body = ChunkedBody()
    out = b""
    for i, piece in enumerate(pieces):
        out += body.feed(piece)
        if body.done:
            return out, body.rest + b"".join(pieces[i + 1 :])
    assert not body.done
    return out, b""


# --- the parser ------------------------------------------------------------------------------------------

WIRE = chunk(b"hello ") + b"5;name=value\r\nworld\r\n" + b"A\r\n0123456789\r\n" + b"0\r\nX-Trailer: t\r\n\r\nNEXT"


def test_every_split_of_the_bytes_gives_the_same_data_and_rest() -> None:
    for cut in range(len(WIRE) + 1):
        out, rest = parse([WIRE[:cut], WIRE[cut:]])
        assert out == b"hello world0123456789", cut
        assert rest == b"0\r\nX-Trailer: t\r\n\r\nNEXT", cut


def test_a_byte_at_a_time() -> None:
    out, rest = parse([WIRE[i : i + 1] for i in range(len(WIRE))])
    assert out == b"hello world0123456789"
    assert rest == b"0\r\nX-Trailer: t\r\n\r\nNEXT"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=300), max_size=12),
    st.lists(st.integers(min_value=0, max_value=4000), max_size=10),
    st.booleans(),
)
def test_any_chunks_any_splits(datas: List[bytes], cuts: List[int], upper: bool) -> None:
    wire = b"".join((b"%X\r\n" if upper else b"%x\r\n") % len(d) + d + b"\r\n" for d in datas) + END
    points = sorted({min(c, len(wire)) for c in cuts})
    pieces = [wire[a:b] for a, b in zip([0, *points], [*points, len(wire)])]
    out, rest = parse(pieces)
    assert out == b"".join(datas)
    assert rest == END


@pytest.mark.parametrize(
    "wire",
    [b"zz\r\nabc\r\n", b"3\r\nabcXY", b"-3\r\nabc\r\n", b"\r\nabc", b"1" * 17 + b"\r\n", b"3" + b" " * 5000],
    ids=["not hex", "bad footer", "negative", "empty size", "17 digits", "endless size line"],
)
def test_malformed_framing_is_a_protocol_error(wire: bytes) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        parse([wire])


# --- over sockets ----------------------------------------------------------------------------------------


def serve(send: Callable[[socket.socket], None], keep: bool = True) -> Callable[[socket.socket, Any], bool]:
    def handler(conn: socket.socket, request: Any) -> bool:
        send(conn)
        return keep

    return handler


def body_of(*contents: str) -> bytes:
    return b"".join(chunk(event(c)) for c in contents) + chunk(DONE)


def both(url: str, times: int = 3) -> Tuple[List[Any], List[Any]]:
    """What a sync and an async client make of `times` streams each: the texts, or the error raised."""

    def sync() -> List[Any]:
        out: List[Any] = []
        with MegaNova(api_key=KEY, base_url=url, max_retries=0, timeout=20) as client:
            for _ in range(times):
                try:
                    out.append(client.chat.stream(model=MODEL, messages=MESSAGES).text())
                except MeganovaError as exc:
                    out.append(exc)
        return out

    async def main() -> List[Any]:
        out: List[Any] = []
        async with AsyncMegaNova(api_key=KEY, base_url=url, max_retries=0, timeout=20) as client:
            for _ in range(times):
                try:
                    out.append(await (await client.chat.stream(model=MODEL, messages=MESSAGES)).text())
                except MeganovaError as exc:
                    out.append(exc)
        return out

    return sync(), asyncio.run(main())


def test_the_fast_reader_reads_our_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a test that passes with the reader unused: its source is found for each stream."""
    found: List[bool] = []

    def spy(stream: Any) -> Any:
        source = chunked.source_of(stream)
        found.append(source is not None)
        return source

    monkeypatch.setattr(pool, "source_of", spy)
    with HostileServer(serve(lambda c: c.sendall(head() + body_of("Neon ", "Harbor") + END))) as server:
        texts = both(server.url, times=2)
    assert texts == (["Neon Harbor"] * 2, ["Neon Harbor"] * 2)
    assert found and all(found)


def test_a_drip_one_byte_per_write_and_the_connection_is_reused() -> None:
    def drip(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sendall(head())
        for byte in body_of("Neon ", "Harbor") + END:
            conn.sendall(bytes([byte]))

    with HostileServer(serve(drip)) as server:
        assert both(server.url) == (["Neon Harbor"] * 3, ["Neon Harbor"] * 3)
        assert server.connections == 2  # one per client


def test_extensions_and_trailers_keep_the_connection() -> None:
    wire = head() + b"%x;ext=1\r\n%s\r\n" % (len(event("Neon")), event("Neon")) + chunk(DONE)
    with HostileServer(serve(lambda c: c.sendall(wire + b"0\r\nX-Checksum: abc\r\n\r\n"))) as server:
        assert both(server.url) == (["Neon"] * 3, ["Neon"] * 3)
        assert server.connections == 2


def test_bytes_after_the_answer_close_its_connection() -> None:
    """A proxy that writes more than the answer: that connection is never read by the next call."""
    junk = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    with HostileServer(serve(lambda c: c.sendall(head() + body_of("Neon") + END + junk))) as server:
        assert both(server.url) == (["Neon"] * 3, ["Neon"] * 3)
        assert server.connections == 6  # a new connection for every stream


@pytest.mark.parametrize(
    "tail",
    [b"zz\r\n", b"5\r\nabcdeXY", b"%x\r\n" % (1 << 40)],
    ids=["not hex", "bad footer", "cut in a huge chunk"],
)
def test_broken_framing_mid_stream_is_a_meganova_error_and_the_connection_is_dropped(tail: bytes) -> None:
    with HostileServer(serve(lambda c: c.sendall(head() + chunk(event("Neon")) + tail), keep=False)) as server:
        sync, async_ = both(server.url, times=2)
        for result in sync + async_:
            assert isinstance(result, MeganovaError), repr(result)
        assert server.connections == 4  # none reused


def test_a_body_cut_mid_chunk_is_a_meganova_error() -> None:
    data = event("Neon")
    with HostileServer(serve(lambda c: c.sendall(head() + b"%x\r\n" % len(data) + data[:10]), keep=False)) as server:
        sync, async_ = both(server.url, times=1)
    assert all(isinstance(result, MeganovaError) for result in sync + async_), (sync, async_)
