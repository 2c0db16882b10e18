"""Retry decisions and waits: pure functions, shared by the sync and async send loops.

Retried: connection errors and timeouts, 408, 409, 429 and every 5xx, unless the server says
`x-should-retry: false` (and `x-should-retry: true` retries anything). POSTs carry an Idempotency-Key,
the same on each retry, so the server never acts twice on one call.

The wait: `retry-after-ms`, else `retry-after` (seconds or an HTTP date), used as given when it is
more than 0 and at most `MAX_RETRY_AFTER` seconds; a longer one is not waited out (the error is
raised at once, with `retry_after` set). Without one: `min(0.5 * 2**n, 8)` seconds, less up to 25 %
jitter, for the n-th retry (n from 0).

An unreadable wait (not a number nor an HTTP date, NaN, infinite, more than `MAX_READABLE_WAIT`
either way, a date no clock can hold) counts as absent: whatever the header says, it never raises.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from typing import Callable, Mapping, Optional

INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0

MAX_READABLE_WAIT = 366 * 86400.0
"""A wait longer than a year (or a date further than that either way) is read as no wait given."""

_RETRY_STATUSES = frozenset({408, 409, 429})


def _readable(seconds: float) -> Optional[float]:
    return seconds if math.isfinite(seconds) and -MAX_READABLE_WAIT <= seconds <= MAX_READABLE_WAIT else None


def parse_retry_after(headers: Mapping[str, str], now: Optional[float] = None) -> Optional[float]:
    """Seconds the server asked us to wait, from `retry-after-ms` or `retry-after`; None if absent or
    unreadable. Never raises."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            wait = _readable(float(value) / 1000.0)
        except ValueError:
            wait = None
        if wait is not None:
            return wait
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return _readable(float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        when = email.utils.mktime_tz(parsed)
    except (ValueError, TypeError, IndexError, OverflowError, OSError):  # dates no clock can hold
        return None
    return _readable(when - (time.time() if now is None else now))


def is_retryable_status(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an answer with this status may be retried; `x-should-retry` overrides."""
    should = headers.get("x-should-retry")
    if should == "true":
        return True
    if should == "false":
        return False
    return status in _RETRY_STATUSES or status >= 500


def backoff(retry_number: int, random_fraction: Callable[[], float] = random.random) -> float:
    """The wait before retry `retry_number` (0 for the first) when the server gave none."""
    return min(INITIAL_BACKOFF * 2.0**retry_number, MAX_BACKOFF) * (1.0 - 0.25 * random_fraction())


def wait_before_retry(retry_number: int, retry_after: Optional[float]) -> Optional[float]:
    """Seconds to wait before retry `retry_number`; None when the server's Retry-After is too long to wait."""
    if retry_after is not None and retry_after > MAX_RETRY_AFTER:
        return None
    if retry_after is not None and retry_after > 0:
        return retry_after
    return backoff(retry_number)
