"""Streaming through the clients: chunks, the end rules, errors in the stream, the final answer."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

import httpx
import pytest

from meganova.custom.runtime.streaming import ChatStreamChunk, ChatStreamState
from meganova.errors import (
    APIConnectionError,
    APIResponseValidationError,
    AuthenticationError,
    InternalServerError,
    RateLimitError,
)
from meganova.models import ChatCompletionChunk, ChatResponse

from conftest import DONE, Harness, chunk_event, sse_response, usage_event

STREAM = [
    chunk_event("", role="assistant"),
    chunk_event("Neon"),
    chunk_event(" Harbor"),
    chunk_event(" glows.", finish="stop"),
    usage_event(9, 3),
    DONE,
]


def test_chunks_text_usage_and_done(harness: Callable[..., Harness]) -> None:
    h = harness([sse_response(STREAM)])
    chunks = h.stream()
    assert [c.delta for c in chunks] == ["", "Neon", " Harbor", " glows.", "", ""]
    assert [c.done for c in chunks] == [False] * 5 + [True]
    assert chunks[3].finish_reason == "stop"
    assert chunks[4].usage is not None and chunks[4].usage.total_tokens == 12
    # each thing said once: the usage on its own chunk only, the finish_reason on its choice's chunk only
    assert [c.usage is not None for c in chunks] == [False] * 4 + [True, False]
    assert [c.finish_reason for c in chunks] == [None, None, None, "stop", None, None]
    assert all(c.request_id == "req_stream" for c in chunks)
    raw = chunks[1].raw
    assert isinstance(raw, ChatCompletionChunk) and raw.choices[0].delta.content == "Neon"
    done = chunks[-1].raw  # never None: the stream's id, created and model, no choices
    assert isinstance(done, ChatCompletionChunk) and done.id == "chatcmpl-1" and done.choices == []
    assert done.model == "meganova-ai/manta-flash-1.0" and done.created == 1764000000
    body = json.loads(h.requests[0].content)
    assert body["stream"] is True and h.requests[0].headers["accept"] == "text/event-stream"


def test_same_chunks_whatever_the_network_pieces(harness: Callable[..., Harness]) -> None:
    whole = b"".join(STREAM)
    expected = [c.delta for c in harness([sse_response([whole])]).stream()]
    for size in (1, 2, 3, 7, 64):
        pieces = [whole[i : i + size] for i in range(0, len(whole), size)]
        assert [c.delta for c in harness([sse_response(pieces)]).stream()] == expected


def test_crlf_comments_and_data_without_space(harness: Callable[..., Harness]) -> None:
    body = b"".join(STREAM).replace(b"\n", b"\r\n").replace(b"data: ", b"data:")
    h = harness([sse_response([b": ping - 2025\r\n\r\n", body, b": trailing\r\n"])])
    assert "".join(c.delta for c in h.stream()) == "Neon Harbor glows."


def test_multi_line_data_is_joined(harness: Callable[..., Harness]) -> None:
    event = json.dumps(
        {"id": "c", "choices": [{"index": 0, "delta": {"content": "a\nb"}, "finish_reason": "stop"}]}, indent=1
    ).encode()
    lines = b"".join(b"data: " + line + b"\n" for line in event.split(b"\n"))
    h = harness([sse_response([lines + b"\n", DONE])])
    assert h.stream()[0].delta == "a\nb"


def test_end_without_done_after_finish_reason_is_normal(harness: Callable[..., Harness]) -> None:
    h = harness([sse_response(STREAM[:-1])])  # transformers serve: no [DONE]
    chunks = h.stream()
    assert chunks[-1].done and "".join(c.delta for c in chunks) == "Neon Harbor glows."


def test_cut_off_stream_raises(harness: Callable[..., Harness]) -> None:
    h = harness([sse_response(STREAM[:2])])  # ends cleanly but without finish_reason nor [DONE]
    with pytest.raises(APIConnectionError, match="cut off"):
        h.stream()


def test_cut_mid_event_raises(harness: Callable[..., Harness]) -> None:
    h = harness([sse_response([STREAM[0], STREAM[1][:20]])])
    with pytest.raises(APIConnectionError):
        h.stream()


def test_empty_200_stream_raises(harness: Callable[..., Harness]) -> None:
    h = harness([sse_response([])])
    with pytest.raises(APIConnectionError):
        h.stream()


def test_dropped_connection_mid_stream_raises(harness: Callable[..., Harness]) -> None:
    h = harness([sse_response(STREAM[:3], error=httpx.RemoteProtocolError("peer closed connection"))])
    with pytest.raises(APIConnectionError):
        h.stream()


def test_read_timeout_between_chunks_raises(harness: Callable[..., Harness]) -> None:
    from meganova.errors import APITimeoutError

    h = harness([sse_response(STREAM[:3], error=httpx.ReadTimeout("silence"))])
    with pytest.raises(APITimeoutError):
        h.stream()


@pytest.mark.parametrize(
    ("event", "cls", "status"),
    [
        (
            b'data: {"error": {"message": "overloaded", "type": "server_error", "code": "overloaded"}}\n\n',
            InternalServerError,
            500,
        ),
        (b'event: error\ndata: {"message": "slow down", "type": "rate_limit_error"}\n\n', RateLimitError, 429),
        (b'data: {"error": {"message": "key revoked", "code": 401}}\n\n', AuthenticationError, 401),
        (b'data: {"error": "plain text error"}\n\n', InternalServerError, 500),
    ],
)
def test_error_event_mid_stream_raises_mapped_error(
    harness: Callable[..., Harness], event: bytes, cls: type, status: int
) -> None:
    h = harness([sse_response([STREAM[0], STREAM[1], event, STREAM[2], DONE])])
    with pytest.raises(cls) as info:
        h.stream()
    assert info.value.status == status
    assert info.value.request_id == "req_stream"


@pytest.mark.parametrize(
    "event",
    [
        b"data: {not json}\n\n",
        b"data: [1, 2]\n\n",
        b'data: {"choices": "x"}\n\n',
        b'data: {"choices": [{"index": "zero", "delta": {}}]}\n\n',
        b'data: {"choices": [{"index": 0, "delta": {"content": 5}}]}\n\n',
        b'data: {"choices": [7]}\n\n',
        b"data: \xff\xfe\n\n",
    ],
)
def test_malformed_event_raises_validation_error(harness: Callable[..., Harness], event: bytes) -> None:
    h = harness([sse_response([STREAM[1], event, DONE])])
    with pytest.raises(APIResponseValidationError):
        h.stream()


def test_json_answer_to_a_stream_request_is_an_error(harness: Callable[..., Harness]) -> None:
    h = harness([httpx.Response(200, json={"id": "x", "choices": []}, headers={"x-request-id": "r1"})])
    with pytest.raises(APIResponseValidationError) as info:
        h.stream()
    assert info.value.request_id == "r1" and info.value.body == {"id": "x", "choices": []}


def test_http_error_raises_when_stream_is_called_not_at_iteration(mode: str) -> None:
    from conftest import json_response

    h = Harness(mode, [json_response(401, {"error": {"message": "bad key"}})])
    kwargs = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    if mode == "sync":
        with pytest.raises(AuthenticationError):
            h.client.chat.stream(**kwargs)
    else:

        async def awaited() -> None:
            await h.client.chat.stream(**kwargs)

        async def entered() -> None:
            async with h.client.chat.stream(**kwargs):
                raise AssertionError("entered a stream whose request failed")

        for run in (awaited, entered):
            with pytest.raises(AuthenticationError):
                asyncio.run(run())


def test_text_and_final_response(harness: Callable[..., Harness]) -> None:
    h = harness(lambda request: sse_response(STREAM))
    assert h.stream_call(lambda s: s.text()) == "Neon Harbor glows."
    final = h.stream_call(lambda s: s.get_final_response())
    assert isinstance(final, ChatResponse)
    assert final.choices[0].message["content"] == "Neon Harbor glows."
    assert final.choices[0].message.role == "assistant"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage.total_tokens == 12
    assert final.id == "chatcmpl-1" and final.model == "meganova-ai/manta-flash-1.0"
    assert final.request_id == "req_stream"


def test_stream_create_with_stream_true_returns_the_stream(harness: Callable[..., Harness]) -> None:
    h = harness([sse_response(STREAM)])

    def go(client: Any) -> Any:
        return client.chat.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)

    stream = h.call(go)
    assert type(stream).__name__ in ("ChatStream", "AsyncChatStream")


def test_tool_call_deltas_are_merged(harness: Callable[..., Harness]) -> None:
    calls = [
        chunk_event(
            None,
            role="assistant",
            tool_calls=[
                {"index": 0, "id": "call_1", "type": "function", "function": {"name": "weather", "arguments": ""}}
            ],
        ),
        chunk_event(None, tool_calls=[{"index": 0, "function": {"arguments": '{"city": '}}]),
        chunk_event(None, tool_calls=[{"index": 0, "function": {"arguments": '"Neon Harbor"}'}}]),
        chunk_event(None, finish="tool_calls"),
        DONE,
    ]
    h = harness(lambda request: sse_response(calls))
    chunks = h.stream()
    assert chunks[0].delta == "" and chunks[0].tool_calls[0].id == "call_1"
    final = h.stream_call(lambda s: s.get_final_response())
    call = final.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == ("call_1", "weather", '{"city": "Neon Harbor"}')


def test_several_choices(harness: Callable[..., Harness]) -> None:
    events = [
        chunk_event("a", index=0),
        chunk_event("b", index=1),
        chunk_event("c", index=0, finish="stop"),
        chunk_event(None, index=1, finish="length"),
    ]
    h = harness(lambda request: sse_response(events))  # no [DONE]: both choices finished
    chunks = h.stream()
    assert [(c.index, c.delta) for c in chunks[:-1]] == [(0, "a"), (1, "b"), (0, "c"), (1, "")]
    final = h.stream_call(lambda s: s.get_final_response())
    assert [c.message.content for c in final.choices] == ["ac", "b"]


def test_breaking_out_early_closes_the_response(mode: str) -> None:
    h = Harness(mode, [sse_response(STREAM)])
    kwargs = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    if mode == "sync":
        with h.client.chat.stream(**kwargs) as stream:
            for _chunk in stream:
                break
        assert stream.response.is_closed
    else:

        async def run() -> Any:
            async with await h.client.chat.stream(**kwargs) as stream:
                async for _chunk in stream:
                    break
            return stream

        assert asyncio.run(run()).response.is_closed


def test_state_ignores_events_after_done() -> None:
    state = ChatStreamState("r")
    chunks = list(state.feed(b"".join(STREAM) + b'data: {"error": "after done"}\n\n'))
    assert chunks[-1].done and state.finished


def test_chunk_is_a_small_typed_value() -> None:
    chunk = ChatStreamChunk("hi", 0, "r")
    assert chunk.delta == "hi" and not chunk.done and chunk.raw.choices == []
    assert "event" not in repr(chunk)
