"""A small valid instance of a JSON Schema: what the mock model puts in tool-call arguments and in
`json_schema` answers. Pure and deterministic; standard library only.

Handled: `type` (one or a list: the first non-null type is used), `const`, `enum` (the first value),
`$ref` to `#/...` JSON pointers (`$defs`, `definitions`), `allOf` (merged), `anyOf` / `oneOf` (the first
branch that is not `null`), objects (every `required` property, plus every property when
`additionalProperties` is false, as strict schemas list them all as required anyway; `minProperties`),
arrays (`items`, `prefixItems`, `minItems` / `maxItems`, `uniqueItems`), strings (`minLength` /
`maxLength`, `format` date-time / date / time / email / uri / uuid / ipv4, a `pattern` the filler text
already matches), numbers and integers (`minimum`, `maximum`, exclusive bounds, `multipleOf`). A recursive
schema stops at depth 12 by choosing `null`, an empty array or the fewest properties its rules allow.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

if TYPE_CHECKING:
    from typing_extensions import TypeGuard

__all__ = ["instance"]

_MAX_DEPTH = 12
_FORMATS = {
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "00:00:00Z",
    "email": "luna@example.com",
    "idn-email": "luna@example.com",
    "uri": "https://example.com/",
    "iri": "https://example.com/",
    "uri-reference": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "hostname": "example.com",
    "duration": "P1D",
}
_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")


def instance(schema: Any, text: str = "") -> Any:
    """A value valid against `schema` (a JSON Schema as a dict; `True`/`{}` accept anything).

    Free strings are `text` (cut or padded to the length rules), or "text" when it is empty.
    """
    root = schema if isinstance(schema, Mapping) else {}
    return _Builder(root, text or "text").build(schema, 0, 0)


class _Builder:
    def __init__(self, root: Mapping[str, Any], text: str) -> None:
        self.root = root
        self.text = text

    def resolve(self, schema: Mapping[str, Any], seen: int = 0) -> Mapping[str, Any]:
        """`schema` with its `$ref` (and `allOf`) folded in."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and seen < 32:
            target = self.pointer(ref)
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**self.resolve(target, seen + 1), **rest} if isinstance(target, Mapping) else rest
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            merged: Dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
            for part in all_of:
                if isinstance(part, Mapping):
                    _merge(merged, self.resolve(part, seen + 1))
            schema = merged
        return schema

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for raw in ref[1:].split("/"):
            if not raw:
                continue
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return {}
        return node

    def build(self, schema: Any, depth: int, variant: int) -> Any:
        if schema is True or schema is None:
            return self.filler(variant)
        if not isinstance(schema, Mapping):
            return None
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[variant % len(enum)]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return self.build(self.choose(options, depth), depth + 1, variant)
        kind = self.kind(schema, depth)
        if kind == "null":
            return None
        if kind == "boolean":
            return variant % 2 == 1
        if kind in ("integer", "number"):
            return _number(schema, kind == "integer", variant)
        if kind == "string":
            return self.string(schema, variant)
        if kind == "array":
            return self.array(schema, depth, variant)
        if kind == "object":
            return self.object(schema, depth)
        return self.filler(variant)

    def choose(self, options: List[Any], depth: int) -> Any:
        """The first branch that is not `null`; past the depth limit, a `null` branch when there is one."""
        resolved = [self.resolve(option) if isinstance(option, Mapping) else option for option in options]
        nulls = [o for o in resolved if isinstance(o, Mapping) and o.get("type") == "null"]
        if depth >= _MAX_DEPTH and nulls:
            return nulls[0]
        others = [o for o in resolved if not (isinstance(o, Mapping) and o.get("type") == "null")]
        return (others or resolved)[0]

    def kind(self, schema: Mapping[str, Any], depth: int) -> Optional[str]:
        declared = schema.get("type")
        if isinstance(declared, str):
            return declared
        if isinstance(declared, list) and declared:
            kinds = [k for k in declared if isinstance(k, str)]
            if depth >= _MAX_DEPTH and "null" in kinds:
                return "null"
            for candidate in _TYPE_ORDER:
                if candidate in kinds and candidate != "null":
                    return candidate
            return "null" if "null" in kinds else None
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        if any(key in schema for key in ("minLength", "maxLength", "pattern", "format")):
            return "string"
        if any(key in schema for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
            return "number"
        return None

    def filler(self, variant: int) -> Any:
        return self.text if variant == 0 else f"{self.text} {variant + 1}"

    def string(self, schema: Mapping[str, Any], variant: int) -> str:
        fmt = schema.get("format")
        value = _FORMATS.get(fmt, self.text) if isinstance(fmt, str) else self.text
        if variant:
            value = f"{value} {variant + 1}" if value is self.text else value
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            value = _matching(pattern, value)
        low = schema.get("minLength")
        high = schema.get("maxLength")
        if isinstance(high, int) and len(value) > high:
            value = value[:high]
        if isinstance(low, int) and len(value) < low:
            value = value + "x" * (low - len(value))
        return value

    def array(self, schema: Mapping[str, Any], depth: int, variant: int) -> List[Any]:
        prefix = schema.get("prefixItems")
        prefix_items = list(prefix) if isinstance(prefix, list) else []
        items = schema.get("items", True)
        if isinstance(items, list):  # draft 4-7 tuples
            prefix_items, items = items, schema.get("additionalItems", True)
        min_items, max_items = schema.get("minItems"), schema.get("maxItems")
        low: int = min_items if isinstance(min_items, int) else 0
        high: Optional[int] = max_items if isinstance(max_items, int) else None
        count = max(low, len(prefix_items) if depth < _MAX_DEPTH else 0)
        if count == 0 and depth < _MAX_DEPTH and items is not False:
            count = 1
        if high is not None:
            count = min(count, high)
        unique = schema.get("uniqueItems") is True
        values: List[Any] = []
        for index in range(count):
            item_schema = prefix_items[index] if index < len(prefix_items) else items
            if item_schema is False:
                break
            values.append(self.build(item_schema, depth + 1, index if unique else 0))
        return values

    def object(self, schema: Mapping[str, Any], depth: int) -> Dict[str, Any]:
        properties = schema.get("properties")
        props: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
        required = [name for name in schema.get("required") or () if isinstance(name, str)]
        names = list(required)
        if schema.get("additionalProperties") is False and depth < _MAX_DEPTH:
            names.extend(name for name in props if name not in names)
        if not names and depth < _MAX_DEPTH:
            names = list(props)[:1]  # one property, so that the answer says something
        value: Dict[str, Any] = {}
        for name in names:
            value[name] = self.build(props.get(name, True), depth + 1, 0)
        low = schema.get("minProperties")
        extra = schema.get("additionalProperties", True)
        index = 0
        while isinstance(low, int) and len(value) < low and extra is not False:
            index += 1
            value.setdefault(f"key{index}", self.build(extra, depth + 1, 0))
        return value


def _merge(into: Dict[str, Any], part: Mapping[str, Any]) -> None:
    for key, value in part.items():
        if key == "properties" and isinstance(value, Mapping) and isinstance(into.get(key), Mapping):
            into[key] = {**into[key], **value}
        elif key == "required" and isinstance(value, list) and isinstance(into.get(key), list):
            into[key] = list(dict.fromkeys([*into[key], *value]))
        else:
            into.setdefault(key, value)


def _number(schema: Mapping[str, Any], integer: bool, variant: int) -> Any:
    low: Optional[float] = None
    high: Optional[float] = None
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    exclusive_min, exclusive_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")
    step = step if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0 else None
    if _is_number(minimum):
        low = float(minimum)
    if _is_number(exclusive_min):
        nudge = step or (1 if integer else 1e-6)
        low = max(low if low is not None else -math.inf, float(exclusive_min) + nudge)
    elif exclusive_min is True and low is not None:  # draft 4
        low += step or (1 if integer else 1e-6)
    if _is_number(maximum):
        high = float(maximum)
    if _is_number(exclusive_max):
        nudge = step or (1 if integer else 1e-6)
        high = min(high if high is not None else math.inf, float(exclusive_max) - nudge)
    elif exclusive_max is True and high is not None:
        high -= step or (1 if integer else 1e-6)
    value = float(variant)
    if low is not None and value < low:
        value = low + variant
    if high is not None and value > high:
        value = high
    if step is not None:
        value = math.ceil(value / step - 1e-9) * step
        if high is not None and value > high:
            value = math.floor(high / step + 1e-9) * step
    if integer:
        whole = math.ceil(value)
        if high is not None and whole > high:
            whole = math.floor(high)
        return int(whole)
    if isinstance(step, int) and value == int(value):
        return int(value)
    return value


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _matching(pattern: str, value: str) -> str:
    """`value` when it matches `pattern`; else a few simple candidates; else `value` (a pattern the mock
    cannot satisfy is the schema author's problem, as with a real model)."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return value
    for candidate in (value, value.replace(" ", "_"), "a", "A", "0", "a1", "abc", "ABC", "123", ""):
        if compiled.search(candidate):
            return candidate
    return value
