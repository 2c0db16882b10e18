"""The API key never appears in a repr, on every object a user can reach: clients (also after `raw` was
used, and through `vars()`), the raw client, options, streams of both shapes, answers, `APIResponse`s,
errors, Studio agents. Over real HTTP against MockServer.

Issue 13.5: one scrubber knows every secret a client holds (its key, a Studio agent's key in the path,
proxy credentials from the environment): no error (str, repr, args, traceback with locals), no log
record of `meganova`, `httpx` or `httpcore` (caplog and a real handler) shows one; masks name the kind.
Over real sockets (MockServer, the hostile server), sync and async."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import socket
import traceback
from typing import Any, Iterator, List

import pytest
from hostile_streams_server import HostileServer, chunk, event, head

from meganova import AsyncMegaNova, MegaNova
from meganova.cloud import AsyncCloudAgent, CloudAgent
from meganova.custom.runtime.secrets import MaskedStr, Secret, scrub
from meganova.errors import APIConnectionError, APIError, MeganovaError
from meganova.testing import AGENT_KEY, MockServer

KEY = "sk-secret-7b3e9f1a2c4d5e6f"
MESSAGES = [{"role": "user", "content": "Hi"}]
MODEL = "meganova-ai/manta-flash-1.0"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY, chat_models=None) as running:
        yield running


def shown(objects: List[Any]) -> str:
    parts = []
    for obj in objects:
        parts.append(repr(obj))
        parts.append(str(obj))
        if hasattr(obj, "__dict__"):
            parts.append(repr(vars(obj)))
    return "\n".join(parts)


def test_no_repr_shows_the_key(server: MockServer) -> None:
    client = MegaNova(api_key=KEY, base_url=server.url)
    raw = client.raw  # once `raw` was used, vars(client) holds it
    answer = client.chat.create(model=MODEL, messages=MESSAGES)
    stream = client.chat.stream(model=MODEL, messages=MESSAGES)
    chunks = list(stream)
    openai_stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    events = list(openai_stream)
    raw_answer = client.models.with_raw_response.list()
    try:
        client.models.get("meganova-ai/no-such-model")
    except MeganovaError as exc:
        error: Any = exc
    bad = MegaNova(api_key="sk-wrong-key-000000", base_url=server.url, max_retries=0)
    try:
        bad.billing.get_balance()
    except MeganovaError as exc:
        auth_error: Any = exc
    agent = CloudAgent(AGENT_KEY, base_url=server.root_url)
    everything = [
        client,
        raw,
        client._options,
        client.with_options(timeout=5),
        answer,
        stream,
        chunks[0],
        chunks[-1],
        openai_stream,
        events[0],
        raw_answer,
        raw_answer.parse(),
        error,
        agent,
        agent.chat("Hello!"),
    ]
    text = shown(everything)
    assert KEY not in text
    assert AGENT_KEY not in shown([agent, agent._client, agent._client._options])
    assert "sk-wrong-key-000000" not in shown([bad, auth_error])
    client.close()


def test_no_repr_of_the_async_client_shows_the_key(server: MockServer) -> None:
    async def main() -> str:
        async with AsyncMegaNova(api_key=KEY, base_url=server.url) as client:
            raw = client.raw
            stream = await client.chat.stream(model=MODEL, messages=MESSAGES)
            chunks = [chunk async for chunk in stream]
            return shown([client, raw, client._options, stream, chunks[0]])

    assert KEY not in asyncio.run(main())


# --- issue 13.5: one scrubber for every secret, on every error path, in every log record --------------

AGENT = "agent_live-9f8e7d6c5b4a39281706"
"""A Studio agent key (module level: no test frame holds it in a local, as tracebacks with locals would show)."""
PROXY_PASSWORD = "pr0xy-pa55w0rd-31415"


def everything_shown(exc: BaseException) -> str:
    """All an error can show: str, repr, args, and its traceback with every frame's locals (causes too)."""
    trace = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    return "\n".join([str(exc), repr(exc), repr(exc.args), trace])


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def cut_after_first_chunk(conn: socket.socket, request: Any) -> bool:
    """A stream that sends one chunk, then the connection drops (no end of the chunked body)."""
    conn.sendall(head() + chunk(event("Hello")))
    conn.shutdown(socket.SHUT_RDWR)
    return False


def test_secrets_have_masks_naming_their_kind() -> None:
    assert repr(Secret("sk-abc-123")) == "Secret('sk-***')" and str(Secret("sk-abc-123")) == "sk-***"
    assert repr(Secret(AGENT)) == "Secret('agent_***')"
    assert scrub(f"/agents/v1/{AGENT}/info and {KEY}", Secret(AGENT)) == f"/agents/v1/agent_***/info and {KEY}"
    assert scrub({"k": [f"x{KEY}"], KEY: b"a" + KEY.encode()}, KEY) == {"k": ["xsk-***"], "sk-***": b"ask-***"}
    path = MaskedStr(f"/agents/v1/{AGENT}/chat", AGENT)
    assert path == f"/agents/v1/{AGENT}/chat" and AGENT not in repr(path) and "agent_***" in repr(path)
    client = MegaNova(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    assert repr(client._options.api_key) == "Secret('sk-***')"
    assert KEY not in repr(client._options.headers) and "<redacted>" in repr(client._options.headers)
    agent = CloudAgent(AGENT, base_url="http://127.0.0.1:9")
    assert repr(agent._key) == "'agent_***'" and repr(agent._client._options.api_key) == "Secret('agent_***')"
    client.close()
    agent.close()


def test_a_cloud_agent_stream_cut_after_its_first_chunk_shows_no_key(mode: str) -> None:
    with HostileServer(cut_after_first_chunk) as server:
        root = server.url[: -len("/v1")]

        def sync() -> BaseException:
            agent = CloudAgent(AGENT, base_url=root, max_retries=0)
            stream = agent.completions(MESSAGES, stream=True)
            with pytest.raises(APIConnectionError) as info:
                for _ in stream:
                    pass
            agent.close()
            return info.value

        async def run_async() -> BaseException:
            agent = AsyncCloudAgent(AGENT, base_url=root, max_retries=0)
            stream = await agent.completions(MESSAGES, stream=True)
            with pytest.raises(APIConnectionError) as info:
                async for _ in stream:
                    pass
            await agent.close()
            return info.value

        error = sync() if mode == "sync" else asyncio.run(run_async())
    text = everything_shown(error)
    assert AGENT not in text
    assert "agent_***" in str(error) and "sk-***" not in str(error)  # the mask names the kind


def test_errors_of_sdk_calls_show_no_key_in_tracebacks_with_locals(mode: str) -> None:
    dead = closed_port_url()
    with MockServer(api_key=KEY, agent_keys=[AGENT]) as server:

        def sync() -> List[BaseException]:
            errors: List[BaseException] = []
            calls = [
                lambda: MegaNova(api_key=KEY, base_url=dead + "/v1", max_retries=0).models.list(),
                lambda: MegaNova(api_key=KEY, base_url=server.url, max_retries=0).models.get("no/such-model"),
                lambda: CloudAgent(AGENT, base_url=dead, max_retries=0).info(),
                lambda: CloudAgent(AGENT, base_url=dead, max_retries=0).completions(MESSAGES, stream=True),
                lambda: CloudAgent(AGENT + "x", base_url=server.root_url, max_retries=0).info(),
            ]
            for call in calls:
                with pytest.raises(MeganovaError) as info:
                    call()
                errors.append(info.value)
            return errors

        async def run_async() -> List[BaseException]:
            errors: List[BaseException] = []
            calls = [
                lambda: AsyncMegaNova(api_key=KEY, base_url=dead + "/v1", max_retries=0).models.list(),
                lambda: AsyncMegaNova(api_key=KEY, base_url=server.url, max_retries=0).models.get("no/such-model"),
                lambda: AsyncCloudAgent(AGENT, base_url=dead, max_retries=0).info(),
                lambda: AsyncCloudAgent(AGENT, base_url=dead, max_retries=0).completions(MESSAGES, stream=True),
                lambda: AsyncCloudAgent(AGENT + "x", base_url=server.root_url, max_retries=0).info(),
            ]
            for call in calls:
                with pytest.raises(MeganovaError) as info:
                    await call()
                errors.append(info.value)
            return errors

        errors = sync() if mode == "sync" else asyncio.run(run_async())
    assert [type(e).__name__ for e in errors][:2] == ["APIConnectionError", "NotFoundError"]
    for error in errors:
        text = everything_shown(error)
        assert KEY not in text and AGENT not in text, text
    assert "agent_***" in str(errors[2])


def agent_calls_logged(server: MockServer, mode: str) -> None:
    """A few Studio agent calls (the key in the path of each), and an API call (the key in a header)."""
    if mode == "sync":
        with CloudAgent(AGENT, base_url=server.root_url) as agent:
            agent.info()
            agent.chat("Hello!")
            "".join(c.choices[0].delta.content or "" for c in agent.completions(MESSAGES, stream=True) if c.choices)
        with MegaNova(api_key=KEY, base_url=server.url) as client:
            client.chat.create(model=MODEL, messages=MESSAGES)
        return

    async def main() -> None:
        async with AsyncCloudAgent(AGENT, base_url=server.root_url) as agent:
            await agent.info()
            await agent.chat("Hello!")
            async for _ in await agent.completions(MESSAGES, stream=True):
                pass
        async with AsyncMegaNova(api_key=KEY, base_url=server.url) as client:
            await client.chat.create(model=MODEL, messages=MESSAGES)

    asyncio.run(main())


def test_no_log_record_of_httpx_httpcore_or_meganova_shows_a_key(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    # a real handler too, as an app configures one (on the root logger, formatting every record)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "meganova")}
    try:
        for name in levels:
            logging.getLogger(name).setLevel(logging.DEBUG)
        caplog.set_level(logging.DEBUG)
        with MockServer(api_key=KEY, agent_keys=[AGENT]) as server:
            agent_calls_logged(server, mode)
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    messages = [record.getMessage() for record in caplog.records]
    names = {record.name.split(".")[0] for record in caplog.records}
    assert {"httpx", "httpcore", "meganova"} <= names  # every logger spoke, at DEBUG and INFO
    http_lines = [m for m in messages if m.startswith("HTTP Request:") and "/agents/v1/" in m]
    assert http_lines and all("/agents/v1/agent_***/" in m for m in http_lines)  # httpx's own INFO line
    written = stream.getvalue()
    assert "HTTP Request:" in written and "send_request_headers" in written
    for text in [*messages, written]:
        assert AGENT not in text and KEY not in text


def proxy_refusing(conn: socket.socket, request: Any) -> bool:
    """A proxy that refuses the request, echoing the credentials it was given."""
    given = request.headers.get("proxy-authorization", "")
    body = json.dumps({"error": {"message": f"proxy says no to {given} ({PROXY_PASSWORD})", "code": given}})
    conn.sendall(
        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode())
    )
    return False


def test_proxy_credentials_from_the_environment_are_scrubbed(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with HostileServer(proxy_refusing) as proxy:
        port = proxy.url.split(":")[-1].split("/")[0]
        for name in ("HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "all_proxy", "no_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://meganova-user:{PROXY_PASSWORD}@127.0.0.1:{port}")

        def sync() -> APIError:
            with MegaNova(api_key=KEY, base_url="http://api.meganova.test/v1", max_retries=0) as client:
                with pytest.raises(APIError) as info:
                    client.models.list()
                return info.value

        async def run_async() -> APIError:
            async with AsyncMegaNova(api_key=KEY, base_url="http://api.meganova.test/v1", max_retries=0) as client:
                with pytest.raises(APIError) as info:
                    await client.models.list()
                return info.value

        error = sync() if mode == "sync" else asyncio.run(run_async())
        assert proxy.requests and proxy.requests[0].headers.get("proxy-authorization")  # the proxy got them
    sent = base64.b64encode(f"meganova-user:{PROXY_PASSWORD}".encode()).decode()
    text = everything_shown(error) + json.dumps(error.body)
    assert error.status == 407 and PROXY_PASSWORD not in text and sent not in text
    assert "***" in error.message


def test_secrets_freed_by_the_cyclic_gc_while_one_registers_do_not_deadlock() -> None:
    """A `Secret` freed by the cyclic GC runs its weakref callback in whatever thread allocated, also inside
    the registry's lock (a new `Secret` being registered): with a plain Lock that hung on Python 3.13."""
    import subprocess
    import sys

    script = """
import gc
from meganova.custom.runtime.secrets import Secret
gc.set_threshold(1, 1, 1)
for i in range(20000):
    secret = Secret("sk-%d" % i)
    cycle = []
    cycle.append(cycle)
    cycle.append(secret)  # freed only by the cyclic GC, at some later allocation
    del secret, cycle
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
