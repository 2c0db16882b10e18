"""Character Card V2 / V3 as typed objects, read and written losslessly.

Every object keeps the JSON object it was read from: writing it back changes only the fields whose value
changed, so unknown fields (top level, `data`, the lorebook, its entries, `extensions`) survive, in their
order; an unchanged card is written back as the exact text it was read from.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

import attrs

from meganova.errors import MeganovaError

__all__ = [
    "SPEC_V2",
    "SPEC_V3",
    "Asset",
    "CharacterBook",
    "CharacterCardError",
    "LorebookEntry",
    "card_from_object",
    "load_json_text",
]

SPEC_V2 = "chara_card_v2"
SPEC_V3 = "chara_card_v3"
MAX_CARD_BYTES = 16 * 1024 * 1024
"""The default cap on a card's JSON (and on a PNG text chunk holding one): 16 MiB."""


class CharacterCardError(MeganovaError):
    """A character card that cannot be read or written; `code` says why (`not_png`, `no_card`,
    `bad_base64`, `bad_json`, `bad_spec`, `bad_field`, `too_large`, `zip_bomb`, `unsafe_path`, `bad_zip`,
    `bad_png`, `not_found`)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code)


def _fail(message: str, code: str = "bad_field") -> CharacterCardError:
    return CharacterCardError(message, code)


# --- readers of one field ------------------------------------------------------------------------


def _str(source: Mapping[str, Any], key: str, where: str) -> str:
    value = source.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(f"{where}.{key} must be a string, not {type(value).__name__}")
    return value


def _opt_str(source: Mapping[str, Any], key: str, where: str) -> Optional[str]:
    if source.get(key) is None:
        return None
    return _str(source, key, where)


def _str_list(source: Mapping[str, Any], key: str, where: str) -> List[str]:
    value = source.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _fail(f"{where}.{key} must be a list of strings")
    return list(value)


def _opt_str_list(source: Mapping[str, Any], key: str, where: str) -> Optional[List[str]]:
    if source.get(key) is None:
        return None
    return _str_list(source, key, where)


def _object(source: Mapping[str, Any], key: str, where: str) -> Dict[str, Any]:
    value = source.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(f"{where}.{key} must be an object, not {type(value).__name__}")
    return copy.deepcopy(value)


def _opt_number(source: Mapping[str, Any], key: str, where: str) -> Optional[Union[int, float]]:
    value = source.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"{where}.{key} must be a number, not {type(value).__name__}")
    number: Union[int, float] = value
    return number


def _opt_bool(source: Mapping[str, Any], key: str, where: str) -> Optional[bool]:
    value = source.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _fail(f"{where}.{key} must be true or false, not {type(value).__name__}")
    return value


_ABSENT: Any = object()


def _merge(source: Optional[Dict[str, Any]], seen: Optional[Dict[str, Any]], current: Dict[str, Any]) -> Dict[str, Any]:
    """The JSON object to write: `source` (what was read) with only the changed fields replaced.

    `current` maps each known field to its JSON value now (`_ABSENT`: leave it out); `seen` holds the
    same as it was right after reading."""
    if source is None or seen is None:
        return {key: value for key, value in current.items() if value is not _ABSENT}
    out = dict(source)
    for key, value in current.items():
        if key in seen and _same(seen[key], value):
            continue
        if value is _ABSENT:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _same(a: Any, b: Any) -> bool:
    if a is _ABSENT or b is _ABSENT:
        return a is b
    return type(a) is type(b) and bool(a == b)


# --- the objects ---------------------------------------------------------------------------------


@attrs.define(eq=False)
class LorebookEntry:
    """One lorebook entry: inserted into the prompt when one of `keys` appears in the recent messages."""

    keys: List[str] = attrs.field(factory=list)
    content: str = ""
    extensions: Dict[str, Any] = attrs.field(factory=dict)
    enabled: bool = True
    insertion_order: Union[int, float] = 0
    case_sensitive: Optional[bool] = None
    use_regex: Optional[bool] = None
    constant: Optional[bool] = None
    name: Optional[str] = None
    priority: Optional[Union[int, float]] = None
    id: Optional[Union[int, str]] = None
    comment: Optional[str] = None
    selective: Optional[bool] = None
    secondary_keys: Optional[List[str]] = None
    position: Optional[str] = None
    """`before_char` or `after_char` (None: `before_char`)."""
    _source: Optional[Dict[str, Any]] = attrs.field(default=None, repr=False, alias="_source")
    _seen: Optional[Dict[str, Any]] = attrs.field(default=None, init=False, repr=False)

    @classmethod
    def from_dict(cls, value: Any, where: str = "entry") -> LorebookEntry:
        """An entry from its JSON object."""
        if not isinstance(value, dict):
            raise _fail(f"{where} must be an object")
        raw_id = value.get("id")
        if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, (int, str))):
            raise _fail(f"{where}.id must be a number or a string")
        enabled = _opt_bool(value, "enabled", where)
        entry = cls(
            keys=_str_list(value, "keys", where),
            content=_str(value, "content", where),
            extensions=_object(value, "extensions", where),
            enabled=True if enabled is None else enabled,
            insertion_order=_opt_number(value, "insertion_order", where) or 0,
            case_sensitive=_opt_bool(value, "case_sensitive", where),
            use_regex=_opt_bool(value, "use_regex", where),
            constant=_opt_bool(value, "constant", where),
            name=_opt_str(value, "name", where),
            priority=_opt_number(value, "priority", where),
            id=raw_id,
            comment=_opt_str(value, "comment", where),
            selective=_opt_bool(value, "selective", where),
            secondary_keys=_opt_str_list(value, "secondary_keys", where),
            position=_opt_str(value, "position", where),
            _source=value,
        )
        entry._seen = entry._fields()
        return entry

    def _fields(self) -> Dict[str, Any]:
        def opt(value: Any) -> Any:
            return _ABSENT if value is None else copy.deepcopy(value)

        return {
            "keys": list(self.keys),
            "content": self.content,
            "extensions": copy.deepcopy(self.extensions),
            "enabled": self.enabled,
            "insertion_order": self.insertion_order,
            "case_sensitive": opt(self.case_sensitive),
            "use_regex": opt(self.use_regex),
            "constant": opt(self.constant),
            "name": opt(self.name),
            "priority": opt(self.priority),
            "id": opt(self.id),
            "comment": opt(self.comment),
            "selective": opt(self.selective),
            "secondary_keys": opt(self.secondary_keys),
            "position": opt(self.position),
        }

    def to_dict(self) -> Dict[str, Any]:
        """The entry's JSON object (unknown fields kept)."""
        return _merge(self._source, self._seen, self._fields())


@attrs.define(eq=False)
class CharacterBook:
    """A character's lorebook (`character_book`)."""

    entries: List[LorebookEntry] = attrs.field(factory=list)
    name: Optional[str] = None
    description: Optional[str] = None
    scan_depth: Optional[int] = None
    """How many of the most recent messages are scanned for keys (None: `DEFAULT_SCAN_DEPTH`)."""
    token_budget: Optional[int] = None
    """The most tokens (estimated) the inserted entries may take (None: no limit)."""
    recursive_scanning: Optional[bool] = None
    extensions: Dict[str, Any] = attrs.field(factory=dict)
    _source: Optional[Dict[str, Any]] = attrs.field(default=None, repr=False, alias="_source")
    _seen: Optional[Dict[str, Any]] = attrs.field(default=None, init=False, repr=False)

    @classmethod
    def from_dict(cls, value: Any, where: str = "character_book") -> CharacterBook:
        """A lorebook from its JSON object."""
        if not isinstance(value, dict):
            raise _fail(f"{where} must be an object")
        raw_entries = value.get("entries")
        if raw_entries is None:
            raw_entries = []
        if not isinstance(raw_entries, list):
            raise _fail(f"{where}.entries must be a list")
        scan_depth = _opt_number(value, "scan_depth", where)
        token_budget = _opt_number(value, "token_budget", where)
        book = cls(
            entries=[LorebookEntry.from_dict(item, f"{where}.entries[{i}]") for i, item in enumerate(raw_entries)],
            name=_opt_str(value, "name", where),
            description=_opt_str(value, "description", where),
            scan_depth=None if scan_depth is None else int(scan_depth),
            token_budget=None if token_budget is None else int(token_budget),
            recursive_scanning=_opt_bool(value, "recursive_scanning", where),
            extensions=_object(value, "extensions", where),
            _source=value,
        )
        book._seen = book._fields()
        return book

    def _fields(self) -> Dict[str, Any]:
        def opt(value: Any) -> Any:
            return _ABSENT if value is None else value

        return {
            "name": opt(self.name),
            "description": opt(self.description),
            "scan_depth": opt(self.scan_depth),
            "token_budget": opt(self.token_budget),
            "recursive_scanning": opt(self.recursive_scanning),
            "extensions": copy.deepcopy(self.extensions),
            "entries": [entry.to_dict() for entry in self.entries],
        }

    def to_dict(self) -> Dict[str, Any]:
        """The lorebook's JSON object (unknown fields kept)."""
        return _merge(self._source, self._seen, self._fields())


@attrs.define(eq=False)
class Asset:
    """A V3 asset: `type` (icon, background, emotion, user_icon, ...), `uri` (`embeded://path`, https,
    data URL, `ccdefault:`), `name`, `ext`."""

    type: str = "icon"
    uri: str = "ccdefault:"
    name: str = "main"
    ext: str = "png"
    _source: Optional[Dict[str, Any]] = attrs.field(default=None, repr=False, alias="_source")
    _seen: Optional[Dict[str, Any]] = attrs.field(default=None, init=False, repr=False)

    @classmethod
    def from_dict(cls, value: Any, where: str = "asset") -> Asset:
        """An asset from its JSON object."""
        if not isinstance(value, dict):
            raise _fail(f"{where} must be an object")
        asset = cls(
            type=_str(value, "type", where),
            uri=_str(value, "uri", where),
            name=_str(value, "name", where),
            ext=_str(value, "ext", where),
            _source=value,
        )
        asset._seen = asset._fields()
        return asset

    @property
    def embedded_path(self) -> Optional[str]:
        """The path inside the CHARX of an `embeded://` (or `embedded://`) asset, else None."""
        for prefix in ("embeded://", "embedded://"):
            if self.uri.startswith(prefix):
                return self.uri[len(prefix) :]
        return None

    def _fields(self) -> Dict[str, Any]:
        return {"type": self.type, "uri": self.uri, "name": self.name, "ext": self.ext}

    def to_dict(self) -> Dict[str, Any]:
        """The asset's JSON object (unknown fields kept)."""
        return _merge(self._source, self._seen, self._fields())


# --- whole cards ---------------------------------------------------------------------------------


def load_json_text(data: Union[bytes, str], what: str, max_bytes: int = MAX_CARD_BYTES) -> Any:
    """The JSON value of `data` (UTF-8 bytes or text), or a `CharacterCardError` saying what is wrong."""
    if len(data) > max_bytes:
        raise _fail(f"{what} is {len(data)} bytes, over the cap of {max_bytes}", "too_large")
    if isinstance(data, bytes):
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(f"{what} is not UTF-8 text: {exc}", "bad_json") from None
    try:
        return json.loads(data)
    except RecursionError:
        raise _fail(f"{what} is JSON nested too deep", "bad_json") from None
    except ValueError as exc:
        raise _fail(f"{what} is not valid JSON: {exc}", "bad_json") from None


def card_from_object(value: Any, what: str, factory: Callable[..., Any]) -> Any:
    """Checks a card's JSON object (spec, data) and builds it with `factory(card=..., data=...)`.

    A V1 card (no `spec`, the fields at the top) is read as V2 (and written as V2)."""
    if not isinstance(value, dict):
        raise _fail(f"{what} must be a JSON object, not {type(value).__name__}", "bad_json")
    spec = value.get("spec")
    if spec is None and isinstance(value.get("name"), str) and "data" not in value:
        v1 = {key: value[key] for key in value}
        return factory(card=None, data=v1, spec=SPEC_V2, spec_version="2.0")
    if spec not in (SPEC_V2, SPEC_V3):
        raise _fail(f"{what} has spec {spec!r}: expected {SPEC_V2!r} or {SPEC_V3!r}", "bad_spec")
    data = value.get("data")
    if not isinstance(data, dict):
        raise _fail(f"{what} has no `data` object", "bad_spec")
    version = value.get("spec_version")
    if version is not None and not isinstance(version, str):
        raise _fail(f"{what}.spec_version must be a string", "bad_spec")
    return factory(card=value, data=data, spec=spec, spec_version=version)
