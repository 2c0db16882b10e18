"""Keyword arguments a resource method does not declare: a near miss of a declared parameter is a typo
(`temprature=0.2`), refused with the `TypeError` Python itself would raise, naming the closest
parameter; any other name is a field the SDK does not know yet, forwarded in the body as it is (the
guideline's `**kwargs`). `extra_body=` is the explicit way to send any field.
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping, Optional, Sequence

NEAR_MISS = 0.85
"""How alike (difflib's ratio, 0 to 1) a keyword and a parameter must be for the keyword to be a typo:
`temprature`/`temperature` 0.95, `max_token`/`max_tokens` 0.95; `top_k`/`top_p` (0.8) is not one."""


def closest_parameter(name: str, parameters: Sequence[str]) -> Optional[str]:
    """The parameter `name` is a near miss of (case aside), or None."""
    lowered = {parameter.lower(): parameter for parameter in parameters}
    if name.lower() in lowered:
        return lowered[name.lower()]
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=NEAR_MISS)
    return lowered[matches[0]] if matches else None


def refuse_near_misses(method: str, keywords: Mapping[str, Any], parameters: Sequence[str]) -> None:
    """Raises `TypeError` for the first keyword that is a near miss of one of `parameters`."""
    for name in keywords:
        match = closest_parameter(name, parameters)
        if match is not None:
            raise TypeError(
                f"{method}() got an unexpected keyword argument {name!r}. Did you mean {match!r}? "
                f"(A field the SDK does not declare can be sent with extra_body={{{name!r}: ...}}.)"
            )
