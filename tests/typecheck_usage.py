# pyright: strict
"""Checked by `make lint` with mypy --strict (not run by pytest): what users' type checkers see."""

from __future__ import annotations

from typing import Any, List, Optional

from typing_extensions import assert_type

from meganova import AsyncChatStream, AsyncMegaNova, ChatStream, ChatStreamChunk, MegaNova
from meganova.models import BillingBalance, ChatResponse, ModelInfo, TokenUsage, UsageSummary

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
    stream = await aclient.chat.stream(model="m", messages=messages)  # the awaited form
    async for chunk in stream:
        assert_type(chunk, ChatStreamChunk)
    async with aclient.chat.stream(model="m", messages=messages) as entered:  # no await needed
        assert_type(entered, AsyncChatStream)
        async for chunk in entered:
            assert_type(chunk, ChatStreamChunk)
            assert_type(chunk.raw.id, str)
        assert_type(entered.usage, Optional[TokenUsage])
    async for chunk in aclient.chat.stream(model="m", messages=messages):  # iterated straight
        assert_type(chunk, ChatStreamChunk)
    async with await aclient.chat.stream(model="m", messages=messages) as awaited:
        assert_type(awaited, AsyncChatStream)
    await stream.aclose()
    await stream.close()
    openai = await aclient.chat.completions.create(model="m", messages=messages, stream=True)
    async with openai:
        async for event in openai:
            assert_type(event.id, str)
    await openai.aclose()
    assert_type(await aclient.models.list(), List[ModelInfo])
    assert_type(await aclient.billing.get_balance(), BillingBalance)
    assert_type(aclient.with_options(max_retries=0), AsyncMegaNova)


def every_public_attribute(client: MegaNova) -> None:
    """What a user reads, typed: no Unset, no Any where the spec gives a type."""

    from meganova.cloud import CloudAgent
    from meganova.errors import APIError, MeganovaError, RateLimitError
    from meganova.models import ChatChoice, ChatMessage, ModelPricing

    resp = client.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}], top_p=0.5, seed=1)
    assert_type(resp.id, str)
    assert_type(resp.choices, List[ChatChoice])
    choice = resp.choices[0]
    assert_type(choice.index, int)
    assert_type(choice.message, ChatMessage)
    assert_type(choice.message.content, Optional[str])
    assert_type(resp.usage, TokenUsage)
    assert_type(resp.usage.total_tokens, int)
    assert_type(resp.model, Optional[str])
    assert_type(resp.request_id, Optional[str])
    assert_type(resp.to_dict(), dict[str, Any])
    assert_type(resp.to_json(), str)
    for chunk in client.chat.stream(model="m", messages=[{"role": "user", "content": "Hi"}]):
        assert_type(chunk.delta, str)
        assert_type(chunk.done, bool)
        assert_type(chunk.finish_reason, Optional[str])
        assert_type(chunk.request_id, Optional[str])
    for event in client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}], stream=True):
        assert_type(event.id, str)
        print(event.choices[0].delta.content, event.choices[0].delta.get("content"), event.usage)
    model = client.models.get("meganova-ai/manta-flash-1.0")
    assert_type(model.id, str)
    assert_type(model.name, Optional[str])
    assert_type(model.context_length, Optional[int])
    assert_type(model.pricing, Optional[ModelPricing])
    if model.pricing is not None:
        assert_type(model.pricing.prompt_tokens_per_1k, Optional[float])
        assert_type(model.pricing.prompt, Optional[str])
    assert_type(client.embeddings.create("x", "m").data[0].floats(), List[float])
    assert_type(client.images.generate("x", model="m").data[0].url, Optional[str])
    assert_type(client.audio.tts("x", model="m", voice="v"), bytes)
    assert_type(client.audio.transcribe(b"...", filename="a.mp3").text, str)
    assert_type(client.rerank.create("q", ["a"], model="m").results[0].relevance_score, float)
    assert_type(client.videos.generate("x", model="m", wait=True).id, str)
    assert_type(client.serverless.list_models().count, Optional[int])
    raw = client.billing.with_raw_response.get_balance()
    print(raw.status_code, raw.headers, raw.request_id)
    assert_type(raw.parse(), BillingBalance)
    assert_type(client.models.with_raw_response.list().parse(), List[ModelInfo])
    assert_type(client.chat.with_raw_response.create(model="m", messages=messages, stream=True), ChatStream)
    agent = CloudAgent("agent_x")
    assert_type(agent.chat("Hello!").response, str)
    try:
        client.billing.get_balance()
    except RateLimitError as e:
        assert_type(e.retry_after, Optional[float])
    except APIError as e:
        assert_type(e.status, Optional[int])
    except MeganovaError as e:
        assert_type(e.request_id, Optional[str])
        assert_type(e.code, Optional[str])
