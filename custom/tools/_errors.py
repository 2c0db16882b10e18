"""The errors of tools and structured outputs (all `MeganovaError`s)."""

from __future__ import annotations

from typing import Any, List, Optional

from ..runtime.errors import MeganovaError


class SchemaError(MeganovaError, TypeError):
    """A Python type the schema engine cannot describe as JSON schema (raised when a tool or a
    `response_format` is built, never while talking to the server)."""


class ValidationError(MeganovaError, ValueError):
    """A JSON value that does not fit the type it is read into. `errors` lists each problem with its path
    (`items[2].price: expected number, got "x"`); `text` is the raw JSON text when there was one."""

    def __init__(self, errors: List[str], *, text: Optional[str] = None, **kwargs: Any) -> None:
        shown = "; ".join(errors[:10]) + (f"; and {len(errors) - 10} more" if len(errors) > 10 else "")
        super().__init__(shown, **kwargs)
        self.errors = list(errors)
        """Every problem found, each naming its path."""
        self.text = text
        """The JSON text the value was read from, when there was one."""


class InvalidJSONError(MeganovaError, ValueError):
    """The model's answer (or a tool call's arguments) is not valid JSON; `text` is what it sent."""

    def __init__(self, message: str, *, text: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.text = text
        """The raw text that could not be decoded."""


class LengthFinishReasonError(MeganovaError):
    """A structured answer was cut off (`finish_reason: "length"`) before its JSON was complete.
    `completion` is the answer as received."""

    def __init__(self, message: str = "", *, completion: Any = None, **kwargs: Any) -> None:
        super().__init__(
            message or "the answer was cut off by the token limit (finish_reason 'length'): raise max_tokens",
            **kwargs,
        )
        self.completion = completion
        """The (cut-off) answer."""


class ContentFilterFinishReasonError(MeganovaError):
    """A structured answer was stopped by the content filter (`finish_reason: "content_filter"`)."""

    def __init__(self, message: str = "", *, completion: Any = None, **kwargs: Any) -> None:
        super().__init__(
            message or "the answer was stopped by the content filter (finish_reason 'content_filter')", **kwargs
        )
        self.completion = completion
        """The answer as received."""


class ToolError(MeganovaError):
    """Raise it from a tool to send its message back to the model as the tool's result (the loop goes on)."""
