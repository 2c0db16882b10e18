"""The methods `client.chat` (and `client.chat.completions`) gain from this package: `run_tools`, `parse`.

Mixins for the resources in `custom/resources/chat.py`; the logic is in `_runner.py` and `_parse.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence, Type, TypeVar, Union, cast, overload

if TYPE_CHECKING:  # imported when a method is first called: `import meganova` does not pay for them
    import httpx

    from ...models.chat_response import ChatResponse
    from ._events import AsyncChatCompletionStreamManager, ChatCompletionStreamManager
    from ._parse import ParsedChatResponse
    from ._runner import Approve, AsyncToolRunner, ToolRunner

T = TypeVar("T")


class SyncToolsMethods:
    """`run_tools()` and `parse()` for a sync chat resource."""

    def run_tools(
        self,
        *,
        messages: Sequence[Any],
        tools: Sequence[Any],
        model: Optional[str] = None,
        max_turns: int = 10,
        stream: bool = False,
        approve: Optional[Approve] = None,
        max_workers: Optional[int] = None,
        raise_tool_errors: bool = False,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        **kwargs: Any,
    ) -> ToolRunner:
        """A tool loop over chat completions (`POST /chat/completions`, once per turn): the model is called, the
        tools it asks for are run (`Tool`s, `@tool` functions, JSON definitions), their results sent back, until an
        answer without tool calls or `max_turns` calls. Iterate it for events (`ModelResponseEvent`,
        `ToolCallEvent`, with `stream=True` also `TextDeltaEvent`), or `until_done()` for the final answer;
        `messages` is the transcript, `usage` the summed tokens. `approve(request)` decides the calls of tools with
        `needs_approval`; `max_workers` runs one answer's calls in that many threads. Other keyword arguments go to
        `create()` on every call (`temperature=`, `timeout=`, ...)."""
        from ._runner import ToolRunner, make_state

        state = make_state(
            messages,
            tools,
            model=model,
            max_turns=max_turns,
            approve=approve,
            raise_tool_errors=raise_tool_errors,
            request={**kwargs, "timeout": timeout, "max_retries": max_retries},
        )
        chat = cast(Any, self)._client.chat if isinstance(self, SyncStreamEventsMethod) else self
        return ToolRunner(chat, state, stream=stream, max_workers=max_workers)

    def parse(
        self,
        *,
        messages: Sequence[Any],
        response_format: Type[T],
        model: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        **kwargs: Any,
    ) -> ParsedChatResponse[T]:
        """A structured answer (`POST /chat/completions` with a strict `json_schema`): `response_format` (a
        dataclass, TypedDict, attrs class, pydantic model, or any type the schema engine reads) is sent as a strict
        JSON schema and the answer validated into it: `choices[0].message.parsed` (None on a refusal, see
        `.refusal`). Raises `LengthFinishReasonError` / `ContentFilterFinishReasonError` for a cut-off or filtered
        answer, `InvalidJSONError` / `ValidationError` (with `.text`) for an answer that does not fit."""
        from ._parse import parse_response, response_format_for

        fmt = response_format_for(response_format)
        response: ChatResponse = cast(Any, self).create(
            messages=messages, model=model, response_format=fmt, timeout=timeout, max_retries=max_retries, **kwargs
        )
        return parse_response(response, response_format)


class AsyncToolsMethods:
    """`run_tools()` and `await parse()` for an async chat resource."""

    def run_tools(
        self,
        *,
        messages: Sequence[Any],
        tools: Sequence[Any],
        model: Optional[str] = None,
        max_turns: int = 10,
        stream: bool = False,
        approve: Optional[Approve] = None,
        max_workers: Optional[int] = None,
        raise_tool_errors: bool = False,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        **kwargs: Any,
    ) -> AsyncToolRunner:
        """A tool loop over chat completions (`POST /chat/completions`; see the sync `run_tools`): `async for` its
        events or `await until_done()`. Async tools of one answer run concurrently; with `max_workers`, sync tools
        run in worker threads. `approve` may be a coroutine function."""
        from ._runner import AsyncToolRunner, make_state

        state = make_state(
            messages,
            tools,
            model=model,
            max_turns=max_turns,
            approve=approve,
            raise_tool_errors=raise_tool_errors,
            request={**kwargs, "timeout": timeout, "max_retries": max_retries},
        )
        chat = cast(Any, self)._client.chat if isinstance(self, AsyncStreamEventsMethod) else self
        return AsyncToolRunner(chat, state, stream=stream, max_workers=max_workers)

    async def parse(
        self,
        *,
        messages: Sequence[Any],
        response_format: Type[T],
        model: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        **kwargs: Any,
    ) -> ParsedChatResponse[T]:
        """A structured answer (`POST /chat/completions` with a strict `json_schema`; see the sync `parse`)."""
        from ._parse import parse_response, response_format_for

        fmt = response_format_for(response_format)
        response: ChatResponse = await cast(Any, self).create(
            messages=messages, model=model, response_format=fmt, **kwargs
        )
        return parse_response(response, response_format)


class SyncStreamEventsMethod:
    """`stream()` for `client.chat.completions`: openai's stream events."""

    _client: Any

    @overload
    def stream(
        self, *, messages: Sequence[Any], response_format: Type[T], model: Optional[str] = None, **kwargs: Any
    ) -> ChatCompletionStreamManager[T]: ...

    @overload
    def stream(
        self,
        *,
        messages: Sequence[Any],
        response_format: Optional[Mapping[str, Any]] = None,
        model: Optional[str] = None,
        **kwargs: Any,
    ) -> ChatCompletionStreamManager[Any]: ...

    def stream(
        self, *, messages: Sequence[Any], response_format: Any = None, model: Optional[str] = None, **kwargs: Any
    ) -> ChatCompletionStreamManager[Any]:
        """A streamed answer as openai's events: `with client.chat.completions.stream(...) as s:`, then
        `for event in s` (`chunk`, `content.delta`/`.done`, `refusal.delta`/`.done`,
        `tool_calls.function.arguments.delta`/`.done`) and `s.get_final_completion()`. With a type as
        `response_format`, its strict schema is sent and the events carry the partial, then the validated,
        value (`parsed`). The request is sent when the `with` block is entered."""
        from ._events import ChatCompletionStreamManager
        from ._parse import response_format_for

        fmt = None if response_format is None else response_format_for(response_format)
        typed = None if response_format is None or isinstance(response_format, Mapping) else response_format
        chat = self._client.chat

        def open_stream() -> Any:
            return chat.stream(messages=messages, model=model, response_format=fmt, **kwargs)

        return ChatCompletionStreamManager(open_stream, typed)


class AsyncStreamEventsMethod:
    """`stream()` for the async `client.chat.completions`: openai's stream events."""

    _client: Any

    @overload
    def stream(
        self, *, messages: Sequence[Any], response_format: Type[T], model: Optional[str] = None, **kwargs: Any
    ) -> AsyncChatCompletionStreamManager[T]: ...

    @overload
    def stream(
        self,
        *,
        messages: Sequence[Any],
        response_format: Optional[Mapping[str, Any]] = None,
        model: Optional[str] = None,
        **kwargs: Any,
    ) -> AsyncChatCompletionStreamManager[Any]: ...

    def stream(
        self, *, messages: Sequence[Any], response_format: Any = None, model: Optional[str] = None, **kwargs: Any
    ) -> AsyncChatCompletionStreamManager[Any]:
        """`async with client.chat.completions.stream(...) as s:` (see the sync one)."""
        from ._events import AsyncChatCompletionStreamManager
        from ._parse import response_format_for

        fmt = None if response_format is None else response_format_for(response_format)
        typed = None if response_format is None or isinstance(response_format, Mapping) else response_format
        chat = self._client.chat

        async def open_stream() -> Any:
            return await chat.stream(messages=messages, model=model, response_format=fmt, **kwargs)

        return AsyncChatCompletionStreamManager(open_stream, typed)
