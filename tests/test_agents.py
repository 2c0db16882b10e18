"""`meganova.agents`: 0.4's agent programs run unchanged (in a subprocess, against MockServer), hooks
(which are reported when they raise), memories, teams, sync and async, and the removed 0.4 modules."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
import textwrap
from typing import Any, Iterator, List

import pytest
from test_tools_runner import text_answer, tool_answer

from meganova import AsyncMegaNova, MegaNova
from meganova.agents import (
    Agent,
    AgentResult,
    AgentTeam,
    HookContext,
    HookError,
    HookManager,
    HookResult,
    HookType,
    MessageMemory,
    SlidingWindowMemory,
    TokenBudgetMemory,
    ToolRegistry,
    on_error,
    post_model_call,
    post_tool_use,
    pre_model_call,
    pre_tool_use,
    tool,
)
from meganova.testing import MockServer


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


PROGRAM_04 = '''
import os
from meganova import MegaNova
from meganova.agents import Agent, tool, pre_tool_use, HookResult, SlidingWindowMemory

client = MegaNova(api_key=os.environ["MEGANOVA_API_KEY"], base_url=os.environ["MEGANOVA_BASE_URL"])

@tool("greet", "Greet the user by name")
def greet(name: str) -> str:
    return f"Hello, {name}!"

@tool()
def get_weather(city: str, units: str = "celsius") -> str:
    """Get current weather for a city."""
    return f"{city}: 21 {units}"

@pre_tool_use(priority=10)
def audit(ctx):
    print("pre", ctx.tool_name, ctx.tool_args, ctx.turn)
    if ctx.tool_name == "get_weather" and ctx.tool_args.get("city") == "Atlantis":
        return HookResult(allow=False, reason="no such place")
    return None

agent = Agent(
    client=client,
    model="meganova-ai/manta-flash-1.0",
    system_prompt="You are a helpful assistant.",
    tools=[greet, get_weather],
    hooks=[audit],
    memory=SlidingWindowMemory(max_messages=10),
    max_turns=5,
    temperature=0.3,
    name="helper",
)

result = agent.run("Say hello to Alice", context="The user likes short answers.")
print("content", result.content)
print("turns", result.turns, "tokens", result.total_tokens, "tools", result.tool_calls_made, "stop", result.stop_reason, "model", result.model)
for event in agent.run("Weather in Atlantis?", stream=True):
    print("event", event.type, event.tool_name, event.tool_args, repr(event.content), event.turn)
print("memory", agent.memory.size)
'''


def test_a_04_agent_program_runs_unchanged(server: MockServer, tmp_path: Any) -> None:
    server.enqueue(body=tool_answer(("greet", '{"name": "Alice"}'), tokens=10))
    server.enqueue(body=text_answer("Hello, Alice!", tokens=20))
    server.enqueue(body=tool_answer(("get_weather", '{"city": "Atlantis"}')))
    server.enqueue(body=text_answer("I could not check."))
    script = tmp_path / "agent_04.py"
    script.write_text(textwrap.dedent(PROGRAM_04))
    env = {**os.environ, "MEGANOVA_API_KEY": server.api_key or "", "MEGANOVA_BASE_URL": server.url}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [
        "pre greet {'name': 'Alice'} 0",
        "content Hello, Alice!",
        "turns 2 tokens 33 tools 1 stop complete model meganova-ai/manta-flash-1.0",
        "pre get_weather {'city': 'Atlantis'} 0",
        "event tool_call get_weather {'city': 'Atlantis'} '' 0",
        "event tool_result get_weather None 'Tool execution denied: no such place' 0",
        "event text None None 'I could not check.' 1",
        "event done None None 'I could not check.' 1",
        "memory 8",
    ]
    first = server.requests[0].json
    assert first["messages"][0] == {
        "role": "system",
        "content": "You are a helpful assistant.\n\nAdditional context:\nThe user likes short answers.",
    }
    assert first["temperature"] == 0.3
    assert [t["function"]["name"] for t in first["tools"]] == ["greet", "get_weather"]
    assert first["tools"][1]["function"]["description"] == "Get current weather for a city."
    assert first["tools"][1]["function"]["parameters"]["required"] == ["city"]
    # the second run sends the first run's messages again (memory), once
    second_run = server.requests[2].json["messages"]
    assert [m["role"] for m in second_run] == ["system", "user", "assistant", "tool", "assistant", "user"]


def test_hooks_modify_and_observe(server: MockServer) -> None:
    seen: List[str] = []

    @tool
    def add(a: int, b: int) -> int:
        return a + b

    @pre_tool_use
    def double_a(ctx: HookContext) -> HookResult:
        assert ctx.tool_args is not None
        return HookResult(modified_args={**ctx.tool_args, "a": ctx.tool_args["a"] * 2})

    @post_tool_use()
    def after(ctx: HookContext) -> None:
        seen.append(f"post {ctx.tool_name} {ctx.tool_args} -> {ctx.tool_result}")

    @pre_model_call(priority=1)
    def add_note(ctx: HookContext) -> HookResult:
        assert ctx.messages is not None
        seen.append(f"pre_model turn {ctx.turn}")
        return HookResult(
            modified_messages=[*ctx.messages[:1], {"role": "system", "content": "note"}, *ctx.messages[1:]]
        )

    @post_model_call()
    def answered(ctx: HookContext) -> None:
        seen.append(f"post_model turn {ctx.turn}")

    server.enqueue(body=tool_answer(("add", '{"a": 2, "b": 3}')))
    server.enqueue(body=text_answer("7"))
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        agent = Agent(client, "m", tools=[add], hooks=[double_a, after, add_note, answered])
        result = agent.run("2+3?")
    assert result.content == "7" and result.stop_reason == "complete"
    assert seen == [
        "pre_model turn 0",
        "post_model turn 0",
        "post add {'a': 4, 'b': 3} -> 7",
        "pre_model turn 1",
        "post_model turn 1",
    ]
    sent = server.requests[0].json["messages"]
    assert sent[1] == {"role": "system", "content": "note"}
    assert [m["content"] for m in server.requests[1].json["messages"] if m["role"] == "tool"] == ["7"]


def test_a_hook_that_raises_is_reported_not_swallowed(server: MockServer) -> None:
    calls: List[str] = []

    @tool
    def danger() -> str:
        calls.append("ran")
        return "x"

    @pre_tool_use()
    def broken(ctx: HookContext) -> None:
        raise RuntimeError("audit log unavailable")

    errors: List[str] = []

    @on_error()
    def note(ctx: HookContext) -> None:
        errors.append(str(ctx.error))

    server.enqueue(body=tool_answer(("danger", "{}")))
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        agent = Agent(client, "m", tools=[danger], hooks=[broken, note])
        with pytest.raises(
            HookError, match="the pre_tool_use hook broken raised RuntimeError: audit log unavailable"
        ) as info:
            agent.run("go")
    assert isinstance(info.value.__cause__, RuntimeError) and info.value.hook_type is HookType.PRE_TOOL_USE
    assert calls == [] and len(server.requests) == 1  # no tool ran, no further model call
    manager = HookManager()
    manager.register(HookType.ON_COMPLETE, lambda ctx: 1 / 0)
    with pytest.raises(HookError):
        manager.run(HookType.ON_COMPLETE, HookContext("a", 0))


def test_model_errors_end_the_run_with_stop_reason_error(server: MockServer) -> None:
    seen: List[Any] = []

    @on_error
    def note(ctx: HookContext) -> None:
        seen.append(ctx.error)

    server.enqueue(400, body={"error": {"message": "bad model", "code": "model_not_found"}})
    with MegaNova(api_key=server.api_key, base_url=server.url, max_retries=0) as client:
        result = Agent(client, "nope", hooks=[note]).run("hi")
    assert result.stop_reason == "error" and "bad model" in result.content
    assert result.error is seen[0] and type(result.error).__name__ == "BadRequestError"


def test_max_turns_and_bad_arguments(server: MockServer) -> None:
    @tool("lookup", "Look a word up")
    def lookup(word: str) -> str:
        return word.upper()

    server.enqueue(body=tool_answer(("lookup", '{"word": 5}')))
    server.enqueue(body=tool_answer(("lookup", '{"word": "x"}')))
    with MegaNova(api_key=server.api_key, base_url=server.url) as client:
        result = Agent(client, "m", tools=[lookup], max_turns=2).run("hi")
    assert result.stop_reason == "max_turns" and result.turns == 2
    assert result.content == "Max turns reached without completion."
    tool_message = next(m for m in server.requests[1].json["messages"] if m["role"] == "tool")
    assert tool_message["content"] == "Error: the arguments do not fit the parameters: word: expected string, got 5"


def test_async_agent_and_team(server: MockServer) -> None:
    @tool
    async def shout(text: str) -> str:
        await asyncio.sleep(0)
        return text.upper()

    server.enqueue(body=tool_answer(("shout", '{"text": "hi"}')))
    server.enqueue(body=text_answer("HI"))
    for answer in ("research notes", "the article", "a", "b", "handled"):
        server.enqueue(body=text_answer(answer))

    async def go() -> Any:
        async with AsyncMegaNova(api_key=server.api_key, base_url=server.url) as client:
            agent = Agent(client, "m", tools=[shout], name="shouter")
            result = await agent.run("shout hi")
            researcher = Agent(client, "m", name="researcher")
            writer = Agent(client, "m", name="writer")
            team = AgentTeam().add(researcher, role="research").add(writer, condition=lambda p: "write" in p)
            sequential = await team.arun_sequential("write about owls")
            parallel = await team.arun_parallel("write about owls")
            handoff = await team.arun_handoff("please write")
            return result, sequential, parallel, handoff

    result, sequential, parallel, handoff = asyncio.run(go())
    assert isinstance(result, AgentResult) and result.content == "HI" and result.tool_calls_made == 1
    assert sequential.agents_used == ["research", "writer"] and sequential.final_content == "the article"
    assert "Previous agent (research) output:\nresearch notes" in server.requests[3].json["messages"][0]["content"]
    assert sorted(r.content for r in parallel.results) == ["a", "b"] and parallel.agents_used == ["research", "writer"]
    assert handoff.agents_used == ["writer"] and handoff.final_content == "handled"


def test_sync_team_parallel_keeps_failures(server: MockServer) -> None:
    server.enqueue(body=text_answer("fine"))
    server.enqueue(400, body={"error": {"message": "nope"}})
    with MegaNova(api_key=server.api_key, base_url=server.url, max_retries=0) as client:
        team = AgentTeam().add(Agent(client, "m", name="one")).add(Agent(client, "m", name="two"))
        result = team.run_parallel("go", max_workers=1)
        assert [r.stop_reason for r in result.results] == ["complete", "error"]
        assert result.final_content.startswith("**one**: fine\n\n---\n\n**two**: Error:")
        server.enqueue(body=text_answer("first"))
        handoff = team.run_handoff("x")  # no condition matches: the first agent
        assert handoff.agents_used == ["one"] and handoff.final_content == "first"


def test_memories() -> None:
    memory = MessageMemory()
    memory.add({"role": "user", "content": "hi", "name": None})
    assert memory.get_messages() == [{"role": "user", "content": "hi"}] and memory.size == 1
    assert memory.to_dict() == {"type": "MessageMemory", "messages": [{"role": "user", "content": "hi"}]}
    window = SlidingWindowMemory(max_messages=3)
    window.add({"role": "system", "content": "s"})
    for n in range(5):
        window.add({"role": "user", "content": str(n)})
    assert [m["content"] for m in window.get_messages()] == ["s", "3", "4"]
    budget = TokenBudgetMemory(max_tokens=5)
    budget.add({"role": "system", "content": "x" * 8})  # 2 tokens
    for text in ("a" * 8, "b" * 4, "c" * 4):  # 2, 1, 1
        budget.add({"role": "user", "content": text})
    assert [m["content"][0] for m in budget.get_messages()] == ["x", "b", "c"]
    budget.add({"role": "user", "content": "z" * 400})
    assert [m["content"][0] for m in budget.get_messages()] == ["x", "z"]  # the newest is always kept
    memory.clear()
    assert memory.size == 0


def test_tool_registry_and_definitions() -> None:
    @tool("search_kb", "Search the knowledge base")
    def search(query: str, limit: int = 3) -> str:
        return query * limit

    registry = ToolRegistry()
    registry.register(search)
    assert "search_kb" in registry and len(registry) == 1 and registry.get("nope") is None
    assert registry.to_openai_tools() == [
        {
            "type": "function",
            "function": {
                "name": "search_kb",
                "description": "Search the knowledge base",
                "parameters": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "default": 3}},
                    "required": ["query"],
                    "additionalProperties": False,
                },
            },
        }
    ]
    assert search.execute(query="a", limit=2) == "aa" and search("b", 1) == "b"
    assert json.dumps(registry.list_tools()[0].to_openai_tool())


@pytest.mark.parametrize(
    "module",
    [
        "meganova.agents.tools.shell",
        "meganova.agents.tools.file_ops",
        "meganova.agents.tools.web",
        "meganova.agents.tools.knowledge",
        "meganova.agents.sandbox",
        "meganova.agents.sandbox.docker_provider",
        "meganova.agents.sandbox.e2b_provider",
        "meganova.agents.sandbox.base",
    ],
)
def test_removed_04_modules_raise_import_error_with_the_reason(module: str) -> None:
    sys.modules.pop(module, None)
    with pytest.raises(ImportError) as info:
        importlib.import_module(module)
    assert "not in this SDK" in str(info.value) and "docs/migrating-from-0.4.md" in str(info.value)


def test_04_module_paths_still_import() -> None:
    from meganova.agents.agent import Agent as A
    from meganova.agents.hooks import HookType as H
    from meganova.agents.memory import TokenBudgetMemory as T
    from meganova.agents.subagents import TeamResult as R
    from meganova.agents.tools import ToolDefinition as D
    from meganova.agents.tools.base import tool as t

    assert (A, H, T, R, D, t) == (Agent, HookType, TokenBudgetMemory, R, D, tool)
