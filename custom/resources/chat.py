"""`client.chat`: chat completions, whole or streamed (`create`, `stream`), generated from the spec,
and `client.chat.completions.create(...)`, the OpenAI (and 0.4 SDK) spelling of the same call.

Extension point used here: `_stream_class`, the stream object a streamed answer is read with: the
guideline's `ChatStream` (`ChatStreamChunk`s) for `chat`, OpenAI-shaped chunks for `chat.completions`.
"""

from __future__ import annotations

from typing import Any

from ...api.chat import AsyncChatResource, ChatResource
from .._completion_stream import AsyncCompletionStream, CompletionStream
from .._streaming import AsyncChatStream, ChatStream
from ..tools._resource import AsyncStreamEventsMethod, AsyncToolsMethods, SyncStreamEventsMethod, SyncToolsMethods


class Completions(SyncStreamEventsMethod, ChatResource[CompletionStream], SyncToolsMethods):  # type: ignore[misc]
    """`create()`: the chat call as openai-python spells it; with `stream=True`, OpenAI-shaped chunks;
    `parse()`, and `stream()` giving openai's stream events."""

    _stream_class = CompletionStream


class AsyncCompletions(AsyncStreamEventsMethod, AsyncChatResource[AsyncCompletionStream], AsyncToolsMethods):  # type: ignore[misc]
    """`await create()`: the chat call as openai-python spells it; `stream=True` gives OpenAI chunks;
    `await parse()`, and `stream()` giving openai's stream events."""

    _stream_class = AsyncCompletionStream


class Chat(ChatResource[ChatStream], SyncToolsMethods):
    """Chat completions: `create()` (with `stream=True`, a `ChatStream`), `stream()`, `run_tools()` (the
    tool loop), `parse()` (structured outputs), and `completions`."""

    _stream_class = ChatStream

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = Completions(client)
        """The OpenAI spelling: `client.chat.completions.create(...)`."""


class AsyncChat(AsyncChatResource[AsyncChatStream], AsyncToolsMethods):
    """Chat completions: `await create()`, `await stream()`, `run_tools()`, `await parse()`, and
    `completions`."""

    _stream_class = AsyncChatStream

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = AsyncCompletions(client)
        """The OpenAI spelling: `await client.chat.completions.create(...)`."""
