"""`client.usage`: token usage and cost over a time range (`GET /usage/summary`)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Optional, Union

import httpx
from dateutil.parser import isoparse

from .._request import APICall, Body, Headers, Query, RequestOptions
from .._response import parse_model
from ..errors import MeganovaError
from ._base import AsyncAPIResource, SyncAPIResource, async_method, sync_method

if TYPE_CHECKING:
    from ...models.usage_summary import UsageSummary
    from .._options import TimeoutTypes

DateLike = Union[datetime.datetime, datetime.date, str]


def to_iso8601(value: DateLike, name: str) -> str:
    """An ISO-8601 date-time for the query: a naive `datetime` (or a `date`) means UTC; a string is checked."""
    if isinstance(value, str):
        try:
            isoparse(value)
        except (ValueError, OverflowError) as exc:
            raise MeganovaError(
                f"{name} must be an ISO-8601 date-time such as '2025-11-01T00:00:00Z', got {value!r}."
            ) from exc
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return f"{value.isoformat()}T00:00:00Z"
    raise MeganovaError(f"{name} must be a datetime or an ISO-8601 string, got {type(value).__name__}.")


def _parse_summary(response: httpx.Response) -> UsageSummary:
    from ...models.usage_summary import UsageSummary

    return parse_model(UsageSummary, response)


def summary(
    *,
    from_: DateLike,
    to: DateLike,
    group_by: Optional[str] = None,
    user_id: Optional[str] = None,
    api_key: Optional[str] = None,
    timeout: Optional[TimeoutTypes] = None,
    extra_headers: Optional[Headers] = None,
    extra_query: Optional[Query] = None,
    extra_body: Optional[Body] = None,
) -> APICall[UsageSummary]:
    """Usage and cost from `from_` to `to` (`GET /usage/summary`), optionally grouped by `model`, `user`,
    `api_key` or `day`. A naive `datetime` means UTC. `api_key` filters by a key's id: it is not the
    client's key."""
    params = {
        "from": to_iso8601(from_, "from_"),
        "to": to_iso8601(to, "to"),
        "group_by": None if group_by is None else str(group_by),
        "user_id": user_id,
        "api_key": api_key,
    }
    options = RequestOptions(timeout, extra_headers, extra_query, extra_body)
    return APICall("GET", "/usage/summary", _parse_summary, params=params, options=options)


class Usage(SyncAPIResource):
    """Token usage and cost."""

    summary = sync_method(summary)


class AsyncUsage(AsyncAPIResource):
    """Token usage and cost."""

    summary = async_method(summary)
