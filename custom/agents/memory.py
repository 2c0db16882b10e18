"""Conversation memories for agents (0.4's names): all messages, the last N, or a token budget
(about 4 characters a token); system messages are always kept."""

from __future__ import annotations

import abc
import json
from typing import Any, Dict, List


def _copy(message: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in dict(message).items() if v is not None}


class Memory(abc.ABC):
    """A store of past messages an agent sends again before each new prompt."""

    @abc.abstractmethod
    def add(self, message: Dict[str, Any]) -> None:
        """Remembers a message."""

    @abc.abstractmethod
    def get_messages(self) -> List[Dict[str, Any]]:
        """The messages to send again."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Forgets everything."""

    def to_dict(self) -> Dict[str, Any]:
        """The memory as JSON-ready data."""
        return {"type": type(self).__name__, "messages": self.get_messages()}

    @property
    def size(self) -> int:
        """How many messages `get_messages()` gives."""
        return len(self.get_messages())


class MessageMemory(Memory):
    """Every message."""

    def __init__(self) -> None:
        self._messages: List[Dict[str, Any]] = []

    def add(self, message: Dict[str, Any]) -> None:
        self._messages.append(_copy(message))

    def get_messages(self) -> List[Dict[str, Any]]:
        return [dict(m) for m in self._messages]

    def clear(self) -> None:
        self._messages.clear()


class SlidingWindowMemory(MessageMemory):
    """The last `max_messages` messages (system messages always kept, and counted)."""

    def __init__(self, max_messages: int = 20) -> None:
        super().__init__()
        self.max_messages = max_messages

    def get_messages(self) -> List[Dict[str, Any]]:
        if len(self._messages) <= self.max_messages:
            return super().get_messages()
        system = [m for m in self._messages if m.get("role") == "system"]
        others = [m for m in self._messages if m.get("role") != "system"]
        room = max(self.max_messages - len(system), 0)
        kept = others[-room:] if room else []
        return [dict(m) for m in system + kept]


class TokenBudgetMemory(MessageMemory):
    """The newest messages that fit in `max_tokens` (estimated at 4 characters a token); system
    messages always kept; the newest message is kept even when it alone is over the budget."""

    CHARS_PER_TOKEN = 4

    def __init__(self, max_tokens: int = 4096) -> None:
        super().__init__()
        self.max_tokens = max_tokens

    def estimate_tokens(self, message: Dict[str, Any]) -> int:
        """The estimated tokens of one message."""
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content) if content is not None else ""
        if message.get("tool_calls"):
            text += json.dumps(message["tool_calls"])
        return max(1, len(text) // self.CHARS_PER_TOKEN)

    def get_messages(self) -> List[Dict[str, Any]]:
        system = [m for m in self._messages if m.get("role") == "system"]
        others = [m for m in self._messages if m.get("role") != "system"]
        budget = self.max_tokens - sum(self.estimate_tokens(m) for m in system)
        kept: List[Dict[str, Any]] = []
        for message in reversed(others):
            cost = self.estimate_tokens(message)
            if cost > budget and kept:
                break
            kept.insert(0, message)
            budget -= cost
        return [dict(m) for m in system + kept]
