"""The generated package: models from the spec's examples, dict-style access, forward compatibility,
the endpoint functions over a mock transport, the 520 status, lazy model imports."""

from __future__ import annotations

import json
import subprocess
import sys
from http import HTTPStatus

import httpx
import pytest

from meganova.api.billing import get_balance
from meganova.api.models import get_model, list_models
from meganova.client import AuthenticatedClient
from meganova.models import ChatResponse, ChatRole, FinishReason, ModelInfo, ModelList, UsageSummary
from meganova.types import http_status

CHAT_EXAMPLE = {
    "id": "chatcmpl-8f2c1e6a9b",
    "object": "chat.completion",
    "created": 1764000000,
    "model": "meganova-ai/manta-flash-1.0",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Wide awake and humming."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 24, "completion_tokens": 17, "total_tokens": 41},
    "system_fingerprint": "fp_manta_2025_11",
}


def test_chat_response_round_trips() -> None:
    response = ChatResponse.from_dict(CHAT_EXAMPLE)
    assert response.choices[0].message.content == "Wide awake and humming."
    assert response.choices[0].finish_reason == FinishReason.STOP
    assert response.usage.total_tokens == 41
    assert response.to_dict() == CHAT_EXAMPLE


def test_message_is_readable_like_a_dict() -> None:
    message = ChatResponse.from_dict(CHAT_EXAMPLE).choices[0].message
    assert message["content"] == message.content == "Wide awake and humming."
    assert message["role"] == "assistant"
    assert "content" in message
    assert "tool_calls" not in message  # declared but absent
    assert message.get("tool_calls") is None
    assert message.get("tool_calls", []) == []
    with pytest.raises(KeyError):
        message["tool_calls"]
    message["content"] = "changed"
    assert message.content == "changed"


def test_unknown_field_is_kept_and_round_trips() -> None:
    data = json.loads(json.dumps(CHAT_EXAMPLE))
    data["choices"][0]["message"]["mood"] = "sleepy"
    data["x_new_top_level"] = {"nested": [1, 2]}
    response = ChatResponse.from_dict(data)
    assert response.choices[0].message["mood"] == "sleepy"
    assert "mood" in response.choices[0].message
    assert response["x_new_top_level"] == {"nested": [1, 2]}
    assert response.to_dict() == data


def test_unknown_enum_value_is_kept_equal_to_its_string() -> None:
    data = json.loads(json.dumps(CHAT_EXAMPLE))
    data["choices"][0]["finish_reason"] = "safety_pause"
    data["choices"][0]["message"]["role"] = "narrator"
    response = ChatResponse.from_dict(data)
    choice = response.choices[0]
    assert choice.finish_reason == "safety_pause"
    assert isinstance(choice.finish_reason, FinishReason)
    assert choice.message.role == "narrator"
    assert isinstance(choice.message.role, ChatRole)
    assert str(choice.message.role) == "narrator"
    assert response.to_dict() == data
    assert ChatRole("assistant") is ChatRole.ASSISTANT  # known values stay the real members


def test_model_info_pricing_nullable_and_optional_fields() -> None:
    info = {
        "id": "meganova-ai/manta-flash-1.0",
        "name": "Manta Flash",
        "context_length": 32768,
        "modalities": ["text"],
        "tags": [],
        "nsfw_support": "none",
        "status": "preview-2026",
        "pricing": None,
    }
    model = ModelInfo.from_dict(info)
    assert model.pricing is None
    assert model.status == "preview-2026"
    assert model.description is None
    assert "description" not in model and model.to_dict() == info


def test_usage_summary_from_is_reachable_by_its_json_name() -> None:
    summary = UsageSummary.from_dict(
        {
            "from": "2025-11-01T00:00:00Z",
            "to": "2025-11-30T23:59:59Z",
            "total_requests": 3,
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "total_tokens": 3,
            "cost": 0.5,
            "currency": "USD",
        }
    )
    assert summary["from"] == "2025-11-01T00:00:00Z"  # dict access: the JSON as sent
    assert summary.from_.year == 2025


def test_response_roots_carry_a_request_id_that_is_not_a_json_field() -> None:
    response = ChatResponse.from_dict(CHAT_EXAMPLE)
    assert response.request_id is None
    response.request_id = "req_1"
    assert "request_id" not in response.to_dict()
    assert ChatResponse.from_dict(CHAT_EXAMPLE) == response  # not part of equality


def _raw_client(handler) -> AuthenticatedClient:
    client = AuthenticatedClient(base_url="https://api.meganova.test/v1", token="sk-test")
    client.set_httpx_client(
        httpx.Client(base_url="https://api.meganova.test/v1", transport=httpx.MockTransport(handler))
    )
    return client


def test_generated_endpoint_parses_the_model() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": []})

    response = list_models.sync_detailed(client=_raw_client(handler))
    assert response.status_code == HTTPStatus.OK
    assert isinstance(response.parsed, ModelList)
    assert seen[0].url.path == "/v1/models"


def test_generated_endpoint_sends_model_ids_with_their_slash() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "id": "x",
                "name": "x",
                "context_length": 1,
                "modalities": [],
                "tags": [],
                "nsfw_support": "none",
                "status": "active",
            },
        )

    get_model.sync_detailed("meganova-ai/manta-flash-1.0", client=_raw_client(handler))
    assert seen[0].url.raw_path == b"/v1/models/meganova-ai/manta-flash-1.0"


def test_status_520_does_not_crash() -> None:
    response = get_balance.sync_detailed(
        client=_raw_client(lambda request: httpx.Response(520, text="<html>origin error</html>"))
    )
    assert response.status_code == 520
    assert response.parsed is None
    assert http_status(520).value == 520
    assert http_status(404) is HTTPStatus.NOT_FOUND


def test_models_are_imported_on_first_use() -> None:
    code = (
        "import sys, meganova, meganova.models as m\n"
        "assert 'meganova.models.usage_summary' not in sys.modules, 'imported eagerly'\n"
        "m.UsageSummary\n"
        "assert 'meganova.models.usage_summary' in sys.modules\n"
        "assert 'meganova.models.billing_balance' not in sys.modules\n"
        "assert 'UsageSummary' in dir(m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_generated_errors_module_is_the_public_hierarchy() -> None:
    from meganova import errors

    assert issubclass(errors.RateLimitError, errors.MeganovaError)
    assert issubclass(errors.UnexpectedStatus, errors.MeganovaError)
    assert str(errors.UnexpectedStatus(418, b"teapot")).startswith("Unexpected status code: 418")


def test_unparseable_bodies_never_escape_as_raw_errors() -> None:
    from meganova.errors import APIResponseValidationError

    html = "<html><title>503 Service Unavailable</title></html>"
    response = get_balance.sync_detailed(
        client=_raw_client(lambda request: httpx.Response(503, text=html, headers={"content-type": "text/html"}))
    )
    assert response.status_code == 503 and response.parsed is None and b"503" in response.content
    with pytest.raises(APIResponseValidationError) as info:
        get_balance.sync_detailed(
            client=_raw_client(lambda request: httpx.Response(200, text="{oops", headers={"x-request-id": "r7"}))
        )
    assert info.value.request_id == "r7" and info.value.status == 200
    lenient = get_balance.sync_detailed(client=_raw_client(lambda request: httpx.Response(200, json={"balance": 1})))
    assert lenient.parsed.balance == 1
    with pytest.raises(APIResponseValidationError, match=r"BillingBalance\.currency"):
        lenient.parsed.currency
    with pytest.raises(APIResponseValidationError):
        get_balance.sync_detailed(client=_raw_client(lambda request: httpx.Response(200, json=[1, 2])))
