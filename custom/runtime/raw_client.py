"""The bridge that gives the generated low-level client (`client.raw`) the facade's retries.

`client.raw` is the generated `AuthenticatedClient`, holding an httpx client whose transport is one of
these: every request the generated endpoint functions make goes through the facade's sender (retries,
Idempotency-Key, the pool), and its final answer, error or not, is handed back to the generated code.
"""

from __future__ import annotations

from typing import Any, Dict, Union

import httpx

from .options import ClientOptions
from .send import AsyncSender, RetryState, SyncSender

_DROP = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _detached(response: httpx.Response) -> httpx.Response:
    """A response holding the already read (and decoded) body, for the outer client to read again."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROP]
    return httpx.Response(response.status_code, headers=headers, content=response.content)


def _no_raise(request: httpx.Request, sender: Union[SyncSender, AsyncSender]) -> RetryState:
    """Retries as usual, but the final answer, error or not, goes back to the generated code."""
    return RetryState(request, sender.options, raise_for_status=False)


class SyncRawTransport(httpx.BaseTransport):
    """Sends the generated code's requests through a `SyncSender`."""

    def __init__(self, sender: SyncSender) -> None:
        self._sender = sender

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return _detached(self._sender.send(request, stream=False, state=_no_raise(request, self._sender)))


class AsyncRawTransport(httpx.AsyncBaseTransport):
    """Sends the generated code's requests through an `AsyncSender`."""

    def __init__(self, sender: AsyncSender) -> None:
        self._sender = sender

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return _detached(await self._sender.send(request, stream=False, state=_no_raise(request, self._sender)))


def raw_httpx_client(
    sender: Union[SyncSender, AsyncSender], options: ClientOptions
) -> Union[httpx.Client, httpx.AsyncClient]:
    """The httpx client for the generated code: our base URL, headers and timeout, sent through `sender`."""
    settings: Dict[str, Any] = {
        "base_url": options.base_url,
        "headers": dict(options.headers),
        "timeout": options.timeout,
    }
    if isinstance(sender, SyncSender):
        return httpx.Client(transport=SyncRawTransport(sender), **settings)
    return httpx.AsyncClient(transport=AsyncRawTransport(sender), **settings)
