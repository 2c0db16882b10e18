"""Removed: 0.4's built-in `file_ops` tools (see docs/migrating-from-0.4.md)."""

from .._removed import removed

removed("meganova.agents.tools.file_ops")
