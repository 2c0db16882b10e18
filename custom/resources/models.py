"""`client.models`: the models (`list`, `get`), generated from the spec.

Extension: `list(capability=None, type=None)` filters on the client side, as the 0.4 SDK did: a
`capability` the model has (`capabilities[capability]` true, or listed), a `type` among its tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Union

from ...api.models import AsyncModelsResource, ModelsResource

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


class Models(ModelsResource):
    """The models this key can use."""

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
    ) -> List[ModelInfo]:
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
            return models
        return [m for m in models if _keep(m, capability, type)]


class AsyncModels(AsyncModelsResource):
    """The models this key can use."""

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
    ) -> List[ModelInfo]:
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
            return models
        return [m for m in models if _keep(m, capability, type)]
