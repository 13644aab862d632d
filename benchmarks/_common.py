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
    """Peak of live CPU-allocator bytes while ``fn()`` runs (groundup.utils.live_peak_bytes:
    torch.profiler's raw allocation records; peak RSS hides freed tensors, BASELINES.md §6)."""
    from groundup.utils import live_peak_bytes

    return live_peak_bytes(fn)


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
