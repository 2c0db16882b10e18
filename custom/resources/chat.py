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
from ..tools._resource import AsyncToolsMethods, SyncToolsMethods


class Completions(ChatResource[CompletionStream], SyncToolsMethods):
    """`create()`: the chat call as openai-python spells it; with `stream=True`, OpenAI-shaped chunks."""

    _stream_class = CompletionStream


class AsyncCompletions(AsyncChatResource[AsyncCompletionStream], AsyncToolsMethods):
    """`await create()`: the chat call as openai-python spells it; `stream=True` gives OpenAI chunks."""

    _stream_class = AsyncCompletionStream


class Chat(ChatResource[ChatStream], SyncToolsMethods):
    """Chat completions: `create()` (with `stream=True`, a `ChatStream`), `stream()`, and `completions`."""

    _stream_class = ChatStream

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = Completions(client)
        """The OpenAI spelling: `client.chat.completions.create(...)`."""


class AsyncChat(AsyncChatResource[AsyncChatStream], AsyncToolsMethods):
    """Chat completions: `await create()`, `await stream()`, and `completions`."""

    _stream_class = AsyncChatStream

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = AsyncCompletions(client)
        """The OpenAI spelling: `await client.chat.completions.create(...)`."""
