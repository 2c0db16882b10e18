"""Chat: one answer, then a conversation of two turns.

MEGANOVA_API_KEY=sk-... python examples/chat.py
(or against the local server: MEGANOVA_API_KEY=test MEGANOVA_BASE_URL=http://127.0.0.1:8080/v1)
"""

from __future__ import annotations

from typing import Any, Dict, List

from meganova import MegaNova

MODEL = "meganova-ai/manta-flash-1.0"

with MegaNova() as client:  # MEGANOVA_API_KEY, and MEGANOVA_BASE_URL when set
    resp = client.chat.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Hi Luna, how are you?"}],
        temperature=0.7,
        max_tokens=200,
    )
    print(resp.choices[0].message.content)
    print(f"({resp.usage.total_tokens} tokens, finish_reason {resp.choices[0].finish_reason}, {resp.request_id})")

    history: List[Dict[str, Any]] = [{"role": "system", "content": "You are Luna, a night-market guide."}]
    for text in ("Where should I eat tonight?", "And after dinner?"):
        history.append({"role": "user", "content": text})
        answer = client.chat.create(model=MODEL, messages=history)
        reply = answer.choices[0].message.content or ""
        history.append({"role": "assistant", "content": reply})
        print(f"> {text}\n{reply}")
