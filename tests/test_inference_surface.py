"""The 0.4 SDK's inference surface as this SDK gives it, over real HTTP against MockServer, sync and
async: chat.completions (OpenAI-shaped chunks), embeddings (base64 decoded on request), images
(width+height, save), audio (multipart uploads streamed from disk, retried only when they can be sent
again; text answers; tts), rerank, videos (wait, async without blocking the loop, timeout),
serverless (outside /v1, proxy prefix kept), instance billings, usage time range, Studio agents."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from meganova import AsyncMegaNova, MegaNova, MeganovaError
from meganova.cloud import AsyncCloudAgent, CloudAgent
from meganova.errors import APIConnectionError, InternalServerError
from meganova.testing import AGENT_KEY, MockServer

MODEL = "meganova-ai/manta-flash-1.0"
MESSAGES = [{"role": "user", "content": "Hi Luna"}]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def call(request: Any, server: MockServer) -> Iterator[Callable[[Callable[[Any], Any]], Any]]:
    """`call(lambda client: client.x.y(...))` on a sync or an async client (awaited)."""
    server.reset()
    if request.param == "sync":
        client: Any = MegaNova(api_key=server.api_key, base_url=server.url, max_retries=2)
        yield lambda fn: fn(client)
        client.close()
        return
    loop = asyncio.new_event_loop()
    aclient = AsyncMegaNova(api_key=server.api_key, base_url=server.url, max_retries=2)

    async def run(fn: Callable[[Any], Any]) -> Any:
        result = fn(aclient)
        return await result if asyncio.iscoroutine(result) else result

    yield lambda fn: loop.run_until_complete(run(fn))
    loop.run_until_complete(aclient.close())
    loop.close()


def iterate(call: Any, stream: Any) -> list:
    if hasattr(stream, "__aiter__"):

        async def collect() -> list:
            return [chunk async for chunk in stream]

        return call(lambda _: collect())
    return list(stream)


def test_chat_completions_gives_openai_shaped_chunks(call: Any, server: MockServer) -> None:
    whole = call(lambda c: c.chat.completions.create(model=MODEL, messages=MESSAGES))
    stream = call(lambda c: c.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    chunks = iterate(call, stream)
    text = "".join(chunk.choices[0].delta.get("content") or "" for chunk in chunks)  # as 0.4 users write it
    assert text == "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == whole.choices[0].message.content
    assert all(chunk.id and chunk.model == MODEL and chunk.choices for chunk in chunks)  # no usage-only chunk
    assert stream.usage is not None and stream.usage.total_tokens > 0  # the usage is kept
    with_usage = call(
        lambda c: c.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    last = iterate(call, with_usage)[-1]
    assert last.choices == [] and last.usage.total_tokens == stream.usage.total_tokens  # asked for: given


def test_chat_completions_stream_cut_off_raises(call: Any, server: MockServer) -> None:
    server.enqueue(drop_after_events=3)
    stream = call(lambda c: c.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    with pytest.raises(APIConnectionError):
        iterate(call, stream)


def test_embeddings_floats_and_base64(call: Any) -> None:
    plain = call(lambda c: c.embeddings.create("Neon Harbor", "BAAI/bge-m3", dimensions=8))
    packed = call(lambda c: c.embeddings.create(["Neon Harbor"], "BAAI/bge-m3", dimensions=8, encoding_format="base64"))
    vector = plain.data[0].embedding
    assert len(vector) == 8 and all(isinstance(x, float) for x in vector)
    assert isinstance(packed.data[0].embedding, str)  # as sent
    assert packed.data[0].floats() == pytest.approx(vector, rel=1e-6)  # decoded on request
    assert plain.data[0].floats() == vector


def test_images_width_and_height_become_size_and_save(call: Any, server: MockServer, tmp_path: Path) -> None:
    result = call(lambda c: c.images.generate("A lantern", model="black-forest-labs/FLUX.1-dev", width=64, height=32))
    sent = server.requests[-1].json
    assert sent["size"] == "64x32" and "width" not in sent and "height" not in sent
    sent_before = len(server.requests)
    with pytest.raises(MeganovaError, match="either size='8x8' or width and height"):
        call(lambda c: c.images.generate("x", model="m", size="8x8", width=64, height=32))
    with pytest.raises(MeganovaError, match="width needs height"):
        call(lambda c: c.images.generate("x", model="m", width=64))
    with pytest.raises(MeganovaError, match="height needs width"):
        call(lambda c: c.images.generate("x", model="m", height=64))
    assert len(server.requests) == sent_before  # refused before anything was sent
    path = tmp_path / "lantern.png"
    written = result.data[0].save(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and written == path.stat().st_size
    as_url = call(lambda c: c.images.generate("x", model="m", response_format="url"))
    assert as_url.data[0].url.startswith("https://")
    with pytest.raises(MeganovaError, match="b64_json"):
        as_url.data[0].save(tmp_path / "none.png")


def test_transcribe_a_path_bytes_or_a_file(call: Any, server: MockServer, tmp_path: Path) -> None:
    audio = bytes(range(256)) * 64
    path = tmp_path / "recording.mp3"
    path.write_bytes(audio)
    by_path = call(lambda c: c.audio.transcribe(str(path)))
    part = server.requests[-1]
    assert b'filename="recording.mp3"' in part.body and audio in part.body
    assert b"Systran/faster-whisper-large-v3" in part.body  # the default model, sent as a text part
    by_bytes = call(lambda c: c.audio.stt(audio, filename="clip.mp3", language="en"))
    with path.open("rb") as handle:
        by_file = call(lambda c: c.audio.transcribe(handle))
    assert by_path.text == by_bytes.text == by_file.text and by_path.text
    as_text = call(lambda c: c.audio.transcribe(audio, filename="a.mp3", response_format="text"))
    assert as_text.text == by_path.text  # a text/plain answer still reads as a Transcription


def test_an_upload_is_retried_only_when_it_can_be_sent_again(call: Any, server: MockServer, tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(b"ID3" + b"\x00" * 2000)
    server.enqueue(status=503, headers={"Retry-After": "0"})
    assert call(lambda c: c.audio.transcribe(path)).text
    first, second = server.requests[-2:]
    assert first.body == second.body and first.headers["idempotency-key"] == second.headers["idempotency-key"]
    read_end, write_end = os.pipe()
    os.write(write_end, b"ID3" + b"\x00" * 100)
    os.close(write_end)
    server.enqueue(status=503, headers={"Retry-After": "0"})
    before = len(server.requests)
    with os.fdopen(read_end, "rb") as pipe, pytest.raises(InternalServerError):
        call(lambda c: c.audio.transcribe(pipe, filename="live.mp3"))
    assert len(server.requests) == before + 1  # a one-shot stream is never sent twice


def test_a_large_upload_is_streamed_from_disk(server: MockServer, tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    with path.open("wb") as file:
        file.truncate(200 * 1024 * 1024)  # 200 MiB, sparse on disk
    code = textwrap.dedent(
        f"""
        from meganova import MegaNova
        client = MegaNova(api_key={server.api_key!r}, base_url={server.url!r})
        result = client.audio.transcribe({str(path)!r})
        assert result.text
        status = open("/proc/self/status").read()  # VmHWM: this process's own peak (ru_maxrss counts the parent's)
        print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    peak_mib = int(done.stdout.split()[-1])
    assert peak_mib < 150, f"peak RSS {peak_mib} MiB for a 200 MiB upload: it was read into memory"
    assert server.requests[-1].headers["content-length"] and len(server.requests[-1].body) > 200 * 1024 * 1024


def test_tts_gives_the_audio_bytes(call: Any, server: MockServer) -> None:
    audio = call(lambda c: c.audio.tts("Welcome to Neon Harbor.", model="hexgrad/Kokoro-82M", voice="af_heart"))
    assert isinstance(audio, bytes) and len(audio) > 44
    assert server.requests[-1].headers["accept"].startswith("audio/")


def test_rerank_orders_the_documents(call: Any) -> None:
    ranked = call(lambda c: c.rerank.create("noodle stand", ["a ferry", "the noodle stand"], model="m", top_n=1))
    assert [r.index for r in ranked.results] == [1] and ranked.results[0].document is not None


def test_videos_wait_until_completed(call: Any, server: MockServer) -> None:
    started = call(lambda c: c.videos.generate("The harbor at dawn", model="Byteplus/seedance-1-0-pro-250528"))
    assert str(started.status) == "queued"
    done = call(lambda c: c.videos.generate("The harbor", model="m", wait=True, poll_interval=0.01, timeout=60))
    assert str(done.status) == "completed" and done.url
    polls = [r for r in server.requests if r.method == "GET" and r.path.startswith("/v1/videos/generations/")]
    assert len(polls) >= 2
    failed = call(lambda c: c.videos.generate("this will fail", model="m", wait=True, poll_interval=0.01))
    assert str(failed.status) == "failed"


def test_videos_wait_runs_out_of_time(call: Any) -> None:
    from meganova.custom.resources.videos import VideoTimeoutError

    with pytest.raises(VideoTimeoutError) as info:
        call(lambda c: c.videos.generate("The harbor", model="m", wait=True, poll_interval=0.05, timeout=0.01))
    assert info.value.generation is not None and str(info.value.generation.status) in ("queued", "in_progress")


def test_async_video_polling_does_not_block_the_loop(server: MockServer) -> None:
    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            video = await client.videos.generate("The harbor", model="m", wait=True, poll_interval=0.05, timeout=60)
        task.cancel()
        assert str(video.status) == "completed"
        return ticks

    assert asyncio.run(main()) > 3  # the other task ran while the video was polled


def test_serverless_lives_outside_v1_and_keeps_a_proxy_prefix(call: Any, server: MockServer) -> None:
    page = call(lambda c: c.serverless.list_models(modality="text_generation", include_tag_counts=False))
    request = server.requests[-1]
    assert request.path == "/api/v1/serverless/models/filter"
    assert request.query["modality"] == "text_generation" and request.query["include_tag_counts"] == "false"
    assert page.count == len(page.models) > 0
    from meganova.api.serverless import list_serverless_models
    from meganova.custom.runtime.options import ClientOptions
    from meganova.custom.runtime.request import _url

    options = ClientOptions.create(
        api_key="sk-x",
        base_url="https://gw.example/meganova/v1",
        timeout=1,
        max_retries=0,
        region="auto",
        user_agent_extra=None,
        default_headers=None,
    )
    assert (
        _url(options, list_serverless_models.request()) == "https://gw.example/meganova/api/v1/serverless/models/filter"
    )


def test_instance_billings_and_usage_time_range(call: Any, server: MockServer) -> None:
    billings = call(lambda c: c.billing.get_user_instance_billings())
    assert billings.total_cost is not None and billings.data[0].vm_access_info_id
    days = call(
        lambda c: c.usage.time_range(start_time="2025-11-01T00:00:00Z", end_time="2025-11-03T00:00:00Z", team_id="t1")
    )
    assert server.requests[-1].query == {
        "start_time": "2025-11-01T00:00:00Z",
        "end_time": "2025-11-03T00:00:00Z",
        "team_id": "t1",
    }
    assert days.data is not None


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_studio_agent(server: MockServer, flavour: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="meganova")
    server.reset()

    def sync_run() -> list:
        with CloudAgent(AGENT_KEY, base_url=server.root_url) as agent:
            conversation = agent.conversation()
            first = conversation.chat("Please use your tool to book a table")
            done = conversation.confirm()
            streamed = "".join(c.choices[0].delta.content or "" for c in agent.completions(MESSAGES, stream=True))
            return [
                agent.info().welcome_message,
                first.pending_tool_call.tool_name,
                done.response,
                streamed,
                repr(agent),
            ]

    async def async_run() -> list:
        async with AsyncCloudAgent(AGENT_KEY, base_url=server.root_url) as agent:
            conversation = agent.conversation()
            first = await conversation.chat("Please use your tool to book a table")
            done = await conversation.confirm()
            stream = await agent.completions(MESSAGES, stream=True)
            streamed = "".join([c.choices[0].delta.content or "" async for c in stream])
            info = await agent.info()
            return [info.welcome_message, first.pending_tool_call.tool_name, done.response, streamed, repr(agent)]

    welcome, tool, done, streamed, shown = sync_run() if flavour == "sync" else asyncio.run(async_run())
    assert welcome and tool == "book_table" and "booked" in done and streamed
    assert all("authorization" not in r.headers for r in server.requests)
    assert all(r.path.startswith(f"/agents/v1/{AGENT_KEY}/") for r in server.requests)
    assert AGENT_KEY not in shown
    assert not [record for record in caplog.records if AGENT_KEY in record.getMessage()]


def test_a_studio_agent_key_is_checked_and_never_shown(server: MockServer) -> None:
    with pytest.raises(MeganovaError, match="agent_"):
        CloudAgent("sk-not-an-agent-key")
    agent = CloudAgent("agent_unknown", base_url=server.root_url, max_retries=0)
    with pytest.raises(MeganovaError) as info:
        agent.info()
    error = info.value
    assert "agent_unknown" not in f"{error} {error!r} {error.message} {json.dumps(error.body, default=str)}"


def test_base64_floats_match_the_wire_format() -> None:
    from meganova.models import Embedding

    values = [0.25, -1.5, 3.0]
    packed = base64.b64encode(struct.pack("<3f", *values)).decode()
    assert Embedding.from_dict({"index": 0, "embedding": packed}).floats() == values


def test_tts_streams_into_a_file(call: Any, server: MockServer, tmp_path: Path) -> None:
    whole = call(lambda c: c.audio.tts("Welcome.", model="hexgrad/Kokoro-82M", voice="af_heart", response_format="wav"))
    path = tmp_path / "welcome.wav"
    written = call(
        lambda c: c.audio.tts_to_file(
            path, "Welcome.", model="hexgrad/Kokoro-82M", voice="af_heart", response_format="wav"
        )
    )
    assert written == len(whole) and path.read_bytes() == whole
    with (tmp_path / "again.wav").open("wb") as file:  # a file object the caller keeps
        assert call(
            lambda c: c.audio.tts_to_file(file, "Welcome.", model="m", voice="v", response_format="wav")
        ) == len(whole)
        assert not file.closed
    server.enqueue(status=503, headers={"Retry-After": "0"})
    assert call(
        lambda c: c.audio.tts_to_file(tmp_path / "retried.wav", "Welcome.", model="m", voice="v", response_format="wav")
    ) == len(whole)
    server.enqueue(drop_after_bytes=2000)  # a body cut short is read again, like any answer (same Idempotency-Key)
    assert call(
        lambda c: c.audio.tts_to_file(tmp_path / "cut.wav", "Welcome.", model="m", voice="v", response_format="wav")
    ) == len(whole)
    good = (tmp_path / "cut.wav").read_bytes()
    assert len(good) == len(whole) and good[:4] == b"RIFF"
    server.enqueue(drop_after_bytes=2000)
    with pytest.raises(APIConnectionError):
        call(
            lambda c: c.audio.tts_to_file(
                tmp_path / "cut.wav", "Welcome.", model="m", voice="v", response_format="wav", max_retries=0
            )
        )
    assert (tmp_path / "cut.wav").read_bytes() == good  # the good file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.wav", "cut.wav", "retried.wav", "welcome.wav"]


def test_openai_shaped_streams_left_early_are_released_at_once(server: MockServer) -> None:
    import gc
    import weakref

    client = MegaNova(api_key=server.api_key, base_url=server.url)
    fds_before = len(os.listdir("/proc/self/fd"))
    gc.disable()  # only reference counting may release them
    try:
        for _ in range(300):
            stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
            ref = weakref.ref(stream)
            for _event in stream:
                break
            del stream, _event
            assert ref() is None  # no cycle keeps it alive
    finally:
        gc.enable()
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 16
    assert client.chat.completions.create(model=MODEL, messages=MESSAGES).choices
    client.close()
