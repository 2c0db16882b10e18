"""The generated surface as users meet it: every resource method is a real, introspectable function
whose parameters are the spec's fields; requests are built from the spec; models read leniently,
round-trip exactly, pickle and compare; `with_raw_response`; per-call options. Sync and async."""

from __future__ import annotations

import copy
import datetime
import inspect
import json
import math
import pickle
import pydoc
import unittest.mock
from pathlib import Path
from typing import Any, Callable, Dict, List

import httpx
import pytest
import yaml

from meganova import AsyncMegaNova, MegaNova, MeganovaError
from meganova.errors import APIResponseValidationError
from meganova.models import ChatRequestMessage, ChatResponse, ModelInfo

from conftest import CHAT_RESPONSE, Harness, json_response

SPEC = yaml.safe_load((Path(__file__).resolve().parent.parent / "openapi" / "meganova.yaml").read_text())
MESSAGES = [{"role": "user", "content": "Hi"}]


def resource_methods(client: Any) -> List[Any]:
    found = []
    for resource_name in ("chat", "models", "usage", "billing"):
        resource = getattr(client, resource_name)
        for name in dir(resource):
            if not name.startswith("_") and callable(getattr(resource, name)):
                found.append(getattr(resource, name))
    return found


@pytest.mark.parametrize("client_class", [MegaNova, AsyncMegaNova])
def test_every_resource_method_has_a_signature_and_help(client_class: Any) -> None:
    client = client_class(api_key="sk-x")
    methods = resource_methods(client)
    assert {m.__name__ for m in methods} >= {"create", "stream", "list", "get", "summary", "get_balance"}
    for method in methods:
        signature = inspect.signature(method)  # raised ValueError on 5 of 6 before
        assert "timeout" in signature.parameters and "max_retries" in signature.parameters
        assert method.__doc__ and "(`" in method.__doc__  # the spec's summary, with method and path
    assert next(iter(inspect.signature(client.models.get).parameters)) == "model_id"
    assert "model_id" in pydoc.render_doc(client.models.get)


def test_every_chat_request_field_is_a_typed_keyword_of_create_and_stream() -> None:
    fields = set(SPEC["components"]["schemas"]["ChatRequest"]["properties"])
    client = MegaNova(api_key="sk-x")
    for method, expected in ((client.chat.create, fields), (client.chat.stream, fields - {"stream"})):
        parameters = inspect.signature(method).parameters
        assert expected <= set(parameters), expected - set(parameters)
        for name in expected:
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
            assert parameters[name].annotation != inspect.Parameter.empty
        assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())  # **kwargs forwarded


def test_autospec_mocks_of_resource_methods_work() -> None:
    client = MegaNova(api_key="sk-x")
    with unittest.mock.patch.object(client.models, "get", autospec=True) as get:
        get.return_value = ModelInfo(id="m")
        assert client.models.get("m").id == "m"
        get.assert_called_once_with("m")
        with pytest.raises(TypeError):
            client.models.get("m", no_such_argument=1)


def capture(harness: Callable[..., Harness], answers: Any = None, **kwargs: Any) -> Harness:
    return harness(answers if answers is not None else [json_response(200, CHAT_RESPONSE)] * 3, **kwargs)


def test_every_field_reaches_the_body_as_the_spec_names_it(harness: Callable[..., Harness]) -> None:
    h = capture(harness)
    h.chat(
        top_p=0.5,
        stop=["\n"],
        seed=7,
        n=1,
        tools=[{"type": "function", "function": {"name": "f"}}],
        tool_choice="auto",
        response_format={"type": "json_object"},
        stream_options={"include_usage": True},
        user="u1",
        presence_penalty=0.1,
        frequency_penalty=-0.1,
        messages=[ChatRequestMessage(role="user", content="Hi")],  # a generated model works too
        logit_bias={"42": 1},  # not in the spec yet: forwarded as it is
    )
    body = json.loads(h.requests[0].content)
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    assert body["top_p"] == 0.5 and body["stop"] == ["\n"] and body["seed"] == 7 and body["user"] == "u1"
    assert body["tools"][0]["function"]["name"] == "f" and body["response_format"] == {"type": "json_object"}
    assert body["stream_options"] == {"include_usage": True} and body["logit_bias"] == {"42": 1}
    assert body.get("stream") in (None, False) and "max_retries" not in body


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"messages": MESSAGES, "temperature": math.nan}, "temperature"),
        ({"messages": MESSAGES, "top_p": math.inf}, "top_p"),
        ({"messages": [{"role": "user", "content": {1, 2}}]}, "messages"),
        ({"messages": [{"role": "user", "content": datetime.datetime(2025, 1, 1)}]}, "messages"),
        ({"messages": [{"role": "user", "content": b"bytes"}]}, "messages"),
        ({"messages": [{"role": "user", "content": "\ud800"}]}, "messages"),
        ({"messages": MESSAGES, "metadata": {"when": object()}}, "metadata"),
        ({"messages": MESSAGES, "extra_headers": {"X-Bad": "a\nb"}}, "extra_headers"),
        ({"messages": MESSAGES, "extra_headers": {"X-None": None}}, "extra_headers"),
        ({"messages": MESSAGES, "max_retries": -1}, "max_retries"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    harness: Callable[..., Harness], kwargs: Dict[str, Any], names: str
) -> None:
    h = capture(harness)
    kwargs.setdefault("model", "meganova-ai/manta-flash-1.0")
    with pytest.raises(MeganovaError, match=names):
        h.call(lambda c: c.chat.create(**kwargs))
    assert h.requests == []


def test_a_closed_client_says_so() -> None:
    from meganova.testing import MockServer

    with MockServer() as server:
        client = MegaNova(api_key=server.api_key, base_url=server.url)
        client.close()
        with pytest.raises(MeganovaError, match="MegaNova was closed"):
            client.models.list()

        async def closed_async() -> None:
            aclient = AsyncMegaNova(api_key=server.api_key, base_url=server.url)
            await aclient.close()
            with pytest.raises(MeganovaError, match="AsyncMegaNova was closed"):
                await aclient.chat.create(model="m", messages=MESSAGES)

        import asyncio

        asyncio.run(closed_async())
        assert server.requests == []


def test_session_id_replaces_model(harness: Callable[..., Harness]) -> None:
    h = capture(harness)
    h.call(lambda c: c.chat.create(session_id="sess_1", messages=MESSAGES))
    assert json.loads(h.requests[0].content) == {"messages": MESSAGES, "session_id": "sess_1"}


@pytest.mark.parametrize("model_id", ["../billing/balance", "../../x", "a/./b", "a//b", "", "/"])
def test_ids_cannot_climb_to_another_path(harness: Callable[..., Harness], model_id: str) -> None:
    h = capture(harness)
    with pytest.raises(MeganovaError, match="model_id"):
        h.call(lambda c: c.models.get(model_id))
    assert h.requests == []


def test_a_model_id_keeps_its_slash_and_encodes_the_rest(harness: Callable[..., Harness]) -> None:
    h = capture(harness, [json_response(200, {"id": "a/b c?"})])
    assert h.call(lambda c: c.models.get("a/b c?")).id == "a/b c?"
    assert h.requests[0].url.raw_path == b"/v1/models/a/b%20c%3F"


def test_max_retries_per_call_is_an_option_not_a_body_field(harness: Callable[..., Harness]) -> None:
    h = capture(harness, [json_response(500, {"error": {"message": "down"}})] * 5, max_retries=3)
    with pytest.raises(MeganovaError):
        h.call(lambda c: c.chat.create(model="m", messages=MESSAGES, max_retries=1))
    assert len(h.requests) == 2  # one retry, not three
    assert "max_retries" not in json.loads(h.requests[0].content)


LIVE_MODELS = {
    "object": "list",
    "data": [
        {
            "id": "meganova-ai/manta-flash-1.0",
            "object": "model",
            "owned_by": "meganova-ai",
            "pricing": {"prompt": "0.0000002", "completion": "0.0000008", "request": "0", "image": "0"},
            "capabilities": {"chat": True, "vision": False},
        },
        {"id": "Qwen/Qwen3-235B-A22B-Instruct-2507"},
        {"id": "llama", "object": "model", "created": 1764000000, "owned_by": "llamacpp", "meta": {"n_ctx": 4096}},
    ],
}


def test_the_live_models_shape_is_read(harness: Callable[..., Harness]) -> None:
    h = capture(harness, [json_response(200, LIVE_MODELS)])
    models = h.call(lambda c: c.models.list())
    assert [m.id for m in models] == [m["id"] for m in LIVE_MODELS["data"]]
    flash, qwen, llama = models
    assert flash.name is None and flash.context_length is None and qwen.pricing is None
    assert flash.pricing is not None and flash.pricing["prompt"] == "0.0000002"
    assert flash.pricing.prompt_tokens_per_1k == pytest.approx(0.0002)
    assert flash.pricing.completion_tokens_per_1k == pytest.approx(0.0008)
    assert llama["meta"] == {"n_ctx": 4096} and llama.owned_by == "llamacpp"
    assert [m.to_dict() for m in models] == LIVE_MODELS["data"]


def test_models_round_trip_pickle_copy_and_compare() -> None:
    data = {**CHAT_RESPONSE, "brand_new_field": {"nested": [1, None]}}
    resp = ChatResponse.from_dict(copy.deepcopy(data))
    resp.request_id = "req_1"
    assert resp.to_dict() == data and json.loads(resp.to_json()) == data
    json.dumps(resp.to_dict())  # always JSON-serialisable
    for clone in (pickle.loads(pickle.dumps(resp)), copy.deepcopy(resp), copy.copy(resp)):
        assert clone == resp and clone.to_dict() == data and clone.request_id == "req_1"
    other = ChatResponse.from_dict({**data, "brand_new_field": 2})
    assert other != resp  # equality ignores nothing the server sent
    assert "Unset" not in repr(resp) and "UNSET" not in repr(resp)
    resp.choices[0].message.content = "changed"
    assert resp.to_dict()["choices"][0]["message"]["content"] == "changed"


def test_a_model_built_by_hand_leaves_out_what_is_not_given() -> None:
    message = ChatRequestMessage(role="user", content="Hi", additional_properties={"x": 1})
    assert message.to_dict() == {"x": 1, "role": "user", "content": "Hi"}
    assert message.name is None and "name" not in message


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_with_raw_response_gives_status_headers_and_parse(mode: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return json_response(200, LIVE_MODELS, headers={"x-request-id": "req_models", "x-extra": "1"})
        return json_response(200, CHAT_RESPONSE, headers={"x-request-id": "req_chat"})

    h = Harness(mode, handler)
    raw = h.call(lambda c: c.models.with_raw_response.list())
    assert raw.status_code == 200 and raw.headers["x-extra"] == "1" and raw.request_id == "req_models"
    assert [m.id for m in raw.parse()] == [m["id"] for m in LIVE_MODELS["data"]]
    raw_chat = h.call(lambda c: c.chat.with_raw_response.create(model="m", messages=MESSAGES))
    assert raw_chat.parse().id == CHAT_RESPONSE["id"] and raw_chat.parse().request_id == "req_chat"
    assert isinstance(h.call(lambda c: c.chat.create(model="m", messages=MESSAGES)), ChatResponse)


def test_a_top_level_answer_that_is_not_an_object_fails_at_once(harness: Callable[..., Harness]) -> None:
    h = capture(harness, [json_response(200, ["not", "an", "object"])])
    with pytest.raises(APIResponseValidationError):
        h.chat()


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": "3"}, "max_retries"),
        ({"default_headers": {"X": "a\r\nb"}}, "default_headers"),
    ],
)
def test_with_options_checks_what_it_is_given(changes: Dict[str, Any], name: str) -> None:
    with pytest.raises(MeganovaError, match=name):
        MegaNova(api_key="sk-x").with_options(**changes)
