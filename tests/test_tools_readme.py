"""The README's section "Tools and structured outputs" runs as written, against the local server with
scripted answers (a tool call then an answer; a JSON answer; a streamed JSON answer)."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from test_tools_parse import answer, streamed
from test_tools_runner import text_answer, tool_answer

from meganova.testing import MockServer

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.skipif(not README.exists(), reason="README.md is beside the tests only in a source checkout")
def test_readme_tools_section_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    text = README.read_text()
    start = text.index("\n## Tools and structured outputs\n")
    section = text[start : text.find("\n## ", start + 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 2
    mo = {"name": "Mo", "species": "otter", "friends": ["Luna"]}
    with MockServer() as server:
        monkeypatch.setenv("MEGANOVA_API_KEY", server.api_key or "")
        monkeypatch.setenv("MEGANOVA_BASE_URL", server.url)
        server.enqueue(body=tool_answer(("get_weather", '{"city": "Neon Harbor"}')))
        server.enqueue(body=text_answer("It is 21 degrees in Neon Harbor."))
        server.enqueue(body=answer(json.dumps({"name": "Luna", "species": "cat", "friends": ["Bo", "Ivy"]})))
        server.enqueue(stream_events=streamed(json.dumps(mo)))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(
                compile("\n".join(blocks), "<README tools section>", "exec", dont_inherit=True),
                {"__name__": "__example__"},
            )
        requests = server.requests
    lines = out.getvalue().splitlines()
    assert lines[0] == "get_weather {'city': 'Neon Harbor'} -> Neon Harbor: 21 degrees celsius"
    assert lines[1] == "It is 21 degrees in Neon Harbor. 15"  # 6 + 9 tokens
    assert lines[2] == "Luna ['Bo', 'Ivy']"
    assert "Character(name='Mo', species='otter', friends=['Luna'])" in lines[-1]
    assert lines[-2] == lines[-1]  # content.done and the final completion agree
    assert [r.json["messages"][-1]["role"] for r in requests[:2]] == ["user", "tool"]
    assert requests[2].json["response_format"]["json_schema"]["name"] == "Character"
