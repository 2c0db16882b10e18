"""The rules every stream keeps, on every surface that streams (`chat.stream`, `chat.completions.create(
stream=True)`, `CloudAgent.completions(stream=True)`), sync and async, over real sockets: the byte-exact
hostile server for the framing, MockServer for what the chunks say.

Issue 13.9: a leading UTF-8 BOM is skipped (whole or split across reads); a body that ends inside an
event (bytes without the blank line that ends it) raises `APIConnectionError`, even after a
`finish_reason`; a clean end after a complete last event without `[DONE]` is accepted.
Issue 14.5: usage exactly once (on the chunk that carried it), `finish_reason` once per choice, `raw`
never None (the last `done` chunk too); `async with client.chat.stream(...)` without `await`, the
awaited form, `async for` straight on it; `aclose()` (and `close()`)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any, Callable, List

import pytest
from hostile_streams_server import DONE, END, HostileServer, chunk, event, head

from meganova import AsyncMegaNova, MegaNova
from meganova.cloud import AsyncCloudAgent, CloudAgent
from meganova.custom.runtime.sse import SSEDecoder
from meganova.errors import APIConnectionError
from meganova.models import ChatCompletionChunk
from meganova.testing import AGENT_KEY, MockServer

KEY = "sk-stream-rules-0123456789"
MODEL = "meganova-ai/manta-flash-1.0"
MESSAGES = [{"role": "user", "content": "Tell me about Neon Harbor."}]
BOM = b"\xef\xbb\xbf"
SURFACES = ["chat.stream", "chat.completions", "agent"]


def writes(*pieces: bytes) -> Callable[[socket.socket, Any], bool]:
    """A handler that writes the head of a chunked event stream, then each piece as one HTTP chunk (a
    little apart, so that they arrive as separate reads), then what follows as it is."""

    def handle(conn: socket.socket, request: Any) -> bool:
        conn.sendall(head())
        for piece in pieces:
            conn.sendall(piece if piece == END else chunk(piece))
            time.sleep(0.02)
        return False

    return handle


def text_of(surface: str, mode: str, url: str) -> str:
    """The whole streamed text of one call on `surface`, read to its end."""
    root = url[: -len("/v1")]
    if mode == "sync":
        if surface == "agent":
            with CloudAgent("agent_rules", base_url=root, max_retries=0, timeout=30) as agent:
                return "".join(c.choices[0].delta.content or "" for c in agent.completions(MESSAGES, stream=True))
        with MegaNova(api_key=KEY, base_url=url, max_retries=0, timeout=30) as client:
            if surface == "chat.stream":
                return "".join(c.delta for c in client.chat.stream(model=MODEL, messages=MESSAGES))
            chunks = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
            return "".join(c.choices[0].delta.content or "" for c in chunks)

    async def main() -> str:
        if surface == "agent":
            async with AsyncCloudAgent("agent_rules", base_url=root, max_retries=0, timeout=30) as agent:
                stream = await agent.completions(MESSAGES, stream=True)
                return "".join([c.choices[0].delta.content or "" async for c in stream])
        async with AsyncMegaNova(api_key=KEY, base_url=url, max_retries=0, timeout=30) as client:
            if surface == "chat.stream":
                return "".join([c.delta async for c in client.chat.stream(model=MODEL, messages=MESSAGES)])
            chunks = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in chunks])

    return asyncio.run(main())


# --- 13.9: framing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(
    "pieces",
    [
        (BOM + event("Neon") + event(" Harbor", "stop") + DONE, END),
        (BOM[:1], BOM[1:2], BOM[2:] + event("Neon"), event(" Harbor", "stop"), DONE, END),
        (BOM + event("Neon") + event(" Harbor", "stop"), END),  # no [DONE]: a clean end after a whole event
    ],
    ids=["bom", "bom-split-across-reads", "bom-no-done"],
)
def test_a_leading_bom_is_skipped_and_the_first_event_kept(surface: str, mode: str, pieces: Any) -> None:
    with HostileServer(writes(*pieces)) as server:
        assert text_of(surface, mode, server.url) == "Neon Harbor"


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(
    "pieces",
    [
        (event("Neon"), event(" Harbor", "stop") + b'data: {"id": "chatcmpl-h", "choi', END),
        (event("Neon"), event(" Harbor", "stop")[:-1], END),  # the last event lacks its blank line
        (event("Neon"), event(" Harbor", "stop") + b"data: [DO", END),
        (event("Neon", "stop"), b": a comment cut", END),
    ],
    ids=["cut-in-data", "no-blank-line", "cut-in-done", "cut-in-a-comment-line"],
)
def test_a_body_that_ends_inside_an_event_raises_even_after_finish_reason(surface: str, mode: str, pieces: Any) -> None:
    with HostileServer(writes(*pieces)) as server, pytest.raises(APIConnectionError, match="cut off"):
        text_of(surface, mode, server.url)


@pytest.mark.parametrize("surface", SURFACES)
def test_a_clean_end_after_a_complete_last_event_without_done_is_accepted(surface: str, mode: str) -> None:
    with HostileServer(writes(event("Neon"), event(" Harbor", "stop"), END)) as server:
        assert text_of(surface, mode, server.url) == "Neon Harbor"


def test_the_decoder_skips_a_bom_split_at_every_byte() -> None:
    body = BOM + b"data: one\n\ndata: two\n\n"
    for cut in range(len(body) + 1):
        decoder = SSEDecoder()
        events = decoder.feed(body[:cut]) + decoder.feed(body[cut:])
        assert [e.data for e in events] == [b"one", b"two"] and not decoder.pending
    decoder = SSEDecoder()
    assert [e.data for e in decoder.feed(b"data: \xef\xbb\xbfinside\n\n")] == [
        b"\xef\xbb\xbfinside"
    ]  # only at the start
    decoder = SSEDecoder()
    decoder.feed(b"data: x\n\n")
    assert decoder.feed(BOM + b"data: y\n\n") == []  # a BOM later is no BOM: its line is an unknown field
    assert SSEDecoder().feed(BOM[:2]) == [] and SSEDecoder().feed(BOM[:2] + b"x") == []


# --- 14.5: what chunks say, and the async forms -------------------------------------------------------


@pytest.fixture(scope="module")
def mock() -> Any:
    with MockServer(api_key=KEY) as server:
        yield server


def read_chat_stream(mock: MockServer, mode: str) -> Any:
    if mode == "sync":
        with MegaNova(api_key=KEY, base_url=mock.url) as client:
            stream = client.chat.stream(model=MODEL, messages=MESSAGES, stream_options={"include_usage": True})
            chunks = list(stream)
            return chunks, stream.usage, stream.get_final_response()

    async def main() -> Any:
        async with AsyncMegaNova(api_key=KEY, base_url=mock.url) as client:
            stream = client.chat.stream(model=MODEL, messages=MESSAGES, stream_options={"include_usage": True})
            chunks = [c async for c in stream]
            return chunks, stream.usage, await stream.get_final_response()

    return asyncio.run(main())


def test_chat_stream_says_usage_and_finish_reason_once_and_raw_is_never_none(mock: MockServer, mode: str) -> None:
    chunks, usage, final = read_chat_stream(mock, mode)
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1 and with_usage[0].usage == usage == final.usage and not with_usage[0].done
    assert sum(c.usage.total_tokens for c in with_usage) == final.usage.total_tokens  # summing counts it once
    finishes = [(c.index, c.finish_reason) for c in chunks if c.finish_reason is not None]
    assert finishes == [(0, final.choices[0].finish_reason)]
    assert chunks[-1].done and chunks[-1].usage is None and chunks[-1].finish_reason is None
    assert all(isinstance(c.raw, ChatCompletionChunk) for c in chunks)
    assert chunks[-1].raw.choices == [] and chunks[-1].raw.id == chunks[0].raw.id


def test_openai_shaped_streams_give_the_usage_once(mock: MockServer, mode: str) -> None:
    kwargs: Any = {"model": MODEL, "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    if mode == "sync":
        with MegaNova(api_key=KEY, base_url=mock.url) as client:
            stream = client.chat.completions.create(**kwargs)
            chunks: List[Any] = list(stream)
    else:

        async def main() -> Any:
            async with AsyncMegaNova(api_key=KEY, base_url=mock.url) as client:
                opened = await client.chat.completions.create(**kwargs)
                async with opened:
                    return opened, [c async for c in opened]

        stream, chunks = asyncio.run(main())
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1 and with_usage[0].usage == stream.usage
    assert sum(1 for c in chunks for choice in c.choices if choice.finish_reason) == 1
    assert all(c is not None for c in chunks)


def test_async_chat_stream_works_with_async_with_await_and_async_for(mock: MockServer) -> None:
    async def main() -> List[str]:
        texts = []
        async with AsyncMegaNova(api_key=KEY, base_url=mock.url) as client:
            async with client.chat.stream(model=MODEL, messages=MESSAGES) as stream:  # no await
                texts.append("".join([c.delta async for c in stream]))
                assert stream.response.status_code == 200
            stream = await client.chat.stream(model=MODEL, messages=MESSAGES)  # the awaited form
            assert await stream is stream  # awaiting again gives the same stream, sent once
            texts.append(await stream.text())
            texts.append("".join([c.delta async for c in client.chat.stream(model=MODEL, messages=MESSAGES)]))
            async with await client.chat.stream(model=MODEL, messages=MESSAGES) as stream:
                texts.append(await stream.text())
        return texts

    mock.reset()
    texts = asyncio.run(main())
    assert len(texts) == 4 and all(texts) and len(set(texts)) == 1
    assert len([r for r in mock.requests if r.path.endswith("/chat/completions")]) == 4  # each sent once


def test_aclose_releases_a_stream_and_one_never_opened_is_never_sent(mock: MockServer) -> None:
    async def main() -> Any:
        async with AsyncMegaNova(api_key=KEY, base_url=mock.url) as client:
            unopened = client.chat.stream(model=MODEL, messages=MESSAGES)
            await unopened.aclose()
            with pytest.raises(Exception, match="closed before it was opened"):
                await unopened
            stream = await client.chat.stream(model=MODEL, messages=MESSAGES)
            first = await stream.__anext__()
            await stream.aclose()
            assert stream.response.is_closed
            left = [c async for c in stream]
            old = await client.chat.stream(model=MODEL, messages=MESSAGES)
            await old.close()  # the old spelling stays
            openai = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
            await openai.__anext__()
            await openai.aclose()
            assert openai.response.is_closed
            async with AsyncCloudAgent(AGENT_KEY, base_url=mock.root_url) as agent:
                agent_stream = await agent.completions(MESSAGES, stream=True)
                await agent_stream.__anext__()
                await agent_stream.aclose()
                assert agent_stream.response.is_closed
            return first, left

    mock.reset()
    first, left = asyncio.run(main())
    assert first.delta is not None and left == []
    assert len([r for r in mock.requests if r.path.endswith("/chat/completions")]) == 4  # not the unopened one


def test_finish_reason_is_said_once_per_choice_even_when_the_server_repeats_it() -> None:
    from meganova.custom.runtime.streaming import ChatStreamState

    def sent(index: int, content: str, finish: Any = None, usage: Any = None) -> bytes:
        body: Any = {"id": "c", "choices": [{"index": index, "delta": {"content": content}, "finish_reason": finish}]}
        if usage is not None:
            body["usage"] = usage
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    usage = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    state = ChatStreamState("r")
    chunks = state.feed(
        sent(0, "a")
        + sent(1, "b")
        + sent(0, "", "stop")
        + sent(1, "", "length")
        + sent(0, "", "stop", usage)  # a server that says it again, with the usage
        + sent(1, "", "length")
        + DONE
    )
    assert [(c.index, c.finish_reason) for c in chunks if c.finish_reason] == [(0, "stop"), (1, "length")]
    assert [c.usage.total_tokens for c in chunks if c.usage is not None] == [6]
    final = state.final_response()
    assert [c.finish_reason for c in final.choices] == ["stop", "length"] and final.usage.total_tokens == 6
