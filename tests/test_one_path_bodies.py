"""One path per concern, for bodies (issue 13, points 1, 2, 3, 4, 7, 10): every answer (JSON, event
stream, binary `tts()`, download `tts_to_file()`) goes through the one body reader, the one connection
rule, the one success rule and the one place that maps transport failures. Over real loopback sockets,
byte by byte (hostile servers), sync and async, on our own pool."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import gzip
import io
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Callable, List

import httpx
import pytest
from hostile_http_server import HostileServer, _read_request, answer, gzip_of_zeros

from meganova import AsyncMegaNova, MegaNova
from meganova.custom.runtime import streaming as _streaming
from meganova.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    InternalServerError,
    MeganovaError,
    RateLimitError,
)

MODES = ["sync", "async"]
KEY = "sk-bodies-0123456789"
MIB = 1 << 20
ROOT = Path(__file__).resolve().parent.parent


def run(mode: str, url: str, call: Callable[[Any], Any], **options: Any) -> Any:
    """`call(client)` on a fresh client of `mode` over our own pool; its result (awaited when async)."""
    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10)
    if mode == "sync":
        with MegaNova(api_key=KEY, base_url=url, **options) as client:
            return call(client)

    async def main() -> Any:
        async with AsyncMegaNova(api_key=KEY, base_url=url, **options) as client:
            return await call(client)

    return asyncio.run(main())


def raised(mode: str, url: str, call: Callable[[Any], Any], **options: Any) -> BaseException:
    with pytest.raises(Exception) as info:
        run(mode, url, call, **options)
    return info.value


def tts(client: Any) -> Any:
    return client.audio.tts("Hello.", model="m", voice="v")


def to_file(target: Any) -> Callable[[Any], Any]:
    return lambda client: client.audio.tts_to_file(target, "Hello.", model="m", voice="v")


def stream_text(mode: str) -> Callable[[Any], Any]:
    messages = [{"role": "user", "content": "Hi"}]
    if mode == "sync":
        return lambda client: client.chat.stream(model="m", messages=messages).text()

    async def read(client: Any) -> Any:
        stream = await client.chat.stream(model="m", messages=messages)
        return await stream.text()

    return read


def audio_answer(body: bytes, status: int = 200) -> Callable[[socket.socket, HostileServer], None]:
    return lambda conn, server: conn.sendall(answer(status, body, content_type="audio/wav"))


# --- point 1: one body reader, bounded, under the attempt's deadline -----------------------------------


def double_gzip_bomb() -> bytes:
    """`Content-Encoding: gzip, gzip`: about 2 KB inflating to 1 MB, which inflates to 1 GiB of zeros."""
    return gzip.compress(gzip_of_zeros(1024), 9)


CHILD = """
import asyncio, resource, sys
from meganova import AsyncMegaNova, MegaNova
from meganova.errors import MeganovaError
url, mode, op, target = sys.argv[1:5]
messages = [{"role": "user", "content": "Hi"}]
def call(client):
    if op == "stream":
        return client.chat.stream(model="m", messages=messages).text()
    if op == "tts":
        return client.audio.tts("Hi", model="m", voice="v")
    return client.audio.tts_to_file(target, "Hi", model="m", voice="v")
async def acall(client):
    if op == "stream":
        return await (await client.chat.stream(model="m", messages=messages)).text()
    if op == "tts":
        return await client.audio.tts("Hi", model="m", voice="v")
    return await client.audio.tts_to_file(target, "Hi", model="m", voice="v")
try:
    if mode == "sync":
        with MegaNova(api_key="sk-rss", base_url=url, max_retries=0, timeout=60) as client:
            call(client)
    else:
        async def main():
            async with AsyncMegaNova(api_key="sk-rss", base_url=url, max_retries=0, timeout=60) as client:
                await acall(client)
        asyncio.run(main())
    print("accepted 0")
except MeganovaError as exc:
    with open("/proc/self/status") as status:
        peak = int([line.split()[1] for line in status if line.startswith("VmHWM:")][0])
    print(type(exc).__name__, peak)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="VmHWM needs /proc")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["stream", "tts", "download"])
def test_a_2_kb_double_gzip_bomb_does_not_grow_memory(mode: str, op: str, tmp_path: Path) -> None:
    bomb = double_gzip_bomb()
    assert len(bomb) < 4096
    content_type = "text/event-stream" if op == "stream" else "audio/wav"

    def respond(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(answer(200, bomb, headers=["Content-Encoding: gzip, gzip"], content_type=content_type))

    target = tmp_path / "bomb.wav"
    with HostileServer(respond) as server:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(CHILD), server.url, mode, op, str(target)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    name, peak_kib = done.stdout.split()
    assert name == "APIResponseValidationError", done.stdout
    assert int(peak_kib) * 1024 < 64 * MIB + 120 * MIB, f"peak RSS {int(peak_kib) // 1024} MiB"
    assert list(tmp_path.iterdir()) == []  # no partial file, no temporary file


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["tts", "download"])
def test_a_body_dripped_at_4_bytes_a_second_ends_at_the_attempts_deadline(mode: str, op: str, tmp_path: Path) -> None:
    def respond(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 1000\r\n\r\n")
        server.drip(conn, b"R" * 1000, 0.25)

    target = tmp_path / "slow.wav"
    target.write_bytes(b"the good old file")
    call = tts if op == "tts" else to_file(target)
    with HostileServer(respond) as server:
        started = time.monotonic()
        error = raised(mode, server.url, call, timeout=2)
        elapsed = time.monotonic() - started
    assert type(error) is APITimeoutError, repr(error)
    assert elapsed < 2 + 10, elapsed  # not the 250 s the drip would take
    assert target.read_bytes() == b"the good old file"
    assert [p.name for p in tmp_path.iterdir()] == ["slow.wav"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["tts", "download", "stream"])
def test_stacked_encodings_are_decoded_for_every_answer(mode: str, op: str, tmp_path: Path) -> None:
    if op == "stream":
        events = b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
        events += b'data: {"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\n'
        plain, content_type = events + b"data: [DONE]\n\n", "text/event-stream"
    else:
        plain, content_type = os.urandom(300_000), "audio/wav"
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)  # a raw deflate layer inside gzip
    body = gzip.compress(deflate.compress(plain) + deflate.flush())

    def respond(conn: socket.socket, server: HostileServer) -> None:
        head = answer(200, body, headers=["Content-Encoding: deflate, gzip"], content_type=content_type)
        for index in range(0, len(head), 7):  # a few bytes at a time
            conn.sendall(head[index : index + 7])

    target = tmp_path / "out.wav"
    with HostileServer(respond) as server:
        if op == "stream":
            assert run(mode, server.url, stream_text(mode)) == "Hello"
        elif op == "tts":
            assert run(mode, server.url, tts) == plain
        else:
            assert run(mode, server.url, to_file(target)) == len(plain)
            assert target.read_bytes() == plain


@pytest.mark.parametrize("mode", MODES)
def test_a_download_counts_against_max_response_bytes(mode: str, tmp_path: Path) -> None:
    target = tmp_path / "big.wav"
    target.write_bytes(b"old")
    with HostileServer(audio_answer(b"A" * 100_000)) as server:
        error = raised(mode, server.url, to_file(target), max_response_bytes=10_000)
    assert type(error) is APIResponseValidationError and "max_response_bytes" in error.message
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["big.wav"]


# --- point 2: bytes after an answer close its connection ------------------------------------------------


class KeepAliveServer:
    """Keeps connections open; answers request number n with `answer-n`, followed by `extra(n)`."""

    def __init__(self, extra: Callable[[bytes], bytes]) -> None:
        self.extra = extra
        self.count = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self._stop = False

    def __enter__(self) -> KeepAliveServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            conn.settimeout(10)
            while _read_request(conn) is not None:
                with self._lock:
                    self.count += 1
                    body = f"answer-{self.count}".encode()
                head = f"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {len(body)}\r\n\r\n"
                whole = head.encode() + body
                conn.sendall(whole + self.extra(whole))


def twice(whole: bytes) -> bytes:
    return whole  # a proxy that writes the answer twice


def forged(whole: bytes) -> bytes:
    # more bytes than the Content-Length said: another whole answer
    return b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 6\r\n\r\nforged"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("extra", [twice, forged], ids=["answer-written-twice", "bytes-after-content-length"])
@pytest.mark.parametrize("op", ["tts", "download"])
def test_no_call_reads_another_calls_answer(mode: str, extra: Any, op: str, tmp_path: Path) -> None:
    with KeepAliveServer(extra) as server:

        def three_calls(client: Any) -> Any:
            if op == "tts":
                return [client.audio.tts("Hi", model="m", voice="v") for _ in range(3)]
            targets = [tmp_path / f"{n}.wav" for n in range(3)]
            for target in targets:
                client.audio.tts_to_file(target, "Hi", model="m", voice="v")
            return [t.read_bytes() for t in targets]

        async def athree_calls(client: Any) -> Any:
            out = []
            for n in range(3):
                if op == "tts":
                    out.append(await client.audio.tts("Hi", model="m", voice="v"))
                else:
                    await client.audio.tts_to_file(tmp_path / f"{n}.wav", "Hi", model="m", voice="v")
                    out.append((tmp_path / f"{n}.wav").read_bytes())
            return out

        answers = run(mode, server.url, three_calls if mode == "sync" else athree_calls)
    assert answers == [b"answer-1", b"answer-2", b"answer-3"]
    assert server.connections == 3  # each tainted connection was closed, never reused


@pytest.mark.parametrize("mode", MODES)
def test_a_clean_answer_keeps_its_connection(mode: str) -> None:
    with KeepAliveServer(lambda whole: b"") as server:

        def calls(client: Any) -> Any:
            return [client.audio.tts("Hi", model="m", voice="v") for _ in range(3)]

        async def acalls(client: Any) -> Any:
            return [await client.audio.tts("Hi", model="m", voice="v") for _ in range(3)]

        assert run(mode, server.url, calls if mode == "sync" else acalls) == [b"answer-1", b"answer-2", b"answer-3"]
    assert server.connections == 1


# --- point 3: only a 2xx is a success -------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("op", ["tts", "download", "list"])
def test_a_redirect_is_an_error_naming_its_location(mode: str, status: int, op: str, tmp_path: Path) -> None:
    location = "https://elsewhere.example/v1/audio/speech"

    def respond(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(answer(status, b"<html>Moved</html>", headers=[f"Location: {location}"], content_type="text/html"))

    target = tmp_path / "moved.wav"
    calls = {"tts": tts, "download": to_file(target), "list": lambda client: client.models.list()}
    with HostileServer(respond) as server:
        error = raised(mode, server.url, calls[op], max_retries=2)
        assert len(server.requests) == 1  # not retried
    assert isinstance(error, APIError) and error.status == status, repr(error)
    assert location in str(error)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["tts", "download"])
@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json", {"error": {"message": "quota exceeded", "type": "rate_limit_error"}}, RateLimitError),
        ("application/json; charset=utf-8", {"id": "not audio"}, APIResponseValidationError),
        ("text/html", "<html><title>Login</title></html>", APIResponseValidationError),
    ],
)
def test_a_binary_answer_that_is_json_or_html_is_never_returned_or_saved(
    mode: str, op: str, content_type: str, body: Any, expected: type, tmp_path: Path
) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    target = tmp_path / "speech.wav"
    target.write_bytes(b"old audio")
    with HostileServer(lambda conn, server: conn.sendall(answer(200, raw, content_type=content_type))) as server:
        error = raised(mode, server.url, tts if op == "tts" else to_file(target))
    assert type(error) is expected, repr(error)
    if expected is RateLimitError:
        assert "quota exceeded" in error.message
    assert target.read_bytes() == b"old audio" and [p.name for p in tmp_path.iterdir()] == ["speech.wav"]


# --- point 4: downloads are atomic, checked before sending ----------------------------------------------


def cut_after(sent: int) -> Callable[[socket.socket, HostileServer], None]:
    def respond(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 5000\r\n\r\n" + b"N" * sent)

    return respond


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("respond", "expected"),
    [
        (cut_after(0), APIConnectionError),  # closed right after the headers
        (cut_after(1234), APIConnectionError),  # a short body
        (lambda conn, server: conn.close(), APIConnectionError),  # closed before the headers
        (lambda conn, server: conn.sendall(answer(500, b'{"error":{"message":"boom"}}')), InternalServerError),
    ],
    ids=["after-headers", "short-body", "before-headers", "error-answer"],
)
def test_a_failed_download_leaves_the_old_file_and_nothing_else(
    mode: str, respond: Any, expected: type, tmp_path: Path
) -> None:
    target = tmp_path / "speech.wav"
    target.write_bytes(b"the good old file")
    with HostileServer(respond) as server:
        error = raised(mode, server.url, to_file(target))
    assert isinstance(error, expected), repr(error)
    assert target.read_bytes() == b"the good old file"
    assert [p.name for p in tmp_path.iterdir()] == ["speech.wav"]


@pytest.mark.parametrize("mode", MODES)
def test_a_download_retried_after_a_cut_holds_only_the_whole_answer(mode: str, tmp_path: Path) -> None:
    whole = os.urandom(5000)

    def respond(conn: socket.socket, server: HostileServer) -> None:
        if len(server.requests) == 1:
            cut_after(1234)(conn, server)
        else:
            conn.sendall(answer(200, whole, content_type="audio/wav"))

    target = tmp_path / "speech.wav"
    with HostileServer(respond) as server:
        assert run(mode, server.url, to_file(target), max_retries=1) == 5000
        keys = {
            r.split(b"\r\n\r\n")[0].lower().split(b"idempotency-key: ")[1].split(b"\r\n")[0] for r in server.requests
        }
    assert target.read_bytes() == whole and len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["speech.wav"]


@pytest.mark.parametrize("mode", MODES)
def test_a_download_into_a_binary_file_object_is_written_only_when_whole(mode: str, tmp_path: Path) -> None:
    with HostileServer(cut_after(1234)) as server:
        buffer = io.BytesIO(b"kept")
        buffer.seek(0, 2)
        assert isinstance(raised(mode, server.url, to_file(buffer)), APIConnectionError)
    assert buffer.getvalue() == b"kept"
    with HostileServer(audio_answer(b"RIFF-audio")) as server:
        assert run(mode, server.url, to_file(buffer)) == 10
    assert buffer.getvalue() == b"keptRIFF-audio" and not buffer.closed


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["text-mode file", "missing directory", "a directory", "closed file"])
def test_a_target_that_cannot_be_written_is_refused_before_sending(mode: str, kind: str, tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        if kind == "text-mode file":
            target: Any = stack.enter_context(open(tmp_path / "speech.txt", "w"))
        elif kind == "missing directory":
            target = tmp_path / "no-such-dir" / "speech.wav"
        elif kind == "a directory":
            target = tmp_path
        else:
            with open(tmp_path / "speech.bin", "wb") as target:
                pass
        with HostileServer(audio_answer(b"RIFF")) as server:
            error = raised(mode, server.url, to_file(target))
            assert server.requests == []  # the billable request was never sent
    assert type(error) is MeganovaError, repr(error)
    assert "nothing was sent" in error.message
    assert not (tmp_path / "no-such-dir").exists()
    assert {p.name for p in tmp_path.iterdir()} <= {"speech.txt", "speech.bin"}


# --- point 7: every transport failure becomes a MeganovaError, once -------------------------------------


class Growing(io.BytesIO):
    """A file that grows while it is sent: its length was taken before, more bytes come at the end."""

    grown = False

    def read(self, size: Any = -1) -> bytes:
        data = super().read(size)
        if not data and not self.grown:
            self.grown = True
            return b"more bytes than declared"
        return data


class Shrinking(io.BytesIO):
    """A file that shrinks while it is sent: it ends after 100 of its bytes."""

    def read(self, size: Any = -1) -> bytes:
        left = max(0, 100 - self.tell())
        return super().read(left if size is None or size < 0 else min(size, left))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", [Growing, Shrinking])
def test_a_file_that_changes_size_while_sent_is_a_meganova_error_not_retried(mode: str, kind: type) -> None:
    body = json.dumps({"text": "hello"}).encode()
    with HostileServer(lambda conn, server: conn.sendall(answer(200, body))) as server:
        error = raised(
            mode,
            server.url,
            lambda client: client.audio.transcribe(kind(b"RIFF" + b"\0" * 4000), filename="a.wav"),
            max_retries=2,
        )
    assert type(error) is MeganovaError, repr(error)
    assert "changed size" in error.message and "Content-Length" in error.message
    assert error.__cause__ is None and error.__suppress_context__
    assert len(server.requests) <= 1  # never sent again as if whole


def test_protocol_errors_are_recognised_by_their_library() -> None:
    import h11
    import httpcore

    from meganova.custom.runtime.send import is_protocol_error, protocol_failure

    assert is_protocol_error(h11.LocalProtocolError("x")) and is_protocol_error(httpcore.LocalProtocolError("x"))
    assert not is_protocol_error(ValueError("x")) and not is_protocol_error(KeyboardInterrupt())
    from meganova.custom.runtime.secrets import SECRETS_EXTENSION, Secret, Secrets

    request = httpx.Request(
        "POST",
        f"https://api.example/v1/agents/{KEY}/chat",
        extensions={SECRETS_EXTENSION: Secrets([Secret(KEY)])},
    )
    error = protocol_failure(h11.RemoteProtocolError(f"bad {KEY}"), request)
    assert isinstance(error, APIConnectionError) and KEY not in str(error)


# --- point 10: AsyncMegaNova.close() does what MegaNova.close() does ------------------------------------


class _Deferred:
    closed = False

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("mode", MODES)
def test_close_releases_the_streams_abandoned_during_gc(mode: str) -> None:
    deferred = _Deferred()
    _streaming._DEFERRED.append(deferred)  # type: ignore[arg-type]
    try:
        if mode == "sync":
            MegaNova(api_key=KEY, base_url="http://127.0.0.1:9/v1").close()
        else:

            async def main() -> None:
                await AsyncMegaNova(api_key=KEY, base_url="http://127.0.0.1:9/v1").close()

            asyncio.run(main())
        assert deferred.closed
    finally:
        with contextlib.suppress(ValueError):
            _streaming._DEFERRED.remove(deferred)  # type: ignore[arg-type]


# --- inheritance: the generated operations and the resources have no body logic of their own ------------

FORBIDDEN_CALLS = {
    "iter_bytes", "aiter_bytes", "iter_raw", "aiter_raw", "iter_lines", "aiter_lines", "iter_text",
    "aiter_text", "read", "aread", "monotonic", "perf_counter", "sleep", "decompress", "decompressobj",
    "scrub", "redact_headers", "wait_for", "timeout",
}  # fmt: skip
FORBIDDEN_IMPORTS = {"zlib", "gzip", "time", "asyncio", "httpcore", "h11"}
CLIENT_ENTRY_POINTS = {"_send", "_download", "_stream", "_with_raw_response", "_with_streaming_response"}
"""What the generated code may use of the client: the three calls, and the variants of the client whose
calls go through the same three."""


def _python_files(*folders: str) -> List[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _violations(path: Path, deadline_too: bool) -> List[str]:
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            deadline_only = name in ("monotonic", "perf_counter", "sleep", "wait_for", "timeout")
            if name in FORBIDDEN_CALLS and (deadline_too or not deadline_only):
                found.append(f"{where} calls .{name}()")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                if root in FORBIDDEN_IMPORTS and (deadline_too or root not in ("time", "asyncio")):
                    found.append(f"{where} imports {name}")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "_client"
            and node.attr.startswith("_")
            and node.attr not in CLIENT_ENTRY_POINTS
        ):
            found.append(f"{where} uses the client's {node.attr}")
        if isinstance(node, ast.Name) and node.id in ("scrub", "connection_error", "BodyReader", "Sink"):
            found.append(f"{where} names {node.id}")
    return found


def test_the_generated_operations_inherit_bodies_deadlines_and_scrubbing() -> None:
    files = _python_files("meganova/api")
    assert len(files) > 20 and any(p.name == "create_speech.py" for p in files)
    problems = [v for path in files for v in _violations(path, deadline_too=True)]
    assert problems == []
    calls = "".join(p.read_text() for p in files)
    assert "self._client._download(" in calls and "self._client._send(" in calls and "self._client._stream(" in calls


def test_the_resources_and_studio_agents_read_no_body_themselves() -> None:
    # (the video wait's deadline is issue 13 point 6, another change: only bodies and scrubbing here)
    files = [*_python_files("custom/resources"), ROOT / "custom/cloud/__init__.py"]
    problems = [v for path in files for v in _violations(path, deadline_too=False)]
    assert problems == []


def test_the_checker_finds_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import zlib\nimport time\n"
        "def f(self, r):\n    time.monotonic()\n    return [p for p in r.iter_bytes()] + [self._client._sender]\n"
    )
    problems = _violations(bad, deadline_too=True)
    assert len(problems) == 5, problems
    assert len(_violations(bad, deadline_too=False)) == 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_max_response_bytes_counts_per_event_in_a_stream(mode: str, encoding: str) -> None:
    small = b'data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}\n\n'
    big = b'data: {"choices":[{"index":0,"delta":{"content":"' + b"x" * 50_000 + b'"}}]}\n\n'
    finish = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'

    def respond_with(events: bytes) -> Callable[[socket.socket, HostileServer], None]:
        body = events if encoding == "identity" else gzip.compress(events)
        headers = [] if encoding == "identity" else ["Content-Encoding: gzip"]
        return lambda conn, server: conn.sendall(answer(200, body, headers=headers, content_type="text/event-stream"))

    with HostileServer(respond_with(small * 100 + finish)) as server:  # 6 KB in all, each event small: fine
        assert run(mode, server.url, stream_text(mode), max_response_bytes=2_000) == "ok" * 100
    with HostileServer(respond_with(small + big + finish)) as server:
        error = raised(mode, server.url, stream_text(mode), max_response_bytes=20_000)
    assert type(error) is APIResponseValidationError, repr(error)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", MODES)
def test_a_download_has_the_permissions_open_would_give(mode: str, tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    with HostileServer(audio_answer(b"RIFF-new")) as server:
        run(mode, server.url, to_file(tmp_path / "new.wav"))
        existing = tmp_path / "kept.wav"
        existing.write_bytes(b"old")
        existing.chmod(0o640)
        run(mode, server.url, to_file(existing))
    assert (tmp_path / "new.wav").stat().st_mode & 0o777 == 0o666 & ~umask
    assert existing.stat().st_mode & 0o777 == 0o640 and existing.read_bytes() == b"RIFF-new"


@pytest.mark.parametrize("mode", MODES)
def test_with_streaming_response_reads_through_the_one_body_reader(mode: str) -> None:
    """`with_streaming_response` too: stacked encodings decoded in bounded steps, text and lines from them."""
    lines_body = "première\r\nseconde\rtroisième\n\nfin".encode()
    bomb = double_gzip_bomb()

    def respond(conn: socket.socket, server: HostileServer) -> None:
        if len(server.requests) == 1:
            body = gzip.compress(zlib.compress(lines_body))
            conn.sendall(answer(200, body, headers=["Content-Encoding: deflate, gzip"], content_type="audio/wav"))
        else:
            conn.sendall(answer(200, bomb, headers=["Content-Encoding: gzip, gzip"], content_type="audio/wav"))

    def sync_calls(client: Any) -> Any:
        with client.audio.with_streaming_response.tts("Hi", model="m", voice="v") as response:
            lines = list(response.iter_lines())
        with client.audio.with_streaming_response.tts("Hi", model="m", voice="v") as response:
            sizes = [len(piece) for piece, _ in zip(response.iter_bytes(), range(5))]
        return lines, sizes

    async def async_calls(client: Any) -> Any:
        async with client.audio.with_streaming_response.tts("Hi", model="m", voice="v") as response:
            lines = [line async for line in response.iter_lines()]
        async with client.audio.with_streaming_response.tts("Hi", model="m", voice="v") as response:
            sizes = []
            async for piece in response.iter_bytes():
                sizes.append(len(piece))
                if len(sizes) == 5:
                    break
        return lines, sizes

    with HostileServer(respond) as server:
        lines, sizes = run(mode, server.url, sync_calls if mode == "sync" else async_calls)
    assert lines == ["première", "seconde", "troisième", "", "fin"]
    assert len(sizes) == 5 and max(sizes) <= MIB  # never a whole layer inflated at once
