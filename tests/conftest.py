"""Shared helpers: clients over `httpx.MockTransport`, in both flavours, with a fake clock.

Most behaviour tests are parametrized over `mode` ("sync" / "async"): `Harness` builds the right client
and runs a call to completion either way, so each behaviour is written once and checked on both clients.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, List, Optional

import httpx
import pytest

from meganova import AsyncMegaNova, MegaNova

API_KEY = "sk-test-0123456789abcdef"
BASE_URL = "https://api.meganova.test/v1"

Handler = Callable[[httpx.Request], httpx.Response]


class Pieces(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in the given pieces; optionally failing after them like a dropped connection."""

    def __init__(self, pieces: Iterable[bytes], error: Optional[Exception] = None) -> None:
        self.pieces = list(pieces)
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.error is not None:
            raise self.error


def sse_response(
    pieces: Iterable[bytes], *, error: Optional[Exception] = None, headers: Optional[dict] = None
) -> httpx.Response:
    """A 200 event stream answer made of these byte pieces."""
    all_headers = {"content-type": "text/event-stream", "x-request-id": "req_stream"}
    all_headers.update(headers or {})
    return httpx.Response(200, headers=all_headers, stream=Pieces(pieces, error))


def chunk_event(content: Optional[str] = None, *, finish: Optional[str] = None, index: int = 0, **delta: Any) -> bytes:
    """One `data: {...}` event of a chat stream."""
    if content is not None:
        delta["content"] = content
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1764000000,
        "model": "meganova-ai/manta-flash-1.0",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def usage_event(prompt: int = 5, completion: int = 3) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"

CHAT_RESPONSE = {
    "id": "chatcmpl-8f2c1e6a9b",
    "object": "chat.completion",
    "created": 1764000000,
    "model": "meganova-ai/manta-flash-1.0",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
}

MODEL_INFO = {
    "id": "meganova-ai/manta-flash-1.0",
    "name": "Manta Flash 1.0",
    "context_length": 32768,
    "modalities": ["text"],
    "tags": ["roleplay"],
    "nsfw_support": "optional",
    "status": "active",
    "pricing": {"prompt_tokens_per_1k": 0.0002, "completion_tokens_per_1k": 0.0006},
}


def json_response(status: int, body: Any, headers: Optional[dict] = None) -> httpx.Response:
    all_headers = {"x-request-id": f"req_{status}"}
    all_headers.update(headers or {})
    return httpx.Response(status, json=body, headers=all_headers)


class Harness:
    """A client of one flavour over a scripted transport; records requests and the waits it slept."""

    def __init__(self, mode: str, answers: Any, **client_kwargs: Any) -> None:
        self.mode = mode
        self.requests: List[httpx.Request] = []
        self.waits: List[float] = []
        self._answers = answers
        transport = httpx.MockTransport(self._handle)
        client_kwargs.setdefault("api_key", API_KEY)
        client_kwargs.setdefault("base_url", BASE_URL)
        if mode == "sync":
            self.client: Any = MegaNova(http_client=httpx.Client(transport=transport), **client_kwargs)
            self.client._sender.sleep = self.waits.append
        else:
            self.client = AsyncMegaNova(http_client=httpx.AsyncClient(transport=transport), **client_kwargs)

            async def fake_sleep(seconds: float) -> None:
                self.waits.append(seconds)

            self.client._sender.sleep = fake_sleep

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self._answers
        if callable(answer):
            result = answer(request)
        else:
            result = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(result, Exception):
            raise result
        return result

    def call(self, fn: Callable[[Any], Any]) -> Any:
        """`fn(client)`, awaited when the client is async."""
        if self.mode == "sync":
            return fn(self.client)

        async def run() -> Any:
            return await fn(self.client)

        return asyncio.run(run())

    def stream(self, **kwargs: Any) -> List[Any]:
        """All chunks of `client.chat.stream(**kwargs)`."""
        kwargs.setdefault("model", "meganova-ai/manta-flash-1.0")
        kwargs.setdefault("messages", [{"role": "user", "content": "Hi"}])
        if self.mode == "sync":
            return list(self.client.chat.stream(**kwargs))

        async def run() -> List[Any]:
            stream = await self.client.chat.stream(**kwargs)
            return [chunk async for chunk in stream]

        return asyncio.run(run())

    def stream_call(self, fn: Callable[[Any], Any]) -> Any:
        """`fn(stream)` on a fresh stream, awaited when async (for `text()`, `get_final_response()`)."""
        kwargs = {"model": "meganova-ai/manta-flash-1.0", "messages": [{"role": "user", "content": "Hi"}]}
        if self.mode == "sync":
            return fn(self.client.chat.stream(**kwargs))

        async def run() -> Any:
            return await fn(await self.client.chat.stream(**kwargs))

        return asyncio.run(run())

    def chat(self, **kwargs: Any) -> Any:
        kwargs.setdefault("model", "meganova-ai/manta-flash-1.0")
        kwargs.setdefault("messages", [{"role": "user", "content": "Hi"}])
        return self.call(lambda c: c.chat.create(**kwargs))


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def harness(mode: str) -> Callable[..., Harness]:
    def make(answers: Any, **kwargs: Any) -> Harness:
        return Harness(mode, answers, **kwargs)

    return make


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line of figures from the suites that keep them (the fault matrix, the load test)."""
    import sys

    faults = sys.modules.get("test_faults")
    if faults is not None and faults.TALLY.run:
        t = faults.TALLY
        terminalreporter.write_line(
            f"fault matrix: {t.run} scenarios run, {t.passed} passed, {t.requests} requests sent, "
            f"{t.duplicates} duplicates found"
        )
    for name in ("test_contract_prism", "test_load", "test_fuzz"):
        module = sys.modules.get(name)
        for line in getattr(module, "SUMMARY", []):
            terminalreporter.write_line(line)
