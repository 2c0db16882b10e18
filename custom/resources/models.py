"""`client.models`: the models that can be used for chat (`GET /models`, `GET /models/{model_id}`).

Model ids contain a slash (`meganova-ai/manta-flash-1.0`); it travels as it is in the path
(`GET /models/meganova-ai/manta-flash-1.0`), other reserved characters percent-encoded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional
from urllib.parse import quote

import httpx

from .._request import APICall, Body, Headers, Query, RequestOptions
from .._response import parse_model
from ..errors import MeganovaError
from ._base import AsyncAPIResource, SyncAPIResource, async_method, sync_method

if TYPE_CHECKING:
    from ...models.model_info import ModelInfo
    from .._options import TimeoutTypes


def _parse_model_list(response: httpx.Response) -> List[ModelInfo]:
    from ...models.model_list import ModelList

    return parse_model(ModelList, response).data


def _parse_model_info(response: httpx.Response) -> ModelInfo:
    from ...models.model_info import ModelInfo

    return parse_model(ModelInfo, response)


def list_(
    *,
    timeout: Optional[TimeoutTypes] = None,
    extra_headers: Optional[Headers] = None,
    extra_query: Optional[Query] = None,
    extra_body: Optional[Body] = None,
) -> APICall[List[ModelInfo]]:
    """Every model available to this key (`GET /models`)."""
    return APICall(
        "GET", "/models", _parse_model_list, options=RequestOptions(timeout, extra_headers, extra_query, extra_body)
    )


def get(
    model_id: str,
    *,
    timeout: Optional[TimeoutTypes] = None,
    extra_headers: Optional[Headers] = None,
    extra_query: Optional[Query] = None,
    extra_body: Optional[Body] = None,
) -> APICall[ModelInfo]:
    """One model, by id such as `meganova-ai/manta-flash-1.0` (`GET /models/{model_id}`, the slash kept)."""
    if not isinstance(model_id, str) or not model_id.strip("/"):
        raise MeganovaError(
            f"model_id must be a non-empty string such as 'meganova-ai/manta-flash-1.0', got {model_id!r}."
        )
    path = "/models/" + quote(model_id.strip("/"), safe="/")
    return APICall(
        "GET", path, _parse_model_info, options=RequestOptions(timeout, extra_headers, extra_query, extra_body)
    )


class Models(SyncAPIResource):
    """The models that can be used for chat."""

    list = sync_method(list_)
    get = sync_method(get)


class AsyncModels(AsyncAPIResource):
    """The models that can be used for chat."""

    list = async_method(list_)
    get = async_method(get)
