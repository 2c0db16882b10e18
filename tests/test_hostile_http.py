"""A hostile world, over real sockets: a loopback server of the test's own (`hostile_http_server`) sends
exactly the bytes chosen here to non-streamed calls (`chat.create`, `models.list`, `usage.summary`,
`billing.get_balance`) of both clients. Whatever it sends, the caller gets a `MeganovaError`; memory stays
bounded (gzip bombs, endless bodies); each attempt keeps to its deadline (drips, endless 1xx); the API key
echoed back appears nowhere. Watchdogs (not timing assertions) keep a regression from hanging the suite.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import textwrap
import threading
import traceback
from typing import Any, Callable, Dict, List, Optional

import httpx
import pytest
from hostile_http_server import HostileServer, answer, gzip_of_zeros, send_slowly

from meganova import AsyncMegaNova, MegaNova, MeganovaError
from meganova.errors import (
    APIResponseValidationError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
    UnprocessableEntityError,
)

from conftest import CHAT_RESPONSE

KEY = "sk-hostile-5f0c2a9e7b41d388"
WATCHDOG = 30.0
MODES = ("sync", "async")
OPS = ("create", "list", "summary", "balance")
MIB = 1 << 20


def _call_sync(client: MegaNova, op: str) -> Any:
    if op == "create":
        return client.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    if op == "list":
        return client.models.list()
    if op == "summary":
        return client.usage.summary(from_="2025-11-01T00:00:00Z", to="2025-11-02T00:00:00Z")
    return client.billing.get_balance()


async def _call_async(client: AsyncMegaNova, op: str) -> Any:
    if op == "create":
        return await client.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    if op == "list":
        return await client.models.list()
    if op == "summary":
        return await client.usage.summary(from_="2025-11-01T00:00:00Z", to="2025-11-02T00:00:00Z")
    return await client.billing.get_balance()


def call(mode: str, op: str, url: str, **options: Any) -> BaseException:
    """Runs `op` on a fresh client (`options` passed to it); returns what it raised. Fails the test when
    it returns normally, or is still running after `WATCHDOG` seconds."""
    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10.0)
    outcome: List[Any] = []
    if mode == "sync":

        def run() -> None:
            try:
                with MegaNova(api_key=KEY, base_url=url, **options) as client:
                    client._sender.sleep = lambda seconds: None
                    outcome.append(_call_sync(client, op))
            except BaseException as exc:  # the test inspects it
                outcome.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(WATCHDOG)
        if thread.is_alive():
            pytest.fail(f"watchdog: the sync {op} call is still running after {WATCHDOG} s")
    else:

        async def no_sleep(seconds: float) -> None:
            return None

        async def run_async() -> Any:
            async with AsyncMegaNova(api_key=KEY, base_url=url, **options) as client:
                client._sender.sleep = no_sleep
                return await _call_async(client, op)

        try:
            outcome.append(asyncio.run(asyncio.wait_for(run_async(), WATCHDOG)))
        except asyncio.TimeoutError:
            pytest.fail(f"watchdog: the async {op} call is still running after {WATCHDOG} s")
        except BaseException as exc:  # the test inspects it
            outcome.append(exc)
    result = outcome[0]
    if not isinstance(result, BaseException):
        pytest.fail(f"{mode} {op} returned {result!r} instead of raising")
    return result


def sends(data: bytes) -> Callable[[socket.socket, HostileServer], None]:
    """A server answering every request with `data`."""
    return lambda conn, server: conn.sendall(data)


def deep(depth: int) -> bytes:
    return b'{"error": ' * 3 + b"[" * depth + b"]" * depth + b"}" * 3


# --- item 3: everything the server sends ends as a MeganovaError ------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS)
def test_json_nested_100000_deep_on_a_200_is_a_validation_error(mode: str, op: str) -> None:
    with HostileServer(sends(answer(200, b"[" * 100_000 + b"]" * 100_000))) as server:
        error = call(mode, op, server.url)
    assert type(error) is APIResponseValidationError, repr(error)
    assert error.status == 200


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("status", "cls"), [(400, BadRequestError), (503, InternalServerError)])
def test_json_nested_100000_deep_on_an_error_answer_is_its_api_error(mode: str, status: int, cls: type) -> None:
    with HostileServer(sends(answer(status, deep(100_000)))) as server:
        error = call(mode, "create", server.url)
    assert type(error) is cls, repr(error)
    assert error.status == status
    assert isinstance(error.message, str) and error.message.startswith(f"HTTP {status}:")


ODD_422 = [  # (body, message, code, type, param): values that are not text shown as JSON
    ({"detail": [{"loc": 5}]}, '5: {"loc": 5}', None, None, None),
    ({"detail": [{"loc": None, "msg": "m"}]}, "m", None, None, None),
    ({"detail": [{"loc": "body.x", "msg": "m"}]}, "body.x: m", None, None, None),
    (
        {"detail": [{"loc": {"a": 1}, "msg": 3}, None, 7, [1, [2]], {"msg": {"x": "y"}}]},
        '{"a": 1}: 3; null; 7; [1, [2]]; {"x": "y"}',
        None,
        None,
        None,
    ),
    ({"detail": [{"loc": ["body", {"k": None}, 2.5], "msg": ["a"]}]}, '{"k": null}.2.5: ["a"]', None, None, None),
    (
        {"error": {"message": {"nested": [1, 2]}, "code": {"c": 1}, "type": [1], "param": 4}},
        '{"nested": [1, 2]}',
        '{"c": 1}',
        "[1]",
        "4",
    ),
    ({"error": {"message": ["x"] * 3, "code": True}}, '["x", "x", "x"]', "true", None, None),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("body", "message", "code", "type_", "param"), ODD_422, ids=lambda v: json.dumps(v)[:40])
def test_error_bodies_of_any_json_shape_give_a_readable_message(
    mode: str, body: Dict[str, Any], message: str, code: Optional[str], type_: Optional[str], param: Optional[str]
) -> None:
    with HostileServer(sends(answer(422, json.dumps(body).encode()))) as server:
        error = call(mode, "list", server.url)
    assert type(error) is UnprocessableEntityError, repr(error)
    assert (error.message, error.code, error.type, error.param) == (message, code, type_, param)
    assert str(error).startswith(message)


ABSURD_WAITS = [
    ("Retry-After", "Fri, 31 Dec 99999999999 23:59:59 GMT"),
    ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
    ("Retry-After", "nan"),
    ("Retry-After", "1e400"),
    ("Retry-After-Ms", "nan"),
    ("Retry-After-Ms", "inf"),
    ("Retry-After-Ms", "1e308"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "value"), ABSURD_WAITS)
def test_an_unreadable_retry_after_counts_as_absent(mode: str, name: str, value: str) -> None:
    with HostileServer(sends(answer(429, b'{"error": "slow down"}', [f"{name}: {value}"]))) as server:
        error = call(mode, "balance", server.url, max_retries=1)
        assert len(server.requests) == 2  # retried after the usual backoff, as if no Retry-After was sent
    assert type(error) is RateLimitError, repr(error)
    assert error.retry_after is None


# --- item 4: memory is bounded --------------------------------------------------------------------------


def _gzip_answer(status: int, bomb: bytes, content_type: str = "application/json") -> bytes:
    head = answer(status, b"", ["Content-Encoding: gzip"], content_type).replace(
        b"Content-Length: 0", f"Content-Length: {len(bomb)}".encode()
    )
    return head + bomb


@pytest.fixture(scope="module")
def bomb_200mib() -> bytes:
    return gzip_of_zeros(200)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS)
def test_a_gzip_bomb_is_refused_at_max_response_bytes(mode: str, op: str, bomb_200mib: bytes) -> None:
    data = _gzip_answer(200, bomb_200mib)
    with HostileServer(lambda conn, server: send_slowly(conn, data, server)) as server:
        error = call(mode, op, server.url, max_response_bytes=4 * MIB, max_retries=2)
        assert len(server.requests) == 1  # not retried
    assert type(error) is APIResponseValidationError, repr(error)
    assert "max_response_bytes" in error.message and str(4 * MIB) in error.message


@pytest.mark.parametrize("mode", MODES)
def test_a_gzip_bomb_error_answer_is_its_api_error_with_the_start_of_the_body(mode: str, bomb_200mib: bytes) -> None:
    data = _gzip_answer(503, bomb_200mib, "text/plain")
    with HostileServer(lambda conn, server: send_slowly(conn, data, server)) as server:
        error = call(mode, "create", server.url, max_response_bytes=2 * MIB, max_retries=2)
        assert len(server.requests) == 1  # a 503 is retried, but not one past the cap
    assert type(error) is InternalServerError, repr(error)
    assert "max_response_bytes" in error.message
    assert isinstance(error.body, str) and 0 < len(error.body) <= 64 * 1024


def _endless_chunks(conn: socket.socket, server: HostileServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"[" * 65536)
    while not server.stopped.is_set():
        conn.sendall(chunk)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("limit", [MIB, None])
def test_an_endless_body_ends_at_max_response_bytes(mode: str, limit: Optional[int]) -> None:
    options = {} if limit is None else {"max_response_bytes": limit}
    with HostileServer(_endless_chunks) as server:
        error = call(mode, "summary", server.url, **options)
    assert type(error) is APIResponseValidationError, repr(error)
    assert str(limit or 64 * MIB) in error.message


def _event_stream_forever(conn: socket.socket, server: HostileServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\r\n")
    while not server.stopped.is_set():
        conn.sendall(b"data: " + b"x" * 65536 + b"\n\n")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["create", "list"])
def test_an_event_stream_to_a_non_stream_call_is_refused_unread(mode: str, op: str) -> None:
    with HostileServer(_event_stream_forever) as server:
        error = call(mode, op, server.url)
    assert type(error) is APIResponseValidationError, repr(error)
    assert "text/event-stream" in error.message and "it was not read" in error.message


CHILD = """
import resource, sys
from meganova import AsyncMegaNova, MegaNova
from meganova.errors import APIResponseValidationError
url, mode = sys.argv[1], sys.argv[2]
try:
    if mode == "sync":
        with MegaNova(api_key="sk-rss", base_url=url, max_retries=0, timeout=60) as client:
            client.models.list()
    else:
        import asyncio
        async def main():
            async with AsyncMegaNova(api_key="sk-rss", base_url=url, max_retries=0, timeout=60) as client:
                await client.models.list()
        asyncio.run(main())
except APIResponseValidationError as exc:
    assert "max_response_bytes" in exc.message, exc.message
    # VmHWM: this process's peak RSS (KiB) since exec; ru_maxrss would also count the parent's RSS at fork.
    try:
        with open("/proc/self/status") as status:
            peak = int([line.split()[1] for line in status if line.startswith("VmHWM:")][0])
    except OSError:  # no /proc (macOS: ru_maxrss is in bytes there)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print("refused", peak)
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_1_gib_gzip_bomb_stays_within_the_default_cap_in_memory(mode: str) -> None:
    data = _gzip_answer(200, gzip_of_zeros(1024))  # about 1 MB, inflating to 1 GiB
    with HostileServer(lambda conn, server: send_slowly(conn, data, server)) as server:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(CHILD), server.url, mode],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    word, peak_kib = done.stdout.split()
    assert word == "refused"
    assert int(peak_kib) * 1024 < 64 * MIB + 120 * MIB, f"peak RSS {int(peak_kib) // 1024} MiB"


# --- item 5: each attempt keeps to its deadline ---------------------------------------------------------


def _drip_body(conn: socket.socket, server: HostileServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    server.drip(conn, b" " * 100000, 0.5)


def _drip_headers(conn: socket.socket, server: HostileServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    server.drip(conn, b"X-Slow: " + b"a" * 100000, 0.5)


def _endless_1xx(conn: socket.socket, server: HostileServer) -> None:
    while not server.stopped.wait(0.5):
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("respond", "op"), [(_drip_body, "list"), (_drip_headers, "create"), (_endless_1xx, "balance")]
)
def test_a_dripping_server_cannot_stretch_an_attempt_past_its_timeout(
    mode: str, respond: Callable[[socket.socket, HostileServer], None], op: str
) -> None:
    with HostileServer(respond) as server:
        error = call(mode, op, server.url, timeout=2, max_retries=0)
    assert type(error) is APITimeoutError, repr(error)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("timeout", [0, 0.0, httpx.Timeout(0)])
def test_timeout_0_is_a_timeout(mode: str, timeout: Any) -> None:
    body = json.dumps(CHAT_RESPONSE).encode()
    with HostileServer(sends(answer(200, body))) as server:
        error = call(mode, "create", server.url, timeout=timeout)
    assert type(error) is APITimeoutError, repr(error)


# --- item 6: the API key echoed back is scrubbed everywhere -----------------------------------------------


def _echo_key(status: int) -> bytes:
    body = {
        "error": {"message": f"bad key {KEY}", "code": KEY, "type": f"t-{KEY}", "param": KEY},
        "echo": [KEY, {KEY: [f"x{KEY}x"]}],
    }
    return answer(status, json.dumps(body).encode(), [f"X-Request-Id: {KEY}"])


def _everything_about(error: BaseException) -> str:
    """str, repr, args, every attribute, the causes and contexts, and the traceback as printed."""
    fields = [str(error), repr(error), repr(error.args), repr(vars(error))]
    fields += traceback.format_exception(type(error), error, error.__traceback__)
    linked: Optional[BaseException] = error
    while linked is not None:
        fields.append(repr(linked))
        linked = linked.__cause__ or linked.__context__
    return "\n".join(fields)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [200, 401, 404, 500])
def test_a_key_echoed_by_the_server_appears_nowhere(mode: str, status: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="meganova")
    with HostileServer(sends(_echo_key(status))) as server:
        error = call(mode, "list", server.url, max_retries=1)
    assert isinstance(error, MeganovaError), repr(error)
    if status >= 500:
        assert "Retrying" in caplog.text  # the retry line was written, without the key
    assert error.request_id == "sk-***"
    assert KEY not in _everything_about(error)
    assert KEY not in caplog.text
    assert all(KEY not in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("mode", MODES)
def test_a_key_in_a_malformed_status_line_appears_nowhere(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="meganova")
    with HostileServer(sends(f"HTTP/1.1 {KEY}\r\n\r\n".encode())) as server:
        error = call(mode, "create", server.url, max_retries=1)
    assert isinstance(error, MeganovaError), repr(error)
    assert KEY not in _everything_about(error)
    assert KEY not in caplog.text


# --- item 7: bad input from the caller is refused before anything is sent ----------------------------------


BAD_CLIENT_OPTIONS = [
    ({"timeout": -1}, "timeout"),
    ({"timeout": float("inf")}, "timeout"),
    ({"timeout": float("nan")}, "timeout"),
    ({"timeout": "10"}, "timeout"),
    ({"timeout": httpx.Timeout(5, read=-1)}, "timeout.read"),
    ({"base_url": "http://[::1"}, "base_url"),
    ({"max_response_bytes": 0}, "max_response_bytes"),
    ({"max_response_bytes": -5}, "max_response_bytes"),
    ({"max_response_bytes": 1.5}, "max_response_bytes"),
    ({"max_response_bytes": True}, "max_response_bytes"),
    ({"max_response_bytes": "64"}, "max_response_bytes"),
    ({"default_headers": {"X-Name": "caf\u00e9"}}, "default_headers"),
    ({"default_headers": {"X-Name": None}}, "default_headers"),
    ({"default_headers": {"X-Name": "a\r\nInjected: 1"}}, "default_headers"),
    ({"default_headers": {"Bad Name": "v"}}, "default_headers"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("options", "named"), BAD_CLIENT_OPTIONS, ids=lambda v: repr(v)[:40])
def test_bad_client_options_are_a_clear_error_before_anything_is_sent(
    mode: str, options: Dict[str, Any], named: str
) -> None:
    with HostileServer(sends(answer(200, b"{}"))) as server:
        options = {"base_url": server.url, **options}
        cls = MegaNova if mode == "sync" else AsyncMegaNova
        with pytest.raises(MeganovaError) as info:
            cls(api_key=KEY, **options)
        assert server.requests == []
    assert named in str(info.value)
    assert type(info.value) is MeganovaError


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("timeout", [-1, float("inf"), float("nan"), "3", [1]])
def test_a_bad_per_call_timeout_is_a_clear_error_before_anything_is_sent(mode: str, timeout: Any) -> None:
    with HostileServer(sends(answer(200, b"{}"))) as server:
        if mode == "sync":
            with MegaNova(api_key=KEY, base_url=server.url) as client, pytest.raises(MeganovaError) as info:
                client.models.list(timeout=timeout)
        else:

            async def main() -> None:
                async with AsyncMegaNova(api_key=KEY, base_url=server.url) as client:
                    await client.models.list(timeout=timeout)

            with pytest.raises(MeganovaError) as info:
                asyncio.run(main())
        assert server.requests == []
    assert "timeout" in str(info.value)
