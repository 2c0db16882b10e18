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
    meter_provider = MeterProvider(metric_readers=[READER])
    metrics.set_meter_provider(meter_provider)
    yield
    # The global providers stay set for the rest of the process (OTel sets them once): shut down, they
    # record nothing more, so later tests do not pile spans up in memory.
    provider.shutdown()
    meter_provider.shutdown()


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


def test_a_stream_span_ends_at_its_end_with_the_time_to_first_chunk(mode: str, server: MockServer) -> None:
    server.reset()
    spans()
    if mode == "sync":

        def read(c: Any) -> str:
            return "".join(
                chunk.delta for chunk in c.chat.stream(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
            )

    else:

        async def read(c: Any) -> str:  # type: ignore[misc]
            async with c.chat.stream(model=MODEL, messages=[{"role": "user", "content": "Hi"}]) as stream:
                return "".join([chunk.delta async for chunk in stream])

    text = call(mode, server, read)
    (span,) = spans()
    assert text
    assert span.name == f"chat {MODEL}"
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert list(span.attributes["gen_ai.response.finish_reasons"]) == ["stop"]
    assert "meganova.stream.complete" not in span.attributes
    assert any(
        p.attributes.get("gen_ai.operation.name") == "chat"
        for p in metric_points()["gen_ai.client.operation.time_to_first_chunk"]
    )


def test_a_stream_left_early_ends_its_span_marked_incomplete(mode: str, server: MockServer) -> None:
    server.reset()
    spans()
    if mode == "sync":

        def first(c: Any) -> str:
            with c.chat.stream(model=MODEL, messages=[{"role": "user", "content": "Tell me a long story"}]) as stream:
                for chunk in stream:
                    if chunk.delta:
                        return str(chunk.delta)
            return ""

    else:

        async def first(c: Any) -> str:  # type: ignore[misc]
            async with c.chat.stream(
                model=MODEL, messages=[{"role": "user", "content": "Tell me a long story"}]
            ) as stream:
                async for chunk in stream:
                    if chunk.delta:
                        return str(chunk.delta)
            return ""

    assert call(mode, server, first)
    (span,) = spans()
    assert span.attributes["meganova.stream.complete"] is False
    assert span.end_time is not None


def test_a_stream_that_fails_before_its_first_chunk_ends_its_span_with_the_error(mode: str, server: MockServer) -> None:
    server.reset()
    server.enqueue(status=401)
    spans()
    from meganova.errors import AuthenticationError

    if mode == "sync":

        def read(c: Any) -> Any:
            return list(c.chat.stream(model=MODEL, messages=[{"role": "user", "content": "Hi"}]))

    else:

        async def read(c: Any) -> Any:  # type: ignore[misc]
            return await c.chat.stream(model=MODEL, messages=[{"role": "user", "content": "Hi"}])

    with pytest.raises(AuthenticationError):
        call(mode, server, read)
    (span,) = spans()
    assert span.attributes["error.type"] == "401"


def test_a_download_is_one_span(mode: str, server: MockServer, tmp_path: Any) -> None:
    spans()
    target = tmp_path / "hello.mp3"
    if mode == "sync":
        call(mode, server, lambda c: c.audio.tts_to_file(target, input="Hello", model="tts-1", voice="alloy"))
    else:

        async def go(c: Any) -> Any:
            return await c.audio.tts_to_file(target, input="Hello", model="tts-1", voice="alloy")

        call(mode, server, go)
    (span,) = spans()
    assert span.name == "generate_content tts-1"
    assert target.stat().st_size > 0


def test_the_tool_runner_traces_each_tool_call(mode: str, server: MockServer) -> None:
    import meganova

    @meganova.tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        return f"Sunny in {city}"

    server.reset()
    spans()
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    if mode == "sync":
        call(mode, server, lambda c: c.chat.run_tools(messages=messages, model=MODEL, tools=[get_weather]).until_done())
    else:

        async def go(c: Any) -> Any:
            return await c.chat.run_tools(messages=messages, model=MODEL, tools=[get_weather]).until_done()

        call(mode, server, go)
    finished = spans()
    tools = [s for s in finished if s.name == "execute_tool get_weather"]
    assert len(tools) == 1
    assert tools[0].kind == trace.SpanKind.INTERNAL
    assert tools[0].attributes["gen_ai.tool.call.id"]
    assert [s.name for s in finished].count(f"chat {MODEL}") == 2


def test_a_session_id_is_the_conversation_id(mode: str, server: MockServer) -> None:
    spans()
    call(
        mode,
        server,
        lambda c: c.chat.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], session_id="sess_42"),
    )
    (span,) = spans()
    assert span.attributes["gen_ai.conversation.id"] == "sess_42"


def test_a_streaming_response_call_ends_its_span(mode: str, server: MockServer) -> None:
    spans()
    messages = [{"role": "user", "content": "Hi"}]
    if mode == "sync":

        def go(c: Any) -> Any:
            with c.chat.with_streaming_response.create(model=MODEL, messages=messages) as response:
                return response.parse().choices[0].message.content

    else:

        async def go(c: Any) -> Any:  # type: ignore[misc]
            async with c.chat.with_streaming_response.create(model=MODEL, messages=messages) as response:
                return (await response.parse()).choices[0].message.content

    assert call(mode, server, go)
    (span,) = spans()
    assert span.name == f"chat {MODEL}" and span.end_time is not None
