"""`AgentSession`: a Studio agent conversation (`meganova.cloud`) behind the same `send` / `history`
interface as a chat session, its turns kept in a `SessionStore` too."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from meganova.errors import MeganovaError

from ._store import SessionStore

if TYPE_CHECKING:
    from meganova.cloud import AsyncConversation, Conversation
    from meganova.models.agent_chat_response import AgentChatResponse

__all__ = ["AgentSession", "AsyncAgentSession"]


class _AgentBase:
    def __init__(self, conversation: Any, store: Optional[SessionStore], name: Optional[str]) -> None:
        if store is not None and not name:
            raise MeganovaError("a session kept in a SessionStore needs a name=")
        self._conversation = conversation
        self._store = store
        self._name = name
        self._history: List[Dict[str, Any]] = []
        if store is not None and name:
            loaded = store.load(name)
            if loaded is not None:
                state, self._history = loaded
                if conversation.conversation_id is None and isinstance(state.get("conversation_id"), str):
                    conversation.conversation_id = state["conversation_id"]
            self._save_state()

    def _save_state(self) -> None:
        if self._store is not None and self._name:
            self._store.save_state(self._name, {"agent": True, "conversation_id": self._conversation.conversation_id})

    def _record(self, text: str, reply: AgentChatResponse) -> None:
        answer = reply.get("response")
        turn = [
            {"role": "user", "content": text},
            {"role": "assistant", "content": answer if isinstance(answer, str) else ""},
        ]
        if self._store is not None and self._name:
            self._save_state()
            if not self._store.record_turn(self._name, uuid.uuid4().hex, turn):
                return
        self._history.extend(turn)

    @property
    def history(self) -> List[Dict[str, Any]]:
        """The conversation so far (user and assistant messages), oldest first."""
        return list(self._history)

    @property
    def conversation_id(self) -> Optional[str]:
        """The agent's conversation id (the server keeps the history)."""
        value = self._conversation.conversation_id
        return value if isinstance(value, str) else None


class AgentSession(_AgentBase):
    """`send(text)` to a Studio agent's conversation (`CloudAgent(...).conversation()`); the turn is kept
    (in `store` under `name` too, with the conversation id, so it resumes) once the reply arrives."""

    def __init__(
        self, conversation: Conversation, *, store: Optional[SessionStore] = None, name: Optional[str] = None
    ) -> None:
        super().__init__(conversation, store, name)

    def send(self, text: str, **kwargs: Any) -> AgentChatResponse:
        """Sends `text`; the agent's reply (`reply.response`)."""
        reply: AgentChatResponse = self._conversation.chat(text, **kwargs)
        self._record(text, reply)
        return reply


class AsyncAgentSession(_AgentBase):
    """The async twin of `AgentSession`: `await send(text)`."""

    def __init__(
        self, conversation: AsyncConversation, *, store: Optional[SessionStore] = None, name: Optional[str] = None
    ) -> None:
        super().__init__(conversation, store, name)

    async def send(self, text: str, **kwargs: Any) -> AgentChatResponse:
        """Sends `text`; the agent's reply."""
        reply: AgentChatResponse = await self._conversation.chat(text, **kwargs)
        self._record(text, reply)
        return reply
