"""Prompt assembly: the messages that play a character, macros, example dialogues, the lorebook."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ._card import CharacterBook, CharacterCardError, LorebookEntry

if TYPE_CHECKING:
    from ._character import Character

__all__ = [
    "DEFAULT_SCAN_DEPTH",
    "DEFAULT_SYSTEM_PROMPT",
    "build_messages",
    "estimate_tokens",
    "example_messages",
    "lorebook_entries",
    "replace_macros",
]

DEFAULT_SYSTEM_PROMPT = "You are {{char}}. Stay in character and write {{char}}'s next reply in a chat with {{user}}."
"""The system prompt used when the card's `system_prompt` is empty (and what `{{original}}` stands for)."""
DEFAULT_SCAN_DEPTH = 4
"""How many recent messages the lorebook scans when the book sets no `scan_depth`."""

_MACROS = re.compile(r"\{\{\s*(char|user|original)\s*\}\}|<(bot|char|user)>|\{\{//[^}]*\}\}", re.IGNORECASE)
_DECORATOR = re.compile(r"^@@.*(?:\n|$)")


def estimate_tokens(text: str) -> int:
    """The SDK's token estimate: about 4 characters a token (rounded up), at least 1 for non-empty text."""
    return (len(text) + 3) // 4


def replace_macros(text: str, char: str, user: str, original: str = "") -> str:
    """`text` with `{{char}}`, `{{user}}` (any case, spaces allowed inside the braces), the legacy `<BOT>`,
    `<CHAR>`, `<USER>`, and `{{original}}` replaced; `{{// comments}}` removed."""

    def one(match: re.Match[str]) -> str:
        name = (match.group(1) or match.group(2) or "").lower()
        if name in ("char", "bot"):
            return char
        if name == "user":
            return user
        if name == "original":
            return original
        return ""

    return _MACROS.sub(one, text)


def example_messages(mes_example: str, char: str, user: str) -> List[List[Dict[str, Any]]]:
    """The example dialogues of `mes_example` (blocks that start with a `<START>` line), each a list of
    user / assistant messages: a line starting `{{user}}:` opens a user message, `{{char}}:` an assistant
    one; other lines continue the message above."""
    blocks: List[List[Dict[str, Any]]] = []
    if not mes_example.strip():
        return blocks
    text = mes_example.replace("\r\n", "\n")
    for raw_block in re.split(r"(?im)^\s*<start>\s*$", text):
        messages: List[Dict[str, Any]] = []
        for line in raw_block.split("\n"):
            speaker = re.match(r"(?i)^\s*(\{\{\s*user\s*\}\}|<user>|\{\{\s*char\s*\}\}|<bot>|<char>)\s*:\s?(.*)$", line)
            if speaker is not None:
                role = "user" if "user" in speaker.group(1).lower() else "assistant"
                messages.append({"role": role, "content": speaker.group(2)})
            elif messages:
                messages[-1]["content"] += "\n" + line
            elif line.strip():
                messages.append({"role": "assistant", "content": line})
        for message in messages:
            message["content"] = replace_macros(message["content"].strip(), char, user)
        messages = [m for m in messages if m["content"]]
        if messages:
            blocks.append(messages)
    return blocks


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _matches(entry: LorebookEntry, keys: Sequence[str], text: str, folded: str) -> bool:
    for key in keys:
        if not key:
            continue
        if entry.use_regex:
            pattern = key
            flags = 0 if entry.case_sensitive else re.IGNORECASE
            literal = re.fullmatch(r"/(.*)/([a-z]*)", key, re.DOTALL)
            if literal is not None:
                pattern = literal.group(1)
                flags |= re.IGNORECASE if "i" in literal.group(2) else 0
            try:
                if re.search(pattern, text, flags):
                    return True
            except re.error:
                return False  # the spec: an invalid pattern is no match
        elif entry.case_sensitive:
            if key in text:
                return True
        elif key.casefold() in folded:
            return True
    return False


def _triggered(entry: LorebookEntry, text: str, folded: str) -> bool:
    if not entry.enabled or not entry.content.strip():
        return False
    if entry.constant and not entry.use_regex:
        return True
    if not _matches(entry, entry.keys, text, folded):
        return False
    if entry.selective and entry.secondary_keys and not entry.use_regex:
        return _matches(entry, entry.secondary_keys, text, folded)
    return True


def lorebook_entries(book: CharacterBook, recent: Sequence[Mapping[str, Any]]) -> List[LorebookEntry]:
    """The entries of `book` to insert, given the conversation `recent` (oldest first), in insertion order.

    Rules (Character Card V2/V3): the last `scan_depth` messages (default `DEFAULT_SCAN_DEPTH`) are
    scanned; an entry matches when one of its `keys` appears in them (a substring; case-insensitive unless
    `case_sensitive`; regular expressions with `use_regex`), and, when `selective`, one of its
    `secondary_keys` too; `constant` entries always match; disabled or empty entries never do. With
    `recursive_scanning`, matched entries' content is scanned too. Over `token_budget` (estimated with
    `estimate_tokens`), the entries of lowest `priority` (else lowest `insertion_order`) are left out
    first. The result is sorted by `insertion_order` (lower first), ties in the book's order."""
    depth = book.scan_depth if book.scan_depth is not None else DEFAULT_SCAN_DEPTH
    window = list(recent)[-depth:] if depth > 0 else []
    text = "\n".join(_text(message) for message in window)
    chosen: List[int] = []
    pending = list(range(len(book.entries)))
    for _ in range(len(book.entries) + 1):
        folded = text.casefold()
        new = [i for i in pending if _triggered(book.entries[i], text, folded)]
        if not new:
            break
        chosen.extend(new)
        pending = [i for i in pending if i not in new]
        if not book.recursive_scanning:
            break
        text = text + "\n" + "\n".join(book.entries[i].content for i in new)
    if book.token_budget is not None:
        ranked = sorted(
            chosen,
            key=lambda i: (
                book.entries[i].priority if book.entries[i].priority is not None else book.entries[i].insertion_order,
                -i,
            ),
            reverse=True,
        )
        kept: List[int] = []
        used = 0
        for i in ranked:
            cost = estimate_tokens(_strip_decorators(book.entries[i].content))
            if used + cost <= book.token_budget:
                kept.append(i)
                used += cost
        chosen = kept
    return [book.entries[i] for i in sorted(chosen, key=lambda i: (book.entries[i].insertion_order, i))]


def _strip_decorators(content: str) -> str:
    lines = content.replace("\r\n", "\n").split("\n")
    while lines and lines[0].startswith("@@"):
        lines.pop(0)
    return "\n".join(lines).strip()


def system_prompt(character: Character, user: str, entries: Sequence[LorebookEntry]) -> str:
    """The system message: the card's `system_prompt` (or `DEFAULT_SYSTEM_PROMPT`; `{{original}}` in it is
    the default), the lorebook's `before_char` entries, `description`, `personality`, `scenario`, the
    `after_char` entries; the non-empty parts, joined by blank lines, macros replaced."""
    char = character.display_name
    original = replace_macros(DEFAULT_SYSTEM_PROMPT, char, user)
    parts: List[str] = [
        replace_macros(character.system_prompt, char, user, original) if character.system_prompt.strip() else original
    ]
    parts += [_strip_decorators(e.content) for e in entries if (e.position or "before_char") != "after_char"]
    parts.append(character.description)
    if character.personality.strip():
        parts.append(f"{{{{char}}}}'s personality: {character.personality}")
    if character.scenario.strip():
        parts.append(f"Scenario: {character.scenario}")
    parts += [_strip_decorators(e.content) for e in entries if e.position == "after_char"]
    return "\n\n".join(replace_macros(part, char, user, original).strip() for part in parts if part.strip())


def greeting_text(character: Character, greeting: Optional[int], user: str) -> Optional[str]:
    """The chosen greeting, macros replaced (None: no greeting, or an empty one)."""
    if greeting is None:
        return None
    choices = character.greetings()
    if isinstance(greeting, bool) or not isinstance(greeting, int) or not 0 <= greeting < len(choices):
        raise CharacterCardError(
            f"greeting must be 0 (first_mes) to {len(choices) - 1} (the alternate greetings), not {greeting!r}",
            "bad_greeting",
        )
    text = replace_macros(choices[greeting], character.display_name, user).strip()
    return text or None


def fixed_parts(
    character: Character, user: str, history: Sequence[Mapping[str, Any]], examples: bool
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(the messages before the conversation: system prompt and examples, those after it: the
    post-history instructions)."""
    char = character.display_name
    entries = lorebook_entries(character.character_book, history) if character.character_book else []
    before: List[Dict[str, Any]] = [{"role": "system", "content": system_prompt(character, user, entries)}]
    if examples:
        blocks = example_messages(character.mes_example, char, user)
        for block in blocks:
            before.append({"role": "system", "content": "[Example chat]"})
            before.extend(block)
        if blocks:
            before.append({"role": "system", "content": "[Start a new chat]"})
    after: List[Dict[str, Any]] = []
    if character.post_history_instructions.strip():
        original = ""
        after.append(
            {
                "role": "system",
                "content": replace_macros(character.post_history_instructions, char, user, original).strip(),
            }
        )
    return before, after


def build_messages(
    character: Character,
    *,
    user: str,
    greeting: Optional[int],
    history: Sequence[Mapping[str, Any]],
    examples: bool = True,
) -> List[Dict[str, Any]]:
    """What is sent: the system prompt, the example dialogues, the greeting (an assistant message), the
    history, then the post-history instructions (a system message)."""
    first = greeting_text(character, greeting, user)
    opening = [{"role": "assistant", "content": first}] if first else []
    conversation = [*opening, *(dict(message) for message in history)]
    before, after = fixed_parts(character, user, conversation, examples)
    return [*before, *conversation, *after]
