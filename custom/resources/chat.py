"""`client.chat`: chat completions (`POST /chat/completions`), whole or streamed.

`create` and `stream` are written once, as pure builders; the sync and async resources derive their
methods from them. `CreateMethod` types `create`'s result by the `stream` flag, for both clients.
"""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Literal,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    TypeVar,
    Union,
    cast,
    overload,
)

import httpx

from .._request import APICall, Body, Headers, Query, RequestOptions
from .._response import parse_model
from .._streaming import AsyncChatStream, ChatStream
from ..errors import MeganovaError
from ._base import AsyncAPIResource, SyncAPIResource, async_method, sync_method

if TYPE_CHECKING:
    from typing import Awaitable

    from ...models.chat_response import ChatResponse
    from .._options import TimeoutTypes

Message = Union[Mapping[str, Any], Any]
"""A message: a dict such as `{"role": "user", "content": "Hi"}`, or a generated model with `to_dict()`."""

ResponseT = TypeVar("ResponseT", covariant=True)
StreamT = TypeVar("StreamT", covariant=True)


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


def create(
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
) -> APICall[ChatResponse]:
    """Answer `messages` (`POST /chat/completions`): a `ChatResponse`, or with `stream=True` the same
    stream as `stream()`. Other fields of the API (`top_p`, `tools`, `seed`, ...) go in `**kwargs`.

    `model` is required unless `session_id` is given (then the session's character decides it); both
    are checked before anything is sent."""
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
    body.update(kwargs)
    options = RequestOptions(timeout, extra_headers, extra_query, extra_body)
    return APICall("POST", "/chat/completions", _parse_chat_response, json=body, options=options, stream=stream)


def stream(
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
) -> APICall[ChatResponse]:
    """Answer `messages` as a stream of `ChatStreamChunk`s. The request is sent now: an HTTP error
    (after retries) raises here, not at the first iteration. `timeout` bounds each silence."""
    return create(
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


class CreateMethod(Protocol[ResponseT, StreamT]):
    """The type of `chat.create`: `ResponseT` without streaming, `StreamT` with `stream=True`."""

    @overload
    def __call__(
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
    ) -> ResponseT: ...

    @overload
    def __call__(
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
    ) -> StreamT: ...

    @overload
    def __call__(
        self,
        *,
        messages: Sequence[Message],
        model: Optional[str] = None,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
        stream: bool,
        session_id: Optional[str] = None,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        **kwargs: Any,
    ) -> Union[ResponseT, StreamT]: ...


class Chat(SyncAPIResource):
    """Chat completions: `create()` and `stream()`."""

    create = cast("CreateMethod[ChatResponse, ChatStream]", sync_method(create))
    stream = sync_method(stream, returns=ChatStream)


class AsyncChat(AsyncAPIResource):
    """Chat completions: `await create()` and `await stream()`."""

    create = cast("CreateMethod[Awaitable[ChatResponse], Awaitable[AsyncChatStream]]", async_method(create))
    stream = async_method(stream, returns=AsyncChatStream)
