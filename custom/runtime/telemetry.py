"""OpenTelemetry, native, after the GenAI semantic conventions. Optional: `pip install meganova[otel]`.

A CLIENT span per GenAI operation, named `{gen_ai.operation.name} {gen_ai.request.model}`
(`chat meganova-ai/manta-flash-1.0`), with `gen_ai.provider.name = "meganova"`, the request's
`gen_ai.request.*` (model, max_tokens, temperature, top_p, seed, stop_sequences), the answer's
`gen_ai.response.id`/`.model`/`.finish_reasons`, `gen_ai.usage.input_tokens`/`.output_tokens`,
`server.address`/`.port`, `error.type` on a failure and `http.request.resend_count` (the retries). A
stream's span ends at its end or close and carries the time to its first chunk. Metrics:
`gen_ai.client.token.usage` and `gen_ai.client.operation.duration` (and, for streams,
`gen_ai.client.operation.time_to_first_chunk`). The `traceparent` of the span travels with each attempt.
Message content is recorded only when `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`.

No cost without it: the SDK never imports OpenTelemetry. Tracing starts when the application has
imported `opentelemetry.trace` and set a tracer provider (the only way it can receive spans); until
then `start()` returns None after a dictionary lookup. Spans never replace the objects the SDK returns
(streams and `with_raw_response` answers are the SDK's own).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import Any, Dict, Mapping, Optional, Sequence, TypeVar

import httpx

PROVIDER = "meganova"
TELEMETRY_EXTENSION = "meganova.telemetry"
"""The request extension that carries the call's `CallTelemetry`, for the stream that reads its answer."""
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

OPERATIONS: Mapping[str, str] = {
    "create_chat_completion": "chat",
    "agent_chat_completions": "chat",
    "create_embedding": "embeddings",
    "generate_image": "generate_content",
    "create_speech": "generate_content",
    "create_transcription": "generate_content",
    "generate_video": "generate_content",
    "create_rerank": "rerank",
    "agent_chat": "invoke_agent",
    "agent_confirm_tool": "invoke_agent",
}
"""The operations traced (operationId → `gen_ai.operation.name`); others (models, billing, ...) are not GenAI calls."""

_REQUEST_ATTRIBUTES = (
    ("max_tokens", "gen_ai.request.max_tokens"),
    ("temperature", "gen_ai.request.temperature"),
    ("top_p", "gen_ai.request.top_p"),
    ("seed", "gen_ai.request.seed"),
    ("frequency_penalty", "gen_ai.request.frequency_penalty"),
    ("presence_penalty", "gen_ai.request.presence_penalty"),
)

_TRACER_NAME = "meganova"


def _otel() -> Any:
    """`opentelemetry.trace` when the application imported it (never imported here), else None."""
    return sys.modules.get("opentelemetry.trace")


_UNSET_PROVIDERS = frozenset({"ProxyTracerProvider", "NoOpTracerProvider", "_ProxyMeterProvider", "NoOpMeterProvider"})
"""OpenTelemetry's providers before the application sets one: nothing they make records anything."""


def _is_set(provider: Any) -> bool:
    """Whether `provider` (a tracer or meter provider) is one the application set."""
    return type(provider).__name__ not in _UNSET_PROVIDERS


def _tracer(trace: Any) -> Any:
    """A tracer when a real tracer provider is set, else None (no span would be recorded)."""
    provider = trace.get_tracer_provider()
    if not _is_set(provider):
        return None
    from .._version import __version__

    return provider.get_tracer(_TRACER_NAME, __version__)


def capture_content() -> bool:
    """Whether message content is recorded (the OTel GenAI opt-in variable)."""
    return os.environ.get(CAPTURE_ENV, "").strip().lower() == "true"


def _number(value: Any) -> Optional[Any]:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class CallTelemetry:
    """The span (and metrics) of one logical call: started before its first attempt, ended once."""

    __slots__ = ("_attributes", "_first_chunk", "_metrics", "_start", "_trace", "ended", "retry", "span")

    def __init__(self, trace: Any, tracer: Any, name: str, attributes: Dict[str, Any]) -> None:
        self._trace = trace
        self._attributes = attributes
        self._start = time.monotonic()
        self._first_chunk: Optional[float] = None
        self._metrics = _meter_instruments()
        self.span = tracer.start_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes)
        self.ended = False
        self.retry: Any = None
        """The call's `RetryState`: its retries are the span's `http.request.resend_count`."""

    def inject(self, headers: httpx.Headers) -> None:
        """Put the span's `traceparent` (and the app's other propagated fields) on a request's headers."""
        import importlib

        propagate: Any = importlib.import_module("opentelemetry.propagate")  # the app imported OpenTelemetry
        carrier: Dict[str, str] = {}
        propagate.inject(carrier, context=self._trace.set_span_in_context(self.span))
        for name, value in carrier.items():
            headers[name] = value

    def chunk(self) -> None:
        """A stream's chunk arrived (the first one sets the time to first chunk)."""
        if self._first_chunk is None:
            self._first_chunk = time.monotonic() - self._start
            self.span.set_attribute("gen_ai.response.time_to_first_chunk", self._first_chunk)

    def streamed(self, state: Any, chunks: Sequence[Any]) -> None:
        """A stream's `ChatStreamState` handed out `chunks`: the first sets the time to first chunk; at
        the stream's end the span ends with the whole answer."""
        if chunks:
            self.chunk()
        if state.finished and not self.ended:
            try:
                answer = state.final_response().to_dict()
            except Exception:  # an answer that cannot be assembled: the span ends without its fields
                answer = {}
            self.succeeded(answer)

    def left(self) -> None:
        """The stream was closed (or dropped) before its end: the span ends, marked so."""
        if self.ended:
            return
        self.span.set_attribute("meganova.stream.complete", False)
        self._end(None, {}, None)

    def _retries(self, retries: Optional[int]) -> int:
        if retries is not None:
            return retries
        count = getattr(self.retry, "retries", 0)
        return count if isinstance(count, int) else 0

    def succeeded(self, answer: Mapping[str, Any], retries: Optional[int] = None) -> None:
        """End the span with what the answer (its JSON) says."""
        if self.ended:
            return
        retries = self._retries(retries)
        attributes: Dict[str, Any] = {"http.request.resend_count": retries} if retries else {}
        if isinstance(answer.get("id"), str):
            attributes["gen_ai.response.id"] = answer["id"]
        if isinstance(answer.get("model"), str):
            attributes["gen_ai.response.model"] = answer["model"]
        choices = answer.get("choices")
        if isinstance(choices, list):
            reasons = [c.get("finish_reason") for c in choices if isinstance(c, dict)]
            reasons = [r for r in reasons if isinstance(r, str)]
            if reasons:
                attributes["gen_ai.response.finish_reasons"] = reasons
            if capture_content():
                messages = [c.get("message") for c in choices if isinstance(c, dict) and c.get("message")]
                attributes["gen_ai.output.messages"] = json.dumps(messages, ensure_ascii=False)
        usage = answer.get("usage")
        tokens: Dict[str, int] = {}
        if isinstance(usage, dict):
            for key, attribute, kind in (
                ("prompt_tokens", "gen_ai.usage.input_tokens", "input"),
                ("completion_tokens", "gen_ai.usage.output_tokens", "output"),
            ):
                value = _number(usage.get(key))
                if value is not None:
                    attributes[attribute] = value
                    tokens[kind] = int(value)
        self.span.set_attributes(attributes)
        self._end(None, tokens, attributes.get("gen_ai.response.model"))

    def failed(self, error: BaseException, retries: Optional[int] = None) -> None:
        """End the span with the error (`error.type`: the exception's class, or the HTTP status)."""
        if self.ended:
            return
        retries = self._retries(retries)
        status = getattr(error, "status", None)
        error_type = str(status) if isinstance(status, int) else type(error).__name__
        self.span.set_attribute("error.type", error_type)
        if retries:
            self.span.set_attribute("http.request.resend_count", retries)
        self.span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, str(error)[:200]))
        self._end(error_type, {}, None)

    def _end(self, error_type: Optional[str], tokens: Mapping[str, int], response_model: Optional[str]) -> None:
        self.ended = True
        self.span.end()
        if self._metrics is None:
            return
        duration, usage, first_chunk = self._metrics
        attributes = {
            key: self._attributes[key]
            for key in ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "server.address")
            if key in self._attributes
        }
        if response_model:
            attributes["gen_ai.response.model"] = response_model
        if error_type:
            attributes["error.type"] = error_type
        duration.record(time.monotonic() - self._start, attributes)
        for kind, count in tokens.items():
            usage.record(count, {**attributes, "gen_ai.token.type": kind})
        if self._first_chunk is not None:
            first_chunk.record(self._first_chunk, attributes)


_instruments: Optional[Any] = None


def _meter_instruments() -> Optional[Any]:
    """The three histograms, when the app imported OpenTelemetry's metrics and set a meter provider."""
    global _instruments
    metrics = sys.modules.get("opentelemetry.metrics")
    if metrics is None:
        return None
    provider = metrics.get_meter_provider()
    if not _is_set(provider):
        return None
    if _instruments is not None and _instruments[0] is provider:
        return _instruments[1]
    from .._version import __version__

    meter = provider.get_meter(_TRACER_NAME, __version__)
    made = (
        meter.create_histogram("gen_ai.client.operation.duration", unit="s", description="GenAI operation duration"),
        meter.create_histogram("gen_ai.client.token.usage", unit="{token}", description="Tokens used"),
        meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk", unit="s", description="Time to the first chunk of a stream"
        ),
    )
    _instruments = (provider, made)
    return made


def _stop_sequences(stop: Any) -> Optional[Sequence[str]]:
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(item, str) for item in stop):
        return stop
    return None


def start(operation: str, body: Optional[Mapping[str, Any]], url: httpx.URL) -> Optional[CallTelemetry]:
    """The telemetry of a call of `operation` (its operationId) with JSON `body`, or None (not traced,
    or no tracer provider)."""
    trace = _otel()
    if trace is None:
        return None
    operation_name = OPERATIONS.get(operation)
    if operation_name is None:
        return None
    tracer = _tracer(trace)
    if tracer is None:
        return None
    body = body or {}
    model = body.get("model") if isinstance(body.get("model"), str) else None
    attributes: Dict[str, Any] = {
        "gen_ai.operation.name": operation_name,
        "gen_ai.provider.name": PROVIDER,
        "server.address": url.host,
        "server.port": url.port or (443 if url.scheme == "https" else 80),
    }
    if model:
        attributes["gen_ai.request.model"] = model
    for key, attribute in _REQUEST_ATTRIBUTES:
        value = _number(body.get(key))
        if value is not None:
            attributes[attribute] = value
    stop = _stop_sequences(body.get("stop"))
    if stop:
        attributes["gen_ai.request.stop_sequences"] = list(stop)
    conversation = body.get("session_id") or body.get("conversation_id")
    if isinstance(conversation, str):
        attributes["gen_ai.conversation.id"] = conversation
    if capture_content() and isinstance(body.get("messages"), list):
        attributes["gen_ai.input.messages"] = json.dumps(body["messages"], ensure_ascii=False, default=str)
    name = f"{operation_name} {model}" if model else operation_name
    return CallTelemetry(trace, tracer, name, attributes)


def tool_span(name: str, call_id: Optional[str] = None, description: Optional[str] = None) -> Any:
    """A context manager: the INTERNAL `execute_tool {name}` span of one tool call (a no-op without a
    tracer provider). For the tool runner."""
    trace = _otel()
    tracer = None if trace is None else _tracer(trace)
    if tracer is None:
        return contextlib.nullcontext()
    attributes: Dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.provider.name": PROVIDER,
        "gen_ai.tool.name": name,
        "gen_ai.tool.type": "function",
    }
    if call_id:
        attributes["gen_ai.tool.call.id"] = call_id
    if description:
        attributes["gen_ai.tool.description"] = description
    return tracer.start_as_current_span(f"execute_tool {name}", kind=trace.SpanKind.INTERNAL, attributes=attributes)


def answer_json(answer: Any) -> Mapping[str, Any]:
    """The JSON of a parsed answer (a generated model's `to_dict()`, an `APIResponse`'s body) for `succeeded`."""
    content = getattr(answer, "content", None)
    if isinstance(content, bytes) and hasattr(answer, "http_response"):  # with_raw_response
        try:
            data = json.loads(content)
        except (ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}
    to_dict = getattr(answer, "to_dict", None)
    if callable(to_dict):
        try:
            data = to_dict()
        except Exception:  # an answer that cannot be shown: no attributes from it
            return {}
        return data if isinstance(data, dict) else {}
    return answer if isinstance(answer, dict) else {}


class ended:
    """`with ended(state):` ends the call's span with the error that leaves the block, if any (the
    success path ends it through `answered`)."""

    __slots__ = ("_state",)

    def __init__(self, state: Any) -> None:
        self._state = state

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Optional[BaseException], traceback: Any) -> None:
        telemetry: Optional[CallTelemetry] = self._state.telemetry
        if telemetry is not None and error is not None:
            telemetry.failed(error, self._state.retries)


T = TypeVar("T")


def answered(state: Any, answer: T) -> T:
    """`answer`, after ending the call's span with what it says (when traced)."""
    telemetry: Optional[CallTelemetry] = state.telemetry
    if telemetry is not None:
        telemetry.succeeded(answer_json(answer), state.retries)
    return answer


def stream_left(state: Any) -> None:
    """A stream object was closed or dropped: end its call's span if the stream had not ended. Never raises."""
    telemetry = getattr(state, "telemetry", None)
    if telemetry is not None and not telemetry.ended:
        with contextlib.suppress(Exception):  # a tracer's failure never breaks the close of a stream
            telemetry.left()
