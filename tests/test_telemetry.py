"""OpenTelemetry GenAI spans and metrics, recorded with the OTel SDK's in-memory exporter and reader over
MockServer's sockets, sync and async: names and attributes, retries, errors, traceparent, content capture
(opt-in), no span for operations that are not GenAI calls, and nothing at all without a tracer provider
(checked in a child process that never imports OpenTelemetry)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any, Callable, Dict, Iterator, List

import pytest

otel_sdk = pytest.importorskip("opentelemetry.sdk.trace")  # a test requirement: always installed by make test

from opentelemetry import metrics, trace  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from meganova import AsyncMegaNova, MegaNova  # noqa: E402
from meganova.errors import NotFoundError  # noqa: E402
from meganova.testing import MockServer  # noqa: E402

MODEL = "meganova-ai/manta-flash-1.0"
EXPORTER = InMemorySpanExporter()
READER = InMemoryMetricReader()


@pytest.fixture(scope="module", autouse=True)
def providers() -> Iterator[None]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))
    yield


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def call(mode: str, server: MockServer, fn: Callable[[Any], Any]) -> Any:
    if mode == "sync":
        with MegaNova(api_key=server.api_key, base_url=server.url) as client:
            return fn(client)

    async def go() -> Any:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            return await fn(client)

    return asyncio.run(go())


def spans() -> List[Any]:
    finished = list(EXPORTER.get_finished_spans())
    EXPORTER.clear()
    return finished


def metric_points() -> Dict[str, List[Any]]:
    data = READER.get_metrics_data()
    points: Dict[str, List[Any]] = {}
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points.setdefault(metric.name, []).extend(metric.data.data_points)
    return points


def test_a_chat_call_is_one_client_span_with_the_genai_attributes(mode: str, server: MockServer) -> None:
    server.reset()
    spans()
    server.enqueue(status=503)
    resp = call(
        mode,
        server,
        lambda c: c.chat.create(
            model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=20, temperature=0.5, stop=["\n\n"]
        ),
    )
    (span,) = spans()
    assert span.name == f"chat {MODEL}"
    assert span.kind == trace.SpanKind.CLIENT
    a = dict(span.attributes)
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "meganova"
    assert a["gen_ai.request.model"] == MODEL
    assert a["gen_ai.request.max_tokens"] == 20
    assert a["gen_ai.request.temperature"] == 0.5
    assert list(a["gen_ai.request.stop_sequences"]) == ["\n\n"]
    assert a["gen_ai.response.id"] == resp.id
    assert list(a["gen_ai.response.finish_reasons"]) == [resp.choices[0].finish_reason]
    assert a["gen_ai.usage.input_tokens"] == resp.usage.prompt_tokens
    assert a["gen_ai.usage.output_tokens"] == resp.usage.completion_tokens
    assert a["server.address"] == "127.0.0.1"
    assert a["server.port"] == int(server.url.split(":")[2].split("/")[0])
    assert a["http.request.resend_count"] == 1
    assert "gen_ai.input.messages" not in a  # content is opt-in
    # Each attempt carried the span's trace context.
    parents = [r.headers.get("traceparent") for r in server.requests]
    trace_id = format(span.context.trace_id, "032x")
    assert len(parents) == 2 and all(p and p.split("-")[1] == trace_id for p in parents)


def test_metrics_record_duration_and_tokens(mode: str, server: MockServer) -> None:
    server.reset()
    call(mode, server, lambda c: c.chat.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}]))
    points = metric_points()
    assert points["gen_ai.client.operation.duration"]
    kinds = {p.attributes["gen_ai.token.type"] for p in points["gen_ai.client.token.usage"]}
    assert kinds == {"input", "output"}
    spans()


def test_an_error_sets_error_type_and_status(mode: str, server: MockServer) -> None:
    spans()
    server.reset()
    server.enqueue(status=404)
    with pytest.raises(NotFoundError):
        call(mode, server, lambda c: c.chat.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}]))
    (span,) = spans()
    assert span.attributes["error.type"] == "404"
    assert span.status.status_code == trace.StatusCode.ERROR


def test_embeddings_are_traced_and_model_listing_is_not(mode: str, server: MockServer) -> None:
    spans()
    call(mode, server, lambda c: c.models.list())
    assert spans() == []
    call(mode, server, lambda c: c.embeddings.create(model="BAAI/bge-m3", input="hello"))
    (span,) = spans()
    assert span.name == "embeddings BAAI/bge-m3"
    assert span.attributes["gen_ai.operation.name"] == "embeddings"


def test_message_content_is_captured_only_when_asked(
    mode: str, server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    spans()
    call(mode, server, lambda c: c.chat.create(model=MODEL, messages=[{"role": "user", "content": "secret plan"}]))
    (span,) = spans()
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [{"role": "user", "content": "secret plan"}]
    assert json.loads(span.attributes["gen_ai.output.messages"])[0]["role"] == "assistant"


def test_the_api_key_is_in_no_span(mode: str, server: MockServer) -> None:
    spans()
    call(mode, server, lambda c: c.chat.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}]))
    (span,) = spans()
    assert server.api_key not in json.dumps(dict(span.attributes), default=str)


def test_without_a_tracer_provider_nothing_is_imported_or_sent() -> None:
    script = """
import sys
from meganova import MegaNova
from meganova.testing import MockServer
with MockServer() as server, MegaNova(api_key=server.api_key, base_url=server.url) as client:
    client.chat.create(model="meganova-ai/manta-flash-1.0", messages=[{"role": "user", "content": "Hi"}])
    assert "traceparent" not in server.requests[-1].headers, server.requests[-1].headers
assert not any(name.startswith("opentelemetry") for name in sys.modules), "imported OpenTelemetry"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
