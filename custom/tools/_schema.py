"""The schema engine: JSON schema from Python types, and JSON values read back into those types.

Types understood: str, int, float, bool, None, Any, bytes (as a string), datetime/date/time (ISO 8601
strings), `Literal`, `Enum`, `Optional`/`Union`, list/tuple/set/frozenset/Sequence, dict/Mapping,
`Annotated[T, "description"]`, dataclasses, `TypedDict` (total, `Required`/`NotRequired`, read from
`__required_keys__`), attrs classes, and pydantic models (duck-typed: `model_json_schema` /
`model_validate`; pydantic is never imported here). Classes go into `$defs` (so nested and recursive
types work); the root class is the schema itself (`{"$ref": "#"}` when it refers to itself).

Strict mode (what strict servers accept): every object has `additionalProperties: false` and lists every
property in `required`; a property with a default is nullable instead of optional (null reads as the
default); every array has `items`.

Function signatures: `function_schema(fn)` describes the parameters as one object, with their
descriptions from the docstring (Google `Args:`, NumPy `Parameters` / `----------`, reST `:param x:`).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import enum
import inspect
import json
import re
import sys
import typing
from typing import Any, Callable, Dict, List, Optional, Tuple

import attrs

from ._errors import SchemaError, ValidationError

_NoneType = type(None)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()
"""No default."""

# --- docstrings ------------------------------------------------------------------------------------

_GOOGLE_SECTIONS = ("args", "arguments", "parameters", "params", "attributes", "keyword args", "kwargs", "fields")
_OTHER_SECTIONS = ("returns", "return", "yields", "raises", "examples", "example", "notes", "note", "see also")


def parse_docstring(doc: Optional[str]) -> Tuple[str, Dict[str, str]]:
    """The summary (the text before the first section) and the parameter descriptions of a docstring in
    Google, NumPy or reST style."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: List[str] = []
    params: Dict[str, str] = {}
    i = 0
    in_summary = True
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        low = stripped.lower().rstrip(":")
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        # NumPy: a title underlined with dashes
        if stripped and nxt and set(nxt) == {"-"} and len(nxt) >= 3:
            in_summary = False
            i += 2
            if low in _GOOGLE_SECTIONS or low in ("other parameters",):
                i = _numpy_params(lines, i, params)
            continue
        # Google: "Args:" then indented entries
        if stripped.endswith(":") and (low in _GOOGLE_SECTIONS or low in _OTHER_SECTIONS) and line == stripped:
            in_summary = False
            i += 1
            if low in _GOOGLE_SECTIONS:
                i = _google_params(lines, i, params)
            continue
        # reST: ":param name: text" (also ":param type name: text")
        match = re.match(r":(?:param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?(\*{0,2}\w+)\s*:(.*)$", stripped)
        if match:
            in_summary = False
            text = [match.group(2).strip()]
            i += 1
            while i < len(lines) and lines[i].startswith((" ", "\t")) and lines[i].strip():
                text.append(lines[i].strip())
                i += 1
            params[match.group(1).lstrip("*")] = " ".join(t for t in text if t)
            continue
        if stripped.startswith(":"):
            in_summary = False
        if in_summary:
            summary.append(stripped)
        i += 1
    joined = "\n".join(summary).strip()
    return re.sub(r"[ \t]*\n(?!\n)[ \t]*", " ", joined).strip(), params


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google_params(lines: List[str], i: int, params: Dict[str, str]) -> int:
    base: Optional[int] = None
    name: Optional[str] = None
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = _indent(line)
        if indent == 0:
            break
        if base is None:
            base = indent
        if indent <= base:
            match = re.match(r"\s*\**(\w+)\s*(?:\([^)]*\))?\s*:(.*)$", line)
            if not match:
                break
            name = match.group(1)
            params[name] = match.group(2).strip()
        elif name is not None:
            params[name] = (params[name] + " " + line.strip()).strip()
        i += 1
    return i


def _numpy_params(lines: List[str], i: int, params: Dict[str, str]) -> int:
    name: Optional[str] = None
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and nxt and set(nxt) == {"-"} and len(nxt) >= 3:
            break  # the next section
        if not line.strip():
            i += 1
            continue
        if _indent(line) == 0:
            names = line.split(":", 1)[0].strip()
            name = None
            for one in names.split(","):
                one = one.strip().lstrip("*")
                if one:
                    params.setdefault(one, "")
                    name = name or one
            first = name
            name = first
        elif name is not None:
            params[name] = (params[name] + " " + line.strip()).strip()
        i += 1
    return i


# --- types -----------------------------------------------------------------------------------------


def _origin(tp: Any) -> Any:
    return typing.get_origin(tp)


def _args(tp: Any) -> Tuple[Any, ...]:
    return typing.get_args(tp)


def _special_name(tp: Any) -> str:
    origin = _origin(tp)
    return str(getattr(origin, "_name", "") or getattr(origin, "__name__", "") or "")


def _strip_required(tp: Any) -> Any:
    """`Required[T]` / `NotRequired[T]` / `ReadOnly[T]` → T (typing's or typing_extensions')."""
    while _origin(tp) is not None and _special_name(tp) in ("Required", "NotRequired", "ReadOnly"):
        tp = _args(tp)[0]
    return tp


def is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def is_pydantic_model(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "model_json_schema") and hasattr(tp, "model_validate")


def _is_class_type(tp: Any) -> bool:
    return isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or attrs.has(tp) or is_typeddict(tp) or is_pydantic_model(tp)
    )


def _hints(obj: Any) -> Dict[str, Any]:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception as exc:  # a forward reference that does not resolve, 3.10 syntax on 3.9, no module
        raw: Dict[str, Any] = {}
        for owner in reversed(getattr(obj, "__mro__", None) or [obj]):
            raw.update(getattr(owner, "__annotations__", None) or {})
        if not any(isinstance(v, (str, typing.ForwardRef)) for v in raw.values()):
            return raw  # evaluated already (3.9 reads the module from sys.modules even then)
        raise SchemaError(f"cannot read the type annotations of {obj!r}: {exc}") from None


@dataclasses.dataclass
class Field:
    """One property of an object type: its name in JSON, type, default and description."""

    name: str
    type: Any
    required: bool
    default: Any = _MISSING
    description: str = ""
    init_name: str = ""


def class_fields(cls: Any) -> List[Field]:
    """The properties of a dataclass, attrs class or TypedDict, in order."""
    doc = cls.__doc__ if isinstance(cls.__doc__, str) else ""
    if doc.startswith(cls.__name__ + "("):  # dataclasses' generated docstring
        doc = ""
    _, described = parse_docstring(doc)
    hints = _hints(cls)
    out: List[Field] = []
    if is_typeddict(cls):
        required = set(cls.__required_keys__)
        for name, tp in hints.items():
            is_required = name in required
            marker = _special_name(_unwrap_annotated(tp)[0]) if _origin(_unwrap_annotated(tp)[0]) is not None else ""
            if marker in ("Required", "NotRequired"):  # also when the annotations are strings
                is_required = marker == "Required"
            out.append(
                Field(
                    name,
                    _strip_required(_unwrap_annotated(tp)[0]),
                    is_required,
                    description=described.get(name, "") or _unwrap_annotated(tp)[1],
                )
            )
        return out
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            default: Any = _MISSING if f.default is dataclasses.MISSING else f.default
            if f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            desc = str(f.metadata.get("description", "")) or described.get(f.name, "")
            out.append(Field(f.name, hints.get(f.name, Any), default is _MISSING, default, desc, f.name))
        return out
    if attrs.has(cls):
        for a in attrs.fields(cls):
            if not a.init:
                continue
            default = a.default
            if default is attrs.NOTHING:
                default = _MISSING
            elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                factory: Any = default
                default = factory.factory(None) if factory.takes_self else factory.factory()
            alias = getattr(a, "alias", None) or a.name.lstrip("_")
            desc = str(a.metadata.get("description", "")) or described.get(alias, "") or described.get(a.name, "")
            out.append(Field(alias, hints.get(a.name, a.type or Any), default is _MISSING, default, desc, alias))
        return out
    raise SchemaError(f"{cls!r} is not a dataclass, attrs class or TypedDict")


def function_fields(func: Callable[..., Any]) -> Tuple[str, List[Field]]:
    """The description (docstring summary) and parameters of a function, as object properties."""
    summary, described = parse_docstring(inspect.getdoc(func))
    signature = inspect.signature(func)
    hints = _hints(func)
    out: List[Field] = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("self", "cls"):
            continue
        default = _MISSING if p.default is p.empty else p.default
        out.append(
            Field(p.name, hints.get(p.name, Any), default is _MISSING, default, described.get(p.name, ""), p.name)
        )
    return summary, out


def _json_default(value: Any) -> Tuple[bool, Any]:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (set, frozenset, tuple)):
        value = list(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False, None
    return True, value


class SchemaBuilder:
    """Builds one JSON schema; classes met on the way go into `defs`."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.defs: Dict[str, Dict[str, Any]] = {}
        self._names: Dict[Any, str] = {}

    def root(self, tp: Any) -> Dict[str, Any]:
        """The whole schema of `tp` (with `$defs` when there are any)."""
        inner, description = _unwrap_annotated(tp)
        if _is_class_type(inner) or (isinstance(inner, type) and issubclass(inner, enum.Enum)):
            self._names[inner] = "#"
            schema = self._class_body(inner)
            if description:
                schema["description"] = description
        else:
            schema = self.build(tp)
        return self.finish(schema)

    def finish(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        """`schema` with the `$defs` collected so far."""
        if self.defs:
            schema = dict(schema)
            schema["$defs"] = {**schema.get("$defs", {}), **self.defs}
        return schema

    def object_schema(self, fields: List[Field], description: str = "") -> Dict[str, Any]:
        """An object of these properties."""
        properties: Dict[str, Any] = {}
        required: List[str] = []
        for f in fields:
            prop = self.build(f.type)
            if f.description and "description" not in prop:
                prop = (
                    {**prop, "description": f.description}
                    if "$ref" not in prop
                    else {"description": f.description, "anyOf": [prop]}
                )
            if f.default is not _MISSING:
                ok, value = _json_default(f.default)
                if self.strict:
                    prop = _nullable(prop)
                elif ok:
                    prop = {**prop, "default": value}
            properties[f.name] = prop
            if f.required or self.strict:
                required.append(f.name)
        schema: Dict[str, Any] = {"type": "object", "properties": properties}
        if description:
            schema["description"] = description
        if required:
            schema["required"] = required
        if self.strict:
            schema["additionalProperties"] = False
        return schema

    def build(self, tp: Any) -> Dict[str, Any]:
        """The schema of `tp` (a class becomes a `$ref`)."""
        tp, description = _unwrap_annotated(tp)
        schema = self._build(tp)
        if description:
            schema = (
                {**schema, "description": description}
                if "$ref" not in schema
                else {"description": description, "anyOf": [schema]}
            )
        return schema

    def _build(self, tp: Any) -> Dict[str, Any]:
        if tp is Any or tp is object:
            return {}
        if tp is None or tp is _NoneType:
            return {"type": "null"}
        if isinstance(tp, typing.TypeVar):
            return {}
        if isinstance(tp, (str, typing.ForwardRef)):
            raise SchemaError(f"unresolved forward reference {tp!r}")
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is str or tp is bytes:
            return {"type": "string"}
        if tp is datetime.datetime:
            return {"type": "string", "format": "date-time"}
        if tp is datetime.date:
            return {"type": "string", "format": "date"}
        if tp is datetime.time:
            return {"type": "string", "format": "time"}
        origin = _origin(tp)
        args = _args(tp)
        if origin is typing.Literal:
            values = [a.value if isinstance(a, enum.Enum) else a for a in args]
            return _enum_schema(values)
        if origin is typing.Union or _is_union_type(tp):
            members = [self.build(a) for a in args]
            non_null = [m for m in members if m != {"type": "null"}]
            if len(non_null) == 1 and len(members) == 2:
                return _nullable(non_null[0])
            return {"anyOf": members}
        if origin is not None and _special_name(tp) in ("Required", "NotRequired", "ReadOnly"):
            return self.build(args[0])
        if tp in (list, set, frozenset, tuple) or origin in (
            list,
            set,
            frozenset,
            collections.abc.Sequence,
            collections.abc.MutableSequence,
            collections.abc.Set,
            collections.abc.MutableSet,
            collections.abc.Iterable,
            collections.abc.Collection,
        ):
            items = self.build(args[0]) if args else {}
            schema: Dict[str, Any] = {"type": "array", "items": items}
            if (origin or tp) in (set, frozenset, collections.abc.Set, collections.abc.MutableSet):
                schema["uniqueItems"] = True
            return schema
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.build(args[0])}
            if args == ((),) or not args:
                return {"type": "array", "items": {}, "maxItems": 0}
            members = [self.build(a) for a in args]
            unique: List[Dict[str, Any]] = []
            for m in members:
                if m not in unique:
                    unique.append(m)
            items = unique[0] if len(unique) == 1 else {"anyOf": unique}
            schema = {"type": "array", "items": items, "minItems": len(args), "maxItems": len(args)}
            if not self.strict:
                schema["prefixItems"] = members
            return schema
        if tp is dict or origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
            value = self.build(args[1]) if len(args) == 2 else {}
            return {"type": "object", "additionalProperties": value}
        if isinstance(tp, type) and (issubclass(tp, enum.Enum) or _is_class_type(tp)):
            return self._ref(tp)
        if getattr(tp, "__supertype__", None) is not None:  # NewType
            return self.build(tp.__supertype__)
        raise SchemaError(f"no JSON schema for the type {tp!r}")

    def _ref(self, cls: Any) -> Dict[str, Any]:
        name = self._names.get(cls)
        if name is None:
            base = re.sub(r"[^A-Za-z0-9_.-]", "_", cls.__name__)
            name = base
            n = 2
            while name in self.defs:
                name = f"{base}{n}"
                n += 1
            self._names[cls] = name
            self.defs[name] = {}  # reserved: a recursive reference finds the name
            self.defs[name] = self._class_body(cls)
        return {"$ref": "#" if name == "#" else f"#/$defs/{name}"}

    def _class_body(self, cls: Any) -> Dict[str, Any]:
        if issubclass(cls, enum.Enum):
            schema = _enum_schema([m.value for m in cls])
            summary = _class_summary(cls)
            return {**schema, "description": summary} if summary else schema
        if is_pydantic_model(cls):
            return self._pydantic(cls)
        return self.object_schema(class_fields(cls), _class_summary(cls))

    def _pydantic(self, cls: Any) -> Dict[str, Any]:
        schema: Dict[str, Any] = cls.model_json_schema()
        defs = schema.pop("$defs", None) or schema.pop("definitions", None) or {}
        prefix = "#/$defs/"
        for key, value in defs.items():
            self.defs.setdefault(key, value)
        schema = _retarget(schema, "#/definitions/", prefix)
        if self.strict:
            schema = strictify(schema)
            for key in list(self.defs):
                self.defs[key] = strictify(_retarget(self.defs[key], "#/definitions/", prefix))
        return schema


def _class_summary(cls: Any) -> str:
    doc = cls.__doc__ if isinstance(cls.__doc__, str) else ""
    if not doc or doc.startswith(cls.__name__ + "(") or doc == getattr(enum.Enum, "__doc__", None):
        return ""
    if issubclass(cls, enum.Enum) and doc.startswith("An enumeration"):
        return ""
    return parse_docstring(doc)[0]


def _retarget(schema: Any, old: str, new: str) -> Any:
    if isinstance(schema, dict):
        return {
            k: (
                new + v[len(old) :]
                if k == "$ref" and isinstance(v, str) and v.startswith(old)
                else _retarget(v, old, new)
            )
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_retarget(v, old, new) for v in schema]
    return schema


def _is_union_type(tp: Any) -> bool:
    union_type = getattr(sys.modules.get("types"), "UnionType", None)
    return union_type is not None and isinstance(tp, union_type)


def _unwrap_annotated(tp: Any) -> Tuple[Any, str]:
    description = ""
    while _origin(tp) is typing.Annotated:
        for meta in reversed(tp.__metadata__):
            if isinstance(meta, str):
                description = description or meta
            elif isinstance(getattr(meta, "description", None), str):
                description = description or meta.description
        tp = tp.__origin__
    return tp, description


def _enum_schema(values: List[Any]) -> Dict[str, Any]:
    types = {_json_type(v) for v in values}
    schema: Dict[str, Any] = {"enum": list(values)}
    if len(types) == 1 and None not in types:
        schema = {"type": types.pop(), **schema}
    return schema


def _json_type(value: Any) -> Optional[str]:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _nullable(schema: Dict[str, Any]) -> Dict[str, Any]:
    if schema == {}:
        return schema
    if "anyOf" in schema:
        if {"type": "null"} in schema["anyOf"]:
            return schema
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    kind = schema.get("type")
    if isinstance(kind, str) and "$ref" not in schema and "enum" not in schema:
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return schema if "null" in kind else {**schema, "type": [*kind, "null"]}
    if "enum" in schema and "$ref" not in schema:
        out: Dict[str, Any] = {k: v for k, v in schema.items() if k != "type"}
        if kind is not None:
            out["type"] = [kind, "null"]
        out["enum"] = [*schema["enum"], *([] if None in schema["enum"] else [None])]
        return out
    description = schema.get("description")
    inner = {k: v for k, v in schema.items() if k != "description"}
    wrapped: Dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    if description:
        wrapped["description"] = description
    return wrapped


def strictify(schema: Any) -> Any:
    """A copy of a JSON schema with the strict rules applied to every object and array in it."""
    if isinstance(schema, list):
        return [strictify(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strictify(v) for k, v in schema.items()}
    kinds = out.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "properties" in out or ("object" in kinds and "additionalProperties" not in out):
        properties = out.setdefault("properties", {})
        required = list(out.get("required", []))
        for name, prop in list(properties.items()):
            if name not in required:
                required.append(name)
                prop = {k: v for k, v in prop.items() if k != "default"} if isinstance(prop, dict) else prop
                properties[name] = _nullable(prop) if isinstance(prop, dict) else prop
        out["required"] = required
        out["additionalProperties"] = False
    if "array" in kinds and "items" not in out:
        out["items"] = {}
    return out


def json_schema(tp: Any, *, strict: bool = False) -> Dict[str, Any]:
    """The JSON schema of a Python type (see the module docstring for what is understood)."""
    return SchemaBuilder(strict).root(tp)


def function_schema(func: Callable[..., Any], *, strict: bool = False) -> Tuple[str, Dict[str, Any]]:
    """The description and the parameters' JSON schema (one object) of a function."""
    summary, fields = function_fields(func)
    builder = SchemaBuilder(strict)
    schema = builder.object_schema(fields)
    if not strict and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    return summary, builder.finish(schema)


# --- validation ------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_word(tp: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", _NoneType: "null", bytes: "string"}
    if tp in names:
        return names[tp]
    if tp in (datetime.datetime, datetime.date, datetime.time):
        return f"an ISO 8601 {tp.__name__}"
    origin = _origin(tp)
    if origin in (list, set, frozenset, tuple) or tp in (list, set, frozenset, tuple):
        return "array"
    if origin is dict or tp is dict or _is_class_type(tp):
        return "object"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return f"one of {_show([m.value for m in tp])}"
    if origin is typing.Literal:
        return f"one of {_show([getattr(a, 'value', a) for a in _args(tp)])}"
    return getattr(tp, "__name__", None) or repr(tp)


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class _Invalid(Exception):
    pass


class Validator:
    """Reads JSON values into Python types, collecting every problem with its path."""

    def __init__(self) -> None:
        self.errors: List[str] = []

    def fail(self, path: str, message: str) -> Any:
        self.errors.append(f"{path or '(root)'}: {message}")
        raise _Invalid

    def read(self, tp: Any, value: Any, path: str = "") -> Any:
        """`value` as `tp`; raises `_Invalid` after recording the problem(s)."""
        tp = _unwrap_annotated(tp)[0]
        tp = _strip_required(tp)
        if tp is Any or tp is object or isinstance(tp, typing.TypeVar):
            return value
        if tp is None or tp is _NoneType:
            return None if value is None else self.fail(path, f"expected null, got {_show(value)}")
        if tp is bool:
            return value if isinstance(value, bool) else self.fail(path, f"expected boolean, got {_show(value)}")
        if tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            return self.fail(path, f"expected integer, got {_show(value)}")
        if tp is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            return self.fail(path, f"expected number, got {_show(value)}")
        if tp is str:
            return value if isinstance(value, str) else self.fail(path, f"expected string, got {_show(value)}")
        if tp is bytes:
            return value.encode() if isinstance(value, str) else self.fail(path, f"expected string, got {_show(value)}")
        if tp in (datetime.datetime, datetime.date, datetime.time):
            if isinstance(value, str):
                try:
                    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) and tp is not datetime.date else value
                    return tp.fromisoformat(text)
                except ValueError:
                    pass
            return self.fail(path, f"expected {_type_word(tp)}, got {_show(value)}")
        origin = _origin(tp)
        args = _args(tp)
        if origin is typing.Literal:
            for a in args:
                expected = a.value if isinstance(a, enum.Enum) else a
                if value == expected and type(value) is type(expected):
                    return a
            return self.fail(
                path, f"expected one of {_show([getattr(a, 'value', a) for a in args])}, got {_show(value)}"
            )
        if origin is typing.Union or _is_union_type(tp):
            return self._union(args, value, path)
        if tp in (list, set, frozenset, tuple) or origin in (
            list,
            set,
            frozenset,
            tuple,
            collections.abc.Sequence,
            collections.abc.MutableSequence,
            collections.abc.Set,
            collections.abc.MutableSet,
            collections.abc.Iterable,
            collections.abc.Collection,
        ):
            return self._array(tp, origin, args, value, path)
        if tp is dict or origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
            if not isinstance(value, dict):
                return self.fail(path, f"expected object, got {_show(value)}")
            value_type = args[1] if len(args) == 2 else Any
            out: Dict[Any, Any] = {}
            bad = False
            for k, v in value.items():
                try:
                    out[k] = self.read(value_type, v, _join(path, k))
                except _Invalid:
                    bad = True
            if bad:
                raise _Invalid
            return out
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            for member in tp:
                if member.value == value and type(member.value) is type(value):
                    return member
            return self.fail(path, f"expected one of {_show([m.value for m in tp])}, got {_show(value)}")
        if is_pydantic_model(tp):
            try:
                return tp.model_validate(value)
            except Exception as exc:
                return self.fail(path, " ".join(str(exc).split()))
        if _is_class_type(tp):
            if not isinstance(value, dict):
                return self.fail(path, f"expected object, got {_show(value)}")
            kwargs = self.fields(class_fields(tp), value, path)
            if is_typeddict(tp):
                return kwargs
            try:
                return tp(**kwargs)
            except Exception as exc:  # the class's own checks (attrs validators, __post_init__)
                return self.fail(path, f"{type(exc).__name__}: {exc}")
        if getattr(tp, "__supertype__", None) is not None:
            return self.read(tp.__supertype__, value, path)
        return self.fail(path, f"cannot read into {tp!r}")

    def fields(self, fields: List[Field], value: Dict[str, Any], path: str) -> Dict[str, Any]:
        """The properties of an object as keyword arguments (a null for a property with a default gives
        the default); unknown properties are errors."""
        out: Dict[str, Any] = {}
        bad = False
        known = {f.name for f in fields}
        for f in fields:
            where = _join(path, f.name)
            if f.name not in value:
                if f.required:
                    self.errors.append(f"{where}: required property missing")
                    bad = True
                continue
            item = value[f.name]
            if item is None and f.default is not _MISSING and not _accepts_none(f.type):
                continue  # strict schemas send null for "not given"
            try:
                out[f.init_name or f.name] = self.read(f.type, item, where)
            except _Invalid:
                bad = True
        for key in value:
            if key not in known:
                self.errors.append(f"{_join(path, key)}: unknown property")
                bad = True
        if bad:
            raise _Invalid
        return out

    def _union(self, args: Tuple[Any, ...], value: Any, path: str) -> Any:
        ordered = sorted(args, key=lambda a: 0 if _exact(a, value) else 1)
        for member in ordered:
            probe = Validator()
            try:
                return probe.read(member, value, path)
            except _Invalid:
                continue
        words = " or ".join(dict.fromkeys(_type_word(_unwrap_annotated(a)[0]) for a in args))
        return self.fail(path, f"expected {words}, got {_show(value)}")

    def _array(self, tp: Any, origin: Any, args: Tuple[Any, ...], value: Any, path: str) -> Any:
        if not isinstance(value, list):
            return self.fail(path, f"expected array, got {_show(value)}")
        kind = origin or tp
        items: List[Any] = []
        bad = False
        if kind is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if args == ((),):
                args = ()
            if len(value) != len(args):
                return self.fail(path, f"expected an array of {len(args)} items, got {len(value)}")
            for i, (member, item) in enumerate(zip(args, value)):
                try:
                    items.append(self.read(member, item, _join(path, i)))
                except _Invalid:
                    bad = True
        else:
            member = args[0] if args else Any
            for i, item in enumerate(value):
                try:
                    items.append(self.read(member, item, _join(path, i)))
                except _Invalid:
                    bad = True
        if bad:
            raise _Invalid
        if kind in (set, collections.abc.Set, collections.abc.MutableSet):
            return set(items)
        if kind is frozenset:
            return frozenset(items)
        if kind is tuple:
            return tuple(items)
        return items


def _exact(tp: Any, value: Any) -> bool:
    tp = _unwrap_annotated(tp)[0]
    if value is None:
        return tp is None or tp is _NoneType
    return isinstance(tp, type) and type(value) is tp


def _accepts_none(tp: Any) -> bool:
    tp = _strip_required(_unwrap_annotated(tp)[0])
    if tp is None or tp is _NoneType or tp is Any:
        return True
    if _origin(tp) is typing.Union or _is_union_type(tp):
        return any(_accepts_none(a) for a in _args(tp))
    if _origin(tp) is typing.Literal:
        return None in _args(tp)
    return False


def validate(tp: Any, value: Any, *, text: Optional[str] = None) -> Any:
    """`value` (decoded JSON) read into `tp`; raises `ValidationError` naming each wrong path."""
    validator = Validator()
    try:
        return validator.read(tp, value)
    except _Invalid:
        raise ValidationError(validator.errors, text=text) from None


def validate_arguments(fields: List[Field], value: Any) -> Dict[str, Any]:
    """A tool call's decoded arguments as keyword arguments for the function."""
    validator = Validator()
    if not isinstance(value, dict):
        raise ValidationError([f"(root): expected an object of arguments, got {_show(value)}"])
    try:
        return validator.fields(fields, value, "")
    except _Invalid:
        raise ValidationError(validator.errors) from None
