"""A user's app of `meganova.characters` and `client.chat.session`: `make lint` checks it with mypy --strict
and pyright (strict), so every public name it touches must be typed (no Any leaking, no Unknown)."""

# pyright: strict
from __future__ import annotations

import asyncio
from typing import Dict, List, Optional

from meganova import AsyncMegaNova, MegaNova
from meganova.characters import (
    AgentSession,
    Asset,
    AsyncChatSession,
    AsyncSessionStream,
    Character,
    CharacterBook,
    CharacterCardError,
    ChatSession,
    LorebookEntry,
    SessionStore,
    SessionStream,
    TokenBudgetMemory,
    WindowMemory,
    estimate_tokens,
    lorebook_entries,
)


def summarize(dropped: List[Dict[str, object]]) -> str:
    return f"{len(dropped)} earlier messages"


def build() -> Character:
    entry = LorebookEntry(keys=["harbor"], content="Neon Harbor is a port city.", insertion_order=1)
    book = CharacterBook(entries=[entry], scan_depth=2, token_budget=100)
    luna = Character(name="Luna", description="{{char}} runs a noodle stand.", first_mes="Hi {{user}}!")
    luna.character_book = book
    luna.assets = [Asset(type="icon", uri="ccdefault:", name="main", ext="png")]
    found: List[LorebookEntry] = lorebook_entries(book, [{"role": "user", "content": "the harbor"}])
    print(len(found), estimate_tokens(luna.description))
    return luna


def chat(client: MegaNova, store: SessionStore) -> None:
    luna = build()
    messages: List[Dict[str, object]] = luna.messages(user="Ana", greeting=0, history=[])
    print(len(messages))
    session: ChatSession = client.chat.session(
        character=luna, model="meganova-ai/manta-flash-1.0", memory=WindowMemory(10), store=store, name="ana"
    )
    answer = session.send("Hi Luna")
    content: Optional[str] = answer.choices[0].message.content
    print(content)
    stream: SessionStream = session.stream("Tell me about the harbor.")
    for chunk in stream:
        delta: str = chunk.delta
        print(delta, end="")
    print(stream.completed, session.history, session.to_json())
    again = ChatSession.from_json(client.chat, session.to_json())
    print(again.history)
    try:
        Character.load("card.png", max_bytes=1024)
    except CharacterCardError as exc:
        code: Optional[str] = exc.code
        print(code)
    luna.save("luna.json")
    png: bytes = luna.to_png(b"")
    print(len(png), luna.to_charx()[:2], luna.to_dict()["spec"])


async def achat(client: AsyncMegaNova) -> None:
    session: AsyncChatSession = client.chat.session(
        character=build(), model="m", memory=TokenBudgetMemory(max_tokens=2000, summarize=summarize)
    )
    answer = await session.send("Hi")
    print(answer.id)
    stream: AsyncSessionStream = await session.stream("more")
    async for chunk in stream:
        print(chunk.delta, end="")
    text: str = await stream.text()
    print(text)


def agent(session: AgentSession) -> None:
    reply = session.send("Hello")
    print(reply.response, session.conversation_id, session.history)


if __name__ == "__main__":
    with MegaNova() as sync_client, SessionStore("chats.db") as sessions:
        chat(sync_client, sessions)
    asyncio.run(achat(AsyncMegaNova()))
