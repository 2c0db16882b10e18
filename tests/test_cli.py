"""The `meganova` command, run in subprocesses: `--mock`, the REPL fed from a pipe, sessions kept in the
store, exit codes, one-line errors, Ctrl-C (also mid-answer: no half turn stored), the console script."""

from __future__ import annotations

import base64
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import IO, Dict, Iterator, List, Optional

import pytest

from meganova.characters import SessionStore
from meganova.testing import MockServer

TIMEOUT = 120
CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Luna",
        "description": "{{char}} keeps a noodle stand.",
        "personality": "",
        "scenario": "",
        "first_mes": "Evening, {{user}}.",
        "mes_example": "",
        "creator_notes": "",
        "system_prompt": "",
        "post_history_instructions": "",
        "alternate_greetings": ["Back again?"],
        "character_book": {"extensions": {}, "entries": []},
        "tags": ["cozy"],
        "creator": "harborworks",
        "character_version": "1",
        "extensions": {},
    },
}


def png_card(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    text = b"chara\x00" + base64.b64encode(json.dumps(CARD).encode())
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))
        + chunk(b"tEXt", text)
        + chunk(b"IEND", b"")
    )
    return path


def env(**values: Optional[str]) -> Dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("MEGANOVA_")}
    out.update({k: v for k, v in values.items() if v is not None})
    return out


def run(args: List[str], stdin: str = "", **env_values: Optional[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meganova", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env(**env_values),
    )


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def test_models_balance_usage_with_mock() -> None:
    models = run(["--mock", "models"])
    assert models.returncode == 0, models.stderr
    assert "meganova-ai/manta-flash-1.0\t32768" in models.stdout.splitlines()
    balance = run(["balance", "--mock"])
    assert balance.returncode == 0 and balance.stdout == "42.5 USD\n"
    usage = run(["usage", "--mock", "--days", "7"])
    assert usage.returncode == 0 and usage.stdout.startswith("requests ") and "cost " in usage.stdout


def test_reads_the_key_and_base_url_from_the_environment(server: MockServer) -> None:
    done = run(["balance"], MEGANOVA_API_KEY=server.api_key, MEGANOVA_BASE_URL=server.url)
    assert done.returncode == 0 and done.stdout == "42.5 USD\n"
    assert server.requests[-1].path == "/v1/billing/balance"


def test_api_error_is_one_line_exit_1_and_never_shows_the_key(server: MockServer) -> None:
    key = "sk-wrong-0123456789abcdef"
    done = run(["models"], MEGANOVA_API_KEY=key, MEGANOVA_BASE_URL=server.url)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "AuthenticationError" in done.stderr
    assert key not in done.stderr + done.stdout
    debug = run(["models", "--debug"], MEGANOVA_API_KEY=key, MEGANOVA_BASE_URL=server.url)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and key not in debug.stderr


def test_refused_connection_is_exit_1() -> None:
    done = run(["balance"], MEGANOVA_API_KEY="sk-x", MEGANOVA_BASE_URL="http://127.0.0.1:9/v1")
    assert done.returncode == 1 and done.stderr.startswith("meganova: APIConnectionError")


def test_usage_errors_exit_2() -> None:
    for args in (["models"], ["nope"], ["chat", "--greeting", "x", "--mock"], ["character"], ["usage", "--days", "0"]):
        done = run(args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("meganova: ") and done.stderr.count("\n") == 1, done.stderr
    assert "MEGANOVA_API_KEY" in run(["models"]).stderr
    assert run([]).returncode == 2
    assert run(["--help"]).returncode == 0


def test_character_show(tmp_path: Path) -> None:
    card = png_card(tmp_path / "luna.png")
    done = run(["character", "show", str(card)])
    assert done.returncode == 0, done.stderr
    assert "name: Luna" in done.stdout and "spec: chara_card_v2 2.0" in done.stdout
    assert "greetings: 2" in done.stdout and "lorebook: 0 entries" in done.stdout
    as_json = run(["character", "show", str(card), "--json"])
    assert json.loads(as_json.stdout) == CARD


def test_bad_card_exit_3(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    done = run(["character", "show", str(tmp_path / "bad.png")])
    assert done.returncode == 3 and done.stderr.count("\n") == 1 and "PNG" in done.stderr
    debug = run(["character", "show", str(tmp_path / "bad.png"), "--debug"])
    assert debug.returncode == 3 and "Traceback" in debug.stderr
    assert run(["chat", "--mock", "--character", str(tmp_path / "missing.png")]).returncode == 3


def test_chat_repl_from_a_pipe_keeps_the_session(tmp_path: Path) -> None:
    card = png_card(tmp_path / "luna.png")
    store = str(tmp_path / "s.db")
    args = ["chat", "--mock", "--character", str(card), "--session", "ana", "--store", store, "--user", "Ana"]
    done = run(args, stdin="Hi Luna\n\nHow is the pier?\n")
    assert done.returncode == 0, done.stderr
    with SessionStore(store) as sessions:
        messages = sessions.messages("ana")
    assert [m["role"] for m in messages] == ["assistant", "user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == "Evening, Ana." and messages[2]["content"] and messages[4]["content"]
    # What was streamed to the terminal is what the store holds.
    assert done.stdout == "".join(f"Luna: {messages[i]['content']}\n" for i in (0, 2, 4))
    again = run(["chat", "--mock", "--session", "ana", "--store", store], stdin="/quit\n")
    speakers = ["Luna", "Ana", "Luna", "Ana", "Luna"]
    assert again.returncode == 0
    assert again.stdout == "".join(f"{who}: {m['content']}\n" for who, m in zip(speakers, messages))
    plain = run(["chat", "--mock"], stdin="Hello\n")  # no character, no session: EOF ends it
    assert plain.returncode == 0 and plain.stdout.startswith("assistant: ")


def _read_until(stream: IO[str], marker: str, deadline: float) -> str:
    seen = ""
    while marker not in seen:
        assert time.monotonic() < deadline, seen
        piece = stream.read(1)  # the watchdog kills the child if it hangs: then "" ends this
        if not piece:
            break
        seen += piece
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_at_the_prompt_and_mid_answer(tmp_path: Path, server: MockServer) -> None:
    card = png_card(tmp_path / "luna.png")
    store = str(tmp_path / "s.db")
    command = [sys.executable, "-m", "meganova", "chat", "--character", str(card), "--session", "s", "--store", store]
    environment = env(MEGANOVA_API_KEY=server.api_key, MEGANOVA_BASE_URL=server.url)
    deadline = time.monotonic() + TIMEOUT

    child = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    watchdog = threading.Timer(TIMEOUT, child.kill)
    watchdog.start()
    try:
        assert child.stdout is not None and child.stdin is not None
        _read_until(child.stdout, "Evening, User.\n", deadline)
        child.send_signal(signal.SIGINT)  # waiting for input
        assert child.wait(TIMEOUT) == 130
        assert "Traceback" not in (child.stderr.read() if child.stderr else "")
    finally:
        watchdog.cancel()
        child.kill()
        child.wait(TIMEOUT)

    server.enqueue(chunk_delay=0.5)
    child = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    watchdog = threading.Timer(TIMEOUT, child.kill)
    watchdog.start()
    try:
        assert child.stdout is not None and child.stdin is not None
        child.stdin.write("Tell me a long story\n")
        child.stdin.flush()
        seen = _read_until(child.stdout, "Luna: ", deadline)  # the greeting line is "Luna: Evening..."
        seen += _read_until(child.stdout, "Luna: ", deadline)  # the answer's own prefix
        seen += _read_until(child.stdout, " ", deadline)  # a first word has arrived
        child.send_signal(signal.SIGINT)
        assert child.wait(TIMEOUT) == 130
        assert "Traceback" not in (child.stderr.read() if child.stderr else "")
    finally:
        watchdog.cancel()
        child.kill()
        child.wait(TIMEOUT)
    with SessionStore(store) as sessions:
        assert [m["role"] for m in sessions.messages("s")] == ["assistant"]  # no half turn


def test_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "meganova"
    if not script.exists():
        pytest.skip("the console script is installed beside the interpreter only in a venv install")
    done = subprocess.run(
        [str(script), "balance", "--mock"], capture_output=True, text=True, timeout=TIMEOUT, env=env()
    )
    assert done.returncode == 0 and done.stdout == "42.5 USD\n"


def test_example_character_chat_runs() -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "character_chat.py"
    if not example.exists():
        pytest.skip("examples/ is beside the tests only in a source checkout")
    done = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=TIMEOUT, env=env())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == "Luna: *Luna looks up from the steam.* Evening, Ana. Hungry?"
    assert sum(line.startswith("Luna: ") for line in lines) >= 3
    assert lines[-1] == "(the session 'ana' holds 5 messages)"


def test_in_process_main_is_importable() -> None:
    from meganova.custom import cli

    assert cli.EXIT_INTERRUPTED == 130 and cli.main(["character"]) == 2


def test_readme_characters_section_runs(tmp_path: Path, server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib
    import io
    import re

    readme = Path(__file__).resolve().parent.parent / "README.md"
    if not readme.exists():
        pytest.skip("README.md is beside the tests only in a source checkout")
    text = readme.read_text(encoding="utf-8")
    start = text.index("\n## Characters and sessions\n")
    section = text[start : text.index("\n## ", start + 1)]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(block.strip().splitlines()) <= 12
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEGANOVA_API_KEY", server.api_key or "")
    monkeypatch.setenv("MEGANOVA_BASE_URL", server.url)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "<README characters>", "exec"), {"__name__": "__example__"})
    lines = out.getvalue().splitlines()
    assert lines[0] == "Evening, Ana." and len(lines) >= 2 and lines[1]
    assert server.requests[-1].json["messages"][0]["role"] == "system"
    assert json.loads((tmp_path / "luna.json").read_text())["data"]["name"] == "Luna"
    with SessionStore(str(tmp_path / "chats.db")) as store:
        assert len(store.messages("ana")) == 3
