"""`make demo`: the README's examples, end to end.

Without MEGANOVA_API_KEY it starts the local MegaNova server (`meganova.testing.MockServer`) on loopback
and says so; with the key set, it talks to the real API.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from datetime import datetime, timedelta, timezone
from typing import Iterator

from meganova import AsyncMegaNova, MegaNova, MeganovaError
from meganova.errors import RateLimitError

MODEL = os.environ.get("MEGANOVA_DEMO_MODEL", "meganova-ai/manta-flash-1.0")


@contextlib.contextmanager
def api() -> Iterator[tuple[str, str]]:
    """The API key and base URL to use: the real API's, or a local server's."""
    key = os.environ.get("MEGANOVA_API_KEY")
    if key:
        print(f"Talking to the real API at {os.environ.get('MEGANOVA_BASE_URL', 'https://api.meganova.ai/v1')}.")
        yield key, os.environ.get("MEGANOVA_BASE_URL", "https://api.meganova.ai/v1")
        return
    from meganova.testing import MockServer

    with MockServer() as server:
        print(f"MEGANOVA_API_KEY is not set: using the local MegaNova server at {server.url}.")
        yield server.api_key, server.url


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

    section("Errors")
    try:
        client.models.get("meganova-ai/no-such-model")
    except RateLimitError as e:
        print("Rate-limited, retry in", e.retry_after, "s:", e)
    except MeganovaError as e:
        print(f"{type(e).__name__}: {e}")


async def async_example(key: str, base_url: str) -> None:
    section("Async")
    async with AsyncMegaNova(api_key=key, base_url=base_url) as client:
        resp = await client.chat.create(messages=[{"role": "user", "content": "Hi Luna!"}], model=MODEL)
        print(resp.choices[0].message.content)
        stream = await client.chat.stream(messages=[{"role": "user", "content": "Describe the city."}], model=MODEL)
        async for chunk in stream:
            print(chunk.delta, end="", flush=True)
        print()


def main() -> int:
    with api() as (key, base_url):
        with MegaNova(api_key=key, base_url=base_url) as client:
            sync_examples(client)
        asyncio.run(async_example(key, base_url))
    print("\nDemo finished.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
