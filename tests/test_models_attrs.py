"""Generated models are attrs classes whose attributes are the API's JSON names (issue 14, points 1-2):
`attrs.fields` / `asdict` / `evolve` on every model class, the JSON names (`resp.object`, `call.type`,
`EmbeddingRequest.input`, `from_`), meganova 0.4's names (`tier2_plus_require`, `model_dump()`,
`.dict()`, the Studio conversation's `.messages`), the generator's 0.5.0 names as deprecated aliases,
and the promises the dict-backed models made (lenient reading, JSON as sent, pickling, equality)."""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import keyword
import pickle
import warnings
from typing import Any, Callable, Dict, Iterator, List

import attrs
import pytest

import meganova.models as models
from meganova import AsyncMegaNova, MegaNova, types
from meganova.cloud import AsyncCloudAgent, CloudAgent
from meganova.errors import APIResponseValidationError
from meganova.models import (
    ChatResponse,
    EmbeddingRequest,
    RerankDocument,
    RerankResult,
    ServerlessModel,
    ToolCall,
    UsageSummary,
)
from meganova.testing import AGENT_KEY, MockServer

MODEL = "meganova-ai/manta-flash-1.0"
MESSAGES = [{"role": "user", "content": "Hi"}]
MODEL_CLASSES = [getattr(models, name) for name in models.__all__ if attrs.has(getattr(models, name))]


def sample(reader: Any, depth: int = 0) -> Any:
    """A JSON value that `reader` reads (every field of a model, nested ones to a depth)."""
    if isinstance(reader, types.read_model):
        cls = reader.model_class()
        return {} if depth > 12 else full_json(cls, depth + 1)
    if isinstance(reader, types.read_list):
        return [sample(reader.inner, depth + 1)]
    if isinstance(reader, types.read_union):
        return sample(reader.readers[0], depth)
    if isinstance(reader, types.read_const):
        return reader.expected
    if isinstance(reader, types.read_enum):
        reader("x")  # imports the enum class
        return next(iter(reader._cls)).value
    if isinstance(reader, types.read_dict):
        return {"k": sample(reader.inner, depth + 1)}
    simple = {
        types.read_str: "text",
        types.read_int: 7,
        types.read_float: 1.5,
        types.read_bool: True,
        types.read_datetime: "2025-11-01T00:00:00+00:00",
        types.read_any: {"free": [1, "form"]},
        types.read_none: None,
    }
    if reader in simple:
        return simple[reader]
    return "text"  # a hand-written reader (prices as decimal strings)


def full_json(cls: Any, depth: int = 0) -> Dict[str, Any]:
    """Every declared field of `cls` filled, plus one unknown field."""
    data = {a.metadata["json_name"]: sample(a.metadata["meganova"].reader, depth) for a in declared(cls)}
    data["x_unknown"] = {"kept": True}
    return data


def declared(cls: Any) -> List[Any]:
    return [a for a in attrs.fields(cls) if "json_name" in a.metadata]


def test_every_generated_model_is_an_attrs_class() -> None:
    assert len(MODEL_CLASSES) > 50
    missing = [name for name in models.__all__ if not isinstance(getattr(models, name), type)]
    assert not missing
    enums_and_models = {name for name in models.__all__ if attrs.has(getattr(models, name))}
    for name in models.__all__:
        cls = getattr(models, name)
        assert name in enums_and_models or issubclass(cls, str), name  # the rest are str enums


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_attrs_api_names_and_round_trips_on_every_model(cls: Any) -> None:
    data = full_json(cls)
    obj = cls.from_dict(copy.deepcopy(data))
    obj.request_id = "req_1"
    fields = attrs.fields(cls)
    assert fields[-1].name == "additional_properties"
    for attribute in declared(cls):
        json_name = attribute.metadata["json_name"]
        if json_name.isidentifier() and not keyword.iskeyword(json_name):
            assert attribute.name == json_name  # every attribute is its JSON name
        elif json_name.isidentifier():
            assert attribute.name == json_name + "_"  # a keyword gets a suffix
        else:
            assert attribute.name.isidentifier() and attribute.name != json_name
        assert obj[json_name] == data[json_name]  # obj["from"] always works
    as_dict = attrs.asdict(obj)
    assert set(as_dict) == {a.name for a in fields}
    assert as_dict["additional_properties"] == {"x_unknown": {"kept": True}}
    assert obj.to_dict() == data == obj.model_dump() == obj.dict() == json.loads(obj.to_json())
    assert json.loads(obj.model_dump_json()) == json.loads(obj.json(indent=2)) == data
    evolved = attrs.evolve(obj)
    assert evolved == obj and evolved.to_dict() == data and evolved is not obj
    for attribute in declared(cls):
        getattr(obj, attribute.name)  # every field reads
    again = pickle.loads(pickle.dumps(obj))
    assert again == obj and again.request_id == "req_1" and again.to_dict() == data
    assert copy.deepcopy(obj) == obj and copy.copy(obj) == obj
    assert "UNSET" not in repr(obj) and "Unset" not in repr(obj)
    assert not hasattr(obj, "__dict__")  # slots


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_leniency_is_kept_on_every_model(cls: Any) -> None:
    wrong = {a.metadata["json_name"]: object() for a in declared(cls)}
    obj = cls.from_dict(wrong)
    for attribute in declared(cls):
        if attribute.metadata["meganova"].reader is types.read_any:
            continue  # free-form: anything reads
        if attribute.metadata["meganova"].required:
            with pytest.raises(APIResponseValidationError, match=attribute.metadata["json_name"].replace("+", r"\+")):
                getattr(obj, attribute.name)
        else:
            assert getattr(obj, attribute.name) is None  # mistyped optional → None
    empty = cls.from_dict({})
    for attribute in declared(cls):
        if not attribute.metadata["meganova"].required:
            assert getattr(empty, attribute.name) is None
    required = [a for a in declared(cls) if a.metadata["meganova"].required]
    if required:
        with pytest.raises(APIResponseValidationError):
            empty.validate()
    else:
        empty.validate()


def test_json_names_as_attributes_and_the_old_spellings() -> None:
    call = ToolCall(id="c1", type="function", function={"name": "f", "arguments": "{}"})
    assert call.type == "function" and call["type"] == "function"
    request = EmbeddingRequest(input=["a", "b"], model="m")
    assert request.input == ["a", "b"] and request.to_dict() == {"input": ["a", "b"], "model": "m"}
    summary = UsageSummary.from_dict({"from": "2025-11-01T00:00:00Z"})
    assert summary.from_ == datetime.datetime(2025, 11, 1, tzinfo=datetime.timezone.utc)
    assert summary["from"] == "2025-11-01T00:00:00Z"
    model = ServerlessModel.from_dict({"model_name": "a", "tier2+_require": True})
    assert model.tier2_plus_require is True and model["tier2+_require"] is True
    assert attrs.fields_dict(ServerlessModel)["tier2_plus_require"].metadata["json_name"] == "tier2+_require"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert call.type_ == "function" and request.input_ == ["a", "b"] and model.tier2_require is True
        request.input_ = "c"
    assert request.to_dict()["input"] == "c"
    assert [w.category for w in caught] == [DeprecationWarning] * 4
    assert "use .type" in str(caught[0].message)


def test_setting_fields_and_items_writes_the_json() -> None:
    response = ChatResponse.from_dict(
        {"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": [], "usage": {}}
    )
    assert response.model == "m"
    response.model = "n"
    assert response.model == "n" and response["model"] == "n"
    response["model"] = "o"
    assert response.model == "o"
    response.system_fingerprint = "fp"
    assert response.to_dict()["system_fingerprint"] == "fp"
    response.system_fingerprint = None
    assert "system_fingerprint" not in response
    response["extra"] = 1
    assert response.additional_properties == {"extra": 1}
    del response["extra"]
    assert response.additional_properties == {}
    changed = attrs.evolve(response, model="p", additional_properties={"kept": 2})
    assert changed.model == "p" and changed["kept"] == 2 and response.model == "o"


def test_a_datetime_field_round_trips_through_evolve() -> None:
    data = full_json(UsageSummary)
    data["from"] = "2025-11-01T00:00:00Z"
    summary = UsageSummary.from_dict(data)
    evolved = attrs.evolve(summary)
    assert evolved.from_ == summary.from_ and isinstance(evolved["from"], str)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def call(request: Any, server: MockServer) -> Iterator[Callable[[Callable[[Any], Any]], Any]]:
    server.reset()
    if request.param == "sync":
        client: Any = MegaNova(api_key=server.api_key, base_url=server.url, max_retries=0)
        yield lambda fn: fn(client)
        client.close()
        return
    loop = asyncio.new_event_loop()
    aclient = AsyncMegaNova(api_key=server.api_key, base_url=server.url, max_retries=0)

    async def run(fn: Callable[[Any], Any]) -> Any:
        return await fn(aclient)

    yield lambda fn: loop.run_until_complete(run(fn))
    loop.run_until_complete(aclient.close())
    loop.close()


def test_answers_over_http_read_by_their_json_names(call: Any, server: MockServer) -> None:
    response = call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES))
    assert response.object == "chat.completion" and attrs.asdict(response)["object"] == "chat.completion"
    assert response.request_id and attrs.evolve(response).to_dict() == response.to_dict()
    tool_answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    server.enqueue(200, tool_answer)
    answer = call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES))
    tool_call = answer.choices[0].message.tool_calls[0]
    assert tool_call.type == "function" and tool_call.function.name == "f"
    embedded = call(lambda c: c.embeddings.create("hello", model="m"))
    assert embedded.object == "list" and embedded.data[0].object == "embedding"


def test_rerank_document_as_a_string_or_an_object(call: Any, server: MockServer) -> None:
    ranked = call(lambda c: c.rerank.create("noodle", ["a ferry", "the noodle stand"], model="m"))
    first = ranked.results[0]
    assert isinstance(first.document, RerankDocument) and first.document_text == "the noodle stand"
    server.enqueue(200, {"results": [{"index": 1, "relevance_score": 0.9, "document": "the noodle stand"}]})
    ranked = call(lambda c: c.rerank.create("noodle", ["a ferry", "the noodle stand"], model="m"))
    assert ranked.results[0].document == "the noodle stand" == ranked.results[0].document_text
    assert RerankResult.from_dict({"index": 0, "relevance_score": 1.0}).document_text is None
    assert RerankResult.from_dict({"index": 0, "relevance_score": 1.0, "document": 5}).document is None


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_the_studio_conversation_keeps_its_transcript(server: MockServer, flavour: str) -> None:
    server.reset()

    def sync_run() -> List[Dict[str, str]]:
        with CloudAgent(AGENT_KEY, base_url=server.root_url) as agent:
            conversation = agent.conversation()
            first = conversation.chat("Please use your tool to book a table")
            done = conversation.confirm()
            assert conversation.messages[1]["content"] == first.response
            assert conversation.messages[2]["content"] == done.response
            return conversation.messages

    async def async_run() -> List[Dict[str, str]]:
        async with AsyncCloudAgent(AGENT_KEY, base_url=server.root_url) as agent:
            conversation = agent.conversation()
            await conversation.chat("Please use your tool to book a table")
            await conversation.confirm()
            return conversation.messages

    messages = sync_run() if flavour == "sync" else asyncio.run(async_run())
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant"]
    assert messages[0]["content"] == "Please use your tool to book a table"
    assert "booked" in messages[2]["content"]


# The attribute names meganova 0.4.0's pydantic models declared (read from its wheel), by our class.
NAMES_04 = {
    "Transcription": ["text"],
    "InstanceBilling": [
        "vm_access_info_id",
        "running_hours",
        "fee_accumulated",
        "tax_rate",
        "fee_accumulated_taxed",
        "product_status",
    ],
    "InstanceBillings": ["data", "total_cost", "message", "status"],
    "FunctionCall": ["name", "arguments"],
    "ToolCall": ["id", "type", "function"],
    "ChatMessage": ["role", "content", "tool_calls", "tool_call_id", "name"],
    "ChatChoice": ["index", "message", "finish_reason"],
    "TokenUsage": ["prompt_tokens", "completion_tokens", "total_tokens"],
    "ChatResponse": ["id", "object", "created", "model", "choices", "usage", "system_fingerprint"],
    "ChatChunkChoice": ["index", "delta", "finish_reason"],
    "ChatCompletionChunk": ["id", "object", "created", "model", "choices"],
    "Embedding": ["object", "embedding", "index"],
    "EmbeddingUsage": ["prompt_tokens", "total_tokens"],
    "EmbeddingResponse": ["object", "data", "model", "usage"],
    "ImageTimings": ["inference"],
    "Image": ["b64_json", "revised_prompt", "index", "timings"],
    "ImagesResponse": ["data", "model", "object", "message", "status"],
    "ModelInfo": [
        "id",
        "name",
        "description",
        "created",
        "context_length",
        "tags",
        "default",
        "pricing",
        "architecture",
        "capabilities",
    ],
    "ModelList": ["data"],
    "RerankResult": ["index", "relevance_score", "document"],
    "RerankResponse": ["results", "model"],
    "ServerlessModelTags": ["modality", "highlight", "use_case", "model_family"],
    "ServerlessModel": [
        "model_name",
        "model_alias",
        "model_type",
        "context_length",
        "max_completion_tokens",
        "description",
        "input_price",
        "output_price",
        "cost_per_1k_input",
        "cost_per_1k_output",
        "hosting_in",
        "parameter_size",
        "huggingface_url",
        "readme",
        "modality",
        "tier2_plus_require",
        "restrictions",
        "tags",
    ],
    "ServerlessModelsPage": ["models", "count", "tag_counts"],
    "UsageDay": ["date", "model", "tokens", "cost"],
    "UsageTimeRange": ["data", "message", "status"],
    "VideoGeneration": ["status", "message", "data"],
    "AgentInfo": ["id", "name", "description", "avatar_url", "welcome_message", "is_available"],
    "PendingToolCall": ["approval_id", "tool_name", "tool_arguments", "description"],
    "AgentChatResponse": [
        "response",
        "conversation_id",
        "message_id",
        "agent_id",
        "agent_name",
        "tokens_used",
        "memories_used",
        "image_urls",
        "resolution_status",
        "resolution_confidence",
        "pending_tool_call",
        "status",
    ],
    "ChatDelta": ["role", "content"],
}


@pytest.mark.parametrize("name", sorted(NAMES_04))
def test_every_attribute_of_0_4s_models_is_a_field(name: str) -> None:
    fields = attrs.fields_dict(getattr(models, name))
    assert [n for n in NAMES_04[name] if n not in fields] == []
