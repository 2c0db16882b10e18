"""0.4's tool names on top of `meganova.custom.tools`: `@tool(name, description)` builds a
`ToolDefinition` (schema from the signature and docstring, by the SDK's schema engine)."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional, Union, overload

from meganova.custom.tools import Tool


class ToolDefinition:
    """A tool an agent can call: `name`, `description`, `func`, `parameters` (JSON schema)."""

    def __init__(
        self,
        name: str,
        description: str,
        func: Callable[..., Any],
        parameters: Optional[Dict[str, Any]] = None,
        *,
        needs_approval: bool = False,
    ) -> None:
        self.name = name
        self.description = description
        self.func = func
        if parameters is None:
            parameters = Tool.from_function(func, name=name).parameters
        self.parameters = parameters
        self.needs_approval = needs_approval

    @classmethod
    def from_function(
        cls, func: Callable[..., Any], name: Optional[str] = None, description: Optional[str] = None
    ) -> ToolDefinition:
        """A definition from a function's signature and docstring."""
        built = Tool.from_function(func, name=name, description=description)
        return cls(built.name, built.description or f"Execute {built.name}", func, built.parameters)

    def to_openai_tool(self) -> Dict[str, Any]:
        """The definition sent in `tools=[...]`."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    def to_tool(self) -> Tool[..., Any]:
        """The definition as a `meganova.custom.tools.Tool` (arguments validated against the signature)."""
        built = Tool.from_function(
            self.func, name=self.name, description=self.description, needs_approval=self.needs_approval
        )
        built.parameters = self.parameters
        return built

    def execute(self, **kwargs: Any) -> Any:
        """Calls the function."""
        return self.func(**kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"ToolDefinition(name={self.name!r}, description={self.description!r})"


class ToolRegistry:
    """Tools by name."""

    def __init__(self) -> None:
        self._tools: Dict[str, ToolDefinition] = {}

    def register(self, tool_def: ToolDefinition) -> None:
        """Adds (or replaces) a tool."""
        self._tools[tool_def.name] = tool_def

    def get(self, name: str) -> Optional[ToolDefinition]:
        """The tool of that name, or None."""
        return self._tools.get(name)

    def list_tools(self) -> List[ToolDefinition]:
        """Every tool, in the order added."""
        return list(self._tools.values())

    def to_openai_tools(self) -> List[Dict[str, Any]]:
        """Every tool's definition, as sent."""
        return [t.to_openai_tool() for t in self._tools.values()]

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[ToolDefinition]:
        return iter(list(self._tools.values()))


@overload
def tool(name: Callable[..., Any], description: None = None) -> ToolDefinition: ...


@overload
def tool(
    name: Optional[str] = None, description: Optional[str] = None
) -> Callable[[Callable[..., Any]], ToolDefinition]: ...


def tool(
    name: Union[str, Callable[..., Any], None] = None, description: Optional[str] = None
) -> Union[ToolDefinition, Callable[[Callable[..., Any]], ToolDefinition]]:
    """Makes a function an agent tool: `@tool("name", "description")`, `@tool()` or `@tool`."""
    if callable(name):
        return ToolDefinition.from_function(name)

    def decorator(func: Callable[..., Any]) -> ToolDefinition:
        return ToolDefinition.from_function(func, name=name, description=description)

    return decorator
