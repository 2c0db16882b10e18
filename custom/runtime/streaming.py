"""Streamed chat: `ChatStreamChunk`, the pure `ChatStreamState` that turns SSE bytes into chunks, and the
`ChatStream` / `AsyncChatStream` objects that feed it from the network.

Rules (one place, both clients):
- `data: [DONE]` ends the stream. A body that ends without it, after every choice sent a finish_reason
  and after a complete event (its blank line), ended normally too (Hugging Face `transformers serve`
  does that).
- A body that ends before either (a dropped connection, an empty 200 stream), or inside an event (bytes
  without the blank line that ends it, even after a finish_reason), raises `APIConnectionError`: a
  cut-off answer never looks complete. A UTF-8 byte order mark at the start is skipped (`sse.py`).
- An error event (`event: error`, or an object with an `error` key) raises the matching `APIError`;
  malformed JSON (also JSON nested too deeply to decode) raises `APIResponseValidationError`. Nothing is
  skipped silently; whatever the server sends ends as a `MeganovaError`.
- Each chunk says a thing once: `usage` only on the chunk of the event that carried it (the stream's
  `usage` keeps it), a choice's `finish_reason` only on its first chunk that has one. The last chunk
  yielded has `done=True` (its `delta` is empty, no usage, no finish_reason); every chunk's `raw` is a
  `ChatCompletionChunk` (the `done` one's: the stream's id, created and model, no choices).
- After `[DONE]` the SDK reads on only a little, so that the connection can go back to the pool: at most
  `DRAIN_BYTES` (64 KiB) within `DRAIN_SECONDS` (0.5 s, a deadline on the socket reads), and only on an
  HTTP/1.1 connection of httpcore with an uncompressed body; then the response is closed, and a body that
  has not ended by then closes its connection. The `done` chunk is handed out after that; the loop ends at
  `[DONE]` whatever the server does next (`: ping` comments forever included).
- Memory: the body is read raw and decoded by the one body reader (`_body.Decoder`: gzip, deflate,
  stacked, in steps of at most 1 MiB, so no read inflates past that); one SSE line or one event's data
  may hold at most `MAX_EVENT_BYTES` (16 MiB, see `sse.py`) or `max_response_bytes` when smaller (the
  limit counts per event in a stream), counted after decoding: past it
  `APIResponseValidationError` is raised and the connection closed (a gzip bomb included).
- Time: `timeout=` bounds each silence of the server, i.e. each socket read (the wait for the headers,
  then each wait between two pieces of the body); a stream that keeps sending is never cut by it. A silence
  longer than that raises `APITimeoutError` (sent again first if no chunk was handed out yet and retries
  are left).
- Secrets: every secret of the client (`secrets.py`) is replaced by its mask (`sk-***`, `agent_***`) in
  every error a stream raises (message, code, type, param, request id, body however nested, and the URL
  of a connection error, where a Studio agent's key travels), should the server echo one.

Releasing connections (a stream left early must never hang the process):
- Explicit `close()`, `with` / `async with`, an error, and the normal end close the response at once
  (a sync `close()` that a finalizer makes while the GC is collecting queues it, as below).
- No reference cycle: the stream object and its iterator (a generator) share a small `_Link` and neither
  is referenced from it, so a stream left by `break` or an exception, or never iterated, is freed by
  reference counting at once, and `_Link.__del__` closes its response there and then.
- While the cyclic GC is collecting (tracked with `gc.callbacks`), nothing that takes the pool's lock runs
  from a finalizer: httpcore 1.0's pool holds a non-reentrant lock while it works, and the GC may run
  inside it (encode/httpcore#996). A stream finalized then only queues its response (`_DEFERRED`); the
  queue is emptied by the next call the client makes (`release_deferred`), by `close()` of any stream and
  of the client. Open bodies are also kept in `_OPEN` until closed, so httpx's half-read body generators
  are never garbage themselves (the GC would finalize them, and that takes the pool's lock).
- Async streams: an abandoned `AsyncChatStream` schedules the closing of its response on its event loop.
- Async streams open lazily: `client.chat.stream(...)` (a plain call) checks the arguments and returns
  the stream; the request is sent by `await stream`, `async with stream` or the first `async for`
  (whichever comes first; each returns the same stream).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import json
import time
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Deque,
    Dict,
    Generator,
    Iterator,
    List,
    Optional,
    Set,
    Tuple,
    Union,
)

import attrs
import httpx

from .body import Decoder
from .errors import (
    APIConnectionError,
    APIResponseValidationError,
    ErrorInfo,
    MeganovaError,
    api_error,
    status_of_error_event,
)
from .secrets import Secrets, as_secrets, scrub, secrets_of
from .send import cause_of, connection_error
from .sse import MAX_EVENT_BYTES, ServerSentEvent, SSEDecoder
from .telemetry import TELEMETRY_EXTENSION, CallTelemetry, stream_left

_decode_json = json.JSONDecoder().decode

if TYPE_CHECKING:
    from ...models.chat_completion_chunk import ChatCompletionChunk
    from ...models.chat_response import ChatResponse
    from ...models.token_usage import TokenUsage
    from ...models.tool_call_delta import ToolCallDelta

DRAIN_BYTES = 64 * 1024
"""After `[DONE]`: the most body bytes read on to reuse the connection."""
DRAIN_SECONDS = 0.5
"""After `[DONE]`: the longest the body is waited for to end, to reuse the connection."""

_EXCERPT = 200


@attrs.define(slots=True)
class ChatStreamChunk:
    """One piece of a streamed answer. `delta` is the new text ("" for role-only, tool-call, usage and
    the final `done` chunk); `raw` is the whole event as the generated `ChatCompletionChunk`."""

    delta: str
    index: int = 0
    request_id: Optional[str] = None
    done: bool = False
    finish_reason: Optional[str] = None
    tool_calls: Optional[List[ToolCallDelta]] = None
    reasoning_content: Optional[str] = None
    usage: Optional[TokenUsage] = None
    event: Optional[Dict[str, Any]] = attrs.field(default=None, repr=False, eq=False)
    """The event's JSON object, as sent."""
    _raw: Optional[ChatCompletionChunk] = attrs.field(default=None, init=False, repr=False, eq=False)

    @property
    def raw(self) -> ChatCompletionChunk:
        """The event as the generated model (built on first access); on the final `done` chunk, one with
        the stream's id, created and model and no choices."""
        raw = self._raw
        if raw is None:
            raw = self._raw = _from_dict(_chunk_class(), self.event or {"choices": []}, self.request_id)
        return raw


def _chunk_class() -> Any:
    from ...models.chat_completion_chunk import ChatCompletionChunk

    return ChatCompletionChunk


def _from_dict(cls: Any, data: Any, request_id: Optional[str]) -> Any:
    try:
        return cls.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        problem = repr(exc)[:_EXCERPT]
    # raised outside the `except`: the original error (which may quote the data) is not chained
    raise APIResponseValidationError(
        f"Stream event does not match {cls.__name__}: {problem}", status=200, request_id=request_id, body=data
    )


def _excerpt(data: bytes, secrets: Secrets) -> bytes:
    """The start of `data` for a message, without a secret (nor a piece of one cut at the end)."""
    if not secrets:
        return data[:_EXCERPT]
    short = secrets.bytes(data)[:_EXCERPT]
    for secret in secrets.items:
        key = secret.reveal().encode()
        for size in range(min(len(key) - 1, len(short)), 2, -1):
            if short.endswith(key[:size]):
                return short[:-size] + secret.mask.encode()
    return short


def _adopt(exc: MeganovaError, request_id: Optional[str], secrets: Secrets) -> MeganovaError:
    """`exc`, with the stream's request id, and the secrets scrubbed from every attribute."""
    if exc.request_id is None:
        exc.request_id = request_id
    if secrets:
        for name in ("message", "code", "type", "param", "request_id", "body"):
            setattr(exc, name, scrub(getattr(exc, name), secrets))
        exc.args = tuple(scrub(exc.args, secrets))
    return exc


@attrs.define(slots=True)
class _Choice:
    """What the stream has said so far about one choice, for `get_final_response`."""

    role: Optional[str] = None
    text: List[str] = attrs.Factory(list)
    reasoning: List[str] = attrs.Factory(list)
    tool_calls: Dict[int, Dict[str, Any]] = attrs.Factory(dict)
    finish_reason: Optional[str] = None


class ChatStreamState:
    """Turns the bytes of a chat stream into `ChatStreamChunk`s, and remembers enough to rebuild the
    whole answer. Pure: no I/O."""

    def __init__(
        self,
        request_id: Optional[str],
        secrets: Union[Secrets, str, None] = None,
        max_event_bytes: int = MAX_EVENT_BYTES,
    ) -> None:
        self.request_id = request_id
        self.finished = False
        self.usage: Optional[TokenUsage] = None
        self.choices: Dict[int, _Choice] = {}
        self.head: Dict[str, Any] = {}
        self._decoder = SSEDecoder(max_event_bytes)
        self._secrets = as_secrets(secrets)
        self._finished: Set[int] = set()
        """The choices whose finish_reason was handed out (each is said once)."""
        self._error: Optional[MeganovaError] = None
        self.started = False
        """Whether a chunk was handed out: from then on a broken connection raises, never resends."""
        self.telemetry: Optional[CallTelemetry] = None
        """The call's span, when traced: told of the first chunk, the end, an error (`telemetry.py`)."""

    def feed(self, piece: bytes) -> List[ChatStreamChunk]:
        """The chunks that `piece` completes. An error event or malformed data raises, after the chunks
        before it in the same piece were returned (at the next call). After [DONE] the rest is ignored."""
        telemetry = self.telemetry
        if telemetry is None:
            return self._feed(piece)
        try:
            out = self._feed(piece)
        except MeganovaError as exc:
            telemetry.failed(exc)
            raise
        telemetry.streamed(self, out)
        return out

    def _feed(self, piece: bytes) -> List[ChatStreamChunk]:
        if self._error is not None:
            raise self._error
        out: List[ChatStreamChunk] = []
        if self.finished:
            return out
        try:
            for event in self._decoder.feed(piece):
                if self.finished:
                    break
                self._event(event, out)
        except MeganovaError as exc:
            error = _adopt(exc, self.request_id, self._secrets)
            if not out:
                raise error from None
            self._error = error
        except RecursionError:  # a structure nested too deeply to handle, whatever did it
            error = self._invalid("A stream event is nested too deeply to be read.", None)
            if not out:
                raise error from None
            self._error = error
        if out:
            self.started = True
        return out

    def body_ended(self) -> Iterator[ChatStreamChunk]:
        """At the end of the body: nothing more after [DONE]; the final chunk if every choice finished;
        else `APIConnectionError`, since the answer was cut off."""
        telemetry = self.telemetry
        try:
            yield from self._body_ended()
        except MeganovaError as exc:
            if telemetry is not None:
                telemetry.failed(exc)
            raise
        if telemetry is not None:
            telemetry.streamed(self, [])

    def _body_ended(self) -> Iterator[ChatStreamChunk]:
        if self._error is not None:
            raise self._error
        if self.finished:
            return
        if self._decoder.pending:
            raise APIConnectionError(
                "The stream ended inside an event (no blank line after its last bytes): it was cut off.",
                status=200,
                request_id=self.request_id,
            )
        if self.choices and all(c.finish_reason is not None for c in self.choices.values()):
            self.finished = True
            yield self._done_chunk()
            return
        raise APIConnectionError(
            "The stream ended before the answer was complete (no [DONE], no finish_reason): it was cut off.",
            status=200,
            request_id=self.request_id,
        )

    def transport_failed(self, exc: httpx.HTTPError, request: httpx.Request, resendable: bool) -> bool:
        """A read failed. True: send the request again (nothing was handed out yet, and `resendable`:
        retries are left). False: the answer was already complete ([DONE] seen); the connection is just
        not reused. Otherwise raise `APIConnectionError` (or `APITimeoutError`)."""
        if self._error is not None:
            raise self._error
        if self.finished:
            return False
        if resendable and not self.started:
            return True
        error = connection_error(exc, request)
        if self.telemetry is not None:
            self.telemetry.failed(error)
        raise error from cause_of(exc, request)

    def text(self, index: int = 0) -> str:
        """The text of choice `index` so far."""
        choice = self.choices.get(index)
        return "".join(choice.text) if choice else ""

    def final_response(self) -> ChatResponse:
        """The whole answer, assembled from the chunks, as a `ChatResponse`."""
        from ...models.chat_response import ChatResponse

        choices = []
        for index in sorted(self.choices):
            choice = self.choices[index]
            message: Dict[str, Any] = {"role": choice.role or "assistant", "content": "".join(choice.text)}
            if choice.reasoning:
                message["reasoning_content"] = "".join(choice.reasoning)
            if choice.tool_calls:
                message["tool_calls"] = [choice.tool_calls[i] for i in sorted(choice.tool_calls)]
            choices.append({"index": index, "message": message, "finish_reason": choice.finish_reason})
        data: Dict[str, Any] = {
            "id": self.head.get("id", ""),
            "object": "chat.completion",
            "choices": choices,
        }
        for key in ("created", "model", "system_fingerprint"):
            if key in self.head:
                data[key] = self.head[key]
        if self.usage is not None:
            data["usage"] = self.usage.to_dict()
        try:
            response: ChatResponse = _from_dict(ChatResponse, data, self.request_id)
        except MeganovaError as exc:
            raise _adopt(exc, self.request_id, self._secrets) from None
        response.request_id = self.request_id
        return response

    def _invalid(self, message: str, body: Any) -> APIResponseValidationError:
        return APIResponseValidationError(message, status=200, request_id=self.request_id, body=body)

    def _event(self, event: ServerSentEvent, out: List[ChatStreamChunk]) -> None:
        data = event.data
        if data == b"[DONE]":
            self.finished = True
            out.append(self._done_chunk())
            return
        problem: Optional[str] = None
        try:
            payload = _decode_json(data.decode())
        except ValueError:  # UnicodeDecodeError too
            problem = "Malformed JSON"
        except RecursionError:
            problem = "JSON nested too deeply"
        if problem is not None:  # raised outside the `except`: the decoder's error quotes the data
            text = data.decode(errors="replace")
            raise self._invalid(f"{problem} in a stream event: {_excerpt(data, self._secrets)!r}", text)
        if event.event == "error" or (isinstance(payload, dict) and "error" in payload):
            raise self._error_event(payload)
        if not isinstance(payload, dict):
            raise self._invalid(f"A stream event is not a JSON object: {_excerpt(data, self._secrets)!r}", payload)
        choices = payload.get("choices") or ()
        if not isinstance(choices, (list, tuple)):
            raise self._invalid("A stream event's 'choices' is not a list.", payload)
        if not self.head:
            self.head = {k: payload[k] for k in ("id", "created", "model", "system_fingerprint") if k in payload}
        usage = None
        if payload.get("usage") is not None:
            from ...models.token_usage import TokenUsage

            usage = self.usage = _from_dict(TokenUsage, payload["usage"], self.request_id)
        if not choices:  # a usage-only chunk (or a keep-alive object)
            out.append(ChatStreamChunk("", 0, self.request_id, usage=usage, event=payload))
            return
        for choice in choices:
            out.append(self._choice(choice, payload, usage))
            usage = None

    def _choice(self, choice: Any, payload: Dict[str, Any], usage: Optional[TokenUsage]) -> ChatStreamChunk:
        try:
            index = choice.get("index", 0)
            delta = choice.get("delta") or {}
            content = delta.get("content") or ""
            finish_reason = choice.get("finish_reason")
            reasoning = delta.get("reasoning_content")
        except AttributeError:  # a choice or delta that is not an object
            raise self._invalid("A stream choice or delta is not a JSON object.", payload) from None
        if (
            type(index) is not int
            or type(content) is not str
            or not (finish_reason is None or type(finish_reason) is str)
            or not (reasoning is None or type(reasoning) is str)
        ):
            raise self._invalid("A stream choice has a field of the wrong type.", payload)
        state = self.choices.get(index)
        if state is None:
            state = self.choices[index] = _Choice()
        if content:
            state.text.append(content)
        tool_calls = None
        if len(delta) > 1 or not content:  # the rarer fields: role, reasoning, tool calls
            if reasoning:
                state.reasoning.append(reasoning)
            role = delta.get("role")
            if isinstance(role, str):
                state.role = role
            raw_calls = delta.get("tool_calls")
            if raw_calls:
                tool_calls = self._tool_calls(state, raw_calls, payload)
        if finish_reason is not None:
            if index in self._finished:  # said already: once per choice
                finish_reason = None
            else:
                self._finished.add(index)
                state.finish_reason = finish_reason
        return ChatStreamChunk(
            content, index, self.request_id, False, finish_reason, tool_calls, reasoning, usage, payload
        )

    def _tool_calls(self, state: _Choice, raw_calls: Any, payload: Dict[str, Any]) -> List[ToolCallDelta]:
        from ...models.tool_call_delta import ToolCallDelta

        if not isinstance(raw_calls, list):
            raise self._invalid("A stream delta's 'tool_calls' is not a list.", payload)
        calls: List[ToolCallDelta] = [_from_dict(ToolCallDelta, c, self.request_id) for c in raw_calls]
        for call in raw_calls:  # merge the pieces: ids and names once, arguments appended
            function = call.get("function") or {}
            strings = (call.get("id"), call.get("type"), function.get("name"), function.get("arguments"))
            if type(call["index"]) is not int or not all(v is None or type(v) is str for v in strings):
                raise self._invalid("A stream tool call has a field of the wrong type.", payload)
            merged = state.tool_calls.setdefault(
                call["index"], {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
            )
            if call.get("id"):
                merged["id"] = call["id"]
            if call.get("type"):
                merged["type"] = call["type"]
            if function.get("name"):
                merged["function"]["name"] = function["name"]
            if function.get("arguments"):
                merged["function"]["arguments"] += function["arguments"]
        return calls

    def _error_event(self, payload: Any) -> MeganovaError:
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, str):
            error = {"message": error}
        if not isinstance(error, dict):
            error = payload if isinstance(payload, dict) else {"message": str(payload)}
        info = ErrorInfo(
            str(error.get("message") or "The server sent an error event in the stream."),
            type=None if error.get("type") is None else str(error.get("type")),
            code=None if error.get("code") is None else str(error.get("code")),
            param=None if error.get("param") is None else str(error.get("param")),
            body=payload,
        )
        return api_error(status_of_error_event(error), info, request_id=self.request_id, secrets=self._secrets)

    def _done_chunk(self) -> ChatStreamChunk:
        """The last chunk: nothing new in it (the usage and finish_reasons were on their own chunks);
        its `raw` has the stream's id, created and model, and no choices."""
        chunk = ChatStreamChunk("", 0, self.request_id, True)
        event = {"id": "", "object": "chat.completion.chunk", "created": 0, "model": "", **self.head, "choices": []}
        chunk._raw = _from_dict(_chunk_class(), event, self.request_id)
        return chunk


def open_stream(response: httpx.Response, max_response_bytes: int = MAX_EVENT_BYTES) -> ChatStreamState:
    """The state for reading `response`'s event stream: its request id, the secrets its request
    carries (scrubbed from every error), and `max_response_bytes` counted per event (within
    `MAX_EVENT_BYTES`)."""
    limit = min(MAX_EVENT_BYTES, max_response_bytes)
    state = ChatStreamState(response.headers.get("x-request-id"), secrets_of(response.request), limit)
    state.telemetry = response.request.extensions.get(TELEMETRY_EXTENSION)
    return state


Reopen = Callable[[httpx.HTTPError], Tuple[httpx.Response, ChatStreamState]]
"""Sends a stream's request again after `exc` (waiting first); raises when no retry is left."""
AsyncReopen = Callable[[httpx.HTTPError], Awaitable[Tuple[httpx.Response, ChatStreamState]]]
AsyncOpener = Callable[[], Awaitable[Tuple[httpx.Response, ChatStreamState]]]
"""Sends an async stream's request (with its retries): the open response and its state."""


# --- releasing connections (see the module docstring) -----------------------------------------------

_collecting = False
"""Whether the cyclic GC is collecting right now (kept by `_gc_phase`)."""


def _gc_phase(phase: str, info: Dict[str, int]) -> None:
    global _collecting
    _collecting = phase == "start"


gc.callbacks.append(_gc_phase)


class _Body:
    """One response being read, and the iterator of its body once started. Registered in `_OPEN` until
    closed: httpx's half-read body generators stay reachable, so the GC never finalizes them."""

    __slots__ = ("decoder", "identity", "pieces", "response")

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.pieces: Any = None
        self.decoder = Decoder(response.headers)
        self.identity = self.decoder.identity
        """Whether the body is read as sent (then bytes after [DONE] may be drained)."""
        _OPEN.add(self)

    def iterate(self) -> Iterator[bytes]:
        """The body's pieces, as they arrive (decoded by the one body reader, `_body.Decoder`, in steps
        of at most `_body.STEP` bytes: never with httpx's `iter_bytes`, which inflates a piece whole)."""
        response = self.response
        # uncompressed: the byte stream itself, one layer less per piece, and we decide when it is closed
        self.pieces = iter(response.stream) if self.identity else self._decoded()  # type: ignore[arg-type]
        return self.pieces  # type: ignore[no-any-return]

    def _decoded(self) -> Iterator[bytes]:
        decoder = self.decoder
        for raw in self.response.iter_raw():
            yield from decoder.decode(raw)
        yield from decoder.flush()

    def aiterate(self) -> AsyncIterator[bytes]:
        response = self.response
        if self.identity:
            self.pieces = response.stream.__aiter__()  # type: ignore[union-attr]
        else:
            self.pieces = self._adecoded()
        return self.pieces  # type: ignore[no-any-return]

    async def _adecoded(self) -> AsyncIterator[bytes]:
        decoder = self.decoder
        async for raw in self.response.aiter_raw():
            for piece in decoder.decode(raw):
                yield piece
        for piece in decoder.flush():
            yield piece

    def close(self) -> None:
        _OPEN.discard(self)
        self.response.close()

    async def aclose(self) -> None:
        _OPEN.discard(self)
        await self.response.aclose()


_OPEN: Set[_Body] = set()
"""The bodies of the streams not closed yet."""
_DEFERRED: Deque[_Body] = collections.deque()
"""Bodies of sync streams finalized while the GC was collecting: closed by `release_deferred`."""
_TASKS: Set[Any] = set()
"""The tasks closing abandoned async streams (the loop keeps only weak references)."""


def release_deferred() -> None:
    """Closes the responses of the streams abandoned while the GC was collecting. Called by each call of
    a client, by `close()` of streams and clients: never while a lock of the pool is held."""
    while _DEFERRED:
        try:
            body = _DEFERRED.popleft()
        except IndexError:  # another thread took the last one
            return
        with contextlib.suppress(Exception):  # the connection is dropped either way
            body.close()


def _aclose_later(body: _Body, loop: asyncio.AbstractEventLoop) -> None:
    task = loop.create_task(body.aclose())
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


class _Link:
    """What a stream object and its iterator share: the body being read, the state, how to send again.

    Neither the stream nor the iterator is referenced from here, so they form no cycle: when both are
    gone (left by `break`, an exception, or never iterated) reference counting frees the link at once,
    and `__del__` releases the connection."""

    __slots__ = ("body", "failure", "loop", "opener", "reopen", "state")

    def __init__(
        self,
        body: Optional[_Body],
        state: Optional[ChatStreamState],
        reopen: Any,
        loop: Optional[asyncio.AbstractEventLoop],
        opener: Any = None,
    ) -> None:
        self.body = body
        """The response being read; None while an async stream is not opened yet."""
        self.state = state
        self.reopen = reopen
        self.loop = loop
        """The event loop of an async stream; None for a sync one."""
        self.opener = opener
        """An async stream not opened yet: sends the request (`AsyncOpener`); None once used."""
        self.failure: Optional[BaseException] = None
        """Why opening failed (raised again by later uses of the stream)."""

    def __del__(self) -> None:
        if not _collecting:  # a span is ended outside the GC only (an exporter may take locks)
            stream_left(self.state)
        body = self.body
        if body is None:
            return
        try:
            if body.response.is_closed:
                _OPEN.discard(body)
            elif self.loop is not None:  # async: its loop closes it, soon
                if self.loop.is_closed():
                    _OPEN.discard(body)
                else:
                    self.loop.call_soon_threadsafe(_aclose_later, body, self.loop)
            elif _collecting:  # the GC may be running inside the pool's lock: later, outside
                _DEFERRED.append(body)
            else:
                body.close()
        except Exception:  # at interpreter exit, or a loop closed meanwhile
            _OPEN.discard(body)


class _ReadUntil:
    """A network stream's `read`, with a deadline on top of the read timeout (the drain after [DONE])."""

    __slots__ = ("deadline", "read")

    def __init__(self, read: Callable[..., bytes], deadline: float) -> None:
        self.read = read
        self.deadline = deadline

    def __call__(self, max_bytes: int, timeout: Optional[float] = None) -> bytes:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _drain_timeout()
        return self.read(max_bytes, left if timeout is None or timeout > left else timeout)


def _drain_timeout() -> Exception:
    import httpcore  # here, not at import: `import meganova` does not pay for httpcore

    return httpcore.ReadTimeout("the body did not end soon after [DONE]")


class _AsyncReadUntil:
    """`_ReadUntil` for an async network stream."""

    __slots__ = ("deadline", "read")

    def __init__(self, read: Callable[..., Awaitable[bytes]], deadline: float) -> None:
        self.read = read
        self.deadline = deadline

    async def __call__(self, max_bytes: int, timeout: Optional[float] = None) -> bytes:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _drain_timeout()
        return await self.read(max_bytes, left if timeout is None or timeout > left else timeout)


_Bounded = Tuple[Any, Any]


def _bound_reads(body: _Body, wrapper: Union[type[_ReadUntil], type[_AsyncReadUntil]]) -> Optional[_Bounded]:
    """Puts the drain deadline on the reads of `body`'s connection: (the network stream, its own `read`
    attribute to put back), or None when the body is not drained (not httpcore's HTTP/1.1, compressed)."""
    network = body.response.extensions.get("network_stream")
    if not body.identity or network is None:
        return None
    try:
        own = vars(network).get("read")
        network.read = wrapper(network.read, time.monotonic() + DRAIN_SECONDS)
    except (TypeError, AttributeError):  # no instance attributes: not drained
        return None
    return network, own


def _unbound_reads(bounded: _Bounded) -> None:
    """Puts back the reads of the connection, before it can go back to the pool (at `close`)."""
    network, own = bounded
    if own is None:
        del network.read
    else:
        network.read = own


def _drain(body: _Body) -> None:
    """After [DONE]: reads what is left of the body, boundedly (see the module docstring), and closes
    the response: the connection goes back to the pool if the body ended, else it is closed."""
    bounded = _bound_reads(body, _ReadUntil)
    if bounded is not None:
        try:
            left = DRAIN_BYTES
            for piece in body.pieces:
                left -= len(piece)
                if left < 0:
                    break
        except httpx.HTTPError:
            pass
        finally:
            _unbound_reads(bounded)
    body.close()


async def _adrain(body: _Body) -> None:
    """`_drain` for an async stream."""
    bounded = _bound_reads(body, _AsyncReadUntil)
    if bounded is not None:
        try:
            left = DRAIN_BYTES
            async for piece in body.pieces:
                left -= len(piece)
                if left < 0:
                    break
        except httpx.HTTPError:
            pass
        finally:
            _unbound_reads(bounded)
    await body.aclose()


def _iterate(link: _Link) -> Generator[ChatStreamChunk, None, None]:
    """A sync stream's chunks. References the link only (no cycle with the stream object). Left early,
    it does no cleanup itself (`close()` or the link's `__del__` does)."""
    while True:
        state = link.state
        body = link.body
        assert state is not None and body is not None
        try:
            for piece in body.iterate():
                chunks = state.feed(piece)
                if state.finished:  # [DONE]: its chunk is the last one
                    done = chunks.pop()
                    yield from chunks
                    _drain(body)
                    yield done
                    return
                yield from chunks
            body.close()
            yield from state.body_ended()
            return
        except httpx.HTTPError as exc:
            body.close()
            if not state.transport_failed(exc, body.response.request, link.reopen is not None):
                return
            failure = exc
        except GeneratorExit:
            raise
        except BaseException:
            body.close()
            raise
        response, link.state = link.reopen(failure)
        link.body = _Body(response)


async def _aopen(link: _Link) -> None:
    """Sends the request of an async stream not opened yet (the first `await`, `async with` or
    `async for`); raises why it failed, then and at every later use."""
    if link.body is not None:
        return
    if link.failure is not None:
        raise link.failure
    opener = link.opener
    if opener is None:
        raise MeganovaError("This stream was closed before it was opened.")
    link.opener = None
    try:
        response, state = await opener()
    except BaseException as exc:
        link.failure = exc
        raise
    link.body = _Body(response)
    link.state = state
    link.loop = asyncio.get_running_loop()


async def _aiterate(link: _Link) -> AsyncGenerator[ChatStreamChunk, None]:
    """`_iterate` for an async stream (opening it first, if it was not)."""
    await _aopen(link)
    while True:
        state = link.state
        body = link.body
        assert state is not None and body is not None
        try:
            async for piece in body.aiterate():
                chunks = state.feed(piece)
                if state.finished:  # [DONE]: its chunk is the last one
                    done = chunks.pop()
                    for chunk in chunks:
                        yield chunk
                    await _adrain(body)
                    yield done
                    return
                for chunk in chunks:
                    yield chunk
            await body.aclose()
            for chunk in state.body_ended():
                yield chunk
            return
        except httpx.HTTPError as exc:
            await body.aclose()
            if not state.transport_failed(exc, body.response.request, link.reopen is not None):
                return
            failure = exc
        except GeneratorExit:
            raise
        except BaseException:
            await body.aclose()
            raise
        response, link.state = await link.reopen(failure)
        link.body = _Body(response)


class _StreamBase:
    """What both stream objects share: the link to the response and state, the request id.

    A connection that breaks before the first chunk is sent again (the same Idempotency-Key, within
    `max_retries`, through `reopen`); after it, the break raises."""

    __slots__ = ("__weakref__", "_chunks", "_link")

    _link: _Link

    @property
    def response(self) -> httpx.Response:
        """The `httpx.Response` being read (headers arrived; the body is read as you iterate)."""
        body = self._link.body
        if body is None:
            raise MeganovaError("This stream is not opened yet: `await` it, or use `async with` or `async for`.")
        return body.response

    @property
    def request_id(self) -> Optional[str]:
        """The answer's `X-Request-Id` (None before an async stream is opened)."""
        state = self._link.state
        return None if state is None else state.request_id

    @property
    def usage(self) -> Optional[TokenUsage]:
        """The usage the server sent, once the stream was read to it (also on the chunk that carried it)."""
        state = self._link.state
        return None if state is None else state.usage

    @property
    def _state(self) -> ChatStreamState:
        state = self._link.state
        assert state is not None
        return state


class ChatStream(_StreamBase):
    """A streamed chat answer: iterate it for `ChatStreamChunk`s. Also a context manager; `close()`
    releases the connection early. `text()` / `get_final_response()` read the rest and return it whole.

    Time: `timeout=` bounds each silence between two bytes received (each socket read), not the whole
    stream; a longer silence raises `APITimeoutError`. The loop ends at `[DONE]` (see the module docstring
    for what is read after it). Left early (`break`, an exception) the connection is released at once,
    even without `with` or `close()`."""

    __slots__ = ()

    _chunks: Generator[ChatStreamChunk, None, None]

    def __init__(self, response: httpx.Response, state: ChatStreamState, reopen: Optional[Reopen] = None) -> None:
        self._link = _Link(_Body(response), state, reopen, None)
        self._chunks = _iterate(self._link)

    def __iter__(self) -> Iterator[ChatStreamChunk]:
        return self._chunks  # the generator itself: no extra call per chunk

    def __next__(self) -> ChatStreamChunk:
        return next(self._chunks)

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and release the connection."""
        self._chunks.close()
        stream_left(self._link.state)
        body = self._link.body
        assert body is not None
        if _collecting:  # called by a finalizer the GC runs (`with` in an abandoned generator): later
            _DEFERRED.append(body)
            return
        body.close()
        release_deferred()

    def text(self) -> str:
        """Read the rest of the stream; the whole text of the answer (choice 0)."""
        for _ in self:
            pass
        return self._state.text()

    def get_final_response(self) -> ChatResponse:
        """Read the rest of the stream; the whole answer as a `ChatResponse`."""
        for _ in self:
            pass
        return self._state.final_response()


class AsyncChatStream(_StreamBase):
    """A streamed chat answer: `async for` it for `ChatStreamChunk`s. `client.chat.stream(...)` returns
    it unopened (no `await` needed): `async with client.chat.stream(...) as stream`, `stream = await
    client.chat.stream(...)` and a first `async for` each send the request (once) and give this same
    stream. `await aclose()` (or `close()`) releases the connection early. `await text()` / `await
    get_final_response()` read the rest and return it whole.

    Time: `timeout=` bounds each silence between two bytes received (each socket read), not the whole
    stream; a longer silence raises `APITimeoutError`. Left early, the connection is released by the
    event loop soon after (or at once with `async with` / `await aclose()`).
    """

    __slots__ = ()

    _chunks: AsyncGenerator[ChatStreamChunk, None]

    def __init__(
        self,
        response: Optional[httpx.Response] = None,
        state: Optional[ChatStreamState] = None,
        reopen: Optional[AsyncReopen] = None,
        *,
        opener: Optional[AsyncOpener] = None,
    ) -> None:
        """Over an open `response` (with its `state`), or unopened: `opener` sends the request when the
        stream is first awaited, entered or iterated."""
        if response is not None:
            assert state is not None
            self._link = _Link(_Body(response), state, reopen, asyncio.get_running_loop())
        else:
            self._link = _Link(None, None, reopen, None, opener)
        self._chunks = _aiterate(self._link)

    def __await__(self) -> Generator[Any, None, AsyncChatStream]:
        return self._open().__await__()

    async def _open(self) -> AsyncChatStream:
        await _aopen(self._link)
        return self

    def __aiter__(self) -> AsyncIterator[ChatStreamChunk]:
        return self._chunks  # the generator itself: no extra call per chunk

    async def __anext__(self) -> ChatStreamChunk:
        return await self._chunks.__anext__()

    async def __aenter__(self) -> AsyncChatStream:
        return await self._open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading and release the connection (a stream never opened is never sent)."""
        link = self._link
        link.opener = None
        await self._chunks.aclose()
        stream_left(link.state)
        if link.body is not None:
            await link.body.aclose()
        release_deferred()

    async def close(self) -> None:
        """`aclose()`: stop reading and release the connection."""
        await self.aclose()

    async def text(self) -> str:
        """Read the rest of the stream; the whole text of the answer (choice 0)."""
        async for _ in self:
            pass
        return self._state.text()

    async def get_final_response(self) -> ChatResponse:
        """Read the rest of the stream; the whole answer as a `ChatResponse`."""
        async for _ in self:
            pass
        return self._state.final_response()
