"""Streamed chat: `ChatStreamChunk`, the pure `ChatStreamState` that turns SSE bytes into chunks, and the
`ChatStream` / `AsyncChatStream` objects that feed it from the network.

Rules (one place, both clients):
- `data: [DONE]` ends the stream. A body that ends without it, after every choice sent a finish_reason,
  ended normally too (Hugging Face `transformers serve` does that).
- A body that ends before either (a dropped connection, an empty 200 stream) raises `APIConnectionError`:
  a cut-off answer never looks complete.
- An error event (`event: error`, or an object with an `error` key) raises the matching `APIError`;
  malformed JSON raises `APIResponseValidationError`. Nothing is skipped silently.
- The last chunk yielded has `done=True` (its `delta` is empty; it carries the usage when sent).
- After `[DONE]` the rest of the body is read, so the connection goes back to the pool; leaving the loop
  early or `close()` closes the response.
"""

from __future__ import annotations

import json
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Generator,
    Iterator,
    List,
    Optional,
    Tuple,
)

import attrs
import httpx

from ._options import ClientOptions
from ._sse import ServerSentEvent, SSEDecoder
from ._transport import connection_error
from .errors import (
    APIConnectionError,
    APIResponseValidationError,
    ErrorInfo,
    MeganovaError,
    api_error,
    status_of_error_event,
)

_decode_json = json.JSONDecoder().decode

if TYPE_CHECKING:
    from ..models.chat_completion_chunk import ChatCompletionChunk
    from ..models.chat_response import ChatResponse
    from ..models.token_usage import TokenUsage
    from ..models.tool_call_delta import ToolCallDelta


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
    def raw(self) -> Optional[ChatCompletionChunk]:
        """The event as the generated model (built on first access); None on the final `done` chunk."""
        if self._raw is None and self.event is not None:
            from ..models.chat_completion_chunk import ChatCompletionChunk

            self._raw = _from_dict(ChatCompletionChunk, self.event, self.request_id)
        return self._raw


def _from_dict(cls: Any, data: Any, request_id: Optional[str]) -> Any:
    try:
        return cls.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise APIResponseValidationError(
            f"Stream event does not match {cls.__name__}: {exc!r}",
            status=200,
            request_id=request_id,
            body=data,
        ) from exc


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

    def __init__(self, request_id: Optional[str], secret: Optional[str] = None) -> None:
        self.request_id = request_id
        self.finished = False
        self.usage: Optional[TokenUsage] = None
        self.choices: Dict[int, _Choice] = {}
        self.head: Dict[str, Any] = {}
        self._decoder = SSEDecoder()
        self._secret = secret
        self._error: Optional[MeganovaError] = None
        self.started = False
        """Whether a chunk was handed out: from then on a broken connection raises, never resends."""

    def feed(self, piece: bytes) -> List[ChatStreamChunk]:
        """The chunks that `piece` completes. An error event or malformed data raises, after the chunks
        before it in the same piece were returned (at the next call). After [DONE] the rest is ignored."""
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
            if not out:
                raise
            self._error = exc
        if out:
            self.started = True
        return out

    def body_ended(self) -> Iterator[ChatStreamChunk]:
        """At the end of the body: nothing more after [DONE]; the final chunk if every choice finished;
        else `APIConnectionError`, since the answer was cut off.

        The body is read to its end even after [DONE] (`feed` ignores the rest), so that the connection
        goes back to the pool."""
        if self._error is not None:
            raise self._error
        if self.finished:
            return
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
        raise connection_error(exc, request) from exc

    def text(self, index: int = 0) -> str:
        """The text of choice `index` so far."""
        choice = self.choices.get(index)
        return "".join(choice.text) if choice else ""

    def final_response(self) -> ChatResponse:
        """The whole answer, assembled from the chunks, as a `ChatResponse`."""
        from ..models.chat_response import ChatResponse

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
        response: ChatResponse = _from_dict(ChatResponse, data, self.request_id)
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
        try:
            payload = _decode_json(data.decode())
        except ValueError as exc:  # UnicodeDecodeError too
            raise self._invalid(
                f"Malformed JSON in a stream event: {data[:200]!r}", data.decode(errors="replace")
            ) from exc
        if event.event == "error" or (isinstance(payload, dict) and "error" in payload):
            raise self._error_event(payload)
        if not isinstance(payload, dict):
            raise self._invalid(f"A stream event is not a JSON object: {data[:200]!r}", payload)
        choices = payload.get("choices") or ()
        if not isinstance(choices, (list, tuple)):
            raise self._invalid("A stream event's 'choices' is not a list.", payload)
        if not self.head:
            self.head = {k: payload[k] for k in ("id", "created", "model", "system_fingerprint") if k in payload}
        usage = None
        if payload.get("usage") is not None:
            from ..models.token_usage import TokenUsage

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
            state.finish_reason = finish_reason
        return ChatStreamChunk(
            content, index, self.request_id, False, finish_reason, tool_calls, reasoning, usage, payload
        )

    def _tool_calls(self, state: _Choice, raw_calls: Any, payload: Dict[str, Any]) -> List[ToolCallDelta]:
        from ..models.tool_call_delta import ToolCallDelta

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
        return api_error(status_of_error_event(error), info, request_id=self.request_id, secret=self._secret)

    def _done_chunk(self) -> ChatStreamChunk:
        first = self.choices.get(0)
        return ChatStreamChunk("", 0, self.request_id, True, first.finish_reason if first else None, usage=self.usage)


def open_stream(response: httpx.Response, options: ClientOptions) -> ChatStreamState:
    """The state for reading `response`'s event stream (its request id; the key to scrub from errors)."""
    return ChatStreamState(response.headers.get("x-request-id"), options.api_key)


Reopen = Callable[[httpx.HTTPError], Tuple[httpx.Response, ChatStreamState]]
"""Sends a stream's request again after `exc` (waiting first); raises when no retry is left."""
AsyncReopen = Callable[[httpx.HTTPError], Awaitable[Tuple[httpx.Response, ChatStreamState]]]


class _StreamBase:
    """What both stream objects share: the response, the state, the request id.

    A connection that breaks before the first chunk is sent again (the same Idempotency-Key, within
    `max_retries`, through `reopen`); after it, the break raises."""

    def __init__(self, response: httpx.Response, state: ChatStreamState, reopen: Any = None) -> None:
        self.response = response
        """The `httpx.Response` being read (headers arrived; the body is read as you iterate)."""
        self._state = state
        self._reopen = reopen
        self._chunks = self._iterate()

    def _iterate(self) -> Any:
        raise NotImplementedError

    @property
    def request_id(self) -> Optional[str]:
        """The answer's `X-Request-Id`."""
        return self._state.request_id


class ChatStream(_StreamBase):
    """A streamed chat answer: iterate it for `ChatStreamChunk`s. Also a context manager; `close()`
    releases the connection early. `text()` / `get_final_response()` read the rest and return it whole."""

    _reopen: Optional[Reopen]
    _chunks: Generator[ChatStreamChunk, None, None]

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
        self.response.close()

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

    def _iterate(self) -> Generator[ChatStreamChunk, None, None]:
        while True:
            state = self._state
            try:
                for piece in self.response.iter_bytes():
                    yield from state.feed(piece)
                yield from state.body_ended()
                return
            except httpx.HTTPError as exc:
                if not state.transport_failed(exc, self.response.request, self._reopen is not None):
                    return
                failure = exc
            finally:
                self.response.close()
            assert self._reopen is not None
            self.response, self._state = self._reopen(failure)


class AsyncChatStream(_StreamBase):
    """A streamed chat answer: `async for` it for `ChatStreamChunk`s. Also an async context manager;
    `await close()` releases the connection early. `await text()` / `await get_final_response()` read
    the rest and return it whole.
    """

    _reopen: Optional[AsyncReopen]
    _chunks: AsyncGenerator[ChatStreamChunk, None]

    def __aiter__(self) -> AsyncIterator[ChatStreamChunk]:
        return self._chunks  # the generator itself: no extra call per chunk

    async def __anext__(self) -> ChatStreamChunk:
        return await self._chunks.__anext__()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop reading and release the connection."""
        await self._chunks.aclose()
        await self.response.aclose()

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

    async def _iterate(self) -> AsyncGenerator[ChatStreamChunk, None]:
        while True:
            state = self._state
            try:
                async for piece in self.response.aiter_bytes():
                    for chunk in state.feed(piece):
                        yield chunk
                for chunk in state.body_ended():
                    yield chunk
                return
            except httpx.HTTPError as exc:
                if not state.transport_failed(exc, self.response.request, self._reopen is not None):
                    return
                failure = exc
            finally:
                await self.response.aclose()
            assert self._reopen is not None
            self.response, self._state = await self._reopen(failure)
