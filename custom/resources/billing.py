"""`client.billing`: the account balance (`GET /billing/balance`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import httpx

from .._request import APICall, Headers, Query, RequestOptions
from .._response import parse_model
from ._base import AsyncAPIResource, SyncAPIResource

if TYPE_CHECKING:
    from ...models.billing_balance import BillingBalance
    from .._options import TimeoutTypes


def _parse_balance(response: httpx.Response) -> BillingBalance:
    from ...models.billing_balance import BillingBalance

    return parse_model(BillingBalance, response)


def balance_call(options: RequestOptions) -> APICall[BillingBalance]:
    """`GET /billing/balance`."""
    return APICall("GET", "/billing/balance", _parse_balance, options=options)


class Billing(SyncAPIResource):
    """The account balance."""

    def get_balance(
        self,
        *,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
    ) -> BillingBalance:
        """The account's balance, currency and status."""
        return self._client._request(balance_call(RequestOptions(timeout, extra_headers, extra_query)))


class AsyncBilling(AsyncAPIResource):
    """The account balance."""

    async def get_balance(
        self,
        *,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
    ) -> BillingBalance:
        """The account's balance, currency and status."""
        return await self._client._request(balance_call(RequestOptions(timeout, extra_headers, extra_query)))
