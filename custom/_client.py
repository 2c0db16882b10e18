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

import os
import ssl
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping, Optional, Sequence, Tuple, TypeVar, Union

import attrs
import httpx

from .resources import (
    AsyncAudio,
    AsyncBilling,
    AsyncChat,
    AsyncEmbeddings,
    AsyncImages,
    AsyncModels,
    AsyncRerank,
    AsyncServerless,
    AsyncUsage,
    AsyncVideos,
    Audio,
    Billing,
    Chat,
    Embeddings,
    Images,
    Models,
    Rerank,
    Serverless,
    Usage,
    Videos,
)
from .runtime import telemetry as _telemetry
from .runtime.download import FileTarget, Sink
from .runtime.errors import MeganovaError
from .runtime.log import setup_logging
from .runtime.middleware import Middleware, check_middleware
from .runtime.options import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientOptions,
    TimeoutTypes,
    check_headers,
    check_max_retries,
    make_timeout,
    resolve_api_key,
    resolve_base_url,
)
from .runtime.pool import AsyncShardedTransport, NoCookies, ShardedTransport, environment_mounts
from .runtime.raw_response import AsyncStreamedAPIResponse, StreamedAPIResponse, raw_answer, raw_download
from .runtime.request import OwnClient, Uploads, build_request
from .runtime.response import is_binary, is_event_stream, not_an_event_stream, not_binary, parse_answer
from .runtime.secrets import Secret, install_log_filter
from .runtime.send import AsyncSender, RetryState, SyncSender
from .runtime.streaming import ChatStreamState, open_stream, release_deferred

if TYPE_CHECKING:
    from ..client import AuthenticatedClient
    from ..types import CallOptions, Request

T = TypeVar("T")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)

_ssl_context: Optional[Tuple[Tuple[Optional[str], ...], ssl.SSLContext]] = None


def _ssl_sources() -> Tuple[Optional[str], ...]:
    """What a default verifying context is built from: httpx reads SSL_CERT_FILE, then SSL_CERT_DIR,
    else certifi's bundle."""
    import certifi  # httpx's own dependency

    return os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"), certifi.where()


def shared_ssl_context(base_url: str) -> Union[ssl.SSLContext, bool]:
    """One verifying TLS context for the clients of the process built from the same certificates
    (httpx builds a new one per client, which costs ~35 ms): a new one when SSL_CERT_FILE or
    SSL_CERT_DIR changed since. For a plain-http base URL no certificates are loaded at all."""
    global _ssl_context
    if base_url.startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # never used: our pool only talks http here
    sources = _ssl_sources()
    cached = _ssl_context
    if cached is None or cached[0] != sources:
        cached = _ssl_context = (sources, httpx.create_ssl_context())
    return cached[1]


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
        api_key: Union[str, Secret, None] = None,
        *,
        base_url: Optional[str] = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        region: str = "auto",
        user_agent_extra: Optional[str] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        http_client: Optional[HttpT] = None,
        strict_response_validation: bool = False,
        send_api_key: bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        middleware: Optional[Sequence[Middleware]] = None,
    ) -> None:
        """`api_key` falls back to MEGANOVA_API_KEY and `base_url` to MEGANOVA_BASE_URL, then production.
        `timeout` (seconds or an `httpx.Timeout`) bounds each attempt; `max_retries` counts retries after
        the first attempt. `http_client` is used as given (you close it), with our headers and retries.
        `strict_response_validation=True` checks every field of an answer when it arrives (by default a
        field is checked when read, and an optional one that does not match reads as None).
        `middleware`: callables run around each HTTP attempt, inside the retry loop (`runtime/middleware.py`)."""
        setup_logging()
        install_log_filter()
        api_key = resolve_api_key(api_key)  # a `Secret` from here on: no frame local holds the bare key
        options = ClientOptions.create(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            region=region,
            user_agent_extra=user_agent_extra,
            default_headers=default_headers,
            strict_response_validation=strict_response_validation,
            send_api_key=send_api_key,
            max_response_bytes=max_response_bytes,
            middleware=check_middleware(middleware, self._asynchronous),
        )
        if http_client is not None and not isinstance(http_client, self._http_class):
            wanted = self._http_class.__module__.split(".")[0] + "." + self._http_class.__name__
            raise MeganovaError(
                f"http_client must be an {wanted} for {type(self).__name__}, got {type(http_client).__name__}."
            )
        if http_client is None:
            self._init(options, self._new_pool(options), owns_http=True)
        else:
            self._init(options, http_client, owns_http=False)

    _http_class: type[HttpT]
    _transport_class: Callable[..., Any]
    _asynchronous: bool

    def _new_pool(self, options: ClientOptions) -> HttpT:
        """Our own pool (see `runtime/pool.py`), sized for concurrency, with the process's shared TLS context,
        the environment's proxies (as httpx would read them) and no cookie jar."""
        verify = shared_ssl_context(options.base_url)
        http = self._http_class(
            timeout=options.timeout,
            transport=self._transport_class(verify=verify, limits=DEFAULT_LIMITS),
            mounts=environment_mounts(self._transport_class, verify, DEFAULT_LIMITS),
            cookies=NoCookies(),
        )
        OwnClient.attach(http)  # requests are built and sent without httpx.Client's per-request merging
        return http

    def _init(self, options: ClientOptions, http: HttpT, owns_http: bool, raw_response: bool = False) -> None:
        self._options = options
        self._http = http
        self._owns_http = owns_http
        self._raw = None
        self._raw_response = raw_response

    def _prepare(
        self, request: Request, options: CallOptions, uploads: Optional[Uploads] = None
    ) -> Tuple[httpx.Request, RetryState]:
        """The httpx request for one call, and its retry bookkeeping (with the call's own `max_retries`;
        none for an upload that cannot be sent again)."""
        release_deferred()  # answers of streams abandoned while the GC ran: closed here, outside any lock
        if self._http.is_closed:
            raise MeganovaError(
                f"This {type(self).__name__} was closed (close() or the end of its `with` block): build a new one."
            )
        http_request = build_request(self._http, self._options, request, options, uploads)
        telemetry = _telemetry.start(request.operation, request.json, http_request.url)
        if telemetry is not None:
            telemetry.inject(http_request.headers)
            http_request.extensions[_telemetry.TELEMETRY_EXTENSION] = telemetry
        client_options = self._options
        max_retries = options.max_retries
        if uploads is not None and not uploads.resendable:
            max_retries = 0
        if max_retries is not None:
            client_options = attrs.evolve(client_options, max_retries=check_max_retries(max_retries))
        state = RetryState(http_request, client_options)
        state.telemetry = telemetry
        if telemetry is not None:
            telemetry.retry = state
        return http_request, state

    def _answer(self, response: httpx.Response, cast_to: Any, unwrap: Optional[str]) -> Any:
        """A successful answer as `cast_to` (its field `unwrap`, when given), or as an `APIResponse`
        under `with_raw_response`."""
        if self._raw_response:
            return raw_answer(response, cast_to, self._options.strict_response_validation, unwrap)
        return parse_answer(cast_to, response, self._options.strict_response_validation, unwrap)

    _streaming = False
    """Calls return a `StreamedAPIResponse` over the unread body (`with_streaming_response`)."""
    _streamed_class: Any

    def _with_streaming_response(self: ClientT) -> ClientT:
        """This client, its calls returning the answer with its body unread (`with_streaming_response`)."""
        client = self._with_raw_response()
        client._streaming = True
        return client

    def _streamed(self, response: httpx.Response, cast_to: Any, unwrap: Optional[str]) -> Any:
        """The `StreamedAPIResponse` over an answer whose body is not read yet."""
        strict = self._options.strict_response_validation
        return self._streamed_class(
            response,
            lambda: parse_answer(cast_to, response, strict, unwrap),
            limit=self._options.max_response_bytes,
        )

    def _streamed_events(self, response: httpx.Response, build: Callable[[], Any]) -> Any:
        """The `StreamedAPIResponse` over an event stream: its lines, or `parse()` for the stream object."""
        return self._streamed_class(response, build, reads_body=False)

    def _written(self, response: httpx.Response, written: int) -> Any:
        """A download's result: the bytes written, or under `with_raw_response` an `APIResponse` whose
        `parse()` gives them (the body went to the file)."""
        if self._raw_response:
            return raw_download(response, written)
        return written

    def _with_raw_response(self: ClientT) -> ClientT:
        """This client, its calls returning `APIResponse`s (`resource.with_raw_response` uses it); a
        stream is returned as it is (its `.response` has the headers)."""
        client = object.__new__(type(self))
        client._init(self._options, self._http, owns_http=False, raw_response=True)
        return client

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
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        max_retries: Optional[int] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        middleware: Optional[Sequence[Middleware]] = None,
    ) -> ClientT:
        """A client with these options changed (the others as in this one), sharing this one's
        connection pool (`middleware` replaces the list); `copy()` is the same method by openai-python's
        name."""
        changes: dict[str, Any] = {}
        if api_key is not None:
            changes["api_key"] = resolve_api_key(api_key)
        if base_url is not None:
            changes["base_url"] = resolve_base_url(base_url)
        if middleware is not None:
            changes["middleware"] = check_middleware(middleware, self._asynchronous)
        if timeout is not None:
            changes["timeout"] = make_timeout(timeout)
        if max_retries is not None:
            changes["max_retries"] = check_max_retries(max_retries)
        if default_headers is not None:
            check_headers(default_headers, "default_headers")
            changes["default_headers"] = {**self._options.default_headers, **default_headers}
        client = object.__new__(type(self))
        client._init(attrs.evolve(self._options, **changes), self._http, owns_http=False)
        return client

    copy = with_options

    @property
    def raw(self) -> AuthenticatedClient:
        """The generated low-level client, with this client's base URL, headers, timeouts and retries:
        `meganova.api.chat.create_chat_completion.sync_detailed(client=client.raw, body=...)`
        (`asyncio_detailed` with `AsyncMegaNova`)."""
        if self._raw is None:
            from ..client import AuthenticatedClient
            from .runtime.raw_client import raw_httpx_client

            self._raw = AuthenticatedClient(base_url=self._options.base_url, token=self._options.api_key.reveal())
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
    _streamed_class = StreamedAPIResponse
    _transport_class = ShardedTransport
    _asynchronous = False

    chat: Chat
    models: Models
    usage: Usage
    billing: Billing
    embeddings: Embeddings
    images: Images
    audio: Audio
    rerank: Rerank
    videos: Videos
    serverless: Serverless

    def _init(self, options: ClientOptions, http: httpx.Client, owns_http: bool, raw_response: bool = False) -> None:
        super()._init(options, http, owns_http, raw_response)
        self._sender = SyncSender(http, options)
        self.chat, self.models, self.usage, self.billing = Chat(self), Models(self), Usage(self), Billing(self)
        self.embeddings, self.images, self.audio = Embeddings(self), Images(self), Audio(self)
        self.rerank, self.videos, self.serverless = Rerank(self), Videos(self), Serverless(self)

    def _send(self, request: Request, cast_to: Any, options: CallOptions, unwrap: Optional[str] = None) -> Any:
        """Send one call (retrying as decided in `runtime/send`) and read its answer as `cast_to`."""
        uploads = None if request.files is None else Uploads(request.files)
        try:
            http_request, retry = self._prepare(request, options, uploads)
            if self._streaming:  # with_streaming_response: the span ends when the headers arrive
                with _telemetry.ended(retry):
                    response = self._sender.send(http_request, stream=True, state=retry, download=True)
                _telemetry.answered(retry, {})
                return self._streamed(response, cast_to, unwrap)
            with _telemetry.ended(retry):
                return _telemetry.answered(
                    retry, self._answer(self._sender.send(http_request, stream=False, state=retry), cast_to, unwrap)
                )
        finally:
            if uploads is not None:
                uploads.close()

    def _download(self, request: Request, target: FileTarget, options: CallOptions) -> Any:
        """Send one call and write its (binary) answer to `target`, atomically (`_download.Sink`, checked
        before anything is sent); the body is read by the sender like every answer. The bytes written
        (an `APIResponse` of them under `with_raw_response`)."""
        sink = Sink(target)
        try:
            http_request, retry = self._prepare(request, options)
            with _telemetry.ended(retry):
                response = self._sender.send(http_request, stream=False, state=retry, sink=sink)
                if not is_binary(response):  # JSON or HTML: read into memory, never saved
                    raise not_binary(response)
                return _telemetry.answered(retry, self._written(response, sink.commit()))
        finally:
            sink.discard()

    def _stream(self, request: Request, stream_class: Any, options: CallOptions) -> Any:
        """Send one streamed call; its answer as a `stream_class` (a `ChatStream`) over the open body."""
        http_request, retry = self._prepare(request, options)

        def open_() -> Tuple[httpx.Response, ChatStreamState]:
            with _telemetry.ended(retry):  # a failure before the stream opens ends its span
                response = self._sender.send(http_request, stream=True, state=retry)
                if not is_event_stream(response):  # its body was read by the sender
                    raise not_an_event_stream(response)
                return response, open_stream(response, self._options.max_response_bytes)

        def reopen(exc: httpx.HTTPError) -> Tuple[httpx.Response, ChatStreamState]:
            self._sender.sleep(retry.after_error(exc))
            return open_()

        if self._streaming:
            response, state = open_()
            return self._streamed_events(response, lambda: stream_class(response, state, reopen=reopen))
        return stream_class(*open_(), reopen=reopen)

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
    _streamed_class = AsyncStreamedAPIResponse
    _transport_class = AsyncShardedTransport
    _asynchronous = True

    chat: AsyncChat
    models: AsyncModels
    usage: AsyncUsage
    billing: AsyncBilling
    embeddings: AsyncEmbeddings
    images: AsyncImages
    audio: AsyncAudio
    rerank: AsyncRerank
    videos: AsyncVideos
    serverless: AsyncServerless

    def _init(
        self, options: ClientOptions, http: httpx.AsyncClient, owns_http: bool, raw_response: bool = False
    ) -> None:
        super()._init(options, http, owns_http, raw_response)
        self._sender = AsyncSender(http, options)
        self.chat, self.models = AsyncChat(self), AsyncModels(self)
        self.usage, self.billing = AsyncUsage(self), AsyncBilling(self)
        self.embeddings, self.images, self.audio = AsyncEmbeddings(self), AsyncImages(self), AsyncAudio(self)
        self.rerank, self.videos, self.serverless = AsyncRerank(self), AsyncVideos(self), AsyncServerless(self)

    async def _send(self, request: Request, cast_to: Any, options: CallOptions, unwrap: Optional[str] = None) -> Any:
        """Send one call (retrying as decided in `runtime/send`) and read its answer as `cast_to`."""
        uploads = None if request.files is None else Uploads(request.files)
        try:
            http_request, retry = self._prepare(request, options, uploads)
            if self._streaming:  # with_streaming_response: the span ends when the headers arrive
                with _telemetry.ended(retry):
                    response = await self._sender.send(http_request, stream=True, state=retry, download=True)
                _telemetry.answered(retry, {})
                return self._streamed(response, cast_to, unwrap)
            with _telemetry.ended(retry):
                response = await self._sender.send(http_request, stream=False, state=retry)
                return _telemetry.answered(retry, self._answer(response, cast_to, unwrap))
        finally:
            if uploads is not None:
                uploads.close()

    async def _download(self, request: Request, target: FileTarget, options: CallOptions) -> Any:
        """Send one call and write its (binary) answer to `target`, atomically (`_download.Sink`, checked
        before anything is sent); the body is read by the sender like every answer. The bytes written
        (an `APIResponse` of them under `with_raw_response`)."""
        sink = Sink(target)
        try:
            http_request, retry = self._prepare(request, options)
            with _telemetry.ended(retry):
                response = await self._sender.send(http_request, stream=False, state=retry, sink=sink)
                if not is_binary(response):  # JSON or HTML: read into memory, never saved
                    raise not_binary(response)
                return _telemetry.answered(retry, self._written(response, sink.commit()))
        finally:
            sink.discard()

    def _stream(self, request: Request, stream_class: Any, options: CallOptions) -> Any:
        """One streamed call, as a `stream_class` (an `AsyncChatStream`) not opened yet: the request is
        built (and checked) now, sent when the stream is first awaited, entered or iterated."""
        http_request, retry = self._prepare(request, options)

        async def open_() -> Tuple[httpx.Response, ChatStreamState]:
            with _telemetry.ended(retry):  # a failure before the stream opens ends its span
                response = await self._sender.send(http_request, stream=True, state=retry)
                if not is_event_stream(response):  # its body was read by the sender
                    raise not_an_event_stream(response)
                return response, open_stream(response, self._options.max_response_bytes)

        async def reopen(exc: httpx.HTTPError) -> Tuple[httpx.Response, ChatStreamState]:
            await self._sender.sleep(retry.after_error(exc))
            return await open_()

        if self._streaming:  # with_streaming_response: awaited by its context, giving the streamed answer

            async def streamed() -> Any:
                response, state = await open_()
                return self._streamed_events(response, lambda: stream_class(response, state, reopen=reopen))

            return streamed()
        return stream_class(opener=open_, reopen=reopen)

    async def close(self) -> None:
        """Close the connection pool (unless it was passed in as `http_client`, or shared by `with_options`)."""
        release_deferred()
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncMegaNova:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
