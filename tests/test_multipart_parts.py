"""Issue 13.8: multipart part headers are built from checked values, on every multipart call
(`audio.transcribe`, and the generated multipart path under it): a CR, LF or NUL in a filename or MIME
type is refused with a `MeganovaError` before anything is sent; a file object is sent from its current
position (what was read from it before is not sent), on every attempt. Over real sockets, sync and async."""

from __future__ import annotations

import asyncio
import io
import socket
from typing import Any, Callable, Iterator

import pytest
from hostile_streams_server import HostileServer

from meganova import AsyncMegaNova, MegaNova
from meganova.errors import MeganovaError
from meganova.types import File

KEY = "sk-multipart-0123456789"


def transcribed(conn: socket.socket, request: Any) -> bool:
    body = b'{"text": "Welcome to Neon Harbor."}'
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    return True


def failing_once() -> Callable[[socket.socket, Any], bool]:
    """A 503 (retried), then the transcription."""
    seen = []

    def handle(conn: socket.socket, request: Any) -> bool:
        seen.append(request)
        if len(seen) == 1:
            conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 0\r\n\r\n")
            return True
        return transcribed(conn, request)

    return handle


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(transcribed) as running:
        yield running


def call(mode: str, url: str, file: Any, **kwargs: Any) -> Any:
    if mode == "sync":
        with MegaNova(api_key=KEY, base_url=url, max_retries=2) as client:
            return client.audio.transcribe(file, **kwargs)

    async def main() -> Any:
        async with AsyncMegaNova(api_key=KEY, base_url=url, max_retries=2) as client:
            return await client.audio.transcribe(file, **kwargs)

    return asyncio.run(main())


@pytest.mark.parametrize("bad", ["a.wav\r\nX-Evil: 1", "a.wav\nContent-Type: text/html", "a\x00.wav", "a\r.wav"])
def test_a_filename_with_a_line_break_or_nul_is_refused_before_sending(
    mode: str, server: HostileServer, bad: str
) -> None:
    with pytest.raises(MeganovaError, match="filename contains a line break") as info:
        call(mode, server.url, b"RIFF....WAVE", filename=bad)
    assert bad not in str(info.value) and info.value.status is None
    with pytest.raises(MeganovaError, match="filename"):
        call(mode, server.url, File(io.BytesIO(b"RIFF"), bad, "audio/wav"))
    assert server.requests == []  # nothing was sent


@pytest.mark.parametrize("bad", ["audio/wav\r\nX-Evil: 1", "audio/wav\n", "audio/\x00wav", "audio/wav\x7f", " "])
def test_a_mime_type_with_a_line_break_or_nul_is_refused_before_sending(
    mode: str, server: HostileServer, bad: str
) -> None:
    with pytest.raises(MeganovaError, match="MIME type contains a line break"):
        call(mode, server.url, File(io.BytesIO(b"RIFF"), "a.wav", bad))
    assert server.requests == []


def test_good_part_headers_are_sent_as_given(mode: str, server: HostileServer) -> None:
    answer = call(
        mode, server.url, File(io.BytesIO(b"RIFF-audio"), "Neon Harbor \u00e9t\u00e9 welcome.wav", "audio/wav")
    )
    assert answer.text == "Welcome to Neon Harbor."
    body = server.requests[0].body
    assert b'filename="Neon Harbor \xc3\xa9t\xc3\xa9 welcome.wav"' in body and b"Content-Type: audio/wav\r\n" in body


def test_a_file_object_is_sent_from_its_current_position_on_every_attempt(mode: str) -> None:
    with HostileServer(failing_once()) as server:
        file = io.BytesIO(b"HEADER-NOT-SENT|RIFF-the-audio")
        file.seek(len(b"HEADER-NOT-SENT|"))
        assert call(mode, server.url, file, filename="a.wav").text == "Welcome to Neon Harbor."
        bodies = [r.body for r in server.requests]
    assert len(bodies) == 2  # the 503, then the retry: both sent the same part, from the position
    for body in bodies:
        assert b"\r\n\r\nRIFF-the-audio\r\n" in body and b"HEADER-NOT-SENT" not in body


def test_a_file_object_at_its_start_is_sent_whole(mode: str, server: HostileServer, tmp_path: Any) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(b"RIFF-whole-file")
    with open(path, "rb") as file:
        call(mode, server.url, file)
    assert b"\r\n\r\nRIFF-whole-file\r\n" in server.requests[0].body
    assert b'filename="a.wav"' in server.requests[0].body
