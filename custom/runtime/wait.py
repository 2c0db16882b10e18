"""The deadline of a wait that spans several calls (`videos.generate(wait=True, timeout=T)`), and the
checks of a wait's arguments. Pure: the sync and async polling loops both use it.

While a `WaitDeadline` is `active()` (a context variable: per thread, per task), the send loops retry
only when the wait before the retry ends before the deadline (`RetryState.fits`): a Retry-After or a
backoff that would pass it is not waited out, the error is raised at once and the deadline is marked
`cut`, so that the polling loop reports the wait's end (`VideoTimeoutError`). A wait therefore ends
within its `timeout` plus one attempt's bound (the client's `timeout`).
"""

from __future__ import annotations

import contextvars
import math
import time
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from .errors import MeganovaError

_current: contextvars.ContextVar[Optional[WaitDeadline]] = contextvars.ContextVar("meganova_wait", default=None)


class WaitDeadline:
    """The end (a `time.monotonic()` value) of a wait of `timeout` seconds from now."""

    __slots__ = ("at", "cut", "started", "timeout")

    def __init__(self, timeout: float) -> None:
        self.started = time.monotonic()
        self.timeout = timeout
        self.at = self.started + timeout
        self.cut = False
        """A retry was not made because its wait would have passed the deadline."""

    def left(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self.at - time.monotonic())

    def elapsed(self) -> float:
        """Seconds since the wait began."""
        return time.monotonic() - self.started

    @contextmanager
    def active(self) -> Iterator[WaitDeadline]:
        """This deadline bounds the retry waits of the calls made inside the block."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)


def retry_fits(wait: float) -> bool:
    """Whether a retry after `wait` seconds ends before the active wait's deadline (always, without
    one); when it does not, the deadline is marked `cut`."""
    deadline = _current.get()
    if deadline is None:
        return True
    if time.monotonic() + wait < deadline.at:
        return True
    deadline.cut = True
    return False


def check_seconds(value: Any, name: str, *, positive: bool = False) -> float:
    """`value` as a finite number of seconds, at least 0 (more than 0 with `positive`); else a
    `MeganovaError` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MeganovaError(f"{name} must be a number of seconds, got {type(value).__name__}.")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or (positive and seconds == 0):
        need = "more than 0" if positive else "at least 0"
        raise MeganovaError(f"{name} must be a finite number of seconds, {need}, got {value!r}.")
    return seconds
