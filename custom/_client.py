"""`MegaNova` and `AsyncMegaNova`: the clients. Configuration, the connection pool, the resources.

One client is safe to share: across threads (`MegaNova`, over one thread-safe `httpx.Client` pool) and
across the tasks of one event loop (`AsyncMegaNova`). Build one per process and reuse it; `with_options()`
gives a variant that shares the same pool.

Time bounds: `timeout` applies to each attempt (connect at most 5 s; for a stream, each silence between
two chunks). A call makes at most `max_retries + 1` attempts, waiting between them at most 8 s (or a
server's Retry-After, up to 60 s), so it takes at most about
`(max_retries + 1) * timeout + max_retries * 8` seconds without Retry-After:
with the defaults (60 s, 3 retries) about 4 minutes. Lower either for interactive use.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping, Optional, Tuple, TypeVar, Union

import attrs
import httpx

from ._logging import setup_logging
from ._options import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientOptions,
    TimeoutTypes,
    make_timeout,
)
from ._pool import AsyncShardedTransport, ShardedTransport
from ._request import APICall, build_request
from ._response import is_event_stream, not_an_event_stream
from ._streaming import AsyncChatStream, ChatStream, ChatStreamState, open_stream, release_deferred
from ._transport import AsyncSender, RetryState, SyncSender
from .resources import AsyncBilling, AsyncChat, AsyncModels, AsyncUsage, Billing, Chat, Models, Usage

if TYPE_CHECKING:
    from ..client import AuthenticatedClient

T = TypeVar("T")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)

_ssl_context: Optional[ssl.SSLContext] = None


def shared_ssl_context(base_url: str) -> Union[ssl.SSLContext, bool]:
    """One verifying TLS context for every client of the process (httpx builds a new one per client,
    which costs ~35 ms). For a plain-http base URL no certificates are loaded at all."""
    global _ssl_context
    if base_url.startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # never used: our pool only talks http here
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


ClientT = TypeVar("ClientT", bound="_BaseClient[Any]")


class _BaseClient(Generic[HttpT]):
    """What both clients share: configuration, the pool, repr, `with_options`, the raw generated client."""

    _options: ClientOptions
    _http: HttpT
    _owns_http: bool
    _raw: Optional[AuthenticatedClient]
    _sender: Union[SyncSender, AsyncSender]

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        region: str = "auto",
        user_agent_extra: Optional[str] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        http_client: Optional[HttpT] = None,
    ) -> None:
        """`api_key` falls back to MEGANOVA_API_KEY and `base_url` to MEGANOVA_BASE_URL, then production.
        `timeout` (seconds or an `httpx.Timeout`) bounds each attempt; `max_retries` counts retries after
        the first attempt. `http_client` is used as given (you close it), with our headers and retries."""
        setup_logging()
        options = ClientOptions.create(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            region=region,
            user_agent_extra=user_agent_extra,
            default_headers=default_headers,
        )
        if http_client is None:
            self._init(options, self._new_pool(options), owns_http=True)
        else:
            self._init(options, http_client, owns_http=False)

    _http_class: type[HttpT]
    _transport_class: Callable[..., Any]

    def _new_pool(self, options: ClientOptions) -> HttpT:
        """Our own pool (see `_pool.py`), sized for concurrency, with the process's shared TLS context."""
        transport = self._transport_class(verify=shared_ssl_context(options.base_url), limits=DEFAULT_LIMITS)
        return self._http_class(timeout=options.timeout, transport=transport)

    def _init(self, options: ClientOptions, http: HttpT, owns_http: bool) -> None:
        self._options = options
        self._http = http
        self._owns_http = owns_http
        self._raw = None

    @property
    def base_url(self) -> str:
        """The API's base URL, e.g. `https://api.meganova.ai/v1`."""
        return self._options.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each attempt."""
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._options.max_retries

    def with_options(
        self: ClientT,
        *,
        timeout: Optional[TimeoutTypes] = None,
        max_retries: Optional[int] = None,
        default_headers: Optional[Mapping[str, str]] = None,
    ) -> ClientT:
        """A client with these options changed, sharing this one's connection pool."""
        changes: dict[str, Any] = {}
        if timeout is not None:
            changes["timeout"] = make_timeout(timeout)
        if max_retries is not None:
            changes["max_retries"] = max_retries
        if default_headers is not None:
            changes["default_headers"] = {**self._options.default_headers, **default_headers}
        client = object.__new__(type(self))
        client._init(attrs.evolve(self._options, **changes), self._http, owns_http=False)
        return client

    @property
    def raw(self) -> AuthenticatedClient:
        """The generated low-level client, with this client's base URL, headers, timeouts and retries:
        `meganova.api.chat.create_chat_completion.sync_detailed(client=client.raw, body=...)`
        (`asyncio_detailed` with `AsyncMegaNova`)."""
        if self._raw is None:
            from ..client import AuthenticatedClient
            from ._raw import raw_httpx_client

            self._raw = AuthenticatedClient(base_url=self._options.base_url, token=self._options.api_key)
            http = raw_httpx_client(self._sender, self._options)
            if isinstance(http, httpx.Client):
                self._raw.set_httpx_client(http)
            else:
                self._raw.set_async_httpx_client(http)
        return self._raw

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._options.base_url!r}, max_retries={self._options.max_retries})"


class MegaNova(_BaseClient[httpx.Client]):
    """The MegaNova API client.

    >>> client = MegaNova()  # api_key from MEGANOVA_API_KEY
    >>> resp = client.chat.create(model="meganova-ai/manta-flash-1.0", messages=[{"role": "user", "content": "Hi"}])
    >>> print(resp.choices[0].message["content"])
    """

    _sender: SyncSender
    _http_class = httpx.Client
    _transport_class = ShardedTransport

    def _init(self, options: ClientOptions, http: httpx.Client, owns_http: bool) -> None:
        super()._init(options, http, owns_http)
        self._sender = SyncSender(http, options)
        self.chat, self.models, self.usage, self.billing = Chat(self), Models(self), Usage(self), Billing(self)

    def _call(self, call: APICall[T]) -> T:
        release_deferred()  # responses of streams abandoned while the GC ran: closed here, outside any lock
        request = build_request(self._http, self._options, call)
        if not call.stream:
            return call.parse(self._sender.send(request, stream=False))
        retry = RetryState(request, self._options)

        def open_() -> Tuple[httpx.Response, ChatStreamState]:
            response = self._sender.send(request, stream=True, state=retry)
            if not is_event_stream(response):  # its body was read by the sender
                raise not_an_event_stream(response)
            return response, open_stream(response, self._options)

        def reopen(exc: httpx.HTTPError) -> Tuple[httpx.Response, ChatStreamState]:
            self._sender.sleep(retry.after_error(exc))
            return open_()

        return ChatStream(*open_(), reopen=reopen)  # type: ignore[return-value]

    def close(self) -> None:
        """Close the connection pool (unless it was passed in as `http_client`, or shared by `with_options`)."""
        release_deferred()
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> MegaNova:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncMegaNova(_BaseClient[httpx.AsyncClient]):
    """The MegaNova API client for asyncio.

    >>> async with AsyncMegaNova() as client:
    ...     resp = await client.chat.create(model="meganova-ai/manta-flash-1.0", messages=[...])
    """

    _sender: AsyncSender
    _http_class = httpx.AsyncClient
    _transport_class = AsyncShardedTransport

    def _init(self, options: ClientOptions, http: httpx.AsyncClient, owns_http: bool) -> None:
        super()._init(options, http, owns_http)
        self._sender = AsyncSender(http, options)
        self.chat, self.models = AsyncChat(self), AsyncModels(self)
        self.usage, self.billing = AsyncUsage(self), AsyncBilling(self)

    async def _call(self, call: APICall[T]) -> T:
        release_deferred()
        request = build_request(self._http, self._options, call)
        if not call.stream:
            return call.parse(await self._sender.send(request, stream=False))
        retry = RetryState(request, self._options)

        async def open_() -> Tuple[httpx.Response, ChatStreamState]:
            response = await self._sender.send(request, stream=True, state=retry)
            if not is_event_stream(response):  # its body was read by the sender
                raise not_an_event_stream(response)
            return response, open_stream(response, self._options)

        async def reopen(exc: httpx.HTTPError) -> Tuple[httpx.Response, ChatStreamState]:
            await self._sender.sleep(retry.after_error(exc))
            return await open_()

        return AsyncChatStream(*await open_(), reopen=reopen)  # type: ignore[return-value]

    async def close(self) -> None:
        """Close the connection pool (unless it was passed in as `http_client`, or shared by `with_options`)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncMegaNova:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
