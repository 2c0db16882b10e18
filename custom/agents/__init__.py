"""`meganova.agents`: meganova 0.4's agent framework (`Agent`, `@tool`, hooks, memories, `AgentTeam`) on
top of the SDK's tool runner (`client.chat.run_tools`), for sync and async clients.

0.4's built-in shell, file, web and knowledge tools and its Docker / E2B sandboxes are not part of an
API client: importing `meganova.agents.tools.shell` (and the others) raises ImportError. See
docs/migrating-from-0.4.md for what differs from 0.4.
"""

from .agent import Agent, AgentResult, AgentTurnEvent
from .hooks import (
    Hook,
    HookContext,
    HookError,
    HookManager,
    HookResult,
    HookType,
    on_complete,
    on_error,
    post_model_call,
    post_tool_use,
    pre_model_call,
    pre_tool_use,
)
from .memory import Memory, MessageMemory, SlidingWindowMemory, TokenBudgetMemory
from .subagents import AgentTeam, SubagentConfig, TeamResult
from .tools.base import ToolDefinition, ToolRegistry, tool

__all__ = [
    "Agent",
    "AgentResult",
    "AgentTeam",
    "AgentTurnEvent",
    "Hook",
    "HookContext",
    "HookError",
    "HookManager",
    "HookResult",
    "HookType",
    "Memory",
    "MessageMemory",
    "SlidingWindowMemory",
    "SubagentConfig",
    "TeamResult",
    "TokenBudgetMemory",
    "ToolDefinition",
    "ToolRegistry",
    "on_complete",
    "on_error",
    "post_model_call",
    "post_tool_use",
    "pre_model_call",
    "pre_tool_use",
    "tool",
]
