"""The `meganova` logger. `MEGANOVA_LOG=debug|info` turns it on; the API key never reaches a log line."""

from __future__ import annotations

import logging
import os
from typing import Mapping

logger = logging.getLogger("meganova")

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"})


def setup_logging() -> None:
    """Attach a stderr handler at the level `MEGANOVA_LOG` names (once); without it, logging stays off."""
    level = os.environ.get("MEGANOVA_LOG", "").strip().lower()
    if level not in ("debug", "info") or getattr(logger, "_meganova_configured", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
    logger._meganova_configured = True  # type: ignore[attr-defined]


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` safe to log: credentials replaced by `<redacted>`."""
    return {name: "<redacted>" if name.lower() in _SECRET_HEADERS else value for name, value in headers.items()}
