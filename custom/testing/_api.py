"""The original operations' answers: chat completions (JSON and streamed), models, usage summary, balance.

Everything here is pure (no I/O): a request in, an `Answer` out.
"""

from __future__ import annotations

import math
import time
import zlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ._answers import dumps, error_answer, error_body, invalid, json_object
from ._http import Answer, RecordedRequest, StreamItem
from ._reply import Choice, choices_for, logprobs_of, luna_reply, text_of, validate_tools
from ._state import Context

__all__ = [
    "CHAT_MODELS",
    "DEFAULT_MODEL",
    "MODELS",
    "chat",
    "chat_response",
    "chat_stream",
    "error_answer",
    "error_body",
    "get_balance",
    "get_model",
    "list_models",
    "luna_completion",
    "luna_reply",
    "parse_time",
    "usage_summary",
    "validate_chat",
]

DEFAULT_MODEL = "meganova-ai/manta-flash-1.0"
"""The model a chat request gets when it names a `session_id` and no `model`."""

_FINGERPRINT = "fp_manta_mock"
_CREATED = 1756684800


def _capabilities(*names: str) -> Dict[str, bool]:
    return {name: name in names for name in ("chat", "streaming", "tools", "vision", "json_mode", "reasoning")}


def _pricing(prompt: str, completion: str) -> Dict[str, str]:
    return {"prompt": prompt, "completion": completion, "request": "0", "image": "0"}


def _architecture(inputs: List[str]) -> Dict[str, Any]:
    return {"modality": "+".join(inputs) + "->text", "input_modalities": inputs, "output_modalities": ["text"]}


MODELS: List[Dict[str, Any]] = [
    {
        "id": "meganova-ai/manta-mini-1.0",
        "object": "model",
        "owned_by": "meganova-ai",
        "name": "Manta Mini 1.0",
        "description": "The smallest Manta: quick replies for light, casual chats.",
        "created": _CREATED,
        "context_length": 16384,
        "tags": ["roleplay", "fast", "cheap"],
        "default": False,
        "pricing": _pricing("0.0000001", "0.0000003"),
        "architecture": _architecture(["text"]),
        "capabilities": _capabilities("chat", "streaming"),
        "modalities": ["text"],
        "nsfw_support": "optional",
        "status": "active",
    },
    {
        "id": "meganova-ai/manta-flash-1.0",
        "object": "model",
        "owned_by": "meganova-ai",
        "name": "Manta Flash 1.0",
        "description": "Fast, warm roleplay model for everyday characters.",
        "created": _CREATED,
        "context_length": 32768,
        "tags": ["roleplay", "fast"],
        "default": True,
        "pricing": _pricing("0.0000002", "0.0000006"),
        "architecture": _architecture(["text"]),
        "capabilities": _capabilities("chat", "streaming"),
        "modalities": ["text"],
        "nsfw_support": "optional",
        "status": "active",
    },
    {
        "id": "meganova-ai/manta-pro-1.0",
        "object": "model",
        "owned_by": "meganova-ai",
        "name": "Manta Pro 1.0",
        "description": "The largest Manta, for long, rich stories.",
        "created": _CREATED,
        "context_length": 131072,
        "tags": ["roleplay", "long-context"],
        "default": False,
        "pricing": _pricing("0.0000012", "0.0000036"),
        "architecture": _architecture(["text", "image"]),
        "capabilities": _capabilities("chat", "streaming", "tools", "vision"),
        "modalities": ["text", "image"],
        "nsfw_support": "optional",
        "status": "active",
    },
    {
        "id": "Qwen/Qwen3-235B-A22B-Instruct-2507",
        "object": "model",
        "owned_by": "Qwen",
        "name": "Qwen3 235B A22B Instruct 2507",
        "description": "Qwen's large mixture-of-experts instruct model.",
        "created": 1753401600,
        "context_length": 262144,
        "tags": ["general", "multilingual", "long-context"],
        "default": False,
        "pricing": _pricing("0.0000009", "0.0000027"),
        "architecture": _architecture(["text"]),
        "capabilities": _capabilities("chat", "streaming", "tools", "json_mode"),
        "modalities": ["text"],
        "nsfw_support": "none",
        "status": "active",
    },
    {
        # As live servers do, some optional fields are absent here (no `default`, `architecture`).
        "id": "moonshotai/Kimi-K2-Thinking",
        "object": "model",
        "owned_by": "moonshotai",
        "name": "Kimi K2 Thinking",
        "description": "Moonshot's reasoning model; shows its reasoning in `reasoning_content`.",
        "created": 1762300800,
        "context_length": 262144,
        "tags": ["reasoning", "long-context"],
        "pricing": _pricing("0.0000015", "0.000006"),
        "capabilities": _capabilities("chat", "streaming", "tools", "reasoning"),
        "modalities": ["text"],
        "nsfw_support": "none",
        "status": "beta",
    },
]
"""The models `GET /v1/models` lists, in the live shape: prices are decimal strings per token,
`capabilities` maps a name to a boolean; the guideline's `modalities`, `nsfw_support`, `status` are kept."""


CHAT_MODELS: Tuple[str, ...] = (*(str(model["id"]) for model in MODELS), "Qwen/Qwen2.5-VL-7B-Instruct")
"""The model ids chat answers by default (the listed models and the catalogue's vision model); a chat
request for another gets 404 `model_not_found`, as from the API (`MockServer(chat_models=...)`)."""


def price_per_1k(model_id: str, kind: str) -> float:
    """The price of 1,000 tokens of `kind` (`prompt`, `completion`) of a listed model."""
    return float(Decimal(_MODELS_BY_ID[model_id]["pricing"][kind]) * 1000)


_MODELS_BY_ID: Dict[str, Dict[str, Any]] = {model["id"]: model for model in MODELS}


_MODEL_LIST_BODY = dumps({"object": "list", "data": MODELS})
_MODEL_BODIES: Dict[str, bytes] = {model["id"]: dumps(model) for model in MODELS}
_BALANCE_BODY = dumps({"balance": 42.5, "currency": "USD", "status": "active"})

# --- chat -----------------------------------------------------------------------------------------

_ROLES = frozenset(("system", "user", "assistant", "tool", "developer"))


def validate_chat(body: Any) -> Optional[Answer]:
    """The answer for a chat request body that is not valid, or None: 400 for empty `messages`
    (`invalid_messages`) and a missing `model` without `session_id` (`missing_model`), as the spec's
    example says, else 422 `validation_error`; each names the field in `param`."""
    if not isinstance(body, dict):
        return invalid("The body must be a JSON object", None)
    messages = body.get("messages")
    if messages is None:
        return invalid("'messages' is required", "messages")
    if not isinstance(messages, list):
        return invalid("'messages' must be a list", "messages")
    if not messages:  # the spec's own example of a 400
        return error_answer(400, "'messages' must not be empty", code="invalid_messages", param="messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return invalid(f"'messages[{index}]' must be an object", "messages")
        role = message.get("role")
        if role not in _ROLES:
            return invalid(
                f"'messages[{index}].role' must be one of {', '.join(sorted(_ROLES))}, not {role!r}", "messages"
            )
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            return invalid(f"'messages[{index}].content' must be a string, a list or null", "messages")
    model = body.get("model")
    session_id = body.get("session_id")
    if session_id is not None and not isinstance(session_id, str):
        return invalid("'session_id' must be a string", "session_id")
    if model is None:
        if session_id is None:
            return error_answer(
                400, "'model' is required unless 'session_id' is given", code="missing_model", param="model"
            )
    elif not isinstance(model, str) or not model:
        return invalid("'model' must be a non-empty string", "model")
    for name, low, high in (
        ("temperature", 0.0, 2.0),
        ("top_p", 0.0, 1.0),
        ("presence_penalty", -2.0, 2.0),
        ("frequency_penalty", -2.0, 2.0),
    ):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            return invalid(f"'{name}' must be a number between {low:g} and {high:g}", name)
    for name in ("max_tokens", "n"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            return invalid(f"'{name}' must be an integer of at least 1", name)
    n = body.get("n")
    if isinstance(n, int) and n > 16:
        return invalid("'n' must be at most 16", "n")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        return invalid("'stream' must be a boolean", "stream")
    stop = body.get("stop")
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(item, str) for item in stop))
    ):
        return invalid("'stop' must be a string or a list of strings", "stop")
    problem = validate_tools(body)
    if problem is not None:
        return invalid(*problem)
    return None


def _prompt_tokens(messages: List[Dict[str, Any]]) -> int:
    return sum(len(text_of(message.get("content")).split()) + 4 for message in messages) + 2


def luna_completion(
    body: Mapping[str, Any], completion_id: str = "chatcmpl-0"
) -> Tuple[str, List[Choice], Dict[str, int]]:
    """(model, choices, usage) for a valid chat request body (see `_reply` for what the model says)."""
    model = body.get("model") or DEFAULT_MODEL
    messages: List[Dict[str, Any]] = body["messages"]
    choices = choices_for(body, completion_id)
    prompt = _prompt_tokens(messages)
    completion = sum(choice.tokens for choice in choices)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return str(model), choices, usage


def _top_logprobs(body: Mapping[str, Any]) -> Optional[int]:
    """How many alternatives each logprobs entry lists; None when `logprobs` is not asked for."""
    if body.get("logprobs") is not True:
        return None
    top = body.get("top_logprobs")
    return top if isinstance(top, int) else 0


def chat_response(completion_id: str, body: Mapping[str, Any], content_override: Optional[str] = None) -> bytes:
    """The JSON `ChatResponse` for a valid request (`content_override` replaces the text)."""
    model, choices, usage = luna_completion(body, completion_id)
    top = _top_logprobs(body)
    answers = []
    for index, choice in enumerate(choices):
        message: Dict[str, Any] = {"role": "assistant", "content": choice.content}
        if choice.tool_calls:
            message["tool_calls"] = choice.tool_calls
        elif content_override is not None:
            message["content"] = content_override
        answer: Dict[str, Any] = {"index": index, "message": message, "finish_reason": choice.finish_reason}
        if top is not None:
            answer["logprobs"] = (
                None if choice.tool_calls else {"content": logprobs_of(choice.pieces, top), "refusal": None}
            )
        answers.append(answer)
    return dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": answers,
            "usage": usage,
            "system_fingerprint": _FINGERPRINT,
        }
    )


def _argument_pieces(arguments: str) -> List[str]:
    return [arguments[i : i + 8] for i in range(0, len(arguments), 8)]


def chat_stream(completion_id: str, body: Mapping[str, Any]) -> Tuple[List[StreamItem], int]:
    """The events of a streamed answer, and how many come after the finish_reason chunk.

    Text comes a piece (a word) per chunk; a tool call as OpenAI streams it: a chunk with its `index`,
    `id`, `type` and `function.name` (and `arguments: ""`), then chunks of `arguments` fragments."""
    model, choices, usage = luna_completion(body, completion_id)
    created = int(time.time())
    top = _top_logprobs(body)

    def chunk(index: int, delta: Dict[str, Any], finish: Optional[str] = None, **extra: Any) -> Dict[str, Any]:
        choice: Dict[str, Any] = {"index": index, "delta": delta}
        choice.update(extra)
        choice["finish_reason"] = finish
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": _FINGERPRINT,
            "choices": [choice],
        }

    events: List[StreamItem] = []
    for index, choice in enumerate(choices):
        if choice.tool_calls:
            events.append(chunk(index, {"role": "assistant", "content": None}))
            for number, call in enumerate(choice.tool_calls):
                head = {"index": number, "id": call["id"], "type": "function"}
                head["function"] = {"name": call["function"]["name"], "arguments": ""}
                events.append(chunk(index, {"tool_calls": [head]}))
                for fragment in _argument_pieces(call["function"]["arguments"]):
                    events.append(
                        chunk(index, {"tool_calls": [{"index": number, "function": {"arguments": fragment}}]})
                    )
        else:
            events.append(chunk(index, {"role": "assistant", "content": ""}))
            for piece in choice.pieces:
                if top is None:
                    events.append(chunk(index, {"content": piece}))
                else:
                    logprobs = {"content": logprobs_of([piece], top), "refusal": None}
                    events.append(chunk(index, {"content": piece}, logprobs=logprobs))
        events.append(chunk(index, {}, choice.finish_reason))
    epilogue: List[StreamItem] = []
    options = body.get("stream_options")
    if not (isinstance(options, dict) and options.get("include_usage") is False):
        epilogue.append(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": _FINGERPRINT,
                "choices": [],
                "usage": usage,
            }
        )
    epilogue.append("data: [DONE]")
    return events + epilogue, len(epilogue)


def chat_answer(completion_id: str, body: Mapping[str, Any]) -> Answer:
    """The answer to a valid chat request body: JSON, or an event stream when `stream` is true."""
    if body.get("stream"):
        events, epilogue = chat_stream(completion_id, body)
        return Answer(200, content_type="text/event-stream", events=events, epilogue=epilogue)
    return Answer(200, chat_response(completion_id, body))


def chat(request: RecordedRequest, context: Context) -> Answer:
    """`POST /v1/chat/completions`."""
    body, problem = json_object(request, "chat request")
    if problem is not None:
        return problem
    problem = validate_chat(body)
    if problem is not None:
        return problem
    model = body.get("model")
    if isinstance(model, str) and context.chat_models is not None and model not in context.chat_models:
        return error_answer(
            404,
            f"The model '{model}' does not exist or you do not have access to it.",
            type="invalid_request_error",
            code="model_not_found",
            param="model",
        )
    return chat_answer("chatcmpl-" + context.answer_id, body)


# --- models, billing ------------------------------------------------------------------------------


def list_models(request: RecordedRequest, context: Context) -> Answer:
    """`GET /v1/models`."""
    return Answer(200, _MODEL_LIST_BODY)


def get_model(request: RecordedRequest, context: Context) -> Answer:
    """`GET /v1/models/{model_id}` (the id as it comes, slash included, percent-decoded)."""
    model_id = context.params[0]
    body = _MODEL_BODIES.get(model_id)
    if body is None:
        return error_answer(404, f"Model not found: {model_id}", code="model_not_found", param="model")
    return Answer(200, body)


def get_balance(request: RecordedRequest, context: Context) -> Answer:
    """`GET /v1/billing/balance`."""
    return Answer(200, _BALANCE_BODY)


# --- usage ----------------------------------------------------------------------------------------

_GROUP_BY = ("model", "user", "api_key", "day")
_USAGE_MODELS = ("meganova-ai/manta-flash-1.0", "meganova-ai/manta-pro-1.0", "meganova-ai/manta-mini-1.0")
_MODEL_WEIGHTS = (4, 1, 2)
_USERS = ("user_alice", "user_bob")
_API_KEYS = ("key_prod", "key_dev")
_MAX_DAYS = 3660


def parse_time(value: str) -> Optional[datetime]:
    """An ISO 8601 date-time (or date) as an aware UTC datetime; None when it is not one."""
    text = value.strip()
    if not text:
        return None
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    candidates = [text]
    if " " in text:  # a `+` sent unencoded in a query arrives as a space
        head, _, tail = text.rpartition(" ")
        candidates.append(f"{head}+{tail}")
    for candidate in candidates:
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    return None


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def usage_summary(request: RecordedRequest, context: Context) -> Answer:
    """`GET /v1/usage/summary`."""
    query = request.query
    bounds: List[datetime] = []
    for name in ("from", "to"):
        text = query.get(name)
        if text is None:
            return invalid(f"'{name}' is required (an ISO 8601 date-time)", name)
        moment = parse_time(text)
        if moment is None:
            return invalid(f"'{name}' is not an ISO 8601 date-time: {text!r}", name)
        bounds.append(moment)
    start, end = bounds
    if end < start:
        return invalid("'to' must not be before 'from'", "to")
    if end - start > timedelta(days=_MAX_DAYS):
        return invalid(f"The range must not be longer than {_MAX_DAYS} days", "to")
    group_by = query.get("group_by")
    if group_by is not None and group_by not in _GROUP_BY:
        return invalid(f"'group_by' must be one of {', '.join(_GROUP_BY)}, not {group_by!r}", "group_by")
    user_id = query.get("user_id")
    api_key = query.get("api_key")
    users = [(user_id, zlib.crc32(user_id.encode()) % 2)] if user_id else list(zip(_USERS, range(2)))
    keys = [(api_key, zlib.crc32(api_key.encode()) % 2)] if api_key else list(zip(_API_KEYS, range(2)))

    groups: Dict[str, List[float]] = {}
    totals = [0.0, 0.0, 0.0, 0.0]  # requests, prompt tokens, completion tokens, cost
    day = start.date()
    while True:
        day_start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        if day_start >= end:
            break
        overlap = (min(end, day_start + timedelta(days=1)) - max(start, day_start)).total_seconds() / 86400
        if overlap > 0:
            _add_day(day, overlap, users, keys, group_by, groups, totals)
        day += timedelta(days=1)

    result: Dict[str, Any] = {
        "from": _iso(start),
        "to": _iso(end),
        "total_requests": int(totals[0]),
        "prompt_tokens": int(totals[1]),
        "completion_tokens": int(totals[2]),
        "total_tokens": int(totals[1] + totals[2]),
        "cost": round(totals[3], 6),
        "currency": "USD",
    }
    if group_by is not None:
        keys_in_order = list(groups) if group_by == "day" else sorted(groups)
        result["groups"] = [
            {
                "key": key,
                "requests": int(groups[key][0]),
                "prompt_tokens": int(groups[key][1]),
                "completion_tokens": int(groups[key][2]),
                "total_tokens": int(groups[key][1] + groups[key][2]),
                "cost": round(groups[key][3], 6),
            }
            for key in keys_in_order
        ]
    return Answer(200, dumps(result))


def _add_day(
    day: date,
    overlap: float,
    users: List[Tuple[str, int]],
    keys: List[Tuple[str, int]],
    group_by: Optional[str],
    groups: Dict[str, List[float]],
    totals: List[float],
) -> None:
    ordinal = day.toordinal()
    for m, model in enumerate(_USAGE_MODELS):
        prompt_price = price_per_1k(model, "prompt")
        completion_price = price_per_1k(model, "completion")
        for user, u in users:
            for key, k in keys:
                base = 1 + (ordinal * 7 + m * 13 + u * 5 + k * 3) % 11
                requests = math.floor(base * _MODEL_WEIGHTS[m] * overlap)
                if requests <= 0:
                    continue
                prompt = requests * (420 + (ordinal + m * 3 + u) % 9 * 35)
                completion = requests * (180 + (ordinal + k + m) % 7 * 22)
                cost = prompt / 1000 * prompt_price + completion / 1000 * completion_price
                cell = (requests, prompt, completion, cost)
                for i, value in enumerate(cell):
                    totals[i] += value
                if group_by is None:
                    continue
                if group_by == "model":
                    name = model
                elif group_by == "user":
                    name = user
                elif group_by == "api_key":
                    name = key
                else:
                    name = day.isoformat()
                group = groups.setdefault(name, [0.0, 0.0, 0.0, 0.0])
                for i, value in enumerate(cell):
                    group[i] += value
