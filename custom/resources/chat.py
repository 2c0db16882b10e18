"""`client.chat`: chat completions (`POST /chat/completions`), whole or streamed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Literal, Mapping, Optional, Sequence, Union, overload

import httpx

from .._request import APICall, Body, Headers, Query, RequestOptions
from .._response import parse_model
from ..errors import MeganovaError
from ._base import AsyncAPIResource, SyncAPIResource

if TYPE_CHECKING:
    from ...models.chat_response import ChatResponse
    from .._options import TimeoutTypes
    from .._streaming import AsyncChatStream, ChatStream

Message = Union[Mapping[str, Any], Any]
"""A message: a dict such as `{"role": "user", "content": "Hi"}`, or a generated model with `to_dict()`."""


def _parse_chat_response(response: httpx.Response) -> ChatResponse:
    from ...models.chat_response import ChatResponse

    return parse_model(ChatResponse, response)


def _message_json(message: Message, position: int) -> Any:
    if isinstance(message, Mapping):
        return message
    to_dict = getattr(message, "to_dict", None)
    if to_dict is None:
        raise MeganovaError(
            f"messages[{position}] must be a dict such as {{'role': 'user', 'content': 'Hi'}}, "
            f"got {type(message).__name__}."
        )
    return to_dict()


def chat_call(
    *,
    messages: Sequence[Message],
    model: Optional[str],
    temperature: Optional[float],
    max_tokens: Optional[int],
    session_id: Optional[str],
    stream: bool,
    fields: Dict[str, Any],
    options: RequestOptions,
) -> APICall[ChatResponse]:
    """`POST /chat/completions`: the body from the arguments; `fields` (the caller's **kwargs) go in as they are.

    Checked before anything is sent: `messages` is a non-empty list, and `model` is given unless
    `session_id` is (then the session's character decides the model)."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise MeganovaError("messages must be a non-empty list such as [{'role': 'user', 'content': 'Hi'}].")
    if model is None and session_id is None:
        raise MeganovaError("model is required (e.g. model='meganova-ai/manta-flash-1.0'), unless session_id is given.")
    body: Dict[str, Any] = {"messages": [_message_json(m, i) for i, m in enumerate(messages)]}
    if model is not None:
        body["model"] = model
    if session_id is not None:
        body["session_id"] = session_id
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if stream:
        body["stream"] = True
    body.update(fields)
    return APICall("POST", "/chat/completions", _parse_chat_response, json=body, options=options, stream=stream)


class Chat(SyncAPIResource):
    """Chat completions."""

    @overload
    def create(
        self,
        *,
        messages: Sequence[Message],
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        stream: Literal[False] = False,
        session_id: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        **kwargs: Any,
    ) -> ChatResponse: ...

    @overload
    def create(
        self,
        *,
        messages: Sequence[Message],
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        stream: Literal[True],
        session_id: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        **kwargs: Any,
    ) -> ChatStream: ...

    def create(
        self,
        *,
        messages: Sequence[Message],
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        stream: bool = False,
        session_id: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        **kwargs: Any,
    ) -> Union[ChatResponse, ChatStream]:
        """Answer `messages`. Other fields of the API (`top_p`, `tools`, `seed`, ...) go in `**kwargs`.

        With `stream=True`, the same as `stream()`: a `ChatStream`."""
        call = chat_call(
            messages=messages,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            session_id=session_id,
            stream=stream,
            fields=kwargs,
            options=RequestOptions(timeout, extra_headers, extra_query, extra_body),
        )
        return self._client._stream(call) if stream else self._client._request(call)

    def stream(
        self,
        *,
        messages: Sequence[Message],
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        session_id: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        **kwargs: Any,
    ) -> ChatStream:
        """Answer `messages` as a stream of `ChatStreamChunk`s. The request is sent now: an HTTP error
        (after retries) raises here, not at the first iteration. `timeout` bounds each silence."""
        return self.create(
            messages=messages,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            stream=True,
            session_id=session_id,
            timeout=timeout,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            **kwargs,
        )


class AsyncChat(AsyncAPIResource):
    """Chat completions."""

    @overload
    async def create(
        self,
        *,
        messages: Sequence[Message],
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        stream: Literal[False] = False,
        session_id: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        **kwargs: Any,
    ) -> ChatResponse: ...

    @overload
    async def create(
        self,
        *,
        messages: Sequence[Message],
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        stream: Literal[True],
        session_id: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        **kwargs: Any,
    ) -> AsyncChatStream: ...

    async def create(
        self,
        *,
        messages: Sequence[Message],
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        stream: bool = False,
        session_id: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        **kwargs: Any,
    ) -> Union[ChatResponse, AsyncChatStream]:
        """Answer `messages`. Other fields of the API (`top_p`, `tools`, `seed`, ...) go in `**kwargs`.

        With `stream=True`, the same as `stream()`: an `AsyncChatStream`."""
        call = chat_call(
            messages=messages,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            session_id=session_id,
            stream=stream,
            fields=kwargs,
            options=RequestOptions(timeout, extra_headers, extra_query, extra_body),
        )
        if stream:
            return await self._client._stream(call)
        return await self._client._request(call)

    async def stream(
        self,
        *,
        messages: Sequence[Message],
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        session_id: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        **kwargs: Any,
    ) -> AsyncChatStream:
        """Answer `messages` as a stream of `ChatStreamChunk`s (`async for`). The request is sent now:
        an HTTP error (after retries) raises here, not at the first iteration."""
        return await self.create(
            messages=messages,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            stream=True,
            session_id=session_id,
            timeout=timeout,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            **kwargs,
        )
