"""Sending one request with retries. The decisions live in `RetryState` (pure, shared); only the two
small loops below, one sync and one async, do I/O: send, read, sleep."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable, Optional, Union

import httpx

from ._logging import logger, redact_headers
from ._options import ClientOptions
from ._request import ensure_idempotency_key
from ._response import is_event_stream
from ._retry import backoff, is_retryable_status, parse_retry_after, wait_before_retry
from .errors import APIConnectionError, APITimeoutError, MeganovaError, error_for_status

# Transport failures worth another attempt: the request may not have reached the server, or its
# answer was lost; POSTs carry an Idempotency-Key, so a retry never makes the server act twice.
RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def connection_error(exc: Exception, request: Optional[httpx.Request] = None) -> MeganovaError:
    """The `APIConnectionError` (or `APITimeoutError`) for an httpx failure."""
    where = f" ({request.method} {request.url.copy_with(query=None)})" if request is not None else ""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out: {type(exc).__name__}{where}")
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(f"Connection error: {detail}{where}")


class RetryState:
    """The retry bookkeeping of one logical call: how many retries are left, and what to do next."""

    __slots__ = ("max_retries", "raise_for_status", "request", "retries", "secret")

    def __init__(self, request: httpx.Request, options: ClientOptions, *, raise_for_status: bool = True) -> None:
        ensure_idempotency_key(request)
        self.request = request
        self.max_retries = options.max_retries
        self.secret = options.api_key
        self.raise_for_status = raise_for_status
        self.retries = 0
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("Request: %s %s %s", request.method, request.url, redact_headers(request.headers))

    def after_error(self, exc: Exception) -> float:
        """Seconds to wait before retrying after a transport failure; raises when it is not retried."""
        if not isinstance(exc, RETRYABLE_ERRORS) or self.retries >= self.max_retries:
            raise connection_error(exc, self.request) from exc
        return self._next(backoff(self.retries), repr(exc))

    def after_response(self, response: httpx.Response) -> Optional[float]:
        """None when `response` is the answer; else seconds to wait before a retry. Raises a mapped
        `APIError` for an error answer that is not retried (its body must have been read)."""
        status = response.status_code
        if status < 400:
            self._log(response)
            return None
        headers = response.headers
        retry_after = parse_retry_after(headers)
        if self.retries < self.max_retries and is_retryable_status(status, headers):
            wait = wait_before_retry(self.retries, retry_after)
            if wait is not None:
                return self._next(wait, f"HTTP {status}")
        self._log(response)
        if not self.raise_for_status:
            return None
        raise error_for_status(
            status,
            response.content,
            request_id=headers.get("x-request-id"),
            retry_after=retry_after,
            secret=self.secret,
        )

    def _next(self, wait: float, reason: str) -> float:
        self.retries += 1
        logger.info(
            "Retrying %s %s in %.2f s (retry %d of %d) after %s",
            self.request.method,
            self.request.url.copy_with(query=None),
            wait,
            self.retries,
            self.max_retries,
            reason,
        )
        return wait

    def _log(self, response: httpx.Response) -> None:
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "HTTP %s %s -> %d (request id %s)",
                self.request.method,
                self.request.url.copy_with(query=None),
                response.status_code,
                response.headers.get("x-request-id"),
            )


def _must_read(response: httpx.Response, stream: bool) -> bool:
    """Whether the body is read inside the retry loop: always, but for a successful event stream."""
    return not stream or response.status_code >= 400 or not is_event_stream(response)


class SyncSender:
    """Sends requests through an `httpx.Client`, retrying as `RetryState` decides."""

    def __init__(self, http: httpx.Client, options: ClientOptions, sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http
        self.options = options
        self.sleep = sleep

    def send(self, request: httpx.Request, *, stream: bool, state: Optional[RetryState] = None) -> httpx.Response:
        """The answer to `request` after retries; with `stream`, a successful body is left unread.
        `state`: a call's own retry bookkeeping (one already tried, or one that returns error answers)."""
        state = state or RetryState(request, self.options)
        while True:
            response: Optional[httpx.Response] = None
            try:
                response = self.http.send(request, stream=True)
                if _must_read(response, stream):
                    response.read()
            except httpx.HTTPError as exc:
                if response is not None:
                    response.close()
                self.sleep(state.after_error(exc))
                continue
            wait = state.after_response(response)
            if wait is None:
                return response
            response.close()
            self.sleep(wait)


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

    async def send(self, request: httpx.Request, *, stream: bool, state: Optional[RetryState] = None) -> httpx.Response:
        """The answer to `request` after retries; with `stream`, a successful body is left unread.
        `state`: a call's own retry bookkeeping (one already tried, or one that returns error answers)."""
        state = state or RetryState(request, self.options)
        while True:
            response: Optional[httpx.Response] = None
            try:
                response = await self.http.send(request, stream=True)
                if _must_read(response, stream):
                    await response.aread()
            except httpx.HTTPError as exc:
                if response is not None:
                    await response.aclose()
                await self.sleep(state.after_error(exc))
                continue
            wait = state.after_response(response)
            if wait is None:
                return response
            await response.aclose()
            await self.sleep(wait)


Sender = Union[SyncSender, AsyncSender]
