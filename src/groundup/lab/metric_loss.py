"""Lab: does training for F1 beat cross-entropy on an imbalanced task?

Data: the bundled UCI optdigits set (1797 8x8 digits, CC BY 4.0), task "is it a 9"
(about 10 % positives). Each seed draws a fresh stratified 60/20/20 train/validation/test split
and a fresh initialisation; every method trains the same MLP (64 -> hidden -> 1 logit) with the
same optimizer (Adam) for the same number of full-batch steps, its learning rate picked per
method and seed from ``cfg.lrs`` by the final validation F1:

* ``ce``: binary cross-entropy, predict positive when p > 0.5;
* ``ce+threshold``: the *same* CE model, threshold tuned for F1 on the validation split;
* ``soft-f1``: loss 1 - soft F1 (groundup.train.metric_losses.soft_f1), threshold 0.5;
* ``soft-f1+threshold``: the soft-F1 model with a validation-tuned threshold (an extra row);
* ``reinforce-f1``: REINFORCE with the batch-level F1 of sampled labellings as reward and a
  leave-one-out baseline (groundup.train.metric_losses.reinforce_loss), threshold 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import Result, Table

NAME = "metric-loss"
TITLE = "Training for F1: cross-entropy vs tuned threshold vs soft-F1 vs REINFORCE"
CLAIM = ("Optimising the discrete metric itself (a smooth F1 surrogate or REINFORCE with F1 as "
         "the reward) gives a better test F1 on an imbalanced task than training with "
         "cross-entropy.")

METHODS = ("ce", "ce+threshold", "soft-f1", "soft-f1+threshold", "reinforce-f1")


@dataclass(frozen=True)
class MetricLossConfig:
    seeds: int = 5
    steps: int = 300          # full-batch Adam steps per method
    hidden: int = 32
    lrs: tuple[float, ...] = (1e-2,)  # Adam learning rates tried; each method and seed keeps
    # the one with the best final validation F1 (so no method is stuck with another's lr)
    reinforce_samples: int = 16  # labellings sampled per step
    eval_every: int = 10
    positive_digit: int = 9


PRESETS = {"quick": MetricLossConfig(),
           "full": MetricLossConfig(seeds=10, steps=1000, lrs=(3e-3, 1e-2, 3e-2))}


def load_digits():
    """The bundled optdigits table (see :func:`groundup.data.digits.load_digits`)."""
    import numpy as np

    from ..data.digits import load_digits as _load

    return _load(np.float64)


def stratified_split(y: np.ndarray, rng: np.random.Generator, fractions=(0.6, 0.2, 0.2)):
    """Index arrays (train, val, test) with each class split in the given fractions."""
    parts = [[], [], []]
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        a = int(round(fractions[0] * len(idx)))
        b = a + int(round(fractions[1] * len(idx)))
        for part, chunk in zip(parts, (idx[:a], idx[a:b], idx[b:])):
            part.append(chunk)
    return [rng.permutation(np.concatenate(p)) for p in parts]


def _f1_acc(pred: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    tp = float(np.sum((pred == 1) & (y == 1)))
    denom = float(np.sum(pred == 1) + np.sum(y == 1))
    return (2 * tp / denom if denom else 0.0), float(np.mean(pred == y))


def _best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    grid = np.linspace(0.02, 0.98, 97)
    scores = [_f1_acc((p > t).astype(np.int64), y)[0] for t in grid]
    return float(grid[int(np.argmax(scores))])  # first maximum: ties go to the lower threshold


def _train(method: str, data, cfg: MetricLossConfig, seed: int, lr: float):
    import torch

    from ..train.metric_losses import reinforce_loss, soft_f1

    Xtr, ytr, Xva, yva = data
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(Xtr.shape[1], cfg.hidden), torch.nn.Tanh(),
                                torch.nn.Linear(cfg.hidden, 1))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    ytr_f = ytr.double()
    curve = []

    def f1_reward(a):  # batch F1 of a sampled labelling: 2 TP / (#predicted + #positive)
        a = a.double()
        return 2 * (a * ytr_f).sum() / (a.sum() + ytr_f.sum())

    for step in range(1, cfg.steps + 1):
        z = model(Xtr).squeeze(-1)  # (N,) logits
        if method == "ce":
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, ytr.float())
        elif method == "soft-f1":
            loss = 1 - soft_f1(z, ytr, from_logits=True)
        elif method == "reinforce-f1":
            loss = reinforce_loss(z, f1_reward, baseline="mean", num_samples=cfg.reinforce_samples,
                                  level="batch", generator=gen)
        else:
            raise ValueError(f"unknown method {method!r}")
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % cfg.eval_every == 0 or step == cfg.steps:
            with torch.no_grad():
                pv = torch.sigmoid(model(Xva).squeeze(-1)).numpy()
                train_pred = (model(Xtr).squeeze(-1) > 0).long().numpy()  # p > 0.5
            curve.append((step, _f1_acc(train_pred, ytr.numpy())[0],
                          _f1_acc((pv > 0.5).astype(np.int64), yva.numpy())[0]))
    return model, curve


def run(out: Path, *, full: bool, seed: int, cfg: MetricLossConfig | None = None) -> Result:
    import torch

    from .plotting import plt, save

    cfg = cfg or PRESETS["full" if full else "quick"]
    X, digit = load_digits()
    y = (digit == cfg.positive_digit).astype(np.int64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 64x32 MLP: threads only add overhead
    scores = {m: {"f1": [], "acc": [], "threshold": [], "lr": []} for m in METHODS}
    curves = {m: [] for m in ("ce", "soft-f1", "reinforce-f1")}
    try:
        for i in range(cfg.seeds):
            s = seed + i
            tr, va, te = stratified_split(y, np.random.default_rng(s))
            t = lambda a: torch.from_numpy(a)  # noqa: E731
            data = (t(X[tr]).float(), t(y[tr]), t(X[va]).float(), t(y[va]))
            for method in ("ce", "soft-f1", "reinforce-f1"):
                # the lr with the best final validation F1 (first on ties)
                runs = [(_train(method, data, cfg, s, lr), lr) for lr in cfg.lrs]
                (model, curve), lr = max(runs, key=lambda r: r[0][1][-1][2])
                curves[method].append(curve)
                with torch.no_grad():
                    p_va = torch.sigmoid(model(data[2]).squeeze(-1)).numpy()
                    p_te = torch.sigmoid(model(t(X[te]).float()).squeeze(-1)).numpy()
                thresholds = {method: 0.5}
                if method in ("ce", "soft-f1"):
                    thresholds[method + "+threshold"] = _best_threshold(p_va, y[va])
                for name, th in thresholds.items():
                    f1, acc = _f1_acc((p_te > th).astype(np.int64), y[te])
                    scores[name]["f1"].append(f1)
                    scores[name]["acc"].append(acc)
                    scores[name]["threshold"].append(th)
                    scores[name]["lr"].append(lr)
    finally:
        torch.set_num_threads(threads)

    ms = lambda v: (float(np.mean(v)), float(np.std(v)))  # noqa: E731
    rows, summary = [], {"seeds": cfg.seeds, "steps": cfg.steps, "positives": int(y.sum()),
                         "n": int(len(y)), "positive_rate": float(y.mean())}
    for m in METHODS:
        (f1m, f1s), (am, asd) = ms(scores[m]["f1"]), ms(scores[m]["acc"])
        base = m.split("+")[0]
        val = [c[-1][2] for c in curves[base]] if not m.endswith("+threshold") else None
        rows.append([m, f"{f1m:.3f} +- {f1s:.3f}", f"{am:.4f} +- {asd:.4f}",
                     f"{np.mean(scores[m]['threshold']):.2f}",
                     " ".join(f"{v:g}" for v in scores[m]["lr"]),
                     "" if val is None else f"{np.mean(val):.3f} +- {np.std(val):.3f}"])
        key = m.replace("+", "_").replace("-", "_")
        summary.update({f"{key}_test_f1_mean": f1m, f"{key}_test_f1_std": f1s,
                        f"{key}_test_acc_mean": am, f"{key}_test_acc_std": asd})

    # Training curves: validation F1 (threshold 0.5) and loss, mean over seeds.
    fig, axes = plt().subplots(1, 2, figsize=(11, 4))
    for m, runs in curves.items():
        arr = np.array(runs)  # (seeds, evals, 3)
        steps = arr[0, :, 0]
        axes[0].plot(steps, arr[:, :, 2].mean(0), label=m)
        axes[0].fill_between(steps, arr[:, :, 2].min(0), arr[:, :, 2].max(0), alpha=0.15)
        axes[1].plot(steps, arr[:, :, 1].mean(0), label=m)
    axes[0].set(xlabel="step", ylabel="validation F1 (threshold 0.5)", ylim=(0, 1),
                title=f"'is it a {cfg.positive_digit}' ({y.mean():.0%} positives), mean and range over seeds")
    axes[1].set(xlabel="step", ylabel="training F1 (threshold 0.5), mean over seeds", ylim=(0.5, 1.0),
                title="fit of the training split")
    for a in axes:
        a.legend(fontsize=8)
    plots = [save(fig, out / "training_curves.png")]

    best = max(METHODS, key=lambda m: np.mean(scores[m]["f1"]))
    f1 = {m: np.array(scores[m]["f1"]) for m in METHODS}
    ref = "ce" if np.mean(f1["ce"]) >= np.mean(f1["ce+threshold"]) else "ce+threshold"
    # Paired by seed (same split): a metric-trained model "helps" when its mean F1 gain over
    # the better CE variant exceeds two standard errors of the paired differences.
    helps, hurts, diffs = [], [], []
    for m in ("soft-f1", "soft-f1+threshold", "reinforce-f1"):
        d = f1[m] - f1[ref]
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.inf
        key = m.replace("-", "_").replace("+", "_")
        summary[f"{key}_minus_best_ce_f1"] = float(d.mean())
        summary[f"{key}_minus_best_ce_f1_se"] = float(se)
        diffs.append(f"{m} {d.mean():+.3f} +- {se:.3f}")
        if d.mean() > 2 * se:
            helps.append(m)
        elif d.mean() < -2 * se:
            hurts.append(m)
    summary["best_method"] = best
    for m, runs in curves.items():  # how far each objective fits the training split
        summary[f"{m.replace('-', '_')}_train_f1_final"] = float(np.mean([c[-1][1] for c in runs]))
        summary[f"{m.replace('-', '_')}_val_f1_final"] = float(np.mean([c[-1][2] for c in runs]))
    detail = (f"paired test-F1 differences vs {ref} ({np.mean(f1[ref]):.3f}) over {cfg.seeds} "
              f"seeds: " + "; ".join(diffs))
    if helps:
        verdict = f"Held for {', '.join(helps)}: {detail}."
    else:
        worse = f" ({', '.join(hurts)} significantly worse)" if hurts else ""
        verdict = (f"Did not hold: no metric-trained model beat cross-entropy by more than two "
                   f"paired standard errors{worse}; {detail}. Best mean test F1: {best}.")
    return Result(
        name=NAME, title=TITLE, claim=CLAIM, verdict=verdict, summary=summary,
        tables=[Table(f"Test F1 and accuracy, mean +- std over {cfg.seeds} seeds (split and init "
                      f"vary with the seed); {cfg.steps} full-batch Adam steps, lr from "
                      f"{', '.join(f'{v:g}' for v in cfg.lrs)} by validation F1, "
                      f"MLP 64-{cfg.hidden}-1",
                      ["method", "test F1", "test accuracy", "threshold (mean)",
                       "Adam lr per seed", "validation F1 at 0.5 (final)"], rows)],
        plots=plots,
        notes=["Data: UCI optdigits (CC BY 4.0) as shipped by scikit-learn, bundled in "
               "groundup/data/bundled/tabular; task 'is it a 9'.",
               "ce+threshold (soft-f1+threshold) reuses the ce (soft-f1) model; only the decision "
               "threshold changes, chosen on the validation split for F1.",
               f"REINFORCE: Bernoulli policy over the whole training set, reward = F1 of the "
               f"sampled labelling, {cfg.reinforce_samples} samples per step, leave-one-out baseline."],
    )
