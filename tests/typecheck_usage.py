# pyright: strict
"""Checked by `make lint` with mypy --strict (not run by pytest): what users' type checkers see."""

from __future__ import annotations

from typing import Any, List, Optional

from typing_extensions import assert_type

from meganova import AsyncChatStream, AsyncMegaNova, ChatStream, ChatStreamChunk, MegaNova
from meganova.custom.resources.models import ModelList
from meganova.models import BillingBalance, ChatResponse, ModelInfo, TokenUsage, UsageSummary, VideoGeneration

client = MegaNova(api_key="sk-typing")
messages = [{"role": "user", "content": "Hi"}]
assert_type(client.chat.create(model="m", messages=messages), ChatResponse)
assert_type(client.chat.create(model="m", messages=messages, stream=True), ChatStream)
assert_type(client.chat.stream(model="m", messages=messages), ChatStream)
assert_type(next(client.chat.stream(model="m", messages=messages)), ChatStreamChunk)
assert_type(client.models.list(), ModelList)
assert_type(client.models.list().data, List[ModelInfo])
assert_type(client.models.get("meganova-ai/manta-flash-1.0"), ModelInfo)
assert_type(client.usage.summary(from_="2025-11-01T00:00:00Z", to="2025-11-30T00:00:00Z"), UsageSummary)
assert_type(client.billing.get_balance(), BillingBalance)
assert_type(client.with_options(timeout=5), MegaNova)
assert_type(client.with_options(base_url="http://localhost:8000/v1", api_key="sk-other"), MegaNova)
assert_type(client.copy(max_retries=0), MegaNova)


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
    assert_type(await aclient.models.list(), ModelList)
    assert_type((await aclient.models.list()).data, List[ModelInfo])
    async with aclient.chat.with_streaming_response.create(model="m", messages=messages) as streamed:
        assert_type(await streamed.parse(), ChatResponse)
        async for line in streamed.iter_lines():
            assert_type(line, str)
    async with aclient.chat.with_streaming_response.stream(model="m", messages=messages) as lines:
        assert_type(await lines.parse(), AsyncChatStream)
    assert_type(await aclient.audio.speech.create("x", model="m", voice="v"), bytes)
    assert_type(await aclient.chat.with_raw_response.stream(model="m", messages=messages), AsyncChatStream)
    assert_type((await aclient.videos.with_raw_response.generate("x", model="m", wait=True)).parse(), VideoGeneration)

    async def progress(generation: VideoGeneration) -> None:
        print(generation.status)

    await aclient.videos.generate("x", model="m", wait=True, poll_interval=1, timeout=60, on_progress=progress)
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
    assert_type(client.models.with_raw_response.list().parse(), ModelList)
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


def habits(client: MegaNova) -> None:
    """The spellings users bring from openai-python and meganova 0.4."""
    import httpx

    import meganova
    from meganova.custom.runtime.raw_response import StreamedAPIResponse
    from meganova.errors import VideoTimeoutError
    from meganova.models import ChoiceLogprobs, TokenLogprob, Transcription

    vectors = client.embeddings.create(["a", "b"], "m")
    first: List[float] = vectors.data[0].embedding  # no narrowing needed
    assert_type(vectors.data[0].floats(), List[float])
    encoded: str = client.embeddings.create("a", "m", encoding_format="base64").data[0].embedding
    print(first, encoded)
    resp = client.chat.create(model="m", messages=messages, logprobs=True, top_logprobs=2)
    logprobs = resp.choices[0].logprobs
    assert_type(logprobs, Optional[ChoiceLogprobs])
    if logprobs is not None and logprobs.content:
        assert_type(logprobs.content[0], TokenLogprob)
        assert_type(logprobs.content[0].logprob, float)
    with client.chat.with_streaming_response.create(model="m", messages=messages) as streamed:
        assert_type(streamed, StreamedAPIResponse[ChatResponse])
        assert_type(streamed.parse(), ChatResponse)
        for piece in streamed.iter_bytes():
            assert_type(piece, bytes)
    with client.audio.with_streaming_response.tts("x", model="m", voice="v") as audio:
        assert_type(audio.read(), bytes)
    with client.chat.with_streaming_response.stream(model="m", messages=messages) as lines:
        for line in lines.iter_lines():
            assert_type(line, str)
        assert_type(lines.parse(), ChatStream)
    assert_type(client.chat.with_raw_response.stream(model="m", messages=messages), ChatStream)
    assert_type(client.audio.with_raw_response.stt(b"...", filename="a.wav").parse(), Transcription)
    assert_type(client.audio.with_raw_response.tts_to_file("a.mp3", "x", model="m", voice="v").parse(), int)
    assert_type(client.models.with_raw_response.list(capability="vision").parse(), ModelList)
    assert_type(client.audio.speech.create("x", model="m", voice="v"), bytes)
    assert_type(client.audio.transcriptions.create(b"...", filename="a.wav"), Transcription)
    raw_video = client.videos.with_raw_response.generate("x", model="m", wait=True, poll_interval=1)
    assert_type(raw_video.parse(), VideoGeneration)
    client.videos.generate("x", model="m", wait=True, on_progress=lambda g: print(g.status))
    try:
        client.models.list()
    except meganova.RateLimitError as e:
        assert_type(e.status_code, Optional[int])
        assert_type(e.response, Optional[httpx.Response])
    except meganova.APIStatusError as e:
        print(e.status_code, e.response)
    except VideoTimeoutError as e:
        print(e.generation)
    except meganova.MeganovaError as e:
        print(e.message)


def audio_habits(client: MegaNova) -> None:
    """openai-python's audio spellings, raw and streamed."""
    from meganova.models import Transcription

    with client.audio.speech.with_streaming_response.create("x", model="m", voice="v") as response:
        for piece in response.iter_bytes():
            assert_type(piece, bytes)
    assert_type(client.audio.speech.with_raw_response.create("x", model="m", voice="v").parse(), bytes)
    assert_type(client.audio.transcriptions.with_raw_response.create(b"...").parse(), Transcription)


def attrs_models_and_json_names(client: MegaNova) -> None:
    """Models are attrs classes; attributes are the API's JSON names (issue 14)."""
    from typing import Dict, Literal, Union

    import attrs

    from meganova.models import EmbeddingRequest, RerankDocument, ServerlessModel, ToolCall

    resp = client.chat.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    assert_type(resp.object, Optional[str])
    calls = resp.choices[0].message.tool_calls or []
    for call in calls:
        assert_type(call.type, Literal["function"])
        assert_type(call.function.name, str)
    assert_type(attrs.evolve(resp, model="other"), ChatResponse)
    assert_type(attrs.asdict(resp), Dict[str, Any])
    print([field.name for field in attrs.fields(ChatResponse)])
    assert_type(resp.model_dump(), dict[str, Any])
    assert_type(resp.model_dump_json(indent=2), str)
    assert_type(resp.dict(), dict[str, Any])
    assert_type(resp.json(), str)
    assert_type(EmbeddingRequest(input="x", model="m").input, Union[str, List[str], List[int], List[List[int]]])
    assert_type(ToolCall(id="c", type="function", function={"name": "f", "arguments": "{}"}).type, Literal["function"])
    assert_type(ServerlessModel(model_name="x").tier2_plus_require, Optional[bool])
    result = client.rerank.create("q", ["a"], model="m").results[0]
    assert_type(result.document, Union[str, RerankDocument, None])
    assert_type(result.document_text, Optional[str])
    from meganova.cloud import CloudAgent

    agent = CloudAgent("agent_x")
    conversation = agent.conversation()
    conversation.chat("Hi")
    assert_type(conversation.messages, List[Dict[str, str]])
