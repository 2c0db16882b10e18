"""The tool runner's own CPU: one tool turn (an answer asking for a tool, the tool run, the next request
built) beyond the chat calls it makes. The chat calls are answered in-process by prebuilt answers, so
what is measured is the runner (its state, argument validation, events, transcript), not HTTP."""

from __future__ import annotations

import time
from typing import Any, Dict, List

from meganova.custom.tools import Tool
from meganova.custom.tools._runner import ToolRunner, make_state
from meganova.models import ChatResponse


def _answers() -> List[Any]:
    call = {
        "id": "chatcmpl-bench",
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
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Neon Harbor", "days": 2}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
    }
    done = {
        **call,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "21 degrees."}, "finish_reason": "stop"}],
    }
    return [ChatResponse.from_dict(call), ChatResponse.from_dict(done)]


class _Chat:
    """Answers `create()` with prebuilt answers: a tool call, then text."""

    def __init__(self, answers: List[Any]) -> None:
        self.answers = answers
        self.n = 0

    def create(self, **kwargs: Any) -> Any:
        answer = self.answers[self.n % 2]
        self.n += 1
        return answer


def get_weather(city: str, days: int = 1) -> Dict[str, Any]:
    """The weather of a city."""
    return {"city": city, "days": days, "temp": 21}


def measure(loops: int = 2000) -> Dict[str, float]:
    """CPU microseconds per tool turn (best of 3), and per chat call the runner makes."""
    tool = Tool.from_function(get_weather)
    answers = _answers()
    best = float("inf")
    for _ in range(3):
        chat = _Chat(answers)
        started = time.process_time()
        for _ in range(loops):
            state = make_state(
                [{"role": "user", "content": "Weather?"}],
                [tool],
                model="m",
                max_turns=10,
                approve=None,
                raise_tool_errors=False,
                request={},
            )
            runner = ToolRunner(chat, state)
            runner.until_done()
            assert runner.stop_reason == "complete" and len(runner.messages) == 4
        best = min(best, (time.process_time() - started) / loops)
    return {"cpu_us_per_tool_turn": best * 1e6, "loops": float(loops)}


if __name__ == "__main__":
    print(measure())
