# pyright: strict
"""Checked by `make lint` with mypy --strict and pyright strict (not run by pytest): a tool-using app and
a parse app, as users' type checkers see them."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Optional

from typing_extensions import assert_type

import meganova
from meganova import AsyncMegaNova, MegaNova
from meganova.custom.tools import (
    AsyncToolRunner,
    ParsedChatResponse,
    RunEvent,
    Tool,
    ToolCallEvent,
    ToolCallRequest,
    ToolRunner,
)
from meganova.models import ChatResponse


@meganova.tool
def get_weather(city: str, days: int = 1) -> Dict[str, Any]:
    """The weather of a city.

    Args:
        city: The city's name.
        days: How many days ahead.
    """
    return {"city": city, "days": days}


@meganova.tool(name="roll", strict=True, needs_approval=True)
async def roll_dice(sides: int) -> int:
    """Roll a die."""
    return sides


same_signature: Callable[[str, int], Dict[str, Any]] = get_weather  # the Tool keeps the function's type
assert_type(get_weather("Paris"), Dict[str, Any])  # still callable like the function
assert_type(get_weather(city="Oslo", days=2), Dict[str, Any])


def shout(text: str) -> str:
    return text.upper()


assert_type(Tool.from_function(shout, name="loud")("abc"), str)
assert_type(get_weather.to_dict(), Dict[str, Any])


def approve(request: ToolCallRequest) -> bool:
    return request.name != "roll" or (request.parsed_arguments or {}).get("sides", 0) <= 20


def tool_app(client: MegaNova) -> Optional[str]:
    runner = client.chat.run_tools(
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        model="meganova-ai/manta-flash-1.0",
        tools=[get_weather, roll_dice],
        max_turns=5,
        approve=approve,
    )
    assert_type(runner, ToolRunner)
    for event in runner:
        assert_type(event, RunEvent)
        if isinstance(event, ToolCallEvent):
            print(event.name, event.result, event.error, event.duration)
    final = runner.until_done()
    assert_type(final, ChatResponse)
    assert_type(runner.messages, List[Dict[str, Any]])
    assert_type(runner.usage.total_tokens, int)
    return final.choices[0].message.content


@dataclasses.dataclass
class Character:
    name: str
    friends: List[str]


def parse_app(client: MegaNova) -> str:
    result = client.chat.parse(
        messages=[{"role": "user", "content": "Invent a character"}], model="m", response_format=Character
    )
    assert_type(result, ParsedChatResponse[Character])
    parsed = result.choices[0].message.parsed
    assert_type(parsed, Optional[Character])
    if parsed is None:
        return result.choices[0].message.refusal or ""
    also = client.chat.completions.parse(messages=[], model="m", response_format=Character)
    assert_type(also.choices[0].message.parsed, Optional[Character])
    with client.chat.completions.stream(messages=[], model="m", response_format=Character) as stream:
        for event in stream:
            print(event.type)
        final = stream.get_final_completion()
    assert_type(final, ParsedChatResponse[Character])
    return parsed.name + ", ".join(parsed.friends)


async def async_apps(client: AsyncMegaNova) -> None:
    runner = client.chat.run_tools(messages=[], model="m", tools=[get_weather])
    assert_type(runner, AsyncToolRunner)
    async for event in runner:
        assert_type(event, RunEvent)
    assert_type(await runner.until_done(), ChatResponse)
    result = await client.chat.parse(messages=[], model="m", response_format=Character)
    assert_type(result.choices[0].message.parsed, Optional[Character])
