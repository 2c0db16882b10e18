"""The habits users bring (issue 14.3, 14.4, 14.6-14.9) and one deadline for video waits (13.6), over
real HTTP against MockServer, sync and async."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List

import httpx
import pytest

import meganova
from meganova import AsyncMegaNova, MegaNova
from meganova.errors import (
    APIResponseValidationError,
    APIStatusError,
    BadRequestError,
    MeganovaError,
    NotFoundError,
    RateLimitError,
    VideoTimeoutError,
)
from meganova.testing import AGENT_KEY, MockServer

MODEL = "meganova-ai/manta-flash-1.0"
MESSAGES = [{"role": "user", "content": "Hi Luna"}]
VOICE = {"model": "hexgrad/Kokoro-82M", "voice": "af_heart"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def flavour(request: Any) -> str:
    return str(request.param)


@pytest.fixture
def call(flavour: str, server: MockServer) -> Iterator[Callable[..., Any]]:
    """`call(lambda client: client.x.y(...))` on a sync or an async client (awaited)."""
    server.reset()
    if flavour == "sync":
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


def run_async(fn: Callable[[], Any]) -> Any:
    return asyncio.run(fn())


# --- 14.3 the server judges the API's rules ---------------------------------------------------------


def test_empty_messages_reach_the_server_and_its_400(call: Any, server: MockServer) -> None:
    with pytest.raises(BadRequestError) as info:
        call(lambda c: c.chat.create(model=MODEL, messages=[]))
    error = info.value
    assert (error.status, error.status_code, error.code, error.param) == (400, 400, "invalid_messages", "messages")
    assert isinstance(error.response, httpx.Response) and error.response.status_code == 400
    assert server.requests[-1].json["messages"] == []


def test_a_missing_model_is_the_servers_to_refuse(call: Any, server: MockServer) -> None:
    with pytest.raises(BadRequestError) as info:
        call(lambda c: c.chat.create(messages=MESSAGES))
    assert (info.value.code, info.value.param) == ("missing_model", "model")
    assert "model" not in server.requests[-1].json


def test_out_of_range_values_are_sent_and_judged_by_the_server(call: Any, server: MockServer) -> None:
    with pytest.raises(meganova.UnprocessableEntityError) as info:
        call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES, temperature=7))
    assert info.value.param == "temperature" and server.requests[-1].json["temperature"] == 7


def test_what_cannot_be_encoded_is_still_refused_before_sending(call: Any, server: MockServer) -> None:
    with pytest.raises(MeganovaError, match="temperature"):
        call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES, temperature=math.nan))
    with pytest.raises(MeganovaError, match="extra_headers"):
        call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES, extra_headers={"X-A": "a\r\nb"}))
    with pytest.raises(MeganovaError, match="generation_id"):
        call(lambda c: c.videos.get("../billing"))
    assert server.requests == []


def test_a_missing_required_argument_is_pythons_type_error(call: Any) -> None:
    with pytest.raises(TypeError, match="messages"):
        call(lambda c: c.chat.create(model=MODEL))


# --- 14.4 a misspelled keyword ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("temprature", "temperature"),
        ("max_token", "max_tokens"),
        ("Temperature", "temperature"),
        ("max_retires", "max_retries"),
    ],
)
def test_a_near_miss_keyword_is_a_type_error_naming_the_parameter(
    call: Any, server: MockServer, typo: str, meant: str
) -> None:
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{typo}'. Did you mean '{meant}'") as info:
        call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES, **{typo: 1}))
    assert "extra_body" in str(info.value)
    with pytest.raises(TypeError, match="Did you mean 'temperature'"):
        call(lambda c: c.chat.stream(model=MODEL, messages=MESSAGES, temprature=0.2))
    assert server.requests == []


def test_other_unknown_keywords_are_forwarded_and_extra_body_sends_anything(call: Any, server: MockServer) -> None:
    call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES, top_k=40, repetition_penalty=1.1))
    sent = server.requests[-1].json
    assert sent["top_k"] == 40 and sent["repetition_penalty"] == 1.1
    call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES, extra_body={"temprature": 0.3}))
    assert server.requests[-1].json["temprature"] == 0.3
    with pytest.raises(TypeError, match="Did you mean 'size'"):
        call(lambda c: c.images.generate("x", model="m", sizes="8x8"))


# --- 14.6 spellings users bring -----------------------------------------------------------------------


def test_every_error_class_is_exported_at_the_top_level() -> None:
    import meganova.errors as errors

    classes = [
        name
        for name in errors.__all__
        if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), BaseException)
    ]
    assert len(classes) >= 16
    for name in classes:
        assert getattr(meganova, name) is getattr(errors, name), name
        assert name in meganova.__all__
    assert meganova.RateLimitError is RateLimitError and meganova.VideoTimeoutError is VideoTimeoutError
    assert issubclass(VideoTimeoutError, meganova.APITimeoutError) and APIStatusError is meganova.APIError


def test_status_code_and_response_on_an_error_answer(call: Any, server: MockServer) -> None:
    server.enqueue(429, headers={"Retry-After": "120", "x-request-id": "req_limited"})
    with pytest.raises(RateLimitError) as info:
        call(lambda c: c.models.list())
    error = info.value
    assert error.status_code == 429 == error.status and error.request_id == "req_limited"
    assert error.response is not None and error.response.headers["retry-after"] == "120"
    with pytest.raises(NotFoundError) as missing:
        call(lambda c: c.models.get("nobody/none"))
    assert missing.value.status_code == 404 and missing.value.response is not None
    assert missing.value.response.json()["error"]["code"] == "model_not_found"
    assert MeganovaError("x").status is None  # client-side errors have no status nor response attribute


def test_with_options_and_copy_change_base_url_and_api_key(flavour: str, server: MockServer) -> None:
    with MockServer() as other:
        if flavour == "sync":
            client = MegaNova(api_key="sk-first", base_url=server.url)
            moved = client.with_options(base_url=other.url, api_key=other.api_key)
            copied = client.copy(max_retries=0, api_key="sk-copied")
            moved.models.list()
            with pytest.raises(meganova.AuthenticationError):  # the server knows its own key only
                copied.models.list()
            client.close()
        else:

            async def main() -> None:
                async with AsyncMegaNova(api_key="sk-first", base_url=server.url) as client:
                    moved = client.with_options(base_url=other.url, api_key=other.api_key)
                    copied = client.copy(max_retries=0, api_key="sk-copied")
                    await moved.models.list()
                    with pytest.raises(meganova.AuthenticationError):
                        await copied.models.list()

            run_async(main)
        assert other.requests[-1].headers["authorization"] == f"Bearer {other.api_key}"
        assert server.requests[-1].headers["authorization"] == "Bearer sk-copied"
    with pytest.raises(MeganovaError, match="base_url"):
        MegaNova(api_key="sk-x", base_url=server.url).with_options(base_url="ftp://nowhere")


def test_raw_response_on_streams_uploads_downloads_and_extras(call: Any, server: MockServer, tmp_path: Path) -> None:
    stream = call(lambda c: c.chat.with_raw_response.stream(model=MODEL, messages=MESSAGES))
    assert stream.response.status_code == 200 and stream.response.headers["x-request-id"]
    raw = call(lambda c: c.audio.with_raw_response.stt(b"RIFF....WAVE", filename="a.wav"))
    assert raw.status_code == 200 and raw.parse().text
    raw = call(lambda c: c.audio.with_raw_response.transcribe(b"RIFF....WAVE", filename="a.wav"))
    assert raw.request_id and raw.parse().text
    target = tmp_path / "welcome.mp3"
    raw = call(lambda c: c.audio.with_raw_response.tts_to_file(target, "Welcome.", **VOICE))
    assert raw.status_code == 200 and raw.parse() == target.stat().st_size > 0
    raw = call(lambda c: c.models.with_raw_response.list(capability="vision"))
    every = call(lambda c: c.models.list())
    assert raw.status_code == 200 and 0 < len(raw.parse()) < len(every)
    assert raw.parse().data == raw.parse()


def test_models_list_is_a_list_with_data(call: Any) -> None:
    models = call(lambda c: c.models.list())
    assert isinstance(models, list) and models.data is models and models[0].id


def test_openai_audio_spellings(call: Any, server: MockServer, tmp_path: Path) -> None:
    audio = call(lambda c: c.audio.speech.create("Welcome.", **VOICE))
    assert isinstance(audio, bytes) and audio == call(lambda c: c.audio.tts("Welcome.", **VOICE))
    written = call(lambda c: c.audio.speech.create_to_file(tmp_path / "a.mp3", "Welcome.", **VOICE))
    assert written == len(audio)
    text = call(lambda c: c.audio.transcriptions.create(b"RIFF....WAVE", filename="a.wav"))
    assert text.text and server.requests[-1].path == "/v1/audio/transcriptions"


def test_logprobs_are_sent_and_read(call: Any, server: MockServer) -> None:
    logprobs = {
        "content": [
            {"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": [{"token": "Hi", "logprob": -0.1}]}
        ],
        "refusal": None,
    }
    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi"},
                "finish_reason": "stop",
                "logprobs": logprobs,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    server.enqueue(200, answer)
    resp = call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES, logprobs=True, top_logprobs=2))
    assert server.requests[-1].json["logprobs"] is True and server.requests[-1].json["top_logprobs"] == 2
    token = resp.choices[0].logprobs.content[0]
    assert (token.token, token.logprob, token["bytes"]) == ("Hi", -0.1, [72, 105])
    assert token.top_logprobs[0].logprob == -0.1
    plain = call(lambda c: c.chat.create(model=MODEL, messages=MESSAGES))
    assert plain.choices[0].logprobs is None


def test_with_streaming_response_reads_the_body_lazily(server: MockServer) -> None:
    server.reset()
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        with client.chat.with_streaming_response.create(model=MODEL, messages=MESSAGES) as response:
            assert response.status_code == 200 and response.request_id
            first = response.parse()
            assert first.choices[0].message.content and response.parse() is first
        with client.chat.with_streaming_response.stream(model=MODEL, messages=MESSAGES) as response:
            lines = [line for line in response.iter_lines() if line]
        assert lines[-1] == "data: [DONE]" and json.loads(lines[0][6:])["object"] == "chat.completion.chunk"
        with client.audio.with_streaming_response.tts("Welcome.", **VOICE) as response:
            audio = b"".join(response.iter_bytes())
        assert audio == client.audio.tts("Welcome.", **VOICE)
        with client.chat.with_streaming_response.stream(model=MODEL, messages=MESSAGES) as response:
            text = "".join(chunk.delta for chunk in response.parse())
        assert text == first.choices[0].message.content
        refused = client.chat.with_streaming_response.create(model=MODEL, messages=[])
        with pytest.raises(BadRequestError), refused:  # an error answer raises on entering, as usual
            pass  # pragma: no cover


def test_async_with_streaming_response(server: MockServer) -> None:
    server.reset()

    async def main() -> None:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            async with client.chat.with_streaming_response.create(model=MODEL, messages=MESSAGES) as response:
                whole = await response.parse()
                assert whole.choices[0].message.content
            async with client.chat.with_streaming_response.stream(model=MODEL, messages=MESSAGES) as response:
                lines = [line async for line in response.iter_lines() if line]
            assert lines[-1] == "data: [DONE]"
            async with client.audio.with_streaming_response.tts("Welcome.", **VOICE) as response:
                audio = b"".join([piece async for piece in response.iter_bytes()])
            assert audio == await client.audio.tts("Welcome.", **VOICE)
            async with client.models.with_streaming_response.list() as response:
                assert len(await response.parse()) > 0

    run_async(main)


# --- 14.7 requests say what they do --------------------------------------------------------------------


def test_an_http_client_of_the_wrong_kind_is_refused_at_construction() -> None:
    with pytest.raises(MeganovaError, match=r"httpx\.Client"):
        MegaNova(api_key="sk-x", http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(MeganovaError, match=r"httpx\.AsyncClient"):
        AsyncMegaNova(api_key="sk-x", http_client=httpx.Client())  # type: ignore[arg-type]
    with pytest.raises(MeganovaError, match="got str"):
        MegaNova(api_key="sk-x", http_client="http://localhost")  # type: ignore[arg-type]


def test_raw_video_generate_honours_wait(call: Any, server: MockServer) -> None:
    raw = call(lambda c: c.videos.with_raw_response.generate("The harbor", model="m", wait=True, poll_interval=0.01))
    assert raw.status_code == 200 and str(raw.parse().status) == "completed"
    assert server.requests[-1].method == "GET"  # the last poll's answer


def test_on_progress_sees_every_state(call: Any, server: MockServer) -> None:
    seen: List[str] = []
    done = call(
        lambda c: c.videos.generate(
            "The harbor", model="m", wait=True, poll_interval=0.01, on_progress=lambda g: seen.append(str(g.status))
        )
    )
    polls = [r for r in server.requests if r.method == "GET"]
    assert seen[0] == "queued" and seen[-1] == "completed" == str(done.status) and len(seen) == len(polls) + 1


def test_async_on_progress_may_be_a_coroutine_function(server: MockServer) -> None:
    seen: List[str] = []

    async def progress(generation: Any) -> None:
        seen.append(str(generation.status))

    async def main() -> None:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            await client.videos.generate("x", model="m", wait=True, poll_interval=0.01, on_progress=progress)

    run_async(main)
    assert seen[0] == "queued" and seen[-1] == "completed"


# --- 13.6 one deadline for waits and polls -------------------------------------------------------------


def test_retry_after_is_cut_to_the_waits_deadline(call: Any, server: MockServer) -> None:
    server.enqueue()  # the create: the normal answer
    server.enqueue(429, headers={"Retry-After": "20"}, times=10)
    started = time.monotonic()
    with pytest.raises(VideoTimeoutError) as info:
        call(lambda c: c.videos.generate("x", model="m", wait=True, poll_interval=0.2, timeout=3))
    assert time.monotonic() - started < 3 + 10  # not 20 s per poll
    assert isinstance(info.value.__cause__, RateLimitError) and str(info.value.generation.status) == "queued"
    server.reset()


def test_backoff_retries_are_cut_to_the_deadline(server: MockServer) -> None:
    server.reset()
    server.enqueue()
    server.enqueue(503, times=200)
    client = MegaNova(api_key=server.api_key, base_url=server.url, max_retries=100)
    started = time.monotonic()
    with pytest.raises(VideoTimeoutError):
        client.videos.generate("x", model="m", wait=True, poll_interval=0.1, timeout=1.5)
    assert time.monotonic() - started < 1.5 + 10  # 100 retries with backoff would take minutes
    client.close()
    server.reset()


def test_a_poll_answer_for_another_job_is_refused(call: Any, server: MockServer) -> None:
    server.enqueue()
    server.enqueue(200, {"id": "vgen_someone_else", "object": "video.generation", "status": "completed", "model": "m"})
    with pytest.raises(APIResponseValidationError, match="vgen_someone_else"):
        call(lambda c: c.videos.generate("x", model="m", wait=True, poll_interval=0.01))
    created = server.requests[0]
    assert created.method == "POST" and server.requests[1].path.startswith("/v1/videos/generations/vgen_")
    assert "vgen_someone_else" not in server.requests[1].path


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"poll_interval": -1}, "poll_interval"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": math.nan}, "poll_interval"),
        ({"poll_interval": math.inf}, "poll_interval"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"on_progress": "print"}, "on_progress"),
    ],
)
def test_wait_arguments_are_checked_before_sending(call: Any, server: MockServer, kwargs: Any, name: str) -> None:
    with pytest.raises(MeganovaError, match=name):
        call(lambda c: c.videos.generate("x", model="m", wait=True, **kwargs))
    assert server.requests == []


def test_the_first_poll_comes_before_the_timeout_and_the_message_says_how_long(call: Any, server: MockServer) -> None:
    with pytest.raises(VideoTimeoutError) as info:
        call(lambda c: c.videos.generate("x", model="m", wait=True, poll_interval=5, timeout=0.3))
    polls = [r for r in server.requests if r.method == "GET"]
    assert len(polls) == 1  # polled once, at the deadline, not refused at once
    message = str(info.value)
    assert "timeout=0.3" in message and "after 5" not in message and "still" in message


# --- 14.8 logging -------------------------------------------------------------------------------------


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MEGANOVA_")}
    environment.update(env)
    environment.pop("PYTHONPATH", None)  # the meganova this Python has installed (the wheel, under make test)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parent,  # not the repository root, whose meganova/ lacks custom/
    )


_APP = """
import logging
{setup}
from meganova import MegaNova
from meganova.testing import MockServer
with MockServer() as server:
    server.enqueue(503)
    MegaNova(api_key=server.api_key, base_url=server.url)
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        client.models.list()
"""


@pytest.mark.parametrize("setup", ["", "logging.basicConfig(level=logging.DEBUG)", "logging.basicConfig()"])
def test_each_log_line_prints_once(setup: str) -> None:
    done = _run(_APP.format(setup=setup), MEGANOVA_LOG="info")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "/models -> 200" in line]
    assert len(lines) == 1, done.stderr
    assert len([line for line in done.stderr.splitlines() if "Retrying GET" in line]) == 1, done.stderr


def test_a_bad_meganova_log_warns_once() -> None:
    done = _run(_APP.format(setup=""), MEGANOVA_LOG="verbose")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("MEGANOVA_LOG='verbose'") == 1, done.stderr
    assert "-> 200" not in done.stderr


def test_every_attempt_logs_its_request_line_at_debug() -> None:
    done = _run(_APP.format(setup=""), MEGANOVA_LOG="debug")
    assert done.returncode == 0, done.stderr
    requests = [line for line in done.stderr.splitlines() if "Request" in line and "GET http" in line]
    assert len(requests) == 2 and "(attempt 2)" in requests[1], done.stderr
    assert "sk-" not in "".join(requests).replace("sk-***", "")


# --- 14.9 Studio from the environment -------------------------------------------------------------------


def test_cloud_agent_base_url_from_the_environment(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from meganova.cloud import AsyncCloudAgent, CloudAgent

    server.reset()
    monkeypatch.setenv("MEGANOVA_STUDIO_BASE_URL", server.root_url)
    with CloudAgent(AGENT_KEY) as agent:
        assert agent.info().name and server.url.rsplit("/v1", 1)[0] in repr(agent)

    async def main() -> None:
        async with AsyncCloudAgent(AGENT_KEY) as agent:
            reply = await agent.chat("Hello!")
            assert reply.response

    run_async(main)
    assert [r.path.split("/")[-1] for r in server.requests] == ["info", "chat"]


def test_embeddings_typed_by_encoding_format_work_as_before(call: Any, server: MockServer) -> None:
    plain = call(lambda c: c.embeddings.create(["a lantern", "a ferry"], "BAAI/bge-m3"))
    encoded = call(lambda c: c.embeddings.create("a lantern", "BAAI/bge-m3", encoding_format="base64"))
    vector = plain.data[0].embedding
    assert isinstance(vector, list) and all(isinstance(x, float) for x in vector)
    assert isinstance(encoded.data[0].embedding, str)
    assert encoded.data[0].floats() == pytest.approx(vector, rel=1e-6)
    raw = call(lambda c: c.embeddings.with_raw_response.create("a lantern", "BAAI/bge-m3"))
    assert raw.parse().data[0].floats() == plain.data[0].floats()


def test_openai_audio_spellings_have_raw_and_streaming_responses(call: Any, server: MockServer) -> None:
    audio = call(lambda c: c.audio.tts("Welcome.", **VOICE))
    raw = call(lambda c: c.audio.speech.with_raw_response.create("Welcome.", **VOICE))
    assert raw.status_code == 200 and raw.parse() == audio
    raw = call(lambda c: c.audio.transcriptions.with_raw_response.create(b"RIFF....WAVE", filename="a.wav"))
    assert raw.parse().text


def test_speech_with_streaming_response(flavour: str, server: MockServer, tmp_path: Path) -> None:
    server.reset()
    if flavour == "sync":
        with MegaNova(api_key=server.api_key, base_url=server.url) as client:
            with client.audio.speech.with_streaming_response.create("Welcome.", **VOICE) as response:
                pieces = list(response.iter_bytes())
            assert b"".join(pieces) == client.audio.tts("Welcome.", **VOICE)
        return

    async def main() -> None:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            async with client.audio.speech.with_streaming_response.create("Welcome.", **VOICE) as response:
                audio = await response.read()
            assert audio == await client.audio.tts("Welcome.", **VOICE)

    run_async(main)


def test_transcriptions_with_streaming_response(flavour: str, server: MockServer) -> None:
    server.reset()
    if flavour == "sync":
        with MegaNova(api_key=server.api_key, base_url=server.url) as client:
            transcriptions = client.audio.transcriptions
            with transcriptions.with_streaming_response.create(b"RIFF....WAVE", filename="a.wav") as response:
                assert response.status_code == 200
                assert response.parse().text == client.audio.transcribe(b"RIFF....WAVE", filename="a.wav").text
        return

    async def main() -> None:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            transcriptions = client.audio.transcriptions
            async with transcriptions.with_streaming_response.create(b"RIFF....WAVE", filename="a.wav") as response:
                text = (await response.parse()).text
            assert text == (await client.audio.transcribe(b"RIFF....WAVE", filename="a.wav")).text

    run_async(main)


def test_an_argument_of_the_wrong_python_type_is_a_type_error(mode: str) -> None:
    """Python types are checked as Python does: `messages="Hi"` is a TypeError, sent nowhere."""
    import httpx as _httpx

    sent: list = []
    transport = _httpx.MockTransport(lambda request: sent.append(request) or _httpx.Response(200, json={}))
    if mode == "sync":
        client = MegaNova(api_key="sk-test", http_client=_httpx.Client(transport=transport))
        with pytest.raises(TypeError, match="messages must be a list, got str"):
            client.chat.create(model="meganova-ai/manta-flash-1.0", messages="Hi")  # type: ignore[arg-type]
    else:
        client_a = AsyncMegaNova(api_key="sk-test", http_client=_httpx.AsyncClient(transport=transport))
        with pytest.raises(TypeError, match="messages must be a list, got str"):
            asyncio.run(client_a.chat.create(model="meganova-ai/manta-flash-1.0", messages="Hi"))  # type: ignore[arg-type]
    assert sent == []
