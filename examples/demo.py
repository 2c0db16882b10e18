"""`make demo`: the README's examples, end to end.

Without MEGANOVA_API_KEY it starts the local MegaNova server (`meganova.testing.MockServer`) on loopback
and says so; with the key set, it talks to the real API.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from datetime import datetime, timedelta, timezone
from typing import Iterator, List, Optional

import meganova
from meganova import AsyncMegaNova, MegaNova, MeganovaError
from meganova.cloud import CloudAgent
from meganova.errors import RateLimitError

MODEL = os.environ.get("MEGANOVA_DEMO_MODEL", "meganova-ai/manta-flash-1.0")


@contextlib.contextmanager
def api() -> Iterator[tuple[str, str, Optional[CloudAgent]]]:
    """The API key and base URL to use (the real API's, or a local server's), and a Studio agent."""
    key = os.environ.get("MEGANOVA_API_KEY")
    if key:
        print(f"Talking to the real API at {os.environ.get('MEGANOVA_BASE_URL', 'https://api.meganova.ai/v1')}.")
        agent_key = os.environ.get("MEGANOVA_AGENT_KEY")
        yield (
            key,
            os.environ.get("MEGANOVA_BASE_URL", "https://api.meganova.ai/v1"),
            (CloudAgent(agent_key) if agent_key else None),
        )
        return
    from meganova.testing import AGENT_KEY, MockServer

    with MockServer() as server:
        print(f"MEGANOVA_API_KEY is not set: using the local MegaNova server at {server.url}.")
        assert server.api_key is not None  # MockServer() checks a key: "test"
        yield server.api_key, server.url, CloudAgent(AGENT_KEY, base_url=server.root_url)


def section(title: str) -> None:
    print(f"\n== {title}")


def sync_examples(client: MegaNova) -> None:
    section("Simple chat")
    resp = client.chat.create(messages=[{"role": "user", "content": "Hi Luna, how are you?"}], model=MODEL)
    print(resp.choices[0].message["content"])
    print(f"({resp.usage.total_tokens} tokens, request id {resp.request_id})")

    section("Streaming")
    for chunk in client.chat.stream(
        messages=[{"role": "user", "content": "Tell me about Neon Harbor tonight."}], model=MODEL
    ):
        print(chunk.delta, end="", flush=True)
    print()

    section("Models")
    for m in client.models.list():
        print(m.id, m.modalities, m.context_length)
    print("get:", client.models.get(MODEL).name)

    section("Usage")
    now = datetime.now(timezone.utc)
    summary = client.usage.summary(from_=now - timedelta(days=30), to=now, group_by="model")
    print(f"{summary.total_requests} requests, {summary.total_tokens} tokens, {summary.cost} {summary.currency}")
    for group in summary.groups or []:
        print(f"  {group.key}: {group.total_tokens} tokens")

    section("Billing")
    balance = client.billing.get_balance()
    print("Balance:", balance.balance, balance.currency)

    section("Chat, the OpenAI spelling")
    for piece in client.chat.completions.create(
        messages=[{"role": "user", "content": "One word for the harbor?"}], model=MODEL, stream=True
    ):
        print(piece.choices[0].delta.get("content") or "", end="", flush=True)
    print()

    section("Embeddings")
    vectors = client.embeddings.create(["Neon Harbor", "the night market"], "BAAI/bge-m3", dimensions=4)
    print([round(x, 3) for x in vectors.data[0].embedding], f"({len(vectors.data)} vectors)")

    section("Images")
    image = client.images.generate(
        "A lantern market at night", model="black-forest-labs/FLUX.1-dev", width=64, height=64
    )
    picture = image.data[0]
    print("image:", picture.url or f"{len(picture.image_bytes())} bytes of PNG")

    section("Audio")
    speech = client.audio.tts("Welcome to Neon Harbor.", model="hexgrad/Kokoro-82M", voice="af_heart")
    print(f"tts: {len(speech)} bytes of audio")
    print("transcribe:", client.audio.transcribe(speech, filename="welcome.wav").text)

    section("Rerank")
    ranked = client.rerank.create(
        "the noodle stand", ["a ferry timetable", "the noodle stand on Pier Nine"], model="BAAI/bge-reranker-v2-m3"
    )
    print([(r.index, round(r.relevance_score, 2)) for r in ranked.results])

    section("Videos")
    video = client.videos.generate(
        "The harbor at dawn", model="Byteplus/seedance-1-0-pro-250528", wait=True, poll_interval=0.05, timeout=30
    )
    print(video.status, video.url)

    section("Serverless catalogue")
    page = client.serverless.list_models(modality="text_generation")
    print(page.count, "models:", ", ".join(str(m.model_name) for m in (page.models or [])[:3]))

    section("Instance billings and usage by day")
    billings = client.billing.get_user_instance_billings()
    print("total cost:", billings.total_cost)
    now = datetime.now(timezone.utc)
    days = client.usage.time_range(start_time=now - timedelta(days=3), end_time=now)
    print(len(days.data or []), "days of usage")

    section("Errors")
    try:
        client.models.get("meganova-ai/no-such-model")
    except RateLimitError as e:
        print("Rate-limited, retry in", e.retry_after, "s:", e)
    except MeganovaError as e:
        print(f"{type(e).__name__}: {e}")


def tools_example(client: MegaNova) -> None:
    section("Tools: the tool loop")

    @meganova.tool
    def get_weather(city: str) -> str:
        """The current weather in a city.

        Args:
            city: The city, e.g. Paris.
        """
        return f"Sunny and 21 degrees in {city}"

    runner = client.chat.run_tools(
        messages=[{"role": "user", "content": "What is the weather in Paris?"}], model=MODEL, tools=[get_weather]
    )
    for event in runner:
        if event.type == "tool_call":
            print(f"the model called {event.name}({event.parsed_arguments}) -> {event.result!r}")
    print("answer:", runner.until_done().choices[0].message.content)
    print(f"{runner.turns} model calls, {runner.usage.total_tokens} tokens")

    section("Structured output: parse")
    answer = client.chat.parse(
        messages=[{"role": "user", "content": "Invent a character for the night market."}],
        model=MODEL,
        response_format=DemoCharacter,
    )
    print(answer.choices[0].message.parsed)


@dataclasses.dataclass
class DemoCharacter:
    """A character of the night market."""

    name: str
    mood: str
    favourite_dishes: List[str]


async def async_example(key: str, base_url: str) -> None:
    section("Async")
    async with AsyncMegaNova(api_key=key, base_url=base_url) as client:
        resp = await client.chat.create(messages=[{"role": "user", "content": "Hi Luna!"}], model=MODEL)
        print(resp.choices[0].message.content)
        stream = await client.chat.stream(messages=[{"role": "user", "content": "Describe the city."}], model=MODEL)
        async for chunk in stream:
            print(chunk.delta, end="", flush=True)
        print()


def agent_example(agent: Optional[CloudAgent]) -> None:
    section("Studio agent")
    if agent is None:
        print("(set MEGANOVA_AGENT_KEY to talk to a Studio agent)")
        return
    with agent:
        print(agent.info().welcome_message)
        print(agent.chat("Hello!").response)


def main() -> int:
    with api() as (key, base_url, agent):
        with MegaNova(api_key=key, base_url=base_url) as client:
            sync_examples(client)
            tools_example(client)
        agent_example(agent)
        asyncio.run(async_example(key, base_url))
    print("\nDemo finished.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
