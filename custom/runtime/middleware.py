"""Middleware: the user's code around each HTTP attempt, inside the retry loop. Pure chain building,
shared by the sync and async send loops.

A middleware is a callable `(request, call_next) -> httpx.Response` (`async def` for `AsyncMegaNova`),
or an object with `handle(request, call_next)` / `handle_async(request, call_next)`. `request` is a
`MiddlewareRequest`: the operation's name (its operationId), the attempt number, method, URL, headers
and body, with every secret masked; `request.unmasked()` gives the real `httpx.Request` to those that ask
for it explicitly. A middleware may change the request (`set_header`, `remove_header`), return its own
`httpx.Response` without calling `call_next` (a short-circuit: the answer is read as if the server sent
it), or look at the answer or the error `call_next` raised. The answer is handed on unread: streams and
downloads pass through middleware like JSON calls, and their bodies are read after it, under the same
bounds. Middleware run in the order given, the first one outermost.
"""

from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable, Dict, Optional, Sequence, Tuple

import httpx

from .errors import MeganovaError
from .log import redact_headers
from .options import check_headers
from .secrets import Secrets, scrub, secrets_of

CallNext = Callable[["MiddlewareRequest"], httpx.Response]
"""What a sync middleware calls to send the (possibly changed) request on."""
AsyncCallNext = Callable[["MiddlewareRequest"], Awaitable[httpx.Response]]
"""What an async middleware awaits to send the (possibly changed) request on."""
Middleware = Any
"""A callable `(request, call_next)`, or an object with `handle` / `handle_async`."""


class MiddlewareRequest:
    """One attempt of one call, as a middleware sees it: secrets masked."""

    __slots__ = ("_request", "_secret", "attempt", "operation")

    def __init__(self, request: httpx.Request, operation: str, attempt: int) -> None:
        self._request = request
        self._secret: Secrets = secrets_of(request)
        self.operation = operation
        """The operation's name in the spec (its operationId), e.g. `create_chat_completion`."""
        self.attempt = attempt
        """0 for the first attempt, 1 for the first retry, and so on."""

    @property
    def method(self) -> str:
        """The HTTP method."""
        return self._request.method

    @property
    def url(self) -> str:
        """The URL, with any secret in it (a Studio agent's key travels in the path) masked."""
        return str(scrub(str(self._request.url), self._secret))

    @property
    def headers(self) -> Dict[str, str]:
        """A copy of the headers, credentials masked (change them with `set_header`)."""
        redacted = redact_headers(self._request.headers)  # the credential headers, as in log lines
        return {name: str(scrub(value, self._secret)) for name, value in redacted.items()}

    @property
    def content(self) -> Optional[bytes]:
        """The body as sent, secrets masked; None for a body streamed from a file (an upload)."""
        try:
            body = self._request.content
        except httpx.RequestNotRead:
            return None
        masked: bytes = scrub(body, self._secret)
        return masked

    def set_header(self, name: str, value: str) -> None:
        """Set a header on the request (checked like `extra_headers`)."""
        check_headers({name: value}, "set_header")
        self._request.headers[name] = value

    def remove_header(self, name: str) -> None:
        """Remove a header from the request, if present."""
        self._request.headers.pop(name, None)

    def unmasked(self) -> httpx.Request:
        """The real `httpx.Request`, secrets included: for a middleware that must sign or forward it."""
        return self._request

    def __repr__(self) -> str:
        return f"MiddlewareRequest({self.operation!r}, attempt={self.attempt}, {self.method} {self.url})"


def check_middleware(middleware: Any, asynchronous: bool) -> Tuple[Middleware, ...]:
    """The middleware list checked: each one callable, or with the `handle`/`handle_async` it needs."""
    if middleware is None:
        return ()
    if not isinstance(middleware, (list, tuple)):
        raise MeganovaError(f"middleware must be a list of middleware, not {type(middleware).__name__}.")
    method = "handle_async" if asynchronous else "handle"
    for item in middleware:
        if not (callable(getattr(item, method, None)) or callable(item)):
            raise MeganovaError(f"Each middleware must be callable or have a {method}() method, got {item!r:.80}.")
        if asynchronous and not _is_async(item):
            raise MeganovaError(
                f"AsyncMegaNova takes async middleware (`async def` or a handle_async() method), got {item!r:.80}."
            )
    return tuple(middleware)


def _is_async(item: Any) -> bool:
    handle = getattr(item, "handle_async", None)
    if callable(handle):
        return True
    call = item if inspect.isfunction(item) or inspect.ismethod(item) else getattr(item, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)


def _handler(item: Any, asynchronous: bool) -> Callable[..., Any]:
    handle = getattr(item, "handle_async" if asynchronous else "handle", None)
    return handle if callable(handle) else item  # type: ignore[no-any-return]


def _answer(result: Any, request: httpx.Request) -> httpx.Response:
    """A middleware's result checked: an `httpx.Response` (given the request when it has none)."""
    if not isinstance(result, httpx.Response):
        raise MeganovaError(f"A middleware must return an httpx.Response, got {type(result).__name__}.")
    if result._request is None:  # a short-circuit answer built by the middleware
        result.request = request
    return result


def sync_chain(
    middleware: Sequence[Middleware], send: Callable[[httpx.Request], httpx.Response]
) -> Callable[[MiddlewareRequest], httpx.Response]:
    """`send` wrapped in `middleware`, the first outermost."""
    call: Callable[[MiddlewareRequest], httpx.Response] = lambda req: send(req.unmasked())  # noqa: E731
    for item in reversed(middleware):
        call = _wrap_sync(_handler(item, False), call)
    return call


def _wrap_sync(
    handle: Callable[..., Any], inner: Callable[[MiddlewareRequest], httpx.Response]
) -> Callable[[MiddlewareRequest], httpx.Response]:
    def call(req: MiddlewareRequest) -> httpx.Response:
        return _answer(handle(req, inner), req.unmasked())

    return call


def async_chain(
    middleware: Sequence[Middleware], send: Callable[[httpx.Request], Awaitable[httpx.Response]]
) -> Callable[[MiddlewareRequest], Awaitable[httpx.Response]]:
    """`send` wrapped in async `middleware`, the first outermost."""

    async def last(req: MiddlewareRequest) -> httpx.Response:
        return await send(req.unmasked())

    call: Callable[[MiddlewareRequest], Awaitable[httpx.Response]] = last
    for item in reversed(middleware):
        call = _wrap_async(_handler(item, True), call)
    return call


def _wrap_async(
    handle: Callable[..., Any], inner: Callable[[MiddlewareRequest], Awaitable[httpx.Response]]
) -> Callable[[MiddlewareRequest], Awaitable[httpx.Response]]:
    async def call(req: MiddlewareRequest) -> httpx.Response:
        return _answer(await handle(req, inner), req.unmasked())

    return call
