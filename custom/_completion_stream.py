"""`CompletionStream` / `AsyncCompletionStream`: a streamed chat answer in OpenAI's shape, for
`client.chat.completions.create(..., stream=True)` (the spelling of openai-python and the 0.4 SDK).

Each item is the event as sent, a `ChatCompletionChunk` (`chunk.choices[0].delta.content`, or
`delta.get("content")` as 0.4 users write it; `chunk.id`, `chunk.model`, `chunk.usage`). It reads the
same `ChatStream` underneath, so the same rules hold: `[DONE]` ends it, a cut raises, an error event
raises. A usage-only event (no choices) is given only when the request asked for it
(`stream_options={"include_usage": True}`), as OpenAI's server does; `usage` has it either way. Each
event is given once, as sent (the usage on the event that carried it). `AsyncCompletionStream` opens
lazily like `AsyncChatStream` (awaitable, `async with`, `async for`), and has `aclose()`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, AsyncIterator, Generator, Iterator, Optional

import httpx

from .runtime.streaming import AsyncChatStream, ChatStream, ChatStreamState

if TYPE_CHECKING:
    from ..models.chat_completion_chunk import ChatCompletionChunk
    from ..models.chat_response import ChatResponse
    from ..models.token_usage import TokenUsage


def _asked_for_usage(request: httpx.Request) -> bool:
    try:
        body = json.loads(request.content)
        return bool(body["stream_options"]["include_usage"])
    except (ValueError, KeyError, TypeError, httpx.RequestNotRead):
        return False


class _CompletionStreamBase:
    _stream: Any
    _with_usage: Optional[bool] = None

    def _openai_chunk(self, chunk: Any) -> Optional[ChatCompletionChunk]:
        """The event of a `ChatStreamChunk` in OpenAI's shape; None for what OpenAI would not send."""
        if chunk.done:
            return None
        if not chunk.event.get("choices"):
            if self._with_usage is None:
                self._with_usage = _asked_for_usage(self._stream.response.request)
            if not self._with_usage:
                return None
        return chunk.raw  # type: ignore[no-any-return]

    @property
    def response(self) -> httpx.Response:
        """The `httpx.Response` being read."""
        return self._stream.response  # type: ignore[no-any-return]

    @property
    def request_id(self) -> Optional[str]:
        """The answer's `X-Request-Id`."""
        return self._stream.request_id  # type: ignore[no-any-return]

    @property
    def usage(self) -> Optional[TokenUsage]:
        """The usage the server sent, once the stream was read to it."""
        return self._stream.usage  # type: ignore[no-any-return]


class CompletionStream(_CompletionStreamBase):
    """A streamed chat answer in OpenAI's shape: iterate it for `ChatCompletionChunk`s; a context
    manager; `close()`; `get_final_response()` reads the rest and returns the whole `ChatResponse`."""

    _stream: ChatStream

    def __init__(self, response: httpx.Response, state: ChatStreamState, reopen: Any = None) -> None:
        self._stream = ChatStream(response, state, reopen=reopen)

    def __iter__(self) -> Iterator[ChatCompletionChunk]:
        return self

    def __next__(self) -> ChatCompletionChunk:
        while True:
            chunk = self._openai_chunk(next(self._stream))
            if chunk is not None:
                return chunk

    def __enter__(self) -> CompletionStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and release the connection."""
        self._stream.close()

    def get_final_response(self) -> ChatResponse:
        """Read the rest of the stream; the whole answer as a `ChatResponse`."""
        return self._stream.get_final_response()


class AsyncCompletionStream(_CompletionStreamBase):
    """`CompletionStream` for `AsyncMegaNova`: `async for` it, `async with` it or `await` it (each opens it,
    once); `await aclose()` (or `close()`)."""

    _stream: AsyncChatStream

    def __init__(
        self,
        response: Optional[httpx.Response] = None,
        state: Optional[ChatStreamState] = None,
        reopen: Any = None,
        *,
        opener: Any = None,
    ) -> None:
        self._stream = AsyncChatStream(response, state, reopen=reopen, opener=opener)

    def __await__(self) -> Generator[Any, None, AsyncCompletionStream]:
        return self._open().__await__()

    async def _open(self) -> AsyncCompletionStream:
        await self._stream
        return self

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        while True:
            chunk = self._openai_chunk(await self._stream.__anext__())
            if chunk is not None:
                return chunk

    async def __aenter__(self) -> AsyncCompletionStream:
        return await self._open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading and release the connection (a stream never opened is never sent)."""
        await self._stream.aclose()

    async def close(self) -> None:
        """`aclose()`: stop reading and release the connection."""
        await self._stream.aclose()

    async def get_final_response(self) -> ChatResponse:
        """Read the rest of the stream; the whole answer as a `ChatResponse`."""
        return await self._stream.get_final_response()
