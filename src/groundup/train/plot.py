"""`groundup lm plot DIR`: the training curves of a run, from DIR/metrics.jsonl, as one PNG."""
from __future__ import annotations

import math
from pathlib import Path

from ..errors import DataError


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Training loss per step (with a moving average) and perplexity per epoch."""
    from ..lab.plotting import plt, save
    from .engine import METRICS, read_metrics

    run = Path(run_dir)
    path = run / METRICS
    if not path.exists():
        raise DataError(f"{path}: no such file (is {run} a training folder?)")
    records = read_metrics(path)
    steps = [r for r in records if r.get("kind") == "step"]
    epochs = [r for r in records if r.get("kind") == "epoch"]
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
