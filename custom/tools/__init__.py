"""Tools and structured outputs: `@tool` / `Tool`, the tool loop (`client.chat.run_tools`), and
`client.chat.parse(response_format=MyType)`; the schema engine (`json_schema`, `validate`) they share.

Imported when first used (`import meganova` does not pay for the schema engine): the names below are
loaded from their modules on first access.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._errors import (
        ContentFilterFinishReasonError,
        InvalidJSONError,
        LengthFinishReasonError,
        SchemaError,
        ToolError,
        ValidationError,
    )
    from ._parse import ParsedChatResponse, ParsedChoice, ParsedMessage, parse_partial_json, response_format_for
    from ._runner import (
        AsyncToolRunner,
        ModelResponseEvent,
        RunEvent,
        RunUsage,
        TextDeltaEvent,
        ToolCallEvent,
        ToolCallRequest,
        ToolRunner,
    )
    from ._schema import function_schema, json_schema, parse_docstring, strictify, validate
    from ._tool import Tool, ToolOutcome, tool

_WHERE = {
    "AsyncToolRunner": "_runner",
    "ContentFilterFinishReasonError": "_errors",
    "InvalidJSONError": "_errors",
    "LengthFinishReasonError": "_errors",
    "ModelResponseEvent": "_runner",
    "ParsedChatResponse": "_parse",
    "ParsedChoice": "_parse",
    "ParsedMessage": "_parse",
    "RunEvent": "_runner",
    "RunUsage": "_runner",
    "SchemaError": "_errors",
    "TextDeltaEvent": "_runner",
    "Tool": "_tool",
    "ToolCallEvent": "_runner",
    "ToolCallRequest": "_runner",
    "ToolError": "_errors",
    "ToolOutcome": "_tool",
    "ToolRunner": "_runner",
    "ValidationError": "_errors",
    "function_schema": "_schema",
    "json_schema": "_schema",
    "parse_docstring": "_schema",
    "parse_partial_json": "_parse",
    "response_format_for": "_parse",
    "strictify": "_schema",
    "tool": "_tool",
    "validate": "_schema",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AsyncToolRunner",
    "ContentFilterFinishReasonError",
    "InvalidJSONError",
    "LengthFinishReasonError",
    "ModelResponseEvent",
    "ParsedChatResponse",
    "ParsedChoice",
    "ParsedMessage",
    "RunEvent",
    "RunUsage",
    "SchemaError",
    "TextDeltaEvent",
    "Tool",
    "ToolCallEvent",
    "ToolCallRequest",
    "ToolError",
    "ToolOutcome",
    "ToolRunner",
    "ValidationError",
    "function_schema",
    "json_schema",
    "parse_docstring",
    "parse_partial_json",
    "response_format_for",
    "strictify",
    "tool",
    "validate",
]
