"""The deadline of one attempt, enforced on every socket operation of the pools we build ourselves.

httpcore applies `timeout` to each read, and reads its value once per phase (headers, body): a server
dripping a byte every second, or sending `100 Continue` forever, never trips it. So the send loops set
a deadline for each attempt of a non-streamed call (`attempt()`, a context variable: per thread, per
task), and our pools' network streams (`deadline_backend.py`, put under each httpcore pool as `pool`
builds it) give every connect, read and write only the time left: past the deadline they raise
httpcore's own timeout errors, which httpx maps to `httpx.TimeoutException`s. (This module imports no
httpcore: `import meganova` does not pay for it.)

A user's own `http_client=` is never changed: with it, the send loops still check the deadline between
body pieces, but a dripped header phase is bounded only by httpx's per-read timeout.
"""

from __future__ import annotations

import contextvars
import time
from typing import Mapping, Optional

import httpx

_deadline: contextvars.ContextVar[Optional[float]] = contextvars.ContextVar("meganova_deadline", default=None)

attempt_deadline = _deadline
"""The deadline (a `time.monotonic()` value) of the attempt in progress in this thread or task, or None."""


def budget_of(request: httpx.Request) -> Optional[float]:
    """Seconds one attempt of `request` may take: the largest of its connect, read, write and pool
    timeouts, or None (no deadline) when its read timeout is None."""
    timeouts: Mapping[str, Optional[float]] = request.extensions.get("timeout") or {}
    if timeouts.get("read") is None:
        return None
    return max(value for value in timeouts.values() if value is not None)


def _left(timeout: Optional[float], error: type[Exception]) -> Optional[float]:
    """`timeout`, cut to the time left before the deadline; raises `error` when none is left."""
    deadline = _deadline.get()
    if deadline is not None:
        left = deadline - time.monotonic()
        if timeout is None or left < timeout:
            timeout = left
    if timeout is not None and timeout <= 0:
        raise error("The attempt's time is up.")  # a 0 timeout would make the socket non-blocking
    return timeout
