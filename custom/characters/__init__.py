"""`meganova.characters`: character cards (Character Card V2 and V3), the prompts that play them, and chat
sessions kept in SQLite.

    from meganova import MegaNova
    from meganova.characters import Character, SessionStore

    luna = Character.load("luna.png")                 # PNG (ccv3 / chara chunk), CHARX or JSON
    client = MegaNova()
    chat = client.chat.session(character=luna, model="meganova-ai/manta-flash-1.0",
                               store=SessionStore("chats.db"), name="luna-ana", user="Ana")
    for chunk in chat.stream("Hi Luna!"):
        print(chunk.delta, end="")

What `character.messages(user, greeting=0, history=[...])` (and each session turn) sends, in order:
1. one system message: the card's `system_prompt` (empty: `DEFAULT_SYSTEM_PROMPT`; `{{original}}` in it
   stands for the default), the lorebook entries placed `before_char`, `description`,
   "{{char}}'s personality: " + `personality`, "Scenario: " + `scenario`, the entries placed `after_char`;
   the non-empty parts joined by blank lines;
2. the example dialogues of `mes_example` (`<START>` blocks), each after a system "[Example chat]", as
   user / assistant messages, then a system "[Start a new chat]";
3. the greeting (`first_mes`, or `alternate_greetings[i-1]` for `greeting=i`) as an assistant message;
4. the history (the user's new message last);
5. `post_history_instructions` as a system message.
Macros in every part: `{{char}}` (the V3 `nickname` when set, else `name`), `{{user}}`, any case, and the
legacy `<BOT>`, `<CHAR>`, `<USER>`; `{{// comments}}` are removed. Lorebook rules: `lorebook_entries`.
Tokens are estimated at about 4 characters a token (`estimate_tokens`), plus 4 a message.
"""

from ._agent_session import AgentSession, AsyncAgentSession
from ._card import SPEC_V2, SPEC_V3, Asset, CharacterBook, CharacterCardError, LorebookEntry
from ._character import Character
from ._charx import MAX_ASSET_BYTES, MAX_MEMBERS, MAX_TOTAL_BYTES
from ._prompt import (
    DEFAULT_SCAN_DEPTH,
    DEFAULT_SYSTEM_PROMPT,
    estimate_tokens,
    example_messages,
    lorebook_entries,
    replace_macros,
)
from ._session import (
    DEFAULT_CONTEXT_LENGTH,
    AsyncChatSession,
    AsyncSessionStream,
    ChatSession,
    Memory,
    SessionStream,
    TokenBudgetMemory,
    WindowMemory,
    message_tokens,
)
from ._store import SessionStore, SessionStoreError

__all__ = [
    "DEFAULT_CONTEXT_LENGTH",
    "DEFAULT_SCAN_DEPTH",
    "DEFAULT_SYSTEM_PROMPT",
    "MAX_ASSET_BYTES",
    "MAX_MEMBERS",
    "MAX_TOTAL_BYTES",
    "SPEC_V2",
    "SPEC_V3",
    "AgentSession",
    "Asset",
    "AsyncAgentSession",
    "AsyncChatSession",
    "AsyncSessionStream",
    "Character",
    "CharacterBook",
    "CharacterCardError",
    "ChatSession",
    "LorebookEntry",
    "Memory",
    "SessionStore",
    "SessionStoreError",
    "SessionStream",
    "TokenBudgetMemory",
    "WindowMemory",
    "estimate_tokens",
    "example_messages",
    "lorebook_entries",
    "message_tokens",
    "replace_macros",
]
