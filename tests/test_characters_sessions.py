"""Chat sessions over real loopback sockets (MockServer), sync and async: what is sent, streamed and not,
retries, errors and cut or cancelled streams (no half turn), memory policies, session_id, JSON, and the
SQLite store under concurrent threads and processes."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from meganova import AsyncMegaNova, MegaNova, MeganovaError
from meganova.characters import (
    AsyncChatSession,
    Character,
    CharacterBook,
    ChatSession,
    LorebookEntry,
    SessionStore,
    TokenBudgetMemory,
    WindowMemory,
)
from meganova.errors import APIConnectionError, BadRequestError
from meganova.testing import MockServer

MODEL = "meganova-ai/manta-flash-1.0"


def luna() -> Character:
    return Character(
        name="Luna",
        description="{{char}} keeps a noodle stand.",
        first_mes="Evening, {{user}}.",
        post_history_instructions="Stay in character.",
        character_book=CharacterBook(entries=[LorebookEntry(keys=["pier"], content="Pier Nine glows.")]),
    )


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Driver:
    """One session API for both flavours: each call runs to completion."""

    def __init__(self, mode: str, server: MockServer, **kwargs: Any) -> None:
        self.mode = mode
        if mode == "sync":
            self.client: Any = MegaNova(api_key=server.api_key, base_url=server.url, max_retries=2)
            self.session: Any = self.client.chat.session(**kwargs)
        else:
            self.loop = asyncio.new_event_loop()
            self.client = AsyncMegaNova(api_key=server.api_key, base_url=server.url, max_retries=2)
            self.session = self.client.chat.session(**kwargs)

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def send(self, text: str) -> str:
        if self.mode == "sync":
            return str(self.session.send(text).choices[0].message.content)
        return str(self.run(self.session.send(text)).choices[0].message.content)

    def stream(self, text: str) -> str:
        if self.mode == "sync":
            return "".join(chunk.delta for chunk in self.session.stream(text))

        async def go() -> str:
            parts = []
            async for chunk in await self.session.stream(text):
                parts.append(chunk.delta)
            return "".join(parts)

        return str(self.run(go()))

    def stream_first_then_close(self, text: str) -> str:
        if self.mode == "sync":
            stream = self.session.stream(text)
            first = next(iter(stream)).delta
            stream.close()
            return str(first)

        async def go() -> str:
            stream = await self.session.stream(text)
            first = (await stream.__anext__()).delta
            await stream.close()
            return str(first)

        return str(self.run(go()))

    def close(self) -> None:
        if self.mode == "sync":
            self.client.close()
        else:
            self.run(self.client.close())
            self.loop.close()


@pytest.fixture
def driver_factory(mode: str, server: MockServer) -> Iterator[Any]:
    made: List[Driver] = []

    def make(**kwargs: Any) -> Driver:
        made.append(Driver(mode, server, **kwargs))
        return made[-1]

    yield make
    for driver in made:
        driver.close()


def sent(server: MockServer) -> List[Dict[str, Any]]:
    body = server.requests[-1].json
    assert isinstance(body, dict)
    return list(body["messages"])


def test_send_sends_character_history_and_new_message(server: MockServer, driver_factory: Any) -> None:
    d = driver_factory(character=luna(), model=MODEL, user="Ana")
    first = d.send("Hi Luna, the pier is dark.")
    assert first
    messages = sent(server)
    assert messages[0]["role"] == "system" and "Luna keeps a noodle stand." in messages[0]["content"]
    assert "Pier Nine glows." in messages[0]["content"]  # the lorebook saw the new message
    assert messages[1:] == [
        {"role": "assistant", "content": "Evening, Ana."},
        {"role": "user", "content": "Hi Luna, the pier is dark."},
        {"role": "system", "content": "Stay in character."},
    ]
    assert server.requests[-1].json["model"] == MODEL
    second = d.stream("And the tide?")
    assert second
    messages = sent(server)
    assert messages[1:-1] == [
        {"role": "assistant", "content": "Evening, Ana."},
        {"role": "user", "content": "Hi Luna, the pier is dark."},
        {"role": "assistant", "content": first},
        {"role": "user", "content": "And the tide?"},
    ]
    assert server.requests[-1].json["stream"] is True
    assert [m["content"] for m in d.session.history] == [
        "Evening, Ana.",
        "Hi Luna, the pier is dark.",
        first,
        "And the tide?",
        second,
    ]


def test_retried_request_records_one_turn(server: MockServer, driver_factory: Any, tmp_path: Path) -> None:
    store = SessionStore(str(tmp_path / "s.db"))
    d = driver_factory(character=luna(), model=MODEL, store=store, name="ana")
    server.enqueue(status=503, headers={"Retry-After": "0"})
    d.send("Hi")
    server.enqueue(status=429, headers={"Retry-After": "0"})
    d.stream("Again")
    assert len(server.requests) == 4
    assert len(d.session.history) == 5
    assert [m["role"] for m in store.messages("ana")] == ["assistant", "user", "assistant", "user", "assistant"]
    store.close()


def test_an_error_records_nothing_and_sending_again_records_once(
    server: MockServer, driver_factory: Any, tmp_path: Path
) -> None:
    store = SessionStore(str(tmp_path / "s.db"))
    d = driver_factory(character=luna(), model=MODEL, store=store, name="ana")
    server.enqueue(status=400)
    with pytest.raises(BadRequestError):
        d.send("Hi")
    server.enqueue(status=400)
    with pytest.raises(BadRequestError):
        d.stream("Hi")
    assert len(d.session.history) == 1 and len(store.messages("ana")) == 1
    d.send("Hi")
    assert len(d.session.history) == 3 and len(store.messages("ana")) == 3
    store.close()


def test_cut_stream_records_no_half_turn(server: MockServer, driver_factory: Any, tmp_path: Path) -> None:
    store = SessionStore(str(tmp_path / "s.db"))
    d = driver_factory(character=luna(), model=MODEL, store=store, name="ana")
    server.enqueue(drop_after_events=3)
    with pytest.raises(APIConnectionError):
        d.stream("Hi")
    server.enqueue(error_after_events=2)
    with pytest.raises(MeganovaError):
        d.stream("Hi")
    assert len(d.session.history) == 1 and len(store.messages("ana")) == 1
    store.close()


def test_stream_closed_mid_answer_records_nothing(server: MockServer, driver_factory: Any, tmp_path: Path) -> None:
    store = SessionStore(str(tmp_path / "s.db"))
    d = driver_factory(character=luna(), model=MODEL, store=store, name="ana")
    server.enqueue(chunk_delay=0.05)
    d.stream_first_then_close("Hi")  # one chunk read, then closed: the answer never completes
    assert len(d.session.history) == 1 and len(store.messages("ana")) == 1
    answer = d.stream("Hi")
    assert answer and len(store.messages("ana")) == 3
    store.close()


def test_async_task_cancelled_mid_answer_records_nothing(server: MockServer, tmp_path: Path) -> None:
    store = SessionStore(str(tmp_path / "s.db"))

    async def main() -> None:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            session = client.chat.session(character=luna(), model=MODEL, store=store, name="ana")
            server.enqueue(chunk_delay=0.5)
            started = asyncio.Event()

            async def consume() -> None:
                async for _chunk in await session.stream("Hi"):
                    started.set()

            task = asyncio.ensure_future(consume())
            await asyncio.wait_for(started.wait(), 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert len(session.history) == 1
            await session.send("Hi")
            assert len(session.history) == 3

    asyncio.run(main())
    assert [m["role"] for m in store.messages("ana")] == ["assistant", "user", "assistant"]
    store.close()


def test_window_memory(server: MockServer, driver_factory: Any) -> None:
    d = driver_factory(model=MODEL, memory=WindowMemory(3), system="Be brief.")
    for text in ("one", "two", "three"):
        d.send(text)
    messages = sent(server)
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert [m["role"] for m in messages[1:]] == ["user", "assistant", "user"]
    assert messages[-1] == {"role": "user", "content": "three"} and messages[1]["content"] == "two"
    assert len(d.session.history) == 6  # the history itself is whole


def test_token_budget_from_the_models_context_length(server: MockServer, driver_factory: Any) -> None:
    d = driver_factory(model="meganova-ai/manta-mini-1.0", memory=TokenBudgetMemory(reserve_tokens=16384 - 300))
    long = "word " * 200  # about 250 tokens each
    d.send(long + "1")
    d.send(long + "2")
    assert server.requests[0].path.startswith("/v1/models/") or "/models" in server.requests[0].path
    messages = sent(server)
    assert messages == [{"role": "user", "content": long + "2"}]  # 300 - framing leaves room for one
    assert len([r for r in server.requests if "/models" in r.path]) == 1  # fetched once


def test_token_budget_summarize_hook(server: MockServer, mode: str) -> None:
    calls: List[int] = []

    def summarize(dropped: List[Dict[str, Any]]) -> str:
        calls.append(len(dropped))
        return f"{len(dropped)} earlier messages"

    async def asummarize(dropped: List[Dict[str, Any]]) -> str:
        return summarize(dropped)

    memory = TokenBudgetMemory(max_tokens=120, summarize=summarize if mode == "sync" else asummarize)
    d = Driver(mode, server, model=MODEL, memory=memory)
    try:
        for i in range(4):
            d.send(f"message number {i} " + "x" * 120)
        messages = sent(server)
        assert messages[0]["role"] == "system" and messages[0]["content"].startswith("Summary of the earlier")
        assert messages[-1]["content"].startswith("message number 3")
        assert calls and calls == sorted(set(calls))  # called again only when more fell out
    finally:
        d.close()


def test_session_id_passes_through(server: MockServer, driver_factory: Any) -> None:
    d = driver_factory(session_id="sess_123")
    d.send("Hi")
    d.send("More")
    body = server.requests[-1].json
    assert body["session_id"] == "sess_123" and "model" not in body
    assert body["messages"] == [{"role": "user", "content": "More"}]
    assert len(d.session.history) == 4


def test_no_model_no_session_is_refused(server: MockServer, driver_factory: Any) -> None:
    d = driver_factory(character=luna())
    with pytest.raises(MeganovaError):
        d.send("Hi")
    assert server.requests == []


def test_to_json_and_from_json(server: MockServer) -> None:
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        session = client.chat.session(character=luna(), model=MODEL, user="Ana", temperature=0.5)
        session.send("Hi")
        text = session.to_json()
        again = ChatSession.from_json(client.chat, text)
        assert again.history == session.history and again.model == MODEL
        assert again.character is not None and again.character.to_dict() == luna().to_dict()
        again.send("More")
        assert server.requests[-1].json["temperature"] == 0.5
        assert sent(server)[1:4] == session.history
        with pytest.raises(MeganovaError):
            ChatSession.from_json(client.chat, "{}")
        with pytest.raises(MeganovaError):
            ChatSession.from_json(client.chat, "{nope")

    async def main() -> None:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            session = AsyncChatSession.from_json(client.chat, text)
            await session.send("Async")
            assert len(session.history) == 5

    asyncio.run(main())


def test_store_resumes_a_session_by_name(server: MockServer, tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        with SessionStore(path) as store:
            session = client.chat.session(character=luna(), model=MODEL, store=store, name="ana", user="Ana")
            session.send("Hi")
        with SessionStore(path) as store:
            resumed = client.chat.session(store=store, name="ana")
            assert resumed.history == session.history and resumed.model == MODEL
            assert resumed.character is not None and resumed.character.name == "Luna"
            resumed.send("Back")
            assert sent(server)[1:4] == session.history
            assert len(store.messages("ana")) == 5 and store.names() == ["ana"]
            store.delete("ana")
            assert store.names() == [] and store.messages("ana") == []


def test_record_turn_twice_keeps_one() -> None:
    store = SessionStore(":memory:")
    store.save_state("a", {})
    assert store.record_turn("a", "t1", [{"role": "user", "content": "x"}]) is True
    assert store.record_turn("a", "t1", [{"role": "user", "content": "x"}]) is False
    assert store.messages("a") == [{"role": "user", "content": "x"}]
    store.close()
    with pytest.raises(MeganovaError):
        store.messages("a")


def _write_turns(path: str, session: str, writer: int, count: int) -> None:
    store = SessionStore(path)
    store.save_state(session, {"writer": writer})
    for i in range(count):
        turn = [{"role": "user", "content": f"{writer}:{i}"}, {"role": "assistant", "content": f"re {writer}:{i}"}]
        assert store.record_turn(session, f"{writer}-{i}", turn)
        assert not store.record_turn(session, f"{writer}-{i}", turn)  # a retry never duplicates
    store.close()


def _check_turns(messages: List[Dict[str, Any]], writers: List[int], count: int) -> None:
    assert len(messages) == 2 * len(writers) * count
    for user, answer in zip(messages[::2], messages[1::2]):  # every turn whole, never interleaved
        assert user["role"] == "user" and answer == {"role": "assistant", "content": "re " + user["content"]}
    for writer in writers:
        mine = [m["content"] for m in messages[::2] if m["content"].startswith(f"{writer}:")]
        assert mine == [f"{writer}:{i}" for i in range(count)]


def test_concurrent_threads_one_store(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    store = SessionStore(path)
    errors: List[BaseException] = []

    def work(writer: int) -> None:
        try:
            store.save_state("shared", {})
            for i in range(25):
                turn = [
                    {"role": "user", "content": f"{writer}:{i}"},
                    {"role": "assistant", "content": f"re {writer}:{i}"},
                ]
                store.record_turn("shared", f"{writer}-{i}", turn)
                store.record_turn("shared", f"{writer}-{i}", turn)
            _write_turns(path, f"own-{writer}", writer, 5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors and not any(t.is_alive() for t in threads)
    _check_turns(store.messages("shared"), list(range(6)), 25)
    for writer in range(6):
        _check_turns(store.messages(f"own-{writer}"), [writer], 5)
    store.close()


def test_concurrent_processes_one_store(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    SessionStore(path).close()
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write_turns, args=(path, "shared", n, 20)) for n in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    with SessionStore(path) as store:
        _check_turns(store.messages("shared"), list(range(4)), 20)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


CRASH = """
import os, sys
from meganova.characters import SessionStore
store = SessionStore(sys.argv[1])
store.save_state("s", {})
store.record_turn("s", "t1", [{"role": "user", "content": "kept"}, {"role": "assistant", "content": "kept too"}])
db = store._connection()
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO turns (session, turn_id, created) VALUES ('s', 't2', 0)")
db.execute("INSERT INTO messages (session, turn_id, message) VALUES ('s', 't2', '{\\"role\\": \\"user\\"}')")
os._exit(9)  # a crash in the middle of writing a turn
"""


def test_a_crash_mid_write_keeps_earlier_turns_and_no_half_turn(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    done = subprocess.run([sys.executable, "-c", CRASH, path], timeout=120)
    assert done.returncode == 9
    with SessionStore(path) as store:
        assert store.messages("s") == [
            {"role": "user", "content": "kept"},
            {"role": "assistant", "content": "kept too"},
        ]
        assert store.record_turn("s", "t2", [{"role": "user", "content": "x"}])  # t2 never happened


def test_store_errors_are_meganova_errors(tmp_path: Path) -> None:
    with pytest.raises(MeganovaError):
        SessionStore(str(tmp_path / "no" / "such" / "folder" / "s.db"))
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(MeganovaError):
        SessionStore(str(tmp_path / "junk.db"))
    with pytest.raises(MeganovaError):
        MegaNova(api_key="k", base_url="http://127.0.0.1:9/v1").chat.session(store=SessionStore(":memory:"))


def test_session_json_is_plain_json(server: MockServer) -> None:
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        session = client.chat.session(character=luna(), model=MODEL)
        value = json.loads(session.to_json())
        assert value["character"]["data"]["name"] == "Luna" and value["history"][0]["role"] == "assistant"
        assert os.fspath(repr(session)).startswith("ChatSession(character='Luna'")


def test_agent_session_same_send_interface_kept_in_the_store(server: MockServer, tmp_path: Path) -> None:
    from meganova.characters import AgentSession, AsyncAgentSession
    from meganova.cloud import AsyncCloudAgent, CloudAgent
    from meganova.testing import AGENT_KEY

    path = str(tmp_path / "s.db")
    with SessionStore(path) as store, CloudAgent(AGENT_KEY, base_url=server.root_url) as agent:
        session = AgentSession(agent.conversation(), store=store, name="agent")
        reply = session.send("Hello")
        assert reply.response and session.conversation_id
        session.send("And again")
        assert [m["role"] for m in session.history] == ["user", "assistant", "user", "assistant"]
        assert store.messages("agent") == session.history
        conversation_id = session.conversation_id
    with SessionStore(path) as store, CloudAgent(AGENT_KEY, base_url=server.root_url) as agent:
        resumed = AgentSession(agent.conversation(), store=store, name="agent")
        assert resumed.conversation_id == conversation_id and len(resumed.history) == 4
        resumed.send("Third")
        body = server.requests[-1].json
        assert isinstance(body, dict) and body.get("conversation_id") == conversation_id

    async def main() -> None:
        async with AsyncCloudAgent(AGENT_KEY, base_url=server.root_url) as agent:
            session = AsyncAgentSession(agent.conversation())
            assert (await session.send("Hi")).response
            assert len(session.history) == 2

    asyncio.run(main())


def test_per_call_options_go_with_every_turn_but_are_not_saved(server: MockServer, tmp_path: Path) -> None:
    import httpx

    with MegaNova(api_key=server.api_key, base_url=server.url) as client, SessionStore(str(tmp_path / "s.db")) as store:
        session = client.chat.session(
            model=MODEL, store=store, name="x", timeout=httpx.Timeout(30.0), max_retries=0, temperature=0.2
        )
        server.enqueue(status=503, headers={"Retry-After": "0"})
        with pytest.raises(MeganovaError):
            session.send("Hi")
        assert len(server.requests) == 1  # max_retries=0 reached the call
        session.send("Hi", extra_headers={"X-Test": "1"})
        assert server.requests[-1].headers["x-test"] == "1" and server.requests[-1].json["temperature"] == 0.2
        assert "timeout" not in session.to_json() and json.loads(session.to_json())["params"] == {"temperature": 0.2}
