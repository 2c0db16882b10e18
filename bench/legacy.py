"""A sync workload of bench/run.py on meganova 0.4.0, run in its own venv (`.venv-bench04`): its package
name is ours. Protocol: build the client, warm up, print `warm`, wait for a line on stdin (the parent resets
the server's counters), measure, print one JSON line: `{"wall", "cpu"}` or `{"error", "verification"}`.

    .venv-bench04/bin/python bench/legacy.py BASE_URL WORKLOAD SIZES_JSON
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any, List

from run import API_KEY, MESSAGES, MODEL, WORKLOADS, Sizes, StreamResult, VerificationError


class MegaNova04Sync:
    """meganova 0.4.0's `MegaNova` with its defaults (requests and pydantic)."""

    def __init__(self, base_url: str) -> None:
        from meganova import MegaNova

        self.client = MegaNova(api_key=API_KEY, base_url=base_url)

    def create(self) -> Any:
        response = self.client.chat.completions.create(model=MODEL, messages=MESSAGES)
        return response.choices[0].message.content

    def stream(self, n: int) -> StreamResult:
        parts: List[str] = []
        finish_reason = None
        for chunk in self.client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=n, stream=True):
            choice = chunk.choices[0]
            content = choice.delta.get("content")
            if content:
                parts.append(content)
            finish_reason = choice.finish_reason or finish_reason
        return StreamResult("".join(parts), len(parts), finish_reason)

    def close(self) -> None:
        self.client._transport._session.close()


def main() -> None:
    """Run one workload as the parent directs (see the module's docstring)."""
    base_url, key, sizes_json = sys.argv[1:4]
    sizes = Sizes(**json.loads(sizes_json))
    workload = next(w for w in WORKLOADS if w.key == key)
    client = MegaNova04Sync(base_url)
    try:
        workload.run(client, workload.warm(sizes), sizes)
        print("warm", flush=True)
        sys.stdin.readline()
        units = workload.units(sizes)
        wall, cpu = time.perf_counter(), time.process_time()
        workload.run(client, units, sizes)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
    except Exception as exc:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        print(json.dumps({"error": text, "verification": isinstance(exc, VerificationError)}), flush=True)
    finally:
        client.close()


if __name__ == "__main__":
    main()
