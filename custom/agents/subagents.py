"""`AgentTeam`: several agents on one prompt, one after the other, at once, or the first that matches.
Unlike 0.4, an agent that fails in `run_parallel` is not dropped: its result has `stop_reason="error"`;
results come in the order the agents were added."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Callable, List, Optional

import attrs

from .agent import Agent, AgentResult


@attrs.define
class SubagentConfig:
    """An agent of a team: its `role` and the `condition` (on the prompt) for it to run."""

    agent: Agent
    role: str = ""
    condition: Optional[Callable[[str], bool]] = None

    @property
    def label(self) -> str:
        """The role, or the agent's name."""
        return self.role or self.agent.name


@attrs.define
class TeamResult:
    """What a team run gave: each agent's result, the final content and which agents ran."""

    results: List[AgentResult] = attrs.Factory(list)
    final_content: str = ""
    agents_used: List[str] = attrs.Factory(list)


def _error_result(agent: Agent, exc: BaseException) -> AgentResult:
    return AgentResult(content=f"Error: {exc}", turns=0, model=agent.model, stop_reason="error", error=exc)


class AgentTeam:
    """Agents working on one prompt: `add(agent, role, condition)`, then `run_sequential`,
    `run_parallel` or `run_handoff` (with an async client: `arun_sequential`, ...)."""

    def __init__(self) -> None:
        self._agents: List[SubagentConfig] = []

    def add(self, agent: Agent, role: str = "", condition: Optional[Callable[[str], bool]] = None) -> AgentTeam:
        """Adds an agent; returns the team (calls chain)."""
        self._agents.append(SubagentConfig(agent, role, condition))
        return self

    @property
    def agents(self) -> List[SubagentConfig]:
        """The team's agents, in order."""
        return list(self._agents)

    def _eligible(self, prompt: str) -> List[SubagentConfig]:
        return [c for c in self._agents if c.condition is None or c.condition(prompt)]

    def _handoff_choice(self, prompt: str) -> Optional[SubagentConfig]:
        for config in self._agents:
            if config.condition is not None and config.condition(prompt):
                return config
        return self._agents[0] if self._agents else None

    @staticmethod
    def _next_context(context: str, used: List[str], results: List[AgentResult]) -> str:
        if not results:
            return context
        return context + f"\n\nPrevious agent ({used[-1]}) output:\n{results[-1].content}"

    def run_sequential(self, prompt: str, context: Optional[str] = None) -> TeamResult:
        """Each eligible agent in turn, each given the previous one's output as context."""
        results: List[AgentResult] = []
        used: List[str] = []
        current = context or ""
        for config in self._eligible(prompt):
            current = self._next_context(current, used, results)
            results.append(config.agent.run(prompt, context=current))
            used.append(config.label)
        return TeamResult(results, results[-1].content if results else "", used)

    def run_parallel(self, prompt: str, context: Optional[str] = None, max_workers: int = 4) -> TeamResult:
        """Every eligible agent at once (threads); the contents joined."""
        eligible = self._eligible(prompt)
        results: List[AgentResult] = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
            futures = [pool.submit(c.agent.run, prompt, context) for c in eligible]
            for config, future in zip(eligible, futures):
                try:
                    results.append(future.result())
                except Exception as exc:
                    results.append(_error_result(config.agent, exc))
        return self._joined(eligible, results)

    def run_handoff(self, prompt: str, context: Optional[str] = None) -> TeamResult:
        """The first agent whose condition matches (else the first agent)."""
        config = self._handoff_choice(prompt)
        if config is None:
            return TeamResult()
        result = config.agent.run(prompt, context=context)
        return TeamResult([result], result.content, [config.label])

    async def arun_sequential(self, prompt: str, context: Optional[str] = None) -> TeamResult:
        """`run_sequential` with an async client."""
        results: List[AgentResult] = []
        used: List[str] = []
        current = context or ""
        for config in self._eligible(prompt):
            current = self._next_context(current, used, results)
            results.append(await config.agent.run(prompt, context=current))
            used.append(config.label)
        return TeamResult(results, results[-1].content if results else "", used)

    async def arun_parallel(self, prompt: str, context: Optional[str] = None) -> TeamResult:
        """`run_parallel` with an async client (concurrent tasks)."""
        eligible = self._eligible(prompt)
        outcomes = await asyncio.gather(
            *(c.agent.run(prompt, context=context) for c in eligible), return_exceptions=True
        )
        results = [_error_result(c.agent, o) if isinstance(o, BaseException) else o for c, o in zip(eligible, outcomes)]
        return self._joined(eligible, results)

    async def arun_handoff(self, prompt: str, context: Optional[str] = None) -> TeamResult:
        """`run_handoff` with an async client."""
        config = self._handoff_choice(prompt)
        if config is None:
            return TeamResult()
        result = await config.agent.run(prompt, context=context)
        return TeamResult([result], result.content, [config.label])

    @staticmethod
    def _joined(eligible: List[SubagentConfig], results: List[AgentResult]) -> TeamResult:
        used = [c.label for c in eligible]
        combined = "\n\n---\n\n".join(f"**{name}**: {r.content}" for name, r in zip(used, results))
        return TeamResult(results, combined, used)
