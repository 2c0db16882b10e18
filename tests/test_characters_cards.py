"""Character cards: V2 and V3 (the fields of the spec documents' type definitions), JSON, PNG and CHARX,
lossless round trips, and every hostile card refused with a CharacterCardError and nothing written."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from meganova.characters import SPEC_V3, Asset, Character, CharacterCardError, LorebookEntry
from meganova.errors import MeganovaError

# Every field of the V2 spec's `TavernCardV2` and `CharacterBook` types (malfoyslastname/character-card-spec-v2,
# spec_v2.md), plus keys no spec knows (which must survive).
V2_CARD: Dict[str, Any] = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Luna",
        "description": "{{char}} keeps a noodle stand on Pier Nine in Neon Harbor.",
        "personality": "warm, curious, teasing",
        "scenario": "{{user}} walks up to the stand late at night.",
        "first_mes": "*Luna looks up.* Evening, {{user}}. Hungry?",
        "mes_example": "<START>\n{{user}}: What's good tonight?\n{{char}}: The ginger broth. Always.\n"
        "<START>\n{{user}}: Are you ever closed?\n{{char}}: Only when the tide says so.",
        "creator_notes": "Made for the harbor campaign.",
        "system_prompt": "{{original}} Never break character.",
        "post_history_instructions": "Answer as {{char}} in under 80 words.",
        "alternate_greetings": ["Back again, {{user}}?", "*steam rises* Oh! You startled me."],
        "character_book": {
            "name": "Neon Harbor",
            "description": "Places and people",
            "scan_depth": 3,
            "token_budget": 500,
            "recursive_scanning": False,
            "extensions": {"agnai/memory": {"x": 1}},
            "entries": [
                {
                    "keys": ["Pier Nine", "pier"],
                    "content": "Pier Nine is the last pier with lights.",
                    "extensions": {"depth": 4},
                    "enabled": True,
                    "insertion_order": 10,
                    "case_sensitive": False,
                    "name": "pier",
                    "priority": 5,
                    "id": 1,
                    "comment": "location",
                    "selective": False,
                    "secondary_keys": [],
                    "constant": False,
                    "position": "before_char",
                    "some_editor_field": [1, 2, 3],
                }
            ],
        },
        "tags": ["female", "cozy"],
        "creator": "harborworks",
        "character_version": "1.2",
        "extensions": {"talkativeness": "0.5", "fav": False, "depth_prompt": {"prompt": "hi", "depth": 4}},
        "unknown_data_field": {"keep": "me"},
    },
    "unknown_top_field": 7,
}

# Every field of the V3 spec's `CharacterCardV3` and `Lorebook` (kwaroran/character-card-spec-v3, SPEC_V3.md).
V3_CARD: Dict[str, Any] = {
    "spec": "chara_card_v3",
    "spec_version": "3.0",
    "data": {
        "name": "Luna Marisol",
        "description": "{{char}} keeps a noodle stand.",
        "tags": ["cozy"],
        "creator": "harborworks",
        "character_version": "3",
        "mes_example": "",
        "extensions": {"risu": {"x": 1}},
        "system_prompt": "",
        "post_history_instructions": "",
        "first_mes": "Hi {{user}}, I'm {{char}}.",
        "alternate_greetings": [],
        "personality": "",
        "scenario": "",
        "creator_notes": "English notes",
        "character_book": {
            "extensions": {},
            "entries": [
                {
                    "keys": ["/noodles?/i"],
                    "content": "@@depth 4\nThe broth recipe is a secret.",
                    "extensions": {},
                    "enabled": True,
                    "insertion_order": 0,
                    "use_regex": True,
                    "constant": False,
                }
            ],
        },
        "assets": [
            {"type": "icon", "uri": "embeded://assets/icon/images/main.png", "name": "main", "ext": "png"},
            {"type": "background", "uri": "ccdefault:", "name": "bg", "ext": "png"},
        ],
        "nickname": "Lu",
        "creator_notes_multilingual": {"en": "English notes", "ko": "메모"},
        "source": ["https://example.com/luna"],
        "group_only_greetings": ["Hello everyone!"],
        "creation_date": 1700000000,
        "modification_date": 1764000000,
    },
}


def png_image(extra: List[Tuple[bytes, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    """A real 1x1 PNG (IHDR, IDAT, IEND) with `extra` chunks before IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    body = chunk(b"IHDR", ihdr) + chunk(b"tIME", b"\x07\xea\x0c\x02\x05\x00\x00") + chunk(b"IDAT", idat)
    for kind, data in extra:
        body += chunk(kind, data)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def text_chunk(keyword: str, text: str) -> Tuple[bytes, bytes]:
    return (b"tEXt", keyword.encode() + b"\x00" + text.encode("latin-1"))


def b64(card: Any) -> str:
    return base64.b64encode(json.dumps(card).encode()).decode()


def chunks_of(png: bytes) -> List[Tuple[bytes, bytes]]:
    out = []
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        out.append((png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]))
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(png[pos + 4 : pos + 8 + length]) & 0xFFFFFFFF
        pos += 12 + length
    return out


def card_texts(png: bytes) -> Dict[str, Any]:
    found = {}
    for kind, data in chunks_of(png):
        if kind == b"tEXt":
            key, _, value = data.partition(b"\x00")
            found[key.decode()] = json.loads(base64.b64decode(value))
    return found


# --- reading the fields ----------------------------------------------------------------------------


def test_v2_card_every_field_typed() -> None:
    luna = Character.from_json(json.dumps(V2_CARD))
    assert luna.spec == "chara_card_v2" and luna.spec_version == "2.0"
    assert luna.name == "Luna" and luna.personality == "warm, curious, teasing"
    assert luna.alternate_greetings == ["Back again, {{user}}?", "*steam rises* Oh! You startled me."]
    assert luna.tags == ["female", "cozy"] and luna.creator == "harborworks" and luna.character_version == "1.2"
    assert luna.extensions["depth_prompt"] == {"prompt": "hi", "depth": 4}
    book = luna.character_book
    assert book is not None and book.name == "Neon Harbor" and book.scan_depth == 3 and book.token_budget == 500
    assert book.recursive_scanning is False and book.extensions == {"agnai/memory": {"x": 1}}
    (entry,) = book.entries
    assert entry.keys == ["Pier Nine", "pier"] and entry.priority == 5 and entry.id == 1
    assert entry.position == "before_char" and entry.selective is False and entry.comment == "location"
    assert luna.greetings()[0].startswith("*Luna looks up.*")


def test_v3_card_every_field_typed() -> None:
    luna = Character.from_dict(V3_CARD)
    assert luna.spec == SPEC_V3 and luna.nickname == "Lu" and luna.display_name == "Lu"
    assert luna.creator_notes_multilingual == {"en": "English notes", "ko": "메모"}
    assert luna.source == ["https://example.com/luna"] and luna.group_only_greetings == ["Hello everyone!"]
    assert luna.creation_date == 1700000000 and luna.modification_date == 1764000000
    assert luna.assets is not None and luna.assets[0].embedded_path == "assets/icon/images/main.png"
    assert luna.assets[1].embedded_path is None
    assert luna.character_book is not None and luna.character_book.entries[0].use_regex is True


def test_v1_card_is_read_as_v2() -> None:
    v1 = {"name": "Old", "description": "d", "personality": "p", "scenario": "s", "first_mes": "hi", "mes_example": ""}
    old = Character.from_json(json.dumps(v1))
    assert old.name == "Old" and old.first_mes == "hi"
    assert old.to_dict()["spec"] == "chara_card_v2" and old.to_dict()["data"]["scenario"] == "s"


# --- lossless round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("card", [V2_CARD, V3_CARD], ids=["v2", "v3"])
@pytest.mark.parametrize("indent", [None, 2, "\t"])
def test_unchanged_json_round_trip_is_byte_identical(card: Dict[str, Any], indent: Any) -> None:
    text = json.dumps(card, indent=indent, ensure_ascii=indent is None)
    character = Character.from_json(text)
    assert character.to_json() == text
    assert character.to_dict() == card
    assert Character.from_json(text.encode("utf-8")).to_json() == text


def test_a_change_touches_only_that_field() -> None:
    luna = Character.from_json(json.dumps(V2_CARD))
    luna.name = "Luna II"
    assert luna.character_book is not None
    luna.character_book.entries[0].content = "Changed."
    luna.character_book.entries.append(LorebookEntry(keys=["tide"], content="The tide rules the market."))
    out = json.loads(luna.to_json())
    expected = json.loads(json.dumps(V2_CARD))
    expected["data"]["name"] = "Luna II"
    expected["data"]["character_book"]["entries"][0]["content"] = "Changed."
    expected["data"]["character_book"]["entries"].append(
        {
            "keys": ["tide"],
            "content": "The tide rules the market.",
            "extensions": {},
            "enabled": True,
            "insertion_order": 0,
        }
    )
    assert out == expected
    assert list(out["data"]) == list(expected["data"])  # the order kept
    assert out["unknown_top_field"] == 7 and out["data"]["unknown_data_field"] == {"keep": "me"}
    assert out["data"]["character_book"]["entries"][0]["some_editor_field"] == [1, 2, 3]


def test_odd_values_survive_a_round_trip_of_other_changes() -> None:
    card = json.loads(json.dumps(V2_CARD))
    card["data"]["tags"] = None  # real cards have these
    card["data"]["character_book"]["scan_depth"] = 3.0
    luna = Character.from_dict(card)
    assert luna.tags == [] and luna.character_book is not None and luna.character_book.scan_depth == 3
    luna.description = "new"
    out = luna.to_dict()
    assert out["data"]["tags"] is None and out["data"]["character_book"]["scan_depth"] == 3.0
    assert out["data"]["description"] == "new"


def test_new_card_has_every_required_field() -> None:
    v2 = Character(name="A").to_dict()
    assert v2["spec"] == "chara_card_v2" and v2["spec_version"] == "2.0"
    assert set(v2["data"]) == {
        "name", "description", "personality", "scenario", "first_mes", "mes_example", "creator_notes",
        "system_prompt", "post_history_instructions", "alternate_greetings", "tags", "creator",
        "character_version", "extensions",
    }  # fmt: skip
    v3 = Character(name="A", spec=SPEC_V3, assets=[Asset()]).to_dict()
    assert v3["spec_version"] == "3.0" and v3["data"]["group_only_greetings"] == []
    assert v3["data"]["assets"] == [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}]
    assert Character.from_dict(v3).to_dict() == v3


# --- PNG ----------------------------------------------------------------------------------------------


def test_png_v2_read_and_unchanged_write_is_the_same_file(tmp_path: Path) -> None:
    png = png_image([text_chunk("chara", b64(V2_CARD))])
    luna = Character.from_png(png)
    assert luna.name == "Luna" and luna.to_dict() == V2_CARD
    assert luna.to_png() == png
    path = tmp_path / "luna.png"
    path.write_bytes(png)
    assert Character.load(path).to_dict() == V2_CARD


def test_png_write_keeps_the_image_chunks_and_writes_both_chunks_for_v3() -> None:
    image = png_image()
    v3 = Character.from_dict(V3_CARD)
    out = v3.to_png(image)
    original = [c for c in chunks_of(image)]
    written = chunks_of(out)
    assert [c for c in written if c[0] != b"tEXt"] == original  # IHDR, tIME, IDAT, IEND byte for byte
    texts = card_texts(out)
    assert set(texts) == {"chara", "ccv3"}
    assert texts["ccv3"] == V3_CARD
    assert texts["chara"]["spec"] == "chara_card_v2" and texts["chara"]["data"]["name"] == "Luna Marisol"
    assert "nickname" not in texts["chara"]["data"]
    again = Character.from_png(out)
    assert again.spec == SPEC_V3 and again.to_dict() == V3_CARD  # ccv3 wins over chara


def test_png_rewrite_replaces_old_card_chunks() -> None:
    png = png_image([text_chunk("chara", b64(V2_CARD)), text_chunk("Software", "paint")])
    luna = Character.from_png(png)
    luna.name = "Renamed"
    out = luna.to_png()
    kinds = [(k, d.partition(b"\x00")[0]) for k, d in chunks_of(out)]
    assert kinds.count((b"tEXt", b"chara")) == 1 and (b"tEXt", b"Software") in kinds
    assert Character.from_png(out).name == "Renamed"


def test_png_itxt_and_ztxt_and_plain_json_chunks_are_read() -> None:
    itxt = (b"iTXt", b"ccv3\x00\x00\x00\x00\x00" + b64(V3_CARD).encode())
    assert Character.from_png(png_image([itxt])).nickname == "Lu"
    ztxt = (b"zTXt", b"chara\x00\x00" + zlib.compress(b64(V2_CARD).encode()))
    assert Character.from_png(png_image([ztxt])).name == "Luna"
    plain = text_chunk("chara", json.dumps(V2_CARD, ensure_ascii=True))
    assert Character.from_png(png_image([plain])).name == "Luna"
    utf8 = (b"tEXt", b"chara\x00" + json.dumps(V3_CARD, ensure_ascii=False).encode("utf-8"))
    assert Character.from_png(png_image([utf8])).creator_notes_multilingual == {"en": "English notes", "ko": "메모"}
    legacy = text_chunk("character", b64(V2_CARD))
    assert Character.from_png(png_image([legacy])).name == "Luna"


# --- CHARX --------------------------------------------------------------------------------------------


def charx(members: Dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_charx_read_assets_and_write_back(tmp_path: Path) -> None:
    icon = png_image()
    data = charx({"card.json": json.dumps(V3_CARD).encode(), "assets/icon/images/main.png": icon, "x_meta.json": b"{}"})
    path = tmp_path / "luna.charx"
    path.write_bytes(data)
    luna = Character.load(path)
    assert luna.assets is not None and luna.asset_data(luna.assets[0]) == icon
    assert luna.asset_data(luna.assets[1]) is None
    luna.save(tmp_path / "copy.charx")
    again = Character.load(tmp_path / "copy.charx")
    assert again.to_json() == json.dumps(V3_CARD) and again.files == luna.files
    written = luna.extract_assets(tmp_path / "out")
    assert (tmp_path / "out" / "assets" / "icon" / "images" / "main.png").read_bytes() == icon
    assert len(written) == 2


def test_json_save_is_atomic_and_byte_identical(tmp_path: Path) -> None:
    text = json.dumps(V2_CARD, indent=1)
    (tmp_path / "a.json").write_text(text, encoding="utf-8")
    Character.load(tmp_path / "a.json").save(tmp_path / "b.json")
    assert (tmp_path / "b.json").read_text(encoding="utf-8") == text
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.json"]


# --- hostile cards --------------------------------------------------------------------------------------


def refused(code: str, data: bytes, tmp_path: Path, **limits: int) -> CharacterCardError:
    path = tmp_path / "hostile.bin"
    path.write_bytes(data)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(CharacterCardError) as caught:
        Character.load(path, **limits)
    assert caught.value.code == code, caught.value
    assert isinstance(caught.value, MeganovaError) and str(caught.value)
    assert sorted(os.listdir(tmp_path)) == before  # nothing written
    return caught.value


def test_not_a_png(tmp_path: Path) -> None:
    refused("not_png", b"GIF89a\x01\x00", tmp_path)
    refused("not_png", b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 0) + b"IDAT" + b"\x00" * 4, tmp_path)


def test_truncated_and_bad_crc_png(tmp_path: Path) -> None:
    png = png_image([text_chunk("chara", b64(V2_CARD))])
    refused("bad_png", png[:-20], tmp_path)
    pos = png.index(b"tEXt")
    broken = png[: pos + 10] + bytes([png[pos + 10] ^ 1]) + png[pos + 11 :]
    assert "CRC" in str(refused("bad_png", broken, tmp_path))


def test_no_card_chunk(tmp_path: Path) -> None:
    error = refused("no_card", png_image([text_chunk("Software", "paint")]), tmp_path)
    assert "ccv3" in str(error) and "chara" in str(error)


def test_bad_base64_and_bad_json(tmp_path: Path) -> None:
    refused("bad_base64", png_image([text_chunk("chara", "!!not base64!!")]), tmp_path)
    refused("bad_json", png_image([text_chunk("chara", base64.b64encode(b"{nope").decode())]), tmp_path)
    refused("bad_json", png_image([text_chunk("chara", base64.b64encode(b"\xff\xfe").decode())]), tmp_path)
    refused("bad_json", b"{" + b'"a":' * 1, tmp_path)
    refused("bad_json", b"[" * 100000 + b"]" * 100000, tmp_path)


def test_wrong_spec_and_bad_fields(tmp_path: Path) -> None:
    for spec in ("chara_card_v4", None, 3):
        card = dict(V2_CARD, spec=spec)
        card.pop("unknown_top_field")
        if spec is None:
            card["data"] = dict(card["data"])
            card.pop("spec")
        error = refused("bad_spec", json.dumps(card).encode(), tmp_path)
        assert "spec" in str(error)
    bad = json.loads(json.dumps(V2_CARD))
    bad["data"]["name"] = 5
    assert "data.name" in str(refused("bad_field", json.dumps(bad).encode(), tmp_path))
    bad = json.loads(json.dumps(V2_CARD))
    bad["data"]["character_book"]["entries"][0]["keys"] = "pier"
    assert "entries[0].keys" in str(refused("bad_field", json.dumps(bad).encode(), tmp_path))
    refused("bad_json", b"[1, 2]", tmp_path)


def test_chunk_over_the_cap(tmp_path: Path) -> None:
    png = png_image([text_chunk("chara", b64(V2_CARD))])
    refused("too_large", png, tmp_path, max_bytes=100)
    refused("too_large", json.dumps(V2_CARD).encode(), tmp_path, max_bytes=100)


def test_ztxt_bomb(tmp_path: Path) -> None:
    bomb = (b"zTXt", b"chara\x00\x00" + zlib.compress(b"A" * (4 * 1024 * 1024)))
    refused("zip_bomb", png_image([bomb]), tmp_path, max_bytes=1024 * 1024)


def test_charx_member_over_the_cap_and_zip_bomb(tmp_path: Path) -> None:
    card = json.dumps(V3_CARD).encode()
    big = charx({"card.json": card, "assets/a.bin": b"\x00" * (2 * 1024 * 1024)})
    refused("too_large", big, tmp_path, max_asset_bytes=1024 * 1024)
    refused("zip_bomb", big, tmp_path, max_total_bytes=1024 * 1024 + 4096)
    refused("too_large", charx({"card.json": card}), tmp_path, max_bytes=100)
    many = charx({"card.json": card, **{f"assets/{i}": b"x" for i in range(30)}})
    refused("zip_bomb", many, tmp_path, max_members=10)


def test_charx_lying_sizes_are_caught_while_inflating(tmp_path: Path) -> None:
    payload = b"\x00" * (3 * 1024 * 1024)
    data = bytearray(charx({"card.json": json.dumps(V3_CARD).encode(), "assets/bomb.bin": payload}))
    # Rewrite the declared size of assets/bomb.bin (local header and central directory) to 10 bytes.
    size = struct.pack("<I", len(payload))
    count = 0
    start = 0
    while True:
        at = data.find(size, start)
        if at < 0:
            break
        data[at : at + 4] = struct.pack("<I", 10)
        start = at + 4
        count += 1
    assert count >= 2
    # At most the declared size is inflated (read in bounded steps); the rest fails the member's CRC.
    error = refused("bad_zip", bytes(data), tmp_path)
    assert "assets/bomb.bin" in str(error)


def test_charx_without_card_json_and_not_a_zip(tmp_path: Path) -> None:
    refused("no_card", charx({"other.json": b"{}"}), tmp_path)
    refused("bad_zip", b"PK\x03\x04garbage", tmp_path)


@pytest.mark.parametrize("name", ["../evil.txt", "assets/../../evil.txt", "/etc/evil", "C:/evil", "a\\..\\b"])
def test_charx_zip_slip_member_refused(tmp_path: Path, name: str) -> None:
    refused("unsafe_path", charx({"card.json": json.dumps(V3_CARD).encode(), name: b"x"}), tmp_path)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_asset_uri_escaping_refused(tmp_path: Path) -> None:
    card = json.loads(json.dumps(V3_CARD))
    card["data"]["assets"][0]["uri"] = "embeded://../../evil.png"
    refused("unsafe_path", charx({"card.json": json.dumps(card).encode()}), tmp_path)


def test_extract_refuses_a_path_leaving_the_folder_and_writes_nothing(tmp_path: Path) -> None:
    luna = Character.from_dict(V3_CARD)
    luna.files = {"assets/ok.png": b"ok", "../../escape.png": b"bad"}
    with pytest.raises(CharacterCardError) as caught:
        luna.extract_assets(tmp_path / "out")
    assert caught.value.code == "unsafe_path"
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "escape.png").exists()
    # A symbolic link inside the target folder that points out of it is refused too.
    (tmp_path / "out2").mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "out2" / "assets")
    luna.files = {"assets/x.png": b"x"}
    with pytest.raises(CharacterCardError):
        luna.extract_assets(tmp_path / "out2")
    assert os.listdir(tmp_path / "outside") == []


def test_to_png_without_an_image_and_a_failed_save_leave_nothing(tmp_path: Path) -> None:
    luna = Character(name="A")
    with pytest.raises(CharacterCardError):
        luna.save(tmp_path / "a.png")
    with pytest.raises(CharacterCardError):
        luna.save(tmp_path / "b.png", image=b"not a png")
    assert os.listdir(tmp_path) == []


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CharacterCardError) as caught:
        Character.load(tmp_path / "nope.png")
    assert caught.value.code == "not_found"


# --- fuzz: any bytes, any mutation of a real card: a card or a CharacterCardError, nothing else --------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(
    max_examples=int(os.environ.get("MEGANOVA_FUZZ_EXAMPLES", "300")) // 2 or 1,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SEEDS = [
    png_image([text_chunk("chara", b64(V2_CARD))]),
    charx({"card.json": json.dumps(V3_CARD).encode(), "assets/icon/images/main.png": b"icon"}),
    json.dumps(V2_CARD).encode(),
]


def _load_or_refuse(data: bytes) -> None:
    try:
        card = Character.loads(data, max_total_bytes=1 << 20, max_asset_bytes=1 << 20)
    except CharacterCardError as exc:
        assert exc.code and str(exc)
        return
    json.loads(card.to_json())  # what was read can be written


@FUZZ
@given(st.binary(max_size=2048))
def test_fuzz_any_bytes(data: bytes) -> None:
    _load_or_refuse(data)
    _load_or_refuse(b"\x89PNG\r\n\x1a\n" + data)
    _load_or_refuse(b"PK\x03\x04" + data)


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=8))
def test_fuzz_mutated_cards(seed: bytes, changes: List[Tuple[int, int]]) -> None:
    data = bytearray(seed)
    for position, value in changes:
        data[position % len(data)] = value
    _load_or_refuse(bytes(data))
    _load_or_refuse(bytes(data[: len(data) // 2]))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(
    st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=4),
    st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=4),
    st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=4),
    st.sampled_from([V2_CARD, V3_CARD]),
    st.sampled_from([None, 2]),
)
def test_fuzz_unknown_fields_survive_byte_for_byte(
    top: Dict[str, Any], data: Dict[str, Any], extensions: Dict[str, Any], base: Dict[str, Any], indent: Any
) -> None:
    card = json.loads(json.dumps(base))
    card.update({k: v for k, v in top.items() if k not in card})
    known = set(V2_CARD["data"]) | set(V3_CARD["data"])  # a known field with a random value is a bad card
    card["data"].update({k: v for k, v in data.items() if k not in card["data"] and k not in known})
    card["data"]["extensions"] = extensions
    text = json.dumps(card, indent=indent)
    character = Character.from_json(text)
    assert character.to_json() == text
    character.name = character.name + "!"  # one change: everything else as read
    out = json.loads(character.to_json())
    card["data"]["name"] += "!"
    assert out == card
