"""A pytest plugin, registered by the package: the `meganova_server` fixture, a running `MockServer`.

def test_my_bot(meganova_server):
    client = MegaNova(api_key=meganova_server.api_key, base_url=meganova_server.url)
"""

from __future__ import annotations

from typing import Iterator

import pytest

from ._server import MockServer


@pytest.fixture
def meganova_server() -> Iterator[MockServer]:
    """A local MegaNova API server on 127.0.0.1 (key "test"), stopped after the test."""
    with MockServer() as server:
        yield server
