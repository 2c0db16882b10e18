"""PNG text chunks, read and written with the standard library (`struct`, `zlib`): the image's own
chunks are copied byte for byte."""

from __future__ import annotations

import struct
import zlib
from typing import List, Optional, Tuple

import attrs

from ._card import CharacterCardError

__all__ = ["PNG_SIGNATURE", "Chunk", "read_chunks", "text_of", "text_chunk", "write_chunks"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")


@attrs.define(frozen=True)
class Chunk:
    """One chunk: its type, its data, and its bytes as they were in the file (length, type, data, CRC)."""

    type: bytes
    data: bytes
    raw: bytes


def read_chunks(png: bytes, max_text_bytes: int) -> List[Chunk]:
    """The chunks of a PNG file up to IEND; text chunks over `max_text_bytes` or with a bad CRC raise."""
    if not png.startswith(PNG_SIGNATURE):
        raise CharacterCardError("not a PNG file (the signature is missing)", "not_png")
    chunks: List[Chunk] = []
    position = len(PNG_SIGNATURE)
    while True:
        if position + 8 > len(png):
            raise CharacterCardError("the PNG file is cut short (no IEND chunk)", "bad_png")
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        if length > 0x7FFFFFFF:
            raise CharacterCardError(f"a PNG chunk declares {length} bytes, over the format's limit", "bad_png")
        if kind in TEXT_TYPES and length > max_text_bytes:
            raise CharacterCardError(
                f"a PNG {kind.decode('latin-1')} chunk is {length} bytes, over the cap of {max_text_bytes}",
                "too_large",
            )
        end = position + 12 + length
        if end > len(png):
            raise CharacterCardError("the PNG file is cut short inside a chunk", "bad_png")
        data = png[position + 8 : position + 8 + length]
        if not chunks and kind != b"IHDR":
            raise CharacterCardError("not a PNG file (the first chunk is not IHDR)", "not_png")
        if kind in TEXT_TYPES:
            (crc,) = struct.unpack(">I", png[end - 4 : end])
            if zlib.crc32(kind + data) & 0xFFFFFFFF != crc:
                raise CharacterCardError(f"a PNG {kind.decode('latin-1')} chunk has a bad CRC", "bad_png")
        chunks.append(Chunk(kind, data, png[position:end]))
        position = end
        if kind == b"IEND":
            return chunks


def _inflate(data: bytes, cap: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, cap + 1)
    except zlib.error as exc:
        raise CharacterCardError(f"a compressed PNG text chunk is corrupt: {exc}", "bad_png") from None
    if len(out) > cap or inflater.unconsumed_tail:
        raise CharacterCardError(f"a compressed PNG text chunk inflates past the cap of {cap} bytes", "zip_bomb")
    return out


def text_of(chunk: Chunk, cap: int) -> Optional[Tuple[str, str]]:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk; None for other chunks or unreadable ones."""
    keyword, sep, rest = chunk.data.partition(b"\x00")
    if not sep:
        return None
    name = keyword.decode("latin-1")
    if chunk.type == b"tEXt":
        return name, rest.decode("latin-1")
    if chunk.type == b"zTXt":
        if not rest or rest[0] != 0:
            return None
        return name, _inflate(rest[1:], cap).decode("latin-1")
    if chunk.type == b"iTXt":
        if len(rest) < 2:
            return None
        compressed, method = rest[0], rest[1]
        parts = rest[2:].split(b"\x00", 2)
        if len(parts) != 3:
            return None
        text = parts[2]
        if compressed:
            if method != 0:
                return None
            text = _inflate(text, cap)
        try:
            return name, text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def text_chunk(keyword: str, text: str) -> bytes:
    """A whole tEXt chunk (length, type, data, CRC) holding `text` (ASCII: base64) under `keyword`."""
    data = keyword.encode("latin-1") + b"\x00" + text.encode("latin-1")
    return struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)


def write_chunks(chunks: List[Chunk], drop_keywords: Tuple[str, ...], new_chunks: List[bytes]) -> bytes:
    """The PNG file: every chunk as it was, except the text chunks named in `drop_keywords`; `new_chunks`
    go right before IEND."""
    out = [PNG_SIGNATURE]
    for chunk in chunks:
        if chunk.type in TEXT_TYPES and chunk.data.partition(b"\x00")[0].decode("latin-1") in drop_keywords:
            continue
        if chunk.type == b"IEND":
            out.extend(new_chunks)
        out.append(chunk.raw)
    return b"".join(out)
