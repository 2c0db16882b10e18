"""The layout shows the layers: `custom/runtime/` (the runtime core) imports nothing of the facade
(clients, resources, Studio agents, tools, agents, characters, the command) nor of `testing`; the
generated package in between is imported only for its models and types. Checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "custom" / "runtime"
ALLOWED_OUTSIDE = ("meganova.custom._version", "meganova.models", "meganova.types", "meganova.client")


def _imports(path: Path) -> List[str]:
    """The absolute names of the modules `path` (a module of meganova.custom.runtime) imports."""
    package = "meganova.custom.runtime"
    names: List[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                names.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return [name for name in names if name.split(".")[0] == "meganova"]


@pytest.mark.skipif(not RUNTIME.exists(), reason="the source tree is beside the tests only in a checkout")
def test_the_runtime_imports_nothing_of_the_facade() -> None:
    modules = sorted(RUNTIME.glob("*.py"))
    assert len(modules) >= 15
    wrong = [
        f"{path.name}: {name}"
        for path in modules
        for name in _imports(path)
        if not name.startswith("meganova.custom.runtime")
        and not any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED_OUTSIDE)
    ]
    assert wrong == []


@pytest.mark.skipif(not RUNTIME.exists(), reason="the source tree is beside the tests only in a checkout")
def test_the_checker_sees_a_facade_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from .._client import MegaNova\nfrom ..resources import Chat\n")
    assert _imports(bad) == ["meganova.custom._client", "meganova.custom.resources"]
