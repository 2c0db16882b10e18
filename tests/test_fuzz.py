"""Property tests: whatever the server does, the only exceptions an SDK call lets escape are
`MeganovaError` subclasses (no KeyError, JSONDecodeError, TypeError, UnicodeDecodeError, ...).

Server behaviour (status, headers, body bytes, SSE streams split into random pieces, garbage) is drawn
at random and served through `httpx.MockTransport` (fast, 2,000 examples per client flavour in
`make test`; MEGANOVA_FUZZ_EXAMPLES raises it, as `make fuzz` does), and in a smaller run over real
sockets by `MockServer`. `derandomize=True` makes every run draw the same examples: CI is reproducible.

The hostile shapes are drawn too, not only hand-picked: JSON nested up to 100,000 deep (on 2xx and error
answers), error bodies whose `detail` items, `loc`, `message`, `code`... are of any JSON type, absurd
`Retry-After`/`retry-after-ms` values (huge, negative, NaN, infinite, dates in the year 10^12). The pure
parsers behind them (error bodies, Retry-After, the key scrubber) have properties of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import math
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meganova import AsyncMegaNova, MegaNova, MeganovaError
from meganova.cloud import AsyncCloudAgent, CloudAgent
from meganova.custom.runtime.errors import MASK, error_for_status, scrub
from meganova.custom.runtime.retry import parse_retry_after, wait_before_retry
from meganova.testing import MockServer

from conftest import CHAT_RESPONSE, MODEL_INFO, Pieces

EXAMPLES = int(os.environ.get("MEGANOVA_FUZZ_EXAMPLES", "2000"))
SUMMARY: List[str] = []
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)

PURE_EXAMPLES = max(100, EXAMPLES // 10)
"""Examples for the pure parsers' properties (fast: no client, no transport)."""

ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@st.composite
def deep_json(draw: Any) -> bytes:
    """JSON nested from a few levels to 100,000 deep (the parsers' recursion limit is about 1,000), as
    a bare document or inside an error shape."""
    depth = draw(st.sampled_from([5, 900, 990, 1000, 1010, 5000, 100_000]) | st.integers(1, 3000))
    opener, closer = draw(
        st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'{"error":', b"}"), (b'{"detail":[', b"]}")])
    )
    inner = draw(st.sampled_from([b"1", b'"x"', b"null", b"[]", b"{}"]))
    wrap = draw(st.sampled_from([b"%s", b'{"error": %s}', b'{"detail": [%s]}', b'{"error": {"message": %s}}']))
    return wrap % (opener * depth + inner + closer * depth)


odd_items = json_values | st.fixed_dictionaries(
    {}, optional={"loc": json_values, "msg": json_values, "type": json_values, "ctx": json_values}
)
error_shapes = st.one_of(
    st.builds(lambda items: {"detail": items}, st.lists(odd_items, max_size=5)),
    st.builds(lambda detail: {"detail": detail}, json_values),
    st.builds(
        lambda error: {"error": error},
        st.fixed_dictionaries(
            {},
            optional={
                "message": json_values,
                "code": json_values,
                "type": json_values,
                "param": json_values,
                "detail": json_values,
            },
        ),
    ),
    st.builds(lambda error: {"error": error}, json_values),
    st.builds(lambda message, code: {"message": message, "code": code, "type": code}, json_values, json_values),
    json_values,
)
error_bodies = st.one_of(
    error_shapes.map(lambda shape: json.dumps(shape).encode()), deep_json(), st.binary(max_size=60)
)

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Foo"]
http_dates = st.builds(
    lambda weekday, day, month, year, clock, zone: f"{weekday}, {day:02d} {month} {year} {clock} {zone}",
    st.sampled_from(["Mon", "Fri", "Xyz"]),
    st.integers(0, 99),
    st.sampled_from(MONTHS),
    st.integers(0, 5000) | st.integers(0, 10**15),
    st.sampled_from(["23:59:59", "00:00:00", "99:99:99", "1:2"]),
    st.sampled_from(["GMT", "+0000", "-9999", "+99999999", "UTC"]),
)
wait_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["1e400", "-1e400", "nan", "-nan", "inf", "Infinity", "1_0", "0x10", "", " 3 ", "1e308"]),
)
retry_values = st.one_of(http_dates, wait_numbers, ascii_text)


@st.composite
def retry_headers(draw: Any) -> Dict[str, str]:
    headers: Dict[str, str] = {}
    if draw(st.booleans()):
        headers["retry-after"] = draw(retry_values)
    if draw(st.booleans()):
        headers["retry-after-ms"] = draw(retry_values)
    return headers


CHUNK = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
}


@st.composite
def mutated(draw: Any, base: Dict[str, Any]) -> Any:
    """A valid document with a few fields deleted, replaced by random JSON, or added."""
    doc = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        target = doc
        path = draw(
            st.lists(
                st.sampled_from(
                    [
                        "choices",
                        0,
                        "message",
                        "delta",
                        "usage",
                        "data",
                        "content",
                        "index",
                        "finish_reason",
                        "role",
                        "tool_calls",
                        "error",
                    ]
                ),
                max_size=3,
            )
        )
        for key in path:
            if (isinstance(target, dict) and key in target) or (
                isinstance(target, list) and isinstance(key, int) and key < len(target)
            ):
                target = target[key]
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            if draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(json_values)
        elif isinstance(target, dict):
            target[draw(st.text(max_size=8))] = draw(json_values)
    return doc


def sse_event(payload: Any) -> bytes:
    return b"data: " + (payload if isinstance(payload, bytes) else json.dumps(payload).encode()) + b"\n\n"


event_payloads = st.one_of(
    mutated(CHUNK),
    st.just(CHUNK),
    json_values,
    st.just(b"[DONE]"),
    st.binary(max_size=30),
    st.builds(lambda m: {"error": m}, json_values),
)


@st.composite
def sse_bodies(draw: Any) -> List[bytes]:
    """An event stream of random events (valid chunks, garbage, errors, [DONE]), cut into random pieces."""
    parts = []
    for payload in draw(st.lists(event_payloads, max_size=6)):
        kind = draw(st.sampled_from(["event", "event", "comment", "raw", "error-type"]))
        if kind == "event":
            parts.append(sse_event(payload))
        elif kind == "comment":
            parts.append(b": ping\r\n")
        elif kind == "error-type":
            parts.append(b"event: error\n" + sse_event(payload))
        else:
            parts.append(draw(st.binary(max_size=20)))
    whole = b"".join(parts)
    cuts = sorted(set(draw(st.lists(st.integers(0, len(whole)), max_size=5))))
    return [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)])]


class Answer:
    """A scripted answer; each request gets a fresh `httpx.Response` of it (a body is read only once)."""

    def __init__(self, status: int, headers: Dict[str, str], pieces: List[bytes], error: Optional[Exception]) -> None:
        self.status, self.headers, self.pieces, self.error = status, headers, pieces, error

    def response(self) -> httpx.Response:
        return httpx.Response(self.status, headers=self.headers, stream=Pieces(self.pieces, self.error))

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.headers}, {b''.join(self.pieces)[:300]!r}, {self.error!r})"


def replay(script: List[Answer]) -> httpx.MockTransport:
    """A transport answering with the script in order, then its last answer again."""
    left = iter(script)
    return httpx.MockTransport(lambda request: next(left, script[-1]).response())


@st.composite
def answers(draw: Any) -> Answer:
    """One random answer from a server, a proxy or a broken network."""
    status = draw(
        st.sampled_from(
            [200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 520, 599]
        )
    )
    headers: Dict[str, str] = {}
    if draw(st.booleans()):
        headers["content-type"] = draw(
            st.sampled_from(
                ["application/json", "text/event-stream", "text/html", "text/plain", "application/octet-stream"]
            )
        )
    if draw(st.booleans()):
        headers["retry-after"] = draw(
            st.sampled_from(["0", "1", "-3", "abc", "1e9", "Wed, 21 Oct 2015 07:28:00 GMT", "nan", "inf", ""])
            | retry_values
        )
    if draw(st.integers(0, 3)) == 0:
        headers["retry-after-ms"] = draw(retry_values)
    if draw(st.booleans()):
        headers["x-should-retry"] = draw(st.sampled_from(["true", "false", "maybe"]))
    if draw(st.booleans()):
        headers["x-request-id"] = draw(st.text(alphabet="abcdef0123456789_-", max_size=16))
    kind = draw(
        st.sampled_from(
            ["json", "mutated-chat", "mutated-model", "mutated-list", "bytes", "sse", "html", "deep", "error-shape"]
        )
    )
    error: Optional[Exception] = None
    if draw(st.integers(0, 9)) == 0:
        error = draw(
            st.sampled_from(
                [httpx.RemoteProtocolError("peer closed"), httpx.ReadTimeout("slow"), httpx.ReadError("reset")]
            )
        )
    if kind == "sse":
        pieces = draw(sse_bodies())
    else:
        body: bytes
        if kind == "json":
            body = json.dumps(draw(json_values)).encode()
        elif kind == "mutated-chat":
            body = json.dumps(draw(mutated(CHAT_RESPONSE))).encode()
        elif kind == "mutated-model":
            body = json.dumps(draw(mutated(MODEL_INFO))).encode()
        elif kind == "mutated-list":
            body = json.dumps(draw(mutated({"object": "list", "data": [MODEL_INFO]}))).encode()
        elif kind == "html":
            body = b"<html><head><title>" + draw(st.binary(max_size=20)) + b"</title></head></html>"
        elif kind == "deep":
            body = draw(deep_json())
        elif kind == "error-shape":
            body = json.dumps(draw(error_shapes)).encode()
        else:
            body = draw(st.binary(max_size=200))
        if draw(st.integers(0, 5)) == 0:  # encoded (stacked too), or claiming to be and not
            encoding = draw(st.sampled_from(["gzip", "deflate", "gzip, gzip", "deflate, gzip", "br"]))
            headers["content-encoding"] = encoding
            if draw(st.booleans()):
                for name in reversed([e.strip() for e in encoding.split(",")]):
                    body = gzip.compress(body) if name == "gzip" else zlib.compress(body) if name == "deflate" else body
        cut = draw(st.integers(0, len(body)))
        pieces = [body[:cut], body[cut:]]
    return Answer(status, headers, pieces, error)


OPERATIONS = [
    "create",
    "stream",
    "list",
    "get",
    "summary",
    "balance",
    "tts",
    "download",
    "transcribe",
    "video",
    "agent",
]
VIDEO = {"prompt": "p", "model": "m", "wait": True, "poll_interval": 0.005, "timeout": 0.05}
"""A video wait: created, then polled until done, failed or out of its (short) time."""
DOWNLOADS = Path(tempfile.mkdtemp(prefix="meganova-fuzz-"))
SPEECH = {"input": "Hi", "model": "m", "voice": "v"}


def _download_started() -> Path:
    target = DOWNLOADS / "speech.wav"
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    return target


def _download_failed() -> None:
    """A download that failed left nothing: no partial file, no temporary file."""
    assert list(DOWNLOADS.iterdir()) == []


def _call_sync(client: MegaNova, op: str) -> Any:
    messages = [{"role": "user", "content": "Hi"}]
    if op == "create":
        return client.chat.create(model="m", messages=messages)
    if op == "stream":
        with client.chat.stream(model="m", messages=messages) as stream:
            return stream.get_final_response()
    if op == "list":
        return client.models.list()
    if op == "get":
        return client.models.get("meganova-ai/manta-flash-1.0")
    if op == "summary":
        return client.usage.summary(from_="2025-11-01T00:00:00Z", to="2025-11-02T00:00:00Z", group_by="day")
    if op == "tts":
        return client.audio.tts(**SPEECH)
    if op == "download":
        target = _download_started()
        try:
            return client.audio.tts_to_file(target, **SPEECH)
        except MeganovaError:
            _download_failed()
            raise
    if op == "transcribe":
        return client.audio.transcribe(b"RIFF" + bytes(64), filename="a.wav")
    if op == "video":
        return client.videos.generate(**VIDEO).status
    if op == "agent":  # a Studio agent over the same transport: the key in the path, its own send loop
        with CloudAgent("agent_fuzz", base_url="https://studio.test", max_retries=1, http_client=client._http) as agent:
            agent._client._sender.sleep = client._sender.sleep
            return agent.chat("Hi").response
    return client.billing.get_balance()


async def _call_async(client: AsyncMegaNova, op: str) -> Any:
    messages = [{"role": "user", "content": "Hi"}]
    if op == "create":
        return await client.chat.create(model="m", messages=messages)
    if op == "stream":
        async with await client.chat.stream(model="m", messages=messages) as stream:
            return await stream.get_final_response()
    if op == "list":
        return await client.models.list()
    if op == "get":
        return await client.models.get("meganova-ai/manta-flash-1.0")
    if op == "summary":
        return await client.usage.summary(from_="2025-11-01T00:00:00Z", to="2025-11-02T00:00:00Z")
    if op == "tts":
        return await client.audio.tts(**SPEECH)
    if op == "download":
        target = _download_started()
        try:
            return await client.audio.tts_to_file(target, **SPEECH)
        except MeganovaError:
            _download_failed()
            raise
    if op == "transcribe":
        return await client.audio.transcribe(b"RIFF" + bytes(64), filename="a.wav")
    if op == "video":
        return (await client.videos.generate(**VIDEO)).status
    if op == "agent":
        async with AsyncCloudAgent(
            "agent_fuzz", base_url="https://studio.test", max_retries=1, http_client=client._http
        ) as agent:
            agent._client._sender.sleep = client._sender.sleep
            return (await agent.chat("Hi")).response
    return await client.billing.get_balance()


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.errors: Dict[str, int] = {}

    def record(self, outcome: str) -> None:
        self.calls += 1
        self.errors[outcome] = self.errors.get(outcome, 0) + 1

    def line(self, name: str) -> str:
        top = ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items(), key=lambda kv: -kv[1])[:6])
        return f"fuzz {name}: {self.calls} calls, no exception but MeganovaError escaped ({top})"


SYNC_COUNT, ASYNC_COUNT, SOCKET_COUNT = Counter(), Counter(), Counter()


def _outcome(fn: Any) -> str:
    try:
        fn()
    except MeganovaError as exc:
        return type(exc).__name__
    return "ok"


@SETTINGS
@given(op=st.sampled_from(OPERATIONS), script=st.lists(answers(), min_size=1, max_size=3))
def test_sync_client_raises_only_meganova_errors(op: str, script: List[Answer]) -> None:
    transport = replay(script)
    client = MegaNova(
        api_key="sk-fuzz", base_url="https://api.test/v1", max_retries=1, http_client=httpx.Client(transport=transport)
    )
    client._sender.sleep = lambda seconds: None
    SYNC_COUNT.record(_outcome(lambda: _call_sync(client, op)))


@SETTINGS
@given(op=st.sampled_from(OPERATIONS), script=st.lists(answers(), min_size=1, max_size=3))
def test_async_client_raises_only_meganova_errors(op: str, script: List[Answer]) -> None:
    transport = replay(script)

    async def no_sleep(seconds: float) -> None:
        return None

    async def main() -> None:
        client = AsyncMegaNova(
            api_key="sk-fuzz",
            base_url="https://api.test/v1",
            max_retries=1,
            http_client=httpx.AsyncClient(transport=transport),
        )
        client._sender.sleep = no_sleep
        try:
            await _call_async(client, op)
        finally:
            await client.close()

    ASYNC_COUNT.record(_outcome(lambda: asyncio.run(main())))


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@settings(
    max_examples=max(100, EXAMPLES // 10),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    op=st.sampled_from(["create", "stream", "list", "tts", "download", "transcribe"]),
    status=st.sampled_from([200, 400, 429, 500, 502, 520]),
    body=st.one_of(st.binary(max_size=80), mutated(CHAT_RESPONSE).map(lambda d: json.dumps(d).encode())),
    content_type=st.sampled_from(["application/json", "text/event-stream", "text/html"]),
    events=st.none() | st.lists(event_payloads.map(lambda p: sse_event(p)), max_size=5),
)
def test_clients_over_real_sockets_raise_only_meganova_errors(
    server: MockServer, op: str, status: int, body: bytes, content_type: str, events: Optional[List[bytes]]
) -> None:
    server.reset()
    if events is not None and op == "stream":
        server.enqueue(status=status, stream_events=events, headers={"Retry-After": "0"})
    else:
        server.enqueue(status=status, body=body, content_type=content_type, headers={"Retry-After": "0"})
    client = MegaNova(api_key="test", base_url=server.url, max_retries=0, timeout=2.0)
    try:
        SOCKET_COUNT.record(_outcome(lambda: _call_sync(client, op)))
    finally:
        client.close()


PURE = settings(
    max_examples=PURE_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@PURE
@given(status=st.sampled_from([400, 401, 404, 409, 422, 429, 500, 503, 599]), body=error_bodies)
def test_an_error_body_of_any_shape_or_depth_gives_a_readable_error(status: int, body: bytes) -> None:
    error = error_for_status(status, body, request_id="req", secrets="sk-fuzz-secret")
    assert error.status == status
    assert isinstance(error.message, str) and error.message
    for field in (error.code, error.type, error.param):
        assert field is None or isinstance(field, str)
    assert str(error) and repr(error)


@PURE
@given(headers=retry_headers())
def test_any_retry_after_is_a_finite_wait_or_none(headers: Dict[str, str]) -> None:
    wait = parse_retry_after(headers)
    assert wait is None or math.isfinite(wait)
    chosen = wait_before_retry(0, wait)
    assert chosen is None or (math.isfinite(chosen) and chosen >= 0)


SECRET = "sk-fuzz-0123456789"


@st.composite
def with_secret(draw: Any) -> Any:
    """A JSON value with the secret planted in some of its strings (keys too), maybe deep."""
    value = draw(
        st.recursive(
            st.none() | st.integers() | st.sampled_from(["", "x", SECRET, f"a{SECRET}b", SECRET * 2]) | ascii_text,
            lambda children: st.lists(children, max_size=4)
            | st.dictionaries(st.sampled_from(["k", SECRET, f"{SECRET}!"]) | ascii_text, children, max_size=4),
            max_leaves=16,
        )
    )
    for _ in range(draw(st.sampled_from([0, 0, 10, 3000]))):
        value = [value, {"d": SECRET}]
    return value


@PURE
@given(value=with_secret())
def test_the_scrubber_leaves_no_trace_of_the_key(value: Any) -> None:
    cleaned = scrub(value, SECRET)
    stack = [cleaned]
    while stack:  # walked without recursion: the value may be 3,000 deep
        item = stack.pop()
        if isinstance(item, str):
            assert SECRET not in item
        elif isinstance(item, dict):
            assert all(SECRET not in key for key in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    if isinstance(value, str) and SECRET in value:
        assert MASK in cleaned


def test_fuzz_summary() -> None:
    """Puts the figures of the properties above in the suite's closing lines."""
    for name, counter in (("sync", SYNC_COUNT), ("async", ASYNC_COUNT), ("sockets", SOCKET_COUNT)):
        if counter.calls:
            SUMMARY.append(counter.line(name))
