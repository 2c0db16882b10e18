"""Removed: 0.4's sandboxes (see docs/migrating-from-0.4.md)."""

from .._removed import removed

removed("meganova.agents.sandbox.e2b_provider")
