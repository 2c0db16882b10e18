"""From a generated operation's `Request` (what the spec says: method, path, query, body) and the call's
`CallOptions` to an `httpx.Request`: base URL, the client's headers, the call's extras, the JSON encoded
strictly. Pure, shared by sync and async.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
from typing import IO, TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, Union

import httpx

from .errors import MeganovaError
from .options import ClientOptions, RedactedHeaders, check_headers, make_timeout, new_idempotency_key
from .secrets import SECRETS_EXTENSION, carry

if TYPE_CHECKING:
    from ...types import CallOptions, Request

OPERATION_EXTENSION = "meganova.operation"
"""The request extension that carries the operation's name (its operationId), for middleware and traces."""

_encode_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def _json_body(body: Mapping[str, Any]) -> bytes:
    """`body` as UTF-8 JSON; a value JSON cannot carry (NaN, a datetime, a set, a lone surrogate)
    raises `MeganovaError` naming the argument, before anything is sent."""
    try:
        return _encode_json(body).encode("utf-8")
    except (TypeError, ValueError, RecursionError):  # UnicodeEncodeError too
        pass
    for name, value in body.items():
        try:
            _encode_json(value).encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            raise MeganovaError(f"{name} cannot be sent as JSON: {_why(exc)}.") from None
    raise MeganovaError("The request body cannot be sent as JSON.")


def _why(exc: BaseException) -> str:
    if isinstance(exc, UnicodeEncodeError):
        return "it contains a lone surrogate, which is not valid Unicode"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    return str(exc)


class _OneShot:
    """A stream that can be read once (a pipe): only `read`, so that httpx sends it chunked instead of
    trusting a size the operating system reports for it."""

    __slots__ = ("read",)

    def __init__(self, stream: Any) -> None:
        self.read = stream.read


class _FromPosition:
    """A seekable file object seen from the position it had when given: httpx rewinds a part to 0 before
    each attempt, this rewinds it to where the caller left it (and reports the length from there)."""

    __slots__ = ("_file", "_start")

    def __init__(self, file: Any, start: int) -> None:
        self._file = file
        self._start = start

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._file.read(size)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            offset += self._start
        return int(self._file.seek(offset, whence)) - self._start

    def tell(self) -> int:
        return int(self._file.tell()) - self._start


def _part_value(value: Any, what: str, allowed: Any) -> Optional[str]:
    """A filename or MIME type checked before it becomes a part header: a str without a line break or a
    NUL (a MIME type: printable ASCII); else a `MeganovaError` naming it, the value not echoed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MeganovaError(f"The upload's {what} must be a str, not {type(value).__name__}.")
    if not allowed(value):
        raise MeganovaError(
            f"The upload's {what} contains a line break, a NUL or another character a part header cannot "
            "carry (not shown); nothing was sent."
        )
    return value


def _clean_filename(value: str) -> bool:
    return "\r" not in value and "\n" not in value and "\0" not in value


def _clean_mime_type(value: str) -> bool:
    return _MIME_TYPE.fullmatch(value) is not None


_MIME_TYPE = re.compile(r"[\x21-\x7e][\t\x20-\x7e]*")


class Uploads:
    """The files of a multipart call, opened for sending: paths are opened here (and streamed from
    disk by httpx), closed by `close()` after the call. `resendable` is False when a part is a one-shot
    stream (a pipe, a socket): such a call is never retried, since its body cannot be sent again.

    Part headers are built from checked values: a filename or MIME type with a line break or a NUL is
    refused (`MeganovaError`) before anything is sent. A file object is sent from its current position
    (what was read from it before is not sent), on every attempt."""

    __slots__ = ("files", "opened", "resendable")

    def __init__(self, parts: List[Tuple[str, Any]]) -> None:
        self.files: List[Tuple[str, Any]] = []
        self.opened: List[IO[bytes]] = []
        self.resendable = True
        try:
            for name, part in parts:
                self.files.append((name, self._open(part)))
        except BaseException:
            self.close()
            raise

    def _open(self, part: Any) -> Tuple[Optional[str], Any, Optional[str]]:
        payload = getattr(part, "payload", part)
        filename = _part_value(getattr(part, "file_name", None), "filename", _clean_filename)
        mime = _part_value(getattr(part, "mime_type", None), "MIME type", _clean_mime_type)
        mime = mime or mimetypes.guess_type(filename or "")[0] or "application/octet-stream"
        if isinstance(payload, (bytes, bytearray, memoryview)):
            return filename, bytes(payload), mime
        if isinstance(payload, (str, os.PathLike)):
            try:
                handle = open(payload, "rb")  # noqa: SIM115 - closed by close() after the call
            except OSError as exc:
                raise MeganovaError(
                    f"Cannot open the file to upload: {exc.strerror} ({os.fspath(payload)!r})."
                ) from None
            self.opened.append(handle)
            return filename, handle, mime
        seekable = getattr(payload, "seekable", None)
        if not (callable(seekable) and seekable()):
            self.resendable = False
            payload = _OneShot(payload)  # its length is unknown: sent chunked
            return filename, payload, mime
        try:
            start = payload.tell()
        except (OSError, AttributeError, ValueError):
            start = 0
        if start:
            payload = _FromPosition(payload, start)
        return filename, payload, mime

    def close(self) -> None:
        """Close the files opened here (never a file object the caller passed)."""
        for handle in self.opened:
            handle.close()
        self.opened = []


def _url(client_options: ClientOptions, request: Request) -> str:
    """Base URL + path; for an operation outside the versioned API (`root`), the base URL without its
    `/v1` (so a proxy prefix such as `https://gw.example/meganova/v1` is kept) + path."""
    base = client_options.base_url
    if request.root and base.endswith("/v1"):
        base = base[:-3]
    return base + request.path


class OwnClient:
    """What `build_request` needs of an `httpx.Client` (or `AsyncClient`) the SDK built itself, to build a
    request without `http.build_request`'s merging (such a client has no cookies, auth, params or hooks,
    and its headers are known): its default headers merged once with the SDK's, the URLs it was sent to,
    parsed once. Attached by `OwnClient.attach`; a user's own `http_client=` has none
    and goes through `http.build_request`."""

    __slots__ = ("_defaults", "_merged", "_urls")

    _ATTRIBUTE = "_meganova_own_client"
    _MAX_URLS = 256

    def __init__(self, http: Union[httpx.Client, httpx.AsyncClient]) -> None:
        self._defaults = httpx.Headers(http.headers)
        self._merged: Dict[int, Tuple[Mapping[str, str], List[Tuple[bytes, bytes]]]] = {}
        self._urls: Dict[str, httpx.URL] = {}

    @classmethod
    def attach(cls, http: Union[httpx.Client, httpx.AsyncClient]) -> None:
        """Mark `http` as built by the SDK (requests to it are built here, sent to its transport)."""
        setattr(http, cls._ATTRIBUTE, cls(http))

    @classmethod
    def of(cls, http: Union[httpx.Client, httpx.AsyncClient]) -> Optional[OwnClient]:
        """The `OwnClient` of `http`, or None for a client the SDK did not build."""
        own: Optional[OwnClient] = getattr(http, cls._ATTRIBUTE, None)
        return own

    def url(self, url: str) -> httpx.URL:
        """`url` parsed (once per distinct URL: httpx URLs are immutable)."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= self._MAX_URLS:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    def headers(self, base: Mapping[str, str], overrides: Mapping[str, str]) -> httpx.Headers:
        """The client's default headers updated with `base` (the SDK's headers: merged once per mapping)
        and then `overrides` (the call's own), as `http.build_request` merges them."""
        hit = self._merged.get(id(base))
        if hit is None or hit[0] is not base:
            merged = httpx.Headers(self._defaults)
            merged.update(base)
            if len(self._merged) >= 8:
                self._merged.clear()
            hit = self._merged[id(base)] = (base, merged.raw)
        headers = httpx.Headers(hit[1])
        if overrides:
            headers.update(overrides)
        return headers


def build_request(
    http: Union[httpx.Client, httpx.AsyncClient],
    client_options: ClientOptions,
    request: Request,
    options: CallOptions,
    uploads: Optional[Uploads] = None,
) -> httpx.Request:
    """The `httpx.Request` for one call: base URL + path, the client's headers, the call's extras
    (`uploads`: the opened files of a multipart call)."""
    base = client_options.stream_headers if request.stream else client_options.headers
    overrides = RedactedHeaders()
    if request.accept is not None:
        overrides["Accept"] = request.accept
    if options.extra_headers:
        check_headers(options.extra_headers, "extra_headers")
        overrides.update(options.extra_headers)
    params: Optional[Dict[str, Any]] = request.params
    if options.extra_query:
        params = {**(params or {}), **options.extra_query}
    body = request.json
    if options.extra_body:
        body = {**(body or {}), **options.extra_body}
    timeout: Any = client_options.timeout if options.timeout is None else make_timeout(options.timeout)
    if timeout == http.timeout:
        timeout = httpx.USE_CLIENT_DEFAULT  # the pool was built with it: nothing to convert per request
    content: Optional[bytes] = None
    data: Optional[Dict[str, Any]] = None
    if uploads is not None:
        data = {k: v if isinstance(v, str) else _encode_json(v) for k, v in (body or {}).items() if v is not None}
    elif body is not None:
        content = _json_body(body)
        overrides["Content-Type"] = "application/json"
    extensions: Dict[str, Any] = {SECRETS_EXTENSION: client_options.secrets, OPERATION_EXTENSION: request.operation}
    files = None if uploads is None else uploads.files
    try:
        own = OwnClient.of(http)
        if own is not None:  # the SDK's own pool: no cookies, auth or params to merge
            chosen = http.timeout if timeout is httpx.USE_CLIENT_DEFAULT else httpx.Timeout(timeout)
            extensions["timeout"] = chosen.as_dict()  # as `http.build_request` sets it
            built = httpx.Request(
                request.method,
                own.url(_url(client_options, request)),
                params=params,
                content=content,
                data=data,
                files=files,
                headers=own.headers(base, overrides),
                extensions=extensions,
            )
        else:
            headers = httpx.Headers(base)  # a call's header replaces the client's of any case
            headers.update(overrides)
            built = http.build_request(
                request.method,
                _url(client_options, request),
                params=params,
                content=content,
                data=data,
                files=files,
                headers=headers,
                timeout=timeout,
                extensions=extensions,
            )
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise MeganovaError(f"The request cannot be built: {exc}") from None
    carry(built, client_options.secrets)
    return built


def ensure_idempotency_key(request: httpx.Request) -> None:
    """Give a POST an `Idempotency-Key` (kept if the caller set one): one per logical call, same on retries."""
    if request.method == "POST" and "idempotency-key" not in request.headers:
        request.headers["Idempotency-Key"] = new_idempotency_key()
