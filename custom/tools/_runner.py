"""The tool loop: `client.chat.run_tools(...)` (`ToolRunner`) and `await client.chat.run_tools(...)`'s
async twin (`AsyncToolRunner`).

Each turn sends the conversation, reads the whole answer (streamed or not), and, when it asks for tool
calls, runs them and appends their results; then it calls again, until an answer without tool calls or
`max_turns` model calls. A tool runs only once the answer asking for it is complete, so an HTTP retry
(which re-sends a request, never a tool) cannot run a tool twice. The state and every decision live in
`RunState` (pure, no I/O); the two runners only do the I/O.

Rules:
- An unknown tool, arguments that are not JSON or do not fit the parameters, and an exception raised by
  the tool become an error text sent back as the tool's result (`raise_tool_errors=True` re-raises the
  tool's own exception instead).
- A tool with `needs_approval` waits for `approve(request)`: True runs it; False or a string (the reason)
  refuses it, and the refusal goes back to the model. Without an `approve` callback it is refused.
- A call of a JSON tool that has no Python function ends the loop: `until_done()` returns that answer
  (`stop_reason == "external_tool"`), for the caller to answer.
- At `max_turns` model calls the loop ends without running the last answer's tools
  (`stop_reason == "max_turns"`).
- `tool_choice` that forces a call (`"required"` or a named function) is sent on the first turn only
  (then `"auto"`), or the model could never stop.
- Leaving early (`break`, `close()`, a `with` block, cancelling the task) closes an open stream and runs
  no further tool.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
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
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import attrs

from ..runtime.telemetry import tool_span
from ._json import obj, string
from ._tool import Tool, ToolOutcome, as_tool

if TYPE_CHECKING:
    from ...models.chat_response import ChatResponse


@attrs.define(slots=True)
class ToolCallRequest:
    """A tool call the model asked for, before it runs (what `approve` is given)."""

    id: str
    name: str
    arguments: str
    """The arguments as the model sent them (JSON text)."""
    tool: Optional[Tool[..., Any]] = attrs.field(default=None, repr=False)
    turn: int = 0

    @property
    def parsed_arguments(self) -> Optional[Dict[str, Any]]:
        """The arguments decoded (None when they are not a JSON object)."""
        try:
            value = json.loads(self.arguments) if self.arguments.strip() else {}
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


@attrs.define(slots=True)
class ModelResponseEvent:
    """One answer of the model (each turn)."""

    response: ChatResponse
    turn: int
    type: Literal["model_response"] = "model_response"

    @property
    def content(self) -> Optional[str]:
        """The text of the answer (choice 0), if any."""
        return _message(self.response).get("content")


@attrs.define(slots=True)
class TextDeltaEvent:
    """A piece of the answer's text, as it streams (`stream=True`)."""

    delta: str
    turn: int
    type: Literal["text_delta"] = "text_delta"


@attrs.define(slots=True)
class ToolCallEvent:
    """One tool call, done: its `arguments` (text) and `parsed_arguments`, the `result` sent back, the
    `error` text when it failed (then `result` carries it too), the `exception` the tool raised, the
    `duration` in seconds, and `approved` (None when the tool needs no approval)."""

    id: str
    name: str
    arguments: str
    result: str
    turn: int
    parsed_arguments: Optional[Dict[str, Any]] = None
    error: Optional[str] = None
    exception: Optional[BaseException] = attrs.field(default=None, repr=False)
    duration: float = 0.0
    approved: Optional[bool] = None
    value: Any = attrs.field(default=None, repr=False)
    """What the tool returned."""
    type: Literal["tool_call"] = "tool_call"


RunEvent = Union[ModelResponseEvent, TextDeltaEvent, ToolCallEvent]
"""What a runner yields."""

Approve = Callable[[ToolCallRequest], Union[bool, str, Awaitable[Union[bool, str]]]]
"""`approve(request)`: True runs the call; False or a reason (str) refuses it."""


@attrs.define(slots=True)
class RunUsage:
    """The tokens of every model call of a run, summed."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    calls: int = 0
    """How many answers reported a usage."""

    def add(self, usage: Any) -> None:
        """Adds one answer's `usage` (a dict or model; None is skipped)."""
        if usage is None:
            return
        data = usage.to_dict() if hasattr(usage, "to_dict") else usage
        if not isinstance(data, Mapping):
            return
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            value = data.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(self, key, getattr(self, key) + value)
        self.calls += 1


def _as_dict(obj: Any) -> Dict[str, Any]:
    if isinstance(obj, Mapping):
        return dict(obj)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        data = to_dict()
        if isinstance(data, Mapping):
            return dict(data)
    raise TypeError(f"a message must be a dict or a model with to_dict(), got {type(obj).__name__}")


def _message(response: Any) -> Dict[str, Any]:
    data = _as_dict(response)
    choices = data.get("choices") or []
    if not choices or not isinstance(choices[0], Mapping):
        return {}
    message = choices[0].get("message") or {}
    return dict(message) if isinstance(message, Mapping) else {}


def _finish_reason(response: Any) -> Optional[str]:
    choices = _as_dict(response).get("choices") or []
    if choices and isinstance(choices[0], Mapping):
        reason = choices[0].get("finish_reason")
        return reason if isinstance(reason, str) else None
    return None


def _arguments_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)  # some servers send the arguments as an object


class RunState:
    """A run's conversation, tools and counters, and the decisions of each step (no I/O)."""

    def __init__(
        self,
        messages: Sequence[Any],
        tools: Sequence[Any],
        *,
        model: Optional[str],
        max_turns: int,
        approve: Optional[Approve],
        raise_tool_errors: bool,
        request: Mapping[str, Any],
    ) -> None:
        if max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        self.messages: List[Dict[str, Any]] = [_as_dict(m) for m in messages]
        self.tools: Dict[str, Tool[..., Any]] = {}
        for item in tools:
            one = as_tool(item)
            self.tools[one.name] = one
        self.model = model
        self.max_turns = max_turns
        self.approve = approve
        self.raise_tool_errors = raise_tool_errors
        self.request = dict(request)
        self.turn = 0
        self.responses: List[ChatResponse] = []
        self.usage = RunUsage()
        self.stop_reason: Optional[str] = None
        self.before_call: Optional[Callable[[RunState], None]] = None
        """Called before each model call (it may change `messages`); used by `meganova.agents`."""

    def request_kwargs(self) -> Dict[str, Any]:
        """The arguments of the next model call."""
        if self.before_call is not None:
            self.before_call(self)
        kwargs = dict(self.request)
        kwargs["messages"] = list(self.messages)
        if self.model is not None:
            kwargs["model"] = self.model
        if self.tools:
            kwargs["tools"] = [t.to_dict() for t in self.tools.values()]
        choice = kwargs.get("tool_choice")
        if self.turn > 0 and (choice == "required" or isinstance(choice, Mapping)):
            kwargs["tool_choice"] = "auto"
        return kwargs

    def take_answer(self, response: ChatResponse) -> List[ToolCallRequest]:
        """Records an answer; the tool calls to run now ([] when the run is over)."""
        self.turn += 1
        self.responses.append(response)
        self.usage.add(_as_dict(response).get("usage"))
        message = _message(response)
        raw_calls = [c for c in (message.get("tool_calls") or []) if isinstance(c, Mapping)]
        appended: Dict[str, Any] = {"role": "assistant", "content": message.get("content")}
        calls: List[ToolCallRequest] = []
        for n, call in enumerate(raw_calls):
            function = obj(call.get("function"))
            call_id = string(call.get("id")) or f"call_{self.turn}_{n}"
            name = string(function.get("name")) or ""
            calls.append(
                ToolCallRequest(
                    call_id, name, _arguments_text(function.get("arguments")), self.tools.get(name), self.turn
                )
            )
        if calls:
            appended["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls
            ]
        self.messages.append(appended)
        if not calls:
            self.stop_reason = "complete"
            return []
        if any(c.tool is not None and c.tool.function is None for c in calls):
            self.stop_reason = "external_tool"
            return []
        if self.turn >= self.max_turns:
            self.stop_reason = "max_turns"
            return []
        return calls

    def precheck(self, call: ToolCallRequest) -> Optional[ToolOutcome]:
        """The outcome of a call that is not run: an unknown tool."""
        if call.tool is None:
            known = ", ".join(sorted(self.tools)) or "none"
            text = f"there is no tool named {call.name!r} (the tools are: {known})"
            return ToolOutcome(f"Error: {text}", error=text)
        return None

    def refusal(self, decision: Union[bool, str, None], call: ToolCallRequest) -> Optional[ToolOutcome]:
        """The outcome of a refused call, or None when it may run."""
        if decision is True:
            return None
        reason = decision if isinstance(decision, str) and decision else "the user did not approve it"
        if decision is None:
            reason = f"the tool {call.name!r} needs approval and no approve callback was given"
        text = f"the call was refused: {reason}"
        return ToolOutcome(f"Error: {text}", error=text)

    def record(self, call: ToolCallRequest, outcome: ToolOutcome, approved: Optional[bool]) -> ToolCallEvent:
        """Appends a call's result to the conversation; the event that says so."""
        self.messages.append({"role": "tool", "tool_call_id": call.id, "content": outcome.result})
        return ToolCallEvent(
            id=call.id,
            name=call.name,
            arguments=call.arguments,
            result=outcome.result,
            turn=call.turn,
            parsed_arguments=outcome.arguments if outcome.arguments is not None else call.parsed_arguments,
            error=outcome.error,
            exception=outcome.exception,
            duration=outcome.duration,
            approved=approved,
            value=outcome.value,
        )

    def final(self) -> ChatResponse:
        """The last answer."""
        if not self.responses:
            raise RuntimeError("the run has not started")
        return self.responses[-1]


def _decision(value: Any) -> Union[bool, str]:
    if isinstance(value, str):
        return value
    return bool(value)


class _RunnerBase:
    _state: RunState

    @property
    def messages(self) -> List[Dict[str, Any]]:
        """The conversation so far: the messages given, then each answer and tool result."""
        return self._state.messages

    @property
    def usage(self) -> RunUsage:
        """The tokens of all model calls so far, summed."""
        return self._state.usage

    @property
    def responses(self) -> List[ChatResponse]:
        """Every answer so far, in order."""
        return self._state.responses

    @property
    def turns(self) -> int:
        """How many model calls were made."""
        return self._state.turn

    @property
    def stop_reason(self) -> Optional[str]:
        """Why the run ended: `complete`, `max_turns`, `external_tool`; None while it runs."""
        return self._state.stop_reason


class ToolRunner(_RunnerBase):
    """A tool loop (sync): iterate it for `RunEvent`s, or call `until_done()` for the final answer."""

    def __init__(self, chat: Any, state: RunState, *, stream: bool = False, max_workers: Optional[int] = None) -> None:
        self._chat = chat
        self._state = state
        self._stream = stream
        self._max_workers = max_workers
        self._events: Generator[RunEvent, None, None] = self._run()

    def __iter__(self) -> Iterator[RunEvent]:
        return self._events

    def __next__(self) -> RunEvent:
        return next(self._events)

    def __enter__(self) -> ToolRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the run: an open stream is closed, no further tool runs."""
        self._events.close()

    def until_done(self) -> ChatResponse:
        """Runs to the end; the final answer."""
        for _ in self._events:
            pass
        return self._state.final()

    def _answer(self, kwargs: Dict[str, Any]) -> Generator[Union[TextDeltaEvent, ChatResponse], None, None]:
        if not self._stream:
            yield self._chat.create(**kwargs)
            return
        with self._chat.stream(**kwargs) as stream:
            turn = self._state.turn + 1
            for chunk in stream:
                if chunk.delta and chunk.index == 0:
                    yield TextDeltaEvent(chunk.delta, turn)
            yield stream.get_final_response()

    def _run(self) -> Generator[RunEvent, None, None]:
        state = self._state
        while True:
            response: Any = None
            answer = self._answer(state.request_kwargs())
            try:
                for item in answer:
                    if isinstance(item, TextDeltaEvent):
                        yield item
                    else:
                        response = item
            finally:
                answer.close()  # left early: the open stream is closed now
            calls = state.take_answer(response)
            yield ModelResponseEvent(response, state.turn)
            if not calls:
                return
            raise_errors = state.raise_tool_errors
            parallel = bool(self._max_workers and self._max_workers > 1)
            all_async = all(c.tool is not None and c.tool.is_async for c in calls)
            if len(calls) == 1 or not (parallel or all_async):
                for call in calls:  # one by one: leaving between two calls runs no further tool
                    approved, outcome = self._check(call)
                    if outcome is None:
                        outcome = _run_one(call, raise_errors)
                    yield state.record(call, outcome, approved)
                continue
            checked = [(call, *self._check(call)) for call in calls]
            ready = [call for call, _, outcome in checked if outcome is None]
            if parallel:
                with concurrent.futures.ThreadPoolExecutor(self._max_workers) as pool:
                    futures = [pool.submit(_run_one, c, raise_errors) for c in ready]
                    done = [f.result() for f in futures]
            else:
                done = asyncio.run(_gather([(c, False) for c in ready], raise_errors))
            results = dict(zip([id(c) for c in ready], done))
            for call, approved, outcome in checked:
                yield state.record(call, outcome or results[id(call)], approved)

    def _check(self, call: ToolCallRequest) -> Tuple[Optional[bool], Optional[ToolOutcome]]:
        state = self._state
        outcome = state.precheck(call)
        if outcome is not None or call.tool is None or not call.tool.needs_approval:
            return None, outcome
        decision: Union[bool, str, None] = None
        if state.approve is not None:
            value = state.approve(call)
            if inspect.isawaitable(value):
                value = asyncio.run(_await(value))
            decision = _decision(value)
        return decision is True, state.refusal(decision, call)


def _run_one(call: ToolCallRequest, raise_errors: bool) -> ToolOutcome:
    """One sync tool call, in its `execute_tool` span when traced."""
    assert call.tool is not None
    with tool_span(call.name, call.id, call.tool.description):
        return call.tool.run(call.arguments, raise_errors=raise_errors)


async def _arun_one(call: ToolCallRequest, raise_errors: bool, in_thread: bool) -> ToolOutcome:
    """One tool call of an async loop, in its `execute_tool` span when traced."""
    assert call.tool is not None
    with tool_span(call.name, call.id, call.tool.description):
        return await call.tool.arun(call.arguments, raise_errors=raise_errors, in_thread=in_thread)


async def _await(value: Awaitable[Any]) -> Any:
    return await value


async def _gather(calls: List[Tuple[ToolCallRequest, bool]], raise_errors: bool) -> List[ToolOutcome]:
    tasks = []
    for call, in_thread in calls:
        assert call.tool is not None
        tasks.append(_arun_one(call, raise_errors, in_thread))
    return list(await asyncio.gather(*tasks))


class AsyncToolRunner(_RunnerBase):
    """A tool loop (async): `async for` it for `RunEvent`s, or `await until_done()`. Async tools of one
    answer run concurrently; sync tools run in the event loop's thread, or in worker threads with
    `max_workers`."""

    def __init__(self, chat: Any, state: RunState, *, stream: bool = False, max_workers: Optional[int] = None) -> None:
        self._chat = chat
        self._state = state
        self._stream = stream
        self._threads = bool(max_workers and max_workers > 0)
        self._events: AsyncGenerator[RunEvent, None] = self._run()

    def __aiter__(self) -> AsyncIterator[RunEvent]:
        return self._events

    async def __anext__(self) -> RunEvent:
        return await self._events.__anext__()

    async def __aenter__(self) -> AsyncToolRunner:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stops the run: an open stream is closed, no further tool runs."""
        await self._events.aclose()

    async def until_done(self) -> ChatResponse:
        """Runs to the end; the final answer."""
        async for _ in self._events:
            pass
        return self._state.final()

    async def _answer(self, kwargs: Dict[str, Any]) -> AsyncGenerator[Union[TextDeltaEvent, ChatResponse], None]:
        if not self._stream:
            yield await self._chat.create(**kwargs)
            return
        stream = await self._chat.stream(**kwargs)
        async with stream:
            turn = self._state.turn + 1
            async for chunk in stream:
                if chunk.delta and chunk.index == 0:
                    yield TextDeltaEvent(chunk.delta, turn)
            yield await stream.get_final_response()

    async def _run(self) -> AsyncGenerator[RunEvent, None]:
        state = self._state
        while True:
            response: Any = None
            answer = self._answer(state.request_kwargs())
            try:
                async for item in answer:
                    if isinstance(item, TextDeltaEvent):
                        yield item
                    else:
                        response = item
            finally:
                await answer.aclose()
            calls = state.take_answer(response)
            yield ModelResponseEvent(response, state.turn)
            if not calls:
                return
            checked = [(call, *(await self._check(call))) for call in calls]
            ready = [call for call, _, outcome in checked if outcome is None]
            done = await _gather([(c, self._threads) for c in ready], state.raise_tool_errors)
            results = dict(zip([id(c) for c in ready], done))
            for call, approved, outcome in checked:
                yield state.record(call, outcome or results[id(call)], approved)

    async def _check(self, call: ToolCallRequest) -> Tuple[Optional[bool], Optional[ToolOutcome]]:
        state = self._state
        outcome = state.precheck(call)
        if outcome is not None or call.tool is None or not call.tool.needs_approval:
            return None, outcome
        decision: Union[bool, str, None] = None
        if state.approve is not None:
            value = state.approve(call)
            if inspect.isawaitable(value):
                value = await value
            decision = _decision(value)
        return decision is True, state.refusal(decision, call)


def make_state(
    messages: Sequence[Any],
    tools: Sequence[Any],
    *,
    model: Optional[str],
    max_turns: int,
    approve: Optional[Approve],
    raise_tool_errors: bool,
    request: Mapping[str, Any],
) -> RunState:
    """A `RunState` (the runners' shared start)."""
    return RunState(
        messages,
        tools,
        model=model,
        max_turns=max_turns,
        approve=approve,
        raise_tool_errors=raise_tool_errors,
        request=request,
    )
