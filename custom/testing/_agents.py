"""MegaNova Studio agents (`/agents/v1/{agent_key}/...`): info, chat with conversations, tool approvals,
and OpenAI-style completions. The agent key in the path is the credential (no bearer token)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ._answers import error_answer, invalid, json_object, ok
from ._api import chat_answer, luna_reply, validate_chat
from ._http import Answer, RecordedRequest
from ._state import Context, PendingApproval

__all__ = [
    "AGENT_KEY",
    "agent_chat",
    "agent_chat_completions",
    "agent_confirm_tool",
    "check_agent_key",
    "get_agent_info",
]

AGENT_KEY = "agent_test"
"""The agent key a `MockServer` knows by default."""

_TOOL_CALL = {
    "tool_name": "book_table",
    "tool_arguments": {"place": "Pier Nine noodle stand", "time": "21:00", "guests": 2},
    "description": "Book a table for 2 at the Pier Nine noodle stand at 21:00",
}
_APPROVED = "Done, your table for 2 at the Pier Nine noodle stand is booked for 21:00."
_REJECTED = "All right, I will not book it. Anything else?"


def agent_info(agent_key: str) -> Dict[str, Any]:
    """The public info of the agent behind `agent_key` (every known key is a Luna)."""
    return {
        "id": "agt_" + agent_key[len("agent_") :],
        "name": "Luna",
        "description": "A night-owl guide to Neon Harbor.",
        "avatar_url": "https://studio.meganova.test/avatars/luna.png",
        "welcome_message": "Hi, I am Luna. Ask me anything about Neon Harbor.",
        "is_available": True,
    }


def check_agent_key(context: Context) -> Optional[Answer]:
    """401 for a key that is not `agent_...`, 404 for one the server does not know; None when it is fine."""
    agent_key = context.params[0]
    if not agent_key.startswith("agent_") or len(agent_key) == len("agent_"):
        return error_answer(401, "Invalid agent key", type="authentication_error", code="invalid_agent_key")
    if context.agent_keys is not None and agent_key not in context.agent_keys:
        return error_answer(404, "Agent not found", code="agent_not_found", param="agent_key")
    return None


def get_agent_info(request: RecordedRequest, context: Context) -> Answer:
    """`GET /agents/v1/{agent_key}/info`."""
    return ok(agent_info(context.params[0]))


def _reply(context: Context, conversation_id: str, text: str, **extra: Any) -> Dict[str, Any]:
    info = agent_info(context.params[0])
    reply: Dict[str, Any] = {
        "response": text,
        "conversation_id": conversation_id,
        "message_id": "msg_" + context.answer_id,
        "agent_id": info["id"],
        "agent_name": info["name"],
        "tokens_used": len(text.split()) + 12,
        "memories_used": 0,
        "image_urls": None,
        "resolution_status": None,
        "resolution_confidence": None,
        "pending_tool_call": None,
        "status": "completed",
    }
    reply.update(extra)
    return reply


def agent_chat(request: RecordedRequest, context: Context) -> Answer:
    """`POST /agents/v1/{agent_key}/chat`: Luna's reply; a message mentioning "tool" asks for an approval."""
    body, problem = json_object(request, "agent chat request")
    if problem is not None:
        return problem
    message = body.get("message")
    if message is None:
        return invalid("'message' is required", "message")
    if not isinstance(message, str) or not message.strip():
        return invalid("'message' must be a non-empty string", "message")
    for name in ("conversation_id", "user_identifier", "user_identifier_type"):
        if body.get(name) is not None and not isinstance(body[name], str):
            return invalid(f"'{name}' must be a string", name)
    if body.get("extra_data") is not None and not isinstance(body["extra_data"], dict):
        return invalid("'extra_data' must be an object", "extra_data")
    agent_key = context.params[0]
    conversation_id = body.get("conversation_id") or "conv_" + context.answer_id
    turn = context.state.next_turn(agent_key, conversation_id)
    if "tool" in message.lower():
        approval_id = "apr_" + context.answer_id
        tool_call = {"approval_id": approval_id, **_TOOL_CALL}
        context.state.add_approval(approval_id, PendingApproval(agent_key, conversation_id, tool_call))
        reply = _reply(
            context,
            conversation_id,
            "I can book that for you with my booking tool. Shall I go ahead?",
            pending_tool_call=tool_call,
            status="pending_approval",
            memories_used=min(turn, 3),
        )
        return ok(reply)
    return ok(_reply(context, conversation_id, luna_reply(message, turn), memories_used=min(turn, 3)))


def agent_confirm_tool(request: RecordedRequest, context: Context) -> Answer:
    """`POST /agents/v1/{agent_key}/confirm-tool`: approve runs the (pretend) tool, reject declines."""
    body, problem = json_object(request, "tool confirmation")
    if problem is not None:
        return problem
    approval_id = body.get("approval_id")
    if not isinstance(approval_id, str) or not approval_id:
        return invalid("'approval_id' is required (a string)", "approval_id")
    action = body.get("action")
    if action not in ("approve", "reject"):
        return invalid(f"'action' must be 'approve' or 'reject', not {action!r}", "action")
    approval = context.state.take_approval(context.params[0], approval_id)
    if approval is None:
        return error_answer(
            404, f"No tool call waits for approval {approval_id}", code="approval_not_found", param="approval_id"
        )
    context.state.next_turn(approval.agent_key, approval.conversation_id)
    text = _APPROVED if action == "approve" else _REJECTED
    return ok(_reply(context, approval.conversation_id, text))


def agent_chat_completions(request: RecordedRequest, context: Context) -> Answer:
    """`POST /agents/v1/{agent_key}/chat/completions`: as `/v1/chat/completions`, the agent as the model."""
    body, problem = json_object(request, "chat request")
    if problem is not None:
        return problem
    as_chat = dict(body)
    as_chat["model"] = agent_info(context.params[0])["id"]
    problem = validate_chat(as_chat)
    if problem is not None:
        return problem
    return chat_answer("chatcmpl-agt-" + context.answer_id, as_chat)
