"""The `meganova` logger. `MEGANOVA_LOG=debug|info` turns it on; the API key never reaches a log line."""

from __future__ import annotations

import logging
import os
from typing import Mapping

logger = logging.getLogger("meganova")

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"})


def setup_logging() -> None:
    """Once per process: with `MEGANOVA_LOG=debug|info`, the `meganova` logger at that level, with a
    stderr handler of its own that does not propagate (so each line prints once, whatever handlers the
    app gives the root logger); without it, logging stays as the app configures it. Any other value
    warns once (`UserWarning`) and is ignored."""
    raw = os.environ.get("MEGANOVA_LOG", "")
    level = raw.strip().lower()
    if not level or getattr(logger, "_meganova_configured", False):
        return
    logger._meganova_configured = True  # type: ignore[attr-defined]
    if level not in ("debug", "info"):
        import warnings

        warnings.warn(
            f"MEGANOVA_LOG={raw[:40]!r} is not 'debug' or 'info': ignored, logging stays off.",
            UserWarning,
            stacklevel=4,
        )
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
    logger.propagate = False


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` safe to log: credentials replaced by `<redacted>`."""
    return {name: "<redacted>" if name.lower() in _SECRET_HEADERS else value for name, value in headers.items()}
