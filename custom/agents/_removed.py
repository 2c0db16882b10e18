"""The ImportError of the 0.4 modules that are not part of this SDK."""

from __future__ import annotations

from typing import NoReturn

GUIDE = (
    "docs/migrating-from-0.4.md (https://github.com/MeganovaAI/meganova-python/blob/main/docs/migrating-from-0.4.md)"
)


def removed(module: str) -> NoReturn:
    """Raises the ImportError that explains why `module` is gone."""
    raise ImportError(
        f"{module} was part of meganova 0.4's local agent framework and is not in this SDK: an API client "
        "does not run shell commands, edit files, fetch web pages or start Docker / E2B sandboxes for a "
        "model. Write such tools yourself with meganova.tool (or meganova.agents.tool), running them "
        f"where you choose; see the section on agents in {GUIDE}.",
        name=module,
    )
