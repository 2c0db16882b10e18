"""`help()` on every method generated from the spec describes every parameter with the spec's text."""

from __future__ import annotations

import inspect
import pydoc
import re
from typing import Any, Iterator, List, Tuple

from meganova import AsyncMegaNova, MegaNova

PER_CALL = {"timeout", "max_retries", "extra_headers", "extra_query", "extra_body"}


def _methods(client: Any) -> Iterator[Tuple[str, Any]]:
    """(dotted name, bound method) of every public method of every resource, generated ones only."""
    seen = set()
    stack: List[Tuple[str, Any]] = [("client", client)]
    while stack:
        prefix, obj = stack.pop()
        for name in dir(obj):
            if name.startswith("_") or name in ("raw", "with_raw_response", "with_streaming_response"):
                continue
            try:
                attr = getattr(obj, name)
            except Exception:
                continue
            if inspect.ismethod(attr):
                if attr.__func__.__module__.startswith("meganova.api."):
                    yield f"{prefix}.{name}", attr
            elif (
                type(attr).__module__.startswith(("meganova.api", "meganova.custom.resources")) and id(attr) not in seen
            ):
                seen.add(id(attr))
                stack.append((f"{prefix}.{name}", attr))


def _undocumented(method: Any) -> List[str]:
    doc = inspect.getdoc(method) or ""
    missing = []
    for name, parameter in inspect.signature(method).parameters.items():
        if name in PER_CALL or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        if not re.search(rf"^\s+{re.escape(name)}: \S", doc, re.MULTILINE):
            missing.append(name)
    return missing


def test_every_generated_method_documents_every_parameter() -> None:
    for client in (MegaNova(api_key="sk-test"), AsyncMegaNova(api_key="sk-test")):
        methods = dict(_methods(client))
        assert {"client.chat.create", "client.chat.stream", "client.usage.summary"} <= set(methods)
        assert len(methods) >= 15
        gaps = {name: _undocumented(method) for name, method in methods.items()}
        assert {name: missing for name, missing in gaps.items() if missing} == {}


def test_help_of_chat_create_shows_each_parameters_text() -> None:
    text = pydoc.render_doc(MegaNova(api_key="sk-test").chat.create, renderer=pydoc.plaintext)
    for fragment in (
        "messages: The conversation so far",
        "temperature: Sampling temperature, 0 to 2",
        "max_tokens: The most tokens the answer may have",
        "tools: Functions the model may call",
        "tool_choice: `none`, `auto`, `required`",
        'response_format: `{"type": "json_object"}`',
        "stream_options: Options of a streamed answer",
    ):
        assert fragment in text
