"""Resources and their methods. A resource is a thin view on its client.

Each API method is written once, as a pure *builder* (parameters, checks, docstring) that returns an
`APICall`. `sync_method(builder)` and `async_method(builder)` turn it into the method of the sync and of
the async resource: same signature, same docstring, and the call handed to the client.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Optional, TypeVar, overload

from .._request import APICall

if TYPE_CHECKING:
    from typing_extensions import Concatenate, ParamSpec

    from .._client import AsyncMegaNova, MegaNova

    P = ParamSpec("P")

T = TypeVar("T")
R = TypeVar("R")


class SyncAPIResource:
    """A resource of a `MegaNova` client."""

    def __init__(self, client: MegaNova) -> None:
        self._client = client


class AsyncAPIResource:
    """A resource of an `AsyncMegaNova` client."""

    def __init__(self, client: AsyncMegaNova) -> None:
        self._client = client


def _named(method: Any, builder: Callable[..., Any]) -> Any:
    functools.update_wrapper(method, builder)
    method.__name__ = method.__qualname__ = builder.__name__.strip("_")
    return method


@overload
def sync_method(builder: Callable[P, APICall[T]]) -> Callable[Concatenate[SyncAPIResource, P], T]: ...
@overload
def sync_method(
    builder: Callable[P, APICall[Any]], returns: type[R]
) -> Callable[Concatenate[SyncAPIResource, P], R]: ...
def sync_method(builder: Callable[P, APICall[Any]], returns: Optional[type[Any]] = None) -> Any:
    """The sync resource method that sends what `builder` describes and returns its result (`returns`
    names the result's type when it is not the call's own: a stream)."""

    def method(self: SyncAPIResource, *args: P.args, **kwargs: P.kwargs) -> Any:
        return self._client._call(builder(*args, **kwargs))

    return _named(method, builder)


@overload
def async_method(
    builder: Callable[P, APICall[T]],
) -> Callable[Concatenate[AsyncAPIResource, P], Coroutine[Any, Any, T]]: ...
@overload
def async_method(
    builder: Callable[P, APICall[Any]], returns: type[R]
) -> Callable[Concatenate[AsyncAPIResource, P], Coroutine[Any, Any, R]]: ...
def async_method(builder: Callable[P, APICall[Any]], returns: Optional[type[Any]] = None) -> Any:
    """The async resource method that sends what `builder` describes and returns its result (`returns`
    names the result's type when it is not the call's own: a stream)."""

    async def method(self: AsyncAPIResource, *args: P.args, **kwargs: P.kwargs) -> Any:
        return await self._client._call(builder(*args, **kwargs))

    return _named(method, builder)
