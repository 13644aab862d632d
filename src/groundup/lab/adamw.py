"""Lab: Adam with L2 regularisation vs AdamW (decoupled weight decay), Loshchilov & Hutter 2019.

Task: the bundled UCI optdigits table (1,797 8x8 digits, CC BY 4.0); a one-hidden-layer MLP
(64 -> 64 ReLU -> 10) trained full-batch on a small, seeded, stratified training set (so that
regularisation matters), final cross-entropy on the held-out rest. Grid: optimizer x learning
rate x weight decay x seeds, with :class:`groundup.optim.Adam` (L2 in the gradient) and
:class:`groundup.optim.AdamW` (decay applied to the weights, scaled by lr as in torch).

Why they differ: with L2 the decay term lambda*theta enters the gradient and is divided by
sqrt(v_hat) like the data gradient, so a weight with large gradients is barely decayed and a
weight with tiny gradients is decayed at up to the full step size; AdamW shrinks every weight
by the same factor (1 - lr*lambda). The lab shows both the outcome (validation loss over the
lr x lambda grid) and the mechanism (how much each optimizer shrank the first-layer weights,
grouped by the size of their gradients).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from ..utils import torch_threads
from .base import Plot, Result, Table

NAME = "adamw"
TITLE = "Adam + L2 vs AdamW: decoupled weight decay"
CLAIM = ("Under adaptive step sizes, L2 regularisation is not weight decay: Adam divides the "
         "L2 gradient by sqrt(v), so it decays weights with large gradients less; decoupling "
         "the decay (AdamW) regularises differently and generalises better.")

CRITERION = ("Two parts. Differently: with L2 inside Adam, the effective decay of the first-layer weights "
             "in the smallest gradient-RMS quartile is more than 10x that of the largest. Better: "
             "AdamW's best mean held-out loss over the grid is below Adam+L2's by more than the seed "
             "noise (larger best-cell seed std / sqrt(seeds)). Held iff both; inconclusive iff "
             "'differently' holds and the two best losses are within the seed noise; otherwise did "
             "not hold.")


@dataclass(frozen=True)
class AdamWLabConfig:
    n_train: int = 100
    hidden: int = 128
    steps: int = 200
    lrs: tuple[float, ...] = (1e-3, 3e-3, 1e-2)
    l2: tuple[float, ...] = (0.0, 1e-4, 1e-3, 1e-2, 1e-1)       # Adam: lambda in the gradient
    decay: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0, 3.0)        # AdamW: lambda (times lr)
    seeds: int = 2


PRESETS = {"quick": AdamWLabConfig(),
           "full": AdamWLabConfig(n_train=300, steps=600, seeds=5, lrs=(3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
                                  l2=(0.0, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
                                  decay=(0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0))}


def load_digits():
    """The bundled optdigits table (see :func:`groundup.data.digits.load_digits`)."""
    import numpy as np

    from ..data.digits import load_digits as _load

    return _load(np.float32)


def split(y, n_train: int, seed: int):
    """Stratified: n_train/10 of each class for training, the rest held out."""
    import numpy as np

    rng = np.random.default_rng(seed)
    tr, va = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        tr.append(idx[: n_train // 10])
        va.append(idx[n_train // 10:])
    return np.concatenate(tr), np.concatenate(va)


def train_one(kind: str, lr: float, wd: float, seed: int, data, cfg: AdamWLabConfig):
    """Train one MLP; return (final validation loss, validation accuracy, model, optimizer)."""
    import torch

    from ..optim import Adam, AdamW

    Xtr, ytr, Xva, yva = data
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, cfg.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(cfg.hidden, 10))
    opt = (Adam(model.parameters(), lr=lr, weight_decay=wd) if kind == "Adam+L2"
           else AdamW(model.parameters(), lr=lr, weight_decay=wd))
    loss_fn = torch.nn.functional.cross_entropy
    for _ in range(cfg.steps):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(Xtr), ytr).backward()
        opt.step()
    with torch.no_grad():
        logits = model(Xva)
        val = float(loss_fn(logits, yva))
        acc = float((logits.argmax(1) == yva).float().mean())
    if not math.isfinite(val):
        val = float("inf")
    return val, acc, model, opt


def shrinkage_by_gradient(kind: str, lr: float, wd: float, seed: int, data, cfg):
    """Per quartile of the first-layer weights' gradient RMS sqrt(v_hat) (of the run with decay):
    the weight norm with decay / without (same seed and init), and the effective decay rate per
    step relative to lr*lambda: 1 / (sqrt(v_hat) + eps) for L2-in-Adam (the decay term is divided
    like the gradient), exactly 1 for AdamW. Returns (norm ratios, relative decay rates)."""
    import torch

    _, _, m0, _ = train_one(kind, lr, 0.0, seed, data, cfg)
    _, _, m1, o1 = train_one(kind, lr, wd, seed, data, cfg)
    w0, w1 = m0[0].weight.detach().flatten(), m1[0].weight.detach().flatten()
    st = o1.state[m1[0].weight]
    beta2, eps = o1.param_groups[0]["betas"][1], o1.param_groups[0]["eps"]
    rms = (st["exp_avg_sq"].flatten() / (1 - beta2 ** float(st["step"]))).sqrt()
    order = torch.argsort(rms)
    ratios, rates = [], []
    for q in order.chunk(4):
        ratios.append(float(w1[q].norm() / w0[q].norm().clamp_min(1e-12)))
        rates.append(float((1 / (rms[q] + eps)).median()) if kind == "Adam+L2" else 1.0)
    return ratios, rates


def run(out: Path, *, full: bool = False, seed: int = 0) -> Result:
    import numpy as np
    import torch

    from .plotting import plt, save

    cfg = PRESETS["full" if full else "quick"]
    t0 = time.perf_counter()
    with torch_threads(1):              # tiny matrices: one thread is fastest and fair
        X, y = load_digits()
        tr, va = split(y, cfg.n_train, seed)
        data = (torch.from_numpy(X[tr]), torch.from_numpy(y[tr]),
                torch.from_numpy(X[va]), torch.from_numpy(y[va]))
        grids = {"Adam+L2": cfg.l2, "AdamW": cfg.decay}
        loss = {k: np.zeros((len(cfg.lrs), len(g), cfg.seeds)) for k, g in grids.items()}
        acc = {k: np.zeros_like(v) for k, v in loss.items()}
        for kind, wds in grids.items():
            for i, lr in enumerate(cfg.lrs):
                for j, wd in enumerate(wds):
                    for s in range(cfg.seeds):
                        loss[kind][i, j, s], acc[kind][i, j, s], _, _ = train_one(
                            kind, lr, wd, seed * 1000 + s, data, cfg)
        mean = {k: v.mean(axis=2) for k, v in loss.items()}
        best = {}
        for kind, m in mean.items():
            i, j = np.unravel_index(np.argmin(m), m.shape)
            best[kind] = dict(lr=cfg.lrs[i], wd=grids[kind][j], val_loss=float(m[i, j]),
                              val_acc=float(acc[kind][i, j].mean()),
                              seed_std=float(loss[kind][i, j].std(ddof=1)) if cfg.seeds > 1 else 0.0,
                              no_decay=float(m[i, 0]))
        for kind, m in mean.items():   # strongest decay that is still near the best, at the best lr
            i = cfg.lrs.index(best[kind]["lr"])
            near = [j for j in range(1, len(grids[kind])) if m[i, j] <= 1.1 * best[kind]["val_loss"]]
            best[kind]["strong_wd"] = grids[kind][max(near)] if near else grids[kind][1]
        shrink, rates = {}, {}
        for k in grids:
            shrink[k], rates[k] = shrinkage_by_gradient(k, best[k]["lr"], best[k]["strong_wd"],
                                                        seed * 1000, data, cfg)

    # --- plots: heatmaps of validation loss over (lr, lambda), and the best-over-lr lines
    fig, axes = plt().subplots(1, 3, figsize=(15, 4.2), layout="constrained")  # no label overlaps
    vmax = float(np.nanpercentile(np.concatenate([m[np.isfinite(m)] for m in mean.values()]), 95))
    vmin = min(b["val_loss"] for b in best.values())
    for ax, (kind, m) in zip(axes[:2], mean.items()):
        im = ax.imshow(np.minimum(m, vmax), origin="lower", aspect="auto", cmap="viridis_r", vmin=vmin, vmax=vmax)
        ax.set_xticks(range(len(grids[kind])), [f"{w:g}" for w in grids[kind]])
        ax.set_yticks(range(len(cfg.lrs)), [f"{lr:g}" for lr in cfg.lrs])
        ax.set_xlabel("weight decay lambda" + (" (in the gradient)" if kind == "Adam+L2" else " (x lr, decoupled)"))
        ax.set_ylabel("learning rate")
        ax.set_title(f"{kind}: final validation loss")
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w" if v > (vmin + vmax) / 2 else "k")
        fig.colorbar(im, ax=ax)
    ax = axes[2]
    for kind, m in mean.items():
        for i, lr in enumerate(cfg.lrs):
            xs = np.arange(len(grids[kind]))
            ax.plot(xs, m[i], marker="o", ls="-" if kind == "AdamW" else "--",
                    label=f"{kind}, lr {lr:g}", color=f"C{i}")
    ax.set_xticks(range(max(len(g) for g in grids.values())))
    ax.set_xlabel("weight-decay grid index (0 = none; grids in the heatmaps)")
    ax.set_ylabel("final validation cross-entropy")
    ax.set_ylim(vmin * 0.9, vmax)
    ax.set_title("validation loss vs weight decay\n(dashed Adam+L2, solid AdamW)")
    ax.legend(fontsize=7)
    plots = [Plot(save(fig, Path(out) / "adamw_grid.png"),
                  "Final held-out loss over the learning-rate x weight-decay grid for Adam+L2 (left) and "
                  "AdamW (middle), and every grid row as a line (right: dashed Adam+L2, solid AdamW). "
                  "Look for: the lowest cell of each heatmap (compare the values; the two lambda scales "
                  "differ), and whether a good lambda stays good across learning rates.")]

    fig, ax = plt().subplots(figsize=(6, 4))
    for kind, s in shrink.items():
        ax.plot(range(1, 5), s, marker="o", label=f"{kind} (lr {best[kind]['lr']:g}, lambda {best[kind]['strong_wd']:g})")
    ax.set_xticks(range(1, 5), ["smallest", "2nd", "3rd", "largest"])
    ax.set_xlabel("first-layer weights, by quartile of gradient RMS sqrt(v)")
    ax.set_ylabel("weight norm with decay / without")
    ax.set_title("who gets decayed")
    ax.legend(fontsize=8)
    plots.append(Plot(save(fig, Path(out) / "adamw_shrinkage.png"),
                      "First-layer weight norm with decay divided by the same run without, by quartile of "
                      "the weights' gradient RMS sqrt(v). Look for: AdamW's line flat (every weight "
                      "shrunk alike) and Adam+L2's rising from left to right (the weights with the "
                      "smallest gradients shrunk most)."))

    # --- verdict
    a, w = best["Adam+L2"], best["AdamW"]
    noise = max(a["seed_std"], w["seed_std"]) / math.sqrt(max(cfg.seeds, 1))
    better = w["val_loss"] < a["val_loss"] - noise
    tied = abs(w["val_loss"] - a["val_loss"]) <= noise
    gain = {k: b["no_decay"] - b["val_loss"] for k, b in best.items()}
    ra = rates["Adam+L2"]
    spread = ra[0] / ra[3]          # L2's decay on the smallest-gradient quartile vs the largest
    different = spread > 10
    held = True if better and different else None if different and tied else False
    word = "Held" if better and different else "Partly held" if better or different else "Did not hold"
    verdict = (
        f"{word} in this run. Differently: yes{'' if different else ' (weakly)'} - with L2 inside Adam the "
        f"decay a weight gets per step is divided by its gradient RMS, so the first-layer weights "
        f"with the smallest gradients were decayed {spread:.0f}x faster than those with the largest, "
        f"where AdamW decays all alike. Better: {'yes' if better else 'within seed noise' if tied else 'no'}"
        f" - best held-out loss "
        f"AdamW {w['val_loss']:.3f} (lr {w['lr']:g}, lambda {w['wd']:g}) vs Adam+L2 "
        f"{a['val_loss']:.3f} (lr {a['lr']:g}, lambda {a['wd']:g}), seed noise ~{noise:.3f}."
    )
    summary = {"adam_l2_best_val_loss": a["val_loss"], "adam_l2_best_lr": a["lr"], "adam_l2_best_wd": a["wd"],
               "adamw_best_val_loss": w["val_loss"], "adamw_best_lr": w["lr"], "adamw_best_wd": w["wd"],
               "adam_l2_best_val_acc": a["val_acc"], "adamw_best_val_acc": w["val_acc"],
               "adam_l2_gain_over_no_decay": gain["Adam+L2"], "adamw_gain_over_no_decay": gain["AdamW"],
               "seed_noise": noise, "l2_decay_spread_q1_over_q4": spread, "runs": int(sum(v.size for v in loss.values()))}
    tables = [Table(f"{kind}: mean final validation loss over {cfg.seeds} seeds (rows lr, columns lambda)",
                    ["lr \\ lambda"] + [f"{x:g}" for x in grids[kind]],
                    [[f"{lr:g}"] + [round(float(v), 4) for v in mean[kind][i]] for i, lr in enumerate(cfg.lrs)])
              for kind in grids]
    tables.append(Table("First-layer weights by gradient-RMS quartile: norm with / without decay",
                        ["optimizer", "lr", "lambda", "q1 (smallest grads)", "q2", "q3", "q4 (largest)"],
                        [[k, best[k]["lr"], best[k]["strong_wd"]] + [round(x, 3) for x in s]
                         for k, s in shrink.items()]))
    tables.append(Table("Effective decay per step relative to lr*lambda, by gradient-RMS quartile",
                        ["optimizer", "q1 (smallest grads)", "q2", "q3", "q4 (largest)"],
                        [[k] + [f"{x:.3g}" for x in r] for k, r in rates.items()]))
    notes = [f"Data: UCI optdigits (CC BY 4.0) bundled in groundup/data/bundled/tabular; {cfg.n_train} "
             f"training digits (stratified, seed {seed}), {len(va)} held out. MLP 64-{cfg.hidden}-10, "
             f"full-batch, {cfg.steps} steps, final (not best) validation cross-entropy.",
             "The two lambda grids differ: Adam's lambda multiplies theta inside the gradient, AdamW's "
             "multiplies lr*theta (torch's convention), so equal numbers are not equal strengths; "
             "compare the best cell and the shape of each heatmap.",
             "Shrinkage: at each optimizer's best lr, its strongest lambda whose validation loss is "
             "within 10% of its best, against the same run without decay (same seed and init)."]
    return Result(name=NAME, title=TITLE, claim=CLAIM, verdict=verdict, held=held,
                  criterion=CRITERION, summary=summary, tables=tables,
                  plots=plots, notes=notes, seconds=time.perf_counter() - t0,
                  mode="full" if full else "quick")
