"""Hooks: functions the agent calls before and after each model call and tool call, on an error and on
completion (0.4's names). Unlike 0.4, a hook that raises is not ignored: the run stops with a
`HookError` (its `__cause__` is the hook's exception)."""

from __future__ import annotations

import enum
from typing import Any, Callable, Dict, List, Optional

import attrs

from meganova.custom.runtime.errors import MeganovaError


class HookType(str, enum.Enum):
    """When a hook runs."""

    PRE_TOOL_USE = "pre_tool_use"
    POST_TOOL_USE = "post_tool_use"
    PRE_MODEL_CALL = "pre_model_call"
    POST_MODEL_CALL = "post_model_call"
    ON_ERROR = "on_error"
    ON_COMPLETE = "on_complete"


@attrs.define
class HookContext:
    """What a hook is told: the agent, the turn (0 first), and what the moment has (the tool call, the
    messages about to be sent, the answer, the error)."""

    agent_name: str
    turn: int
    tool_name: Optional[str] = None
    tool_args: Optional[Dict[str, Any]] = None
    tool_result: Optional[Any] = None
    messages: Optional[List[Dict[str, Any]]] = None
    response: Optional[Any] = None
    error: Optional[BaseException] = None
    metadata: Optional[Dict[str, Any]] = None


@attrs.define
class HookResult:
    """What a hook may answer: `allow=False` (a pre-tool hook: the tool does not run, the model is told
    `Tool execution denied: <reason>`), `modified_args` (pre-tool), `modified_messages` (pre-model)."""

    allow: bool = True
    modified_args: Optional[Dict[str, Any]] = None
    modified_messages: Optional[List[Dict[str, Any]]] = None
    reason: Optional[str] = None


class HookError(MeganovaError):
    """A hook raised; `hook_type` says which kind, `__cause__` is its exception."""

    def __init__(self, message: str, *, hook_type: HookType) -> None:
        super().__init__(message)
        self.hook_type = hook_type
        """The kind of hook that raised."""


HookFunction = Callable[[HookContext], Optional[HookResult]]


class Hook:
    """A hook function with its type and priority (higher runs first)."""

    def __init__(self, hook_type: HookType, func: HookFunction, priority: int = 0) -> None:
        self.hook_type = HookType(hook_type)
        self.func = func
        self.priority = priority

    def __call__(self, context: HookContext) -> Optional[HookResult]:
        return self.func(context)

    def __repr__(self) -> str:
        return f"Hook({self.hook_type.value}, {getattr(self.func, '__name__', self.func)!r}, priority={self.priority})"


class HookManager:
    """The hooks of an agent, by type, run in priority order."""

    def __init__(self) -> None:
        self._hooks: Dict[HookType, List[Hook]] = {kind: [] for kind in HookType}

    def register(self, hook_type: HookType, func: HookFunction, priority: int = 0) -> None:
        """Adds a hook."""
        kind = HookType(hook_type)
        self._hooks[kind].append(Hook(kind, func, priority))
        self._hooks[kind].sort(key=lambda h: h.priority, reverse=True)

    def has_hooks(self, hook_type: HookType) -> bool:
        """Whether any hook of this type is registered."""
        return bool(self._hooks[HookType(hook_type)])

    def run(self, hook_type: HookType, context: HookContext) -> HookResult:
        """Runs the hooks of a type; the combined result (the first refusal ends it). A hook that raises
        raises `HookError` (0.4 ignored it)."""
        combined = HookResult()
        for hook in self._hooks[HookType(hook_type)]:
            try:
                result = hook(context)
            except Exception as exc:
                name = getattr(hook.func, "__name__", repr(hook.func))
                raise HookError(
                    f"the {hook.hook_type.value} hook {name} raised {type(exc).__name__}: {exc}",
                    hook_type=hook.hook_type,
                ) from exc
            if result is None:
                continue
            if not result.allow:
                return result
            if result.modified_args is not None:
                combined.modified_args = result.modified_args
                if context.tool_args is not None:
                    context.tool_args = result.modified_args
            if result.modified_messages is not None:
                combined.modified_messages = result.modified_messages
                context.messages = result.modified_messages
        return combined


def _decorator(kind: HookType) -> Callable[..., Any]:
    def make(priority: Any = 0) -> Any:
        if callable(priority):  # used bare: @pre_tool_use
            return Hook(kind, priority, 0)

        def wrap(func: HookFunction) -> Hook:
            return Hook(kind, func, int(priority))

        return wrap

    make.__name__ = kind.value
    make.__doc__ = f"Makes a function a `{kind.value}` hook: `@{kind.value}(priority=0)` (or bare)."
    return make


pre_tool_use = _decorator(HookType.PRE_TOOL_USE)
post_tool_use = _decorator(HookType.POST_TOOL_USE)
pre_model_call = _decorator(HookType.PRE_MODEL_CALL)
post_model_call = _decorator(HookType.POST_MODEL_CALL)
on_error = _decorator(HookType.ON_ERROR)
on_complete = _decorator(HookType.ON_COMPLETE)
