"""Shared benchmark helpers: timing medians, peak live CPU memory, Markdown + JSON output."""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def peak_live_bytes(fn) -> int:
    """Peak of live CPU-allocator bytes while ``fn()`` runs, from torch.profiler's allocation
    records (exact and allocator-independent; peak RSS hides freed tensors, BASELINES.md §6)."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    # Every allocation/free record: prof.events() keeps as "[memory]" only those outside any op
    # (the rest are folded into their op's cpu_memory_usage), so read the raw Kineto records.
    mem = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                 if e.name() == "[memory]" and e.device_type() == DeviceType.CPU)
    live = peak = 0
    for _, delta in mem:
        live += delta
        peak = max(peak, live)
    return peak


def median_time(fn, reps: int = 3, warmup: int = 1) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), ts


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def markdown_table(headers, rows) -> str:
    def f(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(f(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def write_json(path: str | Path, payload) -> None:
    from groundup.io import write_text

    write_text(path, json.dumps(payload, indent=2) + "\n")
