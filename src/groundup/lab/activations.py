"""Lab: activation functions, from the threshold unit to SwiGLU, on one small real task.

Every activation in :mod:`groundup.nn.activations` is plotted with its derivative, measured
into a properties table, and used in the same 3-hidden-layer MLP on the bundled 8x8 digits
(UCI optdigits via scikit-learn, CC BY 4.0), trained by SGD with momentum from the same
initial seeds. The seeds of one activation train together as an ensemble of independent copies
(batched matmuls, per-copy loss and clipping), which costs about one training instead of three. We record the training loss per epoch, the test accuracy over seeds, and the
fraction of dead ReLU units (no positive pre-activation on any training example, hence no
gradient ever again) at the normal and at a 10x learning rate.
"""
from __future__ import annotations

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


def load_digits():
    """The bundled optdigits table (see :func:`groundup.data.digits.load_digits`)."""
    import numpy as np

    from ..data.digits import load_digits as _load

    return _load(np.float32)


def _widths(activation: str, width: int, depth: int) -> list[tuple[int, int]]:
    """(projection width, width after the unit) per hidden layer. A gated unit halves its input,
    so its layer projects to 2 w' with w' = 2/3 * width (the FFN convention), which keeps the
    weights within ~10% of the plain MLP's."""
    from ..nn.activations import GATED

    if activation in GATED:
        w = (2 * width) // 3
        return [(2 * w, w)] * depth
    return [(width, width)] * depth


def make_mlp(activation: str, seeds: list[int], d_in: int = 64, n_classes: int = 10,
             width: int = WIDTH, depth: int = DEPTH):
    """S = len(seeds) copies of the same MLP (d_in -> depth hidden layers -> n_classes), one per
    seed, evaluated together: weights are (S, d_in, d_out) and every layer is one batched
    matmul, x (S, B, d_in) -> (S, B, n_classes). The copies never interact: the loss is a sum of
    per-seed means, SGD is elementwise and clipping is per copy, so this is S independent
    trainings at the price of about one. Weights start LeCun-normal (Var = 1/fan_in, LeCun et
    al. 1998) from each seed, biases at zero."""
    import torch
    from torch import nn

    from ..nn.activations import get

    class Ensemble(nn.Module):
        def __init__(self):
            super().__init__()
            self.gated = activation in GATED_NAMES
            self.acts = nn.ModuleList()
            sizes, d = [], d_in
            for proj, after in _widths(activation, width, depth):
                sizes.append((d, proj))
                d = after
                # one unit module per copy when it has parameters (PReLU, learnable Swish)
                units = [get(activation) for _ in seeds]
                shared = not any(p.numel() for p in units[0].parameters())
                self.acts.append(nn.ModuleList(units[:1] if shared else units))
            sizes.append((d, n_classes))
            gens = [torch.Generator().manual_seed(s) for s in seeds]
            self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
            for fan_in, fan_out in sizes:
                w = torch.stack([torch.randn(fan_in, fan_out, generator=g) for g in gens])
                self.weights.append(nn.Parameter(w * fan_in ** -0.5))      # (S, in, out)
                self.biases.append(nn.Parameter(torch.zeros(len(seeds), 1, fan_out)))

        def layer(self, i, h):                                   # (S, B, fan_in) -> (S, B, fan_out)
            return torch.baddbmm(self.biases[i], h, self.weights[i])

        def unit(self, i, z):
            units = self.acts[i]
            if len(units) == 1:
                return units[0](z)
            return torch.stack([u(z[s]) for s, u in enumerate(units)])

        def forward(self, x, record=None):
            h = x if x.dim() == 3 else x.expand(len(seeds), *x.shape)
            for i in range(depth):
                z = self.layer(i, h)
                if record is not None:
                    record.append(z)
                h = self.unit(i, z)
            return self.layer(depth, h)

    return Ensemble()


def lsuv_(model, x, iters: int = 3) -> None:
    """Layer-sequential unit-variance scaling (Mishkin & Matas 2016, without the orthogonal
    start): rescale each layer of each copy, first to last, until its outputs have unit
    variance on ``x``. Every activation then starts from the same forward signal scale - without
    it a stack of products a * act(b) (the gated units) shrinks its signal quadratically."""
    import torch

    n_layers = len(model.weights)
    with torch.no_grad():
        for i in range(n_layers):
            for _ in range(iters):
                zs: list = []
                out = model(x, record=zs)
                z = zs[i] if i < n_layers - 1 else out           # (S, B, fan_out)
                std = z.flatten(1).std(1)                        # one per copy
                model.weights[i].div_(torch.where(std > 0, std, torch.ones_like(std))[:, None, None])


def dead_fraction(model, x):
    """Per copy: the fraction of hidden units whose pre-activation is <= 0 on every example of
    ``x`` (for a gated unit, its gate half). Such a ReLU unit outputs 0 and passes no gradient
    to its weights: it is dead. Returns a list of S floats."""
    import torch

    zs: list = []
    with torch.no_grad():
        model(x, record=zs)
    dead = torch.zeros(zs[0].shape[0])
    total = 0
    for z in zs:                                                  # (S, N, units)
        if model.gated:
            z = z.chunk(2, dim=-1)[1]
        dead += (~(z > 0).any(1)).sum(1)
        total += z.shape[-1]
    return (dead / total).tolist()


def train_seeds(activation: str, data, seeds: list[int], epochs: int, lr: float = LR) -> list[dict]:
    """Train the S copies of the MLP with one activation; one result dict per seed."""
    import torch
    import torch.nn.functional as F

    xtr, ytr, xte, yte = data
    S = len(seeds)
    model = make_mlp(activation, seeds)
    lsuv_(model, xtr[:512])
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    track = activation in DEAD_TRACKED  # the per-epoch census costs a full forward pass
    losses = [[] for _ in seeds]
    dead = [dead_fraction(model, xtr)]
    t0 = time.perf_counter()
    n = len(xtr)
    for _ in range(epochs):
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens])  # (S, N)
        totals = torch.zeros(S)
        for i in range(0, n, BATCH):
            idx = perms[:, i:i + BATCH]                                      # (S, B)
            logits = model(xtr[idx])                                         # (S, B, 10)
            per_seed = F.cross_entropy(logits.transpose(1, 2), ytr[idx],
                                       reduction="none").mean(1)            # (S,)
            opt.zero_grad(set_to_none=True)
            per_seed.sum().backward()
            _clip_per_copy(model, CLIP)
            opt.step()
            totals += per_seed.detach() * idx.shape[1]
        for s in range(S):
            losses[s].append((totals[s] / n).item())
        if track:
            dead.append(dead_fraction(model, xtr))
    if not track:
        dead.append(dead_fraction(model, xtr))
    seconds = (time.perf_counter() - t0) / S
    with torch.no_grad():
        acc = (model(xte).argmax(-1) == yte).float().mean(1)                 # (S,)
        logits = model(xtr)
        train_loss = F.cross_entropy(logits.transpose(1, 2), ytr.expand(S, -1),
                                     reduction="none").mean(1)
    params = sum(p[0].numel() for p in model.parameters() if p.dim() == 3) + \
        sum(p.numel() for u in model.acts for p in u[0].parameters())
    return [{"losses": losses[s], "dead": [d[s] for d in dead], "test_acc": acc[s].item(),
             "final_train_loss": train_loss[s].item(), "params": params, "seconds": seconds,
             "finite": bool(np.isfinite(losses[s]).all())} for s in range(S)]


def _clip_per_copy(model, max_norm: float) -> None:
    """torch.nn.utils.clip_grad_norm_ applied to each copy separately (dim 0 of every weight and
    bias is the copy; the activations' own parameters are clipped with their copy too)."""
    import torch

    grads = [p.grad for p in list(model.weights) + list(model.biases)]
    S = grads[0].shape[0]
    sq = sum(g.reshape(S, -1).pow(2).sum(1) for g in grads)
    per_unit = [(s, p.grad) for u in model.acts if len(u) > 1
                for s, m in enumerate(u) for p in m.parameters() if p.grad is not None]
    for s, g in per_unit:
        sq[s] += g.pow(2).sum()
    scale = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)                 # (S,)
    for g in grads:
        g.mul_(scale.view(S, *[1] * (g.dim() - 1)))
    for s, g in per_unit:
        g.mul_(scale[s])


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
    return save(fig, out / "functions.png", dpi=80)


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

    seeds = [seed + s for s in range(n_seeds)]
    runs: dict[str, list[dict]] = {name: train_seeds(name, data, seeds, epochs) for name in names}
    runs["relu@high_lr"] = train_seeds("relu", data, seeds, epochs, lr=HIGH_LR)

    rows, summary = [], {}
    for name, rs in runs.items():
        acc = np.array([r["test_acc"] for r in rs])
        loss = np.array([r["final_train_loss"] for r in rs])
        rows.append([name, rs[0]["params"], f"{loss.mean():.3g} ± {loss.std():.2g}",
                     f"{100 * acc.mean():.2f} ± {100 * acc.std():.2f}",
                     f"{100 * np.mean([r['dead'][-1] for r in rs]):.1f}",
                     f"{np.mean([r['seconds'] for r in rs]):.2f}"])
        summary[f"acc_{name}"] = round(float(acc.mean()), 4)
        summary[f"loss_{name}"] = float(f"{loss.mean():.4g}")
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
        f"sigmoid final train loss {summary['loss_sigmoid']:.3g} "
        f"({'worse than every' if sigmoid_worse else 'not worse than every'} non-saturating "
        f"unit; their median {med:.3g})",
        f"tanh {summary['loss_tanh']:.3g} ({'worse' if tanh_worse else 'better'} than that "
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
