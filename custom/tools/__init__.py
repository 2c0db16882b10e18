"""Tools and structured outputs: `@tool` / `Tool`, the tool loop (`client.chat.run_tools`), and
`client.chat.parse(response_format=MyType)`; the schema engine (`json_schema`, `validate`) they share."""

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
