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
from typing import TYPE_CHECKING, Any, Generic, Mapping, Optional, TypeVar, Union

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
from ._request import APICall, build_request
from ._response import is_event_stream, not_an_event_stream
from ._streaming import AsyncChatStream, ChatStream, ChatStreamState
from ._transport import AsyncSender, SyncSender
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


class _BaseClient(Generic[HttpT]):
    """What both clients share: options, the pool, repr, `with_options`, the raw generated client."""

    _options: ClientOptions
    _http: HttpT
    _owns_http: bool
    _raw: Optional[AuthenticatedClient]

    def _setup(self, options: ClientOptions, http: HttpT, owns_http: bool) -> None:
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

    def _evolve(
        self,
        timeout: Optional[TimeoutTypes],
        max_retries: Optional[int],
        default_headers: Optional[Mapping[str, str]],
    ) -> ClientOptions:
        changes: dict[str, Any] = {}
        if timeout is not None:
            changes["timeout"] = make_timeout(timeout)
        if max_retries is not None:
            changes["max_retries"] = max_retries
        if default_headers is not None:
            changes["default_headers"] = {**self._options.default_headers, **default_headers}
        return attrs.evolve(self._options, **changes)

    def _build_raw(self, transport: Union[httpx.BaseTransport, httpx.AsyncBaseTransport]) -> AuthenticatedClient:
        from ..client import AuthenticatedClient

        raw = AuthenticatedClient(base_url=self._options.base_url, token=self._options.api_key)
        settings = dict(
            base_url=self._options.base_url,
            headers=dict(self._options.headers),
            timeout=self._options.timeout,
        )
        if isinstance(transport, httpx.BaseTransport):
            raw.set_httpx_client(httpx.Client(transport=transport, **settings))  # type: ignore[arg-type]
        else:
            raw.set_async_httpx_client(httpx.AsyncClient(transport=transport, **settings))  # type: ignore[arg-type]
        return raw

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._options.base_url!r}, max_retries={self._options.max_retries})"


class MegaNova(_BaseClient[httpx.Client]):
    """The MegaNova API client.

    client = MegaNova()  # api_key from MEGANOVA_API_KEY
    resp = client.chat.create(model="meganova-ai/manta-flash-1.0", messages=[{"role": "user", "content": "Hi"}])
    print(resp.choices[0].message["content"])
    """

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
        http_client: Optional[httpx.Client] = None,
    ) -> None:
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
            http = httpx.Client(
                timeout=options.timeout, limits=DEFAULT_LIMITS, verify=shared_ssl_context(options.base_url)
            )
        else:
            http = http_client
        self._init(options, http, owns_http=http_client is None)

    def _init(self, options: ClientOptions, http: httpx.Client, owns_http: bool) -> None:
        self._setup(options, http, owns_http)
        self._sender = SyncSender(http, options)
        self.chat = Chat(self)
        """Chat completions: `create()` and `stream()`."""
        self.models = Models(self)
        """The models: `list()` and `get(model_id)`."""
        self.usage = Usage(self)
        """Token usage and cost: `summary()`."""
        self.billing = Billing(self)
        """The account balance: `get_balance()`."""

    def with_options(
        self,
        *,
        timeout: Optional[TimeoutTypes] = None,
        max_retries: Optional[int] = None,
        default_headers: Optional[Mapping[str, str]] = None,
    ) -> MegaNova:
        """A client with these options changed, sharing this one's connection pool."""
        client = object.__new__(MegaNova)
        client._init(self._evolve(timeout, max_retries, default_headers), self._http, owns_http=False)
        return client

    @property
    def raw(self) -> AuthenticatedClient:
        """The generated low-level client, with this client's base URL, headers, timeouts and retries:
        `meganova.api.chat.create_chat_completion.sync_detailed(client=client.raw, body=...)`."""
        if self._raw is None:
            from ._raw import SyncRawTransport

            self._raw = self._build_raw(SyncRawTransport(self._sender))
        return self._raw

    def _request(self, call: APICall[T]) -> T:
        request = build_request(self._http, self._options, call)
        return call.parse(self._sender.send(request, stream=False))

    def _stream(self, call: APICall[Any]) -> ChatStream:
        request = build_request(self._http, self._options, call)
        response = self._sender.send(request, stream=True)
        if not is_event_stream(response):
            response.read()
            response.close()
            raise not_an_event_stream(response)
        return ChatStream(response, ChatStreamState(response.headers.get("x-request-id"), self._options.api_key))

    def close(self) -> None:
        """Close the connection pool (unless it was passed in as `http_client`, or shared by `with_options`)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> MegaNova:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncMegaNova(_BaseClient[httpx.AsyncClient]):
    """The MegaNova API client for asyncio.

    async with AsyncMegaNova() as client:
        resp = await client.chat.create(model="meganova-ai/manta-flash-1.0", messages=[...])
    """

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
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
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
            http = httpx.AsyncClient(
                timeout=options.timeout, limits=DEFAULT_LIMITS, verify=shared_ssl_context(options.base_url)
            )
        else:
            http = http_client
        self._init(options, http, owns_http=http_client is None)

    def _init(self, options: ClientOptions, http: httpx.AsyncClient, owns_http: bool) -> None:
        self._setup(options, http, owns_http)
        self._sender = AsyncSender(http, options)
        self.chat = AsyncChat(self)
        """Chat completions: `create()` and `stream()`."""
        self.models = AsyncModels(self)
        """The models: `list()` and `get(model_id)`."""
        self.usage = AsyncUsage(self)
        """Token usage and cost: `summary()`."""
        self.billing = AsyncBilling(self)
        """The account balance: `get_balance()`."""

    def with_options(
        self,
        *,
        timeout: Optional[TimeoutTypes] = None,
        max_retries: Optional[int] = None,
        default_headers: Optional[Mapping[str, str]] = None,
    ) -> AsyncMegaNova:
        """A client with these options changed, sharing this one's connection pool."""
        client = object.__new__(AsyncMegaNova)
        client._init(self._evolve(timeout, max_retries, default_headers), self._http, owns_http=False)
        return client

    @property
    def raw(self) -> AuthenticatedClient:
        """The generated low-level client, with this client's base URL, headers, timeouts and retries:
        `await meganova.api.chat.create_chat_completion.asyncio_detailed(client=client.raw, body=...)`."""
        if self._raw is None:
            from ._raw import AsyncRawTransport

            self._raw = self._build_raw(AsyncRawTransport(self._sender))
        return self._raw

    async def _request(self, call: APICall[T]) -> T:
        request = build_request(self._http, self._options, call)
        return call.parse(await self._sender.send(request, stream=False))

    async def _stream(self, call: APICall[Any]) -> AsyncChatStream:
        request = build_request(self._http, self._options, call)
        response = await self._sender.send(request, stream=True)
        if not is_event_stream(response):
            await response.aread()
            await response.aclose()
            raise not_an_event_stream(response)
        return AsyncChatStream(response, ChatStreamState(response.headers.get("x-request-id"), self._options.api_key))

    async def close(self) -> None:
        """Close the connection pool (unless it was passed in as `http_client`, or shared by `with_options`)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncMegaNova:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
