"""`meganova.testing.MockServer` itself, over real loopback HTTP with raw httpx (no SDK code involved)."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import wave
import zlib
from decimal import Decimal
from io import BytesIO
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meganova.testing import CHAT_MODELS, DEFAULT_MODEL, FAULTS, MockServer

KEY = "test"
FLASH = "meganova-ai/manta-flash-1.0"
HELLO = [{"role": "user", "content": "Hi Luna, how are you?"}]

# The `required` lists of the spec's schemas (openapi/meganova.yaml); `test_required_fields_match_the_spec`
# checks them against the spec when PyYAML is installed.
REQUIRED: Dict[str, List[str]] = {
    "ChatResponse": ["id", "choices", "usage"],
    "ChatChoice": ["index", "message"],
    "ChatMessage": ["role"],
    "TokenUsage": ["prompt_tokens", "completion_tokens", "total_tokens"],
    "ChatCompletionChunk": ["id", "choices"],
    "ChatChunkChoice": ["index", "delta"],
    "ModelList": ["data"],
    "ModelInfo": ["id"],
    "ModelPricing": [],
    "UsageSummary": [
        "from",
        "to",
        "total_requests",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost",
        "currency",
    ],
    "UsageGroup": ["key", "requests", "prompt_tokens", "completion_tokens", "total_tokens", "cost"],
    "BillingBalance": ["balance", "currency", "status"],
    "ErrorResponse": ["error"],
    "ErrorDetail": ["message"],
    "EmbeddingResponse": ["data"],
    "Embedding": ["index", "embedding"],
    "EmbeddingUsage": ["prompt_tokens", "total_tokens"],
    "ImagesResponse": ["data"],
    "Transcription": ["text"],
    "RerankResponse": ["results"],
    "RerankResult": ["index", "relevance_score"],
    "VideoGeneration": ["id"],
    "ServerlessModelsResponse": ["data"],
    "ServerlessModelsPage": ["models"],
    "ServerlessModel": ["model_name"],
    "InstanceBillings": ["data"],
    "InstanceBilling": ["vm_access_info_id"],
    "UsageTimeRange": ["data"],
    "AgentInfo": ["id", "name"],
    "AgentChatResponse": ["response", "conversation_id"],
    "PendingToolCall": ["approval_id", "tool_name"],
}


def has_required(value: Any, schema: str) -> None:
    assert isinstance(value, dict), value
    missing = [name for name in REQUIRED[schema] if name not in value]
    assert not missing, f"{schema} lacks {missing}: {value}"


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def client(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5) as http:
        yield http


def chat(client: httpx.Client, **body: Any) -> httpx.Response:
    body.setdefault("model", FLASH)
    body.setdefault("messages", HELLO)
    return client.post("/chat/completions", json=body)


def events_of(raw: bytes) -> List[str]:
    """The `data:` payloads of an event stream body (comments dropped, any line end)."""
    text = raw.decode().replace("\r\n", "\n").replace("\r", "\n")
    events = []
    for block in text.split("\n\n"):
        data = [line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
        if data:
            events.append("\n".join(data))
    return events


def standard_error(response: httpx.Response, status: int, type_: str, code: str) -> Dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    has_required(body, "ErrorResponse")
    error = body["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["message"]
    assert (error["type"], error["code"]) == (type_, code)
    return dict(error)


# --- life cycle -----------------------------------------------------------------------------------


def test_url_and_context_manager() -> None:
    server = MockServer(port=0, api_key="sk-mock")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.url)
    assert server.port > 0
    with server:
        response = httpx.get(server.url + "/billing/balance", headers={"Authorization": "Bearer sk-mock"})
        assert response.status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/billing/balance", timeout=1)
    with pytest.raises(RuntimeError):
        server.start()


def test_stop_closes_open_connections_without_hanging() -> None:
    server = MockServer().start()
    idle = socket.create_connection(("127.0.0.1", server.port))
    waiting = socket.create_connection(("127.0.0.1", server.port))
    server.enqueue(delay=30)
    waiting.sendall(b"GET /v1/billing/balance HTTP/1.1\r\nHost: x\r\n\r\n")
    deadline = time.monotonic() + 2
    while server.open_connections < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.open_connections == 2
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.5
    for sock in (idle, waiting):
        sock.settimeout(2)
        assert sock.recv(100) == b""
        sock.close()
    assert server.open_connections == 0
    server.stop()  # idempotent


def test_run_as_a_module_prints_its_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "meganova.testing", "--port", "0", "--api-key", "sk-cli"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", url), url
        assert "sk-cli" in process.stdout.readline()
        response = httpx.get(url + "/billing/balance", headers={"Authorization": "Bearer sk-cli"}, timeout=5)
        assert response.json()["currency"] == "USD"
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert process.returncode in (0, -15)


@pytest.mark.parametrize(
    ("models", "known", "unknown"), [(["my/model"], "my/model", "other/model"), (["*"], "any/id", None)]
)
def test_run_as_a_module_with_more_models(models: List[str], known: str, unknown: Any) -> None:
    arguments = [item for model in models for item in ("--model", model)]
    process = subprocess.Popen(
        [sys.executable, "-m", "meganova.testing", "--port", "0", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer test"}, timeout=5) as http:
            assert chat(http, model=known).status_code == 200
            assert chat(http, model=FLASH).status_code == 200
            if unknown is not None:
                assert chat(http, model=unknown).status_code == 404
    finally:
        process.terminate()
        process.communicate(timeout=10)


# --- the operations -------------------------------------------------------------------------------


def test_chat_completion(client: httpx.Client) -> None:
    response = chat(client, temperature=0.9, max_tokens=512)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert re.fullmatch(r"req_[0-9a-f]+", response.headers["x-request-id"])
    body = response.json()
    has_required(body, "ChatResponse")
    assert body["object"] == "chat.completion"
    assert body["model"] == FLASH
    assert isinstance(body["created"], int)
    assert body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    has_required(choice, "ChatChoice")
    has_required(choice["message"], "ChatMessage")
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    content = choice["message"]["content"]
    assert len(content.split()) >= 10 and content.count(".") >= 2
    usage = body["usage"]
    has_required(usage, "TokenUsage")
    assert usage["completion_tokens"] == len(content.split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_chat_is_deterministic_and_depends_on_the_last_user_message(client: httpx.Client) -> None:
    def content(text: str) -> str:
        messages = [{"role": "system", "content": "You are Luna."}, {"role": "user", "content": text}]
        return str(chat(client, messages=messages).json()["choices"][0]["message"]["content"])

    assert content("Hello there") == content("Hello there")
    assert content("Hello there") != content("What is the weather like on the pier?")
    assert content([{"type": "text", "text": "Hello there"}]) == content("Hello there")  # type: ignore[arg-type]


def test_chat_session_without_model_uses_the_default_model(client: httpx.Client) -> None:
    response = client.post("/chat/completions", json={"session_id": "sess_1", "messages": HELLO})
    assert response.status_code == 200
    assert response.json()["model"] == DEFAULT_MODEL == FLASH


def test_chat_max_tokens_and_n(client: httpx.Client) -> None:
    body = chat(client, max_tokens=3).json()
    assert len(body["choices"][0]["message"]["content"].split()) == 3
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3
    body = chat(client, n=2).json()
    assert [choice["index"] for choice in body["choices"]] == [0, 1]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": FLASH}, "messages"),
        ({"model": FLASH, "messages": "hi"}, "messages"),
        ({"model": FLASH, "messages": [{"content": "hi"}]}, "messages"),
        ({"model": FLASH, "messages": [{"role": "wizard", "content": "hi"}]}, "messages"),
        ({"model": FLASH, "messages": ["hi"]}, "messages"),
        ({"model": FLASH, "messages": HELLO, "temperature": 2.5}, "temperature"),
        ({"model": FLASH, "messages": HELLO, "temperature": -0.1}, "temperature"),
        ({"model": FLASH, "messages": HELLO, "max_tokens": 0}, "max_tokens"),
        ({"model": FLASH, "messages": HELLO, "max_tokens": "10"}, "max_tokens"),
        ({"model": FLASH, "messages": HELLO, "top_p": 1.5}, "top_p"),
        ({"model": FLASH, "messages": HELLO, "stream": "yes"}, "stream"),
    ],
)
def test_chat_validation_422(client: httpx.Client, body: Dict[str, Any], param: str) -> None:
    response = client.post("/chat/completions", json=body)
    error = standard_error(response, 422, "invalid_request_error", "validation_error")
    assert error["param"] == param


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"model": FLASH, "messages": []}, "invalid_messages", "messages"),
        ({"messages": HELLO}, "missing_model", "model"),
    ],
)
def test_chat_validation_400(client: httpx.Client, body: Dict[str, Any], code: str, param: str) -> None:
    error = standard_error(client.post("/chat/completions", json=body), 400, "invalid_request_error", code)
    assert error["param"] == param


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe"])
def test_chat_invalid_json_400(client: httpx.Client, content: bytes) -> None:
    response = client.post("/chat/completions", content=content, headers={"content-type": "application/json"})
    standard_error(response, 400, "invalid_request_error", "invalid_json")


def test_models(client: httpx.Client) -> None:
    response = client.get("/models")
    assert response.status_code == 200
    body = response.json()
    has_required(body, "ModelList")
    ids = [model["id"] for model in body["data"]]
    assert ids == [
        "meganova-ai/manta-mini-1.0",
        "meganova-ai/manta-flash-1.0",
        "meganova-ai/manta-pro-1.0",
        "Qwen/Qwen3-235B-A22B-Instruct-2507",
        "moonshotai/Kimi-K2-Thinking",
    ]
    for model in body["data"]:
        has_required(model, "ModelInfo")
        assert model["status"] in ("active", "beta", "deprecated", "disabled")
        assert isinstance(model["context_length"], int)
        # The live shape: prices are decimal strings per token, capabilities map a name to a boolean.
        pricing = model["pricing"]
        assert set(pricing) == {"prompt", "completion", "request", "image"}
        assert all(isinstance(value, str) and Decimal(value) >= 0 for value in pricing.values())
        assert Decimal(pricing["prompt"]) < Decimal("0.00001")
        assert model["capabilities"] and all(isinstance(value, bool) for value in model["capabilities"].values())
        assert model["capabilities"]["chat"] is True
    flash = body["data"][1]
    assert flash["pricing"]["prompt"] == "0.0000002" and flash["default"] is True
    assert flash["capabilities"]["tools"] is False and body["data"][2]["capabilities"]["tools"] is True
    kimi = body["data"][-1]
    assert "default" not in kimi and "architecture" not in kimi  # optional fields may be absent


@pytest.mark.parametrize("path", [FLASH, "meganova-ai%2Fmanta-flash-1.0"])
def test_get_model_with_a_slash_in_its_id(client: httpx.Client, path: str) -> None:
    response = client.get(f"/models/{path}")
    assert response.status_code == 200
    body = response.json()
    has_required(body, "ModelInfo")
    assert body["id"] == FLASH
    qwen = client.get("/models/Qwen/Qwen3-235B-A22B-Instruct-2507").json()
    assert qwen["id"] == "Qwen/Qwen3-235B-A22B-Instruct-2507"


def test_get_unknown_model_404(client: httpx.Client) -> None:
    error = standard_error(client.get("/models/meganova-ai/unknown"), 404, "not_found_error", "model_not_found")
    assert "meganova-ai/unknown" in error["message"]
    assert error["param"] == "model"


def test_balance(client: httpx.Client) -> None:
    body = client.get("/billing/balance").json()
    has_required(body, "BillingBalance")
    assert body == {"balance": 42.5, "currency": "USD", "status": "active"}


def usage(client: httpx.Client, **params: str) -> httpx.Response:
    params.setdefault("from", "2025-11-01T00:00:00Z")
    params.setdefault("to", "2025-11-08T00:00:00Z")
    return client.get("/usage/summary", params=params)


def test_usage_summary(client: httpx.Client) -> None:
    response = usage(client)
    assert response.status_code == 200
    body = response.json()
    has_required(body, "UsageSummary")
    assert "groups" not in body
    assert (body["from"], body["to"], body["currency"]) == ("2025-11-01T00:00:00Z", "2025-11-08T00:00:00Z", "USD")
    assert body["total_requests"] > 0
    assert body["total_tokens"] == body["prompt_tokens"] + body["completion_tokens"]
    assert usage(client).json() == body
    longer = usage(client, to="2025-11-15T00:00:00Z").json()
    assert longer["total_requests"] > body["total_requests"]
    offset = usage(client, **{"from": "2025-11-01T01:00:00+01:00", "to": "2025-11-08"}).json()
    assert offset["total_requests"] == body["total_requests"]
    empty = usage(client, to="2025-11-01T00:00:00Z").json()
    assert empty["total_requests"] == 0 and empty["cost"] == 0


@pytest.mark.parametrize("group_by", ["model", "user", "api_key", "day"])
def test_usage_group_by(client: httpx.Client, group_by: str) -> None:
    body = usage(client, group_by=group_by).json()
    groups = body["groups"]
    assert groups
    for group in groups:
        has_required(group, "UsageGroup")
    keys = [group["key"] for group in groups]
    assert len(set(keys)) == len(keys)
    if group_by == "day":
        assert keys == [f"2025-11-0{day}" for day in range(1, 8)]
    elif group_by == "model":
        assert set(keys) <= {"meganova-ai/manta-flash-1.0", "meganova-ai/manta-pro-1.0", "meganova-ai/manta-mini-1.0"}
    for field in ("requests", "prompt_tokens", "completion_tokens", "total_tokens"):
        total = body["total_requests"] if field == "requests" else body[field]
        assert sum(group[field] for group in groups) == total
    assert abs(sum(group["cost"] for group in groups) - body["cost"]) < 1e-5


def test_usage_filters(client: httpx.Client) -> None:
    everyone = usage(client, group_by="user").json()
    alice = usage(client, group_by="user", user_id="user_alice").json()
    assert [group["key"] for group in alice["groups"]] == ["user_alice"]
    assert 0 < alice["total_requests"] < everyone["total_requests"]
    keyed = usage(client, group_by="api_key", api_key="key_ci").json()
    assert [group["key"] for group in keyed["groups"]] == ["key_ci"]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-13-01T00:00:00Z"}, "to"),
        ({"from": "2025-11-08T00:00:00Z", "to": "2025-11-01T00:00:00Z"}, "to"),
        ({"group_by": "week"}, "group_by"),
    ],
)
def test_usage_validation_422(client: httpx.Client, params: Dict[str, str], param: str) -> None:
    error = standard_error(usage(client, **params), 422, "invalid_request_error", "validation_error")
    assert error["param"] == param


def test_usage_missing_from_422(client: httpx.Client) -> None:
    response = client.get("/usage/summary", params={"to": "2025-11-08T00:00:00Z"})
    assert standard_error(response, 422, "invalid_request_error", "validation_error")["param"] == "from"


# --- authentication, routing, headers -------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic dGVzdA==", "test"])
def test_401_without_the_key(server: MockServer, authorization: Any) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in (("GET", "/models"), ("POST", "/chat/completions"), ("GET", "/billing/balance")):
        response = httpx.request(method, server.url + path, headers=headers, json={})
        error = standard_error(response, 401, "authentication_error", "invalid_api_key")
        assert error["param"] is None


def test_no_key_check_when_api_key_is_none() -> None:
    with MockServer(api_key=None) as server:
        assert httpx.get(server.url + "/billing/balance").status_code == 200


def test_unknown_path_404_and_wrong_method_405(client: httpx.Client) -> None:
    standard_error(client.get("/nothing/here"), 404, "not_found_error", "not_found")
    standard_error(client.get("/models/"), 404, "not_found_error", "not_found")
    response = client.get("/chat/completions")
    standard_error(response, 405, "invalid_request_error", "method_not_allowed")
    assert response.headers["allow"] == "POST"
    standard_error(
        client.delete("/models/meganova-ai/manta-flash-1.0"), 405, "invalid_request_error", "method_not_allowed"
    )


def test_every_answer_has_a_request_id_and_a_length(client: httpx.Client) -> None:
    server_ids = set()
    for response in (
        client.get("/models"),
        client.get("/nope"),
        client.post("/chat/completions", content=b"{"),
        chat(client),
        client.get("/billing/balance", headers={"Authorization": "Bearer wrong"}),
    ):
        server_ids.add(response.headers["x-request-id"])
        assert int(response.headers["content-length"]) == len(response.content)
    assert len(server_ids) == 5


# --- streams --------------------------------------------------------------------------------------


def test_stream_format(client: httpx.Client) -> None:
    plain = chat(client).json()["choices"][0]["message"]["content"]
    with client.stream("POST", "/chat/completions", json={"model": FLASH, "messages": HELLO, "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in r.headers
        assert r.headers["x-request-id"].startswith("req_")
        raw = r.read()
    assert raw.endswith(b"data: [DONE]\n\n")
    assert all(block.startswith(b"data: ") for block in raw.split(b"\n\n") if block)
    events = events_of(raw)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    for chunk in chunks:
        has_required(chunk, "ChatCompletionChunk")
        assert chunk["object"] == "chat.completion.chunk" and chunk["model"] == FLASH
        for choice in chunk["choices"]:
            has_required(choice, "ChatChunkChoice")
    assert len({chunk["id"] for chunk in chunks}) == 1
    first, *words, finish, usage_chunk = chunks
    assert first["choices"][0]["delta"]["role"] == "assistant"
    assert first["choices"][0]["finish_reason"] is None
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in words)
    assert all(len(chunk["choices"][0]["delta"]["content"].split()) == 1 for chunk in words)
    text = first["choices"][0]["delta"].get("content", "") + "".join(c["choices"][0]["delta"]["content"] for c in words)
    assert text == plain
    assert finish["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert usage_chunk["choices"] == []
    has_required(usage_chunk["usage"], "TokenUsage")
    assert usage_chunk["usage"]["completion_tokens"] == len(words)


def test_stream_max_tokens(client: httpx.Client) -> None:
    raw = chat(client, stream=True, max_tokens=4).content
    chunks = [json.loads(event) for event in events_of(raw)[:-1]]
    assert len(chunks) == 1 + 4 + 2
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 4


# --- scripted answers -----------------------------------------------------------------------------


def test_enqueued_answers_are_used_once_in_order(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(status=429, headers={"Retry-After": "1"})
    server.enqueue(503, times=2)
    assert server.queued == 3
    response = client.get("/models")
    error = standard_error(response, 429, "rate_limit_error", "rate_limit_exceeded")
    assert error["param"] is None
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-request-id"].startswith("req_")
    standard_error(chat(client), 503, "server_error", "overloaded")
    standard_error(client.get("/billing/balance"), 503, "server_error", "overloaded")
    assert server.queued == 0
    assert client.get("/models").status_code == 200


def test_enqueued_answer_comes_before_the_key_check(server: MockServer) -> None:
    server.enqueue(body={"ok": True})
    assert httpx.get(server.url + "/anything").json() == {"ok": True}
    assert httpx.get(server.url + "/anything").status_code == 404


def test_enqueue_bodies_and_composition(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(body={"id": "x", "choices": []})
    server.enqueue(body="plain text")
    server.enqueue(
        status=418,
        headers={"X-Custom": "yes", "X-Request-Id": "req_mine"},
        body=b"\x00raw",
        content_type="application/x-thing",
    )
    server.enqueue(201)
    response = client.get("/models")
    assert response.json() == {"id": "x", "choices": []}
    assert response.headers["content-type"] == "application/json"
    response = client.get("/models")
    assert (response.text, response.headers["content-type"]) == ("plain text", "text/plain; charset=utf-8")
    response = client.get("/models")
    assert response.status_code == 418
    assert response.content == b"\x00raw"
    assert response.headers["content-type"] == "application/x-thing"
    assert (response.headers["x-custom"], response.headers["x-request-id"]) == ("yes", "req_mine")
    response = client.get("/models")
    assert (response.status_code, response.content) == (201, b"")


def test_enqueue_headers_only_changes_the_normal_answer(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(headers={"X-Extra": "1", "Retry-After": "0"})
    response = client.get("/billing/balance")
    assert response.json()["balance"] == 42.5
    assert (response.headers["x-extra"], response.headers["retry-after"]) == ("1", "0")


def test_enqueue_rejects_bad_options(server: MockServer) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        server.enqueue(fault="meteor")
    with pytest.raises(ValueError):
        server.enqueue(body="x", stream_events=["data: 1"])
    with pytest.raises(ValueError):
        server.enqueue(fault="reset", status=500)
    with pytest.raises(ValueError):
        server.enqueue(delay=-1)
    with pytest.raises(ValueError):
        server.enqueue(times=0)
    assert server.queued == 0
    assert "reset" in FAULTS and "html_502" in FAULTS


def test_status_520(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(status=520)
    response = client.get("/models")
    assert response.reason_phrase == "Unknown Error"
    standard_error(response, 520, "server_error", "http_520")


def test_html_502(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(fault="html_502")
    response = chat(client)
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in response.text


def test_malformed_json_200(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(fault="malformed_json")
    response = chat(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()


def test_large_response(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(fault="large_response", size=3_000_000)
    response = chat(client)
    body = response.json()
    has_required(body, "ChatResponse")
    assert len(body["choices"][0]["message"]["content"]) == 3_000_000
    assert int(response.headers["content-length"]) == len(response.content) > 3_000_000


def test_delay_before_headers(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(delay=0.2)
    started = time.monotonic()
    assert client.get("/billing/balance").status_code == 200
    assert time.monotonic() - started >= 0.2
    server.enqueue(delay=2)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/billing/balance", timeout=0.1)
    assert client.get("/billing/balance").status_code == 200


def test_reset_before_headers(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(fault="reset")
    with pytest.raises(httpx.TransportError):
        client.get("/models")
    server.enqueue(fault="reset_before_headers")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
    assert client.get("/models").status_code == 200
    assert len(server.requests) == 3


def test_close_before_headers(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(fault="close")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/models")


def test_drop_after_bytes(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(drop_after_bytes=10)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/models")
    server.enqueue(drop_after_bytes=0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test\r\n\r\n")
        received = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and received.endswith(b"\r\n\r\n")


def read_stream(client: httpx.Client, received: List[bytes]) -> None:
    """Streams a chat answer into `received`, piece by piece (what arrived is kept when it fails)."""
    body = {"model": FLASH, "messages": HELLO, "stream": True}
    with client.stream("POST", "/chat/completions", json=body) as response:
        assert response.status_code == 200
        for piece in response.iter_bytes():
            received.append(piece)


def test_drop_after_events(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(drop_after_events=3)
    received: List[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError):
        read_stream(client, received)
    assert len(events_of(b"".join(received))) == 3


def test_chunk_delay(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(chunk_delay=0.03)
    started = time.monotonic()
    raw = chat(client, stream=True, max_tokens=2).content
    elapsed = time.monotonic() - started
    assert len(events_of(raw)) == 6
    assert elapsed >= 5 * 0.03 * 0.9


def test_empty_stream(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(fault="empty_stream")
    response = chat(client, stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.content == b""


def test_error_event_mid_stream(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(error_after_events=2, error={"message": "overloaded", "code": "overloaded"})
    events = events_of(chat(client, stream=True).content)
    assert len(events) == 3
    assert "choices" in json.loads(events[1])
    assert json.loads(events[2]) == {
        "error": {"message": "overloaded", "type": "server_error", "code": "overloaded", "param": None}
    }
    server.enqueue(fault="stream_error")
    events = events_of(chat(client, stream=True).content)
    assert json.loads(events[-1])["error"]["type"] == "server_error"
    assert "[DONE]" not in events


def test_stream_without_done(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(fault="no_done")
    events = events_of(chat(client, stream=True).content)
    assert json.loads(events[-1])["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in json.loads(event) for event in events)
    server.enqueue(done=False)
    assert len(events_of(chat(client, stream=True).content)) == len(events)


def test_stream_comments_and_crlf(server: MockServer, client: httpx.Client) -> None:
    normal = events_of(chat(client, stream=True, max_tokens=3).content)
    server.enqueue(fault="sse_comments_crlf")
    raw = chat(client, stream=True, max_tokens=3).content
    assert raw.count(b": ping\r\n\r\n") == len(normal)
    assert b"\r\n\r\n" in raw and raw.replace(b"\r\n", b"").count(b"\n") == 0
    strip = re.compile(r'"(id|created)":"?[^,"]*"?,')
    assert [strip.sub("", event) for event in events_of(raw)] == [strip.sub("", event) for event in normal]


def test_custom_stream_events(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(stream_events=[{"id": "c1", "choices": []}, ": keep-alive", b"data: raw\n\n", "data: [DONE]"])
    response = chat(client, stream=True)
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.content == b'data: {"id":"c1","choices":[]}\n\n: keep-alive\n\ndata: raw\n\ndata: [DONE]\n\n'
    server.enqueue(status=500, stream_events=["data: 1", "data: 2"], chunk_delay=0.01, line_ending="\r\n")
    response = chat(client)
    assert (response.status_code, response.content) == (500, b"data: 1\r\n\r\ndata: 2\r\n\r\n")


# --- recording and connections --------------------------------------------------------------------


def test_requests_are_recorded(server: MockServer, client: httpx.Client) -> None:
    server.enqueue(fault="reset")
    with pytest.raises(httpx.TransportError):
        chat(client, temperature=0.5)
    client.get("/usage/summary", params={"from": "2025-11-01", "to": "2025-11-02", "group_by": "day"})
    client.post("/chat/completions", content=b"not json", headers={"X-Trace": "abc"})
    first, second, third = server.requests
    assert (first.method, first.path, first.query) == ("POST", "/v1/chat/completions", {})
    assert first.json == {"model": FLASH, "messages": HELLO, "temperature": 0.5}
    assert json.loads(first.body) == first.json
    assert first.headers["authorization"] == first.headers["AUTHORIZATION"] == f"Bearer {KEY}"
    assert "Content-Type" in first.headers
    assert (second.method, second.path, second.body, second.json) == ("GET", "/v1/usage/summary", b"", None)
    assert second.query == {"from": "2025-11-01", "to": "2025-11-02", "group_by": "day"}
    assert (third.body, third.json, third.headers.get("x-trace")) == (b"not json", None, "abc")
    server.enqueue(500)
    server.reset()
    assert server.requests == [] and server.queued == 0
    assert client.get("/models").status_code == 200
    assert len(server.requests) == 1


def test_connections_accepted_counts_reuse(server: MockServer) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.url, headers=headers) as one:
        for _ in range(5):
            assert one.get("/models").status_code == 200
        assert chat(one, stream=True).status_code == 200
        assert chat(one).status_code == 200
    assert server.connections_accepted == 1
    assert {request.connection_id for request in server.requests} == {1}
    with httpx.Client(base_url=server.url, headers=headers) as two:
        two.get("/models")
    assert server.connections_accepted == 2
    assert server.requests[-1].connection_id == 2
    httpx.get(server.url + "/models", headers={**headers, "Connection": "close"})
    assert server.connections_accepted == 3
    server.reset()
    assert server.connections_accepted == 0


def test_connection_close_is_honoured(server: MockServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
    head = received.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nConnection: close" in head and head.startswith(b"HTTP/1.1 401")


def test_chunked_request_body_and_expect_continue(server: MockServer) -> None:
    body = json.dumps({"model": FLASH, "messages": HELLO}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test\r\n"
            b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        assert sock.recv(100).startswith(b"HTTP/1.1 200 OK\r\n")
    assert server.requests[0].json == {"model": FLASH, "messages": HELLO}


def test_many_concurrent_connections(server: MockServer) -> None:
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(520)]
    try:
        for sock in sockets:
            sock.sendall(b"GET /v1/billing/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test\r\n\r\n")
        for sock in sockets:
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
        assert server.connections_accepted == 520
    finally:
        for sock in sockets:
            sock.close()


def test_concurrent_clients_are_thread_safe(server: MockServer) -> None:
    server.enqueue(status=500, times=40)
    statuses: List[int] = []
    lock = threading.Lock()

    def work() -> None:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as http:
            for _ in range(20):
                status = http.get("/billing/balance").status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 120 + [500] * 40
    assert len(server.requests) == 160
    assert len({request.connection_id for request in server.requests}) == server.connections_accepted == 8


def test_required_fields_match_the_spec() -> None:
    yaml = pytest.importorskip("yaml")
    path = os.environ.get("MEGANOVA_SPEC") or os.path.join(
        os.path.dirname(__file__), os.pardir, "openapi", "meganova.yaml"
    )
    if not os.path.exists(path):
        pytest.skip("the spec is not at hand")
    with open(path, encoding="utf-8") as file:
        schemas = yaml.safe_load(file)["components"]["schemas"]
    for name, required in REQUIRED.items():
        assert schemas[name].get("required", []) == required, name


def test_pytest_plugin_fixture_gives_a_running_server(meganova_server: MockServer) -> None:
    """The `meganova_server` fixture comes from the plugin the installed package registers."""
    answer = httpx.get(meganova_server.url + "/billing/balance", headers={"Authorization": "Bearer test"})
    assert answer.status_code == 200 and answer.json()["currency"] == "USD"


# --- the operations beyond chat (raw httpx over loopback) -------------------------------------------

EMBED = "BAAI/bge-m3"
AGENT = "agent_test"


def root(server: MockServer) -> httpx.Client:
    """A client on the server's root (no /v1), with the API key."""
    return httpx.Client(base_url=server.root_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5)


def test_root_url_is_the_url_without_v1(server: MockServer) -> None:
    assert server.url == server.root_url + "/v1"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.root_url)


def test_embeddings_floats(client: httpx.Client) -> None:
    response = client.post("/embeddings", json={"model": EMBED, "input": ["The harbor at night", "A ferry horn"]})
    assert response.status_code == 200
    body = response.json()
    has_required(body, "EmbeddingResponse")
    assert (body["object"], body["model"]) == ("list", EMBED)
    assert [item["index"] for item in body["data"]] == [0, 1]
    for item in body["data"]:
        has_required(item, "Embedding")
        assert item["object"] == "embedding"
        vector = item["embedding"]
        assert len(vector) == 1024
        assert abs(sum(value * value for value in vector) - 1) < 1e-5
        # float32-exact, so that the float and base64 forms carry the same numbers
        assert list(struct.unpack("<1024f", struct.pack("<1024f", *vector))) == vector
    assert body["data"][0]["embedding"] != body["data"][1]["embedding"]
    has_required(body["usage"], "EmbeddingUsage")
    assert body["usage"] == {"prompt_tokens": 7, "total_tokens": 7}  # words
    again = client.post("/embeddings", json={"model": EMBED, "input": "The harbor at night"}).json()
    assert again["data"][0]["embedding"] == body["data"][0]["embedding"]  # deterministic, per input


def test_embeddings_dimensions_base64_and_tokens(client: httpx.Client) -> None:
    floats = client.post("/embeddings", json={"model": EMBED, "input": "hi", "dimensions": 8}).json()
    vector = floats["data"][0]["embedding"]
    assert len(vector) == 8
    encoded = client.post(
        "/embeddings", json={"model": EMBED, "input": "hi", "dimensions": 8, "encoding_format": "base64"}
    ).json()
    text = encoded["data"][0]["embedding"]
    assert isinstance(text, str)
    assert list(struct.unpack("<8f", base64.b64decode(text))) == vector  # little-endian float32, as OpenAI
    tokens = client.post("/embeddings", json={"model": EMBED, "input": [[1, 2, 3], [4, 5]]}).json()
    assert len(tokens["data"]) == 2 and tokens["usage"]["prompt_tokens"] == 5
    single = client.post("/embeddings", json={"model": EMBED, "input": [1, 2, 3]}).json()
    assert single["data"][0]["embedding"] == tokens["data"][0]["embedding"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": EMBED}, "input"),
        ({"model": EMBED, "input": []}, "input"),
        ({"model": EMBED, "input": ["a", 1]}, "input"),
        ({"model": EMBED, "input": [True]}, "input"),
        ({"model": EMBED, "input": {"text": "a"}}, "input"),
        ({"input": "a"}, "model"),
        ({"input": "a", "model": EMBED, "encoding_format": "int8"}, "encoding_format"),
        ({"input": "a", "model": EMBED, "dimensions": 0}, "dimensions"),
        ({"input": "a", "model": EMBED, "dimensions": "8"}, "dimensions"),
    ],
)
def test_embeddings_validation_422(client: httpx.Client, body: Dict[str, Any], param: str) -> None:
    error = standard_error(client.post("/embeddings", json=body), 422, "invalid_request_error", "validation_error")
    assert error["param"] == param


def png_size(data: bytes) -> tuple:
    """(width, height) of a PNG, checking its signature and every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, kinds, idat = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        payload = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + payload) == crc
        kinds.append(kind)
        if kind == b"IDAT":
            idat += payload
        position += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    width, height = struct.unpack(">II", data[16:24])
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)
    return width, height


def test_images_b64_json_is_a_valid_png(client: httpx.Client) -> None:
    body = {"model": "black-forest-labs/FLUX.1-dev", "prompt": "A lighthouse", "size": "1024x768", "n": 2, "seed": 7}
    response = client.post("/images/generations", json=body)
    assert response.status_code == 200
    result = response.json()
    has_required(result, "ImagesResponse")
    assert isinstance(result["created"], int)
    assert len(result["data"]) == 2
    first, second = (base64.b64decode(image["b64_json"]) for image in result["data"])
    assert png_size(first) == png_size(second) == (1024, 768)  # the requested size
    assert first != second
    assert result["data"][0]["revised_prompt"] == "A lighthouse"
    assert client.post("/images/generations", json=body).json()["data"] == result["data"]  # deterministic


def test_images_url(client: httpx.Client) -> None:
    body = {"model": "ByteDance/SeedDream-4-5", "prompt": "A lighthouse", "response_format": "url", "width": 5}
    (image,) = client.post("/images/generations", json=body).json()["data"]
    assert image["url"].startswith("https://cdn.meganova.test/images/") and image["url"].endswith(".png")
    assert "b64_json" not in image


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m"}, "prompt"),
        ({"prompt": "p"}, "model"),
        ({"prompt": "", "model": "m"}, "prompt"),
        ({"prompt": "p", "model": "m", "size": "1024*768"}, "size"),
        ({"prompt": "p", "model": "m", "n": 0}, "n"),
        ({"prompt": "p", "model": "m", "response_format": "png"}, "response_format"),
        ({"prompt": "p", "model": "m", "guidance_scale": "high"}, "guidance_scale"),
    ],
)
def test_images_validation_422(client: httpx.Client, body: Dict[str, Any], param: str) -> None:
    response = client.post("/images/generations", json=body)
    assert standard_error(response, 422, "invalid_request_error", "validation_error")["param"] == param


AUDIO = b"ID3\x03\x00" + bytes(range(256)) * 40


def transcribe(client: httpx.Client, audio: bytes = AUDIO, **fields: str) -> httpx.Response:
    fields.setdefault("model", "Systran/faster-whisper-large-v3")
    return client.post("/audio/transcriptions", files={"file": ("recording.mp3", audio, "audio/mpeg")}, data=fields)


def test_transcription_json(server: MockServer, client: httpx.Client) -> None:
    response = transcribe(client)
    assert response.status_code == 200
    body = response.json()
    has_required(body, "Transcription")
    assert set(body) == {"text"} and body["text"].endswith(".")
    assert transcribe(client).json() == body  # the same bytes, the same text
    texts = {transcribe(client, AUDIO + bytes([n])).json()["text"] for n in range(12)}
    assert len(texts) > 1  # another file, (usually) another text
    request = server.requests[0]
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert AUDIO in request.body


def test_transcription_formats(client: httpx.Client) -> None:
    text = transcribe(client).json()["text"]
    plain = transcribe(client, response_format="text")
    assert plain.headers["content-type"] == "text/plain; charset=utf-8" and plain.text == text
    srt = transcribe(client, response_format="srt").text
    assert srt.startswith("1\n00:00:00,000 --> 00:00:") and srt.rstrip().endswith(text)
    vtt = transcribe(client, response_format="vtt").text
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ") and vtt.rstrip().endswith(text)
    verbose = transcribe(client, response_format="verbose_json", language="fr").json()
    assert verbose["text"] == text and verbose["language"] == "fr"
    assert verbose["duration"] == round(len(AUDIO) / 16000, 2)
    assert verbose["segments"][0]["text"] == text


def test_transcription_validation(client: httpx.Client) -> None:
    no_file = client.post("/audio/transcriptions", files={"other": ("a.mp3", b"x")}, data={"model": "m"})
    assert standard_error(no_file, 422, "invalid_request_error", "validation_error")["param"] == "file"
    no_model = client.post("/audio/transcriptions", files={"file": ("a.mp3", b"x")})
    assert standard_error(no_model, 422, "invalid_request_error", "validation_error")["param"] == "model"
    bad_format = transcribe(client, response_format="mp4")
    assert standard_error(bad_format, 422, "invalid_request_error", "validation_error")["param"] == "response_format"
    bad_temperature = transcribe(client, temperature="hot")
    assert standard_error(bad_temperature, 422, "invalid_request_error", "validation_error")["param"] == "temperature"
    as_json = client.post("/audio/transcriptions", json={"file": "x", "model": "m"})
    standard_error(as_json, 400, "invalid_request_error", "invalid_multipart")
    cut = client.post(
        "/audio/transcriptions",
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    standard_error(cut, 400, "invalid_request_error", "invalid_multipart")


def test_transcription_parses_a_hand_written_multipart_body(client: httpx.Client) -> None:
    body = (
        b"preamble\r\n--XyZ\r\n"
        b'Content-Disposition: form-data; name="model"\r\n\r\nSystran/faster-whisper-large-v3\r\n'
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="file"; filename="r.mp3"\r\nContent-Type: audio/mpeg\r\n\r\n'
        + AUDIO
        + b"\r\n--XyZ--\r\n"
    )
    response = client.post(
        "/audio/transcriptions", content=body, headers={"Content-Type": 'multipart/form-data; boundary="XyZ"'}
    )
    assert response.json() == transcribe(client).json()


def speech(client: httpx.Client, **body: Any) -> httpx.Response:
    body.setdefault("model", "hexgrad/Kokoro-82M")
    body.setdefault("input", "Welcome back, night owl.")
    body.setdefault("voice", "af_heart")
    return client.post("/audio/speech", json=body)


def test_speech_wav_mp3_pcm(client: httpx.Client) -> None:
    response = speech(client, response_format="wav")
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    with wave.open(BytesIO(response.content)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 24000)
        frames = audio.getnframes()
        assert frames == int(0.8 * 24000)  # 0.2 s per word
        samples = struct.unpack(f"<{frames}h", audio.readframes(frames))
    assert max(samples) > 5000  # a tone, not silence
    pcm = speech(client, response_format="pcm")
    assert pcm.headers["content-type"] == "audio/pcm" and pcm.content == response.content[44:]
    mp3 = speech(client)  # mp3 is the default
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert len(mp3.content) % 417 == 0 and mp3.content[:4] == b"\xff\xfb\x90\xc4"
    assert all(mp3.content[n : n + 4] == b"\xff\xfb\x90\xc4" for n in range(0, len(mp3.content), 417))
    flac = speech(client, response_format="flac")
    assert flac.headers["content-type"] == "audio/wav" and flac.content == response.content  # documented
    assert speech(client, voice="other", response_format="wav").content != response.content


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": None}, "input"),
        ({"voice": ""}, "voice"),
        ({"model": None}, "model"),
        ({"response_format": "ogg"}, "response_format"),
        ({"speed": 9}, "speed"),
    ],
)
def test_speech_validation_422(client: httpx.Client, body: Dict[str, Any], param: str) -> None:
    full = {"model": "m", "input": "hi", "voice": "v", **body}
    full = {name: value for name, value in full.items() if value is not None}
    response = client.post("/audio/speech", json=full)
    assert standard_error(response, 422, "invalid_request_error", "validation_error")["param"] == param


def test_rerank(client: httpx.Client) -> None:
    documents = [
        "The lighthouse has three lanterns out.",
        "The noodle stand on Pier Nine is open late.",
        {"text": "Where the noodle stand is: Pier Nine.", "id": "faq-1"},
    ]
    body = {"model": "BAAI/bge-reranker-v2-m3", "query": "Where is the noodle stand?", "documents": documents}
    response = client.post("/rerank", json=body)
    assert response.status_code == 200
    result = response.json()
    has_required(result, "RerankResponse")
    for item in result["results"]:
        has_required(item, "RerankResult")
    assert [item["index"] for item in result["results"]] == [2, 1, 0]
    assert [item["relevance_score"] for item in result["results"]] == [1.0, 0.8, 0.2]  # shares of the 5 query words
    assert result["results"][0]["document"] == documents[2]
    assert result["results"][1]["document"] == {"text": documents[1]}
    assert result["model"] == "BAAI/bge-reranker-v2-m3" and result["usage"]["total_tokens"] > 0
    top = client.post("/rerank", json={**body, "top_n": 1, "return_documents": False}).json()["results"]
    assert top == [{"index": 2, "relevance_score": 1.0}]
    missing = client.post("/rerank", json={"model": "m", "query": "q"})
    assert standard_error(missing, 422, "invalid_request_error", "validation_error")["param"] == "documents"
    wrong = client.post("/rerank", json={"model": "m", "query": "q", "documents": [1]})
    assert standard_error(wrong, 422, "invalid_request_error", "validation_error")["param"] == "documents"


def test_video_generation_advances_with_each_poll(client: httpx.Client) -> None:
    body = {"model": "Byteplus/seedance-1-0-pro-250528", "prompt": "A ferry at night", "n_seconds": 4}
    started = client.post("/videos/generations", json=body)
    assert started.status_code == 200
    job = started.json()
    has_required(job, "VideoGeneration")
    assert (job["status"], job["object"], job["model"]) == ("queued", "video.generation", body["model"])
    assert job["id"].startswith("vgen_") and isinstance(job["created_at"], int) and "url" not in job
    statuses = []
    for _ in range(4):
        polled = client.get(f"/videos/generations/{job['id']}").json()
        has_required(polled, "VideoGeneration")
        statuses.append(polled["status"])
    assert statuses == ["in_progress", "completed", "completed", "completed"]
    assert polled["url"] == f"https://cdn.meganova.test/videos/{job['id']}.mp4"
    assert polled["created_at"] == job["created_at"] and polled["estimated_cost"] == 0.2


def test_video_generation_that_fails(client: httpx.Client) -> None:
    job = client.post("/videos/generations", json={"model": "m", "prompt": "Please FAIL now"}).json()
    statuses = [client.get(f"/videos/generations/{job['id']}").json() for _ in range(3)]
    assert [item["status"] for item in statuses] == ["in_progress", "failed", "failed"]
    assert statuses[-1]["error"]["code"] == "generation_failed" and "url" not in statuses[-1]


def test_video_generation_errors(server: MockServer, client: httpx.Client) -> None:
    error = standard_error(client.get("/videos/generations/vgen_nope"), 404, "not_found_error", "generation_not_found")
    assert error["param"] == "generation_id"
    missing = client.post("/videos/generations", json={"model": "m"})
    assert standard_error(missing, 422, "invalid_request_error", "validation_error")["param"] == "prompt"
    bad = client.post("/videos/generations", json={"model": "m", "prompt": "p", "size": "big"})
    assert standard_error(bad, 422, "invalid_request_error", "validation_error")["param"] == "size"
    job = client.post("/videos/generations", json={"model": "m", "prompt": "p"}).json()
    server.reset()  # forgets the jobs too
    standard_error(client.get(f"/videos/generations/{job['id']}"), 404, "not_found_error", "generation_not_found")


def test_serverless_models_on_the_root(server: MockServer, client: httpx.Client) -> None:
    with root(server) as http:
        response = http.get("/api/v1/serverless/models/filter", params={"modality": "text_generation"})
        assert response.status_code == 200
        body = response.json()
        has_required(body, "ServerlessModelsResponse")
        page = body["data"]
        has_required(page, "ServerlessModelsPage")
        for model in page["models"]:
            has_required(model, "ServerlessModel")
            assert model["modality"] == "text_generation"
        assert page["count"] == len(page["models"]) == 5
        assert page["models"][1]["model_name"] == "meganova-ai/manta-flash-1.0"
        assert page["models"][1]["cost_per_1k_input"] == 0.0002 and page["models"][1]["tier2+_require"] is False
        assert page["tag_counts"]["manta"] == 3
        images = http.get("/api/v1/serverless/models/filter", params={"modality": "text_to_image"}).json()["data"]
        assert [m["model_name"] for m in images["models"]] == [
            "ByteDance/SeedDream-4-5",
            "black-forest-labs/FLUX.1-dev",
        ]
        no_counts = http.get("/api/v1/serverless/models/filter", params={"include_tag_counts": "false"}).json()
        assert "tag_counts" not in no_counts["data"] and no_counts["data"]["count"] == 10
        either = {"highlight": "new", "use_case": "coding", "include_tag_counts": "false"}
        both = {**either, "filter_logic": "and"}
        assert http.get("/api/v1/serverless/models/filter", params=either).json()["data"]["count"] == 5
        (only,) = http.get("/api/v1/serverless/models/filter", params=both).json()["data"]["models"]
        assert only["model_name"] == "moonshotai/Kimi-K2-Thinking"
        found = http.get("/api/v1/serverless/models/filter", params={"search": "FLASH"}).json()["data"]
        assert [m["model_name"] for m in found["models"]] == ["meganova-ai/manta-flash-1.0"]
        bad = http.get("/api/v1/serverless/models/filter", params={"filter_logic": "xor"})
        assert standard_error(bad, 422, "invalid_request_error", "validation_error")["param"] == "filter_logic"
        bad = http.get("/api/v1/serverless/models/filter", params={"include_tag_counts": "maybe"})
        assert standard_error(bad, 422, "invalid_request_error", "validation_error")["param"] == "include_tag_counts"
        unauthenticated = httpx.get(server.root_url + "/api/v1/serverless/models/filter")
        standard_error(unauthenticated, 401, "authentication_error", "invalid_api_key")
    standard_error(client.get("/api/v1/serverless/models/filter"), 404, "not_found_error", "not_found")  # not under /v1


def test_user_instance_billings(client: httpx.Client) -> None:
    body = client.get("/billing/user-instance-billings").json()
    has_required(body, "InstanceBillings")
    for item in body["data"]:
        has_required(item, "InstanceBilling")
    first = body["data"][0]
    assert first == {
        "vm_access_info_id": 1201,
        "running_hours": 12.5,
        "fee_accumulated": 18.75,
        "tax_rate": 0.1,
        "fee_accumulated_taxed": 20.625,
        "product_status": "running",
    }
    assert body["total_cost"] == round(sum(item["fee_accumulated_taxed"] for item in body["data"]), 6) == 25.575
    assert (body["message"], body["status"]) == ("success", "success")


def test_usage_time_range(client: httpx.Client) -> None:
    params = {"start_time": "2025-11-01T00:00:00Z", "end_time": "2025-11-04T00:00:00Z"}
    response = client.get("/usage/time_range", params=params)
    assert response.status_code == 200
    body = response.json()
    has_required(body, "UsageTimeRange")
    assert [(row["date"], row["model"]) for row in body["data"]] == [
        (day, model)
        for day in ("2025-11-01", "2025-11-02", "2025-11-03")
        for model in ("meganova-ai/manta-flash-1.0", "meganova-ai/manta-pro-1.0")
    ]
    assert all(isinstance(row["tokens"], int) and row["tokens"] > 0 and row["cost"] > 0 for row in body["data"])
    assert (body["message"], body["status"]) == ("success", "success")
    assert client.get("/usage/time_range", params=params).json() == body
    team = client.get("/usage/time_range", params={**params, "team_id": "team_7"}).json()
    assert [row["tokens"] for row in team["data"]] != [row["tokens"] for row in body["data"]]
    empty = client.get("/usage/time_range", params={**params, "end_time": params["start_time"]}).json()
    assert empty["data"] == []
    for bad, param in (
        ({"start_time": params["start_time"]}, "end_time"),
        ({**params, "start_time": "soon"}, "start_time"),
        ({"start_time": params["end_time"], "end_time": params["start_time"]}, "end_time"),
    ):
        response = client.get("/usage/time_range", params=bad)
        assert standard_error(response, 422, "invalid_request_error", "validation_error")["param"] == param


def agent(server: MockServer, key: str = AGENT) -> httpx.Client:
    """A client on the Studio agent paths: no Authorization header, the key in the path."""
    return httpx.Client(base_url=f"{server.root_url}/agents/v1/{key}", timeout=5)


def test_agent_info(server: MockServer) -> None:
    with agent(server) as http:
        response = http.get("/info")
        assert response.status_code == 200
        info = response.json()
        has_required(info, "AgentInfo")
        assert info["welcome_message"] == "Hi, I am Luna. Ask me anything about Neon Harbor."
        assert (info["id"], info["name"], info["is_available"]) == ("agt_test", "Luna", True)
    assert "authorization" not in server.requests[0].headers


def test_agent_keys(server: MockServer) -> None:
    with agent(server, "agent_unknown") as http:
        error = standard_error(http.get("/info"), 404, "not_found_error", "agent_not_found")
        assert error["param"] == "agent_key"
    with agent(server, "sk-test") as http:
        standard_error(http.post("/chat", json={"message": "hi"}), 401, "authentication_error", "invalid_agent_key")
    with agent(server) as http:
        standard_error(http.get("/chat"), 405, "invalid_request_error", "method_not_allowed")
    with MockServer(agent_keys=["agent_a", "agent_b"]) as other, agent(other, "agent_b") as http:
        assert http.get("/info").json()["id"] == "agt_b"
        assert other.agent_keys == frozenset({"agent_a", "agent_b"})
    with MockServer(agent_keys=None) as anyone, agent(anyone, "agent_whatever") as http:
        assert http.get("/info").status_code == 200


def test_agent_chat_keeps_the_conversation(server: MockServer) -> None:
    with agent(server) as http:
        first = http.post("/chat", json={"message": "Hello!"}).json()
        has_required(first, "AgentChatResponse")
        assert first["response"] and first["pending_tool_call"] is None and first["status"] == "completed"
        assert (first["agent_id"], first["agent_name"], first["memories_used"]) == ("agt_test", "Luna", 0)
        assert first["conversation_id"].startswith("conv_") and first["message_id"].startswith("msg_")
        assert http.post("/chat", json={"message": "Hello!"}).json()["conversation_id"] != first["conversation_id"]
        follow = http.post(
            "/chat",
            json={
                "message": "Hello!",
                "conversation_id": first["conversation_id"],
                "user_identifier": "u@example.com",
                "user_identifier_type": "email",
                "extra_data": {"page": "/pricing"},
            },
        ).json()
        assert follow["conversation_id"] == first["conversation_id"]
        assert follow["response"] != first["response"]  # the second turn of the conversation
        assert follow["memories_used"] == 1
        for body, param in (
            ({}, "message"),
            ({"message": 3}, "message"),
            ({"message": "x", "extra_data": []}, "extra_data"),
        ):
            response = http.post("/chat", json=body)
            assert standard_error(response, 422, "invalid_request_error", "validation_error")["param"] == param


@pytest.mark.parametrize(("action", "needle"), [("approve", "is booked"), ("reject", "will not book")])
def test_agent_tool_call_approval(server: MockServer, action: str, needle: str) -> None:
    with agent(server) as http:
        asked = http.post("/chat", json={"message": "Use your tool to book a table"}).json()
        pending = asked["pending_tool_call"]
        has_required(pending, "PendingToolCall")
        assert asked["status"] == "pending_approval"
        assert pending["tool_name"] == "book_table" and pending["tool_arguments"]["guests"] == 2
        assert pending["description"]
        answer = http.post("/confirm-tool", json={"approval_id": pending["approval_id"], "action": action})
        assert answer.status_code == 200
        reply = answer.json()
        has_required(reply, "AgentChatResponse")
        assert needle in reply["response"] and reply["conversation_id"] == asked["conversation_id"]
        assert reply["pending_tool_call"] is None
        again = http.post("/confirm-tool", json={"approval_id": pending["approval_id"], "action": action})
        assert standard_error(again, 404, "not_found_error", "approval_not_found")["param"] == "approval_id"
        bad = http.post("/confirm-tool", json={"approval_id": "apr_x", "action": "maybe"})
        assert standard_error(bad, 422, "invalid_request_error", "validation_error")["param"] == "action"


def test_agent_chat_completions_json_and_stream(server: MockServer) -> None:
    messages = [{"role": "user", "content": "Hello!"}]
    with agent(server) as http:
        plain = http.post("/chat/completions", json={"messages": messages, "max_tokens": 50})
        body = plain.json()
        has_required(body, "ChatResponse")
        assert body["model"] == "agt_test" and body["id"].startswith("chatcmpl-agt-")
        content = body["choices"][0]["message"]["content"]
        with http.stream("POST", "/chat/completions", json={"messages": messages, "stream": True}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            raw = response.read()
        events = events_of(raw)
        assert events[-1] == "[DONE]"
        chunks = [json.loads(event) for event in events[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        assert text == content
        missing = http.post("/chat/completions", json={"messages": []})
        assert standard_error(missing, 400, "invalid_request_error", "invalid_messages")["param"] == "messages"


# --- fault scripts apply to the next request, whatever its path ---------------------------------------


def test_429_then_success_on_new_endpoints(server: MockServer, client: httpx.Client) -> None:
    calls = [
        lambda: client.post("/embeddings", json={"model": EMBED, "input": "hi"}),
        lambda: transcribe(client),
        lambda: speech(client),
        lambda: client.get("/billing/user-instance-billings"),
        lambda: httpx.get(
            server.root_url + "/api/v1/serverless/models/filter", headers={"Authorization": "Bearer test"}
        ),
        lambda: httpx.post(server.root_url + "/agents/v1/agent_test/chat", json={"message": "Hello!"}),
    ]
    for call in calls:
        server.enqueue(status=429, headers={"Retry-After": "0"})
        limited = call()
        standard_error(limited, 429, "rate_limit_error", "rate_limit_exceeded")
        assert limited.headers["retry-after"] == "0"
        assert call().status_code == 200
    assert server.queued == 0


def test_reset_and_502_on_new_endpoints(server: MockServer, client: httpx.Client) -> None:
    job = client.post("/videos/generations", json={"model": "m", "prompt": "p"}).json()
    server.enqueue(fault="reset")
    with pytest.raises(httpx.TransportError):
        client.get(f"/videos/generations/{job['id']}")
    assert (
        client.get(f"/videos/generations/{job['id']}").json()["status"] == "in_progress"
    )  # the reset one was not served
    server.enqueue(fault="reset")
    with pytest.raises(httpx.TransportError):
        client.post("/images/generations", json={"model": "m", "prompt": "p"})
    server.enqueue(fault="html_502")
    response = client.post("/rerank", json={"model": "m", "query": "q", "documents": ["d"]})
    assert response.status_code == 502 and "<title>502 Bad Gateway</title>" in response.text
    server.enqueue(fault="reset")
    with agent(server) as http, pytest.raises(httpx.TransportError):
        http.get("/info")
    assert client.post("/rerank", json={"model": "m", "query": "q", "documents": ["d"]}).status_code == 200


def test_stream_faults_on_agent_completions(server: MockServer) -> None:
    body = {"messages": [{"role": "user", "content": "Hello!"}], "stream": True}
    server.enqueue(drop_after_events=2)
    received: List[bytes] = []
    with agent(server) as http:
        with pytest.raises(httpx.RemoteProtocolError), http.stream("POST", "/chat/completions", json=body) as response:
            for piece in response.iter_bytes():
                received.append(piece)
        assert len(events_of(b"".join(received))) == 2
        server.enqueue(fault="no_done")
        events = events_of(http.post("/chat/completions", json=body).content)
        assert "[DONE]" not in events and json.loads(events[-1])["choices"][0]["finish_reason"] == "stop"


def test_state_is_shared_across_connections(server: MockServer) -> None:
    """Video jobs and conversations live in the server, not in a connection."""
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer test"}) as one:
        job = one.post("/videos/generations", json={"model": "m", "prompt": "p"}).json()
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer test"}) as two:
        assert two.get(f"/videos/generations/{job['id']}").json()["status"] == "in_progress"
    assert server.connections_accepted == 2


# --- the model: tool calls, structured outputs, logprobs, characters, unknown models ----------------

jsonschema = pytest.importorskip("jsonschema")

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather forecast for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 1},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": False,
        },
    },
}
CLOCK = {
    "type": "function",
    "function": {
        "name": "lookupTime",  # camelCase: "lookup", "time"
        "description": "The local time in a timezone",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {"type": "string"}, "format": {"type": ["string", "null"]}},
            "required": ["timezone", "format"],
        },
    },
}
BARE = {"type": "function", "function": {"name": "ping"}}  # no parameters, no description
TOOLS = [WEATHER, CLOCK, BARE]
ASK_WEATHER = [{"role": "user", "content": "What is the weather in Paris?"}]


def valid(instance: Any, schema: Dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [error.message for error in validator.iter_errors(instance)]
    assert not errors, (instance, errors)


def tool_calls_of(response: httpx.Response) -> List[Dict[str, Any]]:
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["role"] == "assistant" and message["content"] is None
    for call in message["tool_calls"]:
        assert call["type"] == "function" and call["id"].startswith("call_")
        schema = next(
            t["function"].get("parameters", {}) for t in TOOLS if t["function"]["name"] == call["function"]["name"]
        )
        valid(json.loads(call["function"]["arguments"]), schema)
    return list(message["tool_calls"])


def names(calls: List[Dict[str, Any]]) -> List[str]:
    return [call["function"]["name"] for call in calls]


def test_auto_calls_the_tool_the_user_asks_for(client: httpx.Client) -> None:
    calls = tool_calls_of(chat(client, messages=ASK_WEATHER, tools=TOOLS))
    assert names(calls) == ["get_weather"]
    arguments = json.loads(calls[0]["function"]["arguments"])
    assert arguments == {"city": "Paris", "unit": "celsius", "days": 1}  # the capitalised words; enum's first
    again = tool_calls_of(chat(client, messages=ASK_WEATHER, tools=TOOLS, tool_choice="auto"))
    assert [call["function"] for call in again] == [call["function"] for call in calls]  # deterministic
    assert again[0]["id"] != calls[0]["id"]  # a new id per answer
    # the description's words count too; a camelCase name is split into words
    assert names(tool_calls_of(chat(client, messages=[{"role": "user", "content": "Any forecast?"}], tools=TOOLS))) == [
        "get_weather"
    ]
    assert names(
        tool_calls_of(chat(client, messages=[{"role": "user", "content": "the time in Tokyo"}], tools=TOOLS))
    ) == ["lookupTime"]


def test_auto_answers_with_text_when_no_tool_matches_or_none(client: httpx.Client) -> None:
    plain = chat(client).json()["choices"][0]["message"]
    for body in ({"tools": TOOLS}, {"tools": TOOLS, "tool_choice": "none"}):
        choice = chat(client, **body).json()["choices"][0]
        assert choice["finish_reason"] == "stop" and "tool_calls" not in choice["message"]
        assert choice["message"]["content"] == plain["content"]
    choice = chat(client, messages=ASK_WEATHER, tools=TOOLS, tool_choice="none").json()["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["content"]


def test_ties_are_all_called_unless_parallel_tool_calls_is_false(client: httpx.Client) -> None:
    both = [{"role": "user", "content": "The weather and the time in Rome"}]
    calls = tool_calls_of(chat(client, messages=both, tools=TOOLS))
    assert names(calls) == ["get_weather", "lookupTime"]
    assert len({call["id"] for call in calls}) == 2
    assert names(tool_calls_of(chat(client, messages=both, tools=TOOLS, parallel_tool_calls=False))) == ["get_weather"]


def test_forced_and_required_tool_choice_always_call(client: httpx.Client) -> None:
    forced = {"type": "function", "function": {"name": "lookupTime"}}
    assert names(tool_calls_of(chat(client, tools=TOOLS, tool_choice=forced))) == ["lookupTime"]  # "Hi Luna": no match
    assert names(tool_calls_of(chat(client, messages=ASK_WEATHER, tools=TOOLS, tool_choice=forced))) == ["lookupTime"]
    assert names(tool_calls_of(chat(client, tools=TOOLS, tool_choice="required"))) == ["get_weather"]  # the first
    assert names(
        tool_calls_of(chat(client, messages=[{"role": "user", "content": "ping"}], tools=TOOLS, tool_choice="required"))
    ) == ["ping"]
    (call,) = tool_calls_of(chat(client, tools=[BARE], tool_choice="required"))
    assert json.loads(call["function"]["arguments"]) == {}
    # forced even after a tool result, as the API does
    after = [*ASK_WEATHER, {"role": "assistant", "content": None, "tool_calls": [dict(call)]}]
    after.append({"role": "tool", "tool_call_id": call["id"], "content": "pong"})
    assert names(tool_calls_of(chat(client, messages=after, tools=TOOLS, tool_choice=forced))) == ["lookupTime"]


def test_after_a_tool_result_it_answers_from_the_result(client: httpx.Client) -> None:
    calls = tool_calls_of(chat(client, messages=ASK_WEATHER, tools=TOOLS))
    messages: List[Dict[str, Any]] = [*ASK_WEATHER, {"role": "assistant", "content": None, "tool_calls": calls}]
    messages.append({"role": "tool", "tool_call_id": calls[0]["id"], "content": "Sunny,   21 °C"})
    choice = chat(client, messages=messages, tools=TOOLS).json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"] == "get_weather says: Sunny, 21 °C"
    # two results of one turn, the second as a list of text parts
    both = tool_calls_of(chat(client, messages=[{"role": "user", "content": "weather and time"}], tools=TOOLS))
    messages = [{"role": "user", "content": "weather and time"}, {"role": "assistant", "tool_calls": both}]
    messages.append({"role": "tool", "tool_call_id": both[0]["id"], "content": "rain"})
    messages.append({"role": "tool", "tool_call_id": both[1]["id"], "content": [{"type": "text", "text": "noon"}]})
    content = chat(client, messages=messages, tools=TOOLS).json()["choices"][0]["message"]["content"]
    assert content == "get_weather says: rain lookupTime says: noon"


def test_streamed_tool_calls_come_as_openai_sends_them(client: httpx.Client) -> None:
    both = [{"role": "user", "content": "The weather and the time in Rome"}]
    expected = tool_calls_of(chat(client, messages=both, tools=TOOLS))
    response = chat(client, messages=both, tools=TOOLS, stream=True)
    assert response.headers["content-type"] == "text/event-stream"
    events = events_of(response.content)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks if chunk["choices"]]
    assert deltas[0] == {"role": "assistant", "content": None}
    merged: Dict[int, Dict[str, Any]] = {}
    fragments: Dict[int, int] = {}
    for delta in deltas[1:-1]:
        (piece,) = delta["tool_calls"]
        index = piece["index"]
        if index not in merged:  # the first piece of a call: id, type and name, no arguments yet
            assert set(piece) == {"index", "id", "type", "function"} and piece["function"]["arguments"] == ""
            merged[index] = {"id": piece["id"], "type": piece["type"], "function": dict(piece["function"])}
            fragments[index] = 0
        else:
            assert set(piece) == {"index", "function"} and set(piece["function"]) == {"arguments"}
            merged[index]["function"]["arguments"] += piece["function"]["arguments"]
            fragments[index] += 1
    assert deltas[-1] == {} and chunks[-1]["usage"]["completion_tokens"] > 0
    finishes = [chunk["choices"][0]["finish_reason"] for chunk in chunks if chunk["choices"]]
    assert finishes[-1] == "tool_calls" and finishes.count("tool_calls") == 1
    assert [names([call]) for call in merged.values()] == [["get_weather"], ["lookupTime"]]
    assert all(count > 1 for count in fragments.values())  # arguments split across several chunks
    for call, want in zip(merged.values(), expected):
        assert call["function"] == want["function"]


def test_streamed_tool_calls_merge_in_the_sdk(server: MockServer) -> None:
    """The SDK's own merging of streamed tool calls gives the non-streamed calls."""
    from meganova import MegaNova

    with MegaNova(api_key=server.api_key, base_url=server.url) as sdk:
        plain = sdk.chat.create(model=FLASH, messages=ASK_WEATHER, tools=TOOLS)
        final = sdk.chat.stream(model=FLASH, messages=ASK_WEATHER, tools=TOOLS).get_final_response()
    (want,) = plain.choices[0].message.tool_calls or []
    (got,) = final.choices[0].message.tool_calls or []
    assert (got.function.name, json.loads(got.function.arguments)) == (
        want.function.name,
        json.loads(want.function.arguments),
    )
    assert final.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tools": {"type": "function"}}, "tools"),
        ({"tools": [{"type": "retrieval"}]}, "tools"),
        ({"tools": [{"type": "function", "function": {"description": "no name"}}]}, "tools"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": "str"}}]}, "tools"),
        ({"tools": TOOLS, "tool_choice": "sometimes"}, "tool_choice"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "absent"}}}, "tool_choice"),
        ({"tools": TOOLS, "tool_choice": {"type": "function"}}, "tool_choice"),
        ({"tools": TOOLS, "tool_choice": 3}, "tool_choice"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
        ({"response_format": "json_object"}, "response_format"),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}, "response_format"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": []}}}, "response_format"),
        ({"logprobs": "yes"}, "logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": True}, "top_logprobs"),
        ({"top_logprobs": 2}, "top_logprobs"),
    ],
)
def test_tools_formats_and_logprobs_validation_422(client: httpx.Client, body: Dict[str, Any], param: str) -> None:
    error = standard_error(chat(client, **body), 422, "invalid_request_error", "validation_error")
    assert error["param"] == param


def test_unknown_model_is_404_model_not_found(server: MockServer, client: httpx.Client) -> None:
    for stream in (False, True):
        response = chat(client, model="meganova-ai/no-such-model", stream=stream)
        error = standard_error(response, 404, "invalid_request_error", "model_not_found")
        assert error["param"] == "model" and "meganova-ai/no-such-model" in error["message"]
    assert chat(client, model=DEFAULT_MODEL).status_code == 200
    assert chat(client, model=None, session_id="sess_1").status_code == 200  # the session's model
    listed = [model["id"] for model in client.get("/models").json()["data"]]
    assert set(listed) <= set(CHAT_MODELS)
    root_client = root(server)
    catalogue = root_client.get("/api/v1/serverless/models/filter").json()["data"]["models"]
    chat_capable = {m["model_name"] for m in catalogue if m["modality"] in ("text_generation", "image_to_text")}
    assert chat_capable <= set(CHAT_MODELS)
    for model in CHAT_MODELS:
        assert chat(client, model=model).status_code == 200


def test_chat_models_can_be_chosen_or_left_open() -> None:
    for chat_models, model, status in ((None, "m", 200), (["my/model"], "my/model", 200), (["my/model"], FLASH, 404)):
        with (
            MockServer(chat_models=chat_models) as server,
            httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5) as http,
        ):
            assert chat(http, model=model).status_code == status


STRICT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": ["integer", "null"]},
        "mood": {"anyOf": [{"type": "null"}, {"type": "string", "enum": ["calm", "wild"]}]},
        "friends": {"type": "array", "items": {"$ref": "#/$defs/friend"}},
        "home": {"$ref": "#/$defs/place"},
    },
    "required": ["name", "age", "mood", "friends", "home"],
    "additionalProperties": False,
    "$defs": {
        "friend": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "since": {"type": "string", "format": "date"}},
            "required": ["name", "since"],
            "additionalProperties": False,
        },
        "place": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            },
            "required": ["city", "coordinates"],
            "additionalProperties": False,
        },
    },
}


def json_format(schema: Dict[str, Any], strict: bool = True) -> Dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": strict}}


def test_json_schema_answers_are_valid_against_the_schema(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "Describe Luna from Neon Harbor"}]
    for strict in (True, False):
        choice = chat(client, messages=messages, response_format=json_format(STRICT_SCHEMA, strict)).json()["choices"][
            0
        ]
        assert choice["finish_reason"] == "stop"
        value = json.loads(choice["message"]["content"])
        valid(value, STRICT_SCHEMA)
        assert value["name"] == "Luna" and value["mood"] == "calm" and len(value["home"]["coordinates"]) == 2
    streamed = events_of(
        chat(client, messages=messages, response_format=json_format(STRICT_SCHEMA), stream=True).content
    )
    pieces = [
        json.loads(e)["choices"][0]["delta"].get("content") or "" for e in streamed[:-1] if json.loads(e)["choices"]
    ]
    assert len([p for p in pieces if p]) > 3
    valid(json.loads("".join(pieces)), STRICT_SCHEMA)


def test_json_object_answers_are_a_json_object(client: httpx.Client) -> None:
    content = chat(client, response_format={"type": "json_object"}).json()["choices"][0]["message"]["content"]
    value = json.loads(content)
    assert isinstance(value, dict) and value["reply"]
    assert (
        chat(client, response_format={"type": "text"}).json()["choices"][0]["message"]["content"]
        == chat(client).json()["choices"][0]["message"]["content"]
    )


def test_json_cut_by_max_tokens_finishes_with_length(client: httpx.Client) -> None:
    choice = chat(client, response_format=json_format(STRICT_SCHEMA), max_tokens=3).json()["choices"][0]
    assert choice["finish_reason"] == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(choice["message"]["content"])


SCHEMAS: List[Dict[str, Any]] = [
    {},
    {"type": "string", "minLength": 30},
    {"type": "string", "maxLength": 2},
    {"type": "string", "pattern": "^[0-9]+$"},
    {"type": "string", "format": "email"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "uuid"},
    {"type": "integer", "minimum": 5},
    {"type": "integer", "exclusiveMinimum": 5, "maximum": 9},
    {"type": "integer", "maximum": -3},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    {"type": "number", "minimum": 0.5, "multipleOf": 0.25},
    {"type": "integer", "minimum": 7, "multipleOf": 5},
    {"type": "boolean"},
    {"type": "null"},
    {"const": {"fixed": [1, 2]}},
    {"enum": ["b", "a"]},
    {"type": ["null", "string"]},
    {"oneOf": [{"type": "null"}, {"type": "integer"}]},
    {"type": "array", "items": {"type": "string"}, "minItems": 3, "uniqueItems": True},
    {"type": "array", "items": {"enum": [1, 2, 3]}, "minItems": 3, "uniqueItems": True},
    {"type": "array", "maxItems": 0},
    {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
    {"type": "object", "properties": {"a": {"type": "integer"}}, "minProperties": 2},
    {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"required": ["b"], "properties": {"b": {"type": "boolean"}}},
        ]
    },
    {
        "type": "object",
        "properties": {"tags": {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 1}},
        "required": ["tags"],
    },
    {
        "$ref": "#/definitions/node",
        "definitions": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/node"}},
                },
                "required": ["value", "children"],
            }
        },
    },
    {
        "$ref": "#/$defs/list",
        "$defs": {
            "list": {
                "type": "object",
                "properties": {
                    "head": {"type": "string"},
                    "tail": {"anyOf": [{"$ref": "#/$defs/list"}, {"type": "null"}]},
                },
                "required": ["head", "tail"],
                "additionalProperties": False,
            }
        },
    },
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=[json.dumps(s)[:60] for s in SCHEMAS])
def test_schema_instances_are_valid(client: httpx.Client, schema: Dict[str, Any]) -> None:
    """Each schema, through the server (`json_schema`) and as a tool's parameters where it is an object."""
    choice = chat(client, response_format=json_format(schema)).json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    valid(json.loads(choice["message"]["content"]), schema)
    if schema.get("type") == "object" or "$ref" in schema or "allOf" in schema:
        tool = {"type": "function", "function": {"name": "record", "parameters": schema}}
        response = chat(client, tools=[tool], tool_choice="required")
        (call,) = response.json()["choices"][0]["message"]["tool_calls"]
        valid(json.loads(call["function"]["arguments"]), schema)


def test_logprobs_are_openai_shaped(client: httpx.Client) -> None:
    assert "logprobs" not in chat(client).json()["choices"][0]
    for top in (None, 0, 3, 20):
        extra = {} if top is None else {"top_logprobs": top}
        choice = chat(client, logprobs=True, **extra).json()["choices"][0]
        content = choice["logprobs"]["content"]
        assert "".join(entry["token"] for entry in content) == choice["message"]["content"]
        for entry in content:
            assert set(entry) == {"token", "logprob", "bytes", "top_logprobs"}
            assert entry["bytes"] == list(entry["token"].encode("utf-8"))
            assert -100 < entry["logprob"] <= 0
            alternatives = entry["top_logprobs"]
            assert len(alternatives) == (top or 0)
            if alternatives:
                assert alternatives[0] == {k: entry[k] for k in ("token", "logprob", "bytes")}
                assert len({a["token"] for a in alternatives}) == len(alternatives)
                assert [a["logprob"] for a in alternatives] == sorted(
                    (a["logprob"] for a in alternatives), reverse=True
                )
                assert all(a["bytes"] == list(a["token"].encode("utf-8")) for a in alternatives)
    # unicode: bytes are the UTF-8 of the token
    choice = chat(client, messages=[{"role": "user", "content": "Bonjour café ☕"}], logprobs=True).json()["choices"][0]
    assert any(max(entry["bytes"]) > 127 for entry in choice["logprobs"]["content"])


def test_streamed_logprobs_come_with_each_piece(client: httpx.Client) -> None:
    plain = chat(client, logprobs=True, top_logprobs=2).json()["choices"][0]
    chunks = [json.loads(e) for e in events_of(chat(client, logprobs=True, top_logprobs=2, stream=True).content)[:-1]]
    entries = []
    for chunk in chunks:
        for choice in chunk["choices"]:
            if choice["delta"].get("content"):
                (entry,) = choice["logprobs"]["content"]
                assert entry["token"] == choice["delta"]["content"]
                entries.append(entry)
    assert [e["token"] for e in entries] == [e["token"] for e in plain["logprobs"]["content"]]
    assert all(len(e["top_logprobs"]) == 2 for e in entries)


def test_images_have_the_requested_size(client: httpx.Client) -> None:
    for size, expected in (("64x64", (64, 64)), ("1x3", (1, 3)), ("640x480", (640, 480)), (None, (1024, 1024))):
        body: Dict[str, Any] = {"model": "black-forest-labs/FLUX.1-dev", "prompt": "A lantern"}
        if size is not None:
            body["size"] = size
        (image,) = client.post("/images/generations", json=body).json()["data"]
        assert png_size(base64.b64decode(image["b64_json"])) == expected


def character_reply(client: httpx.Client, messages: List[Dict[str, Any]], **body: Any) -> str:
    response = chat(client, messages=messages, **body)
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


@pytest.mark.parametrize(
    ("system", "name"),
    [
        ("You are Luna, a night-market guide in Neon Harbor.", "Luna"),
        ("you're Captain Mira Vale. Stay in character.", "Captain Mira Vale"),
        ("Name: Kai\nDescription: a ferry pilot\nPersonality: calm", "Kai"),
        ("Write Ren's next reply in a fictional chat between Ren and Ana.", "Ren"),
        ("A story.\n\nSable's personality: dry wit", "Sable"),
        ("Play the role of Orin.", "Orin"),
    ],
)
def test_a_character_named_by_the_system_prompt_speaks_greets_and_recalls(
    client: httpx.Client, system: str, name: str
) -> None:
    first = [{"role": "system", "content": system}, {"role": "user", "content": "Hi there", "name": "Ana"}]
    greeting = character_reply(client, first)
    assert greeting.startswith(f"{name}: Hello, Ana! I am {name}. ")
    with_greeting = [first[0], {"role": "assistant", "content": f"{name} waves."}, {"role": "user", "content": "Hello"}]
    assert character_reply(client, with_greeting).startswith(f"{name}: Hello! I am {name}. ")
    later = [*first, {"role": "assistant", "content": greeting}, {"role": "user", "content": "What now?"}]
    recall = character_reply(client, later)
    assert recall.startswith(f'{name}: You told me earlier: "Hi there". ')
    assert 'You said "What now?"' in recall
    assert character_reply(client, later) == recall  # deterministic
    streamed = events_of(chat(client, messages=later, stream=True).content)
    text = "".join(
        json.loads(e)["choices"][0]["delta"].get("content") or "" for e in streamed[:-1] if json.loads(e)["choices"]
    )
    assert text == recall


@pytest.mark.parametrize(
    "system", ["You are a helpful assistant.", "Answer briefly.", "You are an AI. Name: unknown", "You are The best."]
)
def test_a_system_prompt_without_a_character_changes_nothing(client: httpx.Client, system: str) -> None:
    plain = character_reply(client, HELLO)
    assert character_reply(client, [{"role": "system", "content": system}, *HELLO]) == plain


def test_a_tool_round_trip_and_a_character_through_the_sdk(server: MockServer, mode: str) -> None:
    """The SDK, sync and async, streamed and not: tools → tool_calls → a tool message → the answer; a
    character's greeting then its recall of the first message."""
    import asyncio

    from meganova import AsyncMegaNova, MegaNova

    def turn(messages: List[Dict[str, Any]], stream: bool, **body: Any) -> Any:
        if mode == "sync":
            with MegaNova(api_key=server.api_key, base_url=server.url) as sdk:
                if stream:
                    return sdk.chat.stream(model=FLASH, messages=messages, **body).get_final_response()
                return sdk.chat.create(model=FLASH, messages=messages, **body)

        async def run() -> Any:
            async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as sdk:
                if stream:
                    return await (await sdk.chat.stream(model=FLASH, messages=messages, **body)).get_final_response()
                return await sdk.chat.create(model=FLASH, messages=messages, **body)

        return asyncio.run(run())

    for stream in (False, True):
        messages: List[Dict[str, Any]] = list(ASK_WEATHER)
        first = turn(messages, stream, tools=TOOLS)
        (call,) = first.choices[0].message.tool_calls or []
        assert first.choices[0].finish_reason == "tool_calls"
        assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius", "days": 1}
        messages.append({"role": "assistant", "content": None, "tool_calls": [call.to_dict()]})
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "Rain"})
        assert turn(messages, stream, tools=TOOLS).choices[0].message.content == "get_weather says: Rain"

        chat_messages: List[Dict[str, Any]] = [{"role": "system", "content": "You are Luna."}, *HELLO]
        greeting = turn(chat_messages, stream).choices[0].message.content
        assert greeting.startswith("Luna: Hello! I am Luna.")
        chat_messages += [{"role": "assistant", "content": greeting}, {"role": "user", "content": "Bye"}]
        recall = turn(chat_messages, stream).choices[0].message.content
        assert recall.startswith(f'Luna: You told me earlier: "{HELLO[0]["content"]}".')
