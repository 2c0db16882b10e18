"""`Character`: a Character Card V2 or V3, from and to JSON, PNG and CHARX."""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import json
import os
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import attrs

from ._card import (
    _ABSENT,
    MAX_CARD_BYTES,
    SPEC_V2,
    SPEC_V3,
    Asset,
    CharacterBook,
    CharacterCardError,
    _merge,
    _object,
    _opt_number,
    _opt_str,
    _opt_str_list,
    _str,
    _str_list,
    card_from_object,
    load_json_text,
)
from ._charx import MAX_ASSET_BYTES, MAX_MEMBERS, MAX_TOTAL_BYTES, inside, read_charx, safe_member_path, write_charx
from ._png import PNG_SIGNATURE, Chunk, read_chunks, text_chunk, text_of, write_chunks

__all__ = ["Character", "PathLike"]

PathLike = Union[str, "os.PathLike[str]"]
_V2_FIELDS = (
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "alternate_greetings",
    "character_book",
    "tags",
    "creator",
    "character_version",
    "extensions",
)
_CARD_KEYWORDS = ("ccv3", "chara", "character")
"""The PNG text chunks a card is read from, in this order of preference."""


def _write_atomically(path: PathLike, data: bytes) -> None:
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    handle, temporary = tempfile.mkstemp(prefix=".card-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@attrs.define(eq=False)
class Character:
    """A character card (Character Card V2 `chara_card_v2` or V3 `chara_card_v3`), every spec field typed.

    Read with `Character.load(path)` (a `.png`, `.charx` or `.json`, told apart by their bytes) or
    `from_json` / `from_png` / `from_charx`; write with `save(path)`, `to_json()`, `to_png()`,
    `to_charx()`. What was read is kept: unknown fields and extensions survive, and an unchanged card's
    JSON is the text read, byte for byte. A bad file raises `CharacterCardError` (a `MeganovaError`)
    and nothing is written. `messages(...)` builds the chat messages that play the character.
    """

    name: str = ""
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    creator_notes: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    alternate_greetings: List[str] = attrs.field(factory=list)
    character_book: Optional[CharacterBook] = None
    tags: List[str] = attrs.field(factory=list)
    creator: str = ""
    character_version: str = ""
    extensions: Dict[str, Any] = attrs.field(factory=dict)
    # V3
    nickname: Optional[str] = None
    creator_notes_multilingual: Optional[Dict[str, str]] = None
    source: Optional[List[str]] = None
    group_only_greetings: List[str] = attrs.field(factory=list)
    creation_date: Optional[Union[int, float]] = None
    modification_date: Optional[Union[int, float]] = None
    assets: Optional[List[Asset]] = None
    spec: str = SPEC_V2
    """`chara_card_v2` or `chara_card_v3`."""
    spec_version: Optional[str] = None
    """As read (None: "2.0" or "3.0" by `spec` when written)."""
    files: Dict[str, bytes] = attrs.field(factory=dict, repr=False)
    """The CHARX members besides card.json (the assets), by path; written back by `to_charx()`."""
    image: Optional[bytes] = attrs.field(default=None, repr=False)
    """The PNG the card was read from (its image is reused by `to_png()` when no other is given)."""
    _card: Optional[Dict[str, Any]] = attrs.field(default=None, repr=False, alias="_card")
    _data: Optional[Dict[str, Any]] = attrs.field(default=None, repr=False, alias="_data")
    _seen: Optional[Dict[str, Any]] = attrs.field(default=None, init=False, repr=False)
    _text: Optional[str] = attrs.field(default=None, init=False, repr=False)
    _chunks: Optional[List[Chunk]] = attrs.field(default=None, init=False, repr=False)

    # --- reading -----------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, card: Mapping[str, Any]) -> Character:
        """A character from a card's JSON object (`{"spec": ..., "data": {...}}`, or a V1 card)."""
        value = dict(card) if isinstance(card, Mapping) else card
        built: Character = card_from_object(value, "the card", cls._build)
        return built

    @classmethod
    def _build(
        cls, *, card: Optional[Dict[str, Any]], data: Dict[str, Any], spec: str, spec_version: Optional[str]
    ) -> Character:
        where = "data"
        raw_book = data.get("character_book")
        raw_assets = data.get("assets")
        if raw_assets is not None and not isinstance(raw_assets, list):
            raise CharacterCardError("data.assets must be a list", "bad_field")
        notes = data.get("creator_notes_multilingual")
        if notes is not None and (not isinstance(notes, dict) or not all(isinstance(v, str) for v in notes.values())):
            raise CharacterCardError("data.creator_notes_multilingual must map languages to strings", "bad_field")
        character = cls(
            name=_str(data, "name", where),
            description=_str(data, "description", where),
            personality=_str(data, "personality", where),
            scenario=_str(data, "scenario", where),
            first_mes=_str(data, "first_mes", where),
            mes_example=_str(data, "mes_example", where),
            creator_notes=_str(data, "creator_notes", where),
            system_prompt=_str(data, "system_prompt", where),
            post_history_instructions=_str(data, "post_history_instructions", where),
            alternate_greetings=_str_list(data, "alternate_greetings", where),
            character_book=None if raw_book is None else CharacterBook.from_dict(raw_book, "data.character_book"),
            tags=_str_list(data, "tags", where),
            creator=_str(data, "creator", where),
            character_version=_str(data, "character_version", where),
            extensions=_object(data, "extensions", where),
            nickname=_opt_str(data, "nickname", where),
            creator_notes_multilingual=None if notes is None else dict(notes),
            source=_opt_str_list(data, "source", where),
            group_only_greetings=_str_list(data, "group_only_greetings", where),
            creation_date=_opt_number(data, "creation_date", where),
            modification_date=_opt_number(data, "modification_date", where),
            assets=None
            if raw_assets is None
            else [Asset.from_dict(item, f"data.assets[{i}]") for i, item in enumerate(raw_assets)],
            spec=spec,
            spec_version=spec_version,
            _card=card,
            _data=data if card is not None else None,
        )
        for asset in character.assets or []:
            path = asset.embedded_path
            if path is not None:
                safe_member_path(path)
        if card is not None:
            character._seen = character._fields()
        return character

    @classmethod
    def from_json(cls, text: Union[str, bytes], *, max_bytes: int = MAX_CARD_BYTES) -> Character:
        """A character from a card's JSON text."""
        character = cls.from_dict(load_json_text(text, "the card JSON", max_bytes))
        if character._card is not None:
            character._text = text.decode("utf-8-sig") if isinstance(text, bytes) else text
        return character

    @classmethod
    def from_png(cls, png: bytes, *, max_bytes: int = MAX_CARD_BYTES) -> Character:
        """A character from a PNG file's bytes: the `ccv3` text chunk, else `chara` (else `character`)."""
        chunks = read_chunks(png, max_bytes)
        found: Dict[str, str] = {}
        for chunk in chunks:
            named = text_of(chunk, max_bytes)
            if named is not None and named[0] in _CARD_KEYWORDS and named[0] not in found:
                found[named[0]] = named[1]
        keyword = next((name for name in _CARD_KEYWORDS if name in found), None)
        if keyword is None:
            raise CharacterCardError("the PNG holds no character card (no ccv3 or chara text chunk)", "no_card")
        text = found[keyword].strip()
        if text.startswith("{"):  # plain JSON, not base64: its bytes as the chunk held them
            try:
                raw = text.encode("latin-1")
            except UnicodeEncodeError:
                raw = text.encode("utf-8")
        else:
            try:
                raw = base64.b64decode("".join(text.split()), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise CharacterCardError(f"the PNG {keyword} chunk is not valid base64: {exc}", "bad_base64") from None
        character = cls.from_json(raw, max_bytes=max_bytes)
        character.image = png
        character._chunks = chunks
        return character

    @classmethod
    def from_charx(
        cls,
        data: bytes,
        *,
        max_bytes: int = MAX_CARD_BYTES,
        max_asset_bytes: int = MAX_ASSET_BYTES,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_members: int = MAX_MEMBERS,
    ) -> Character:
        """A character from a CHARX file's bytes (card.json and the assets, all held in memory)."""
        card, files = read_charx(
            data,
            max_card_bytes=max_bytes,
            max_asset_bytes=max_asset_bytes,
            max_total_bytes=max_total_bytes,
            max_members=max_members,
        )
        character = cls.from_json(card, max_bytes=max_bytes)
        character.files = files
        return character

    @classmethod
    def loads(cls, data: bytes, **limits: int) -> Character:
        """A character from a file's bytes: PNG, CHARX (zip) or JSON, by their first bytes."""
        if data.startswith(PNG_SIGNATURE):
            return cls.from_png(data, max_bytes=limits.get("max_bytes", MAX_CARD_BYTES))
        if data.startswith(b"PK"):
            return cls.from_charx(data, **limits)
        if data[:16].lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
            return cls.from_json(data, max_bytes=limits.get("max_bytes", MAX_CARD_BYTES))
        raise CharacterCardError("not a character card: neither a PNG, a CHARX nor JSON", "not_png")

    @classmethod
    def load(cls, path: PathLike, **limits: int) -> Character:
        """A character from a `.png`, `.charx` or `.json` file. `limits`: `max_bytes` (the card JSON),
        `max_asset_bytes`, `max_total_bytes` (the file and a CHARX inflated), `max_members`."""
        cap = limits.get("max_total_bytes", MAX_TOTAL_BYTES)
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > cap:
                    raise CharacterCardError(f"{os.fspath(path)} is {size} bytes, over the cap of {cap}", "too_large")
                data = handle.read(cap + 1)
        except OSError as exc:
            raise CharacterCardError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}", "not_found") from None
        if len(data) > cap:
            raise CharacterCardError(f"{os.fspath(path)} is over the cap of {cap} bytes", "too_large")
        return cls.loads(data, **limits)

    # --- writing -----------------------------------------------------------------------------

    def _fields(self) -> Dict[str, Any]:
        v3 = self.spec == SPEC_V3

        def opt(value: Any) -> Any:
            return _ABSENT if value is None else copy.deepcopy(value)

        fields: Dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "personality": self.personality,
            "scenario": self.scenario,
            "first_mes": self.first_mes,
            "mes_example": self.mes_example,
            "creator_notes": self.creator_notes,
            "system_prompt": self.system_prompt,
            "post_history_instructions": self.post_history_instructions,
            "alternate_greetings": list(self.alternate_greetings),
            "character_book": _ABSENT if self.character_book is None else self.character_book.to_dict(),
            "tags": list(self.tags),
            "creator": self.creator,
            "character_version": self.character_version,
            "extensions": copy.deepcopy(self.extensions),
            "nickname": opt(self.nickname),
            "creator_notes_multilingual": opt(self.creator_notes_multilingual),
            "source": opt(self.source),
            "group_only_greetings": list(self.group_only_greetings) if v3 or self.group_only_greetings else _ABSENT,
            "creation_date": opt(self.creation_date),
            "modification_date": opt(self.modification_date),
            "assets": _ABSENT if self.assets is None else [asset.to_dict() for asset in self.assets],
        }
        return fields

    def to_dict(self) -> Dict[str, Any]:
        """The card's JSON object: what was read, with the changed fields replaced."""
        data = _merge(self._data, self._seen, self._fields())
        version = self.spec_version or ("3.0" if self.spec == SPEC_V3 else "2.0")
        if self._card is None:
            return {"spec": self.spec, "spec_version": version, "data": data}
        card = dict(self._card)
        card["spec"] = self.spec
        if self.spec_version is not None or "spec_version" in card:
            card["spec_version"] = version
        card["data"] = data
        return card

    def to_v2_dict(self) -> Dict[str, Any]:
        """The card as Character Card V2 (for the `chara` chunk beside `ccv3`): the V2 fields only."""
        if self.spec == SPEC_V2:
            return self.to_dict()
        data = self.to_dict()["data"]
        return {
            "spec": SPEC_V2,
            "spec_version": "2.0",
            "data": {key: data[key] for key in _V2_FIELDS if key in data},
        }

    def to_json(self) -> str:
        """The card's JSON text; an unchanged card's is the text it was read from."""
        card = self.to_dict()
        if self._text is not None and card == self._card:
            return self._text
        return json.dumps(card, ensure_ascii=False)

    def to_png(self, image: Optional[bytes] = None) -> bytes:
        """A PNG holding the card: `image` (or the PNG it was read from) with its card chunks replaced, every
        other chunk byte for byte. V2 writes `chara`; V3 writes `chara` (as V2) and `ccv3`."""
        if image is None and self.image is None:
            raise CharacterCardError("no image to write the card into: pass a PNG's bytes as `image`", "not_png")
        chunks = read_chunks(image, MAX_TOTAL_BYTES) if image is not None else self._chunks
        if chunks is None:
            chunks = read_chunks(self.image or b"", MAX_TOTAL_BYTES)
        unchanged = image is None and self._text is not None and self.to_dict() == self._card
        if unchanged:
            return self.image or b""
        new = []
        if self.spec == SPEC_V3:
            new.append(text_chunk("chara", _b64(json.dumps(self.to_v2_dict(), ensure_ascii=False))))
            new.append(text_chunk("ccv3", _b64(self.to_json())))
        else:
            new.append(text_chunk("chara", _b64(self.to_json())))
        return write_chunks(chunks, ("chara", "ccv3"), new)

    def to_charx(self) -> bytes:
        """A CHARX (zip): card.json and `files`."""
        return write_charx(self.to_json().encode("utf-8"), self.files)

    def save(self, path: PathLike, *, image: Optional[bytes] = None) -> None:
        """Writes the card to `path`, as PNG, CHARX or JSON by its extension (`.png`, `.charx`, else JSON),
        through a temporary file renamed over it: on any error nothing is written."""
        suffix = os.fspath(path).lower().rsplit(".", 1)[-1]
        if suffix == "png":
            data = self.to_png(image)
        elif suffix == "charx":
            data = self.to_charx()
        else:
            data = self.to_json().encode("utf-8")
        _write_atomically(path, data)

    def asset_data(self, asset: Asset) -> Optional[bytes]:
        """The bytes of an `embeded://` asset held in this CHARX, else None."""
        path = asset.embedded_path
        return None if path is None else self.files.get(safe_member_path(path))

    def extract_assets(self, folder: PathLike) -> List[str]:
        """Writes `files` under `folder` (created); the paths written. Every path is checked first: one
        that would leave `folder` raises `CharacterCardError` and nothing is written."""
        base = os.fspath(folder)
        targets = [(inside(base, name), data) for name, data in sorted(self.files.items())]
        written = []
        for target, data in targets:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            _write_atomically(target, data)
            written.append(target)
        return written

    # --- prompts -----------------------------------------------------------------------------

    @property
    def display_name(self) -> str:
        """What `{{char}}` becomes: the V3 `nickname` when set, else `name`."""
        return self.nickname or self.name

    def greetings(self) -> List[str]:
        """The greetings to choose from: `first_mes`, then `alternate_greetings` (index 0, 1, ...)."""
        return [self.first_mes, *self.alternate_greetings]

    def messages(
        self,
        user: str = "User",
        *,
        greeting: Optional[int] = 0,
        history: Sequence[Mapping[str, Any]] = (),
        examples: bool = True,
    ) -> List[Dict[str, Any]]:
        """The chat messages that play this character (see `meganova.characters` for the order).

        `greeting`: 0 for `first_mes`, i for `alternate_greetings[i-1]`, None for none. `history`: the
        conversation so far (OpenAI-shaped messages), the user's new message last."""
        from ._prompt import build_messages

        return build_messages(self, user=user, greeting=greeting, history=history, examples=examples)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
