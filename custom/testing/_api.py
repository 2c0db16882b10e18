"""The API's own answers: routing, authentication, validation, and deterministic content.

Everything here is pure (no I/O): a request in, an `Answer` out.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import unquote

from ._http import Answer, RecordedRequest, StreamItem

__all__ = ["DEFAULT_MODEL", "MODELS", "error_answer", "error_body", "handle", "luna_completion"]

DEFAULT_MODEL = "meganova-ai/manta-flash-1.0"
"""The model a chat request gets when it names a `session_id` and no `model`."""

BASE_PATH = "/v1"

_FINGERPRINT = "fp_manta_mock"
_CREATED = 1756684800

MODELS: List[Dict[str, Any]] = [
    {
        "id": "meganova-ai/manta-mini-1.0",
        "object": "model",
        "name": "Manta Mini 1.0",
        "description": "The smallest Manta: quick replies for light, casual chats.",
        "created": _CREATED,
        "owned_by": "meganova-ai",
        "context_length": 16384,
        "modalities": ["text"],
        "tags": ["roleplay", "fast", "cheap"],
        "nsfw_support": "optional",
        "status": "active",
        "capabilities": ["chat", "streaming"],
        "pricing": {"prompt_tokens_per_1k": 0.0001, "completion_tokens_per_1k": 0.0003},
    },
    {
        "id": "meganova-ai/manta-flash-1.0",
        "object": "model",
        "name": "Manta Flash 1.0",
        "description": "Fast, warm roleplay model for everyday characters.",
        "created": _CREATED,
        "owned_by": "meganova-ai",
        "context_length": 32768,
        "modalities": ["text"],
        "tags": ["roleplay", "fast"],
        "nsfw_support": "optional",
        "status": "active",
        "capabilities": ["chat", "streaming"],
        "pricing": {"prompt_tokens_per_1k": 0.0002, "completion_tokens_per_1k": 0.0006},
    },
    {
        "id": "meganova-ai/manta-pro-1.0",
        "object": "model",
        "name": "Manta Pro 1.0",
        "description": "The largest Manta, for long, rich stories.",
        "created": _CREATED,
        "owned_by": "meganova-ai",
        "context_length": 131072,
        "modalities": ["text", "image"],
        "tags": ["roleplay", "long-context"],
        "nsfw_support": "optional",
        "status": "active",
        "capabilities": ["chat", "streaming", "tools"],
        "pricing": {"prompt_tokens_per_1k": 0.0012, "completion_tokens_per_1k": 0.0036},
    },
    {
        "id": "Qwen/Qwen3-235B-A22B-Instruct-2507",
        "object": "model",
        "name": "Qwen3 235B A22B Instruct 2507",
        "description": "Qwen's large mixture-of-experts instruct model.",
        "created": 1753401600,
        "owned_by": "Qwen",
        "context_length": 262144,
        "modalities": ["text"],
        "tags": ["general", "multilingual", "long-context"],
        "nsfw_support": "none",
        "status": "active",
        "capabilities": ["chat", "streaming", "tools", "json_mode"],
        "pricing": {"prompt_tokens_per_1k": 0.0009, "completion_tokens_per_1k": 0.0027},
    },
    {
        "id": "moonshotai/Kimi-K2-Thinking",
        "object": "model",
        "name": "Kimi K2 Thinking",
        "description": "Moonshot's reasoning model; shows its reasoning in `reasoning_content`.",
        "created": 1762300800,
        "owned_by": "moonshotai",
        "context_length": 262144,
        "modalities": ["text"],
        "tags": ["reasoning", "long-context"],
        "nsfw_support": "none",
        "status": "beta",
        "capabilities": ["chat", "streaming", "tools", "reasoning"],
        "pricing": {"prompt_tokens_per_1k": 0.0015, "completion_tokens_per_1k": 0.006},
    },
]
"""The models `GET /v1/models` lists, every field of `ModelInfo` set."""

_MODELS_BY_ID: Dict[str, Dict[str, Any]] = {model["id"]: model for model in MODELS}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_MODEL_LIST_BODY = _dumps({"object": "list", "data": MODELS})
_MODEL_BODIES: Dict[str, bytes] = {model["id"]: _dumps(model) for model in MODELS}
_BALANCE_BODY = _dumps({"balance": 42.5, "currency": "USD", "status": "active"})

# --- errors ---------------------------------------------------------------------------------------

_STATUS_ERRORS: Dict[int, Tuple[str, str, str]] = {
    400: ("Bad request", "invalid_request_error", "bad_request"),
    401: ("Invalid API key", "authentication_error", "invalid_api_key"),
    403: ("This key may not do this", "permission_error", "forbidden"),
    404: ("Not found", "not_found_error", "not_found"),
    405: ("Method not allowed", "invalid_request_error", "method_not_allowed"),
    408: ("Request timeout", "timeout_error", "request_timeout"),
    409: ("A request with this Idempotency-Key is in progress", "conflict_error", "idempotency_conflict"),
    413: ("Request too large", "invalid_request_error", "request_too_large"),
    422: ("The body is not valid", "invalid_request_error", "validation_error"),
    429: ("Rate limit reached, try again later", "rate_limit_error", "rate_limit_exceeded"),
    500: ("Internal server error", "server_error", "internal_error"),
    502: ("Bad gateway", "server_error", "bad_gateway"),
    503: ("The model is overloaded", "server_error", "overloaded"),
    504: ("Gateway timeout", "server_error", "gateway_timeout"),
}


def error_body(
    status: int,
    message: Optional[str] = None,
    *,
    type: Optional[str] = None,
    code: Optional[str] = None,
    param: Optional[str] = None,
) -> Dict[str, Any]:
    """The standard error body `{"error": {message, type, code, param}}`, with defaults for `status`."""
    default = _STATUS_ERRORS.get(status)
    if default is None:
        default = (
            ("Unknown error", "server_error", f"http_{status}")
            if status >= 500
            else ("Request failed", "invalid_request_error", f"http_{status}")
        )
    return {
        "error": {
            "message": message if message is not None else default[0],
            "type": type if type is not None else default[1],
            "code": code if code is not None else default[2],
            "param": param,
        }
    }


def error_answer(
    status: int,
    message: Optional[str] = None,
    *,
    type: Optional[str] = None,
    code: Optional[str] = None,
    param: Optional[str] = None,
    headers: Optional[List[Tuple[str, str]]] = None,
) -> Answer:
    """An `Answer` with the standard error body."""
    body = error_body(status, message, type=type, code=code, param=param)
    return Answer(status, _dumps(body), headers=list(headers or ()))


def _invalid(message: str, param: Optional[str]) -> Answer:
    return error_answer(422, message, type="invalid_request_error", code="validation_error", param=param)


# --- chat -----------------------------------------------------------------------------------------

_ROLES = frozenset(("system", "user", "assistant", "tool", "developer"))

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


def _text_of(content: Any) -> str:
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


def _validate_chat(body: Any) -> Optional[Answer]:
    if not isinstance(body, dict):
        return _invalid("The body must be a JSON object", None)
    messages = body.get("messages")
    if messages is None:
        return _invalid("'messages' is required", "messages")
    if not isinstance(messages, list):
        return _invalid("'messages' must be a list", "messages")
    if not messages:
        return _invalid("'messages' must not be empty", "messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return _invalid(f"'messages[{index}]' must be an object", "messages")
        role = message.get("role")
        if role not in _ROLES:
            return _invalid(
                f"'messages[{index}].role' must be one of {', '.join(sorted(_ROLES))}, not {role!r}", "messages"
            )
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            return _invalid(f"'messages[{index}].content' must be a string, a list or null", "messages")
    model = body.get("model")
    session_id = body.get("session_id")
    if session_id is not None and not isinstance(session_id, str):
        return _invalid("'session_id' must be a string", "session_id")
    if model is None:
        if session_id is None:
            return _invalid("'model' is required unless 'session_id' is given", "model")
    elif not isinstance(model, str) or not model:
        return _invalid("'model' must be a non-empty string", "model")
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
            return _invalid(f"'{name}' must be a number between {low:g} and {high:g}", name)
    for name in ("max_tokens", "n"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            return _invalid(f"'{name}' must be an integer of at least 1", name)
    n = body.get("n")
    if isinstance(n, int) and n > 16:
        return _invalid("'n' must be at most 16", "n")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        return _invalid("'stream' must be a boolean", "stream")
    stop = body.get("stop")
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(item, str) for item in stop))
    ):
        return _invalid("'stop' must be a string or a list of strings", "stop")
    return None


def _prompt_tokens(messages: List[Dict[str, Any]]) -> int:
    return sum(len(_text_of(message.get("content")).split()) + 4 for message in messages) + 2


def _apply_stop(text: str, stop: Any) -> str:
    stops = [stop] if isinstance(stop, str) else list(stop or ())
    cut = len(text)
    for item in stops:
        if item:
            found = text.find(item)
            if 0 <= found < cut:
                cut = found
    return text[:cut]


def luna_completion(body: Mapping[str, Any]) -> Tuple[str, List[Tuple[List[str], str]], Dict[str, int]]:
    """(model, [(words, finish_reason) per choice], usage) for a valid chat request body."""
    model = body.get("model") or DEFAULT_MODEL
    messages: List[Dict[str, Any]] = body["messages"]
    last_user = ""
    for message in reversed(messages):
        if message.get("role") == "user":
            last_user = _text_of(message.get("content"))
            break
    max_tokens = body.get("max_tokens")
    choices: List[Tuple[List[str], str]] = []
    for index in range(body.get("n") or 1):
        words = _apply_stop(luna_reply(last_user, index), body.get("stop")).split()
        finish = "stop"
        if max_tokens is not None and len(words) > max_tokens:
            words = words[:max_tokens]
            finish = "length"
        choices.append((words, finish))
    prompt = _prompt_tokens(messages)
    completion = sum(len(words) for words, _ in choices)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return str(model), choices, usage


def chat_response(completion_id: str, body: Mapping[str, Any], content_override: Optional[str] = None) -> bytes:
    """The JSON `ChatResponse` for a valid request (`content_override` replaces the text)."""
    model, choices, usage = luna_completion(body)
    return _dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": index,
                    "message": {
                        "role": "assistant",
                        "content": content_override if content_override is not None else " ".join(words),
                    },
                    "finish_reason": finish,
                }
                for index, (words, finish) in enumerate(choices)
            ],
            "usage": usage,
            "system_fingerprint": _FINGERPRINT,
        }
    )


def chat_stream(completion_id: str, body: Mapping[str, Any]) -> Tuple[List[StreamItem], int]:
    """The events of a streamed answer, and how many come after the finish_reason chunk."""
    model, choices, usage = luna_completion(body)
    created = int(time.time())

    def chunk(index: int, delta: Dict[str, Any], finish: Optional[str] = None) -> Dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": _FINGERPRINT,
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
        }

    events: List[StreamItem] = []
    for index, (words, finish) in enumerate(choices):
        events.append(chunk(index, {"role": "assistant", "content": ""}))
        events.extend(chunk(index, {"content": word if n == 0 else " " + word}) for n, word in enumerate(words))
        events.append(chunk(index, {}, finish))
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


def _chat(request: RecordedRequest, answer_id: str) -> Answer:
    if request.json is None:
        if request.body.strip():
            return error_answer(400, "The body is not valid JSON", code="invalid_json")
        return error_answer(400, "The body is empty; send a JSON chat request", code="invalid_json")
    problem = _validate_chat(request.json)
    if problem is not None:
        return problem
    completion_id = "chatcmpl-" + answer_id
    if request.json.get("stream"):
        events, epilogue = chat_stream(completion_id, request.json)
        return Answer(200, content_type="text/event-stream", events=events, epilogue=epilogue)
    return Answer(200, chat_response(completion_id, request.json))


# --- models, billing ------------------------------------------------------------------------------


def _models(request: RecordedRequest, answer_id: str) -> Answer:
    return Answer(200, _MODEL_LIST_BODY)


def _model(model_id: str) -> Answer:
    body = _MODEL_BODIES.get(model_id)
    if body is None:
        return error_answer(404, f"Model not found: {model_id}", code="model_not_found", param="model")
    return Answer(200, body)


def _balance(request: RecordedRequest, answer_id: str) -> Answer:
    return Answer(200, _BALANCE_BODY)


# --- usage ----------------------------------------------------------------------------------------

_GROUP_BY = ("model", "user", "api_key", "day")
_USAGE_MODELS = ("meganova-ai/manta-flash-1.0", "meganova-ai/manta-pro-1.0", "meganova-ai/manta-mini-1.0")
_MODEL_WEIGHTS = (4, 1, 2)
_USERS = ("user_alice", "user_bob")
_API_KEYS = ("key_prod", "key_dev")
_MAX_DAYS = 3660


def _parse_time(value: str) -> Optional[datetime]:
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


def _usage(request: RecordedRequest, answer_id: str) -> Answer:
    query = request.query
    bounds: List[datetime] = []
    for name in ("from", "to"):
        text = query.get(name)
        if text is None:
            return _invalid(f"'{name}' is required (an ISO 8601 date-time)", name)
        moment = _parse_time(text)
        if moment is None:
            return _invalid(f"'{name}' is not an ISO 8601 date-time: {text!r}", name)
        bounds.append(moment)
    start, end = bounds
    if end < start:
        return _invalid("'to' must not be before 'from'", "to")
    if end - start > timedelta(days=_MAX_DAYS):
        return _invalid(f"The range must not be longer than {_MAX_DAYS} days", "to")
    group_by = query.get("group_by")
    if group_by is not None and group_by not in _GROUP_BY:
        return _invalid(f"'group_by' must be one of {', '.join(_GROUP_BY)}, not {group_by!r}", "group_by")
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
    return Answer(200, _dumps(result))


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
        pricing = _MODELS_BY_ID[model]["pricing"]
        for user, u in users:
            for key, k in keys:
                base = 1 + (ordinal * 7 + m * 13 + u * 5 + k * 3) % 11
                requests = math.floor(base * _MODEL_WEIGHTS[m] * overlap)
                if requests <= 0:
                    continue
                prompt = requests * (420 + (ordinal + m * 3 + u) % 9 * 35)
                completion = requests * (180 + (ordinal + k + m) % 7 * 22)
                cost = (
                    prompt / 1000 * pricing["prompt_tokens_per_1k"]
                    + completion / 1000 * pricing["completion_tokens_per_1k"]
                )
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


# --- routing --------------------------------------------------------------------------------------

_Handler = Callable[[RecordedRequest, str], Answer]

_ROUTES: Dict[str, Tuple[str, _Handler]] = {
    BASE_PATH + "/chat/completions": ("POST", _chat),
    BASE_PATH + "/models": ("GET", _models),
    BASE_PATH + "/usage/summary": ("GET", _usage),
    BASE_PATH + "/billing/balance": ("GET", _balance),
}
_MODEL_PREFIX = BASE_PATH + "/models/"


def _authorized(request: RecordedRequest, api_key: Optional[str]) -> Optional[Answer]:
    if api_key is None:
        return None
    header = request.headers.get("authorization")
    if not header:
        return error_answer(
            401,
            "Missing API key: send 'Authorization: Bearer <key>'",
            type="authentication_error",
            code="invalid_api_key",
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or token.strip() != api_key:
        return error_answer(401, "Invalid API key", type="authentication_error", code="invalid_api_key")
    return None


def handle(request: RecordedRequest, api_key: Optional[str], answer_id: str) -> Answer:
    """The API's answer to `request`: 404 / 405 / 401 / the operation's own answer."""
    path = request.path
    route = _ROUTES.get(path)
    if route is None and path.startswith(_MODEL_PREFIX) and len(path) > len(_MODEL_PREFIX):
        method = "GET"
        model_id = unquote(path[len(_MODEL_PREFIX) :])
        handler: Optional[_Handler] = None
    elif route is None:
        return error_answer(404, f"Unknown path: {request.method} {path}", code="not_found")
    else:
        method, handler = route
    if request.method != method:
        return error_answer(
            405,
            f"Method {request.method} is not allowed on {path}; use {method}",
            headers=[("Allow", method)],
        )
    denied = _authorized(request, api_key)
    if denied is not None:
        return denied
    if handler is None:
        return _model(model_id)
    return handler(request, answer_id)
