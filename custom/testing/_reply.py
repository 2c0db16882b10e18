"""What the mock model says to a chat request: Luna's words, a character's voice, tool calls, answers from
tool results, JSON for `response_format`, and the logprobs of what it says. Pure and deterministic: the
same request body gives the same answer (only the ids and `created` change).

The rules (documented in the README, section "Test your app against a local MegaNova server"):

- **Tools.** With `tools` offered and `tool_choice` `"required"` or `{"type": "function", "function":
  {"name": N}}`, the answer always calls a tool (N; for "required" the best-matching tool, else the
  first). With `"auto"` (the default when tools are offered): when the last message is a `tool` result,
  the answer is text built from the results ("get_weather says: ..."); otherwise it calls the offered
  tools whose name or description shares a word with the last user message (a word of 3+ letters that
  is not a stop word, a trailing "s" ignored; a name word counts 2, a description word 1); the highest
  score wins, ties are all called (one call only with `parallel_tool_calls: false`); no match: text.
  `"none"` never calls. The arguments are a small instance valid against the tool's `parameters`
  schema (`_schema.instance`); free strings are the first run of capitalised words after the first word
  of the last user message ("Paris"), else the whole message.
- **Structured outputs.** `response_format` `{"type": "json_object"}`: a JSON object
  `{"reply": <Luna's answer>}`; `{"type": "json_schema", "json_schema": {"name", "schema"}}`: an
  instance valid against `schema`. `max_tokens` cuts the JSON (finish_reason `length`) as a model would.
- **Characters.** A system (or developer) message names a character when it has, in this order of
  precedence: a line `Name: X` (or `Character: X`, `char_name: X`: a card-assembled prompt); `You are X`,
  `You're X`, `You are playing X`, `Play the role of X`, `Roleplay as X`; `Write X's next reply` or
  `X's personality` (the SillyTavern forms, `{{char}}` substituted). X is one to three capitalised words.
  The answer then starts with `X:`; on the first user turn it greets ("Hello, <the user's `name`>! I am
  X."); on a later turn it recalls the conversation's first user message ("You told me earlier: "...".").
- **Logprobs.** `logprobs: true` gives `choice.logprobs.content`, one entry per piece of the answer
  (`token`, `logprob` ≤ 0, `bytes`, `top_logprobs` of `top_logprobs` alternatives, the chosen one first).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from . import _schema

__all__ = [
    "Choice",
    "character_name",
    "choices_for",
    "logprobs_of",
    "luna_reply",
    "matching_tools",
    "text_of",
]

_OPENERS = (
    "Oh, hey there!",
    "Mm, the harbor is quiet tonight.",
    "Welcome back, night owl.",
    "Wide awake and humming, like the harbor lights.",
    "Ah, a familiar voice in the fog.",
    "Pull up a crate and sit with me.",
)
_MIDDLES = (
    "The neon over the water keeps blinking pink and teal, like it is trying to tell a secret.",
    "A ferry horn just sounded somewhere past the breakwater, low and patient.",
    "The noodle stand on Pier Nine is still open, and the steam smells like ginger and rain.",
    "I have been counting the lanterns on the old lighthouse; three are out again.",
    "The tide is turning, so the whole market is packing up in that slow, sleepy way.",
    "Somebody left a radio playing on a fishing boat, and it is all static and old jazz.",
)
_CLOSERS = (
    "What brings you out tonight?",
    "Tell me more, I am listening.",
    "Shall we walk along the docks while you tell me the rest?",
    "Where do you want to go from here?",
    "Stay a while, the night is young.",
    "What would you like to do next?",
)

_JSON_PIECE = 8
"""Characters per streamed piece (and per token) of JSON content and tool-call arguments."""


def text_of(content: Any) -> str:
    """The text of a message's `content` (a string, or the `text` parts of a list)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def luna_reply(last_user_message: str, choice: int = 0) -> str:
    """Luna's deterministic answer to a user message (a few sentences; `choice` varies it)."""
    words = last_user_message.split()
    seed = zlib.crc32(" ".join(words).encode("utf-8")) + choice * 7
    if words:
        snippet = " ".join(words[:8]) + ("..." if len(words) > 8 else "")
        echo = f'You said "{snippet}" and I keep turning it over.'
    else:
        echo = "You have not said a word yet, and that is fine by me."
    return " ".join(
        (
            _OPENERS[seed % len(_OPENERS)],
            echo,
            _MIDDLES[(seed // 7) % len(_MIDDLES)],
            _CLOSERS[(seed // 49) % len(_CLOSERS)],
        )
    )


def _apply_stop(text: str, stop: Any) -> str:
    stops = [stop] if isinstance(stop, str) else list(stop or ())
    cut = len(text)
    for item in stops:
        if item:
            found = text.find(item)
            if 0 <= found < cut:
                cut = found
    return text[:cut]


@dataclass
class Choice:
    """One choice of the answer: text (split into the pieces it is streamed as) or tool calls."""

    pieces: List[str] = field(default_factory=list)
    """The content as streamed, piece by piece (each is one token of `logprobs`); "".join() is the text."""
    tool_calls: List[Dict[str, Any]] = field(default_factory=list)
    """OpenAI-shaped calls: `{id, type: "function", function: {name, arguments}}`."""
    finish_reason: str = "stop"

    @property
    def content(self) -> Optional[str]:
        return None if self.tool_calls else "".join(self.pieces)

    @property
    def tokens(self) -> int:
        if self.tool_calls:
            return sum(1 + len(_json_pieces(call["function"]["arguments"])) for call in self.tool_calls)
        return len(self.pieces)


# --- characters ---------------------------------------------------------------------------------------

_NAME = r"([A-Z][\w'\-]*(?:[ \t]+[A-Z][\w'\-]*){0,2})"
_NAME_LINE = re.compile(r"^[ \t]*(?i:name|character|char_name|char)[ \t]*:[ \t]*" + _NAME, re.MULTILINE)
_YOU_ARE = re.compile(
    r"\b(?i:you are playing|you're playing|you are|you're|play the role of|roleplay as|role-play as)[ \t]+" + _NAME
)
_POSSESSIVE = re.compile(r"\b(?i:write)[ \t]+" + _NAME + r"'s next reply|" + _NAME + r"'s personality")
_NOT_NAMES = frozenset(("I", "A", "An", "The", "AI", "Assistant", "You", "We", "It", "This", "That", "Here"))


def _clean_name(raw: str) -> Optional[str]:
    words = raw.split()
    while words and words[-1] in _NOT_NAMES:
        words.pop()
    if not words or words[0] in _NOT_NAMES:
        return None
    return " ".join(words)


def character_name(messages: Sequence[Mapping[str, Any]]) -> Optional[str]:
    """The character the system prompt names (see the module's rules), or None."""
    system = "\n".join(
        text_of(message.get("content")) for message in messages if message.get("role") in ("system", "developer")
    )
    if not system:
        return None
    for line in _NAME_LINE.finditer(system):
        name = _clean_name(line.group(1))
        if name:
            return name
    for pattern in (_YOU_ARE, _POSSESSIVE):
        for match in pattern.finditer(system):
            raw = next((group for group in match.groups() if group), "")
            name = _clean_name(raw)
            if name:
                return name
    return None


def _character_text(name: str, messages: Sequence[Mapping[str, Any]], reply: str) -> str:
    users = [message for message in messages if message.get("role") == "user"]
    if len(users) <= 1:
        user_name = users[0].get("name") if users else None
        hello = f"Hello, {user_name}!" if isinstance(user_name, str) and user_name.strip() else "Hello!"
        lead = f"{hello} I am {name}."
    else:
        first = " ".join(text_of(users[0].get("content")).split())
        lead = f'You told me earlier: "{first}".'
    return f"{name}: {lead} {reply}"


# --- tools ----------------------------------------------------------------------------------------

_STOP_WORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "how",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "then",
        "than",
        "from",
        "into",
        "onto",
        "about",
        "above",
        "below",
        "over",
        "under",
        "again",
        "also",
        "just",
        "only",
        "very",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "does",
        "did",
        "done",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "are",
        "was",
        "were",
        "been",
        "being",
        "get",
        "gets",
        "got",
        "set",
        "sets",
        "put",
        "make",
        "makes",
        "use",
        "uses",
        "used",
        "using",
        "let",
        "tell",
        "please",
        "you",
        "your",
        "yours",
        "our",
        "ours",
        "their",
        "them",
        "they",
        "she",
        "her",
        "his",
        "him",
        "its",
        "not",
        "any",
        "all",
        "some",
        "each",
        "every",
        "one",
        "two",
        "many",
        "much",
        "more",
        "most",
        "other",
        "such",
        "own",
        "same",
        "few",
        "lot",
        "lots",
        "like",
        "want",
        "need",
        "know",
        "give",
        "take",
        "show",
        "find",
        "call",
        "run",
        "now",
        "today",
        "tonight",
        "yes",
        "okay",
        "hey",
        "hello",
        "thanks",
        "thank",
        "name",
        "names",
        "value",
        "values",
        "function",
        "tool",
        "tools",
        "return",
        "returns",
        "given",
        "current",
    ]
)
_WORD = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _significant(words: Sequence[str]) -> List[str]:
    return [_stem(word) for word in words if len(word) >= 3 and word.lower() not in _STOP_WORDS]


def _name_words(name: str) -> List[str]:
    return _significant([part for chunk in _WORD.findall(name) for part in _CAMEL.findall(chunk)])


def _functions(tools: Any) -> List[Mapping[str, Any]]:
    """The offered function tools' `function` objects (others are left out)."""
    found: List[Mapping[str, Any]] = []
    for tool in tools if isinstance(tools, list) else ():
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict) and tool["function"].get("name"):
            found.append(tool["function"])
    return found


def matching_tools(functions: Sequence[Mapping[str, Any]], user_text: str) -> List[Tuple[int, Mapping[str, Any]]]:
    """(score, function) of every offered function that shares a word with `user_text`, best first
    (ties in the order offered)."""
    said = set(_significant(_WORD.findall(user_text)))
    scored = []
    for order, function in enumerate(functions):
        name_hits = said & set(_name_words(str(function.get("name", ""))))
        description = str(function.get("description") or "")
        description_hits = (said & set(_significant(_WORD.findall(description)))) - name_hits
        score = 2 * len(name_hits) + len(description_hits)
        if score:
            scored.append((score, order, function))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(score, function) for score, _, function in scored]


def _tool_call(function: Mapping[str, Any], call_id: str, user_text: str) -> Dict[str, Any]:
    parameters = function.get("parameters")
    arguments = _schema.instance(parameters if parameters is not None else {"type": "object"}, user_text)
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": function["name"], "arguments": json.dumps(arguments, ensure_ascii=False)},
    }


def _calls_to_make(body: Mapping[str, Any], last_user: str, last_is_tool: bool) -> List[Mapping[str, Any]]:
    """The functions the answer calls (empty: it answers with text)."""
    functions = _functions(body.get("tools"))
    if not functions:
        return []
    choice = body.get("tool_choice", "auto")
    if choice == "none":
        return []
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        return [function for function in functions if function["name"] == wanted][:1]
    matches = matching_tools(functions, last_user)
    if choice == "required":
        return [matches[0][1] if matches else functions[0]]
    if last_is_tool or not matches:
        return []
    best = matches[0][0]
    chosen = [function for score, function in matches if score == best]
    if body.get("parallel_tool_calls") is False:
        chosen = chosen[:1]
    return chosen


def _tool_results_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The answer after tool results: what each tool of the last round returned."""
    names: Dict[str, str] = {}
    results: List[Tuple[str, str]] = []
    for message in messages:
        if message.get("role") == "assistant":
            results = []
            for call in message.get("tool_calls") or ():
                if isinstance(call, dict) and isinstance(call.get("function"), dict):
                    names[str(call.get("id"))] = str(call["function"].get("name", "the tool"))
        elif message.get("role") == "tool":
            name = names.get(str(message.get("tool_call_id")), str(message.get("name") or "the tool"))
            results.append((name, " ".join(text_of(message.get("content")).split())))
    if not results:
        return "The tool returned nothing."
    return " ".join(f"{name} says: {text or '(nothing)'}" for name, text in results)


def validate_tools(body: Mapping[str, Any]) -> Optional[Tuple[str, str]]:
    """(message, param) when `tools`, `tool_choice`, `response_format` or the logprobs fields are not
    valid; None when they are."""
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            return "'tools' must be a list", "tools"
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict) or tool.get("type", "function") != "function":
                return f"'tools[{index}]' must be {{'type': 'function', 'function': {{...}}}}", "tools"
            function = tool.get("function")
            if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
                return f"'tools[{index}].function.name' is required", "tools"
            if "parameters" in function and not isinstance(function["parameters"], dict):
                return f"'tools[{index}].function.parameters' must be a JSON Schema object", "tools"
    choice = body.get("tool_choice")
    if choice is not None:
        if isinstance(choice, str):
            if choice not in ("none", "auto", "required"):
                return f"'tool_choice' must be none, auto, required or a function, not {choice!r}", "tool_choice"
            if choice == "required" and not _functions(tools):
                return "'tool_choice' is 'required' but no tools are offered", "tool_choice"
        elif isinstance(choice, dict):
            name = (choice.get("function") or {}).get("name") if isinstance(choice.get("function"), dict) else None
            if choice.get("type") != "function" or not isinstance(name, str):
                return "'tool_choice' must be {'type': 'function', 'function': {'name': ...}}", "tool_choice"
            if name not in [function["name"] for function in _functions(tools)]:
                return f"'tool_choice' names the function {name!r}, which 'tools' does not offer", "tool_choice"
        else:
            return "'tool_choice' must be a string or an object", "tool_choice"
    response_format = body.get("response_format")
    if response_format is not None:
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        if kind not in ("text", "json_object", "json_schema"):
            return "'response_format.type' must be text, json_object or json_schema", "response_format"
        if kind == "json_schema":
            spec = response_format.get("json_schema")
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
                return "'response_format.json_schema.name' is required", "response_format"
            if "schema" in spec and not isinstance(spec["schema"], dict):
                return "'response_format.json_schema.schema' must be a JSON Schema object", "response_format"
    logprobs = body.get("logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        return "'logprobs' must be a boolean", "logprobs"
    top = body.get("top_logprobs")
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= 20:
            return "'top_logprobs' must be an integer between 0 and 20", "top_logprobs"
        if logprobs is not True:
            return "'top_logprobs' needs 'logprobs': true", "top_logprobs"
    return None


# --- the answer -------------------------------------------------------------------------------------


def _words_to_pieces(words: Sequence[str]) -> List[str]:
    return [word if n == 0 else " " + word for n, word in enumerate(words)]


def _json_pieces(text: str) -> List[str]:
    return [text[i : i + _JSON_PIECE] for i in range(0, len(text), _JSON_PIECE)] or [""]


_PROPER = re.compile(r"[A-Z][\w'\-]*")


def subject_of(text: str) -> str:
    """What free strings of arguments and JSON answers say: the first run of capitalised words after
    the message's first word ("Paris" in "What is the weather in Paris?"), else the whole message."""
    words = text.split()
    run: List[str] = []
    for word in words[1:]:
        bare = word.strip('.,;:!?"()[]{}')
        if (_PROPER.fullmatch(bare) and bare.upper() != bare) or (run and _PROPER.fullmatch(bare)):
            run.append(bare)
            if bare != word:
                break
        elif run:
            break
    return " ".join(run) if run else " ".join(words)


def choices_for(body: Mapping[str, Any], completion_id: str) -> List[Choice]:
    """The choices (`n` of them) of the answer to a valid chat request body."""
    messages: List[Dict[str, Any]] = body["messages"]
    last_user = ""
    for message in reversed(messages):
        if message.get("role") == "user":
            last_user = text_of(message.get("content"))
            break
    last_is_tool = bool(messages) and messages[-1].get("role") == "tool"
    max_tokens = body.get("max_tokens")
    calls = _calls_to_make(body, " ".join(last_user.split()), last_is_tool)
    subject = subject_of(last_user)
    response_format = body.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    name = character_name(messages)
    choices: List[Choice] = []
    for index in range(body.get("n") or 1):
        if calls:
            prefix = f"call_{completion_id.rsplit('-', 1)[-1]}_{index}"
            tool_calls = [_tool_call(function, f"{prefix}_{number}", subject) for number, function in enumerate(calls)]
            choices.append(Choice(tool_calls=tool_calls, finish_reason="tool_calls"))
            continue
        if kind in ("json_object", "json_schema"):
            if kind == "json_object":
                value: Any = {"reply": luna_reply(last_user, index)}
            else:
                schema = response_format.get("json_schema", {}).get("schema", {})  # type: ignore[union-attr]
                value = _schema.instance(schema, subject)
            pieces = _json_pieces(json.dumps(value, ensure_ascii=False))
            finish = "stop"
            if max_tokens is not None and len(pieces) > max_tokens:
                pieces, finish = pieces[:max_tokens], "length"
            choices.append(Choice(pieces=pieces, finish_reason=finish))
            continue
        text = _tool_results_text(messages) if last_is_tool else luna_reply(last_user, index)
        if name is not None:
            text = _character_text(name, messages, text)
        words = _apply_stop(text, body.get("stop")).split()
        finish = "stop"
        if max_tokens is not None and len(words) > max_tokens:
            words, finish = words[:max_tokens], "length"
        choices.append(Choice(pieces=_words_to_pieces(words), finish_reason=finish))
    return choices


def _logprob(token: str, salt: int) -> float:
    return -round((zlib.crc32(f"{salt}:{token}".encode()) % 5000) / 1000.0, 4)


def _alternatives(token: str) -> List[str]:
    bare = token.strip() or token
    lead = token[: len(token) - len(token.lstrip())]
    candidates = [token, lead + bare.lower(), lead + bare.upper(), lead + bare.capitalize(), token + ",", token + "."]
    candidates += [lead + bare[:-1], " " + bare, bare, token + "!", token + "?", token + " the"]
    seen: List[str] = []
    for candidate in candidates:
        if candidate and candidate not in seen:
            seen.append(candidate)
    n = 0
    while len(seen) < 20:
        n += 1
        seen.append(f"{token}{n}")
    return seen


def _entry(token: str, logprob: float) -> Dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def logprobs_of(pieces: Sequence[str], top: int) -> List[Dict[str, Any]]:
    """OpenAI's `logprobs.content`: an entry per piece, with `top` alternatives (the piece first)."""
    content = []
    for position, token in enumerate(pieces):
        chosen = max(_logprob(token, position), -4.999)
        entry = _entry(token, chosen)
        alternatives = [dict(entry)]
        for rank, other in enumerate(_alternatives(token)[1:top], start=1):
            alternatives.append(_entry(other, round(chosen - rank * 0.75 - 0.25, 4)))
        entry["top_logprobs"] = alternatives[:top]
        content.append(entry)
    return content
