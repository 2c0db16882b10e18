"""`python bench/run.py --readme`: the README's performance table, rewritten from bench-results.json.

Only what is between `<!-- bench-table:start -->` and `<!-- bench-table:end -->` changes: the run's line
(versions, rounds, load average) and the table, each figure with its ratio to raw httpx in the same run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

START = "<!-- bench-table:start -->"
END = "<!-- bench-table:end -->"
FLOOR = "httpx"
COLUMNS = [("httpx", "raw httpx"), ("httpx2", "httpx2"), ("openai", "openai"), ("meganova 0.4.0", "meganova 0.4.0")]
MINE = "meganova"
TIMES = "\u00d7"

_WORKLOAD_ROWS = [
    ("create", "{creates:,} sequential `chat.create`, CPU per request"),
    ("stream_big", "one stream of {big_stream:,} chunks, CPU per chunk"),
    ("streams", "{streams:,} sequential streams of {stream_len} chunks: CPU per stream / TCP connections"),
    ("async_create", "async, {async_creates:,} `chat.create` with {in_flight} in flight: CPU per request"),
    ("async_streams", "async, {async_streams} concurrent streams of {stream_len} chunks: CPU per stream"),
]


def _us(value: float) -> str:
    return f"{value:,.0f} µs" if value >= 100 else f"{value:.1f} µs"


def _workload_cell(key: str, name: str, workloads: Dict[str, Any], failed: List[Any]) -> str:
    if any(f["workload"] == key and f["client"] == name for f in failed):
        return "failed"
    mine = workloads.get(key, {}).get(name)
    if mine is None:
        return "n/a"
    floor = workloads[key].get(FLOOR)
    cell = _us(mine["cpu_per_unit"] * 1e6)
    if floor:
        cell += f" ({mine['cpu_per_unit'] / floor['cpu_per_unit']:.2f}{TIMES})"
    if key == "streams":
        cell += f" / {mine['connections']}"
    return cell


def _startup_cells(start: Dict[str, Any], names: List[str]) -> List[List[str]]:
    floor = start.get(FLOOR)
    rows = [
        ["cold import (`from meganova import MegaNova, AsyncMegaNova` for meganova)"],
        ["RSS after import + one client"],
    ]
    rows.append(["constructing a second client"])
    for name in names:
        r = start.get(name)
        if r is None:
            for row in rows:
                row.append("n/a")
            continue
        ratio = f" ({r['import_ms'] / floor['import_ms']:.2f}{TIMES})" if floor else ""
        rows[0].append(f"{r['import_ms']:.1f} ms{ratio}")
        extra = f" ({r['rss_mib'] - floor['rss_mib']:+.1f})" if floor and name != FLOOR else ""
        rows[1].append(f"{r['rss_mib']:.1f} MiB{extra}")
        rows[2].append(f"{r['second_client_ms']:.2f} ms")
    return rows


def render(data: Dict[str, Any]) -> str:
    """The run's line and the markdown table."""
    meta, workloads, start = data["meta"], data["workloads"], data["startup"]
    order: List[str] = meta.get("order") or next(iter(workloads.values()))["order"]
    names = [n for n, _ in COLUMNS if n in order] + [MINE]
    titles = dict(COLUMNS, **{MINE: "meganova"})
    v = meta["versions"]
    sizes = meta["sizes"]
    before: Optional[float] = meta.get("load_average_before")
    load = f"load average {before:.2f} before it, {meta['load_average_after']:.2f} after" if before is not None else ""
    line = (
        f"A run on this {meta['cpus']}-core machine ({meta['when'][:10]}; Python {v['python']}, httpx {v['httpx']}, "
        f"httpcore {v['httpcore']}, openai {v['openai']}; best of {sizes['rounds']} round(s), {load}; "
        f"CPU = the client process's CPU time, {TIMES} = ratio to raw httpx in the same run):"
    )
    header = ["workload", *(titles[n] for n in names)]
    rows = [
        [title.format(**sizes), *(_workload_cell(key, n, workloads, data.get("failures", [])) for n in names)]
        for key, title in _WORKLOAD_ROWS
    ]
    rows += _startup_cells(start, names)
    tool = start.get("tool_runner")
    rows.append(
        [
            "one tool turn of `chat.run_tools`, CPU beyond its chat calls",
            *([""] * (len(names) - 1)),
            f"{tool['cpu_us_per_tool_turn']:.0f} µs" if tool else "n/a",
        ]
    )
    table = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    return line + "\n\n" + "\n".join(table)


def rewrite(readme: Path, results: Path) -> None:
    """Replace what is between the markers with `render` of `results`."""
    text = readme.read_text()
    head, found, rest = text.partition(START)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"{readme}: no {START} ... {END} markers")
    body = render(json.loads(results.read_text()))
    readme.write_text(f"{head}{START}\n{body}\n{END}{tail}")
