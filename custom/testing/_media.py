"""Deterministic media made in code: PNG images, WAV / PCM / MP3 audio, embedding vectors."""

from __future__ import annotations

import array
import base64
import hashlib
import math
import struct
import sys
import zlib
from typing import List, Tuple

__all__ = [
    "SAMPLE_RATE",
    "embedding_vector",
    "float32_base64",
    "mp3_silence",
    "pcm_tone",
    "png",
    "thumbnail_size",
    "wav",
]

SAMPLE_RATE = 24000
"""Samples per second of the WAV and PCM audio (mono, 16-bit little-endian), as OpenAI's `pcm`."""


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, seed: bytes) -> bytes:
    """A valid RGB PNG of `width` x `height`: a diagonal gradient between two colours taken from `seed`.

    Cheap at any size: each scanline is a slice of one precomputed diagonal, compressed as it is made."""
    digest = hashlib.sha256(seed).digest()
    first, second = digest[0:3], digest[3:6]
    span = max(1, width + height - 2)
    diagonal = bytearray()
    for step in range(width + height - 1):  # the colour of every pixel with x + y == step
        mix = step / span
        diagonal.extend(round(a + (b - a) * mix) for a, b in zip(first, second))
    compressor = zlib.compressobj(6 if width * height <= 4_000_000 else 1)
    parts = []
    row_bytes = 3 * width
    for y in range(height):
        parts.append(compressor.compress(b"\x00" + diagonal[3 * y : 3 * y + row_bytes]))  # filter type 0
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def pcm_tone(seconds: float, frequency: float) -> bytes:
    """A sine tone, mono 16-bit little-endian at `SAMPLE_RATE`, fading in and out (no clicks)."""
    count = max(1, int(seconds * SAMPLE_RATE))
    fade = max(1, min(count // 10, SAMPLE_RATE // 50))
    samples = array.array("h")
    for n in range(count):
        envelope = min(1.0, n / fade, (count - 1 - n) / fade)
        samples.append(int(12000 * envelope * math.sin(2 * math.pi * frequency * n / SAMPLE_RATE)))
    if sys.byteorder != "little":
        samples.byteswap()
    return samples.tobytes()


def wav(pcm: bytes) -> bytes:
    """A RIFF/WAVE file around mono 16-bit PCM at `SAMPLE_RATE`."""
    fmt = struct.pack("<HHIIHH", 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(pcm))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(pcm))
        + pcm
    )


# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding, mono: 417-byte frames of 1152 samples. A frame whose
# side information and main data are all zero decodes as silence.
_MP3_HEADER = b"\xff\xfb\x90\xc4"
_MP3_FRAME = _MP3_HEADER + bytes(144 * 128000 // 44100 - len(_MP3_HEADER))


def mp3_silence(seconds: float) -> bytes:
    """Valid MP3 audio: `seconds` of silence (at least one frame)."""
    return _MP3_FRAME * max(1, math.ceil(seconds * 44100 / 1152))


def embedding_vector(key: bytes, dimensions: int) -> List[float]:
    """A unit vector of `dimensions` float32-exact numbers, a function of `key` only."""
    values: List[float] = []
    block = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(key + struct.pack(">I", block)).digest()
        values.extend(word / 2147483648.0 - 1.0 for word in struct.unpack(">8I", digest))
        block += 1
    del values[dimensions:]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    packed = struct.pack(f"<{dimensions}f", *(value / norm for value in values))
    return list(struct.unpack(f"<{dimensions}f", packed))


def float32_base64(values: List[float]) -> str:
    """The base64 text of `values` as little-endian float32 (OpenAI's `encoding_format: base64`)."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")


def thumbnail_size(width: int, height: int, longest: int = 32) -> Tuple[int, int]:
    """`width` x `height` scaled so that the longer side is at most `longest` pixels (each side ≥ 1)."""
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))
