"""Client options: defaults, environment variables, validation of the API key and base URL, headers.

Pure: nothing here does I/O. `ClientOptions` is what both `MegaNova` and `AsyncMegaNova` hold.
"""

from __future__ import annotations

import os
from typing import Mapping, Optional, Union

import attrs
import httpx

from ._version import __version__
from .errors import MeganovaError

DEFAULT_BASE_URL = "https://api.meganova.ai/v1"
DEFAULT_TIMEOUT = 60.0
"""Seconds for each read, write and pool wait; for a stream, the longest silence between two chunks."""
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
"""httpx keeps only 20 idle connections by default, which churns with 64 requests in flight."""

API_KEY_ENV = "MEGANOVA_API_KEY"
BASE_URL_ENV = "MEGANOVA_BASE_URL"

TimeoutTypes = Union[float, int, httpx.Timeout, None]


def make_timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    """An `httpx.Timeout` from a number of seconds (connect capped at 5 s) or an `httpx.Timeout`."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None:
        return httpx.Timeout(None, connect=DEFAULT_CONNECT_TIMEOUT)
    return httpx.Timeout(float(timeout), connect=min(float(timeout), DEFAULT_CONNECT_TIMEOUT))


def resolve_api_key(api_key: Optional[str]) -> str:
    """The key given, else `MEGANOVA_API_KEY`; a clear `MeganovaError` when neither is usable."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if not key:
        raise MeganovaError(
            "No API key: pass MegaNova(api_key='sk-...') or set the MEGANOVA_API_KEY environment variable."
        )
    if not isinstance(key, str):
        raise MeganovaError(f"The API key must be a string, not {type(key).__name__}.")
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in key):
        # Never echo the key itself: only say what is wrong with it.
        raise MeganovaError(
            "The API key contains a space, a line break, a control or a non-ASCII character; "
            "check how it was copied (a trailing newline from a file is the usual cause)."
        )
    return key


def resolve_base_url(base_url: Optional[str]) -> str:
    """The URL given, else `MEGANOVA_BASE_URL`, else production; without a trailing slash, prefix kept."""
    url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    parsed = httpx.URL(url)
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


@attrs.frozen
class ClientOptions:
    """Everything a client was configured with. Its repr never shows the API key."""

    api_key: str = attrs.field(repr=False)
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
    headers: Mapping[str, str] = attrs.field(init=False, repr=False)
    """The headers every request carries: auth, User-Agent, X-MN-SDK, X-MN-Region, the caller's defaults."""
    stream_headers: Mapping[str, str] = attrs.field(init=False, repr=False)
    """`headers`, asking for an event stream."""

    @stream_headers.default
    def _build_stream_headers(self) -> Mapping[str, str]:
        return {**self.headers, "Accept": "text/event-stream"}

    @headers.default
    def _build_headers(self) -> Mapping[str, str]:
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "User-Agent": user_agent(self.user_agent_extra),
            "X-MN-SDK": "python",
            "Accept": "application/json",
        }
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
        api_key: Optional[str],
        base_url: Optional[str],
        timeout: TimeoutTypes,
        max_retries: int,
        region: str,
        user_agent_extra: Optional[str],
        default_headers: Optional[Mapping[str, str]],
        strict_response_validation: bool = False,
        send_api_key: bool = True,
    ) -> ClientOptions:
        """Validated options, with the environment's fallbacks applied."""
        if not isinstance(max_retries, int) or max_retries < 0:
            raise MeganovaError(f"max_retries must be a whole number >= 0, got {max_retries!r}.")
        for name, value in (("region", region), ("user_agent_extra", user_agent_extra or "")):
            if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
                raise MeganovaError(f"{name} must not contain control characters.")
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
        )
