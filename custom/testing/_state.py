"""What the API remembers between requests (video jobs, agent conversations and approvals), and the
per-request `Context` handlers receive. Thread-safe: every method takes the lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Optional, Tuple

__all__ = ["ApiState", "Context", "PendingApproval"]


@dataclass(frozen=True)
class PendingApproval:
    """A tool call an agent is waiting on."""

    agent_key: str
    conversation_id: str
    tool_call: Dict[str, Any]


@dataclass
class _Video:
    record: Dict[str, Any]
    fails: bool
    polls: int = 0


class ApiState:
    """The server's memory; `clear()` forgets everything (`MockServer.reset()` calls it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._videos: Dict[str, _Video] = {}
        self._turns: Dict[Tuple[str, str], int] = {}
        self._approvals: Dict[str, PendingApproval] = {}

    def clear(self) -> None:
        with self._lock:
            self._videos.clear()
            self._turns.clear()
            self._approvals.clear()

    def add_video(self, record: Dict[str, Any], fails: bool) -> Dict[str, Any]:
        """Remembers a new video job; a copy of its record."""
        with self._lock:
            self._videos[record["id"]] = _Video(dict(record), fails)
            return dict(record)

    def poll_video(self, generation_id: str, url: str, error: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Moves the job one step (queued → in_progress → completed / failed); a copy of its record, or None."""
        with self._lock:
            video = self._videos.get(generation_id)
            if video is None:
                return None
            video.polls += 1
            record = video.record
            if video.polls == 1:
                record["status"] = "in_progress"
            elif record["status"] == "in_progress":
                if video.fails:
                    record["status"] = "failed"
                    record["error"] = dict(error)
                else:
                    record["status"] = "completed"
                    record["url"] = url
            return dict(record)

    def next_turn(self, agent_key: str, conversation_id: str) -> int:
        """How many messages the conversation had before this one (and counts this one)."""
        with self._lock:
            key = (agent_key, conversation_id)
            turn = self._turns.get(key, 0)
            self._turns[key] = turn + 1
            return turn

    def add_approval(self, approval_id: str, approval: PendingApproval) -> None:
        with self._lock:
            self._approvals[approval_id] = approval

    def take_approval(self, agent_key: str, approval_id: str) -> Optional[PendingApproval]:
        """The pending tool call of this agent with this id, forgotten as it is returned; None when unknown."""
        with self._lock:
            approval = self._approvals.get(approval_id)
            if approval is None or approval.agent_key != agent_key:
                return None
            del self._approvals[approval_id]
            return approval


@dataclass(frozen=True)
class Context:
    """What a handler gets besides the request."""

    answer_id: str
    """A hex counter, unique per request: the base of the ids the answer makes up."""
    state: ApiState = field(default_factory=ApiState)
    params: Tuple[str, ...] = ()
    """The path's parameters (percent-decoded), in order."""
    agent_keys: Optional[FrozenSet[str]] = None
    """The Studio agent keys the server knows (None: any `agent_...` key)."""
    chat_models: Optional[FrozenSet[str]] = None
    """The model ids chat completions answer; another gets 404 `model_not_found` (None: any id)."""
