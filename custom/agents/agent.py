"""`Agent`: 0.4's agent loop, on top of the SDK's tool runner (`client.chat.run_tools`).

Same names and results as 0.4 (`run(prompt, context, stream)` → `AgentResult`, or `AgentTurnEvent`s).
Where 0.4 was wrong this one differs (docs/migrating-from-0.4.md): a hook that raises stops the run
with `HookError` (0.4 ignored it); arguments the model sent that are not JSON or do not fit the tool's
signature go back to the model as an error (0.4 called the tool with `{}`); memory receives each run's
new messages once (0.4 added the system prompt and the old memory again each time). With an
`AsyncMegaNova` client, `await agent.run(...)` (or `async for` with `stream=True`).
"""

from __future__ import annotations

import inspect
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Sequence, Union

import attrs

from meganova.custom.runtime.errors import MeganovaError
from meganova.custom.tools import ModelResponseEvent, Tool, ToolCallEvent
from meganova.custom.tools._runner import RunState
from meganova.custom.tools._schema import function_fields

from .hooks import Hook, HookContext, HookError, HookManager, HookType
from .memory import Memory, MessageMemory
from .tools.base import ToolDefinition, ToolRegistry


@attrs.define
class AgentResult:
    """A finished run: the final `content`, `turns` (model calls), `total_tokens`, `tool_calls_made`,
    the `messages` of the run, `model`, and `stop_reason` (`complete`, `max_turns` or `error`; then
    `error` holds the exception)."""

    content: str
    turns: int
    total_tokens: int = 0
    tool_calls_made: int = 0
    messages: List[Dict[str, Any]] = attrs.Factory(list)
    model: str = ""
    stop_reason: str = "complete"
    error: Optional[BaseException] = None


@attrs.define
class AgentTurnEvent:
    """One step of a streamed run: `type` is `tool_call`, `tool_result`, `text`, `error` or `done`."""

    type: str
    content: str = ""
    tool_name: Optional[str] = None
    tool_args: Optional[Dict[str, Any]] = None
    turn: int = 0


def _is_async_client(client: Any) -> bool:
    create = getattr(getattr(client, "chat", None), "create", None)
    return inspect.iscoroutinefunction(create)


class _Run:
    """One run's state: messages, hooks around the runner, and the result (no I/O)."""

    def __init__(self, agent: Agent, prompt: str, context: Optional[str]) -> None:
        self.agent = agent
        self.hook_error: Optional[HookError] = None
        system = agent.system_prompt + (f"\n\nAdditional context:\n{context}" if context else "")
        remembered = [m for m in agent.memory.get_messages() if m.get("role") != "system"]
        self.first_new = 1 + len(remembered)
        self.messages: List[Dict[str, Any]] = [
            {"role": "system", "content": system},
            *remembered,
            {"role": "user", "content": prompt},
        ]
        self.turn = 0
        self.tool_calls = 0

    def tools(self) -> List[Tool[..., Any]]:
        return [self._wrap(d) for d in self.agent._registry.list_tools()]

    def _context(self, **kwargs: Any) -> HookContext:
        return HookContext(agent_name=self.agent.name, turn=self.turn, metadata=self.agent.metadata, **kwargs)

    def _hook(self, kind: HookType, context: HookContext) -> Any:
        try:
            return self.agent._hooks.run(kind, context)
        except HookError as exc:
            self.hook_error = self.hook_error or exc
            raise

    def _wrap(self, definition: ToolDefinition) -> Tool[..., Any]:
        run = self
        func = definition.func

        def before(kwargs: Dict[str, Any]) -> Any:
            result = run._hook(HookType.PRE_TOOL_USE, run._context(tool_name=definition.name, tool_args=dict(kwargs)))
            if not result.allow:
                return None, f"Tool execution denied: {result.reason or 'blocked by hook'}"
            return (result.modified_args if result.modified_args is not None else kwargs), None

        def after(args: Dict[str, Any], value: Any) -> Any:
            run._hook(
                HookType.POST_TOOL_USE, run._context(tool_name=definition.name, tool_args=args, tool_result=value)
            )
            return value

        function: Callable[..., Any]
        if inspect.iscoroutinefunction(func):

            async def call_async(**kwargs: Any) -> Any:
                args, denied = before(kwargs)
                if denied is not None:
                    return after(kwargs, denied)
                return after(args, await func(**args))

            function = call_async
        else:

            def call(**kwargs: Any) -> Any:
                args, denied = before(kwargs)
                if denied is not None:
                    return after(kwargs, denied)
                return after(args, func(**args))

            function = call
        try:
            fields: Any = function_fields(func)[1]
        except MeganovaError:
            fields = None
        return Tool(
            function,
            name=definition.name,
            description=definition.description,
            parameters=definition.parameters,
            needs_approval=definition.needs_approval,
            fields=fields,
        )

    def before_call(self, state: RunState) -> None:
        self.turn = state.turn
        result = self._hook(HookType.PRE_MODEL_CALL, self._context(messages=state.messages))
        if result.modified_messages is not None:
            state.messages[:] = [dict(m) for m in result.modified_messages]

    def request(self) -> Dict[str, Any]:
        kwargs: Dict[str, Any] = {}
        if self.agent.temperature is not None:
            kwargs["temperature"] = self.agent.temperature
        if self.agent.max_tokens is not None:
            kwargs["max_tokens"] = self.agent.max_tokens
        return kwargs

    def on_model_answer(self, event: ModelResponseEvent) -> None:
        self.turn = event.turn - 1
        self._hook(HookType.POST_MODEL_CALL, self._context(response=event.response))

    def on_tool(self, event: ToolCallEvent) -> List[AgentTurnEvent]:
        if self.hook_error is not None:
            raise self.hook_error
        self.tool_calls += 1
        args = event.parsed_arguments
        return [
            AgentTurnEvent("tool_call", tool_name=event.name, tool_args=args, turn=event.turn - 1),
            AgentTurnEvent("tool_result", content=event.result, tool_name=event.name, turn=event.turn - 1),
        ]

    def failed(self, exc: BaseException, runner: Any) -> AgentResult:
        if isinstance(exc, HookError):
            raise exc
        self._hook(HookType.ON_ERROR, self._context(error=exc))
        return AgentResult(
            content=f"Error: {exc}",
            turns=max(runner.turns, 1) if runner is not None else 1,
            total_tokens=runner.usage.total_tokens if runner is not None else 0,
            tool_calls_made=self.tool_calls,
            messages=list(runner.messages) if runner is not None else self.messages,
            model=self.agent.model,
            stop_reason="error",
            error=exc,
        )

    def finished(self, runner: Any) -> AgentResult:
        messages: List[Dict[str, Any]] = list(runner.messages)
        if runner.stop_reason == "max_turns":
            last = next(
                (m.get("content") for m in reversed(messages) if m.get("role") == "assistant" and m.get("content")),
                None,
            )
            return AgentResult(
                content=last or "Max turns reached without completion.",
                turns=runner.turns,
                total_tokens=runner.usage.total_tokens,
                tool_calls_made=self.tool_calls,
                messages=messages,
                model=self.agent.model,
                stop_reason="max_turns",
            )
        content = messages[-1].get("content") or ""
        for message in messages[self.first_new :]:
            self.agent.memory.add(message)
        self._hook(HookType.ON_COMPLETE, self._context(response=content))
        return AgentResult(
            content=content,
            turns=runner.turns,
            total_tokens=runner.usage.total_tokens,
            tool_calls_made=self.tool_calls,
            messages=messages,
            model=self.agent.model,
            stop_reason="complete",
        )

    def runner(self, chat: Any) -> Any:
        runner = chat.run_tools(
            messages=self.messages,
            model=self.agent.model,
            tools=self.tools(),
            max_turns=self.agent.max_turns,
            **self.request(),
        )
        runner._state.before_call = self.before_call
        return runner


class Agent:
    """An agent: a model, a system prompt, tools, hooks and a memory; `run(prompt)` loops over the
    model's tool calls until it answers (or `max_turns` model calls)."""

    def __init__(
        self,
        client: Any,
        model: str,
        system_prompt: str = "You are a helpful assistant.",
        tools: Optional[Sequence[Union[ToolDefinition, Tool[..., Any], Callable[..., Any]]]] = None,
        hooks: Optional[Union[Sequence[Hook], HookManager]] = None,
        memory: Optional[Memory] = None,
        max_turns: int = 10,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        name: str = "agent",
        metadata: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.client = client
        self.model = model
        self.system_prompt = system_prompt
        self.max_turns = max_turns
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.name = name
        self.metadata = metadata or {}
        self._registry = ToolRegistry()
        for item in tools or []:
            if isinstance(item, ToolDefinition):
                self._registry.register(item)
            elif isinstance(item, Tool):
                if item.function is None:
                    raise TypeError(f"the tool {item.name!r} has no Python function")
                self._registry.register(
                    ToolDefinition(
                        item.name, item.description, item.function, item.parameters, needs_approval=item.needs_approval
                    )
                )
            elif callable(item):
                self._registry.register(ToolDefinition.from_function(item))
            else:
                raise TypeError(f"not a tool: {item!r}")
        if isinstance(hooks, HookManager):
            self._hooks = hooks
        else:
            self._hooks = HookManager()
            for hook in hooks or []:
                self._hooks.register(hook.hook_type, hook.func, hook.priority)
        self.memory: Memory = memory if memory is not None else MessageMemory()

    @property
    def tools(self) -> ToolRegistry:
        """The agent's tools."""
        return self._registry

    @property
    def hooks(self) -> HookManager:
        """The agent's hooks."""
        return self._hooks

    def run(self, prompt: str, context: Optional[str] = None, stream: bool = False) -> Any:
        """Runs the agent: an `AgentResult`, or with `stream=True` an iterator of `AgentTurnEvent`s.
        With an `AsyncMegaNova` client: an awaitable `AgentResult` (or an async iterator)."""
        if _is_async_client(self.client):
            return self._astream(prompt, context) if stream else self._arun(prompt, context)
        return self._stream(prompt, context) if stream else self._run(prompt, context)

    def _run(self, prompt: str, context: Optional[str]) -> AgentResult:
        run = _Run(self, prompt, context)
        runner = None
        try:
            runner = run.runner(self.client.chat)
            for event in runner:
                if isinstance(event, ModelResponseEvent):
                    run.on_model_answer(event)
                elif isinstance(event, ToolCallEvent):
                    run.on_tool(event)
        except Exception as exc:
            if runner is not None:
                runner.close()
            return run.failed(exc, runner)
        return run.finished(runner)

    def _stream(self, prompt: str, context: Optional[str]) -> Iterator[AgentTurnEvent]:
        run = _Run(self, prompt, context)
        runner = run.runner(self.client.chat)
        try:
            for event in runner:
                if isinstance(event, ModelResponseEvent):
                    run.on_model_answer(event)
                elif isinstance(event, ToolCallEvent):
                    yield from run.on_tool(event)
        except Exception as exc:
            runner.close()
            run.failed(exc, runner)  # a HookError raises here
            yield AgentTurnEvent("error", content=str(exc), turn=run.turn)
            return
        finally:
            runner.close()
        yield from _ending(run.finished(runner))

    async def _arun(self, prompt: str, context: Optional[str]) -> AgentResult:
        run = _Run(self, prompt, context)
        runner = None
        try:
            runner = run.runner(self.client.chat)
            async for event in runner:
                if isinstance(event, ModelResponseEvent):
                    run.on_model_answer(event)
                elif isinstance(event, ToolCallEvent):
                    run.on_tool(event)
        except Exception as exc:
            if runner is not None:
                await runner.close()
            return run.failed(exc, runner)
        return run.finished(runner)

    async def _astream(self, prompt: str, context: Optional[str]) -> AsyncIterator[AgentTurnEvent]:
        run = _Run(self, prompt, context)
        runner = run.runner(self.client.chat)
        try:
            async for event in runner:
                if isinstance(event, ModelResponseEvent):
                    run.on_model_answer(event)
                elif isinstance(event, ToolCallEvent):
                    for item in run.on_tool(event):
                        yield item
        except Exception as exc:
            await runner.close()
            run.failed(exc, runner)  # a HookError raises here
            yield AgentTurnEvent("error", content=str(exc), turn=run.turn)
            return
        finally:
            await runner.close()
        for item in _ending(run.finished(runner)):
            yield item


def _ending(result: AgentResult) -> List[AgentTurnEvent]:
    if result.stop_reason == "max_turns":
        return [AgentTurnEvent("done", content="Max turns reached.", turn=result.turns)]
    turn = max(result.turns - 1, 0)
    return [
        AgentTurnEvent("text", content=result.content, turn=turn),
        AgentTurnEvent("done", content=result.content, turn=turn),
    ]
