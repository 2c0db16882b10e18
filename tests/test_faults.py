"""The fault matrix, over real TCP on loopback against `meganova.testing.MockServer`.

Each scenario scripts the server, then runs one operation (`chat.create`, `chat.stream`, `models.list`,
the binary `audio.tts` and the download `audio.tts_to_file`, which must leave no file but a whole answer,
the upload `audio.transcribe`, a Studio agent's `CloudAgent.chat`, and `videos.generate(wait=True)`,
whose scripted faults meet its creation and whose polls then run to the end) on the sync or the async client and asserts the exact outcome: the exception class (or success), how
many attempts reached the server (and left the client), that every retry of a POST carried the same
Idempotency-Key, and that nothing was retried that must not be. The suite prints a one-line summary.

Backoff waits are recorded instead of slept (they are tested on their own in test_retries.py); the
timeouts are real.
"""

from __future__ import annotations

import asyncio
import email.utils
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import attrs
import httpx
import pytest

from meganova import AsyncMegaNova, MegaNova
from meganova.cloud import AsyncCloudAgent, CloudAgent
from meganova.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    MeganovaError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from meganova.testing import AGENT_KEY, MockServer

OPS = ("create", "stream", "list", "tts", "download", "upload", "agent", "video")
TIMEOUT = httpx.Timeout(0.75, connect=0.75)
MAX_RETRIES = 2
PATHS = {
    "create": "/v1/chat/completions",
    "stream": "/v1/chat/completions",
    "list": "/v1/models",
    "tts": "/v1/audio/speech",
    "download": "/v1/audio/speech",
    "upload": "/v1/audio/transcriptions",
    "agent": f"/agents/v1/{AGENT_KEY}/chat",
    "video": "/v1/videos/generations",
}

Outcome = Tuple[Optional[type], Optional[int]]  # (exception class or None for success, attempts)


@attrs.define
class Scenario:
    """Server script (`enqueue` keyword sets, in order) and the expected outcome per operation."""

    name: str
    script: List[Dict[str, Any]]
    expect: Dict[str, Outcome]
    server_up: bool = True


def same(outcome: Outcome, ops: Tuple[str, ...] = OPS) -> Dict[str, Outcome]:
    return {op: outcome for op in ops}


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


ERR = {"error": {"message": "scripted", "type": "x", "code": "scripted"}}

SCENARIOS = [
    Scenario("ok", [], same((None, 1))),
    Scenario("429 Retry-After seconds", [{"status": 429, "headers": {"Retry-After": "1"}}], same((None, 2))),
    Scenario("429 Retry-After HTTP date", [{"status": 429, "headers": {"Retry-After": http_date(2)}}], same((None, 2))),
    Scenario(
        "429 Retry-After too large", [{"status": 429, "headers": {"Retry-After": "3600"}}], same((RateLimitError, 1))
    ),
    Scenario("500 then success", [{"status": 500}], same((None, 2))),
    Scenario("502 then success", [{"status": 502}], same((None, 2))),
    Scenario("503 then success", [{"status": 503, "headers": {"Retry-After": "0"}}], same((None, 2))),
    Scenario("504 then success", [{"status": 504}], same((None, 2))),
    Scenario("503 beyond max_retries", [{"status": 503, "times": 3}], same((InternalServerError, 3))),
    Scenario("400", [{"status": 400, "body": ERR}], same((BadRequestError, 1))),
    Scenario("401", [{"status": 401}], same((AuthenticationError, 1))),
    Scenario("403", [{"status": 403}], same((PermissionDeniedError, 1))),
    Scenario("404", [{"status": 404}], same((NotFoundError, 1))),
    Scenario("409 then success", [{"status": 409}], same((None, 2))),
    Scenario("409 beyond max_retries", [{"status": 409, "times": 3}], same((ConflictError, 3))),
    Scenario("422", [{"status": 422}], same((UnprocessableEntityError, 1))),
    Scenario("HTML 502 page", [{"fault": "html_502", "times": 3}], same((InternalServerError, 3))),
    Scenario(
        "520 then success", [{"status": 520, "body": "origin error", "content_type": "text/plain"}], same((None, 2))
    ),
    Scenario(
        "x-should-retry false on 503",
        [{"status": 503, "headers": {"x-should-retry": "false"}}],
        same((InternalServerError, 1)),
    ),
    Scenario(
        "empty body on 200",
        [{"status": 200, "body": b"", "content_type": "application/json"}],
        same((APIResponseValidationError, 1)),
    ),
    Scenario("malformed JSON on 200", [{"fault": "malformed_json"}], same((APIResponseValidationError, 1))),
    Scenario("connection refused", [], same((APIConnectionError, 3)), server_up=False),
    Scenario("reset before headers, then success", [{"fault": "reset"}], same((None, 2))),
    Scenario(
        "reset before headers beyond max_retries", [{"fault": "reset", "times": 3}], same((APIConnectionError, 3))
    ),
    Scenario("closed before headers, then success", [{"fault": "close"}], same((None, 2))),
    # A stream cut before its first event is sent again; once a chunk was handed out, a cut raises.
    Scenario("drop mid-body", [{"drop_after_bytes": 40}], same((None, 2))),
    Scenario("drop mid-body beyond max_retries", [{"drop_after_bytes": 40, "times": 3}], same((APIConnectionError, 3))),
    Scenario("drop mid-stream after 3 events", [{"drop_after_events": 3}], {"stream": (APIConnectionError, 1)}),
    Scenario("stall before headers, then success", [{"delay": 1.5}], same((None, 2))),
    Scenario(
        "stall before headers beyond max_retries",
        [{"delay": 1.5, "times": 3}],
        same((APITimeoutError, 3), ("create", "tts", "download", "upload", "agent", "video")),
    ),
    Scenario(
        "302 redirect (not followed)",
        [{"status": 302, "headers": {"Location": "https://elsewhere.example/v1"}, "body": ""}],
        same((APIError, 1)),
    ),
    Scenario(
        "JSON error object on a 200 binary answer",
        [{"status": 200, "body": {"error": {"message": "quota", "type": "rate_limit_error"}}}],
        same((RateLimitError, 1), ("tts", "download")),
    ),
    Scenario(
        "HTML page on a 200 binary answer",
        [{"status": 200, "body": "<html>login</html>", "content_type": "text/html"}],
        same((APIResponseValidationError, 1), ("tts", "download")),
    ),
    Scenario("stall between stream chunks", [{"chunk_delay": 1.5}], {"stream": (APITimeoutError, 1)}),
    Scenario("empty 200 stream", [{"fault": "empty_stream"}], {"stream": (APIConnectionError, 1)}),
    Scenario("stream without [DONE] after finish_reason", [{"fault": "no_done"}], {"stream": (None, 1)}),
    Scenario("error event mid-stream", [{"fault": "stream_error"}], {"stream": (InternalServerError, 1)}),
    Scenario("comment lines and CRLF", [{"fault": "sse_comments_crlf"}], {"stream": (None, 1)}),
    Scenario("very large response", [{"fault": "large_response", "size": 8 * 1024 * 1024}], {"create": (None, 1)}),
]

CASES = [
    pytest.param(scenario, op, mode, id=f"{scenario.name}-{op}-{mode}")
    for scenario in SCENARIOS
    for op in OPS
    if op in scenario.expect
    for mode in ("sync", "async")
]


@attrs.define
class Tally:
    """The suite's figures, printed at the end (see conftest.pytest_terminal_summary)."""

    run: int = 0
    passed: int = 0
    requests: int = 0
    duplicates: int = 0


TALLY = Tally()


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MESSAGES = [{"role": "user", "content": "Tell me about Neon Harbor tonight."}]
MODEL = "meganova-ai/manta-flash-1.0"
SPEECH = {"input": "Neon Harbor tonight.", "model": "hexgrad/Kokoro-82M", "voice": "af_heart", "response_format": "wav"}
AUDIO = b"RIFF" + bytes(4000)  # an upload re-sendable from memory: retried like any POST
VIDEO = {"prompt": "Neon Harbor at night", "model": "Byteplus/seedance-1-0-pro-250528"}
POLL = 0.02
"""Seconds between video polls (real sleeps; retry backoffs are recorded, not slept)."""


def _download_target() -> Path:
    return Path(tempfile.mkdtemp(prefix="fault-download-")) / "speech.wav"


def _downloaded(target: Path, written: int) -> bytes:
    """The file a download wrote, checked: only it in its directory, as long as said."""
    assert [p.name for p in target.parent.iterdir()] == [target.name]
    data = target.read_bytes()
    assert len(data) == written
    shutil.rmtree(target.parent)
    return data


def _no_file_left(target: Path) -> None:
    """After a failed download: nothing at all in the target's directory (no partial, no temporary file)."""
    assert list(target.parent.iterdir()) == []
    shutil.rmtree(target.parent)


def run_sync(op: str, base_url: str, attempts: List[str], waits: List[float]) -> Any:
    http = httpx.Client(event_hooks={"request": [lambda request: attempts.append(request.method)]})
    if op == "agent":
        root = base_url[: -len("/v1")]
        with CloudAgent(AGENT_KEY, base_url=root, timeout=TIMEOUT, max_retries=MAX_RETRIES, http_client=http) as agent:
            agent._client._sender.sleep = waits.append
            try:
                return agent.chat("Hello!").response
            finally:
                http.close()
    with MegaNova(
        api_key="test", base_url=base_url, timeout=TIMEOUT, max_retries=MAX_RETRIES, http_client=http
    ) as client:
        client._sender.sleep = waits.append
        try:
            if op == "create":
                return client.chat.create(model=MODEL, messages=MESSAGES).choices[0].message.content
            if op == "stream":
                return "".join(chunk.delta for chunk in client.chat.stream(model=MODEL, messages=MESSAGES))
            if op == "tts":
                return client.audio.tts(**SPEECH)
            if op == "download":
                target = _download_target()
                try:
                    return _downloaded(target, client.audio.tts_to_file(target, **SPEECH))
                except MeganovaError:
                    _no_file_left(target)
                    raise
            if op == "upload":
                return client.audio.transcribe(AUDIO, filename="hello.wav").text
            if op == "video":
                return client.videos.generate(**VIDEO, wait=True, poll_interval=POLL, timeout=60).status
            return [m.id for m in client.models.list()]
        finally:
            http.close()


def run_async(op: str, base_url: str, attempts: List[str], waits: List[float]) -> Any:
    async def record(request: httpx.Request) -> None:
        attempts.append(request.method)

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> Any:
        http = httpx.AsyncClient(event_hooks={"request": [record]})
        if op == "agent":
            root = base_url[: -len("/v1")]
            async with AsyncCloudAgent(
                AGENT_KEY, base_url=root, timeout=TIMEOUT, max_retries=MAX_RETRIES, http_client=http
            ) as agent:
                agent._client._sender.sleep = fake_sleep
                try:
                    return (await agent.chat("Hello!")).response
                finally:
                    await http.aclose()
        async with AsyncMegaNova(
            api_key="test", base_url=base_url, timeout=TIMEOUT, max_retries=MAX_RETRIES, http_client=http
        ) as client:
            client._sender.sleep = fake_sleep
            try:
                if op == "create":
                    return (await client.chat.create(model=MODEL, messages=MESSAGES)).choices[0].message.content
                if op == "stream":
                    stream = await client.chat.stream(model=MODEL, messages=MESSAGES)
                    return "".join([chunk.delta async for chunk in stream])
                if op == "tts":
                    return await client.audio.tts(**SPEECH)
                if op == "download":
                    target = _download_target()
                    try:
                        return _downloaded(target, await client.audio.tts_to_file(target, **SPEECH))
                    except MeganovaError:
                        _no_file_left(target)
                        raise
                if op == "upload":
                    return (await client.audio.transcribe(AUDIO, filename="hello.wav")).text
                if op == "video":
                    done = await client.videos.generate(**VIDEO, wait=True, poll_interval=POLL, timeout=60)
                    return done.status
                return [m.id for m in await client.models.list()]
            finally:
                await http.aclose()

    return asyncio.run(main())


def expected_result(server: MockServer, op: str) -> Any:
    """What a successful call must return: the server's own answer, fetched with raw httpx."""
    headers = {"Authorization": "Bearer test"}
    if op == "list":
        return [m["id"] for m in httpx.get(server.url + "/models", headers=headers).json()["data"]]
    if op in ("tts", "download"):
        return httpx.post(server.url + "/audio/speech", json=SPEECH, headers=headers).content
    if op == "upload":
        files = {"file": ("hello.wav", AUDIO, "audio/wav")}
        data = {"model": "Systran/faster-whisper-large-v3"}
        answer = httpx.post(server.url + "/audio/transcriptions", files=files, data=data, headers=headers)
        return answer.json()["text"]
    if op == "agent":
        return httpx.post(server.root_url + PATHS["agent"], json={"message": "Hello!"}).json()["response"]
    if op == "video":
        return "completed"
    body = {"model": MODEL, "messages": MESSAGES}
    return httpx.post(server.url + "/chat/completions", json=body, headers=headers).json()["choices"][0]["message"][
        "content"
    ]


@pytest.mark.parametrize(("scenario", "op", "mode"), CASES)
def test_fault(server: MockServer, scenario: Scenario, op: str, mode: str) -> None:
    TALLY.run += 1
    server.reset()
    expected_error, expected_attempts = scenario.expect[op]
    base_url = server.url if scenario.server_up else f"http://127.0.0.1:{closed_port()}/v1"
    for step in scenario.script:
        server.enqueue(**step)
    attempts: List[str] = []
    waits: List[float] = []
    runner: Callable[..., Any] = run_sync if mode == "sync" else run_async
    result: Any = None
    if expected_error is None:
        result = runner(op, base_url, attempts, waits)
    else:
        with pytest.raises(expected_error) as info:
            runner(op, base_url, attempts, waits)
        if issubclass(expected_error, (RateLimitError, InternalServerError)) and scenario.server_up:
            assert info.value.request_id  # answers carry their request id, into the error
    arrived = [r for r in server.requests if r.path == PATHS[op]] if scenario.server_up else []
    if op == "video":  # the creation's attempts; its polls (GETs) then ran to the end
        attempts = [method for method in attempts if method == "POST"]
    TALLY.requests += len(attempts)
    assert len(attempts) == expected_attempts, f"client sent {len(attempts)} attempts"
    if scenario.server_up:
        assert len(arrived) == expected_attempts, f"server saw {len(arrived)} attempts"
    assert len(waits) == expected_attempts - 1
    if op != "list":
        keys = {r.headers.get("idempotency-key") for r in arrived}
        assert None not in keys
        TALLY.duplicates += max(0, len(keys) - 1)  # a retry with a new key could make the server act twice
        assert len(keys) <= 1
    if expected_error is None:  # the whole answer, not a part of it
        if scenario.name == "very large response":
            assert len(result) == 8 * 1024 * 1024
        else:
            assert result == expected_result(server, op)
    TALLY.passed += 1
