"""`make demo` stays true: the demo runs end to end against the local server, with no API key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


@pytest.mark.skipif(not DEMO.exists(), reason="examples/ is beside the tests only in a source checkout")
def test_demo_runs_without_an_api_key() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEGANOVA_")}
    result = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("MEGANOVA_API_KEY is not set: using the local MegaNova server at http://127.0.0.1:")
    headings = ("Simple chat", "Streaming", "Models", "Usage", "Billing", "Chat, the OpenAI spelling", "Embeddings")
    headings += ("Images", "Audio", "Rerank", "Videos", "Serverless catalogue", "Instance billings and usage by day")
    for heading in (*headings, "Errors", "Studio agent", "Async"):
        assert f"== {heading}" in out
    assert "meganova-ai/manta-flash-1.0 ['text'] 32768" in out
    assert "NotFoundError: Model not found" in out
    assert "tts: " in out and "bytes of PNG" in out and "\ncompleted https://" in out
    assert "the model called get_weather({'city': 'Paris'}) -> 'Sunny and 21 degrees in Paris'" in out  # the tool loop
    assert "answer: get_weather says: Sunny and 21 degrees in Paris" in out
    assert "== Structured output: parse\nDemoCharacter(name=" in out
    assert out.rstrip().endswith("Demo finished.")
