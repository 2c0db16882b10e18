"""A tool round trip by hand with `chat.create`: offer a tool, run the call the model asks for, send the
result back as a `tool` message, and print the answer."""

from __future__ import annotations

import json
from typing import Any, Dict, List

from meganova import MegaNova

MODEL = "meganova-ai/manta-flash-1.0"
WEATHER_TOOL: Dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


def get_weather(city: str, unit: str) -> str:
    """Our side of the tool (a real app would ask a weather service)."""
    return f"Sunny and 21 degrees {unit} in {city}"


with MegaNova() as client:
    messages: List[Dict[str, Any]] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL], tool_choice="auto")
    message = first.choices[0].message
    messages.append(message.to_dict())  # the assistant's turn, tool_calls included
    for call in message.tool_calls or []:
        arguments = json.loads(call.function.arguments)
        print(f"the model calls {call.function.name}({arguments})")
        result = get_weather(**arguments) if call.function.name == "get_weather" else "unknown tool"
        messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    final = client.chat.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    print("answer:", final.choices[0].message.content)
