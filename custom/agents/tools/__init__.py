"""0.4's `meganova.agents.tools`: `tool`, `ToolDefinition`, `ToolRegistry`. Its built-in file, shell, web
and knowledge tools are not part of this SDK (importing them raises ImportError)."""

from .base import ToolDefinition, ToolRegistry, tool

__all__ = ["ToolDefinition", "ToolRegistry", "tool"]
