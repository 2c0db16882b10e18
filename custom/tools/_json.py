"""Reading decoded JSON defensively: a field of the wrong type reads as absent."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional


def obj(value: Any) -> Dict[str, Any]:
    """`value` as a dict ({} when it is not an object)."""
    return dict(value) if isinstance(value, Mapping) else {}


def string(value: Any) -> Optional[str]:
    """`value` when it is a string, else None."""
    return value if isinstance(value, str) else None


def integer(value: Any, default: int) -> int:
    """`value` when it is an int (not a bool), else `default`."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default
