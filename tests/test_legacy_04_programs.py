"""Programs written for meganova 0.4, run unchanged against 0.5 (each in its own interpreter, against a
`MockServer`): the 0.4 spellings must keep working. Each expected output is what the same server answers to
the same request made with raw httpx (`tests/test_mockserver.py` checks those answers in detail)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meganova.testing import MockServer

FLASH = "meganova-ai/manta-flash-1.0"
AUDIO = b"ID3\x04\x00\x00" + bytes(range(256)) * 64


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def run(program: str, server: MockServer, cwd: Path) -> List[str]:
    """Runs a 0.4-style program in a fresh interpreter; its printed lines. The key and URL come from the
    environment, as 0.4 users set them (MEGANOVA_API_KEY, MEGANOVA_BASE_URL)."""
    env = {
        **os.environ,
        "MEGANOVA_API_KEY": str(server.api_key),
        "MEGANOVA_BASE_URL": server.url,
        "STUDIO_URL": server.root_url,
        "PYTHONUNBUFFERED": "1",
    }
    try:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(program)],
            cwd=str(cwd),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,  # a watchdog, not a timing assertion
        )
    except subprocess.TimeoutExpired as hung:  # pragma: no cover - only when something hangs
        pytest.fail(f"the 0.4 program hung:\n{hung.stdout}\n{hung.stderr}")
    assert result.returncode == 0, f"the 0.4 program failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout.splitlines()


def raw(server: MockServer, method: str, path: str, *, at_root: bool = False, **kwargs: Any) -> Any:
    """The server's JSON answer to the same call, with raw httpx (`path` under /v1, or under the root)."""
    base = server.root_url if at_root else server.url
    response = httpx.request(method, base + path, headers={"Authorization": "Bearer test"}, timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def luna(server: MockServer, text: str, **extra: Any) -> Dict[str, Any]:
    body = {"model": FLASH, "messages": [{"role": "user", "content": text}], **extra}
    return dict(raw(server, "POST", "/chat/completions", json=body))


def test_chat_completion(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        import os
        from meganova import MegaNova

        client = MegaNova(api_key=os.environ["MEGANOVA_API_KEY"])
        response = client.chat.completions.create(
            messages=[{"role": "user", "content": "Hello Luna"}],
            model="meganova-ai/manta-flash-1.0",
            temperature=0.7,
            max_tokens=64,
        )
        print(response.choices[0].message.content)
        print(response.usage.total_tokens)
        print(response.choices[0].finish_reason)
        """,
        server,
        tmp_path,
    )
    expected = luna(server, "Hello Luna", temperature=0.7, max_tokens=64)
    assert lines == [
        expected["choices"][0]["message"]["content"],
        str(expected["usage"]["total_tokens"]),
        "stop",
    ]
    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions" and sent.headers["authorization"] == "Bearer test"
    assert sent.json["model"] == FLASH and sent.json["temperature"] == 0.7 and sent.json["max_tokens"] == 64


def test_chat_stream_with_delta_get(server: MockServer, tmp_path: Path) -> None:
    # As 0.4's README writes it: `delta` read like a dict, no check of `choices` first.
    lines = run(
        """
        import os
        from meganova import MegaNova

        client = MegaNova(api_key=os.environ["MEGANOVA_API_KEY"])
        pieces = []
        for chunk in client.chat.completions.create(
            messages=[{"role": "user", "content": "Tell me about the harbor"}],
            model="meganova-ai/manta-flash-1.0",
            stream=True,
        ):
            content = chunk.choices[0].delta.get("content", "")
            print(content or "", end="", flush=True)
            pieces.append(content or "")
        print()
        print(len([piece for piece in pieces if piece]))
        """,
        server,
        tmp_path,
    )
    expected = luna(server, "Tell me about the harbor")["choices"][0]["message"]["content"]
    assert lines == [expected, str(len(expected.split()))]
    assert server.requests[0].json["stream"] is True


def test_async_stream(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        import asyncio
        import os
        from meganova import AsyncMegaNova

        async def main():
            async with AsyncMegaNova(api_key=os.getenv("MEGANOVA_API_KEY")) as client:
                response = await client.chat.completions.create(
                    messages=[{"role": "user", "content": "Say hello"}],
                    model="meganova-ai/manta-flash-1.0",
                )
                print(response.choices[0].message.content)
                stream = await client.chat.completions.create(
                    messages=[{"role": "user", "content": "Count to 5."}],
                    model="meganova-ai/manta-flash-1.0",
                    stream=True,
                )
                async for chunk in stream:
                    content = chunk.choices[0].delta.get("content", "")
                    print(content or "", end="", flush=True)
                print()

        asyncio.run(main())
        """,
        server,
        tmp_path,
    )
    assert lines == [
        luna(server, "Say hello")["choices"][0]["message"]["content"],
        luna(server, "Count to 5.")["choices"][0]["message"]["content"],
    ]


def test_models_list_capabilities_and_pricing(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        from meganova import MegaNova

        client = MegaNova()  # MEGANOVA_API_KEY from the environment
        models = client.models.list()
        print(len(models))
        for model in models:
            enabled = sorted(name for name, on in model.capabilities.items() if on)
            print(model.id, model.owned_by, ",".join(enabled), model.pricing["prompt"], model.pricing["completion"])
        print([model.id for model in client.models.list(capability="tools")])
        print([model.id for model in client.models.list(type="reasoning")])
        print(client.models.get("meganova-ai/manta-pro-1.0").context_length)
        """,
        server,
        tmp_path,
    )
    listed = raw(server, "GET", "/models")["data"]
    expected = [str(len(listed))]
    for model in listed:
        enabled = sorted(name for name, on in model["capabilities"].items() if on)
        expected.append(
            f"{model['id']} {model['owned_by']} {','.join(enabled)} "
            f"{model['pricing']['prompt']} {model['pricing']['completion']}"
        )
    expected.append(str([model["id"] for model in listed if model["capabilities"].get("tools")]))
    expected.append(str([model["id"] for model in listed if "reasoning" in model["tags"]]))
    expected.append("131072")
    assert lines == expected
    assert lines[1] == "meganova-ai/manta-mini-1.0 meganova-ai chat,streaming 0.0000001 0.0000003"
    assert lines[-2] == "['moonshotai/Kimi-K2-Thinking']"
    assert "/v1/models/meganova-ai/manta-pro-1.0" in [r.path for r in server.requests]


def test_embeddings(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        from meganova import MegaNova

        client = MegaNova()
        result = client.embeddings.create(input=["Hello", "World"], model="BAAI/bge-m3")
        for item in result.data:
            print(item.index, len(item.embedding), repr(item.embedding[0]))
        print(result.usage.total_tokens)
        """,
        server,
        tmp_path,
    )
    expected = raw(server, "POST", "/embeddings", json={"input": ["Hello", "World"], "model": "BAAI/bge-m3"})
    assert lines == [f"{item['index']} 1024 {item['embedding'][0]!r}" for item in expected["data"]] + ["2"]


def test_images_b64_json_written_to_a_file(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        import base64
        from meganova import MegaNova

        client = MegaNova()
        result = client.images.generate(
            prompt="A lighthouse over a neon harbor",
            model="black-forest-labs/FLUX.1-dev",
            width=1024,
            height=768,
            num_steps=4,
            seed=1,
        )
        image = result.data[0]
        data = base64.b64decode(image.b64_json)
        with open("lighthouse.png", "wb") as file:
            file.write(data)
        print(len(result.data), image.revised_prompt)
        """,
        server,
        tmp_path,
    )
    assert lines == ["1 A lighthouse over a neon harbor"]
    written = (tmp_path / "lighthouse.png").read_bytes()
    assert written[:8] == b"\x89PNG\r\n\x1a\n"
    sent = server.requests[0]
    assert sent.path == "/v1/images/generations"
    assert sent.json["size"] == "1024x768"  # 0.4's width + height become size
    assert "width" not in sent.json and "height" not in sent.json
    expected = raw(server, "POST", "/images/generations", json=sent.json)
    assert written == base64.b64decode(expected["data"][0]["b64_json"])


def test_audio_transcribe_a_path_and_a_file_object(server: MockServer, tmp_path: Path) -> None:
    (tmp_path / "recording.mp3").write_bytes(AUDIO)
    lines = run(
        """
        from meganova import MegaNova

        client = MegaNova()
        result = client.audio.transcribe("recording.mp3")
        print(result.text)
        with open("recording.mp3", "rb") as audio:
            print(client.audio.transcribe(audio).text)
        """,
        server,
        tmp_path,
    )
    files = {"file": ("recording.mp3", AUDIO, "audio/mpeg")}
    expected = raw(
        server, "POST", "/audio/transcriptions", files=files, data={"model": "Systran/faster-whisper-large-v3"}
    )
    assert lines == [expected["text"], expected["text"]]
    for sent in server.requests[:2]:
        assert sent.path == "/v1/audio/transcriptions"
        assert sent.headers["content-type"].startswith("multipart/form-data")
        assert AUDIO in sent.body and b"Systran/faster-whisper-large-v3" in sent.body  # 0.4's default model


def test_rerank(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        from meganova import MegaNova

        client = MegaNova()
        result = client.rerank.create(
            query="Where is the noodle stand?",
            documents=["The lighthouse has three lanterns out.", "The noodle stand on Pier Nine is open late."],
            model="BAAI/bge-reranker-v2-m3",
            top_n=2,
        )
        for item in result.results:
            print(item.index, item.relevance_score)
        """,
        server,
        tmp_path,
    )
    assert lines == ["1 0.8", "0 0.2"]


def test_videos_generate_and_wait(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        from meganova import MegaNova

        client = MegaNova()
        video = client.videos.generate(
            prompt="A ferry crossing the harbor at night",
            model="Byteplus/seedance-1-0-pro-250528",
            wait=True,
            poll_interval=0.01,
        )
        print(video.status, video.url)
        print(client.videos.get(video.id).status)
        failed = client.videos.generate(prompt="This one will fail", model="Byteplus/seedance-1-0-pro-250528", wait=True, poll_interval=0.01)
        print(failed.status)
        """,
        server,
        tmp_path,
    )
    assert len(lines) == 3
    match = re.fullmatch(r"completed https://cdn\.meganova\.test/videos/(vgen_[0-9a-f]+)\.mp4", lines[0])
    assert match, lines
    assert lines[1:] == ["completed", "failed"]
    paths = [(request.method, request.path) for request in server.requests]
    assert paths[:3] == [
        ("POST", "/v1/videos/generations"),
        ("GET", f"/v1/videos/generations/{match.group(1)}"),
        ("GET", f"/v1/videos/generations/{match.group(1)}"),
    ]


def test_serverless_list_models(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        from meganova import MegaNova

        client = MegaNova()
        result = client.serverless.list_models(modality="text_to_image")
        print(result.count)
        for model in result.models:
            print(model.model_name)
        """,
        server,
        tmp_path,
    )
    expected = raw(
        server, "GET", "/api/v1/serverless/models/filter", at_root=True, params={"modality": "text_to_image"}
    )
    assert lines == [str(expected["data"]["count"])] + [model["model_name"] for model in expected["data"]["models"]]
    sent = server.requests[0]
    assert sent.path == "/api/v1/serverless/models/filter"  # on the root, not under /v1
    assert sent.query["modality"] == "text_to_image"


def test_billing_user_instance_billings(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        from meganova import MegaNova

        client = MegaNova()
        balance = client.billing.get_user_instance_billings()
        print(balance.total_cost)
        for item in balance.data:
            print(item.vm_access_info_id, item.fee_accumulated_taxed, item.product_status)
        """,
        server,
        tmp_path,
    )
    assert lines == ["25.575", "1201 20.625 running", "1202 4.95 stopped"]


def test_usage_time_range(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        from meganova import MegaNova

        client = MegaNova()
        usage = client.usage.time_range(
            start_time="2025-11-01T00:00:00Z", end_time="2025-11-03T00:00:00Z", team_id="team_7"
        )
        for row in usage["data"]:
            print(row["date"], row["model"], row["tokens"], row["cost"])
        """,
        server,
        tmp_path,
    )
    params = {"start_time": "2025-11-01T00:00:00Z", "end_time": "2025-11-03T00:00:00Z", "team_id": "team_7"}
    expected = raw(server, "GET", "/usage/time_range", params=params)["data"]
    assert len(expected) == 4
    assert lines == [f"{row['date']} {row['model']} {row['tokens']} {row['cost']}" for row in expected]
    assert server.requests[0].query["team_id"] == "team_7"


def test_cloud_agent(server: MockServer, tmp_path: Path) -> None:
    lines = run(
        """
        import os
        from meganova.cloud import CloudAgent

        agent = CloudAgent(api_key="agent_test", base_url=os.environ["STUDIO_URL"])
        print(agent.info().welcome_message)
        reply = agent.chat("Hello!")
        print(reply.response)
        print(reply.conversation_id.startswith("conv_"))
        conversation = agent.conversation()
        conversation.chat("Please use your tool to book a table")
        print(conversation.pending_tool_call.tool_name)
        print(conversation.confirm().response)
        """,
        server,
        tmp_path,
    )
    with httpx.Client(base_url=server.root_url + "/agents/v1/agent_test", timeout=10) as studio:
        welcome = studio.get("/info").json()["welcome_message"]
        hello = studio.post("/chat", json={"message": "Hello!"}).json()["response"]
    assert lines == [
        welcome,
        hello,
        "True",
        "book_table",
        "Done, your table for 2 at the Pier Nine noodle stand is booked for 21:00.",
    ]
    first = server.requests[0]
    assert (first.method, first.path) == ("GET", "/agents/v1/agent_test/info")
    assert "authorization" not in first.headers  # the agent key travels in the path only
    assert [request.path for request in server.requests[2:4]] == [
        "/agents/v1/agent_test/chat",
        "/agents/v1/agent_test/confirm-tool",
    ]
