"""`client.chat`: chat completions, whole or streamed (`create`, `stream`), generated from the spec.

Extension point used here: `_stream_class`, the stream object a streamed answer is read with.
"""

from __future__ import annotations

from ...api.chat import AsyncChatResource, ChatResource
from .._streaming import AsyncChatStream, ChatStream


class Chat(ChatResource[ChatStream]):
    """Chat completions: `create()` (with `stream=True`, a `ChatStream`) and `stream()`."""

    _stream_class = ChatStream


class AsyncChat(AsyncChatResource[AsyncChatStream]):
    """Chat completions: `await create()` and `await stream()`."""

    _stream_class = AsyncChatStream
