"""`Tool`: a Python function the model may call, with its JSON schema; `@tool` builds one.

A tool's result goes back to the model as text: a str as it is, anything else as JSON (dataclasses,
attrs classes, pydantic models, enums, sets and dates included). What the model got wrong (arguments
that are not JSON, do not fit the parameters) and what the function raises become an error text for the
model (`ToolOutcome.error`); the loop goes on.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import inspect
import json
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Generic, List, Mapping, Optional, TypeVar, Union, overload

import attrs

from ._errors import SchemaError, ToolError, ValidationError
from ._schema import Field, function_fields, function_schema, strictify, validate_arguments

if sys.version_info >= (3, 10):
    from typing import ParamSpec
elif TYPE_CHECKING:
    from typing_extensions import ParamSpec
else:

    def ParamSpec(name: str) -> Any:
        return TypeVar(name)


P = ParamSpec("P")
R = TypeVar("R")
FP = ParamSpec("FP")
FR = TypeVar("FR")


def to_json_text(value: Any) -> str:
    """A tool's result as the text sent to the model."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump") and callable(value.model_dump):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if attrs.has(type(value)):
        return attrs.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    return str(value)


@attrs.define(slots=True)
class ToolOutcome:
    """What running one tool call gave: `result` (the text sent back), `error` (the error text when it
    failed, then also the `result`), `exception` (what the function raised, if it did), `value` (the
    function's return value) and `duration` in seconds."""

    result: str
    error: Optional[str] = None
    exception: Optional[BaseException] = None
    value: Any = None
    arguments: Optional[Dict[str, Any]] = None
    duration: float = 0.0


class Tool(Generic[P, R]):
    """A function the model may call: `name`, `description`, `parameters` (JSON schema), `strict`,
    `needs_approval`. Calling the tool calls the function (same parameters, same result type).
    `to_dict()` is what is sent in `tools=[...]`."""

    def __init__(
        self,
        function: Optional[Callable[P, R]],
        *,
        name: str,
        description: str = "",
        parameters: Optional[Mapping[str, Any]] = None,
        strict: bool = False,
        needs_approval: bool = False,
        fields: Optional[List[Field]] = None,
    ) -> None:
        self.function = function
        """The Python function (None for a JSON tool whose calls the caller answers)."""
        self.name = name
        """The name the model calls it by."""
        self.description = description
        """What it does, for the model."""
        self.parameters: Dict[str, Any] = dict(parameters or {"type": "object", "properties": {}})
        """The JSON schema of its arguments (one object)."""
        self.strict = strict
        """Whether `strict: true` is sent (servers that support it then keep to the schema)."""
        self.needs_approval = needs_approval
        """Whether each call waits for the runner's `approve` callback."""
        self._fields = fields
        self.is_async = function is not None and (
            inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(getattr(function, "__call__", None))  # noqa: B004
        )
        """Whether the function is a coroutine function."""
        if function is not None:
            self.__doc__ = function.__doc__
            self.__wrapped__ = function

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.function is None:
            raise TypeError(f"the tool {self.name!r} has no Python function")
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r}, strict={self.strict}, needs_approval={self.needs_approval})"

    @classmethod
    def from_function(
        cls,
        function: Callable[FP, FR],
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        strict: bool = False,
        needs_approval: bool = False,
    ) -> Tool[FP, FR]:
        """A tool from a (sync or async) function: its parameters' JSON schema from the type hints,
        descriptions from the docstring (Google, NumPy or reST)."""
        summary, schema = function_schema(function, strict=strict)
        _, fields = function_fields(function)
        tool_name = name or getattr(function, "__name__", None)
        if not tool_name:
            raise SchemaError(f"{function!r} has no __name__: pass name=")
        return Tool(
            function,
            name=tool_name,
            description=summary if description is None else description,
            parameters=schema,
            strict=strict,
            needs_approval=needs_approval,
            fields=fields,
        )

    @classmethod
    def from_dict(
        cls,
        definition: Mapping[str, Any],
        function: Optional[Callable[..., Any]] = None,
        *,
        needs_approval: bool = False,
    ) -> Tool[..., Any]:
        """A tool from its JSON definition (`{"type": "function", "function": {...}}` or the inner
        object), run by `function` (called with the arguments as keyword arguments), or by nobody."""
        inner = definition.get("function", definition) if definition.get("type", "function") == "function" else None
        if not isinstance(inner, Mapping) or not isinstance(inner.get("name"), str):
            raise SchemaError("a tool definition needs {'type': 'function', 'function': {'name': ...}}")
        strict = bool(inner.get("strict", False))
        parameters = inner.get("parameters") or {"type": "object", "properties": {}}
        return Tool(
            function,
            name=inner["name"],
            description=str(inner.get("description", "") or ""),
            parameters=strictify(parameters) if strict else parameters,
            strict=strict,
            needs_approval=needs_approval,
        )

    def to_dict(self) -> Dict[str, Any]:
        """The definition sent to the model."""
        function: Dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            function["description"] = self.description
        if self.strict:
            function["strict"] = True
        return {"type": "function", "function": function}

    # --- running a call (pure steps, both runners) ------------------------------------------------

    def prepare(self, arguments: Union[str, Mapping[str, Any], None]) -> Dict[str, Any]:
        """The keyword arguments of a call from the model's JSON text; raises `ToolError` with a message
        for the model when they are not JSON or do not fit the parameters."""
        if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
            decoded: Any = {}
        elif isinstance(arguments, str):
            try:
                decoded = json.loads(arguments)
            except (ValueError, RecursionError) as exc:
                raise ToolError(f"the arguments are not valid JSON ({exc}): {arguments[:200]}") from None
        else:
            decoded = dict(arguments)
        if self._fields is None:
            if not isinstance(decoded, dict):
                raise ToolError(f"the arguments must be a JSON object, got {type(decoded).__name__}")
            return decoded
        try:
            return validate_arguments(self._fields, decoded)
        except ValidationError as exc:
            raise ToolError(f"the arguments do not fit the parameters: {exc}") from None

    def run(self, arguments: Union[str, Mapping[str, Any], None], *, raise_errors: bool = False) -> ToolOutcome:
        """Runs one call synchronously (an async tool in a fresh event loop)."""
        started = time.perf_counter()
        try:
            kwargs = self.prepare(arguments)
        except ToolError as exc:
            return _failed(exc, None, started, model_error=True)
        try:
            value = self._call_sync(kwargs)
        except Exception as exc:
            if raise_errors and not isinstance(exc, ToolError):
                raise
            return _failed(exc, kwargs, started)
        return ToolOutcome(_result_text(value), value=value, arguments=kwargs, duration=time.perf_counter() - started)

    async def arun(
        self, arguments: Union[str, Mapping[str, Any], None], *, raise_errors: bool = False, in_thread: bool = False
    ) -> ToolOutcome:
        """Runs one call in the running event loop (a sync tool inline, or in a worker thread)."""
        import asyncio

        started = time.perf_counter()
        try:
            kwargs = self.prepare(arguments)
        except ToolError as exc:
            return _failed(exc, None, started, model_error=True)
        try:
            if self.function is None:
                raise ToolError(f"the tool {self.name!r} has no Python function")
            function: Callable[..., Any] = self.function
            if self.is_async:
                value = await _as_awaitable(function(**kwargs))
            elif in_thread:
                value = await asyncio.get_running_loop().run_in_executor(None, lambda: function(**kwargs))
            else:
                value = function(**kwargs)
                if inspect.isawaitable(value):
                    value = await value
        except Exception as exc:
            if raise_errors and not isinstance(exc, ToolError):
                raise
            return _failed(exc, kwargs, started)
        return ToolOutcome(_result_text(value), value=value, arguments=kwargs, duration=time.perf_counter() - started)

    def _call_sync(self, kwargs: Dict[str, Any]) -> Any:
        if self.function is None:
            raise ToolError(f"the tool {self.name!r} has no Python function")
        function: Callable[..., Any] = self.function
        value = function(**kwargs)
        if inspect.isawaitable(value):
            import asyncio

            return asyncio.run(_as_awaitable(value))
        return value


async def _as_awaitable(value: Any) -> Any:
    return await value


def _result_text(value: Any) -> str:
    try:
        return to_json_text(value)
    except (TypeError, ValueError, RecursionError) as exc:
        return f"Error: the tool's result could not be sent as JSON ({exc})"


def _failed(
    exc: BaseException, kwargs: Optional[Dict[str, Any]], started: float, model_error: bool = False
) -> ToolOutcome:
    if isinstance(exc, ToolError):
        text = exc.message if hasattr(exc, "message") else str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return ToolOutcome(
        f"Error: {text}",
        error=text,
        exception=None if model_error else exc,
        arguments=kwargs,
        duration=time.perf_counter() - started,
    )


@overload
def tool(function: Callable[P, R], /) -> Tool[P, R]: ...


@overload
def tool(
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    strict: bool = False,
    needs_approval: bool = False,
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def tool(
    function: Optional[Callable[P, R]] = None,
    /,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    strict: bool = False,
    needs_approval: bool = False,
) -> Union[Tool[P, R], Callable[[Callable[P, R]], Tool[P, R]]]:
    """Makes a function (sync or async) a `Tool`: `@tool` or `@tool(name=, description=, strict=,
    needs_approval=)`. The result is still callable like the function."""

    def make(fn: Callable[P, R]) -> Tool[P, R]:
        return Tool.from_function(fn, name=name, description=description, strict=strict, needs_approval=needs_approval)

    if function is not None:
        return make(function)
    return make


def as_tool(value: Any) -> Tool[..., Any]:
    """A `Tool` from a `Tool`, a JSON definition or a plain function."""
    if isinstance(value, Tool):
        return value
    if isinstance(value, Mapping):
        return Tool.from_dict(value)
    if callable(getattr(value, "to_dict", None)) and not callable(value):
        return Tool.from_dict(value.to_dict())  # a generated ToolDefinition model
    if callable(value):
        return Tool.from_function(value)
    raise SchemaError(f"not a tool: {value!r} (a Tool, a JSON tool definition or a function)")
