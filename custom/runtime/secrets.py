"""Every secret a client holds, in one place, and the one scrubber of the SDK. Pure but for the log filter.

- `Secret`: a credential whose repr and str show only its mask; `reveal()` gives the value, called only
  where it is written (the `Authorization` header, the raw client's token). Tracebacks with locals and
  debuggers show the mask.
- The mask names the kind (`mask_of`, the one rule): `agent_***` for a Studio agent key (`agent_...`),
  `sk-***` for an API key (anything else), `***` for a credential of a proxy URL.
- `Secrets`: every secret of one client (its key, the credentials of the proxies in the environment);
  `ClientOptions.secrets` holds it, every request carries it (`secrets_of(request)`), and every error
  path reads it from there: connection errors, error answers, validation errors, stream errors.
- `scrub(value, secrets)`: the one scrubber (a str, bytes, a JSON-like tree however deep; keys too).
- `SecretsFilter`: a `logging.Filter` on the `meganova`, `httpx`, `httpcore` (and its children) and
  `hpack` loggers, installed when a client is built: whatever handlers the app configures, no record of
  theirs shows a secret of a live client (httpx's own `HTTP Request:` line prints the URL, where a
  Studio agent's key travels).
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import weakref
from typing import Any, Iterable, List, Optional, Tuple, Union
from urllib.parse import quote, unquote

import httpx

__all__ = [
    "AGENT_MASK",
    "CREDENTIAL_MASK",
    "MASK",
    "MaskedStr",
    "Secret",
    "Secrets",
    "SecretsFilter",
    "install_log_filter",
    "mask_of",
    "scrub",
    "secrets_of",
]

MASK = "sk-***"
"""The mask of an API key."""
AGENT_MASK = "agent_***"
"""The mask of a Studio agent key."""
CREDENTIAL_MASK = "***"
"""The mask of a proxy URL's user name or password."""

SECRETS_EXTENSION = "meganova.secrets"
"""The request extension that carries the client's `Secrets` (the key may travel in the path)."""


def mask_of(value: str) -> str:
    """The mask for a key, naming its kind: `agent_***` for a Studio agent key, else `sk-***`."""
    return AGENT_MASK if value.startswith("agent_") else MASK


class Secret:
    """A credential. Its repr and str show only its mask; `reveal()` gives the value."""

    __slots__ = ("__weakref__", "_value", "mask")

    def __init__(self, value: str, mask: Optional[str] = None) -> None:
        self._value = value
        self.mask = mask_of(value) if mask is None else mask
        _register(self)

    def reveal(self) -> str:
        """The value itself: only where it is written (a header, the raw client's token)."""
        return self._value

    def forms(self) -> Tuple[str, ...]:
        """The value as it may appear in text: as it is, and percent-encoded (in a URL)."""
        value = self._value
        return tuple(dict.fromkeys((value, quote(value, safe=""), quote(value, safe="/"))))

    def __repr__(self) -> str:
        return f"Secret({self.mask!r})"

    def __str__(self) -> str:
        return self.mask

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> Any:
        return (Secret, (self._value, self.mask))


class MaskedStr(str):
    """A str that must travel as text (a Studio agent key in a URL path, a path holding it) whose repr
    shows it scrubbed: tracebacks with locals and debuggers show the mask."""

    _shown: str

    def __new__(cls, value: str, secrets: Union[Secrets, Secret, str, None] = None) -> MaskedStr:
        self = super().__new__(cls, value)
        self._shown = repr(scrub(str.__str__(value), secrets if secrets is not None else value))
        return self

    def __repr__(self) -> str:
        return self._shown

    def __reduce__(self) -> Any:
        return (str, (str.__str__(self),))


class Secrets:
    """Every secret one client holds. `scrub(value)` replaces each (in every form) by its mask."""

    __slots__ = ("_pairs", "items")

    def __init__(self, items: Iterable[Secret] = ()) -> None:
        self.items: Tuple[Secret, ...] = tuple(dict.fromkeys(items))
        pairs: List[Tuple[str, str]] = []
        for secret in self.items:
            pairs.extend((form, secret.mask) for form in secret.forms() if form)
        pairs.sort(key=lambda pair: -len(pair[0]))  # the longest first: one secret may contain another
        self._pairs: Tuple[Tuple[str, str], ...] = tuple(pairs)

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def __repr__(self) -> str:
        return f"Secrets({', '.join(s.mask for s in self.items)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secrets) and other.items == self.items

    def __hash__(self) -> int:
        return hash(self.items)

    def __add__(self, other: Secrets) -> Secrets:
        return Secrets(self.items + other.items)

    def text(self, value: str) -> str:
        """`value` with every secret replaced by its mask (the same object when there was none)."""
        for form, mask in self._pairs:
            if form in value:
                value = value.replace(form, mask)
        return value

    def bytes(self, value: bytes) -> bytes:
        """`text` for bytes."""
        for form, mask in self._pairs:
            raw = form.encode()
            if raw in value:
                value = value.replace(raw, mask.encode())
        return value

    def holds(self, value: str) -> bool:
        """Whether `value` shows any of the secrets."""
        return any(form in value for form, _ in self._pairs)


NO_SECRETS = Secrets()


def as_secrets(secrets: Union[Secrets, Secret, str, None]) -> Secrets:
    """`secrets` as a `Secrets` (a bare str is a key, masked by its kind)."""
    if isinstance(secrets, Secrets):
        return secrets
    if isinstance(secrets, Secret):
        return Secrets((secrets,))
    if isinstance(secrets, str) and secrets:
        return Secrets((Secret(secrets),))
    return NO_SECRETS


def scrub(value: Any, secrets: Union[Secrets, Secret, str, None]) -> Any:
    """`value` with every secret replaced by its mask: a str, bytes, or a JSON-like tree of dicts and
    lists (keys too), copied only where needed; other values are returned as they are. Iterative, so a
    body nested thousands deep is no problem. The one scrubber of the SDK."""
    found = as_secrets(secrets)
    if not found:
        return value
    if isinstance(value, str):
        return found.text(value)
    if isinstance(value, (bytes, bytearray)):
        return found.bytes(bytes(value))
    if not isinstance(value, (dict, list, tuple)):
        return value
    holder: List[Any] = [None]
    todo: List[Tuple[Any, Any, Any]] = [(holder, 0, value)]
    while todo:
        parent, key, item = todo.pop()
        if isinstance(item, str):
            parent[key] = found.text(item)
        elif isinstance(item, (bytes, bytearray)):
            parent[key] = found.bytes(bytes(item))
        elif isinstance(item, dict):
            copy: dict[Any, Any] = {}
            parent[key] = copy
            for name, child in item.items():
                if isinstance(name, str):
                    name = found.text(name)
                copy[name] = None
                todo.append((copy, name, child))
        elif isinstance(item, (list, tuple)):
            items: List[Any] = [None] * len(item)
            parent[key] = items
            todo.extend((items, index, child) for index, child in enumerate(item))
        else:
            parent[key] = item
    return holder[0]


# --- the secrets a client holds ----------------------------------------------------------------------

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def proxy_credentials(environ: Optional[Any] = None) -> Tuple[Secret, ...]:
    """The user names and passwords in the proxy URLs of the environment (`HTTP_PROXY`, `HTTPS_PROXY`,
    `ALL_PROXY`, any case), as sent and percent-decoded, the whole `user:password` pair, and its base64
    form (what `Proxy-Authorization: Basic` carries)."""
    env = os.environ if environ is None else environ
    found: List[Secret] = []
    for name, url in env.items():
        if name.lower() not in _PROXY_VARIABLES or "@" not in url:
            continue
        userinfo = url.split("://", 1)[-1].rsplit("@", 1)[0]
        parts = [userinfo, *userinfo.split(":", 1)]
        decoded = ":".join(unquote(part) for part in userinfo.split(":", 1))
        parts.append(base64.b64encode(decoded.encode()).decode())
        for part in parts:
            for form in dict.fromkeys((part, unquote(part))):
                if len(form) >= 3:  # a name of one or two letters would mask half of every line
                    found.append(Secret(form, CREDENTIAL_MASK))
    return tuple(found)


def client_secrets(api_key: Secret) -> Secrets:
    """Every secret a client holds: its key and the credentials of the environment's proxies."""
    return Secrets((api_key, *proxy_credentials()))


def secrets_of(request: Optional[httpx.Request]) -> Secrets:
    """The secrets to scrub from anything about `request`: the client's, which every request the SDK
    sends carries, else the key of its `Authorization` header."""
    if request is None:
        return NO_SECRETS
    secrets = request.extensions.get(SECRETS_EXTENSION)
    if isinstance(secrets, Secrets):
        return secrets
    auth: Optional[str] = request.headers.get("authorization")
    if not auth:
        return NO_SECRETS
    return as_secrets(auth[7:] if auth[:7].lower() == "bearer " else auth)


class ScrubbedRequest(httpx.Request):
    """An `httpx.Request` whose repr shows its URL scrubbed (a Studio agent's key travels in the path)."""

    def __repr__(self) -> str:
        return scrub(super().__repr__(), secrets_of(self))  # type: ignore[no-any-return]


def carry(request: httpx.Request, secrets: Secrets) -> None:
    """Makes `request` carry `secrets` (kept if it has some) and show its URL scrubbed in its repr."""
    if not isinstance(request.extensions.get(SECRETS_EXTENSION), Secrets):
        request.extensions = {**request.extensions, SECRETS_EXTENSION: secrets}
    if type(request) is httpx.Request:
        request.__class__ = ScrubbedRequest


# --- logging -----------------------------------------------------------------------------------------

_LOCK = threading.RLock()
"""Re-entrant: a `Secret` freed by the cyclic GC while `_register` holds the lock runs `_forget` (its
weakref callback) in the same thread, inside it; a plain Lock would deadlock there (seen on 3.13)."""
_LIVE: List[weakref.ref[Secret]] = []
_SNAPSHOT: Tuple[weakref.ref[Secret], ...] = ()
"""The secrets alive in the process, for the log filter (weak: a client's go with it)."""


_CACHE: Tuple[Tuple[weakref.ref[Secret], ...], Secrets] = ((), NO_SECRETS)
"""The snapshot `live_secrets` last read, and what it built from it."""


def _register(secret: Secret) -> None:
    global _SNAPSHOT
    with _LOCK:
        _LIVE.append(weakref.ref(secret, _forget))
        _SNAPSHOT = tuple(_LIVE)


def _forget(ref: weakref.ref[Secret]) -> None:
    global _SNAPSHOT
    with _LOCK:
        try:
            _LIVE.remove(ref)
        except ValueError:
            return
        _SNAPSHOT = tuple(_LIVE)


def live_secrets() -> Secrets:
    """Every `Secret` alive in the process (built again only when one came or went)."""
    global _CACHE
    snapshot = _SNAPSHOT
    seen, secrets = _CACHE  # one tuple: read whole, replaced whole
    if seen is snapshot:
        return secrets
    found = Secrets(secret for secret in (ref() for ref in snapshot) if secret is not None)
    secrets = Secrets()
    secrets._pairs = found._pairs  # the text to replace only: the cache keeps no `Secret` alive
    _CACHE = (snapshot, secrets)
    return secrets


class SecretsFilter(logging.Filter):
    """Rewrites a record whose message shows a secret of the process's clients, the secret masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _SNAPSHOT:
            return True
        secrets = live_secrets()
        try:
            message = record.getMessage()
        except Exception:  # a broken record: logging reports it itself
            return True
        clean = secrets.text(message)
        if clean != message:
            record.msg = clean
            record.args = None
        if record.exc_text:
            record.exc_text = secrets.text(record.exc_text)
        return True


LOGGERS = (
    "meganova",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack",
    "hpack.hpack",
    "hpack.table",
)
"""The loggers of the SDK's requests (a filter on a logger does not see its children's records)."""

_FILTER = SecretsFilter()


def install_log_filter() -> None:
    """Puts `SecretsFilter` on every logger of `LOGGERS` (once each; again if a configuration removed it)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
