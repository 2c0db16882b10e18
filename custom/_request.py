"""What one API call is (`APICall`), and how it becomes an `httpx.Request`. Pure, shared by sync and async."""

from __future__ import annotations

from typing import Any, Callable, Generic, Mapping, Optional, TypeVar, Union

import attrs
import httpx

from ._options import ClientOptions, TimeoutTypes, make_timeout, new_idempotency_key

T = TypeVar("T")

Headers = Mapping[str, str]
Query = Mapping[str, Any]
Body = Mapping[str, Any]


@attrs.frozen
class RequestOptions:
    """The per-call options every method accepts: `timeout`, `extra_headers`, `extra_query`, `extra_body`."""

    timeout: Optional[TimeoutTypes] = None
    extra_headers: Optional[Headers] = None
    extra_query: Optional[Query] = None
    extra_body: Optional[Body] = None


@attrs.frozen
class APICall(Generic[T]):
    """One API call: what to send, and how to read a successful answer into a `T`."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Optional[Query] = None
    json: Optional[Body] = None
    options: RequestOptions = RequestOptions()
    stream: bool = False


def build_request(
    http: Union[httpx.Client, httpx.AsyncClient], client_options: ClientOptions, call: APICall[Any]
) -> httpx.Request:
    """The `httpx.Request` for `call`: base URL + path, the client's headers, the call's extras."""
    options = call.options
    headers = client_options.stream_headers if call.stream else client_options.headers
    if options.extra_headers:
        headers = {**headers, **options.extra_headers}
    params: Optional[dict[str, Any]] = None
    if call.params or options.extra_query:
        params = {k: v for k, v in (call.params or {}).items() if v is not None}
        params.update(options.extra_query or {})
    body = call.json
    if options.extra_body:
        body = {**(body or {}), **options.extra_body}
    timeout: Any = client_options.timeout if options.timeout is None else make_timeout(options.timeout)
    if timeout == http.timeout:
        timeout = httpx.USE_CLIENT_DEFAULT  # the pool was built with it: nothing to convert per request
    return http.build_request(
        call.method,
        client_options.base_url + call.path,
        params=params,
        json=body,
        headers=headers,
        timeout=timeout,
    )


def ensure_idempotency_key(request: httpx.Request) -> None:
    """Give a POST an `Idempotency-Key` (kept if the caller set one): one per logical call, same on retries."""
    if request.method == "POST" and "idempotency-key" not in request.headers:
        request.headers["Idempotency-Key"] = new_idempotency_key()
