"""`client.billing`: the account balance (`GET /billing/balance`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import httpx

from .._request import APICall, Body, Headers, Query, RequestOptions
from .._response import parse_model
from ._base import AsyncAPIResource, SyncAPIResource, async_method, sync_method

if TYPE_CHECKING:
    from ...models.billing_balance import BillingBalance
    from .._options import TimeoutTypes


def _parse_balance(response: httpx.Response) -> BillingBalance:
    from ...models.billing_balance import BillingBalance

    return parse_model(BillingBalance, response)


def get_balance(
    *,
    timeout: Optional[TimeoutTypes] = None,
    extra_headers: Optional[Headers] = None,
    extra_query: Optional[Query] = None,
    extra_body: Optional[Body] = None,
) -> APICall[BillingBalance]:
    """The account's balance, currency and status (`GET /billing/balance`)."""
    return APICall(
        "GET",
        "/billing/balance",
        _parse_balance,
        options=RequestOptions(timeout, extra_headers, extra_query, extra_body),
    )


class Billing(SyncAPIResource):
    """The account balance."""

    get_balance = sync_method(get_balance)


class AsyncBilling(AsyncAPIResource):
    """The account balance."""

    get_balance = async_method(get_balance)
