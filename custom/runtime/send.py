"""Sending one request with retries. The decisions live in `RetryState` (pure, shared); only the two
small loops below, one sync and one async, do I/O: send, read, sleep.

Bounds on what a server can make a non-streamed call do:
- Time: each attempt has a deadline, `timeout` seconds after it starts (for an `httpx.Timeout`, the
  largest of its connect, read, write and pool values; none when read is None). Every connect, read and
  write of the attempt gets only the time left (`deadline.py`), so a body or headers dripped a byte at
  a time, or `100 Continue` sent forever, end in `APITimeoutError` (retried like any timeout) once it
  passes. `timeout=0` raises `APITimeoutError` at once. With your own `http_client=` the deadline is
  checked between body pieces only. A stream's body is not bounded by it (there `timeout` is the
  longest silence between chunks).
  A download (`<method>_to_file`) is read here too, within the same deadline.
- Memory (one body reader, `body.py`, for every answer): a body is read raw (`iter_raw`) and decoded
  (gzip, deflate, stacked) in steps of at most 1 MiB, counted after decoding, up to `max_response_bytes`
  (64 MiB by default; a download too, written to its temporary file as it arrives); past it the
  connection is closed and the call fails, not retried: a 2xx with `APIResponseValidationError`, an
  error answer with its status's `APIError` holding the start of the body. A `text/event-stream`
  answer to a non-streamed call is refused unread.
- Success: only a 2xx. A 3xx (redirects are not followed) raises `APIError` naming its Location; a
  binary answer (audio, an image) whose content type is JSON or HTML raises the error it carries.
- Failures: every transport failure ends here as a `MeganovaError` (`connection_error`,
  `protocol_failure`), h11/httpcore protocol errors included; one raised while the request was being
  sent (a file that changed size) is not retried, since the server got part of a body.
- The SDK's own pool: a request is built (`request.OwnClient`) and handed straight to the pool's
  transport (`_pool_send`), not through `httpx.Client.build_request`/`send`, whose merging of cookies,
  auth, hooks and redirects has nothing to do for a client we built. A user's `http_client=` (or a pool
  given event hooks) goes through `http.send`; both send the same bytes (`tests/test_own_client.py`).
- Secrets: every secret of the client (`secrets.py`: its key, a Studio agent's key in the path, proxy
  credentials), echoed anywhere by the server or quoted by httpx, is scrubbed from errors and log lines:
  each error is built from the request, which carries them (`secrets_of`). A connection error keeps its
  cause (the httpx error) without the cause's frames, whose locals hold the headers.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import logging
import time
from typing import Any, Awaitable, Callable, Optional, Union

import httpx

from . import deadline as _deadline
from .body import HEAD, BodyReader
from .download import Sink
from .errors import APIConnectionError, APIError, APITimeoutError, MeganovaError, error_for_status
from .log import logger, redact_headers
from .middleware import MiddlewareRequest, async_chain, sync_chain
from .options import ClientOptions
from .request import OPERATION_EXTENSION, OwnClient, ensure_idempotency_key
from .response import (
    is_binary,
    is_event_stream,
    is_sse_content_type,
    redirect_error,
    request_id_of,
    validation_error,
)
from .retry import backoff, is_retryable_status, parse_retry_after, wait_before_retry
from .secrets import Secrets, carry, scrub, secrets_of
from .telemetry import CallTelemetry
from .wait import retry_fits

# Transport failures worth another attempt: the request may not have reached the server, or its
# answer was lost; POSTs carry an Idempotency-Key, so a retry never makes the server act twice.
RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def connection_error(exc: Exception, request: httpx.Request) -> MeganovaError:
    """The `APIConnectionError` (or `APITimeoutError`) for an httpx failure of `request`, the secrets it
    carries scrubbed from it (h11 quotes a malformed status line or header in its message; the URL may
    hold a Studio agent's key). Raise it `from cause_of(exc, request)`."""
    secrets = secrets_of(request)
    where = f" ({request.method} {scrub(str(request.url.copy_with(query=None)), secrets)})"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out: {type(exc).__name__}{where}")
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(scrub(f"Connection error: {detail}{where}", secrets))


def cause_of(exc: BaseException, request: httpx.Request) -> Optional[BaseException]:
    """What an error made from `exc` is raised from: `exc` itself, without its traceback and chain
    (their frames' locals hold the request's headers, tracebacks with locals would show them), or None
    when its message shows a secret."""
    if secrets_of(request).holds(str(exc)):
        return None
    exc.__traceback__ = None
    exc.__cause__ = None
    exc.__context__ = None
    exc.__suppress_context__ = True
    return exc


def is_protocol_error(exc: BaseException) -> bool:
    """Whether `exc` is an h11 or httpcore error that httpx did not map (h11's `LocalProtocolError`
    for a request body longer or shorter than its declared Content-Length, say)."""
    return any(cls.__module__.split(".")[0] in ("h11", "httpcore") for cls in type(exc).__mro__)


def protocol_failure(exc: BaseException, request: httpx.Request) -> MeganovaError:
    """The `MeganovaError` for an unmapped h11/httpcore error (`is_protocol_error`); never retried."""
    secrets = secrets_of(request)
    where = f" ({request.method} {scrub(str(request.url.copy_with(query=None)), secrets)})"
    detail = scrub(str(exc) or type(exc).__name__, secrets)
    if "Content-Length" in detail and type(exc).__name__ == "LocalProtocolError":
        return MeganovaError(
            "The request body was not as long as declared (a file that changed size while it was sent?): "
            f"{detail}. It was not sent again.{where}"
        )
    return APIConnectionError(f"HTTP protocol error: {type(exc).__name__}: {detail}. It was not sent again.{where}")


class RetryState:
    """The retry bookkeeping of one logical call: how many retries are left, and what to do next."""

    __slots__ = ("max_retries", "raise_for_status", "request", "retries", "secrets", "telemetry")

    def __init__(self, request: httpx.Request, options: ClientOptions, *, raise_for_status: bool = True) -> None:
        ensure_idempotency_key(request)
        carry(request, options.secrets)  # every error about it is scrubbed of them
        self.request = request
        self.max_retries = options.max_retries
        self.secrets: Secrets = secrets_of(request)
        self.raise_for_status = raise_for_status
        self.retries = 0
        self.telemetry: Optional[CallTelemetry] = None
        """The call's span, when traced (`telemetry.py`)."""
        self._log_request()

    def _log_request(self) -> None:
        """The request line at debug, for every attempt (the first, and each retry before its wait)."""
        if logger.isEnabledFor(logging.DEBUG):
            request = self.request
            url = scrub(str(request.url), self.secrets)
            attempt = f" (attempt {self.retries + 1})" if self.retries else ""
            logger.debug("Request%s: %s %s %s", attempt, request.method, url, redact_headers(request.headers))

    def after_error(self, exc: Exception) -> float:
        """Seconds to wait before retrying after a transport failure; raises when it is not retried."""
        wait = backoff(self.retries)
        if not isinstance(exc, RETRYABLE_ERRORS) or self.retries >= self.max_retries or not retry_fits(wait):
            raise connection_error(exc, self.request) from cause_of(exc, self.request)
        return self._next(wait, scrub(repr(exc), self.secrets))

    def too_large(self, response: httpx.Response, head: bytes, limit: int) -> MeganovaError:
        """The error for an answer whose body passed `limit` bytes (`head`: its start); not retried."""
        note = f"the answer's body is larger than max_response_bytes ({limit} bytes); it was not read further"
        status = response.status_code
        self._log(response)
        if status < 400:
            return validation_error(f"The answer was refused: {note}.", response)
        error: APIError = error_for_status(
            status,
            head,
            request_id=request_id_of(response),
            retry_after=parse_retry_after(response.headers),
            secrets=self.secrets,
        )
        error.response = response
        error.message = f"{error.message} [{note}]"
        error.args = (error.message,)
        return error

    def event_stream_refused(self, response: httpx.Response) -> MeganovaError:
        """The error for a `text/event-stream` answer to a call that did not ask for a stream."""
        self._log(response)
        return validation_error(
            f"Asked for a JSON answer, the server answered {response.headers.get('content-type')} "
            "(an event stream); it was not read.",
            response,
        )

    def after_response(self, response: httpx.Response) -> Optional[float]:
        """None when `response` is the answer; else seconds to wait before a retry. Raises a mapped
        `APIError` for an error answer that is not retried (its body must have been read)."""
        status = response.status_code
        if 200 <= status < 300:
            self._log(response)
            return None
        if status < 400:  # a redirect: our pool does not follow them, and only a 2xx is a success
            self._log(response)
            if not self.raise_for_status:
                return None
            raise redirect_error(response)
        headers = response.headers
        retry_after = parse_retry_after(headers)
        if self.retries < self.max_retries and is_retryable_status(status, headers):
            wait = wait_before_retry(self.retries, retry_after)
            if wait is not None and retry_fits(wait):  # a wait's deadline (`wait.py`) cuts the retries
                return self._next(wait, f"HTTP {status}")
        self._log(response)
        if not self.raise_for_status:
            return None
        error = error_for_status(
            status,
            response.content,
            request_id=headers.get("x-request-id"),
            retry_after=retry_after,
            secrets=self.secrets,
        )
        error.response = response
        raise error

    def _where(self) -> str:
        """The request's URL without its query, the key scrubbed (a Studio agent's travels in the path)."""
        return str(scrub(str(self.request.url.copy_with(query=None)), self.secrets))

    def _next(self, wait: float, reason: str) -> float:
        self.retries += 1
        logger.info(
            "Retrying %s %s in %.2f s (retry %d of %d) after %s",
            self.request.method,
            self._where(),
            wait,
            self.retries,
            self.max_retries,
            reason,
        )
        self._log_request()
        return wait

    def _log(self, response: httpx.Response) -> None:
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "HTTP %s %s -> %d (request id %s)",
                self.request.method,
                self._where(),
                response.status_code,
                scrub(response.headers.get("x-request-id"), self.secrets),
            )


def _must_read(response: httpx.Response, stream: bool, unread: bool = False) -> bool:
    """Whether the body is read inside the retry loop: always, but for a successful event stream (or
    any successful body, with `unread`: `with_streaming_response`, read later through `body`)."""
    if not 200 <= response.status_code < 300:
        return True
    return not (unread or (stream and is_event_stream(response)))


def _sink_for(response: httpx.Response, sink: Optional[Sink]) -> Optional[Sink]:
    """Where the body goes: a download's file for a successful binary answer; else memory (None)."""
    if sink is None or not 200 <= response.status_code < 300 or not is_binary(response):
        return None
    return sink


def _refused(response: httpx.Response, stream: bool, state: RetryState) -> bool:
    """Whether the answer is an event stream to a non-streamed call, to refuse unread. (The raw bridge,
    which hands every answer back, reads it like any body, within `max_response_bytes`.)"""
    return not stream and state.raise_for_status and response.status_code < 400 and is_sse_content_type(response)


def _timed_out(request: httpx.Request) -> httpx.ReadTimeout:
    return httpx.ReadTimeout("The attempt's time is up.", request=request)


def _zero_budget(request: httpx.Request) -> APITimeoutError:
    where = scrub(str(request.url.copy_with(query=None)), secrets_of(request))
    return APITimeoutError(f"Request timed out: timeout is 0 ({request.method} {where})")


def _middleware_request(request: httpx.Request, state: RetryState) -> MiddlewareRequest:
    """What the middleware of this attempt see."""
    return MiddlewareRequest(request, request.extensions.get(OPERATION_EXTENSION) or "", state.retries)


def direct_transport(http: Union[httpx.Client, httpx.AsyncClient]) -> Optional[Callable[[httpx.URL], Any]]:
    """For a client the SDK built (`OwnClient`), open and with no event hooks: its transport for a URL
    (the environment's proxies are mounts). None otherwise: the request goes through `http.send`."""
    if OwnClient.of(http) is None or http.is_closed or any(http.event_hooks.values()):
        return None
    pick: Optional[Callable[[httpx.URL], Any]] = getattr(http, "_transport_for_url", None)
    return pick


_httpx_logger = logging.getLogger("httpx")


def _as_httpx_sent(request: httpx.Request, response: httpx.Response, started: float) -> None:
    """What `httpx.Client.send` sets on an answer and logs, for one sent on the direct path: its request,
    its `elapsed` (here: to its headers) and httpx's INFO line (scrubbed by the secrets log filter)."""
    response.request = request
    response.elapsed = datetime.timedelta(seconds=time.perf_counter() - started)
    if _httpx_logger.isEnabledFor(logging.INFO):
        _httpx_logger.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )


class _Deadline:
    """The deadline of one attempt, set for this thread or task while the attempt runs."""

    __slots__ = ("at", "token")

    def __init__(self, budget: Optional[float]) -> None:
        self.at = None if budget is None else time.monotonic() + budget
        self.token: Optional[contextvars.Token[Optional[float]]] = _deadline.attempt_deadline.set(self.at)

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def end(self) -> None:
        if self.token is not None:
            _deadline.attempt_deadline.reset(self.token)
            self.token = None


class SyncSender:
    """Sends requests through an `httpx.Client`, retrying as `RetryState` decides."""

    def __init__(self, http: httpx.Client, options: ClientOptions, sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http
        self.options = options
        self.sleep = sleep

    def send(
        self,
        request: httpx.Request,
        *,
        stream: bool,
        state: Optional[RetryState] = None,
        sink: Optional[Sink] = None,
        download: bool = False,
    ) -> httpx.Response:
        """The answer to `request` after retries; with `stream`, a successful event stream is left
        unread (with `download`, any successful body: `with_streaming_response`); with `sink`, a
        successful binary body is written there (else read). `state`: a call's own retry bookkeeping
        (one already tried, or one that returns error answers)."""
        state = state or RetryState(request, self.options)
        budget = _deadline.budget_of(request)
        if budget is not None and budget <= 0:
            raise _zero_budget(request)
        while True:
            response: Optional[httpx.Response] = None
            failure: Optional[httpx.HTTPError] = None
            deadline = _Deadline(budget)
            if sink is not None:
                sink.restart()  # what a failed attempt wrote is dropped
            try:
                response = self._attempt(request, state)
                if _refused(response, stream, state):
                    response.close()
                    raise state.event_stream_refused(response)
                if _must_read(response, stream, download):
                    self._read(response, state, deadline, _sink_for(response, sink))
            except httpx.HTTPError as exc:
                failure = exc  # handled below, outside this block: an error raised for it has no __context__
            except (
                BaseException
            ) as exc:  # KeyboardInterrupt, a MeganovaError raised above: the connection is not reused
                if response is not None:
                    response.close()
                if is_protocol_error(exc):
                    raise protocol_failure(exc, request) from None
                raise
            finally:
                deadline.end()
            if failure is not None:
                if response is not None:
                    response.close()
                self.sleep(state.after_error(failure))
                continue
            assert response is not None
            wait = state.after_response(response)
            if wait is None:
                return response
            response.close()
            self.sleep(wait)

    def _attempt(self, request: httpx.Request, state: RetryState) -> httpx.Response:
        """One attempt: through the middleware (if any), then the pool; the body left unread."""
        if not self.options.middleware:
            return self._pool_send(request)
        chain = sync_chain(self.options.middleware, self._pool_send)
        return chain(_middleware_request(request, state))

    def _pool_send(self, request: httpx.Request) -> httpx.Response:
        """`request` sent, its body unread: straight to the transport of a client the SDK built (which
        has no auth, cookies, hooks or redirects for `httpx.Client.send` to apply); else `http.send`."""
        transport = direct_transport(self.http)
        if transport is None:
            return self.http.send(request, stream=True)
        started = time.perf_counter()
        response: httpx.Response = transport(request.url).handle_request(request)
        _as_httpx_sent(request, response, started)
        return response

    def _read(self, response: httpx.Response, state: RetryState, deadline: _Deadline, sink: Optional[Sink]) -> None:
        """Reads the body (decoded) into `response` (or `sink`), within `max_response_bytes` and the deadline."""
        reader = BodyReader(response.headers, self.options.max_response_bytes, None if sink is None else sink.write)
        content: Optional[bytes] = getattr(response, "_content", None)
        if content is not None:  # built with its body in memory (a mock)
            if len(content) > reader.limit:
                raise state.too_large(response, content[:HEAD], reader.limit)
            if sink is not None:
                sink.write(content)
            return
        for raw in response.iter_raw():
            if not reader.feed(raw):
                response.close()
                raise state.too_large(response, reader.head(), reader.limit)
            if deadline.passed():
                raise _timed_out(response.request)
        content = reader.finish()
        if content is None:
            raise state.too_large(response, reader.head(), reader.limit)
        response._content = content


class AsyncSender:
    """Sends requests through an `httpx.AsyncClient`, retrying as `RetryState` decides."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        options: ClientOptions,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.options = options
        self.sleep = sleep

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool,
        state: Optional[RetryState] = None,
        sink: Optional[Sink] = None,
        download: bool = False,
    ) -> httpx.Response:
        """The answer to `request` after retries; with `stream`, a successful event stream is left
        unread (with `download`, any successful body: `with_streaming_response`); with `sink`, a
        successful binary body is written there (else read). `state`: a call's own retry bookkeeping
        (one already tried, or one that returns error answers)."""
        state = state or RetryState(request, self.options)
        budget = _deadline.budget_of(request)
        if budget is not None and budget <= 0:
            raise _zero_budget(request)
        while True:
            response: Optional[httpx.Response] = None
            failure: Optional[httpx.HTTPError] = None
            deadline = _Deadline(budget)
            if sink is not None:
                sink.restart()  # what a failed attempt wrote is dropped
            try:
                response = await self._attempt(request, state)
                if _refused(response, stream, state):
                    await response.aclose()
                    raise state.event_stream_refused(response)
                if _must_read(response, stream, download):
                    await self._read(response, state, deadline, _sink_for(response, sink))
            except httpx.HTTPError as exc:
                failure = exc  # handled below, outside this block: an error raised for it has no __context__
            except BaseException as exc:  # a cancelled task, a MeganovaError raised above: the connection is not reused
                if response is not None:
                    await response.aclose()
                if is_protocol_error(exc):
                    raise protocol_failure(exc, request) from None
                raise
            finally:
                deadline.end()
            if failure is not None:
                if response is not None:
                    await response.aclose()
                await self.sleep(state.after_error(failure))
                continue
            assert response is not None
            wait = state.after_response(response)
            if wait is None:
                return response
            await response.aclose()
            await self.sleep(wait)

    async def _attempt(self, request: httpx.Request, state: RetryState) -> httpx.Response:
        """One attempt: through the middleware (if any), then the pool; the body left unread."""
        if not self.options.middleware:
            return await self._pool_send(request)
        chain = async_chain(self.options.middleware, self._pool_send)
        return await chain(_middleware_request(request, state))

    async def _pool_send(self, request: httpx.Request) -> httpx.Response:
        """`request` sent, its body unread (see `SyncSender._pool_send`)."""
        transport = direct_transport(self.http)
        if transport is None:
            return await self.http.send(request, stream=True)
        started = time.perf_counter()
        response: httpx.Response = await transport(request.url).handle_async_request(request)
        _as_httpx_sent(request, response, started)
        return response

    async def _read(
        self, response: httpx.Response, state: RetryState, deadline: _Deadline, sink: Optional[Sink]
    ) -> None:
        """Reads the body (decoded) into `response` (or `sink`), within `max_response_bytes` and the deadline."""
        reader = BodyReader(response.headers, self.options.max_response_bytes, None if sink is None else sink.write)
        content: Optional[bytes] = getattr(response, "_content", None)
        if content is not None:  # built with its body in memory (a mock)
            if len(content) > reader.limit:
                raise state.too_large(response, content[:HEAD], reader.limit)
            if sink is not None:
                sink.write(content)
            return
        async for raw in response.aiter_raw():
            if not reader.feed(raw):
                await response.aclose()
                raise state.too_large(response, reader.head(), reader.limit)
            if deadline.passed():
                raise _timed_out(response.request)
        content = reader.finish()
        if content is None:
            raise state.too_large(response, reader.head(), reader.limit)
        response._content = content


Sender = Union[SyncSender, AsyncSender]
