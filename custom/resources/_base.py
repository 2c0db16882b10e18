"""The base classes of resources: a resource is a thin view on its client."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._client import AsyncMegaNova, MegaNova


class SyncAPIResource:
    """A resource of a `MegaNova` client."""

    def __init__(self, client: MegaNova) -> None:
        self._client = client


class AsyncAPIResource:
    """A resource of an `AsyncMegaNova` client."""

    def __init__(self, client: AsyncMegaNova) -> None:
        self._client = client
