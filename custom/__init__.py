"""The hand-written layer of the `meganova` package: clients, transport, streaming, errors.

Public names are re-exported from `meganova` (`MegaNova`, `AsyncMegaNova`, `MeganovaError`) and
`meganova.errors`; import them from there.
"""

from ._client import AsyncMegaNova, MegaNova
from ._version import __version__
from .runtime.errors import MeganovaError
from .runtime.middleware import AsyncCallNext, CallNext, MiddlewareRequest
from .runtime.streaming import AsyncChatStream, ChatStream, ChatStreamChunk

__all__ = [
    "AsyncCallNext",
    "AsyncChatStream",
    "AsyncMegaNova",
    "CallNext",
    "ChatStream",
    "ChatStreamChunk",
    "MeganovaError",
    "MegaNova",
    "MiddlewareRequest",
    "__version__",
]
