"""Lab: activation functions, from the threshold unit to SwiGLU, on one small real task.

Every activation in :mod:`groundup.nn.activations` is plotted with its derivative, measured
into a properties table, and used in the same 3-hidden-layer MLP on the bundled 8x8 digits
(UCI optdigits via scikit-learn, CC BY 4.0), trained by SGD with momentum from the same
initial seeds. We record the training loss per epoch, the test accuracy over seeds, and the
fraction of dead ReLU units (no positive pre-activation on any training example, hence no
gradient ever again) at the normal and at a 10x learning rate.
"""
from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np

from .base import Result, Table

NAME = "activations"
TITLE = "Activation functions: threshold unit to SwiGLU, trained on the same MLP"
CLAIM = ("Non-saturating activations (ReLU and its smooth successors GELU, SiLU/Swish, Mish, "
         "and the gated GLU family) train a deep network faster than the saturating sigmoid "
         "and tanh, and some ReLU units die during training, more so at a high learning rate.")

WIDTH = 64          # hidden width of the plain MLP (64 -> 64 -> 64 -> 64 -> 10)
DEPTH = 3
LR = 0.1
HIGH_LR = 1.0
BATCH = 128
CLIP = 1.0          # gradient-norm clipping, as Transformer training does, for every network
CLASSIC = ("step", "sigmoid", "tanh", "hardtanh")
MODERN = ("gelu", "gelu_tanh", "silu", "swish_learnable", "mish")
GATED_NAMES = ("glu", "reglu", "geglu", "swiglu")
DEAD_TRACKED = ("relu", "reglu")


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """(X (1797, 64) float32 in [0, 1], y (1797,) int64) from the bundled csv.gz."""
    from ..data.locate import bundled_path
    from ..errors import DataError

    path = bundled_path("digits", "digits.csv.gz")
    try:
        with gzip.open(path, "rt", encoding="ascii") as f:
            data = np.loadtxt(f, delimiter=",", dtype=np.int64)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read the bundled digits file {path}: {e}") from e
    if data.ndim != 2 or data.shape[1] != 65:
        raise DataError(f"{path}: expected 65 columns, got shape {data.shape}")
    return (data[:, :64] / 16.0).astype(np.float32), data[:, 64]


def make_mlp(activation: str, d_in: int = 64, n_classes: int = 10, width: int = WIDTH,
             depth: int = DEPTH):
    """The same MLP for every activation. A gated unit halves its input, so its layer projects
    to 2 w' with w' = 2/3 * width (the FFN convention), which keeps the weights within ~10%."""
    from torch import nn

    from ..nn.activations import GATED, get

    layers: list = []
    d = d_in
    for _ in range(depth):
        if activation in GATED:
            w = (2 * width) // 3
            layers += [nn.Linear(d, 2 * w), get(activation)]
        else:
            w = width
            layers += [nn.Linear(d, w), get(activation)]
        d = w
    layers.append(nn.Linear(d, n_classes))
    for m in layers:  # LeCun normal (LeCun et al. 1998): Var(w) = 1 / fan_in, zero bias
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=m.in_features ** -0.5)
            nn.init.zeros_(m.bias)
    return nn.Sequential(*layers)


def lsuv_(model, x, iters: int = 3) -> None:
    """Layer-sequential unit-variance scaling (Mishkin & Matas 2016, without the orthogonal
    start): rescale each Linear, first to last, until its outputs have unit variance on ``x``.
    Every activation then starts from the same forward signal scale - without it a stack of
    products a * act(b) (the gated units) shrinks its signal quadratically with depth."""
    import torch

    with torch.no_grad():
        for i, m in enumerate(model):
            if not isinstance(m, torch.nn.Linear):
                continue
            for _ in range(iters):
                std = model[:i + 1](x).std().item()
                if std > 0:
                    m.weight.div_(std)


def _dead_fraction(model, x, gated: bool) -> float:
    """Fraction of hidden units whose pre-activation is <= 0 on every example of ``x``: for a
    ReLU that unit outputs 0 and passes no gradient to its weights - it is dead."""
    import torch

    pre = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: pre.append(inp[0]))
             for m in model if not isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    dead = total = 0
    for z in pre:
        if gated:
            z = z.chunk(2, dim=-1)[1]  # the gate half
        alive = (z > 0).any(0)
        dead += int((~alive).sum())
        total += alive.numel()
    return dead / total


def train_one(activation: str, data, seed: int, epochs: int, lr: float = LR) -> dict:
    import torch
    import torch.nn.functional as F

    xtr, ytr, xte, yte = data
    torch.manual_seed(seed)
    model = make_mlp(activation)
    lsuv_(model, xtr[:512])
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    gated = activation in GATED_NAMES
    track = activation in DEAD_TRACKED  # the per-epoch census costs a full forward pass
    losses, dead = [], [_dead_fraction(model, xtr, gated)]
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(xtr), generator=g)
        total = 0.0
        for i in range(0, len(xtr), BATCH):
            idx = perm[i:i + BATCH]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(xtr))
        if track:
            dead.append(_dead_fraction(model, xtr, gated))
    if not track:
        dead.append(_dead_fraction(model, xtr, gated))
    with torch.no_grad():
        acc = (model(xte).argmax(-1) == yte).float().mean().item()
        train_loss = F.cross_entropy(model(xtr), ytr).item()
    return {"losses": losses, "dead": dead, "test_acc": acc, "final_train_loss": train_loss,
            "params": sum(p.numel() for p in model.parameters()),
            "seconds": time.perf_counter() - t0, "finite": bool(np.isfinite(losses).all())}


def _plot_functions(out: Path) -> str:
    import torch

    from ..nn.activations import ELEMENTWISE, get
    from .plotting import plt, save

    names = list(ELEMENTWISE)
    x = torch.linspace(-5, 5, 1001, dtype=torch.float64, requires_grad=True)
    cols = 5
    rows = -(-len(names) // cols)
    fig, axes = plt().subplots(rows, cols, figsize=(3.0 * cols, 2.4 * rows), sharex=True)
    for ax, name in zip(axes.flat, names):
        y = get(name).double()(x)
        (dy,) = torch.autograd.grad(y.sum(), x)
        ax.plot(x.detach(), y.detach(), label="f(x)")
        ax.plot(x.detach(), dy, "--", label="f'(x)" + (" (surrogate)" if name == "step" else ""))
        ax.axhline(0, color="0.8", lw=0.5)
        ax.axvline(0, color="0.8", lw=0.5)
        ax.set_title(name, fontsize=9)
        ax.set_ylim(-2, 3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Activations and their derivatives (autograd of our implementations)")
    return save(fig, out / "functions.png")


def run(out: Path, *, full: bool, seed: int) -> Result:
    import torch

    from ..nn.activation_properties import properties_table
    from ..nn.activations import ELEMENTWISE, GATED
    from .plotting import plt, save

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest and fair under load
    try:
        return _run(out, full, seed, properties_table, list(ELEMENTWISE) + list(GATED), plt,
                    save)
    finally:
        torch.set_num_threads(threads)


def _run(out, full, seed, properties_table, names, plt, save) -> Result:
    import torch

    epochs = 40 if full else 12
    n_seeds = 5 if full else 3
    X, y = load_digits()
    rng = np.random.default_rng(12345)  # one fixed split; seeds vary init and batch order
    perm = rng.permutation(len(X))
    n_test = len(X) // 4
    te, tr = perm[:n_test], perm[n_test:]
    data = (torch.from_numpy(X[tr]), torch.from_numpy(y[tr]), torch.from_numpy(X[te]),
            torch.from_numpy(y[te]))

    runs: dict[str, list[dict]] = {}
    for name in names:
        runs[name] = [train_one(name, data, seed + s, epochs) for s in range(n_seeds)]
    runs["relu@high_lr"] = [train_one("relu", data, seed + s, epochs, lr=HIGH_LR)
                            for s in range(n_seeds)]

    rows, summary = [], {}
    for name, rs in runs.items():
        acc = np.array([r["test_acc"] for r in rs])
        loss = np.array([r["final_train_loss"] for r in rs])
        rows.append([name, rs[0]["params"], f"{loss.mean():.4f} ± {loss.std():.4f}",
                     f"{100 * acc.mean():.2f} ± {100 * acc.std():.2f}",
                     f"{100 * np.mean([r['dead'][-1] for r in rs]):.1f}",
                     f"{np.mean([r['seconds'] for r in rs]):.2f}"])
        summary[f"acc_{name}"] = round(float(acc.mean()), 4)
        summary[f"loss_{name}"] = round(float(loss.mean()), 4)
    for key in ("relu", "relu@high_lr"):
        summary[f"dead_final_{key}"] = round(float(np.mean([r["dead"][-1] for r in runs[key]])), 4)
        summary[f"dead_max_{key}"] = round(float(np.max([max(r["dead"]) for r in runs[key]])), 4)

    props = properties_table(timing=True, repeats=5, n=1 << 20)
    prop_cols = list(props[0])
    tables = [
        Table(f"Digits MLP (3 x {WIDTH} hidden, SGD+momentum lr {LR}, {epochs} epochs, "
              f"{n_seeds} seeds): final train loss and test accuracy, mean ± std",
              ["activation", "params", "train loss", "test acc %", "dead units % (z<=0 on all)",
               "s / run"], rows),
        Table("Properties measured from the code (groundup.nn.activation_properties)",
              prop_cols, [[("-" if r[c] is None else r[c]) for c in prop_cols] for r in props]),
    ]

    plots = [_plot_functions(out)]
    fig, axes = plt().subplots(1, 2, figsize=(12, 4), sharey=True)
    groups = [("classic + rectifiers", list(CLASSIC) + ["relu", "leaky_relu", "prelu", "elu",
                                                        "selu", "softplus"]),
              ("smooth + gated", list(MODERN) + list(GATED_NAMES) + ["relu"])]
    for ax, (title, group) in zip(axes, groups):
        for name in group:
            curve = np.mean([r["losses"] for r in runs[name]], axis=0)
            ax.plot(range(1, epochs + 1), curve, label=name, lw=2 if name == "relu" else 1,
                    ls="-" if name not in GATED_NAMES else "--")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.legend(fontsize=7, ncol=2)
    axes[0].set_ylabel(f"train loss (mean of {n_seeds} seeds)")
    plots.append(save(fig, out / "loss_curves.png"))

    fig, ax = plt().subplots(figsize=(6, 3.5))
    for key, label in (("relu", f"ReLU, lr {LR}"), ("relu@high_lr", f"ReLU, lr {HIGH_LR}"),
                       ("reglu", f"ReGLU gate, lr {LR}")):
        d = 100 * np.array([r["dead"] for r in runs[key]])
        ax.plot(range(epochs + 1), d.mean(0), label=label)
        ax.fill_between(range(epochs + 1), d.min(0), d.max(0), alpha=0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("dead units %")
    ax.set_title("Dead ReLU units over training (min-max over seeds)")
    ax.legend()
    plots.append(save(fig, out / "dead_relu.png"))

    names_sorted = sorted(runs, key=lambda n: -np.mean([r["test_acc"] for r in runs[n]]))
    fig, ax = plt().subplots(figsize=(10, 3.5))
    means = [100 * np.mean([r["test_acc"] for r in runs[n]]) for n in names_sorted]
    stds = [100 * np.std([r["test_acc"] for r in runs[n]]) for n in names_sorted]
    ax.bar(names_sorted, means, yerr=stds, capsize=3)
    ax.set_ylim(min(means) - 5, 100)
    ax.set_ylabel("test accuracy %")
    ax.tick_params(axis="x", rotation=60)
    plots.append(save(fig, out / "accuracy.png"))

    modern = [summary[f"loss_{n}"] for n in ("relu",) + MODERN + GATED_NAMES]
    med = float(np.median(modern))
    sigmoid_worse = summary["loss_sigmoid"] > max(modern)
    tanh_worse = summary["loss_tanh"] > med
    dead_more = (summary["dead_final_relu@high_lr"] > summary["dead_final_relu"] > 0)
    parts = [
        f"sigmoid final train loss {summary['loss_sigmoid']:.3f} "
        f"({'worse than every' if sigmoid_worse else 'not worse than every'} non-saturating "
        f"unit; their median {med:.3f})",
        f"tanh {summary['loss_tanh']:.3f} ({'worse' if tanh_worse else 'better'} than that "
        "median)",
        f"dead ReLU units {100 * summary['dead_final_relu']:.1f}% at lr {LR} and "
        f"{100 * summary['dead_final_relu@high_lr']:.1f}% at lr {HIGH_LR}",
    ]
    held = sigmoid_worse and tanh_worse and dead_more
    partly = sigmoid_worse or dead_more
    verdict = ("Held" if held else "Partly held" if partly else "Did not hold") + ": " + \
        "; ".join(parts) + "."
    summary.update({"epochs": epochs, "seeds": n_seeds, "train_examples": len(tr),
                    "test_examples": len(te)})
    notes = [
        "Data: the 1,797 8x8 digits bundled from scikit-learn (UCI optdigits, CC BY 4.0); one "
        "fixed 75/25 split; pixels scaled to [0, 1].",
        "All networks start from LeCun-normal weights (Var = 1/fan_in, zero biases) with the "
        "same seeds, then LSUV rescaling; inputs are raw pixel fractions, not standardised.",
        "The step unit trains through a clipped straight-through surrogate gradient "
        "(1[|x| <= 1]); its true derivative is zero almost everywhere.",
        "Dead units: pre-activation <= 0 on every training example (for the gated ReGLU, the "
        "gate half). Such a ReLU unit gets no gradient and cannot recover.",
        "The gated units are products of two projections; stacked three deep in a plain MLP "
        "(no residual path, no normalisation) they need LSUV scaling and gradient clipping to "
        "train at all, and are not at their best here: their home is one FFN inside a "
        "residual Transformer block.",
        "Every network is scaled by LSUV (unit-variance pre-activations on 512 training "
        f"examples) and trained with gradient-norm clipping at {CLIP}.",
        "Property costs are forward+backward times relative to torch's ReLU, measured during "
        "this run on a shared machine: read them as rough ratios.",
    ]
    return Result(name=NAME, title=TITLE, claim=CLAIM, verdict=verdict, summary=summary,
                  tables=tables, plots=plots, notes=notes)
