# pyright: strict
"""Checked by `make lint` with mypy --strict (not run by pytest): what users' type checkers see."""

from __future__ import annotations

from typing import List

from typing_extensions import assert_type

from meganova import AsyncChatStream, AsyncMegaNova, ChatStream, ChatStreamChunk, MegaNova
from meganova.models import BillingBalance, ChatResponse, ModelInfo, UsageSummary

client = MegaNova(api_key="sk-typing")
messages = [{"role": "user", "content": "Hi"}]
assert_type(client.chat.create(model="m", messages=messages), ChatResponse)
assert_type(client.chat.create(model="m", messages=messages, stream=True), ChatStream)
assert_type(client.chat.stream(model="m", messages=messages), ChatStream)
assert_type(next(client.chat.stream(model="m", messages=messages)), ChatStreamChunk)
assert_type(client.models.list(), List[ModelInfo])
assert_type(client.models.get("meganova-ai/manta-flash-1.0"), ModelInfo)
assert_type(client.usage.summary(from_="2025-11-01T00:00:00Z", to="2025-11-30T00:00:00Z"), UsageSummary)
assert_type(client.billing.get_balance(), BillingBalance)
assert_type(client.with_options(timeout=5), MegaNova)


async def async_usage(aclient: AsyncMegaNova) -> None:
    assert_type(await aclient.chat.create(model="m", messages=messages), ChatResponse)
    assert_type(await aclient.chat.create(model="m", messages=messages, stream=True), AsyncChatStream)
    stream = await aclient.chat.stream(model="m", messages=messages)
    async for chunk in stream:
        assert_type(chunk, ChatStreamChunk)
    assert_type(await aclient.models.list(), List[ModelInfo])
    assert_type(await aclient.billing.get_balance(), BillingBalance)
    assert_type(aclient.with_options(max_retries=0), AsyncMegaNova)
