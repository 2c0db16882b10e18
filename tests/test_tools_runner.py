"""The tool loop (`client.chat.run_tools`) over real sockets (MockServer with scripted answers), on both
clients: sequential and concurrent tools, tool errors, bad arguments, unknown tools, max_turns,
approvals, streaming, leaving early, cancellation, and retries that never run a tool twice."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from meganova import AsyncMegaNova, MegaNova
from meganova.custom.tools import (
    ModelResponseEvent,
    TextDeltaEvent,
    Tool,
    ToolCallEvent,
    ToolCallRequest,
    ToolError,
    tool,
)
from meganova.errors import APIConnectionError
from meganova.testing import MockServer

USER = [{"role": "user", "content": "What is the weather in Paris and Oslo?"}]


def tool_answer(*calls: Tuple[str, str], tokens: int = 5) -> Dict[str, Any]:
    """A whole answer asking for these (name, arguments) tool calls."""
    return {
        "id": "chatcmpl-tools",
        "object": "chat.completion",
        "created": 1764000000,
        "model": "meganova-ai/manta-flash-1.0",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": f"call_{n}", "type": "function", "function": {"name": name, "arguments": args}}
                        for n, (name, args) in enumerate(calls)
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": tokens, "completion_tokens": 1, "total_tokens": tokens + 1},
    }


def text_answer(text: str, tokens: int = 7) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-text",
        "object": "chat.completion",
        "created": 1764000000,
        "model": "meganova-ai/manta-flash-1.0",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": tokens, "completion_tokens": 2, "total_tokens": tokens + 2},
    }


def chunk(delta: Dict[str, Any], finish: Optional[str] = None) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1764000000,
        "model": "meganova-ai/manta-flash-1.0",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(mode: str, server: MockServer, **kwargs: Any) -> Tuple[List[Any], Any]:
    """Runs a tool loop to its end on the `mode` client; (events, runner)."""
    if mode == "sync":
        client = MegaNova(api_key=server.api_key, base_url=server.url, max_retries=kwargs.pop("max_retries", 2))
        with client:
            runner = client.chat.run_tools(messages=USER, model="m", **kwargs)
            events = list(runner)
            return events, runner

    async def go() -> Tuple[List[Any], Any]:
        client = AsyncMegaNova(api_key=server.api_key, base_url=server.url, max_retries=kwargs.pop("max_retries", 2))
        async with client:
            runner = client.chat.run_tools(messages=USER, model="m", **kwargs)
            events = [event async for event in runner]
            return events, runner

    return asyncio.run(go())


def sent_messages(server: MockServer, n: int) -> List[Dict[str, Any]]:
    body = server.requests[n].json
    assert isinstance(body, dict)
    messages = body["messages"]
    assert isinstance(messages, list)
    return messages


def weather_tools(log: List[str]) -> List[Any]:
    @tool
    def get_weather(city: str, units: str = "c") -> Dict[str, Any]:
        """The weather of a city.

        Args:
            city: The city's name.
        """
        log.append(city)
        return {"city": city, "temp": 21 if city == "Paris" else 3, "units": units}

    @tool(name="forecast", description="Tomorrow's weather.")
    async def tomorrow(city: str) -> str:
        await asyncio.sleep(0)
        log.append("forecast:" + city)
        return f"{city}: rain"

    return [get_weather, tomorrow]


def test_two_tools_then_an_answer(mode: str, server: MockServer) -> None:
    log: List[str] = []
    server.enqueue(body=tool_answer(("get_weather", '{"city": "Paris"}'), ("forecast", '{"city": "Oslo"}')))
    server.enqueue(body=text_answer("Paris 21, Oslo rain."))
    events, runner = run(mode, server, tools=weather_tools(log), temperature=0.2)

    assert [type(e) for e in events] == [ModelResponseEvent, ToolCallEvent, ToolCallEvent, ModelResponseEvent]
    first, second = events[1], events[2]
    assert (first.name, first.parsed_arguments, first.result) == (
        "get_weather",
        {"city": "Paris"},
        '{"city": "Paris", "temp": 21, "units": "c"}',
    )
    assert (second.name, second.result, second.error) == ("forecast", "Oslo: rain", None)
    assert first.duration >= 0 and first.turn == 1
    assert sorted(log) == ["Paris", "forecast:Oslo"]
    assert events[-1].content == "Paris 21, Oslo rain."
    assert runner.stop_reason == "complete" and runner.turns == 2
    assert (runner.usage.prompt_tokens, runner.usage.completion_tokens, runner.usage.total_tokens) == (12, 3, 15)

    # what the server got: the tools (from the signatures), the options on every call, then the transcript
    first_body = server.requests[0].json
    assert first_body["temperature"] == 0.2
    assert first_body["tools"][0] == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather of a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city's name."},
                    "units": {"type": "string", "default": "c"},
                },
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }
    assert first_body["tools"][1]["function"]["name"] == "forecast"
    assert first_body["tools"][1]["function"]["description"] == "Tomorrow's weather."
    again = sent_messages(server, 1)
    assert again[1]["role"] == "assistant" and [c["id"] for c in again[1]["tool_calls"]] == ["call_0", "call_1"]
    assert again[2:] == [
        {"role": "tool", "tool_call_id": "call_0", "content": '{"city": "Paris", "temp": 21, "units": "c"}'},
        {"role": "tool", "tool_call_id": "call_1", "content": "Oslo: rain"},
    ]
    assert server.requests[1].json["temperature"] == 0.2
    assert runner.messages == [*USER, again[1], *again[2:], {"role": "assistant", "content": "Paris 21, Oslo rain."}]


def test_until_done_returns_the_final_answer(mode: str, server: MockServer) -> None:
    server.enqueue(body=tool_answer(("get_weather", '{"city": "Oslo"}')))
    server.enqueue(body=text_answer("Cold."))
    if mode == "sync":
        with MegaNova(api_key=server.api_key, base_url=server.url) as client:
            final = client.chat.run_tools(messages=USER, model="m", tools=weather_tools([])).until_done()
    else:

        async def go() -> Any:
            async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
                return await client.chat.run_tools(messages=USER, model="m", tools=weather_tools([])).until_done()

        final = asyncio.run(go())
    assert final.to_dict()["choices"][0]["message"]["content"] == "Cold."
    assert len(server.requests) == 2


def test_async_tools_of_one_answer_run_concurrently(mode: str, server: MockServer) -> None:
    # each tool waits for the other: run one after the other they would time out (a watchdog, not a timing)
    events_seen: Dict[str, asyncio.Event] = {}

    def make(name: str, other: str) -> Tool[..., Any]:
        async def meet() -> str:
            loop_events = events_seen.setdefault("loop", asyncio.Event())  # noqa: F841 - one loop
            mine = events_seen.setdefault(name, asyncio.Event())
            theirs = events_seen.setdefault(other, asyncio.Event())
            mine.set()
            await asyncio.wait_for(theirs.wait(), timeout=20)
            return f"{name} met {other}"

        return Tool.from_function(meet, name=name)

    server.enqueue(body=tool_answer(("a", "{}"), ("b", "{}")))
    server.enqueue(body=text_answer("done"))
    events, _ = run(mode, server, tools=[make("a", "b"), make("b", "a")])
    results = [e.result for e in events if isinstance(e, ToolCallEvent)]
    assert results == ["a met b", "b met a"]


def test_sync_tools_in_a_thread_pool(mode: str, server: MockServer) -> None:
    barrier = threading.Barrier(2, timeout=20)  # both must be running at once

    def make(name: str) -> Tool[..., Any]:
        def meet() -> str:
            barrier.wait()
            return name + " ok"

        return Tool.from_function(meet, name=name)

    server.enqueue(body=tool_answer(("a", "{}"), ("b", "{}")))
    server.enqueue(body=text_answer("done"))
    events, _ = run(mode, server, tools=[make("a"), make("b")], max_workers=2)
    assert [e.result for e in events if isinstance(e, ToolCallEvent)] == ["a ok", "b ok"]


def test_tool_errors_and_bad_arguments_go_back_to_the_model(mode: str, server: MockServer) -> None:
    @tool
    def divide(a: float, b: float) -> float:
        """Divide a by b."""
        return a / b

    @tool
    def lookup(key: str) -> str:
        raise ToolError(f"no entry for {key!r}")

    server.enqueue(
        body=tool_answer(
            ("divide", '{"a": 1, "b": 0}'),
            ("divide", '{"a": 1, "b": "two"}'),
            ("divide", '{"a": 1'),
            ("divide", '{"a": 1, "c": 2}'),
            ("lookup", '{"key": "x"}'),
            ("teleport", '{"to": "Mars"}'),
            ("divide", '{"a": 6, "b": 3}'),
        )
    )
    server.enqueue(body=text_answer("Sorted."))
    events, runner = run(mode, server, tools=[divide, lookup])
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert [c.error for c in calls] == [
        "ZeroDivisionError: float division by zero",
        'the arguments do not fit the parameters: b: expected number, got "two"',
        calls[2].error,
        "the arguments do not fit the parameters: b: required property missing; c: unknown property",
        "no entry for 'x'",
        "there is no tool named 'teleport' (the tools are: divide, lookup)",
        None,
    ]
    assert calls[2].error is not None and calls[2].error.startswith("the arguments are not valid JSON")
    assert isinstance(calls[0].exception, ZeroDivisionError)
    assert calls[-1].result == "2.0"
    sent = sent_messages(server, 1)
    tool_results = [m["content"] for m in sent if m["role"] == "tool"]
    assert tool_results[0] == "Error: ZeroDivisionError: float division by zero"
    assert tool_results[5].startswith("Error: there is no tool named 'teleport'")
    assert runner.stop_reason == "complete"


def test_raise_tool_errors_re_raises(mode: str, server: MockServer) -> None:
    @tool
    def explode() -> str:
        raise KeyError("boom")

    server.enqueue(body=tool_answer(("explode", "{}")))
    with pytest.raises(KeyError, match="boom"):
        run(mode, server, tools=[explode], raise_tool_errors=True)
    assert len(server.requests) == 1


def test_max_turns_stops_without_running_the_last_tools(mode: str, server: MockServer) -> None:
    log: List[str] = []
    server.enqueue(body=tool_answer(("get_weather", '{"city": "Paris"}')), times=5)
    events, runner = run(mode, server, tools=weather_tools(log), max_turns=2)
    assert len(server.requests) == 2
    assert log == ["Paris"]  # turn 1's tool ran; turn 2's did not
    assert runner.stop_reason == "max_turns" and runner.turns == 2
    assert isinstance(events[-1], ModelResponseEvent)
    server.reset()


def test_tool_choice_forcing_a_call_is_sent_once(mode: str, server: MockServer) -> None:
    server.enqueue(body=tool_answer(("get_weather", '{"city": "Paris"}')))
    server.enqueue(body=text_answer("ok"))
    run(mode, server, tools=weather_tools([]), tool_choice="required")
    assert server.requests[0].json["tool_choice"] == "required"
    assert server.requests[1].json["tool_choice"] == "auto"


def test_approvals(mode: str, server: MockServer) -> None:
    log: List[str] = []

    @tool(needs_approval=True)
    def delete_file(path: str) -> str:
        log.append(path)
        return "deleted " + path

    asked: List[ToolCallRequest] = []

    def approve(request: ToolCallRequest) -> Any:
        asked.append(request)
        if request.parsed_arguments == {"path": "notes.txt"}:
            return True
        if request.parsed_arguments == {"path": "/etc"}:
            return "system folders are off limits"
        return False

    server.enqueue(
        body=tool_answer(
            ("delete_file", '{"path": "notes.txt"}'),
            ("delete_file", '{"path": "/etc"}'),
            ("delete_file", '{"path": "x"}'),
        )
    )
    server.enqueue(body=text_answer("Done."))
    events, _ = run(mode, server, tools=[delete_file], approve=approve)
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert [c.approved for c in calls] == [True, False, False]
    assert [c.result for c in calls] == [
        "deleted notes.txt",
        "Error: the call was refused: system folders are off limits",
        "Error: the call was refused: the user did not approve it",
    ]
    assert log == ["notes.txt"] and [a.name for a in asked] == ["delete_file"] * 3
    assert [m["content"] for m in sent_messages(server, 1) if m["role"] == "tool"] == [c.result for c in calls]


def test_async_approve_and_no_approver(server: MockServer) -> None:
    @tool(needs_approval=True)
    async def send_money(amount: int) -> str:
        return f"sent {amount}"

    async def approve(request: ToolCallRequest) -> bool:
        await asyncio.sleep(0)
        return (request.parsed_arguments or {}).get("amount", 0) < 100

    server.enqueue(body=tool_answer(("send_money", '{"amount": 5}'), ("send_money", '{"amount": 500}')))
    server.enqueue(body=text_answer("ok"))
    events, _ = run("async", server, tools=[send_money], approve=approve)
    assert [e.result for e in events if isinstance(e, ToolCallEvent)] == [
        "sent 5",
        "Error: the call was refused: the user did not approve it",
    ]
    server.enqueue(body=tool_answer(("send_money", '{"amount": 5}')))
    server.enqueue(body=text_answer("ok"))
    events, _ = run("sync", server, tools=[send_money])
    (call,) = [e for e in events if isinstance(e, ToolCallEvent)]
    assert (
        call.result
        == "Error: the call was refused: the tool 'send_money' needs approval and no approve callback was given"
    )


def test_leaving_after_an_answer_runs_no_tool(mode: str, server: MockServer) -> None:
    log: List[str] = []
    server.enqueue(body=tool_answer(("get_weather", '{"city": "Paris"}')))
    if mode == "sync":
        with MegaNova(api_key=server.api_key, base_url=server.url) as client:
            runner = client.chat.run_tools(messages=USER, model="m", tools=weather_tools(log))
            for event in runner:
                assert isinstance(event, ModelResponseEvent)
                break
            runner.close()
            assert list(runner) == []
    else:

        async def go() -> None:
            async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
                runner = client.chat.run_tools(messages=USER, model="m", tools=weather_tools(log))
                async with runner:
                    async for event in runner:
                        assert isinstance(event, ModelResponseEvent)
                        break
                assert [e async for e in runner] == []

        asyncio.run(go())
    assert log == [] and len(server.requests) == 1


def streamed_tool_answer() -> List[Any]:
    return [
        chunk({"role": "assistant", "content": "Let me "}),
        chunk({"content": "check."}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_s",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Oslo"}'}}]}),
        chunk({}, finish="tool_calls"),
        "data: [DONE]",
    ]


def test_streaming_mode_yields_text_then_tools(mode: str, server: MockServer) -> None:
    log: List[str] = []
    server.enqueue(stream_events=streamed_tool_answer())
    server.enqueue(
        stream_events=[
            chunk({"role": "assistant", "content": "Oslo: 3"}),
            chunk({"content": " degrees."}, finish="stop"),
            "data: [DONE]",
        ]
    )
    events, runner = run(mode, server, tools=weather_tools(log), stream=True)
    kinds = [e.type for e in events]
    assert kinds == [
        "text_delta",
        "text_delta",
        "model_response",
        "tool_call",
        "text_delta",
        "text_delta",
        "model_response",
    ]
    assert [e.delta for e in events if isinstance(e, TextDeltaEvent)] == ["Let me ", "check.", "Oslo: 3", " degrees."]
    call = events[3]
    assert (call.id, call.parsed_arguments, log) == ("call_s", {"city": "Oslo"}, ["Oslo"])
    assert server.requests[0].json["stream"] is True
    assert sent_messages(server, 1)[1]["tool_calls"] == [
        {"id": "call_s", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
    ]
    assert runner.messages[-1] == {"role": "assistant", "content": "Oslo: 3 degrees."}


def wait_for_open_connections(server: MockServer, expected: int) -> int:
    """The server's open connections once they are `expected` (a watchdog of 20 s, not a timing)."""
    deadline = time.monotonic() + 20
    while server.open_connections != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return server.open_connections


def test_leaving_a_stream_early_closes_it_and_runs_no_tool(mode: str, server: MockServer) -> None:
    log: List[str] = []
    server.enqueue(stream_events=streamed_tool_answer(), chunk_delay=0.05)
    if mode == "sync":
        with MegaNova(api_key=server.api_key, base_url=server.url) as client:
            runner = client.chat.run_tools(messages=USER, model="m", tools=weather_tools(log), stream=True)
            first = next(iter(runner))
            runner.close()
            assert client.chat.create(messages=USER, model="meganova-ai/manta-flash-1.0").to_dict()[
                "choices"
            ]  # the client still works
            opened_after = wait_for_open_connections(server, 1)
    else:

        async def go() -> Any:
            async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
                runner = client.chat.run_tools(messages=USER, model="m", tools=weather_tools(log), stream=True)
                got = await runner.__anext__()
                await runner.close()
                assert (await client.chat.create(messages=USER, model="meganova-ai/manta-flash-1.0")).to_dict()[
                    "choices"
                ]
                return got, wait_for_open_connections(server, 1)

        first, opened_after = asyncio.run(go())
    assert isinstance(first, TextDeltaEvent)
    assert log == [] and len(server.requests) == 2
    assert server.connections_accepted == 2 and opened_after == 1


def test_cancelling_the_task_cancels_the_tools(server: MockServer) -> None:
    started = threading.Event()
    cancelled: List[bool] = []

    @tool
    async def slow() -> str:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "never"

    server.enqueue(body=tool_answer(("slow", "{}")))

    async def go() -> None:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            runner = client.chat.run_tools(messages=USER, model="m", tools=[slow])
            task = asyncio.ensure_future(runner.until_done())
            while not started.is_set():
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=30)

    asyncio.run(go())
    assert cancelled == [True] and len(server.requests) == 1


def test_a_retried_request_never_runs_a_tool_twice(mode: str, server: MockServer) -> None:
    log: List[str] = []
    server.enqueue(503)
    server.enqueue(body=tool_answer(("get_weather", '{"city": "Paris"}')))
    server.enqueue(503)
    server.enqueue(body=text_answer("ok"))
    _, runner = run(mode, server, tools=weather_tools(log))
    assert log == ["Paris"] and len(server.requests) == 4 and runner.stop_reason == "complete"


def test_a_stream_cut_off_before_its_end_runs_no_tool(mode: str, server: MockServer) -> None:
    log: List[str] = []
    server.enqueue(stream_events=streamed_tool_answer()[:5], done=False)  # the connection ends mid-answer
    with pytest.raises(APIConnectionError):
        run(mode, server, tools=weather_tools(log), stream=True, max_retries=0)
    assert log == []


def test_a_json_tool_without_function_ends_the_loop(mode: str, server: MockServer) -> None:
    definition = {
        "type": "function",
        "function": {
            "name": "ask_user",
            "description": "Ask the user.",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
        },
    }
    server.enqueue(body=tool_answer(("ask_user", '{"q": "Which city?"}')))
    events, runner = run(mode, server, tools=[definition])
    assert runner.stop_reason == "external_tool" and len(events) == 1
    assert server.requests[0].json["tools"] == [definition]
    # a JSON definition with a function is run
    server.reset()
    server.enqueue(body=tool_answer(("ask_user", '{"q": "Which city?"}')))
    server.enqueue(body=text_answer("ok"))
    events, _ = run(mode, server, tools=[Tool.from_dict(definition, lambda q: "Oslo")])
    assert [e.result for e in events if isinstance(e, ToolCallEvent)] == ["Oslo"]


def test_tools_keep_their_function_behaviour() -> None:
    @tool
    def add(a: int, b: int = 2) -> int:
        """Add."""
        return a + b

    assert add(1) == 3 and add(a=1, b=5) == 6
    assert add.name == "add" and add.description == "Add." and not add.is_async
    assert add.to_dict()["function"]["parameters"]["required"] == ["a"]
    strict = Tool.from_function(add.function, name="plus", strict=True)  # type: ignore[arg-type]
    assert strict.to_dict()["function"]["strict"] is True
    assert strict.run('{"a": 1, "b": null}').result == "3"  # null in strict mode: the default
    assert json.loads(add.run({"a": 4}).result) == 6
