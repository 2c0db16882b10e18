"""`make bench`: raw httpx, httpx2, openai, meganova 0.4.0 and meganova side by side, against one loopback server.

Every workload runs on each client (sync and async), verifies everything it receives (a broken client
cannot look fast), and is reported as client CPU per unit (`time.process_time` of this process; the
server is another process, pinned to another core) and wall time, both as a ratio to raw httpx measured
in the same run. The best of `--rounds` rounds counts; the rounds are interleaved across clients.
Startup (import time, RSS, client construction) is measured in fresh subprocesses. Results also go to
`bench-results.json` at the repo root. Targets are printed as PASS/MISS, for information only.

    python bench/run.py [--quick] [--rounds N] [--profile CLIENT]
    python bench/run.py --readme    # README.md's performance table from bench-results.json (bench/readme.py)

A client that fails a workload (an exception, or a wrong answer) is reported for that workload and the
run goes on; the exit status is then 1. Raw httpx failing means the harness is broken: the run stops.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import importlib.util
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple, Union

import httpx
from server import CHUNK_TEXT, CONTENT, MODEL, BenchServer

ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = ROOT / "bench-results.json"
API_KEY = "sk-bench-0123456789"
MESSAGES = [{"role": "user", "content": "Hello"}]
PRODUCTION_URL = "https://api.meganova.ai/v1"
FLOOR = "httpx"
LEGACY = "meganova 0.4.0"
LEGACY_PYTHON = ROOT / ".venv-bench04" / "bin" / "python"
MINE = "meganova"


# --- sizes ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sizes:
    """How much each workload does."""

    creates: int = 2000
    big_stream: int = 20000
    streams: int = 500
    stream_len: int = 20
    async_creates: int = 2000
    in_flight: int = 64
    async_streams: int = 256
    rounds: int = 3
    startup_runs: int = 5


QUICK = Sizes(creates=300, big_stream=4000, streams=100, async_creates=400, async_streams=128, rounds=1)


# --- verification ---------------------------------------------------------------------------------------
class VerificationError(Exception):
    """A client returned something other than what the server sent."""


@dataclass
class StreamResult:
    """What a client made of one stream: the text, the number of non-empty deltas, the finish reason."""

    text: str
    deltas: int
    finish_reason: Optional[str]


def verify_text(text: Any) -> None:
    """The answer of a `chat.create` is the server's fixed text."""
    if text != CONTENT:
        raise VerificationError(f"chat.create returned {text!r}, expected {CONTENT!r}")


def verify_stream(result: StreamResult, n: int) -> None:
    """A stream gave `n` deltas of `CHUNK_TEXT` and ended with finish_reason 'stop'."""
    if result.deltas != n or result.text != CHUNK_TEXT * n or result.finish_reason != "stop":
        raise VerificationError(
            f"a stream of {n} chunks gave {result.deltas} deltas (expected {n}), {len(result.text)} characters "
            f"(expected {len(CHUNK_TEXT) * n}), finish_reason {result.finish_reason!r} (expected 'stop'); "
            f"text starts {result.text[:40]!r}"
        )


# --- the clients ----------------------------------------------------------------------------------------
def stream_body(n: int) -> Dict[str, Any]:
    """The JSON body of a streamed request of `n` chunks."""
    return {"model": MODEL, "messages": MESSAGES, "max_tokens": n, "stream": True}


class _Collector:
    """Accumulates the deltas of one stream."""

    def __init__(self) -> None:
        self.parts: List[str] = []
        self.finish_reason: Optional[str] = None

    def add_event(self, data: str) -> None:
        choice = json.loads(data)["choices"][0]
        content = choice["delta"].get("content")
        if content:
            self.parts.append(content)
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]

    def result(self) -> StreamResult:
        return StreamResult("".join(self.parts), len(self.parts), self.finish_reason)


def read_sse(lines: Iterator[str]) -> StreamResult:
    """The floor's SSE reading: json-decode each `data:` line until [DONE], then read to the end."""
    collector = _Collector()
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            for _ in lines:  # the body's end, so the connection goes back to the pool
                pass
            break
        collector.add_event(data)
    return collector.result()


async def aread_sse(lines: AsyncIterator[str]) -> StreamResult:
    """`read_sse` for an async iterator of lines."""
    collector = _Collector()
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            async for _ in lines:
                pass
            break
        collector.add_event(data)
    return collector.result()


class RawSync:
    """The floor: a plain `httpx.Client` (or `httpx2.Client`), the same request, json-decoded by hand.
    Its pool keeps 100 idle connections like meganova's and openai's (httpx's default keeps 20)."""

    def __init__(self, base_url: str, module: Any = httpx) -> None:
        limits = module.Limits(max_connections=1000, max_keepalive_connections=100)
        self.http = module.Client(timeout=60.0, limits=limits)
        self.url = base_url + "/chat/completions"
        self.headers = {"Authorization": f"Bearer {API_KEY}"}

    def create(self) -> str:
        response = self.http.post(self.url, json={"model": MODEL, "messages": MESSAGES}, headers=self.headers)
        response.raise_for_status()
        content: str = response.json()["choices"][0]["message"]["content"]
        return content

    def stream(self, n: int) -> StreamResult:
        with self.http.stream("POST", self.url, json=stream_body(n), headers=self.headers) as response:
            response.raise_for_status()
            return read_sse(response.iter_lines())

    def close(self) -> None:
        self.http.close()


class RawAsync:
    """`RawSync` on `httpx.AsyncClient`."""

    def __init__(self, base_url: str, module: Any = httpx) -> None:
        limits = module.Limits(max_connections=1000, max_keepalive_connections=100)
        self.http = module.AsyncClient(timeout=60.0, limits=limits)
        self.url = base_url + "/chat/completions"
        self.headers = {"Authorization": f"Bearer {API_KEY}"}

    async def create(self) -> str:
        body = {"model": MODEL, "messages": MESSAGES}
        response = await self.http.post(self.url, json=body, headers=self.headers)
        response.raise_for_status()
        content: str = response.json()["choices"][0]["message"]["content"]
        return content

    async def stream(self, n: int) -> StreamResult:
        async with self.http.stream("POST", self.url, json=stream_body(n), headers=self.headers) as response:
            response.raise_for_status()
            return await aread_sse(response.aiter_lines())

    async def close(self) -> None:
        await self.http.aclose()


class OpenAISync:
    """openai-python with its defaults, pointed at the bench server."""

    def __init__(self, base_url: str) -> None:
        import openai

        self.client = openai.OpenAI(api_key=API_KEY, base_url=base_url)

    def create(self) -> Optional[str]:
        response = self.client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
        return response.choices[0].message.content

    def stream(self, n: int) -> StreamResult:
        parts: List[str] = []
        finish_reason = None
        stream = self.client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,  # type: ignore[arg-type]
            max_tokens=n,
            stream=True,
        )
        for chunk in stream:
            choice = chunk.choices[0]
            if choice.delta.content:
                parts.append(choice.delta.content)
            finish_reason = choice.finish_reason or finish_reason
        return StreamResult("".join(parts), len(parts), finish_reason)

    def close(self) -> None:
        self.client.close()


class OpenAIAsync:
    """`openai.AsyncOpenAI` with its defaults."""

    def __init__(self, base_url: str) -> None:
        import openai

        self.client = openai.AsyncOpenAI(api_key=API_KEY, base_url=base_url)

    async def create(self) -> Optional[str]:
        response = await self.client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
        return response.choices[0].message.content

    async def stream(self, n: int) -> StreamResult:
        parts: List[str] = []
        finish_reason = None
        stream = await self.client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,  # type: ignore[arg-type]
            max_tokens=n,
            stream=True,
        )
        async for chunk in stream:
            choice = chunk.choices[0]
            if choice.delta.content:
                parts.append(choice.delta.content)
            finish_reason = choice.finish_reason or finish_reason
        return StreamResult("".join(parts), len(parts), finish_reason)

    async def close(self) -> None:
        await self.client.close()


class MegaNovaSync:
    """meganova with its defaults. A stream counts as finished only on its `done` chunk."""

    def __init__(self, base_url: str) -> None:
        from meganova import MegaNova

        self.client = MegaNova(api_key=API_KEY, base_url=base_url)

    def create(self) -> Any:
        return self.client.chat.create(model=MODEL, messages=MESSAGES).choices[0].message.content

    def stream(self, n: int) -> StreamResult:
        parts: List[str] = []
        finish_reason = None
        for chunk in self.client.chat.stream(model=MODEL, messages=MESSAGES, max_tokens=n):
            if chunk.delta:
                parts.append(chunk.delta)
            if chunk.finish_reason:  # said once, on the chunk of the event that carried it
                finish_reason = chunk.finish_reason
        return StreamResult("".join(parts), len(parts), finish_reason)

    def close(self) -> None:
        self.client.close()


class MegaNovaAsync:
    """`meganova.AsyncMegaNova` with its defaults."""

    def __init__(self, base_url: str) -> None:
        from meganova import AsyncMegaNova

        self.client = AsyncMegaNova(api_key=API_KEY, base_url=base_url)

    async def create(self) -> Any:
        response = await self.client.chat.create(model=MODEL, messages=MESSAGES)
        return response.choices[0].message.content

    async def stream(self, n: int) -> StreamResult:
        parts: List[str] = []
        finish_reason = None
        stream = await self.client.chat.stream(model=MODEL, messages=MESSAGES, max_tokens=n)
        async for chunk in stream:
            if chunk.delta:
                parts.append(chunk.delta)
            if chunk.finish_reason:  # said once, on the chunk of the event that carried it
                finish_reason = chunk.finish_reason
        return StreamResult("".join(parts), len(parts), finish_reason)

    async def close(self) -> None:
        await self.client.close()


SyncClient = Union[RawSync, OpenAISync, MegaNovaSync]
AsyncClient = Union[RawAsync, OpenAIAsync, MegaNovaAsync]


@dataclass(frozen=True)
class Contender:
    """One client library: how to build its sync and async clients, and how to start it from scratch."""

    name: str
    make_sync: Optional[Callable[[str], SyncClient]]
    make_async: Optional[Callable[[str], AsyncClient]]
    module: str
    construct: str
    """Python source that builds one client once `module` is imported (for the startup figures)."""
    import_code: str = ""
    """The import statement timed as its cold import (default `import <module>`)."""
    python: Optional[str] = None
    """Another venv's interpreter: its sync workloads run in subprocesses of it (bench/legacy.py)."""


def _httpx2_contender() -> Contender:
    import httpx2

    return Contender(
        "httpx2",
        lambda url: RawSync(url, httpx2),
        lambda url: RawAsync(url, httpx2),
        "httpx2",
        "httpx2.Client()",
    )


def contenders() -> List[Contender]:
    """raw httpx (the floor), raw httpx2 (openai's transport, when installed), openai, meganova."""
    found = [Contender(FLOOR, RawSync, RawAsync, "httpx", "httpx.Client()")]
    if importlib.util.find_spec("httpx2") is not None:
        found.append(_httpx2_contender())
    found.append(
        Contender(
            "openai",
            OpenAISync,
            OpenAIAsync,
            "openai",
            f"openai.OpenAI(api_key={API_KEY!r}, base_url={PRODUCTION_URL!r})",
        )
    )
    found.append(
        Contender(
            "meganova",
            MegaNovaSync,
            MegaNovaAsync,
            "meganova",
            f"meganova.MegaNova(api_key={API_KEY!r}, base_url={PRODUCTION_URL!r})",
            "from meganova import MegaNova, AsyncMegaNova",
        )
    )
    if LEGACY_PYTHON.exists():
        found.insert(
            len(found) - 1,
            Contender(
                LEGACY,
                None,
                None,
                "meganova",
                f"meganova.MegaNova(api_key={API_KEY!r}, base_url={PRODUCTION_URL!r})",
                "from meganova import MegaNova",
                str(LEGACY_PYTHON),
            ),
        )
    else:
        print(f"({LEGACY} skipped: no {LEGACY_PYTHON}; make bench builds it)")
    return found


# --- workloads ------------------------------------------------------------------------------------------
def run_creates(client: SyncClient, count: int, sizes: Sizes) -> None:
    """`count` sequential chat.create calls."""
    for _ in range(count):
        verify_text(client.create())


def run_big_stream(client: SyncClient, count: int, sizes: Sizes) -> None:
    """One stream of `count` chunks."""
    verify_stream(client.stream(count), count)


def run_streams(client: SyncClient, count: int, sizes: Sizes) -> None:
    """`count` sequential streams of `sizes.stream_len` chunks."""
    for _ in range(count):
        verify_stream(client.stream(sizes.stream_len), sizes.stream_len)


async def run_async_creates(client: AsyncClient, count: int, sizes: Sizes) -> None:
    """`count` chat.create calls, `sizes.in_flight` at a time (that many workers)."""
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            verify_text(await client.create())

    await asyncio.gather(*(worker() for _ in range(sizes.in_flight)))


async def run_async_streams(client: AsyncClient, count: int, sizes: Sizes) -> None:
    """`count` concurrent streams of `sizes.stream_len` chunks."""

    async def one() -> None:
        verify_stream(await client.stream(sizes.stream_len), sizes.stream_len)

    await asyncio.gather(*(one() for _ in range(count)))


@dataclass(frozen=True)
class Workload:
    """A measured piece of work: its size, its warm-up size, its unit."""

    key: str
    mode: str
    unit: str
    run: Callable[[Any, int, Sizes], Any]
    units: Callable[[Sizes], int]
    warm: Callable[[Sizes], int]
    title: Callable[[Sizes], str]


WORKLOADS = [
    Workload(
        "create",
        "sync",
        "req",
        run_creates,
        lambda s: s.creates,
        lambda s: 20,
        lambda s: f"sync: {s.creates:,} sequential chat.create on one client",
    ),
    Workload(
        "stream_big",
        "sync",
        "chunk",
        run_big_stream,
        lambda s: s.big_stream,
        lambda s: 200,
        lambda s: f"sync: one stream of {s.big_stream:,} chunks",
    ),
    Workload(
        "streams",
        "sync",
        "stream",
        run_streams,
        lambda s: s.streams,
        lambda s: 2,
        lambda s: f"sync: {s.streams:,} sequential streams of {s.stream_len} chunks",
    ),
    Workload(
        "async_create",
        "async",
        "req",
        run_async_creates,
        lambda s: s.async_creates,
        lambda s: 2 * s.in_flight,
        lambda s: f"async: {s.async_creates:,} chat.create, {s.in_flight} in flight",
    ),
    Workload(
        "async_streams",
        "async",
        "stream",
        run_async_streams,
        lambda s: s.async_streams,
        lambda s: 8,
        lambda s: f"async: {s.async_streams} concurrent streams of {s.stream_len} chunks",
    ),
]


# --- measuring ------------------------------------------------------------------------------------------
@dataclass
class Measure:
    """One run of one workload by one client. `connections`: distinct TCP connections that carried its
    requests; `accepted`: new ones the server accepted during it (warm-up connections are reused)."""

    units: int
    wall: float
    cpu: float
    server_cpu: float
    connections: int
    accepted: int
    requests: int


class Failures:
    """What failed, by workload and client: the first traceback of each."""

    def __init__(self) -> None:
        self.by_key: Dict[Tuple[str, str], str] = {}

    def add(self, workload: str, client: str, exc: BaseException) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.by_key.setdefault((workload, client), text)
        kind = "VERIFICATION FAILED" if isinstance(exc, VerificationError) else "FAILED"
        print(f"\n!! {client} {kind} in workload {workload!r}: {exc!r}\n{text}", file=sys.stderr, flush=True)
        if client == FLOOR:
            raise SystemExit(f"raw httpx failed {workload!r}: the harness or the server is broken.")

    def failed(self, workload: str, client: str) -> bool:
        return (workload, client) in self.by_key


class Profiles:
    """Optional cProfile of one client's measured workloads (`--profile`)."""

    def __init__(self, client: Optional[str]) -> None:
        self.client = client
        self.stats: Dict[str, cProfile.Profile] = {}

    def start(self, workload: str, client: str) -> Optional[cProfile.Profile]:
        if client != self.client:
            return None
        profile = self.stats[workload] = cProfile.Profile()
        profile.enable()
        return profile

    def report(self, limit: int = 18) -> None:
        for workload, profile in self.stats.items():
            out = io.StringIO()
            pstats.Stats(profile, stream=out).strip_dirs().sort_stats("tottime").print_stats(limit)
            print(f"\n=== cProfile: {self.client}, {workload} (by own time) ===")
            print("\n".join(out.getvalue().splitlines()[: limit + 12]))


class Bench:
    """Runs the workloads against one server and keeps every measure."""

    def __init__(self, server: BenchServer, sizes: Sizes, profiles: Profiles) -> None:
        self.server = server
        self.sizes = sizes
        self.profiles = profiles
        self.failures = Failures()
        self.measures: Dict[str, Dict[str, List[Measure]]] = {w.key: {} for w in WORKLOADS}

    def _begin(self) -> Dict[str, Any]:
        gc.collect()
        return self.server.reset()

    def _end(self, before: Dict[str, Any], units: int, wall: float, cpu: float) -> Measure:
        after = self.server.stats()
        return Measure(
            units,
            wall,
            cpu,
            after["cpu"] - before["cpu"],
            after["connections"],
            after["accepted"],
            after["requests"],
        )

    def _record(self, workload: Workload, name: str, measure: Measure) -> None:
        self.measures[workload.key].setdefault(name, []).append(measure)

    def sync_round(self, contender: Contender) -> None:
        """Each sync workload, on a fresh client: warm up, reset the server's counters, measure."""
        for workload in (w for w in WORKLOADS if w.mode == "sync"):
            if self.failures.failed(workload.key, contender.name):
                continue
            try:
                if contender.python is not None:
                    self._record(workload, contender.name, self._sync_child(workload, contender.python))
                    continue
                assert contender.make_sync is not None
                client = contender.make_sync(self.server.base_url)
                try:
                    self._record(workload, contender.name, self._sync_one(workload, client, contender.name))
                finally:
                    client.close()
            except Exception as exc:
                self.failures.add(workload.key, contender.name, exc)

    def _sync_one(self, workload: Workload, client: SyncClient, name: str) -> Measure:
        workload.run(client, workload.warm(self.sizes), self.sizes)
        units = workload.units(self.sizes)
        before = self._begin()
        profile = self.profiles.start(workload.key, name)
        wall, cpu = time.perf_counter(), time.process_time()
        workload.run(client, units, self.sizes)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if profile is not None:
            profile.disable()
        return self._end(before, units, wall, cpu)

    def _sync_child(self, workload: Workload, python: str) -> Measure:
        """`_sync_one` in a fresh process of another venv (bench/legacy.py): its CPU is that process's."""
        command = [python, str(Path(__file__).with_name("legacy.py")), self.server.base_url, workload.key]
        with subprocess.Popen(
            [*command, json.dumps(asdict(self.sizes))], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        ) as child:
            assert child.stdin is not None and child.stdout is not None
            line = child.stdout.readline().strip()
            if line == "warm":
                before = self._begin()
                child.stdin.write("go\n")
                child.stdin.flush()
                line = child.stdout.readline().strip()
            child.stdin.close()
        answer = json.loads(line) if line.startswith("{") else {"error": f"child said {line!r}"}
        if "error" in answer:
            raise (VerificationError if answer.get("verification") else RuntimeError)(answer["error"])
        return self._end(before, workload.units(self.sizes), answer["wall"], answer["cpu"])

    def async_round(self, contender: Contender) -> None:
        """Each async workload, on a fresh client in a fresh event loop."""
        if contender.make_async is None:
            return
        for workload in (w for w in WORKLOADS if w.mode == "async"):
            if self.failures.failed(workload.key, contender.name):
                continue
            try:
                measure = asyncio.run(self._async_one(workload, contender))
                self._record(workload, contender.name, measure)
            except Exception as exc:
                self.failures.add(workload.key, contender.name, exc)

    async def _async_one(self, workload: Workload, contender: Contender) -> Measure:
        assert contender.make_async is not None
        client = contender.make_async(self.server.base_url)
        try:
            await workload.run(client, workload.warm(self.sizes), self.sizes)
            units = workload.units(self.sizes)
            before = self._begin()
            profile = self.profiles.start(workload.key, contender.name)
            wall, cpu = time.perf_counter(), time.process_time()
            await workload.run(client, units, self.sizes)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if profile is not None:
                profile.disable()
            return self._end(before, units, wall, cpu)
        finally:
            await client.close()


def _spread(values: List[float]) -> Dict[str, float]:
    """min, median and max across rounds."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def best(measures: List[Measure]) -> Dict[str, Any]:
    """The best of the rounds: least CPU and wall per unit; the most connections any round used."""
    fastest = min(measures, key=lambda m: m.wall)
    return {
        "units": fastest.units,
        "cpu_per_unit": min(m.cpu / m.units for m in measures),
        "wall_per_unit": min(m.wall / m.units for m in measures),
        "rate": fastest.units / fastest.wall,
        "server_cpu": fastest.server_cpu,
        "server_busy": fastest.server_cpu / fastest.wall,
        "connections": max(m.connections for m in measures),
        "accepted": max(m.accepted for m in measures),
        "requests": max(m.requests for m in measures),
        "spread": {
            "cpu_per_unit": _spread([m.cpu / m.units for m in measures]),
            "wall_per_unit": _spread([m.wall / m.units for m in measures]),
        },
        "rounds": [asdict(m) for m in measures],
    }


# --- startup --------------------------------------------------------------------------------------------
_IMPORT_CODE = """import time
t = time.perf_counter()
{statement}
print(time.perf_counter() - t)
"""

_CLIENT_CODE = """import json, time
import {module}
t0 = time.perf_counter()
first = {construct}
t1 = time.perf_counter()
with open("/proc/self/status") as f:
    rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
t2 = time.perf_counter()
second = {construct}
t3 = time.perf_counter()
print(json.dumps({{"first": t1 - t0, "second": t3 - t2, "rss_kib": rss}}))
"""

_BARE_RSS_CODE = """with open("/proc/self/status") as f:
    print(next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")))
"""


def run_child(code: str, python: Optional[str] = None) -> str:
    """Run `code` in a fresh, isolated interpreter (outside the repo, so the installed package is used)."""
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(
            [python or sys.executable, "-I", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
        )
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def startup(contender: Contender, runs: int) -> Dict[str, float]:
    """Import time (best of `runs`), RSS after import + one client, first and second client build."""
    statement = contender.import_code or f"import {contender.module}"
    imports = [float(run_child(_IMPORT_CODE.format(statement=statement), contender.python)) for _ in range(runs)]
    code = _CLIENT_CODE.format(module=contender.module, construct=contender.construct)
    children = [json.loads(run_child(code, contender.python)) for _ in range(runs)]
    return {
        "import": statement,
        "import_ms": min(imports) * 1000,
        "import_ms_spread": _spread([s * 1000 for s in imports]),
        "rss_mib": min(c["rss_kib"] for c in children) / 1024,
        "first_client_ms": min(c["first"] for c in children) * 1000,
        "second_client_ms": min(c["second"] for c in children) * 1000,
    }


def measure_startup(found: List[Contender], runs: int, failures: Failures) -> Dict[str, Any]:
    """`startup` for each contender, plus the RSS of a bare interpreter."""
    results: Dict[str, Any] = {"python_bare_rss_mib": int(run_child(_BARE_RSS_CODE)) / 1024}
    for contender in found:
        try:
            results[contender.name] = startup(contender, runs)
        except Exception as exc:
            failures.add("startup", contender.name, exc)
    return results


# --- report ---------------------------------------------------------------------------------------------
def _table(header: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  " + "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    for row in rows:
        lines.append(
            "  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        )
    return "\n".join(lines)


def _ratio(value: float, floor: Optional[float]) -> str:
    return f"{value / floor:.2f}x" if floor else "-"


def workload_table(workload: Workload, sizes: Sizes, summary: Dict[str, Any], failures: Failures) -> str:
    """One workload: rate, wall and CPU per unit (absolute and x raw httpx), connections, server CPU."""
    floor = summary.get(FLOOR)
    unit = workload.unit
    header = ["client", f"{unit}/s", "wall x", f"CPU us/{unit}", "CPU x", "conns", "new", "server CPU"]
    rows = []
    for name in summary["order"]:
        if failures.failed(workload.key, name):
            rows.append([name, "FAILED", "-", "-", "-", "-", "-", "-"])
            continue
        if name not in summary:
            rows.append([name, "n/a", "-", "-", "-", "-", "-", "-"])
            continue
        r = summary[name]
        rows.append(
            [
                name,
                f"{r['rate']:,.0f}",
                _ratio(r["wall_per_unit"], floor and floor["wall_per_unit"]),
                f"{r['cpu_per_unit'] * 1e6:,.1f}",
                _ratio(r["cpu_per_unit"], floor and floor["cpu_per_unit"]),
                str(r["connections"]),
                str(r["accepted"]),
                f"{r['server_cpu']:.2f}s {r['server_busy']:.0%}",
            ]
        )
    return f"\n{workload.title(sizes)}\n" + _table(header, rows)


def startup_table(results: Dict[str, Any], order: List[str]) -> str:
    """Import time, RSS, client construction, each against raw httpx."""
    floor = results.get(FLOOR)
    header = ["module", "import ms", "import x", "RSS MiB", "RSS - httpx", "1st client ms", "2nd client ms"]
    rows = []
    for name in order:
        r = results.get(name)
        if r is None:
            rows.append([name, "FAILED", "-", "-", "-", "-", "-"])
            continue
        rows.append(
            [
                name,
                f"{r['import_ms']:.1f}",
                _ratio(r["import_ms"], floor and floor["import_ms"]),
                f"{r['rss_mib']:.1f}",
                f"{r['rss_mib'] - floor['rss_mib']:+.1f}" if floor else "-",
                f"{r['first_client_ms']:.2f}",
                f"{r['second_client_ms']:.2f}",
            ]
        )
    bare = f"\n  (a bare interpreter: {results['python_bare_rss_mib']:.1f} MiB RSS)"
    return (
        "\nstartup: fresh interpreters; import best of N, client = one built after import\n"
        + _table(header, rows)
        + bare
    )


@dataclass
class Target:
    """A goal, the measured value, and whether it is met (None: not measured)."""

    goal: str
    value: str
    ok: Optional[bool]


def _get(results: Dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(results, dict) or key not in results:
            return None
        results = results[key]
    return results


def _ratio_target(goal: str, value: Optional[float], floor: Optional[float], limit: float) -> Target:
    if value is None or not floor:
        return Target(goal, "not measured", None)
    ratio = value / floor
    return Target(goal, f"{ratio:.2f}x", ratio <= limit)


def _round_ratios(workloads: Dict[str, Any], key: str) -> str:
    """The range of meganova's per-round CPU ratio to raw httpx (the rounds are interleaved)."""
    mine = _get(workloads, key, MINE, "rounds")
    floor = _get(workloads, key, FLOOR, "rounds")
    if not mine or not floor:
        return ""
    ratios = [(m["cpu"] / m["units"]) / (f["cpu"] / f["units"]) for m, f in zip(mine, floor)]
    return f" (rounds {min(ratios):.2f}-{max(ratios):.2f}x, median {statistics.median(ratios):.2f}x)"


def targets(workloads: Dict[str, Any], start: Dict[str, Any]) -> List[Target]:
    """The goals of the meganova SDK, checked against this run (informational)."""

    def cpu_target(goal: str, key: str, limit: float) -> Target:
        found = _ratio_target(
            goal, _get(workloads, key, MINE, "cpu_per_unit"), _get(workloads, key, FLOOR, "cpu_per_unit"), limit
        )
        return replace(found, value=found.value + _round_ratios(workloads, key)) if found.ok is not None else found

    found = [
        cpu_target("CPU per streamed chunk (one big stream) <= 0.55x raw httpx", "stream_big", 0.55),
        cpu_target("CPU per sync chat.create <= 0.9x raw httpx", "create", 0.9),
        cpu_target("async 64 in flight: CPU per request <= 0.6x raw httpx", "async_create", 0.6),
        cpu_target("async concurrent streams: CPU per stream <= 0.5x raw httpx", "async_streams", 0.5),
    ]
    mine, floor = start.get(MINE), start.get(FLOOR)
    if mine is None or floor is None:
        found.append(Target("cold import <= 1.2x import httpx", "not measured", None))
    else:
        ratio = mine["import_ms"] / floor["import_ms"]
        spread = (mine["import_ms_spread"]["median"] / floor["import_ms_spread"]["median"],)
        found.append(
            Target(
                f"cold `{mine['import']}` <= 1.2x `import httpx`",
                f"{ratio:.2f}x ({mine['import_ms']:.1f} ms; medians {spread[0]:.2f}x)",
                ratio <= 1.2,
            )
        )
    conns = _get(workloads, "streams", MINE, "connections")
    found.append(
        Target(
            "sequential meganova streams reuse one connection",
            "not measured" if conns is None else f"{conns} connection(s)",
            None if conns is None else conns == 1,
        )
    )
    found.extend(_startup_targets(start))
    return found


def _startup_targets(start: Dict[str, Any]) -> List[Target]:
    mine = start.get("meganova")
    floor = start.get(FLOOR)
    if mine is None or floor is None:
        return [Target("startup (import, RSS, construction)", "not measured", None)]
    extra = mine["rss_mib"] - floor["rss_mib"]
    return [
        Target("RSS after import + client <= raw httpx + 6 MiB", f"{extra:+.1f} MiB", extra <= 6),
        Target(
            "second client construction <= 2 ms", f"{mine['second_client_ms']:.2f} ms", mine["second_client_ms"] <= 2
        ),
    ]


def targets_table(found: List[Target]) -> str:
    """PASS / MISS next to each goal."""
    rows = [[t.goal, t.value, {True: "PASS", False: "MISS", None: "MISS (not measured)"}[t.ok]] for t in found]
    return "\ntargets (informational)\n" + _table(["goal", "measured", ""], rows)


# --- main -----------------------------------------------------------------------------------------------
def pin_cpus() -> Tuple[Optional[int], Optional[int]]:
    """(server CPU, client CPU) when the machine allows two different cores, else (None, None)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[-1], cpus[0]


def versions() -> Dict[str, Optional[str]]:
    """Python and the libraries compared."""
    from importlib.metadata import PackageNotFoundError, version

    found: Dict[str, Optional[str]] = {"python": platform.python_version()}
    for name in ("httpx", "httpcore", "httpx2", "httpcore2", "openai", "meganova", "pydantic"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def summarize(bench: Bench, order: List[str]) -> Dict[str, Any]:
    """Each workload's best figures per client, plus the client order."""
    summary: Dict[str, Any] = {}
    for workload in WORKLOADS:
        per_client: Dict[str, Any] = {"order": order}
        for name, measures in bench.measures[workload.key].items():
            if not bench.failures.failed(workload.key, name):
                per_client[name] = best(measures)
        summary[workload.key] = per_client
    return summary


def run_rounds(bench: Bench, found: List[Contender], rounds: int) -> None:
    """The rounds, interleaved: every client runs every workload once per round."""
    for number in range(1, rounds + 1):
        started = time.perf_counter()
        for contender in found:
            bench.sync_round(contender)
            bench.async_round(contender)
        print(f"round {number}/{rounds} done in {time.perf_counter() - started:.1f} s", flush=True)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads, one round")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (the best counts)")
    parser.add_argument("--profile", metavar="CLIENT", help="cProfile this client's workloads (one round)")
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's table from bench-results.json")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run everything, print the tables, write bench-results.json; 1 when a workload failed."""
    args = parse_args(argv)
    if args.readme:
        from readme import rewrite

        rewrite(ROOT / "README.md", RESULTS_PATH)
        print(f"rewrote the performance table of {ROOT / 'README.md'} from {RESULTS_PATH}")
        return 0
    sizes = QUICK if args.quick else Sizes()
    if args.rounds is not None:
        sizes = replace(sizes, rounds=args.rounds)
    found = contenders()
    if args.profile:
        found = [c for c in found if c.name in (FLOOR, args.profile)]
        sizes = replace(sizes, rounds=1)
    server_cpu, client_cpu = pin_cpus()
    started = time.perf_counter()
    server = BenchServer(cpu=server_cpu)
    try:
        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})
        print(f"bench server on {server.base_url} (CPU {server_cpu}), client on CPU {client_cpu}; {versions()}")
        load_before = os.getloadavg()[0]
        print(f"load average before: {load_before:.2f} (other processes on these cores skew wall times)")
        bench = Bench(server, sizes, Profiles(args.profile))
        run_rounds(bench, found, sizes.rounds)
    finally:
        server.stop()
    if args.profile:
        bench.profiles.report()
        return 1 if bench.failures.by_key else 0
    order = [c.name for c in found]
    start = measure_startup(found, sizes.startup_runs, bench.failures)
    start["tool_runner"] = measure_tool_turn(200 if args.quick else 2000)
    meta = {"server_cpu": server_cpu, "client_cpu": client_cpu, "load_average_before": load_before}
    return report(bench, sizes, order, start, meta, time.perf_counter() - started)


def measure_tool_turn(loops: int) -> Dict[str, float]:
    """meganova's tool runner: CPU of one tool turn beyond the chat calls it makes (bench/tool_turn.py)."""
    from tool_turn import measure

    return measure(loops)


def report(
    bench: Bench,
    sizes: Sizes,
    order: List[str],
    start: Dict[str, Any],
    meta: Dict[str, Any],
    elapsed: float,
) -> int:
    """Print the tables and the targets, write bench-results.json."""
    summary = summarize(bench, order)
    print("\nBest of", sizes.rounds, "round(s). x = ratio to raw httpx in this run (lower is better);")
    print("CPU = this process's CPU time; conns = TCP connections used, new = accepted during the workload")
    print(
        f"(the most of any round); server CPU = its CPU seconds and busy share. Load average now: "
        f"{os.getloadavg()[0]:.2f}."
    )
    for workload in WORKLOADS:
        print(workload_table(workload, sizes, summary[workload.key], bench.failures))
    print(startup_table(start, order))
    if "tool_runner" in start:
        print(
            f"\ntool runner (meganova): {start['tool_runner']['cpu_us_per_tool_turn']:.0f} us CPU per tool turn "
            "beyond its chat calls (an answer asking for a tool, the tool run, the next request)"
        )
    found = targets(summary, start)
    print(targets_table(found))
    failures = bench.failures.by_key
    if failures:
        print("\nFAILURES (tracebacks above):")
        for (workload, name), text in failures.items():
            print(f"  {name} / {workload}: {text.strip().splitlines()[-1]}")
    write_results(summary, start, found, failures, sizes, meta, elapsed)
    print(f"\nwrote {RESULTS_PATH} ({elapsed:.0f} s)")
    return 1 if failures else 0


def order_of(summary: Dict[str, Any]) -> List[str]:
    """The clients, in the order they ran."""
    order: List[str] = next(iter(summary.values()))["order"]
    return order


def write_results(
    summary: Dict[str, Any],
    start: Dict[str, Any],
    found: List[Target],
    failures: Dict[Tuple[str, str], str],
    sizes: Sizes,
    meta: Dict[str, Any],
    elapsed: float,
) -> None:
    """All results, as JSON, at the repo root."""
    data = {
        "meta": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": versions(),
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_after": os.getloadavg()[0],
            **meta,
            "order": order_of(summary),
            "sizes": asdict(sizes),
            "seconds": elapsed,
        },
        "workloads": summary,
        "startup": start,
        "targets": [asdict(t) for t in found],
        "failures": [{"workload": w, "client": c, "traceback": t} for (w, c), t in failures.items()],
    }
    RESULTS_PATH.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
