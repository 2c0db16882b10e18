"""The schema engine of meganova.custom.tools: JSON schema from Python types, strict mode, docstrings,
validation with path-naming errors."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import sys
import types
from typing import Any, Dict, FrozenSet, List, Literal, Optional, Set, Tuple, TypedDict, Union

import attrs
import pytest

from meganova import MeganovaError
from meganova.custom.tools import (
    SchemaError,
    ValidationError,
    function_schema,
    json_schema,
    parse_docstring,
    strictify,
    validate,
)

try:
    from typing import Annotated, NotRequired, Required  # type: ignore[attr-defined]
except ImportError:  # Python < 3.11
    from typing import Annotated

    NotRequired = Required = None  # type: ignore[assignment,misc]


class Mood(enum.Enum):
    """How the character feels."""

    HAPPY = "happy"
    SAD = "sad"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Item:
    """A thing on the menu.

    Attributes:
        name: What it is called.
        price: In euros.
    """

    name: str
    price: float
    tags: List[str] = dataclasses.field(default_factory=list)
    mood: Optional[Mood] = None


@dataclasses.dataclass
class Order:
    items: List[Item]
    note: Annotated[str, "Anything the kitchen should know."] = ""


@dataclasses.dataclass
class Node:
    value: int
    children: List[Node] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Tree:
    root: Node


@attrs.define
class Character:
    """A character.

    Args:
        name: The display name.
    """

    name: str
    _secret: str = "x"
    level: Level = Level.LOW
    friends: List[str] = attrs.Factory(list)


class Card(TypedDict, total=False):
    name: str
    tags: List[str]


class Strict(TypedDict):
    name: str
    age: int


def test_scalars_and_containers() -> None:
    assert json_schema(str) == {"type": "string"}
    assert json_schema(int) == {"type": "integer"}
    assert json_schema(float) == {"type": "number"}
    assert json_schema(bool) == {"type": "boolean"}
    assert json_schema(type(None)) == {"type": "null"}
    assert json_schema(Any) == {}
    assert json_schema(datetime.datetime) == {"type": "string", "format": "date-time"}
    assert json_schema(List[int]) == {"type": "array", "items": {"type": "integer"}}
    assert json_schema(list) == {"type": "array", "items": {}}
    assert json_schema(Set[str]) == {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    assert json_schema(FrozenSet[int])["uniqueItems"] is True
    assert json_schema(Tuple[int, ...]) == {"type": "array", "items": {"type": "integer"}}
    pair = json_schema(Tuple[int, str])
    assert pair["minItems"] == pair["maxItems"] == 2
    assert pair["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert "prefixItems" not in json_schema(Tuple[int, str], strict=True)  # strict servers refuse it
    assert json_schema(Tuple[int, str], strict=True)["items"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert json_schema(Dict[str, float]) == {"type": "object", "additionalProperties": {"type": "number"}}
    assert json_schema(Literal["a", "b"]) == {"type": "string", "enum": ["a", "b"]}
    assert json_schema(Literal[1, "a"]) == {"enum": [1, "a"]}
    assert json_schema(Optional[int]) == {"type": ["integer", "null"]}
    assert json_schema(Union[int, str]) == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert json_schema(Annotated[int, "How many."]) == {"type": "integer", "description": "How many."}


def test_enum_dataclass_nested_defs_and_defaults() -> None:
    schema = json_schema(Order)
    assert schema["type"] == "object"
    assert schema["required"] == ["items"]
    assert schema["properties"]["items"] == {"type": "array", "items": {"$ref": "#/$defs/Item"}}
    assert schema["properties"]["note"] == {
        "type": "string",
        "description": "Anything the kitchen should know.",
        "default": "",
    }
    item = schema["$defs"]["Item"]
    assert item["description"] == "A thing on the menu."
    assert item["properties"]["name"] == {"type": "string", "description": "What it is called."}
    assert item["properties"]["tags"]["default"] == []
    assert item["properties"]["mood"] == {"anyOf": [{"$ref": "#/$defs/Mood"}, {"type": "null"}], "default": None}
    assert schema["$defs"]["Mood"] == {
        "type": "string",
        "enum": ["happy", "sad"],
        "description": "How the character feels.",
    }
    assert json_schema(Level) == {"type": "integer", "enum": [1, 2]}


def test_strict_mode_rules() -> None:
    schema = json_schema(Order, strict=True)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node:
                assert node["additionalProperties"] is False
                assert set(node["required"]) == set(node["properties"])
            kinds = node.get("type")
            if kinds == "array" or (isinstance(kinds, list) and "array" in kinds):
                assert "items" in node
            assert "default" not in node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert schema["properties"]["note"]["type"] == ["string", "null"]  # optional → nullable
    assert schema["$defs"]["Item"]["properties"]["tags"]["type"] == ["array", "null"]
    # strictify does the same to a hand-written schema
    loose = {
        "type": "object",
        "properties": {"a": {"type": "array"}, "b": {"type": "string", "default": "x"}},
        "required": ["a"],
    }
    assert strictify(loose) == {
        "type": "object",
        "properties": {"a": {"type": "array", "items": {}}, "b": {"type": ["string", "null"]}},
        "required": ["a", "b"],
        "additionalProperties": False,
    }


def test_recursive_types() -> None:
    assert json_schema(Node)["properties"]["children"]["items"] == {"$ref": "#"}
    tree = json_schema(Tree, strict=True)
    node = tree["$defs"]["Node"]
    assert tree["properties"]["root"] == {"$ref": "#/$defs/Node"}
    assert node["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    value = validate(Tree, {"root": {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}})
    assert value == Tree(Node(1, [Node(2, [Node(3)])]))


def test_attrs_and_typeddict() -> None:
    schema = json_schema(Character)
    assert schema["description"] == "A character."
    assert schema["properties"]["name"] == {"type": "string", "description": "The display name."}
    assert "secret" in schema["properties"]  # attrs' init name of `_secret`
    assert schema["properties"]["friends"]["default"] == []
    assert schema["required"] == ["name"]
    assert validate(Character, {"name": "Luna", "secret": "s", "level": 2}) == Character("Luna", "s", Level.HIGH)
    assert json_schema(Card).get("required") is None
    assert json_schema(Strict)["required"] == ["name", "age"]
    assert validate(Card, {"name": "x"}) == {"name": "x"}


def test_typeddict_required_and_not_required(monkeypatch: pytest.MonkeyPatch) -> None:
    # typing's Required/NotRequired (3.11+), else typing_extensions' (with its TypedDict, as on 3.9)
    origin = "typing" if Required is not None else "typing_extensions"
    ns: Dict[str, Any] = {"__name__": "typeddict_test"}
    source = (
        f"from {origin} import TypedDict, Required, NotRequired\nfrom typing import List\n"
        "class A(TypedDict, total=False):\n    name: Required[str]\n    tags: List[str]\n"
        "class B(TypedDict):\n    name: str\n    nick: NotRequired[str]\n"
    )
    exec(compile(source, "<typeddicts>", "exec", dont_inherit=True), ns)
    assert json_schema(ns["A"])["required"] == ["name"]
    assert json_schema(ns["B"])["required"] == ["name"]
    with pytest.raises(ValidationError, match=r"name: required property missing"):
        validate(ns["A"], {"tags": []})
    # the same with string annotations (`from __future__ import annotations` in the user's module)
    module = types.ModuleType("typeddict_strings")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(
        compile("from __future__ import annotations\n" + source, "<typeddicts>", "exec", dont_inherit=True),
        module.__dict__,
    )
    assert json_schema(module.A)["required"] == ["name"]
    assert json_schema(module.B)["required"] == ["name"]


def test_docstring_styles() -> None:
    google = """Look up the weather.

    More words.

    Args:
        city (str): The city,
            with its country.
        units: "c" or "f".

    Returns:
        The weather.
    """
    numpy = """Look up the weather.

    Parameters
    ----------
    city : str
        The city,
        with its country.
    units : str, optional
        "c" or "f".

    Returns
    -------
    str
    """
    rest = """Look up the weather.

    :param city: The city,
        with its country.
    :param str units: "c" or "f".
    :returns: The weather.
    """
    for doc in (google, numpy, rest):
        summary, params = parse_docstring(doc)
        assert summary.startswith("Look up the weather."), doc
        assert params == {"city": "The city, with its country.", "units": '"c" or "f".'}, doc


def test_function_schema_from_signature() -> None:
    def get_weather(city: str, units: Literal["c", "f"] = "c", days: int = 1, **extra: Any) -> str:
        """Look up the weather.

        Args:
            city: The city.
            units: Degrees.
        """
        return ""

    summary, schema = function_schema(get_weather)
    assert summary == "Look up the weather."
    assert schema == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city."},
            "units": {"type": "string", "enum": ["c", "f"], "description": "Degrees.", "default": "c"},
            "days": {"type": "integer", "default": 1},
        },
        "required": ["city"],
        "additionalProperties": False,
    }
    _, strict = function_schema(get_weather, strict=True)
    assert strict["required"] == ["city", "units", "days"]
    assert strict["properties"]["units"]["type"] == ["string", "null"]
    assert None in strict["properties"]["units"]["enum"]


def test_validation_errors_name_the_path() -> None:
    bad = {"items": [{"name": "a", "price": 1}, {"name": "b", "price": 2}, {"name": "c", "price": "x"}]}
    with pytest.raises(ValidationError) as info:
        validate(Order, bad)
    assert str(info.value) == 'items[2].price: expected number, got "x"'
    assert isinstance(info.value, MeganovaError)
    with pytest.raises(ValidationError) as info:
        validate(Order, {"items": [{"price": True, "mood": "angry"}], "extra": 1})
    assert info.value.errors == [
        "items[0].name: required property missing",
        "items[0].price: expected number, got true",
        'items[0].mood: expected one of ["happy", "sad"] or null, got "angry"',
        "extra: unknown property",
    ]
    with pytest.raises(ValidationError, match=r"^\(root\): expected object, got \[\]$"):
        validate(Order, [])
    with pytest.raises(ValidationError, match=r"\[1\]: expected integer, got 1.5"):
        validate(List[int], [1, 1.5])
    with pytest.raises(ValidationError, match=r"expected an array of 2 items, got 3"):
        validate(Tuple[int, str], [1, "a", 2])
    with pytest.raises(ValidationError, match=r"a: expected integer or string, got null"):
        validate(Dict[str, Union[int, str]], {"a": None})


def test_validation_builds_instances() -> None:
    order = validate(Order, {"items": [{"name": "tea", "price": 2, "tags": ["hot"], "mood": "happy"}], "note": None})
    assert order == Order([Item("tea", 2.0, ["hot"], Mood.HAPPY)], "")  # null for a defaulted field → default
    assert isinstance(order.items[0].price, float)
    assert validate(Set[int], [1, 2, 2]) == {1, 2}
    assert validate(Tuple[int, str], [1, "a"]) == (1, "a")
    assert validate(Literal["a", "b"], "b") == "b"
    assert validate(Optional[Level], 2) is Level.HIGH
    assert validate(int, 3.0) == 3
    assert validate(datetime.datetime, "2026-01-02T03:04:05Z") == datetime.datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc
    )
    assert validate(Any, {"x": [1]}) == {"x": [1]}
    with pytest.raises(ValidationError):
        validate(bool, 1)
    with pytest.raises(ValidationError):
        validate(int, True)


def test_pydantic_models_by_duck_typing() -> None:
    class FakeModel:  # what the engine relies on: model_json_schema / model_validate
        @classmethod
        def model_json_schema(cls) -> Dict[str, Any]:
            return {
                "type": "object",
                "properties": {"sub": {"$ref": "#/$defs/Sub"}, "n": {"type": "integer", "default": 1}},
                "required": ["sub"],
                "$defs": {"Sub": {"type": "object", "properties": {"x": {"type": "array"}}}},
            }

        @classmethod
        def model_validate(cls, value: Any) -> Any:
            if not isinstance(value, dict) or "sub" not in value:
                raise ValueError("sub\n  Field required")
            return ("validated", value)

    schema = json_schema(FakeModel, strict=True)
    assert schema["required"] == ["sub", "n"]
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["Sub"]["properties"]["x"]["items"] == {}
    assert validate(FakeModel, {"sub": {}}) == ("validated", {"sub": {}})
    with pytest.raises(ValidationError, match="sub Field required"):
        validate(FakeModel, {})


def test_unsupported_types_raise_schema_error() -> None:
    class Plain:
        pass

    with pytest.raises(SchemaError, match="no JSON schema"):
        json_schema(Plain)
    assert isinstance(SchemaError("x"), MeganovaError)
    json.dumps(json_schema(Order, strict=True))  # always JSON
