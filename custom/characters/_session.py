"""Chat sessions: a character, a model and the history, sent whole (or trimmed by a memory policy) on each
turn; a turn is kept (and stored) only when its answer is complete."""

from __future__ import annotations

import inspect
import json
import uuid
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import attrs

from meganova.errors import MeganovaError

from ._character import Character
from ._prompt import estimate_tokens, fixed_parts, greeting_text
from ._store import SessionStore

if TYPE_CHECKING:
    from meganova.custom.runtime.streaming import AsyncChatStream, ChatStream, ChatStreamChunk
    from meganova.models.chat_response import ChatResponse

__all__ = [
    "DEFAULT_CONTEXT_LENGTH",
    "AsyncChatSession",
    "AsyncSessionStream",
    "ChatSession",
    "Memory",
    "SessionStream",
    "TokenBudgetMemory",
    "WindowMemory",
    "message_tokens",
]

Message = Dict[str, Any]
Summarize = Callable[[List[Message]], Union[str, Awaitable[str]]]
DEFAULT_CONTEXT_LENGTH = 8192
"""The context length `TokenBudgetMemory` assumes when the model's is unknown."""


def message_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """The estimate for messages: `estimate_tokens` of each content, plus 4 a message for its framing."""
    total = 0
    for message in messages:
        content = message.get("content")
        total += 4 + estimate_tokens(content if isinstance(content, str) else json.dumps(content))
    return total


@attrs.define
class WindowMemory:
    """Sends only the last `max_messages` messages of the history (the new one included)."""

    max_messages: int = 20

    def select(self, history: List[Message], fixed_tokens: int, context_length: Optional[int]) -> int:
        """How many of the oldest messages to leave out."""
        return max(0, len(history) - max(1, self.max_messages))


@attrs.define
class TokenBudgetMemory:
    """Sends the most recent messages that fit a token budget (estimated: `message_tokens`): `max_tokens`,
    or the model's `context_length` (`client.models.get(model)`, else `DEFAULT_CONTEXT_LENGTH`) minus
    `reserve_tokens` for the answer. The system prompt, examples and post-history instructions always go
    and count against it; the new message always goes. `summarize(dropped_messages) -> str` (or an
    awaitable, in async sessions), when given, is called with what falls out; its text is sent as a system
    message in their place (called again only when more falls out)."""

    max_tokens: Optional[int] = None
    reserve_tokens: int = 1024
    summarize: Optional[Summarize] = None

    @property
    def needs_context_length(self) -> bool:
        """True when the budget comes from the model's context length."""
        return self.max_tokens is None

    def budget(self, context_length: Optional[int]) -> int:
        """The tokens the messages may take."""
        if self.max_tokens is not None:
            return self.max_tokens
        return max(256, (context_length or DEFAULT_CONTEXT_LENGTH) - self.reserve_tokens)

    def select(self, history: List[Message], fixed_tokens: int, context_length: Optional[int]) -> int:
        """How many of the oldest messages to leave out."""
        room = self.budget(context_length) - fixed_tokens
        kept = 0
        for message in reversed(history):
            cost = message_tokens([message])
            if kept and cost > room:
                break
            room -= cost
            kept += 1
        return len(history) - kept


Memory = Union[WindowMemory, TokenBudgetMemory]
_CALL_OPTIONS = ("timeout", "max_retries", "extra_headers", "extra_query", "extra_body")


class _SessionCore:
    """What both flavours share: the state, building a request, recording a turn, JSON."""

    def __init__(
        self,
        *,
        character: Optional[Character],
        model: Optional[str],
        memory: Optional[Memory],
        store: Optional[SessionStore],
        name: Optional[str],
        user: str,
        greeting: Optional[int],
        session_id: Optional[str],
        system: Optional[str],
        params: Mapping[str, Any],
    ) -> None:
        if store is not None and not name:
            raise MeganovaError("a session kept in a SessionStore needs a name=")
        if memory is not None and not isinstance(memory, (WindowMemory, TokenBudgetMemory)):
            raise MeganovaError("memory must be a WindowMemory or a TokenBudgetMemory")
        self.memory = memory
        self.store = store
        self.name = name
        self.history: List[Message] = []
        self.summary: Optional[Tuple[int, str]] = None
        self.context_length: Optional[int] = None
        loaded = store.load(name) if store is not None and name else None
        if loaded is not None:
            state, self.history = loaded
            if character is None and state.get("character") is not None:
                character = Character.from_dict(state["character"])
            model = model or state.get("model")
            session_id = session_id or state.get("session_id")
            system = system if system is not None else state.get("system")
            user = state.get("user", user) if user == "User" else user
            params = {**state.get("params", {}), **params}
        self.character = character
        self.model = model
        self.user = user
        self.session_id = session_id
        self.system = system
        self.params: Dict[str, Any] = {k: v for k, v in params.items() if k not in _CALL_OPTIONS}
        self.call_options: Dict[str, Any] = {k: v for k, v in params.items() if k in _CALL_OPTIONS}
        """Per-call options for every turn (timeout, max_retries, extra_*): not saved with the session."""
        if store is not None and name:
            store.save_state(name, self.state())
        if loaded is None and character is not None:
            text = greeting_text(character, greeting, user)
            if text:
                opening = {"role": "assistant", "content": text}
                self.history.append(opening)
                if store is not None and name:
                    store.record_turn(name, "greeting", [opening])

    def state(self) -> Dict[str, Any]:
        return {
            "character": None if self.character is None else self.character.to_dict(),
            "model": self.model,
            "user": self.user,
            "session_id": self.session_id,
            "system": self.system,
            "params": self.params,
        }

    def request(self, text: str, summary: Optional[str] = None) -> Tuple[List[Message], List[Message]]:
        """(the messages to send, the messages that fall out of memory) for the new user message."""
        new = {"role": "user", "content": text}
        if self.session_id is not None:
            return [new], []  # the server keeps the session and its history
        conversation = [*self.history, new]
        before: List[Message] = []
        after: List[Message] = []
        if self.character is not None:
            before, after = fixed_parts(self.character, self.user, conversation, True)
        elif self.system:
            before = [{"role": "system", "content": self.system}]
        dropped = 0
        if self.memory is not None:
            dropped = self.memory.select(conversation, message_tokens(before + after), self.context_length)
        kept = conversation[dropped:]
        middle: List[Message] = []
        if summary:
            middle = [{"role": "system", "content": f"Summary of the earlier conversation: {summary}"}]
        return [*before, *middle, *kept, *after], conversation[:dropped]

    def summary_for(self, dropped: List[Message]) -> Tuple[Optional[str], bool]:
        """(the cached summary of `dropped`, whether a new one is needed)."""
        hook = self.memory.summarize if isinstance(self.memory, TokenBudgetMemory) else None
        if hook is None or not dropped:
            return None, False
        if self.summary is not None and self.summary[0] == len(dropped):
            return self.summary[1], False
        return None, True

    def chat_arguments(self, messages: List[Message], overrides: Mapping[str, Any]) -> Dict[str, Any]:
        arguments: Dict[str, Any] = {**self.params, **self.call_options, **overrides, "messages": messages}
        if self.model is not None:
            arguments.setdefault("model", self.model)
        if self.session_id is not None:
            arguments["session_id"] = self.session_id
        if self.model is None and self.session_id is None:
            raise MeganovaError("a session needs a model= (or a session_id= the server keeps)")
        return arguments

    def record(self, text: str, answer: str, turn_id: str) -> None:
        """Keeps the turn (the user's message and the whole answer), in the store too."""
        turn = [{"role": "user", "content": text}, {"role": "assistant", "content": answer}]
        if self.store is not None and self.name and not self.store.record_turn(self.name, turn_id, turn):
            return
        self.history.extend(turn)

    def to_json(self) -> str:
        return json.dumps({"meganova_session": 1, **self.state(), "history": self.history}, ensure_ascii=False)


def _from_json(text: str) -> Dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MeganovaError(f"not a saved session (bad JSON): {exc}") from None
    if not isinstance(value, dict) or value.get("meganova_session") != 1 or not isinstance(value.get("history"), list):
        raise MeganovaError("not a saved session (to_json() makes one)")
    return value


def _answer_text(response: Any) -> str:
    choices = getattr(response, "choices", None) or []
    if not choices:
        return ""
    content = choices[0].message.content
    return content if isinstance(content, str) else ""


class _SessionBase:
    _core: _SessionCore

    @property
    def history(self) -> List[Message]:
        """The conversation so far (greeting, then user and assistant messages), oldest first."""
        return list(self._core.history)

    @property
    def character(self) -> Optional[Character]:
        """The character played (None: a plain chat)."""
        return self._core.character

    @property
    def model(self) -> Optional[str]:
        """The model the turns go to."""
        return self._core.model

    @property
    def user(self) -> str:
        """The user's name (`{{user}}`)."""
        return self._core.user

    @property
    def name(self) -> Optional[str]:
        """The session's name in its store."""
        return self._core.name

    @property
    def session_id(self) -> Optional[str]:
        """The server-kept session it passes through (then only the new message is sent)."""
        return self._core.session_id

    def messages_for(self, text: str) -> List[Message]:
        """What `send(text)` would send now (without a summary that is not computed yet)."""
        summary, _ = self._core.summary_for(self._core.request(text)[1])
        return self._core.request(text, summary)[0]

    def to_json(self) -> str:
        """The session as JSON text (character, model, options, history): `from_json` reads it back."""
        return self._core.to_json()

    def __repr__(self) -> str:
        who = self._core.character.name if self._core.character is not None else None
        return (
            f"{type(self).__name__}(character={who!r}, model={self._core.model!r}, messages={len(self._core.history)})"
        )


def _core_from(
    value: Dict[str, Any], store: Optional[SessionStore], name: Optional[str], memory: Any
) -> Dict[str, Any]:
    character = value.get("character")
    return {
        "character": None if character is None else Character.from_dict(character),
        "model": value.get("model"),
        "memory": memory,
        "store": store,
        "name": name,
        "user": value.get("user") or "User",
        "greeting": None,
        "session_id": value.get("session_id"),
        "system": value.get("system"),
        "params": value.get("params") or {},
    }


class ChatSession(_SessionBase):
    """A conversation: `send(text)` / `stream(text)` send the character, the history and the new message,
    and keep the turn once its answer is complete. Made by `client.chat.session(...)`."""

    def __init__(self, chat: Any, **options: Any) -> None:
        self._chat = chat
        self._core = _SessionCore(**options)

    @classmethod
    def from_json(
        cls,
        chat: Any,
        text: str,
        *,
        store: Optional[SessionStore] = None,
        name: Optional[str] = None,
        memory: Optional[Memory] = None,
    ) -> ChatSession:
        """A session from `to_json()`'s text, on `client.chat`."""
        value = _from_json(text)
        session = cls(chat, **_core_from(value, None, None, memory))
        session._core.history = [dict(m) for m in value["history"]]
        session._core.store, session._core.name = store, name
        if store is not None and name:
            store.save_state(name, session._core.state())
            store.record_turn(name, "imported-" + uuid.uuid4().hex, session._core.history)
        return session

    def _prepare(self, text: str) -> List[Message]:
        core = self._core
        if (
            isinstance(core.memory, TokenBudgetMemory)
            and core.memory.needs_context_length
            and core.context_length is None
        ):
            core.context_length = _context_length(self._chat, core.model)
        messages, dropped = core.request(text)
        summary, needed = core.summary_for(dropped)
        if needed and isinstance(core.memory, TokenBudgetMemory) and core.memory.summarize is not None:
            made = core.memory.summarize([dict(m) for m in dropped])
            if inspect.isawaitable(made):
                raise MeganovaError("summarize returned an awaitable: use it with an async session")
            summary = str(made)
            core.summary = (len(dropped), summary)
        if summary:
            messages = core.request(text, summary)[0]
        return messages

    def send(self, text: str, **overrides: Any) -> ChatResponse:
        """Sends the new message (with the character and the history); the answer. The turn is kept when
        the answer arrives; an error keeps nothing (send again: the turn is kept once)."""
        messages = self._prepare(text)
        response: ChatResponse = self._chat.create(**self._core.chat_arguments(messages, overrides))
        self._core.record(text, _answer_text(response), uuid.uuid4().hex)
        return response

    def stream(self, text: str, **overrides: Any) -> SessionStream:
        """Sends the new message, streamed: iterate the chunks. The turn is kept when the stream ends
        complete; closed early, cut or failed, nothing is kept."""
        messages = self._prepare(text)
        arguments = self._core.chat_arguments(messages, overrides)
        arguments.pop("stream", None)
        opened: ChatStream = self._chat.stream(**arguments)
        return SessionStream(opened, lambda answer: self._core.record(text, answer, uuid.uuid4().hex))


class AsyncChatSession(_SessionBase):
    """The async twin of `ChatSession`: `await send(text)`, `async for chunk in await stream(text)`."""

    def __init__(self, chat: Any, **options: Any) -> None:
        self._chat = chat
        self._core = _SessionCore(**options)

    @classmethod
    def from_json(
        cls,
        chat: Any,
        text: str,
        *,
        store: Optional[SessionStore] = None,
        name: Optional[str] = None,
        memory: Optional[Memory] = None,
    ) -> AsyncChatSession:
        """A session from `to_json()`'s text, on an async client's `chat`."""
        value = _from_json(text)
        session = cls(chat, **_core_from(value, None, None, memory))
        session._core.history = [dict(m) for m in value["history"]]
        session._core.store, session._core.name = store, name
        if store is not None and name:
            store.save_state(name, session._core.state())
            store.record_turn(name, "imported-" + uuid.uuid4().hex, session._core.history)
        return session

    async def _prepare(self, text: str) -> List[Message]:
        core = self._core
        if (
            isinstance(core.memory, TokenBudgetMemory)
            and core.memory.needs_context_length
            and core.context_length is None
        ):
            core.context_length = await _acontext_length(self._chat, core.model)
        messages, dropped = core.request(text)
        summary, needed = core.summary_for(dropped)
        if needed and isinstance(core.memory, TokenBudgetMemory) and core.memory.summarize is not None:
            made = core.memory.summarize([dict(m) for m in dropped])
            summary = str(await made) if inspect.isawaitable(made) else str(made)
            core.summary = (len(dropped), summary)
        if summary:
            messages = core.request(text, summary)[0]
        return messages

    async def send(self, text: str, **overrides: Any) -> ChatResponse:
        """Sends the new message; the answer. The turn is kept when the answer arrives."""
        messages = await self._prepare(text)
        response: ChatResponse = await self._chat.create(**self._core.chat_arguments(messages, overrides))
        self._core.record(text, _answer_text(response), uuid.uuid4().hex)
        return response

    async def stream(self, text: str, **overrides: Any) -> AsyncSessionStream:
        """Sends the new message, streamed: `async for` the chunks. The turn is kept when the stream ends
        complete; cancelled, closed early, cut or failed, nothing is kept."""
        messages = await self._prepare(text)
        arguments = self._core.chat_arguments(messages, overrides)
        arguments.pop("stream", None)
        opened: AsyncChatStream = await self._chat.stream(**arguments)
        return AsyncSessionStream(opened, lambda answer: self._core.record(text, answer, uuid.uuid4().hex))


def _context_length(chat: Any, model: Optional[str]) -> Optional[int]:
    if model is None:
        return None
    try:
        value = chat._client.models.get(model).context_length
    except MeganovaError:
        return None
    return value if isinstance(value, int) else None


async def _acontext_length(chat: Any, model: Optional[str]) -> Optional[int]:
    if model is None:
        return None
    try:
        info = await chat._client.models.get(model)
    except MeganovaError:
        return None
    value = info.context_length
    return value if isinstance(value, int) else None


class _Collect:
    """The text of choice 0 as it streams, and whether the stream ended complete."""

    def __init__(self, on_complete: Callable[[str], None]) -> None:
        self.parts: List[str] = []
        self.on_complete = on_complete
        self.recorded = False

    def see(self, chunk: ChatStreamChunk) -> None:
        if chunk.index == 0 and chunk.delta:
            self.parts.append(chunk.delta)
        if chunk.done:
            self.finish()

    def finish(self) -> None:
        if not self.recorded:
            self.recorded = True
            self.on_complete("".join(self.parts))

    @property
    def text(self) -> str:
        return "".join(self.parts)


class SessionStream:
    """A streamed turn: iterate it for `ChatStreamChunk`s; `text()` reads the rest. The turn is kept when the
    stream ends complete (its final `done` chunk); `close()` (or leaving early) keeps nothing."""

    def __init__(self, stream: ChatStream, on_complete: Callable[[str], None]) -> None:
        self._stream = stream
        self._collect = _Collect(on_complete)
        self._chunks = self._run()

    def _run(self) -> Iterator[ChatStreamChunk]:
        for chunk in self._stream:
            self._collect.see(chunk)
            yield chunk
        self._collect.finish()

    def __iter__(self) -> Iterator[ChatStreamChunk]:
        return self._chunks

    def __next__(self) -> ChatStreamChunk:
        return next(self._chunks)

    def __enter__(self) -> SessionStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def completed(self) -> bool:
        """True once the answer is complete (and the turn kept)."""
        return self._collect.recorded

    def close(self) -> None:
        """Stops reading and releases the connection; an incomplete turn is not kept."""
        self._stream.close()

    def text(self) -> str:
        """Reads the rest; the whole answer."""
        for _ in self._chunks:
            pass
        return self._collect.text


class AsyncSessionStream:
    """The async twin of `SessionStream`: `async for` it; `await text()`; `await close()`."""

    def __init__(self, stream: AsyncChatStream, on_complete: Callable[[str], None]) -> None:
        self._stream = stream
        self._collect = _Collect(on_complete)
        self._chunks = self._run()

    async def _run(self) -> AsyncIterator[ChatStreamChunk]:
        async for chunk in self._stream:
            self._collect.see(chunk)
            yield chunk
        self._collect.finish()

    def __aiter__(self) -> AsyncIterator[ChatStreamChunk]:
        return self._chunks

    async def __anext__(self) -> ChatStreamChunk:
        return await self._chunks.__anext__()

    async def __aenter__(self) -> AsyncSessionStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def completed(self) -> bool:
        """True once the answer is complete (and the turn kept)."""
        return self._collect.recorded

    async def close(self) -> None:
        """Stops reading and releases the connection; an incomplete turn is not kept."""
        await self._stream.close()

    async def text(self) -> str:
        """Reads the rest; the whole answer."""
        async for _ in self._chunks:
            pass
        return self._collect.text
