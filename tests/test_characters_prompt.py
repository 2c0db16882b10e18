"""Prompt assembly: order, macros, example dialogues, greetings, post-history instructions, and the
lorebook rules of the Character Card V2/V3 specs."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from meganova.characters import (
    DEFAULT_SCAN_DEPTH,
    Character,
    CharacterBook,
    CharacterCardError,
    LorebookEntry,
    estimate_tokens,
    example_messages,
    lorebook_entries,
    replace_macros,
)


def luna(**changes: Any) -> Character:
    fields: Dict[str, Any] = dict(
        name="Luna",
        description="{{char}} keeps a noodle stand.",
        personality="warm",
        scenario="{{user}} arrives at night.",
        first_mes="Evening, {{user}}.",
        alternate_greetings=["Back again, <USER>?", "Hi from <BOT>."],
        mes_example="<START>\n{{user}}: What's good?\n{{char}}: The broth.\nIt's ginger.\n<START>\n<USER>: Open?\n<BOT>: Always.",
        system_prompt="",
        post_history_instructions="Stay {{Char}}, {{ user }}.",
    )
    fields.update(changes)
    return Character(**fields)


def test_messages_order_and_macros() -> None:
    history = [{"role": "user", "content": "Hi!"}]
    messages = luna().messages(user="Ana", greeting=0, history=history)
    assert messages[0] == {
        "role": "system",
        "content": "You are Luna. Stay in character and write Luna's next reply in a chat with Ana.\n\n"
        "Luna keeps a noodle stand.\n\nLuna's personality: warm\n\nScenario: Ana arrives at night.",
    }
    assert messages[1:9] == [
        {"role": "system", "content": "[Example chat]"},
        {"role": "user", "content": "What's good?"},
        {"role": "assistant", "content": "The broth.\nIt's ginger."},
        {"role": "system", "content": "[Example chat]"},
        {"role": "user", "content": "Open?"},
        {"role": "assistant", "content": "Always."},
        {"role": "system", "content": "[Start a new chat]"},
        {"role": "assistant", "content": "Evening, Ana."},
    ]
    assert messages[9] == {"role": "user", "content": "Hi!"}
    assert messages[10] == {"role": "system", "content": "Stay Luna, Ana."}
    assert len(messages) == 11


def test_greetings_choice() -> None:
    card = luna()
    assert card.messages(user="Ana", greeting=1)[-2]["content"] == "Back again, Ana?"
    assert card.messages(user="Ana", greeting=2)[-2]["content"] == "Hi from Luna."
    assert all(m["content"] != "Evening, Ana." for m in card.messages(user="Ana", greeting=None))
    for bad in (3, -1, True):
        with pytest.raises(CharacterCardError):
            card.messages(user="Ana", greeting=bad)


def test_system_prompt_original_nickname_and_no_examples() -> None:
    card = luna(system_prompt="{{original}} Never break character. {{// a note}}", nickname="Lu")
    system = card.messages(user="Ana", examples=False)[0]["content"]
    assert system.startswith("You are Lu. Stay in character and write Lu's next reply in a chat with Ana. Never")
    assert "a note" not in system
    assert card.messages(user="Ana", examples=False)[1] == {"role": "assistant", "content": "Evening, Ana."}


def test_replace_macros_forms() -> None:
    text = "{{char}} {{CHAR}} {{ Char }} <BOT> <bot> <char> {{user}} {{USER}} <USER> <user> {{unknown}}"
    assert replace_macros(text, "L", "A") == "L L L L L L A A A A {{unknown}}"


def test_example_messages_edge_cases() -> None:
    assert example_messages("", "L", "A") == []
    assert example_messages("<START>\n\n<START>", "L", "A") == []
    blocks = example_messages("{{char}}: no start line\r\n{{user}}:hi", "L", "A")
    assert blocks == [[{"role": "assistant", "content": "no start line"}, {"role": "user", "content": "hi"}]]
    assert example_messages("<start>\nnarration first", "L", "A") == [
        [{"role": "assistant", "content": "narration first"}]
    ]


# --- the lorebook ----------------------------------------------------------------------------------


def entry(keys: List[str], content: str, **fields: Any) -> LorebookEntry:
    return LorebookEntry(keys=keys, content=content, **fields)


def said(*texts: str) -> List[Dict[str, Any]]:
    return [{"role": "user", "content": text} for text in texts]


def names(entries: List[LorebookEntry]) -> List[str]:
    return [e.content for e in entries]


def test_keys_match_case_insensitively_unless_case_sensitive() -> None:
    book = CharacterBook(
        entries=[entry(["Pier"], "pier"), entry(["Tide"], "tide", case_sensitive=True), entry(["moon"], "moon")]
    )
    assert names(lorebook_entries(book, said("the PIER and the tide"))) == ["pier"]
    assert names(lorebook_entries(book, said("the Tide"))) == ["tide"]


def test_disabled_empty_and_constant() -> None:
    book = CharacterBook(
        entries=[
            entry(["pier"], "off", enabled=False),
            entry(["pier"], "   "),
            entry([], "always", constant=True),
            entry(["x"], "never-constant-off", constant=True, enabled=False),
        ]
    )
    assert names(lorebook_entries(book, said("pier"))) == ["always"]
    assert names(lorebook_entries(book, [])) == ["always"]


def test_selective_needs_a_secondary_key() -> None:
    book = CharacterBook(entries=[entry(["pier"], "both", selective=True, secondary_keys=["night"])])
    assert names(lorebook_entries(book, said("the pier"))) == []
    assert names(lorebook_entries(book, said("the pier at NIGHT"))) == ["both"]
    loose = CharacterBook(entries=[entry(["pier"], "loose", selective=False, secondary_keys=["night"])])
    assert names(lorebook_entries(loose, said("the pier"))) == ["loose"]


def test_scan_depth_only_the_recent_messages() -> None:
    book = CharacterBook(entries=[entry(["pier"], "pier")], scan_depth=2)
    assert names(lorebook_entries(book, said("pier", "a", "b"))) == []
    assert names(lorebook_entries(book, said("a", "pier", "b"))) == ["pier"]
    default = CharacterBook(entries=[entry(["pier"], "pier")])
    assert names(lorebook_entries(default, said("pier", *["x"] * DEFAULT_SCAN_DEPTH))) == []
    assert names(lorebook_entries(default, said("pier", *["x"] * (DEFAULT_SCAN_DEPTH - 1)))) == ["pier"]


def test_insertion_order_and_position() -> None:
    book = CharacterBook(
        entries=[
            entry(["a"], "third", insertion_order=30, position="after_char"),
            entry(["a"], "first", insertion_order=1),
            entry(["a"], "second", insertion_order=20, position="before_char"),
        ]
    )
    assert names(lorebook_entries(book, said("a"))) == ["first", "second", "third"]
    card = Character(name="L", description="DESC", character_book=book)
    system = card.messages(user="U", history=said("a"))[0]["content"]
    assert system.index("first") < system.index("second") < system.index("DESC") < system.index("third")


def test_token_budget_drops_lowest_priority_first() -> None:
    forty = "x" * 160  # 40 tokens at 4 characters a token
    book = CharacterBook(
        entries=[
            entry(["a"], forty + "1", priority=1, insertion_order=3),
            entry(["a"], forty + "2", priority=9, insertion_order=2),
            entry(["a"], forty + "3", priority=5, insertion_order=1),
        ],
        token_budget=90,
    )
    kept = lorebook_entries(book, said("a"))
    assert [e.priority for e in kept] == [5, 9]  # in insertion order; priority 1 left out
    by_order = CharacterBook(
        entries=[entry(["a"], forty + "1", insertion_order=1), entry(["a"], forty + "2", insertion_order=2)],
        token_budget=50,
    )
    assert [e.insertion_order for e in lorebook_entries(by_order, said("a"))] == [2]
    assert estimate_tokens(forty) == 40 and estimate_tokens("abcde") == 2 and estimate_tokens("") == 0


def test_recursive_scanning() -> None:
    entries = [entry(["pier"], "The pier has a lantern."), entry(["lantern"], "The lantern is blue.")]
    assert names(lorebook_entries(CharacterBook(entries=entries), said("pier"))) == ["The pier has a lantern."]
    recursive = CharacterBook(entries=entries, recursive_scanning=True)
    assert names(lorebook_entries(recursive, said("pier"))) == ["The pier has a lantern.", "The lantern is blue."]


def test_regex_keys_and_decorators() -> None:
    book = CharacterBook(
        entries=[
            entry(["/noodles?/i"], "@@depth 4\nBroth.", use_regex=True),
            entry(["[unclosed"], "bad regex", use_regex=True),
        ]
    )
    assert names(lorebook_entries(book, said("NOODLE time"))) == ["@@depth 4\nBroth."]
    card = Character(name="L", character_book=book)
    system = card.messages(history=said("noodles"))[0]["content"]
    assert "Broth." in system and "@@" not in system


def test_lorebook_scans_the_greeting_too() -> None:
    card = Character(
        name="L", first_mes="Welcome to the pier.", character_book=CharacterBook(entries=[entry(["pier"], "PIER")])
    )
    assert "PIER" in card.messages()[0]["content"]
    assert "PIER" not in card.messages(greeting=None)[0]["content"]
