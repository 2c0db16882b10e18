"""Streaming: the answer as it is written, then the same as OpenAI-shaped chunks."""

from __future__ import annotations

from meganova import MegaNova

MODEL = "meganova-ai/manta-flash-1.0"

with MegaNova() as client:
    with client.chat.stream(
        model=MODEL, messages=[{"role": "user", "content": "Tell me about Neon Harbor tonight."}]
    ) as stream:
        for chunk in stream:
            print(chunk.delta, end="", flush=True)
    print()

    for event in client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "One word for the harbor?"}], stream=True
    ):
        for choice in event.choices:
            print(choice.delta.content or "", end="", flush=True)
    print()
