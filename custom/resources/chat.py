"""`client.chat`: chat completions, whole or streamed (`create`, `stream`), generated from the spec,
and `client.chat.completions.create(...)`, the OpenAI (and 0.4 SDK) spelling of the same call.

Extension point used here: `_stream_class`, the stream object a streamed answer is read with: the
guideline's `ChatStream` (`ChatStreamChunk`s) for `chat`, OpenAI-shaped chunks for `chat.completions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Union

if TYPE_CHECKING:
    import httpx

    from ...characters import AsyncChatSession, Character, ChatSession, Memory, SessionStore

from ...api.chat import AsyncChatResource, ChatResource
from .._completion_stream import AsyncCompletionStream, CompletionStream
from ..runtime.streaming import AsyncChatStream, ChatStream
from ..tools._resource import AsyncStreamEventsMethod, AsyncToolsMethods, SyncStreamEventsMethod, SyncToolsMethods


class Completions(SyncStreamEventsMethod, ChatResource[CompletionStream], SyncToolsMethods):  # type: ignore[misc]
    """`create()`: the chat call as openai-python spells it; with `stream=True`, OpenAI-shaped chunks;
    `parse()`, and `stream()` giving openai's stream events."""

    _stream_class = CompletionStream


class AsyncCompletions(AsyncStreamEventsMethod, AsyncChatResource[AsyncCompletionStream], AsyncToolsMethods):  # type: ignore[misc]
    """`await create()`: the chat call as openai-python spells it; `stream=True` gives OpenAI chunks;
    `await parse()`, and `stream()` giving openai's stream events."""

    _stream_class = AsyncCompletionStream


class Chat(ChatResource[ChatStream], SyncToolsMethods):
    """Chat completions: `create()` (with `stream=True`, a `ChatStream`), `stream()`, `run_tools()` (the
    tool loop), `parse()` (structured outputs), and `completions`."""

    _stream_class = ChatStream

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = Completions(client)
        """The OpenAI spelling: `client.chat.completions.create(...)`."""

    def session(
        self,
        character: Optional[Character] = None,
        model: Optional[str] = None,
        *,
        memory: Optional[Memory] = None,
        store: Optional[SessionStore] = None,
        name: Optional[str] = None,
        user: str = "User",
        greeting: Optional[int] = 0,
        session_id: Optional[str] = None,
        system: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        **params: Any,
    ) -> ChatSession:
        """A conversation that keeps its history (`meganova.characters.ChatSession`): `send(text)`,
        `stream(text)`. `character` is played (its greeting opens the history); `memory` trims what is
        sent (`WindowMemory`, `TokenBudgetMemory`); with `store` and `name` the session is kept in a
        `SessionStore` (resumed when it exists); `session_id` passes a server-kept session through;
        `params` (temperature, max_tokens, ...) and `timeout`, `max_retries` go with every turn."""
        from ...characters import ChatSession

        return ChatSession(
            self,
            character=character,
            model=model,
            memory=memory,
            store=store,
            name=name,
            user=user,
            greeting=greeting,
            session_id=session_id,
            system=system,
            params=_per_turn(params, timeout, max_retries),
        )


class AsyncChat(AsyncChatResource[AsyncChatStream], AsyncToolsMethods):
    """Chat completions: `await create()`, `await stream()`, `run_tools()`, `await parse()`, and
    `completions`."""

    _stream_class = AsyncChatStream

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = AsyncCompletions(client)
        """The OpenAI spelling: `await client.chat.completions.create(...)`."""

    def session(
        self,
        character: Optional[Character] = None,
        model: Optional[str] = None,
        *,
        memory: Optional[Memory] = None,
        store: Optional[SessionStore] = None,
        name: Optional[str] = None,
        user: str = "User",
        greeting: Optional[int] = 0,
        session_id: Optional[str] = None,
        system: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        **params: Any,
    ) -> AsyncChatSession:
        """A conversation that keeps its history (`meganova.characters.AsyncChatSession`): `await
        send(text)`, `await stream(text)`. `character` is played (its greeting opens the history);
        `memory` trims what is sent (`WindowMemory`, `TokenBudgetMemory`); with `store` and `name` the
        session is kept in a `SessionStore` (resumed when it exists); `session_id` passes a server-kept session through;
        `params` (temperature, max_tokens, ...) and `timeout`, `max_retries` go with every turn."""
        from ...characters import AsyncChatSession

        return AsyncChatSession(
            self,
            character=character,
            model=model,
            memory=memory,
            store=store,
            name=name,
            user=user,
            greeting=greeting,
            session_id=session_id,
            system=system,
            params=_per_turn(params, timeout, max_retries),
        )


def _per_turn(params: Dict[str, Any], timeout: Any, max_retries: Optional[int]) -> Dict[str, Any]:
    """What a session sends with every turn: `params`, and the per-call options that were given."""
    out = dict(params)
    if timeout is not None:
        out["timeout"] = timeout
    if max_retries is not None:
        out["max_retries"] = max_retries
    return out
