"""Client options: defaults, environment variables, validation of the API key and base URL, headers.

Pure: nothing here does I/O. `ClientOptions` is what both `MegaNova` and `AsyncMegaNova` hold.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import attrs
import httpx

from .._version import __version__
from .errors import MeganovaError
from .log import redact_headers
from .secrets import Secret, Secrets, client_secrets

DEFAULT_BASE_URL = "https://api.meganova.ai/v1"
DEFAULT_TIMEOUT = 60.0
"""Seconds for each read, write and pool wait; for a stream, the longest silence between two chunks."""
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""The most bytes a non-streamed answer's body may hold, counted after decoding (gzip and the like)."""
DEFAULT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
"""httpx keeps only 20 idle connections by default, which churns with 64 requests in flight."""

API_KEY_ENV = "MEGANOVA_API_KEY"
BASE_URL_ENV = "MEGANOVA_BASE_URL"

TimeoutTypes = Union[float, int, httpx.Timeout, None]


def _seconds(value: Any, name: str) -> Optional[float]:
    """A timeout value checked: None, or a finite number of seconds >= 0; else a `MeganovaError`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MeganovaError(
            f"{name} must be a number of seconds, an httpx.Timeout or None, not {type(value).__name__}."
        )
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise MeganovaError(f"{name} must be a finite number of seconds >= 0 (or None for no limit), got {value!r}.")
    return seconds


def make_timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    """An `httpx.Timeout` from a number of seconds (connect capped at 5 s) or an `httpx.Timeout`.
    A negative, infinite or NaN number, or anything else, raises a `MeganovaError` naming `timeout`."""
    if isinstance(timeout, httpx.Timeout):
        for part in ("connect", "read", "write", "pool"):
            _seconds(getattr(timeout, part), f"timeout.{part}")
        return timeout
    seconds = _seconds(timeout, "timeout")
    if seconds is None:
        return httpx.Timeout(None, connect=DEFAULT_CONNECT_TIMEOUT)
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))


def check_max_response_bytes(value: Any) -> int:
    """`max_response_bytes` checked: a whole number of bytes > 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MeganovaError(f"max_response_bytes must be a whole number of bytes > 0, got {value!r}.")
    checked: int = value
    return checked


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\t\x20-\x7e]*")


def check_max_retries(value: Any, name: str = "max_retries") -> int:
    """A whole number of retries, >= 0 (the client's, or one call's)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MeganovaError(f"{name} must be a whole number >= 0, got {value!r}.")
    return value


def check_headers(headers: Mapping[str, str], name: str) -> None:
    """Raise a `MeganovaError` naming `name` (the argument, e.g. "extra_headers") unless every header name
    is an HTTP token and every value a str of printable ASCII (spaces and tabs allowed: no line breaks,
    no control or non-ASCII characters). Values are never echoed: they may be credentials."""
    if not isinstance(headers, Mapping):
        raise MeganovaError(f"{name} must be a mapping of header names to str values, not {type(headers).__name__}.")
    for key, value in headers.items():
        if not isinstance(key, str) or not _TOKEN.fullmatch(key):
            raise MeganovaError(f"{name}: {key!r:.60} is not a valid header name.")
        if not isinstance(value, str):
            raise MeganovaError(f"{name}[{key!r}] must be a str, not {type(value).__name__}.")
        if not _VALUE.fullmatch(value):
            raise MeganovaError(
                f"{name}[{key!r}] contains a line break, a control or a non-ASCII character (not shown)."
            )


def resolve_api_key(api_key: Union[str, Secret, None]) -> Secret:
    """The key given, else `MEGANOVA_API_KEY`, as a `Secret`; a clear `MeganovaError` when neither is
    usable. No local of this frame holds the bare key when it raises (tracebacks with locals)."""
    if isinstance(api_key, Secret):
        return api_key
    if api_key is None:
        api_key = os.environ.get(API_KEY_ENV)
    if not api_key:
        raise MeganovaError(
            "No API key: pass MegaNova(api_key='sk-...') or set the MEGANOVA_API_KEY environment variable."
        )
    if not isinstance(api_key, str):
        kind = type(api_key).__name__
        api_key = None
        raise MeganovaError(f"The API key must be a string, not {kind}.")
    secret = Secret(api_key)
    api_key = secret.mask
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in secret.reveal()):
        # Never echo the key itself: only say what is wrong with it.
        raise MeganovaError(
            "The API key contains a space, a line break, a control or a non-ASCII character; "
            "check how it was copied (a trailing newline from a file is the usual cause)."
        )
    return secret


def resolve_base_url(base_url: Optional[str]) -> str:
    """The URL given, else `MEGANOVA_BASE_URL`, else production; without a trailing slash, prefix kept."""
    url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise MeganovaError(f"base_url must be a str, not {type(url).__name__}.")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise MeganovaError(f"base_url is not a valid URL ({exc}): {url!r}.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise MeganovaError(f"base_url must be an http(s) URL with a host, got {url!r}.")
    return url.rstrip("/")


def user_agent(extra: Optional[str]) -> str:
    """`meganova-python/<version>`, plus the caller's fragment."""
    base = f"meganova-python/{__version__}"
    return f"{base} {extra}" if extra else base


def new_idempotency_key() -> str:
    """One value per logical call, sent again on each of its retries: 128 random bits."""
    return "mn-" + os.urandom(16).hex()


class RedactedHeaders(Dict[str, str]):
    """A dict of headers whose repr shows credentials as `<redacted>` (tracebacks with locals, debuggers)."""

    def __repr__(self) -> str:
        return repr(redact_headers(self))


@attrs.frozen
class ClientOptions:
    """Everything a client was configured with. Its repr never shows the API key (a `Secret`)."""

    api_key: Secret = attrs.field(repr=False, converter=resolve_api_key)
    base_url: str
    timeout: httpx.Timeout
    max_retries: int
    region: str = "auto"
    user_agent_extra: Optional[str] = None
    default_headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    strict_response_validation: bool = False
    """Check every field of an answer when it arrives (else each when it is read)."""
    send_api_key: bool = True
    """Send `Authorization: Bearer <api_key>` (a Studio agent's key travels in the path instead)."""
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """The most bytes (decoded) a non-streamed answer's body may hold; past it the call fails."""
    middleware: Tuple[Any, ...] = ()
    """The user's middleware, run around each attempt (see `middleware.py`)."""
    headers: Mapping[str, str] = attrs.field(init=False, repr=False)
    """The headers every request carries: auth, User-Agent, X-MN-SDK, X-MN-Region, the caller's defaults."""
    stream_headers: Mapping[str, str] = attrs.field(init=False, repr=False)
    """`headers`, asking for an event stream."""
    secrets: Secrets = attrs.field(init=False, repr=False, eq=False)
    """Every secret the client holds (its key, the environment's proxy credentials): scrubbed from every
    error and log line."""

    @secrets.default
    def _build_secrets(self) -> Secrets:
        return client_secrets(self.api_key)

    @stream_headers.default
    def _build_stream_headers(self) -> Mapping[str, str]:
        return RedactedHeaders(self.headers, Accept="text/event-stream")

    @headers.default
    def _build_headers(self) -> Mapping[str, str]:
        headers = RedactedHeaders(
            {
                "Authorization": f"Bearer {self.api_key.reveal()}",
                "User-Agent": user_agent(self.user_agent_extra),
                "X-MN-SDK": "python",
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",  # the encodings our body reader decodes in bounded steps
            }
        )
        if not self.send_api_key:
            del headers["Authorization"]
        if self.region and self.region != "auto":
            headers["X-MN-Region"] = self.region
        headers.update(self.default_headers)
        return headers

    @classmethod
    def create(
        cls,
        *,
        api_key: Union[str, Secret, None],
        base_url: Optional[str],
        timeout: TimeoutTypes,
        max_retries: int,
        region: str,
        user_agent_extra: Optional[str],
        default_headers: Optional[Mapping[str, str]],
        strict_response_validation: bool = False,
        send_api_key: bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        middleware: Tuple[Any, ...] = (),
    ) -> ClientOptions:
        """Validated options, with the environment's fallbacks applied."""
        check_max_retries(max_retries)
        for name, value in (("region", region), ("user_agent_extra", user_agent_extra or "")):
            if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
                raise MeganovaError(f"{name} must not contain control characters.")
        if default_headers is not None:
            check_headers(default_headers, "default_headers")
        return cls(
            api_key=resolve_api_key(api_key),
            base_url=resolve_base_url(base_url),
            timeout=make_timeout(timeout),
            max_retries=max_retries,
            region=region,
            user_agent_extra=user_agent_extra,
            default_headers=dict(default_headers or {}),
            strict_response_validation=bool(strict_response_validation),
            send_api_key=send_api_key,
            max_response_bytes=check_max_response_bytes(max_response_bytes),
            middleware=middleware,
        )
