"""CHARX files (a zip with `card.json` at its root and the assets), read with bounds: a cap on each member
and on the whole, both as the zip declares them and as they actually inflate (read in bounded steps), a
cap on the member count; member paths that would leave a target folder are refused."""

from __future__ import annotations

import io
import os
import posixpath
import zipfile
from typing import Dict, Tuple

from ._card import CharacterCardError

__all__ = ["MAX_ASSET_BYTES", "MAX_MEMBERS", "MAX_TOTAL_BYTES", "read_charx", "safe_member_path", "write_charx"]

MAX_ASSET_BYTES = 64 * 1024 * 1024
"""The default cap on one member of a CHARX, inflated: 64 MiB."""
MAX_TOTAL_BYTES = 256 * 1024 * 1024
"""The default cap on a whole CHARX (and on any card file read): 256 MiB."""
MAX_MEMBERS = 10_000
"""The default cap on the number of members of a CHARX."""
_STEP = 64 * 1024


def safe_member_path(name: str) -> str:
    """`name` as a relative `/`-separated path inside the archive, or a `CharacterCardError` when it is
    absolute, has a drive, a backslash, a NUL or `..`, so that it would leave the folder it goes to."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise CharacterCardError(f"the path {name!r} would leave its target folder", "unsafe_path")
    parts = name.split("/")
    if any(part == ".." for part in parts):
        raise CharacterCardError(f"the path {name!r} would leave its target folder", "unsafe_path")
    normal = posixpath.normpath(name)
    if normal.startswith("../") or normal == "..":
        raise CharacterCardError(f"the path {name!r} would leave its target folder", "unsafe_path")
    return normal


def read_charx(
    data: bytes, *, max_card_bytes: int, max_asset_bytes: int, max_total_bytes: int, max_members: int
) -> Tuple[bytes, Dict[str, bytes]]:
    """(card.json's bytes, {member path: bytes} of the other files) of a CHARX."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, an unsupported version (NotImplementedError), a bad offset, ...
        raise CharacterCardError(f"not a valid CHARX (zip) file: {exc}", "bad_zip") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > max_members:
            raise CharacterCardError(f"the CHARX has {len(members)} members, over the cap of {max_members}", "zip_bomb")
        declared = 0
        for info in members:
            safe_member_path(info.filename)
            cap = max_card_bytes if info.filename == "card.json" else max_asset_bytes
            if info.file_size > cap:
                raise CharacterCardError(
                    f"the CHARX member {info.filename!r} declares {info.file_size} bytes, over the cap of {cap}",
                    "too_large",
                )
            if info.flag_bits & 0x1:
                raise CharacterCardError(f"the CHARX member {info.filename!r} is encrypted", "bad_zip")
            declared += info.file_size
        if declared > max_total_bytes:
            raise CharacterCardError(
                f"the CHARX declares {declared} bytes inflated, over the cap of {max_total_bytes}", "zip_bomb"
            )
        if "card.json" not in {info.filename for info in members}:
            raise CharacterCardError("the CHARX has no card.json at its root", "no_card")
        files: Dict[str, bytes] = {}
        total = 0
        for info in members:
            cap = min(info.file_size, max_card_bytes if info.filename == "card.json" else max_asset_bytes)
            pieces = []
            size = 0
            try:
                with archive.open(info) as member:
                    while True:
                        piece = member.read(_STEP)
                        if not piece:
                            break
                        size += len(piece)
                        total += len(piece)
                        if size > cap or total > max_total_bytes:
                            raise CharacterCardError(
                                f"the CHARX member {info.filename!r} inflates past its declared size or the cap",
                                "zip_bomb",
                            )
                        pieces.append(piece)
            except CharacterCardError:
                raise
            except Exception as exc:  # BadZipFile, zlib.error, NotImplementedError (a method), EOFError, ...
                raise CharacterCardError(f"the CHARX member {info.filename!r} is corrupt: {exc}", "bad_zip") from None
            if info.filename in files:
                raise CharacterCardError(f"the CHARX holds {info.filename!r} twice", "bad_zip")
            files[info.filename] = b"".join(pieces)
    card = files.pop("card.json")
    return card, files


def write_charx(card_json: bytes, files: Dict[str, bytes]) -> bytes:
    """A CHARX: `card.json` first, then the files, deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", card_json)
        for name in sorted(files):
            archive.writestr(safe_member_path(name), files[name])
    return out.getvalue()


def inside(folder: str, relative: str) -> str:
    """The absolute path of `relative` under `folder`, or a `CharacterCardError` when it would leave it
    (symbolic links followed)."""
    base = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(base, *safe_member_path(relative).split("/")))
    if os.path.commonpath([base, target]) != base or target == base:
        raise CharacterCardError(f"the path {relative!r} would leave its target folder", "unsafe_path")
    return target
