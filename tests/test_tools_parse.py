"""Structured outputs (`chat.parse`, `chat.completions.parse`), streamed parsing and the openai-style
stream events (`chat.completions.stream`), over real sockets on both clients; the partial JSON reader."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
from typing import Any, Dict, Iterator, List, Optional, TypedDict

import pytest
from test_tools_runner import chunk, text_answer

from meganova import AsyncMegaNova, ChatStreamChunk, MegaNova, MeganovaError
from meganova.custom.tools import (
    ContentFilterFinishReasonError,
    InvalidJSONError,
    LengthFinishReasonError,
    ValidationError,
    parse_partial_json,
)
from meganova.testing import MockServer

USER = [{"role": "user", "content": "Describe Luna."}]


class Species(enum.Enum):
    CAT = "cat"
    OWL = "owl"


@dataclasses.dataclass
class Friend:
    name: str
    years: int


@dataclasses.dataclass
class Character:
    name: str
    species: Species
    friends: List[Friend]
    motto: Optional[str] = None


class Scene(TypedDict):
    place: str
    mood: str


LUNA = {
    "name": "Luna",
    "species": "cat",
    "friends": [{"name": "Bo", "years": 3}, {"name": "Ivy", "years": 12}],
    "motto": None,
}
LUNA_VALUE = Character("Luna", Species.CAT, [Friend("Bo", 3), Friend("Ivy", 12)], None)


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def parse(mode: str, server: MockServer, *, completions: bool = False, **kwargs: Any) -> Any:
    if mode == "sync":
        with MegaNova(api_key=server.api_key, base_url=server.url) as client:
            resource: Any = client.chat.completions if completions else client.chat
            return resource.parse(messages=USER, model="m", **kwargs)

    async def go() -> Any:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            resource: Any = client.chat.completions if completions else client.chat
            return await resource.parse(messages=USER, model="m", **kwargs)

    return asyncio.run(go())


def answer(content: Optional[str], finish: str = "stop", **message: Any) -> Dict[str, Any]:
    body = text_answer("")
    body["choices"][0]["message"] = {"role": "assistant", "content": content, **message}
    body["choices"][0]["finish_reason"] = finish
    return body


@pytest.mark.parametrize("completions", [False, True])
def test_parse_sends_a_strict_schema_and_validates(mode: str, server: MockServer, completions: bool) -> None:
    server.enqueue(body=answer(json.dumps(LUNA)))
    result = parse(mode, server, completions=completions, response_format=Character, temperature=0)
    message = result.choices[0].message
    assert message.parsed == LUNA_VALUE and message.refusal is None
    assert message.content == json.dumps(LUNA)
    assert result.choices[0].finish_reason == "stop" and result.id == "chatcmpl-text"
    assert result.usage.total_tokens == 9
    sent = server.requests[0].json
    assert sent["temperature"] == 0
    fmt = sent["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Character"
    assert fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False and schema["required"] == ["name", "species", "friends", "motto"]
    assert schema["$defs"]["Friend"]["required"] == ["name", "years"]


def test_parse_typeddict_and_a_non_object_root(mode: str, server: MockServer) -> None:
    server.enqueue(body=answer('{"place": "roof", "mood": "calm"}'))
    assert parse(mode, server, response_format=Scene).choices[0].message.parsed == {"place": "roof", "mood": "calm"}
    server.enqueue(body=answer('{"value": [3, 1, 2]}'))
    assert parse(mode, server, response_format=List[int]).choices[0].message.parsed == [3, 1, 2]
    wrapped = server.requests[1].json["response_format"]["json_schema"]["schema"]
    assert wrapped["properties"]["value"] == {"type": "array", "items": {"type": "integer"}}


def test_a_refusal_leaves_parsed_none(mode: str, server: MockServer) -> None:
    server.enqueue(body=answer(None, refusal="I can't describe that character."))
    message = parse(mode, server, response_format=Character).choices[0].message
    assert message.parsed is None and message.refusal == "I can't describe that character."


def test_typed_errors(mode: str, server: MockServer) -> None:
    server.enqueue(body=answer('{"name": "Lu', finish="length"))
    with pytest.raises(LengthFinishReasonError) as length:
        parse(mode, server, response_format=Character)
    assert isinstance(length.value, MeganovaError) and length.value.completion is not None
    server.enqueue(body=answer("", finish="content_filter"))
    with pytest.raises(ContentFilterFinishReasonError):
        parse(mode, server, response_format=Character)
    server.enqueue(body=answer("Sure! Here is Luna: {"))
    with pytest.raises(InvalidJSONError) as invalid:
        parse(mode, server, response_format=Character)
    assert invalid.value.text == "Sure! Here is Luna: {"
    server.enqueue(
        body=answer('{"name": "Luna", "species": "dog", "friends": [{"name": "Bo", "years": "3"}], "motto": null}')
    )
    with pytest.raises(ValidationError) as wrong:
        parse(mode, server, response_format=Character)
    assert wrong.value.errors == [
        'species: expected one of ["cat", "owl"], got "dog"',
        'friends[0].years: expected integer, got "3"',
    ]
    assert wrong.value.text is not None and '"dog"' in wrong.value.text


def streamed(text: str, size: int = 5) -> List[Any]:
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    return [
        chunk({"role": "assistant"}),
        *[chunk({"content": p}) for p in pieces],
        chunk({}, finish="stop"),
        "data: [DONE]",
    ]


def collect_events(mode: str, server: MockServer, **kwargs: Any) -> Any:
    if mode == "sync":
        with (
            MegaNova(api_key=server.api_key, base_url=server.url) as client,
            client.chat.completions.stream(messages=USER, model="m", **kwargs) as stream,
        ):
            events = list(stream)
            return events, stream.get_final_completion()

    async def go() -> Any:
        async with (
            AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client,
            client.chat.completions.stream(messages=USER, model="m", **kwargs) as stream,
        ):
            events = [e async for e in stream]
            return events, await stream.get_final_completion()

    return asyncio.run(go())


def test_streaming_parse_gives_partial_objects_then_the_validated_one(mode: str, server: MockServer) -> None:
    text = json.dumps(LUNA)
    server.enqueue(stream_events=streamed(text))
    events, final = collect_events(mode, server, response_format=Character)
    deltas = [e for e in events if e.type == "content.delta"]
    assert "".join(e.delta for e in deltas) == text and deltas[-1].snapshot == text
    partials = [e.parsed for e in deltas]
    assert all(isinstance(p, dict) for p in partials[1:])
    assert {"name": "Luna"}.items() <= partials[len(partials) // 2].items()
    assert partials[-1] == LUNA  # the last partial is the whole JSON
    done = [e for e in events if e.type == "content.done"]
    assert len(done) == 1 and done[0].parsed == LUNA_VALUE and done[0].content == text
    assert final.choices[0].message.parsed == LUNA_VALUE
    assert server.requests[0].json["response_format"]["json_schema"]["strict"] is True
    assert server.requests[0].json["stream"] is True


def test_stream_events_for_text_refusal_and_tool_calls(mode: str, server: MockServer) -> None:
    server.enqueue(
        stream_events=[
            chunk({"role": "assistant", "content": "Hel"}),
            chunk({"content": "lo"}),
            chunk({"refusal": "I won't "}),
            chunk({"refusal": "do that."}),
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "id": "c0", "type": "function", "function": {"name": "roll", "arguments": '{"sid'}}
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'es": 6}'}}]}),
            chunk(
                {
                    "tool_calls": [
                        {"index": 1, "id": "c1", "type": "function", "function": {"name": "greet", "arguments": "{}"}}
                    ]
                }
            ),
            chunk({}, finish="tool_calls"),
            "data: [DONE]",
        ]
    )
    events, final = collect_events(mode, server)
    kinds = [e.type for e in events if e.type != "chunk"]
    assert kinds == [
        "content.delta",
        "content.delta",
        "refusal.delta",
        "refusal.delta",
        "tool_calls.function.arguments.delta",
        "tool_calls.function.arguments.delta",
        "tool_calls.function.arguments.done",
        "tool_calls.function.arguments.delta",
        "content.done",
        "refusal.done",
        "tool_calls.function.arguments.done",
    ]
    assert len([e for e in events if e.type == "chunk"]) == 8
    by_kind = {e.type: e for e in events}
    assert by_kind["content.done"].content == "Hello" and by_kind["content.done"].parsed is None
    assert by_kind["refusal.done"].refusal == "I won't do that."
    arg_deltas = [e for e in events if e.type == "tool_calls.function.arguments.delta"]
    assert [(e.name, e.index, e.arguments, e.parsed_arguments) for e in arg_deltas[:2]] == [
        ("roll", 0, '{"sid', {}),
        ("roll", 0, '{"sides": 6}', {"sides": 6}),
    ]
    dones = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [(e.name, e.parsed_arguments) for e in dones] == [("roll", {"sides": 6}), ("greet", {})]
    message = final.choices[0].message
    assert message.content == "Hello" and [c["function"]["name"] for c in message.tool_calls] == ["roll", "greet"]
    assert final.choices[0].finish_reason == "tool_calls"


def test_chat_stream_keeps_its_simple_chunks(server: MockServer) -> None:
    server.enqueue(stream_events=streamed("plain text"))
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        chunks = list(client.chat.stream(messages=USER, model="m"))
    assert all(isinstance(c, ChatStreamChunk) for c in chunks)
    assert "".join(c.delta for c in chunks) == "plain text"


def test_leaving_the_with_block_early_closes_the_stream(server: MockServer) -> None:
    server.enqueue(stream_events=streamed(json.dumps(LUNA), size=2), chunk_delay=0.02)
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        with client.chat.completions.stream(messages=USER, model="m", response_format=Character) as stream:
            for event in stream:
                if event.type == "content.delta":
                    break
        assert list(stream) == []
        assert client.chat.create(messages=USER, model="meganova-ai/manta-flash-1.0").to_dict()[
            "choices"
        ]  # the client still works


@pytest.mark.parametrize(
    "document",
    [
        {"a": [1, 2.5, -3e2, True, False, None], "b": {"c": 'x\\y\n\u00e9"q'}, "d": []},
        [{"k": "v"}, [], "s", 0],
        "just a string",
        -12.5,
        {"nested": {"deeper": {"deepest": [[["x"]]]}}},
    ],
)
def test_partial_json_reads_every_prefix(document: Any) -> None:
    text = json.dumps(document)
    previous: Any = None
    for end in range(len(text) + 1):
        value = parse_partial_json(text[:end])
        if isinstance(document, (dict, list)) and end > 0:
            assert isinstance(value, type(document))
        previous = value
    assert previous == document
    assert parse_partial_json("") is None
    with pytest.raises(InvalidJSONError):
        parse_partial_json('{"a": ]')
