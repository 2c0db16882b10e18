"""`client.chat.completions.stream(...)`: a streamed answer as openai-python's events.

`with client.chat.completions.stream(messages=..., model=..., response_format=MyType) as stream:` then
`for event in stream:` gives `chunk` (every chunk), `content.delta` (the new text, the text so far and,
with a `response_format` type, `parsed`: the partial object read from the JSON so far), `content.done`
(the whole text and, with a type, the validated `MyType`), `refusal.delta` / `refusal.done`,
`tool_calls.function.arguments.delta` / `.done` (the arguments so far, and decoded: partial while they
stream, whole when done). `get_final_completion()` reads the rest and returns the whole answer as a
`ParsedChatResponse`. Events are about choice 0 (`chunk` events carry every choice). The state
(`StreamEventState`) is pure; the two stream classes only read.
"""

from __future__ import annotations

import json
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Generator,
    Generic,
    Iterator,
    List,
    Mapping,
    Optional,
    Type,
    TypeVar,
    Union,
)

import attrs

from ._errors import InvalidJSONError
from ._json import integer, obj, string
from ._parse import ParsedChatResponse, ParsedChoice, ParsedMessage, parse_partial_json, parse_response, parse_text

if TYPE_CHECKING:
    from ...models.chat_response import ChatResponse
    from ..runtime.streaming import AsyncChatStream, ChatStream, ChatStreamChunk

T = TypeVar("T")


@attrs.define(slots=True)
class ChunkEvent:
    """Every chunk as it came (`chunk`: the generated `ChatCompletionChunk`; `data`: its JSON)."""

    chunk: Any
    data: Optional[Dict[str, Any]] = attrs.field(default=None, repr=False)
    type: str = "chunk"


@attrs.define(slots=True)
class ContentDeltaEvent:
    """New text: `delta`, the text so far (`snapshot`) and, with a `response_format` type, `parsed`: the
    partial JSON value read from the text so far (dicts and lists, not yet validated)."""

    delta: str
    snapshot: str
    parsed: Any = None
    type: str = "content.delta"


@attrs.define(slots=True)
class ContentDoneEvent(Generic[T]):
    """The whole text; `parsed` is the validated value with a `response_format` type."""

    content: str
    parsed: Optional[T] = None
    type: str = "content.done"


@attrs.define(slots=True)
class RefusalDeltaEvent:
    """New refusal text and the refusal so far."""

    delta: str
    snapshot: str
    type: str = "refusal.delta"


@attrs.define(slots=True)
class RefusalDoneEvent:
    """The whole refusal."""

    refusal: str
    type: str = "refusal.done"


@attrs.define(slots=True)
class FunctionToolCallArgumentsDeltaEvent:
    """More arguments of tool call `index`: `arguments_delta`, `arguments` so far, `parsed_arguments`
    (the partial JSON read so far)."""

    name: str
    index: int
    arguments: str
    parsed_arguments: Any
    arguments_delta: str
    type: str = "tool_calls.function.arguments.delta"


@attrs.define(slots=True)
class FunctionToolCallArgumentsDoneEvent:
    """The whole arguments of tool call `index`, and decoded (None when they are not JSON)."""

    name: str
    index: int
    arguments: str
    parsed_arguments: Any
    type: str = "tool_calls.function.arguments.done"


StreamEvent = Union[
    ChunkEvent,
    ContentDeltaEvent,
    "ContentDoneEvent[Any]",
    RefusalDeltaEvent,
    RefusalDoneEvent,
    FunctionToolCallArgumentsDeltaEvent,
    FunctionToolCallArgumentsDoneEvent,
]
"""What a completions stream yields."""


def _partial(text: str) -> Any:
    try:
        return parse_partial_json(text)
    except InvalidJSONError:
        return None


class StreamEventState(Generic[T]):
    """Turns chunks into events (choice 0), no I/O."""

    def __init__(self, response_format: Optional[Type[T]]) -> None:
        self.response_format = response_format
        self.content: List[str] = []
        self.refusal: List[str] = []
        self.calls: Dict[int, Dict[str, Any]] = {}
        self._done = False

    def feed(self, chunk: ChatStreamChunk) -> List[Any]:
        """The events of one chunk."""
        if chunk.done:
            return self.end()
        events: List[Any] = [ChunkEvent(chunk.raw, chunk.event)]
        data = chunk.event or {}
        for choice in data.get("choices") or []:
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            delta = obj(choice.get("delta"))
            text = delta.get("content")
            if isinstance(text, str) and text:
                self.content.append(text)
                snapshot = "".join(self.content)
                parsed = _partial(snapshot) if self.response_format is not None else None
                events.append(ContentDeltaEvent(text, snapshot, parsed))
            refusal = delta.get("refusal")
            if isinstance(refusal, str) and refusal:
                self.refusal.append(refusal)
                events.append(RefusalDeltaEvent(refusal, "".join(self.refusal)))
            for call in delta.get("tool_calls") or []:
                if isinstance(call, Mapping):
                    events.extend(self._call(call))
            if choice.get("finish_reason"):
                events.extend(self.end())
        return events

    def _call(self, call: Mapping[str, Any]) -> List[Any]:
        index = integer(call.get("index"), len(self.calls))
        events: List[Any] = []
        if index not in self.calls:
            events.extend(self._finish_calls())  # a new call: the ones before are complete
            self.calls[index] = {"name": "", "arguments": [], "done": False}
        state = self.calls[index]
        function = obj(call.get("function"))
        name = string(function.get("name"))
        if name:
            state["name"] = name
        piece = function.get("arguments")
        if isinstance(piece, str) and piece:
            state["arguments"].append(piece)
            text = "".join(state["arguments"])
            events.append(FunctionToolCallArgumentsDeltaEvent(state["name"], index, text, _partial(text), piece))
        return events

    def _finish_calls(self) -> List[Any]:
        events: List[Any] = []
        for index, state in sorted(self.calls.items()):
            if state["done"]:
                continue
            state["done"] = True
            text = "".join(state["arguments"])
            try:
                parsed = json.loads(text) if text.strip() else {}
            except ValueError:
                parsed = None
            events.append(FunctionToolCallArgumentsDoneEvent(state["name"], index, text, parsed))
        return events

    def end(self) -> List[Any]:
        """The `done` events not sent yet."""
        if self._done:
            return []
        self._done = True
        events: List[Any] = []
        if self.content:
            text = "".join(self.content)
            parsed = (
                parse_text(text, self.response_format)
                if self.response_format is not None and not self.refusal
                else None
            )
            events.append(ContentDoneEvent(text, parsed))
        if self.refusal:
            events.append(RefusalDoneEvent("".join(self.refusal)))
        events.extend(self._finish_calls())
        return events

    def final(self, response: ChatResponse) -> ParsedChatResponse[T]:
        """The whole answer, parsed when there is a `response_format` type."""
        if self.response_format is not None:
            return parse_response(response, self.response_format)
        return unparsed(response)


def unparsed(response: ChatResponse) -> ParsedChatResponse[Any]:
    """A `ParsedChatResponse` whose messages have no `parsed` value."""
    data = response.to_dict()
    choices: List[ParsedChoice[Any]] = []
    for n, choice in enumerate(data.get("choices") or []):
        if not isinstance(choice, Mapping):
            continue
        message = obj(choice.get("message"))
        choices.append(
            ParsedChoice(
                integer(choice.get("index"), n),
                ParsedMessage(
                    role=str(message.get("role") or "assistant"),
                    content=string(message.get("content")),
                    parsed=None,
                    refusal=string(message.get("refusal")),
                    tool_calls=message.get("tool_calls"),
                    reasoning_content=message.get("reasoning_content"),
                ),
                string(choice.get("finish_reason")),
            )
        )
    return ParsedChatResponse(response, choices)


class ChatCompletionStream(Generic[T]):
    """A streamed answer as events (`for event in stream`); `get_final_completion()`; `close()`."""

    def __init__(self, stream: ChatStream, state: StreamEventState[T]) -> None:
        self._stream = stream
        self._state = state
        self._events: Generator[Any, None, None] = self._iterate()

    def _iterate(self) -> Generator[Any, None, None]:
        for chunk in self._stream:
            yield from self._state.feed(chunk)
        yield from self._state.end()

    def __iter__(self) -> Iterator[Any]:
        return self._events

    def __next__(self) -> Any:
        return next(self._events)

    def close(self) -> None:
        """Stops reading and releases the connection."""
        self._events.close()
        self._stream.close()

    def until_done(self) -> ChatCompletionStream[T]:
        """Reads the rest."""
        for _ in self._events:
            pass
        return self

    def get_final_completion(self) -> ParsedChatResponse[T]:
        """Reads the rest; the whole answer (with `message.parsed` when a type was given)."""
        self.until_done()
        return self._state.final(self._stream.get_final_response())

    @property
    def current_content(self) -> str:
        """The text so far."""
        return "".join(self._state.content)

    @property
    def request_id(self) -> Optional[str]:
        """The server's request id."""
        request_id: Optional[str] = self._stream.request_id
        return request_id


class ChatCompletionStreamManager(Generic[T]):
    """`with client.chat.completions.stream(...) as stream:` (the request is sent on entering)."""

    def __init__(self, open_stream: Callable[[], ChatStream], response_format: Optional[Type[T]]) -> None:
        self._open = open_stream
        self._response_format = response_format
        self._stream: Optional[ChatCompletionStream[T]] = None

    def __enter__(self) -> ChatCompletionStream[T]:
        self._stream = ChatCompletionStream(self._open(), StreamEventState(self._response_format))
        return self._stream

    def __exit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            self._stream.close()


class AsyncChatCompletionStream(Generic[T]):
    """A streamed answer as events (`async for event in stream`); `await get_final_completion()`."""

    def __init__(self, stream: AsyncChatStream, state: StreamEventState[T]) -> None:
        self._stream = stream
        self._state = state
        self._events: AsyncGenerator[Any, None] = self._iterate()

    async def _iterate(self) -> AsyncGenerator[Any, None]:
        async for chunk in self._stream:
            for event in self._state.feed(chunk):
                yield event
        for event in self._state.end():
            yield event

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._events

    async def __anext__(self) -> Any:
        return await self._events.__anext__()

    async def close(self) -> None:
        """Stops reading and releases the connection."""
        await self._events.aclose()
        await self._stream.close()

    async def until_done(self) -> AsyncChatCompletionStream[T]:
        """Reads the rest."""
        async for _ in self._events:
            pass
        return self

    async def get_final_completion(self) -> ParsedChatResponse[T]:
        """Reads the rest; the whole answer (with `message.parsed` when a type was given)."""
        await self.until_done()
        return self._state.final(await self._stream.get_final_response())

    @property
    def current_content(self) -> str:
        """The text so far."""
        return "".join(self._state.content)


class AsyncChatCompletionStreamManager(Generic[T]):
    """`async with client.chat.completions.stream(...) as stream:` (the request is sent on entering)."""

    def __init__(
        self, open_stream: Callable[[], Awaitable[AsyncChatStream]], response_format: Optional[Type[T]]
    ) -> None:
        self._open = open_stream
        self._response_format = response_format
        self._stream: Optional[AsyncChatCompletionStream[T]] = None

    async def __aenter__(self) -> AsyncChatCompletionStream[T]:
        self._stream = AsyncChatCompletionStream(await self._open(), StreamEventState(self._response_format))
        return self._stream

    async def __aexit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            await self._stream.close()
