"""A character card to a streamed chat kept in a SQLite session store, then resumed.

Without MEGANOVA_API_KEY it runs against the local MegaNova server (`meganova.testing.MockServer`);
with it, against the real API. `python examples/character_chat.py [card.png|card.charx|card.json]`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Tuple

from meganova import MegaNova
from meganova.characters import Character, CharacterBook, LorebookEntry, SessionStore, WindowMemory

MODEL = os.environ.get("MEGANOVA_DEMO_MODEL", "meganova-ai/manta-flash-1.0")


@contextlib.contextmanager
def api() -> Iterator[Tuple[str, str]]:
    """The API key and base URL: the real API's, or a local server's."""
    key = os.environ.get("MEGANOVA_API_KEY")
    if key:
        yield key, os.environ.get("MEGANOVA_BASE_URL", "https://api.meganova.ai/v1")
        return
    from meganova.testing import MockServer

    with MockServer() as server:
        print(f"(MEGANOVA_API_KEY is not set: using the local MegaNova server at {server.url})")
        yield server.api_key or "", server.url


def a_card(folder: Path) -> Path:
    """Writes a small Character Card V2 as JSON (a .png or .charx card loads the same way)."""
    luna = Character(
        name="Luna",
        description="{{char}} keeps a noodle stand on Pier Nine in Neon Harbor.",
        personality="warm, curious",
        first_mes="*Luna looks up from the steam.* Evening, {{user}}. Hungry?",
        mes_example="<START>\n{{user}}: What's good tonight?\n{{char}}: The ginger broth. Always.",
        post_history_instructions="Answer as {{char}}, in a few sentences.",
        character_book=CharacterBook(
            entries=[LorebookEntry(keys=["tide"], content="The market closes when the tide turns.")]
        ),
    )
    path = folder / "luna.json"
    luna.save(path)
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, api() as (key, base_url):
        card = Path(sys.argv[1]) if len(sys.argv) > 1 else a_card(Path(folder))
        character = Character.load(card)
        store = SessionStore(os.path.join(folder, "sessions.db"))
        with MegaNova(api_key=key, base_url=base_url) as client:
            chat = client.chat.session(
                character=character, model=MODEL, memory=WindowMemory(20), store=store, name="ana", user="Ana"
            )
            print(f"{character.name}: {chat.history[0]['content']}")
            for text in ("Hi! What's good tonight?", "When does the market close? The tide is turning."):
                print(f"Ana: {text}")
                print(f"{character.name}: ", end="")
                for chunk in chat.stream(text):
                    print(chunk.delta, end="", flush=True)
                print()

            again = client.chat.session(store=store, name="ana")  # resumed from the store
            print(f"(the session 'ana' holds {len(again.history)} messages)")
        store.close()


if __name__ == "__main__":
    main()
