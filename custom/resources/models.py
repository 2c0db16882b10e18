"""`client.models`: the models (`list`, `get`), generated from the spec.

Extension: `list(capability=None, type=None)` filters on the client side, as the 0.4 SDK did: a
`capability` the model has (`capabilities[capability]` true, or listed), a `type` among its tags. The
result is a list (a `ModelList`) that also has `.data` (itself), as openai-python's page has;
`with_raw_response.list(capability=...)` filters in its `parse()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, List, Mapping, Optional, Union, cast

from ...api.models import (
    AsyncModelsResource,
    AsyncModelsResourceWithRawResponse,
    ModelsResource,
    ModelsResourceWithRawResponse,
)
from ...types import APIResponse

if TYPE_CHECKING:
    import httpx

    from ...models.model_info import ModelInfo


def _keep(model: ModelInfo, capability: Optional[str], type: Optional[str]) -> bool:
    if capability is not None:
        capabilities = model.get("capabilities")
        if isinstance(capabilities, Mapping):
            if capabilities.get(capability) is not True:
                return False
        elif not (isinstance(capabilities, list) and capability in capabilities):
            return False
    if type is not None:
        tags = model.get("tags")
        if not (isinstance(tags, list) and type in tags):
            return False
    return True


class ModelList(List["ModelInfo"]):
    """The models: a list, with `.data` (the list itself) for code written for openai-python's page."""

    @property
    def data(self) -> List[ModelInfo]:
        """The models (this list)."""
        return self


def _filtered(models: Iterable[ModelInfo], capability: Optional[str], type: Optional[str]) -> ModelList:
    return ModelList(m for m in models if _keep(m, capability, type))


def _filtered_raw(answer: Any, capability: Optional[str], type: Optional[str]) -> APIResponse[ModelList]:
    """The raw answer, its `parse()` filtered."""
    raw = cast("APIResponse[List[ModelInfo]]", answer)
    return APIResponse(raw.http_response, lambda: _filtered(raw.parse(), capability, type))


class ModelsWithRawResponse(ModelsResourceWithRawResponse):
    """`Models`' methods, each returning the HTTP answer as an `APIResponse`."""

    _resource: Models

    def list(  # type: ignore[override]
        self,
        capability: Optional[str] = None,
        type: Optional[str] = None,
        *,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> APIResponse[ModelList]:
        """`list()`, returning the HTTP answer; `parse()` gives the models, filtered as `list()` does."""
        answer = self._resource._raw_twin().list(
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
        )
        return _filtered_raw(answer, capability, type)


class AsyncModelsWithRawResponse(AsyncModelsResourceWithRawResponse):
    """`AsyncModels`' methods, each returning the HTTP answer as an `APIResponse`."""

    _resource: AsyncModels

    async def list(  # type: ignore[override]
        self,
        capability: Optional[str] = None,
        type: Optional[str] = None,
        *,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> APIResponse[ModelList]:
        """`list()`, returning the HTTP answer; `parse()` gives the models, filtered as `list()` does."""
        answer = await self._resource._raw_twin().list(
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
        )
        return _filtered_raw(answer, capability, type)


class Models(ModelsResource):
    """The models this key can use."""

    @property
    def with_raw_response(self) -> ModelsWithRawResponse:
        """The same methods, returning the HTTP answer (`APIResponse`) instead of the models."""
        return ModelsWithRawResponse(self)

    def list(
        self,
        capability: Optional[str] = None,
        type: Optional[str] = None,
        *,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> ModelList:
        """Every model available to this key (`GET /models`); with `capability` or `type`, only those
        that have it (filtered here, as in the 0.4 SDK)."""
        models = super().list(
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
        )
        if not isinstance(models, list):  # with_raw_response: the answer as it is
            return cast(ModelList, models)
        return _filtered(models, capability, type)


class AsyncModels(AsyncModelsResource):
    """The models this key can use."""

    @property
    def with_raw_response(self) -> AsyncModelsWithRawResponse:
        """The same methods, returning the HTTP answer (`APIResponse`) instead of the models."""
        return AsyncModelsWithRawResponse(self)

    async def list(
        self,
        capability: Optional[str] = None,
        type: Optional[str] = None,
        *,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> ModelList:
        """Every model available to this key (`GET /models`); with `capability` or `type`, only those
        that have it (filtered here, as in the 0.4 SDK)."""
        models = await super().list(
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
        )
        if not isinstance(models, list):  # with_raw_response: the answer as it is
            return cast(ModelList, models)
        return _filtered(models, capability, type)
