"""MegaNova Studio agents: `CloudAgent` (and `AsyncCloudAgent`), by the agent's key (`agent_...`).

    from meganova.cloud import CloudAgent

    agent = CloudAgent(api_key="agent_...")   # or MEGANOVA_AGENT_KEY
    print(agent.info().welcome_message)
    reply = agent.chat("Hello!")
    print(reply.response)

The endpoints are the spec's `agents` operations (`meganova.api.agents`), on
`https://studio-api.meganova.ai` (or `base_url=`, else `MEGANOVA_STUDIO_BASE_URL`), with the same
retries, errors and stream rules as `MegaNova`. The key
travels in the path (`/agents/v1/{agent_key}/...`), never in a header: it is scrubbed from every log
line (httpx's own `HTTP Request:` line included) and error, masked as `agent_***`, and no repr shows it
(the key and the paths holding it are `MaskedStr`s: tracebacks with locals show the mask).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Mapping, Optional, Sequence, Union, overload

from meganova.api.agents import AgentsResource, AsyncAgentsResource
from meganova.custom._client import AsyncMegaNova, MegaNova
from meganova.custom._completion_stream import AsyncCompletionStream, CompletionStream
from meganova.custom.runtime.options import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, TimeoutTypes
from meganova.custom.runtime.secrets import MaskedStr
from meganova.errors import MeganovaError

if TYPE_CHECKING:
    from meganova.models.agent_chat_response import AgentChatResponse
    from meganova.models.agent_info import AgentInfo
    from meganova.models.chat_response import ChatResponse
    from meganova.models.pending_tool_call import PendingToolCall

__all__ = ["AsyncCloudAgent", "AsyncConversation", "CloudAgent", "Conversation", "STUDIO_URL"]

STUDIO_URL = "https://studio-api.meganova.ai"
AGENT_KEY_ENV = "MEGANOVA_AGENT_KEY"
STUDIO_BASE_URL_ENV = "MEGANOVA_STUDIO_BASE_URL"
"""The Studio API's base URL when `base_url=` is not given (a local server: `python -m meganova.testing`)."""


def _studio_url(base_url: Optional[str]) -> str:
    return base_url or os.environ.get(STUDIO_BASE_URL_ENV) or STUDIO_URL


Message = Mapping[str, Any]


def _agent_key(api_key: Optional[str]) -> MaskedStr:
    """The agent's key as a `MaskedStr` (its repr is `'agent_***'`)."""
    if api_key is None:
        api_key = os.environ.get(AGENT_KEY_ENV)
    if not api_key or not isinstance(api_key, str):
        api_key = None
        raise MeganovaError("No agent key: pass CloudAgent(api_key='agent_...') or set MEGANOVA_AGENT_KEY.")
    key = MaskedStr(api_key)
    api_key = None
    if not key.startswith("agent_"):
        raise MeganovaError("A Studio agent key starts with 'agent_' (an 'sk-' key is for MegaNova(), not agents).")
    return key


def _masked(client: Any, request: Any) -> Any:
    """`request` with its path (which holds the agent's key) a `MaskedStr`: its repr shows the mask."""
    request.path = MaskedStr(request.path, client._options.secrets)
    return request


class _Agents(AgentsResource[CompletionStream]):
    _stream_class = CompletionStream

    def _before_request(self, operation: str, request: Any) -> Any:
        return _masked(self._client, request)


class _AsyncAgents(AsyncAgentsResource[AsyncCompletionStream]):
    _stream_class = AsyncCompletionStream

    def _before_request(self, operation: str, request: Any) -> Any:
        return _masked(self._client, request)


class CloudAgent:
    """A MegaNova Studio agent: `info()`, `chat()`, `confirm_tool()`, `completions()`, `conversation()`."""

    __slots__ = ("_agents", "_client", "_key")  # no __dict__: vars() cannot show the key

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: Any = None,
    ) -> None:
        """`api_key`: the agent's key (`agent_...`), else MEGANOVA_AGENT_KEY; `base_url`: the Studio
        API, else MEGANOVA_STUDIO_BASE_URL, else production."""
        self._key = _agent_key(api_key)
        self._client = MegaNova(
            self._key,
            base_url=_studio_url(base_url),
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            send_api_key=False,
        )
        self._agents = _Agents(self._client)

    def __repr__(self) -> str:
        return f"CloudAgent(base_url={self._client.base_url!r})"

    def info(self) -> AgentInfo:
        """The agent's name, description, welcome message and availability."""
        return self._agents.info(self._key)

    def chat(
        self,
        message: str,
        conversation_id: Optional[str] = None,
        user_identifier: Optional[str] = None,
        user_identifier_type: Optional[str] = None,
        extra_data: Optional[Mapping[str, Any]] = None,
    ) -> AgentChatResponse:
        """Send `message` (in `conversation_id`, when given); the agent's reply, maybe a `pending_tool_call`."""
        return self._agents.chat(
            self._key,
            message,
            conversation_id=conversation_id,
            user_identifier=user_identifier,
            user_identifier_type=user_identifier_type,
            extra_data=extra_data,
        )

    def confirm_tool(self, approval_id: str, action: Literal["approve", "reject"] = "approve") -> AgentChatResponse:
        """Approve or reject the tool call the agent asked for; the agent's reply."""
        return self._agents.confirm_tool(self._key, approval_id, action)

    @overload
    def completions(
        self,
        messages: Sequence[Message],
        stream: Literal[False] = False,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        user: Optional[str] = None,
    ) -> ChatResponse: ...
    @overload
    def completions(
        self,
        messages: Sequence[Message],
        stream: Literal[True],
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        user: Optional[str] = None,
    ) -> CompletionStream: ...
    def completions(
        self,
        messages: Sequence[Message],
        stream: bool = False,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        user: Optional[str] = None,
    ) -> Union[ChatResponse, CompletionStream]:
        """The agent as an OpenAI-compatible chat model; with `stream=True`, OpenAI-shaped chunks."""
        return self._agents.completions(
            self._key, messages, stream=stream or None, temperature=temperature, max_tokens=max_tokens, user=user
        )

    def conversation(self, conversation_id: Optional[str] = None) -> Conversation:
        """A conversation that keeps its id from one message to the next."""
        return Conversation(self, conversation_id)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> CloudAgent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncCloudAgent:
    """`CloudAgent` for asyncio: the same methods, awaited."""

    __slots__ = ("_agents", "_client", "_key")  # no __dict__: vars() cannot show the key

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: Any = None,
    ) -> None:
        """`api_key`: the agent's key (`agent_...`), else MEGANOVA_AGENT_KEY; `base_url`: the Studio
        API, else MEGANOVA_STUDIO_BASE_URL, else production."""
        self._key = _agent_key(api_key)
        self._client = AsyncMegaNova(
            self._key,
            base_url=_studio_url(base_url),
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            send_api_key=False,
        )
        self._agents = _AsyncAgents(self._client)

    def __repr__(self) -> str:
        return f"AsyncCloudAgent(base_url={self._client.base_url!r})"

    async def info(self) -> AgentInfo:
        """The agent's name, description, welcome message and availability."""
        return await self._agents.info(self._key)

    async def chat(
        self,
        message: str,
        conversation_id: Optional[str] = None,
        user_identifier: Optional[str] = None,
        user_identifier_type: Optional[str] = None,
        extra_data: Optional[Mapping[str, Any]] = None,
    ) -> AgentChatResponse:
        """Send `message` (in `conversation_id`, when given); the agent's reply, maybe a `pending_tool_call`."""
        return await self._agents.chat(
            self._key,
            message,
            conversation_id=conversation_id,
            user_identifier=user_identifier,
            user_identifier_type=user_identifier_type,
            extra_data=extra_data,
        )

    async def confirm_tool(
        self, approval_id: str, action: Literal["approve", "reject"] = "approve"
    ) -> AgentChatResponse:
        """Approve or reject the tool call the agent asked for; the agent's reply."""
        return await self._agents.confirm_tool(self._key, approval_id, action)

    @overload
    async def completions(
        self,
        messages: Sequence[Message],
        stream: Literal[False] = False,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        user: Optional[str] = None,
    ) -> ChatResponse: ...
    @overload
    async def completions(
        self,
        messages: Sequence[Message],
        stream: Literal[True],
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        user: Optional[str] = None,
    ) -> AsyncCompletionStream: ...
    async def completions(
        self,
        messages: Sequence[Message],
        stream: bool = False,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        user: Optional[str] = None,
    ) -> Union[ChatResponse, AsyncCompletionStream]:
        """The agent as an OpenAI-compatible chat model; with `stream=True`, OpenAI-shaped chunks."""
        return await self._agents.completions(
            self._key, messages, stream=stream or None, temperature=temperature, max_tokens=max_tokens, user=user
        )

    def conversation(self, conversation_id: Optional[str] = None) -> AsyncConversation:
        """A conversation that keeps its id from one message to the next."""
        return AsyncConversation(self, conversation_id)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.close()

    async def __aenter__(self) -> AsyncCloudAgent:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class _ConversationBase:
    def __init__(self, conversation_id: Optional[str]) -> None:
        self.conversation_id = conversation_id
        """The conversation's id (None until the first reply gives one)."""
        self.last_reply: Optional[AgentChatResponse] = None
        self.messages: List[Dict[str, str]] = []
        """The transcript as meganova 0.4 kept it: `{"role": "user" | "assistant", "content": ...}` for each
        message sent with `chat()` and each reply (also those to `confirm()` / `reject()`)."""

    def _remember(self, reply: AgentChatResponse, message: Optional[str] = None) -> AgentChatResponse:
        self.last_reply = reply
        if message is not None:
            self.messages.append({"role": "user", "content": message})
        text = reply.get("response")
        self.messages.append({"role": "assistant", "content": text if isinstance(text, str) else ""})
        conversation_id = reply.get("conversation_id")
        if isinstance(conversation_id, str):
            self.conversation_id = conversation_id
        return reply

    @property
    def pending_tool_call(self) -> Optional[PendingToolCall]:
        """The tool call the agent waits for approval of, after the last reply."""
        return None if self.last_reply is None else self.last_reply.pending_tool_call

    def _approval_id(self) -> str:
        pending = self.pending_tool_call
        if pending is None:
            raise MeganovaError("No tool call is pending in this conversation.")
        return str(pending.approval_id)


class Conversation(_ConversationBase):
    """A conversation with a `CloudAgent`: `chat(message)`, then `confirm()` or `reject()` a tool call."""

    def __init__(self, agent: CloudAgent, conversation_id: Optional[str] = None) -> None:
        super().__init__(conversation_id)
        self._agent = agent

    def chat(self, message: str, **kwargs: Any) -> AgentChatResponse:
        """Send `message` in this conversation."""
        return self._remember(self._agent.chat(message, conversation_id=self.conversation_id, **kwargs), message)

    def confirm(self) -> AgentChatResponse:
        """Approve the pending tool call."""
        return self._remember(self._agent.confirm_tool(self._approval_id(), "approve"))

    def reject(self) -> AgentChatResponse:
        """Reject the pending tool call."""
        return self._remember(self._agent.confirm_tool(self._approval_id(), "reject"))


class AsyncConversation(_ConversationBase):
    """A conversation with an `AsyncCloudAgent`: `await chat(message)`, `await confirm()` / `reject()`."""

    def __init__(self, agent: AsyncCloudAgent, conversation_id: Optional[str] = None) -> None:
        super().__init__(conversation_id)
        self._agent = agent

    async def chat(self, message: str, **kwargs: Any) -> AgentChatResponse:
        """Send `message` in this conversation."""
        return self._remember(await self._agent.chat(message, conversation_id=self.conversation_id, **kwargs), message)

    async def confirm(self) -> AgentChatResponse:
        """Approve the pending tool call."""
        return self._remember(await self._agent.confirm_tool(self._approval_id(), "approve"))

    async def reject(self) -> AgentChatResponse:
        """Reject the pending tool call."""
        return self._remember(await self._agent.confirm_tool(self._approval_id(), "reject"))
