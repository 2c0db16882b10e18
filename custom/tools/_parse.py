"""Structured outputs: `client.chat.parse(..., response_format=MyType)`.

The type's strict JSON schema is sent as `response_format: {"type": "json_schema", ...}`; the answer's
JSON is validated into `MyType` (`choices[i].message.parsed`). A refusal (`message.refusal`) leaves
`parsed` None. A `length` or `content_filter` finish raises `LengthFinishReasonError` /
`ContentFilterFinishReasonError`; text that is not JSON raises `InvalidJSONError` and JSON that does not
fit the type `ValidationError` (both carry the raw text in `.text`).

`parse_partial_json(text)` reads the JSON of an answer still streaming (an unfinished string, number,
array or object is closed where it stops), for the partial objects of a streamed parse.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Dict, Generic, List, Mapping, Optional, Tuple, Type, TypeVar, Union

from ._errors import ContentFilterFinishReasonError, InvalidJSONError, LengthFinishReasonError, ValidationError
from ._json import integer, obj, string
from ._schema import is_pydantic_model, json_schema, validate

if TYPE_CHECKING:
    from ...models.chat_response import ChatResponse

T = TypeVar("T")


def response_format_for(response_format: Any) -> Dict[str, Any]:
    """The `response_format` sent for a Python type (a strict `json_schema`), or a dict as given."""
    if isinstance(response_format, Mapping):
        return dict(response_format)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", getattr(response_format, "__name__", "") or "response")[:64] or "response"
    schema = json_schema(response_format, strict=True)
    if schema.get("type") != "object":  # a root must be an object: wrap other types
        schema = {
            "type": "object",
            "properties": {"value": {k: v for k, v in schema.items() if k != "$defs"}},
            "required": ["value"],
            "additionalProperties": False,
            **({"$defs": schema["$defs"]} if "$defs" in schema else {}),
        }
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def _wrapped(response_format: Any) -> bool:
    if isinstance(response_format, Mapping):
        return False
    return bool(json_schema(response_format, strict=True).get("type") != "object")


class ParsedMessage(Generic[T]):
    """The message of a parsed answer: `parsed` (a `T`, None on a refusal), `content` (the JSON text),
    `refusal`, `role`, `tool_calls` (as sent, dicts)."""

    __slots__ = ("content", "parsed", "reasoning_content", "refusal", "role", "tool_calls")

    def __init__(
        self,
        *,
        role: str,
        content: Optional[str],
        parsed: Optional[T],
        refusal: Optional[str],
        tool_calls: Optional[List[Dict[str, Any]]] = None,
        reasoning_content: Optional[str] = None,
    ) -> None:
        self.role = role
        self.content = content
        self.parsed = parsed
        """The answer as a `T`; None when the model refused."""
        self.refusal = refusal
        """The model's refusal text, when it refused."""
        self.tool_calls = tool_calls
        self.reasoning_content = reasoning_content

    def __repr__(self) -> str:
        return f"ParsedMessage(parsed={self.parsed!r}, refusal={self.refusal!r})"


class ParsedChoice(Generic[T]):
    """One choice of a parsed answer."""

    __slots__ = ("finish_reason", "index", "message")

    def __init__(self, index: int, message: ParsedMessage[T], finish_reason: Optional[str]) -> None:
        self.index = index
        self.message = message
        self.finish_reason = finish_reason

    def __repr__(self) -> str:
        return f"ParsedChoice(index={self.index}, finish_reason={self.finish_reason!r}, message={self.message!r})"


class ParsedChatResponse(Generic[T]):
    """An answer whose choices carry `message.parsed` (a `T`); `response` is the `ChatResponse` itself
    (`id`, `model`, `usage`, `request_id` are read from it)."""

    __slots__ = ("choices", "response")

    def __init__(self, response: ChatResponse, choices: List[ParsedChoice[T]]) -> None:
        self.response = response
        """The answer as the generated `ChatResponse`."""
        self.choices = choices
        """The choices, each with `message.parsed`."""

    @property
    def id(self) -> Any:
        """The answer's id."""
        return _get(self.response, "id")

    @property
    def model(self) -> Any:
        """The model that answered."""
        return _get(self.response, "model")

    @property
    def usage(self) -> Any:
        """The tokens used (the `TokenUsage` of the answer)."""
        return getattr(self.response, "usage", None)

    @property
    def request_id(self) -> Optional[str]:
        """The server's request id."""
        value = getattr(self.response, "request_id", None)
        return value if isinstance(value, str) else None

    def to_dict(self) -> Dict[str, Any]:
        """The answer as sent."""
        data: Dict[str, Any] = self.response.to_dict()
        return data

    def __repr__(self) -> str:
        return f"ParsedChatResponse(id={self.id!r}, choices={self.choices!r})"


def _get(obj: Any, key: str) -> Any:
    try:
        return obj.to_dict().get(key)
    except Exception:
        return getattr(obj, key, None)


def parse_text(text: str, response_format: Type[T]) -> T:
    """The JSON text of an answer validated into `response_format`."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidJSONError(f"the answer is not valid JSON ({exc})", text=text) from None
    if _wrapped(response_format) and isinstance(value, dict) and set(value) == {"value"}:
        value = value["value"]
    if is_pydantic_model(response_format):
        try:
            parsed: T = response_format.model_validate(value)  # type: ignore[attr-defined]
        except Exception as exc:
            raise ValidationError([" ".join(str(exc).split())], text=text) from None
        return parsed
    result: T = validate(response_format, value, text=text)
    return result


def parse_response(response: ChatResponse, response_format: Type[T]) -> ParsedChatResponse[T]:
    """A `ChatResponse` with each choice's JSON validated into `response_format`."""
    data = response.to_dict()
    choices: List[ParsedChoice[T]] = []
    for n, choice in enumerate(data.get("choices") or []):
        if not isinstance(choice, Mapping):
            continue
        finish = choice.get("finish_reason")
        if finish == "length":
            raise LengthFinishReasonError(completion=response, request_id=getattr(response, "request_id", None))
        if finish == "content_filter":
            raise ContentFilterFinishReasonError(completion=response, request_id=getattr(response, "request_id", None))
        message = obj(choice.get("message"))
        content = string(message.get("content"))
        refusal = string(message.get("refusal"))
        parsed: Optional[T] = None
        if refusal is None and content is not None and not message.get("tool_calls"):
            parsed = parse_text(content, response_format)
        choices.append(
            ParsedChoice(
                integer(choice.get("index"), n),
                ParsedMessage(
                    role=str(message.get("role") or "assistant"),
                    content=content,
                    parsed=parsed,
                    refusal=refusal,
                    tool_calls=message.get("tool_calls"),
                    reasoning_content=message.get("reasoning_content"),
                ),
                finish if isinstance(finish, str) else None,
            )
        )
    return ParsedChatResponse(response, choices)


# --- partial JSON ----------------------------------------------------------------------------------

_WS = " \t\r\n"


class _Partial:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.complete = True

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in _WS:
            self.i += 1

    def value(self) -> Tuple[bool, Any]:
        """(found, value); found is False when the text stops before a value starts."""
        self.skip()
        if self.i >= len(self.text):
            return False, None
        c = self.text[self.i]
        if c == "{":
            return True, self.obj()
        if c == "[":
            return True, self.arr()
        if c == '"':
            return True, self.string()
        return self.scalar()

    def obj(self) -> Dict[str, Any]:
        self.i += 1
        out: Dict[str, Any] = {}
        while True:
            self.skip()
            if self.i >= len(self.text):
                return out
            if self.text[self.i] == "}":
                self.i += 1
                return out
            if self.text[self.i] == ",":
                self.i += 1
                continue
            if self.text[self.i] != '"':
                raise ValueError(f"unexpected {self.text[self.i]!r} at {self.i}")
            key = self.string()
            if not self.complete:
                return out  # the key itself is unfinished
            self.skip()
            if self.i >= len(self.text):
                return out
            if self.text[self.i] != ":":
                raise ValueError(f"expected ':' at {self.i}")
            self.i += 1
            found, value = self.value()
            if not found:
                return out
            out[key] = value

    def arr(self) -> List[Any]:
        self.i += 1
        out: List[Any] = []
        while True:
            self.skip()
            if self.i >= len(self.text):
                return out
            if self.text[self.i] == "]":
                self.i += 1
                return out
            if self.text[self.i] == ",":
                self.i += 1
                continue
            found, value = self.value()
            if not found:
                return out
            out.append(value)

    def string(self) -> str:
        start = self.i
        self.i += 1
        while self.i < len(self.text):
            c = self.text[self.i]
            if c == "\\":
                self.i += 2
                continue
            if c == '"':
                self.i += 1
                self.complete = True
                result: str = json.loads(self.text[start : self.i])
                return result
            self.i += 1
        self.complete = False
        body = self.text[start:]
        for cut in range(len(body), 0, -1):  # an unfinished escape at the end is dropped
            try:
                partial: str = json.loads(body[:cut] + '"')
                return partial
            except ValueError:
                continue
        return ""

    def scalar(self) -> Tuple[bool, Any]:
        match = re.compile(r"true|false|null|tru|tr|t|fals|fal|fa|f|nul|nu|n|-?[0-9][0-9.eE+\-]*|-").match(
            self.text, self.i
        )
        token = match.group(0) if match else ""
        if not token:
            raise ValueError(f"unexpected {self.text[self.i]!r} at {self.i}")
        self.i += len(token)
        at_end = self.i >= len(self.text)
        for word, value in (("true", True), ("false", False), ("null", None)):
            if token == word:
                return True, value
            if word.startswith(token) and at_end:
                return False, None
        try:
            return True, json.loads(token)
        except ValueError:
            if at_end:
                trimmed = token.rstrip("eE+-.")
                if trimmed and trimmed != "-":
                    return True, json.loads(trimmed)
                return False, None
            raise ValueError(f"bad number {token!r} at {self.i}") from None


def parse_partial_json(text: str) -> Any:
    """The value of a JSON text that may stop anywhere (None when no value has started yet); raises
    `InvalidJSONError` for text that is not the start of JSON."""
    try:
        return _Partial(text).value()[1]
    except (ValueError, RecursionError) as exc:
        raise InvalidJSONError(f"not JSON ({exc})", text=text) from None


ResponseFormat = Union[Type[T], Mapping[str, Any]]
