"""`client.models`: the models that can be used for chat (`GET /models`, `GET /models/{model_id}`).

Model ids contain a slash (`meganova-ai/manta-flash-1.0`); it travels as it is in the path
(`GET /models/meganova-ai/manta-flash-1.0`), other reserved characters percent-encoded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional
from urllib.parse import quote

import httpx

from .._request import APICall, Headers, Query, RequestOptions
from .._response import parse_model
from ..errors import MeganovaError
from ._base import AsyncAPIResource, SyncAPIResource

if TYPE_CHECKING:
    from ...models.model_info import ModelInfo
    from .._options import TimeoutTypes


def _parse_model_list(response: httpx.Response) -> List[ModelInfo]:
    from ...models.model_list import ModelList

    return parse_model(ModelList, response).data


def _parse_model_info(response: httpx.Response) -> ModelInfo:
    from ...models.model_info import ModelInfo

    return parse_model(ModelInfo, response)


def list_models_call(options: RequestOptions) -> APICall[List[ModelInfo]]:
    """`GET /models`."""
    return APICall("GET", "/models", _parse_model_list, options=options)


def get_model_call(model_id: str, options: RequestOptions) -> APICall[ModelInfo]:
    """`GET /models/{model_id}`, the id's slash kept as it is."""
    if not isinstance(model_id, str) or not model_id.strip("/"):
        raise MeganovaError(
            f"model_id must be a non-empty string such as 'meganova-ai/manta-flash-1.0', got {model_id!r}."
        )
    return APICall("GET", "/models/" + quote(model_id.strip("/"), safe="/"), _parse_model_info, options=options)


class Models(SyncAPIResource):
    """The models that can be used for chat."""

    def list(
        self,
        *,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
    ) -> List[ModelInfo]:
        """Every model available to this key."""
        return self._client._request(list_models_call(RequestOptions(timeout, extra_headers, extra_query)))

    def get(
        self,
        model_id: str,
        *,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
    ) -> ModelInfo:
        """One model, by id (`meganova-ai/manta-flash-1.0`)."""
        return self._client._request(get_model_call(model_id, RequestOptions(timeout, extra_headers, extra_query)))


class AsyncModels(AsyncAPIResource):
    """The models that can be used for chat."""

    async def list(
        self,
        *,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
    ) -> List[ModelInfo]:
        """Every model available to this key."""
        return await self._client._request(list_models_call(RequestOptions(timeout, extra_headers, extra_query)))

    async def get(
        self,
        model_id: str,
        *,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
    ) -> ModelInfo:
        """One model, by id (`meganova-ai/manta-flash-1.0`)."""
        return await self._client._request(
            get_model_call(model_id, RequestOptions(timeout, extra_headers, extra_query))
        )
