"""The tool loop and parse against MockServer's own model (no scripted answers): it calls an offered tool
that matches the user's words and answers json_schema requests with JSON valid against the schema."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from typing import Any, Iterator, List, Optional

import pytest

import meganova
from meganova import AsyncMegaNova, MegaNova
from meganova.custom.tools import ToolCallEvent
from meganova.testing import MockServer

MODEL = "meganova-ai/manta-flash-1.0"


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@meganova.tool
def get_weather(city: str) -> str:
    """The current weather in a city.

    Args:
        city: The city, e.g. Paris.
    """
    return f"Sunny in {city}"


class Mood(enum.Enum):
    CALM = "calm"
    WILD = "wild"


@dataclasses.dataclass
class Dish:
    name: str
    price: float


@dataclasses.dataclass
class Stall:
    owner: str
    mood: Mood
    dishes: List[Dish]
    open_late: bool = False
    note: Optional[str] = None


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_mock_model_uses_the_tool_and_answers(server: MockServer, mode: str) -> None:
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    if mode == "sync":
        with MegaNova(api_key=server.api_key, base_url=server.url) as client:
            runner = client.chat.run_tools(messages=messages, model=MODEL, tools=[get_weather])
            events: List[Any] = list(runner)
    else:

        async def go() -> Any:
            async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
                running = client.chat.run_tools(messages=messages, model=MODEL, tools=[get_weather], stream=True)
                return running, [e async for e in running]

        runner, events = asyncio.run(go())
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert [c.name for c in calls] == ["get_weather"] and calls[0].error is None
    assert calls[0].result.startswith("Sunny in ")
    assert runner.stop_reason == "complete" and runner.turns == 2
    assert "Sunny in" in (runner.messages[-1]["content"] or "")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_mock_model_answers_a_strict_schema(server: MockServer, mode: str) -> None:
    messages = [{"role": "user", "content": "Invent a stall."}]
    if mode == "sync":
        with MegaNova(api_key=server.api_key, base_url=server.url) as client:
            result = client.chat.parse(messages=messages, model=MODEL, response_format=Stall)
            with client.chat.completions.stream(messages=messages, model=MODEL, response_format=Stall) as stream:
                streamed = stream.get_final_completion()
    else:

        async def go() -> Any:
            async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
                parsed = await client.chat.parse(messages=messages, model=MODEL, response_format=Stall)
                async with client.chat.completions.stream(messages=messages, model=MODEL, response_format=Stall) as s:
                    return parsed, await s.get_final_completion()

        result, streamed = asyncio.run(go())
    for answer in (result, streamed):
        stall = answer.choices[0].message.parsed
        assert isinstance(stall, Stall) and isinstance(stall.mood, Mood)
        assert all(isinstance(d, Dish) for d in stall.dishes)
