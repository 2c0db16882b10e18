"""Routing: which operation a request is, its method, its credential check; then the operation's answer."""

from __future__ import annotations

import re
from typing import Callable, FrozenSet, List, Optional, Pattern, Tuple
from urllib.parse import unquote

from . import _agents, _api, _platform
from ._answers import error_answer
from ._http import Answer, RecordedRequest
from ._state import ApiState, Context

__all__ = ["BASE_PATH", "handle"]

BASE_PATH = "/v1"

Handler = Callable[[RecordedRequest, Context], Answer]

_BEARER = "bearer"
_AGENT = "agent"

_ROUTES: List[Tuple[Pattern[str], str, Handler, str]] = [
    (re.compile(pattern), method, handler, auth)
    for pattern, method, handler, auth in (
        (BASE_PATH + "/chat/completions", "POST", _api.chat, _BEARER),
        (BASE_PATH + "/models", "GET", _api.list_models, _BEARER),
        (BASE_PATH + "/models/(.+)", "GET", _api.get_model, _BEARER),
        (BASE_PATH + "/usage/summary", "GET", _api.usage_summary, _BEARER),
        (BASE_PATH + "/usage/time_range", "GET", _platform.get_usage_time_range, _BEARER),
        (BASE_PATH + "/billing/balance", "GET", _api.get_balance, _BEARER),
        (BASE_PATH + "/billing/user-instance-billings", "GET", _platform.get_user_instance_billings, _BEARER),
        (BASE_PATH + "/embeddings", "POST", _platform.create_embedding, _BEARER),
        (BASE_PATH + "/images/generations", "POST", _platform.generate_image, _BEARER),
        (BASE_PATH + "/audio/transcriptions", "POST", _platform.create_transcription, _BEARER),
        (BASE_PATH + "/audio/speech", "POST", _platform.create_speech, _BEARER),
        (BASE_PATH + "/rerank", "POST", _platform.create_rerank, _BEARER),
        (BASE_PATH + "/videos/generations", "POST", _platform.generate_video, _BEARER),
        (BASE_PATH + "/videos/generations/([^/]+)", "GET", _platform.get_video_generation, _BEARER),
        ("/api/v1/serverless/models/filter", "GET", _platform.list_serverless_models, _BEARER),
        ("/agents/v1/([^/]+)/info", "GET", _agents.get_agent_info, _AGENT),
        ("/agents/v1/([^/]+)/chat", "POST", _agents.agent_chat, _AGENT),
        ("/agents/v1/([^/]+)/confirm-tool", "POST", _agents.agent_confirm_tool, _AGENT),
        ("/agents/v1/([^/]+)/chat/completions", "POST", _agents.agent_chat_completions, _AGENT),
    )
]


def _bearer_denied(request: RecordedRequest, api_key: Optional[str]) -> Optional[Answer]:
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


def handle(
    request: RecordedRequest,
    api_key: Optional[str],
    answer_id: str,
    state: Optional[ApiState] = None,
    agent_keys: Optional[FrozenSet[str]] = frozenset((_agents.AGENT_KEY,)),
    chat_models: Optional[FrozenSet[str]] = None,
) -> Answer:
    """The API's answer to `request`: 404 (unknown path) / 405 (method) / 401 (credential) / the operation's."""
    path = request.path
    for pattern, method, handler, auth in _ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if request.method != method:
            return error_answer(
                405,
                f"Method {request.method} is not allowed on {path}; use {method}",
                headers=[("Allow", method)],
            )
        context = Context(
            answer_id=answer_id,
            state=state if state is not None else ApiState(),
            params=tuple(unquote(group) for group in match.groups()),
            agent_keys=agent_keys,
            chat_models=chat_models,
        )
        denied = _bearer_denied(request, api_key) if auth == _BEARER else _agents.check_agent_key(context)
        if denied is not None:
            return denied
        return handler(request, context)
    return error_answer(404, f"Unknown path: {request.method} {path}", code="not_found")
