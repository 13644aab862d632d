"""`groundup lm plot DIR`: the training curves of a run, from DIR/metrics.jsonl, as one PNG."""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import DataError


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Training loss per step (with a moving average) and perplexity per epoch."""
    from ..plotting import plt, save
    from .engine import METRICS

    run = Path(run_dir)
    path = run / METRICS
    if not path.exists():
        raise DataError(f"{path}: no such file (is {run} a training folder?)")
    steps, epochs = load_metrics(path)
    if not steps:
        raise DataError(f"{path}: no training steps recorded yet")
    fig, (a, b) = plt().subplots(1, 2, figsize=(11, 4))
    xs = [r["step"] for r in steps]
    ys = [r["loss"] for r in steps]
    a.plot(xs, ys, lw=0.5, alpha=0.4, label="loss per step")
    w = max(1, len(ys) // 100)
    if w > 1:
        avg = [sum(ys[max(0, i - w + 1):i + 1]) / (i + 1 - max(0, i - w + 1)) for i in range(len(ys))]
        a.plot(xs, avg, lw=1.5, label=f"moving average ({w} steps)")
    a.set_xlabel("step")
    a.set_ylabel("cross-entropy (nats/token)")
    a.set_title("training loss")
    a.legend()
    if epochs:
        ex = [r["epoch"] for r in epochs]
        b.plot(ex, [r["train_perplexity"] for r in epochs], "o-", label="train")
        b.plot(ex, [r["valid_perplexity"] for r in epochs], "s-", label="valid")
        finite = [v for r in epochs for v in (r["train_perplexity"], r["valid_perplexity"])
                  if isinstance(v, (int, float)) and math.isfinite(v)]
        if finite and max(finite) / min(finite) > 20:
            b.set_yscale("log")
        b.set_xlabel("epoch")
        b.set_ylabel("perplexity")
        b.legend()
    b.set_title("perplexity per epoch")
    target = Path(out) if out else run / "curves.png"
    save(fig, target, format=None if target.suffix.lower() in (".jpg", ".jpeg") else "png")
    return target


_STEP_FIELDS, _EPOCH_FIELDS = ("step", "loss"), ("epoch", "train_perplexity", "valid_perplexity")


def load_metrics(path: str | Path) -> tuple[list[dict], list[dict]]:
    """The step and epoch records of a metrics.jsonl, checked: DataError naming the line and the
    field for a record that is not a JSON object or whose plotted fields are not numbers. A
    last line cut short by a kill is skipped (the run's own resume cuts it the same way)."""
    from ..io_read import read_regular

    path = Path(path)
    lines = read_regular(path, "metrics file", DataError).split(b"\n")
    steps, epochs = [], []
    for i, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise DataError(f"{path}: line {i}: not UTF-8 ({e.reason} at byte {e.start})") from None
        except ValueError:
            if i >= len(lines) - 1:  # the last line, cut short by a kill
                continue
            raise DataError(f"{path}: line {i}: not a JSON record") from None
        if not isinstance(rec, dict):
            raise DataError(f"{path}: line {i}: a JSON {type(rec).__name__}, expected an object")
        kind = rec.get("kind")
        fields = _STEP_FIELDS if kind == "step" else _EPOCH_FIELDS if kind == "epoch" else ()
        for f in fields:
            v = rec.get(f)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise DataError(f"{path}: line {i}: {kind} record's {f!r} is "
                                f"{'missing' if f not in rec else repr(v)[:40]}, expected a number")
        (steps if kind == "step" else epochs if kind == "epoch" else []).append(rec)
    return steps, epochs
