"""Lab: activation functions as the article tells their history - step, sigmoid/tanh, ReLU,
GELU/Swish, and the gated units (GEGLU, SwiGLU) of today's LLMs - each measured where its
claim lives.

1. Gradient through depth. A 20-layer MLP (width 64) at initialisation, every activation from
   the same forward signal scale (LSUV: unit-variance pre-activations; Mishkin & Matas 2016), on
   a batch of the bundled 8x8 digits: the gradient norm ||dL/dW_l|| of each layer. Backprop
   multiplies by W^T diag(f'(z)) per layer, so a derivative below 1 (sigmoid's is at most 1/4)
   shrinks the gradient geometrically towards the input; the step unit's derivative is 0
   almost everywhere, so no layer below the top receives any gradient.
2. Dead ReLUs. The digits MLP (3 x 64) trained by SGD+momentum at a normal and a high learning
   rate (seeds as an ensemble of independent copies); the fraction of hidden units that pass no
   gradient on any training example, ReLU against Leaky ReLU, GELU and Swish.
3. The LLM comparison (Shazeer 2020, "GLU Variants Improve Transformer", Table 1). One small
   decoder-only Transformer LM (groundup.nn.transformer_lm) on WikiText-2, its FFN activation
   swapped: ReLU, GELU, Swish, GEGLU, SwiGLU; the gated FFNs have hidden width 2/3 of the plain
   one (groundup.nn.glu.gated_hidden_size) so every model has the same parameter count within
   1%; the same token windows and initial seeds for every activation, several seeds.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..utils import torch_threads
from .base import Plot, Result, Table

NAME = "activations"
TITLE = "Activation functions: from the step unit to SwiGLU, each measured where its claim lives"
CLAIM = ("Saturating units (sigmoid, tanh) make gradients vanish through depth and the step "
         "unit passes none, while ReLU and its smooth successors (GELU, Swish) keep them; "
         "ReLU units can die at a high learning rate; in a Transformer LM the gated FFNs "
         "(GEGLU, SwiGLU) beat the ungated ones at equal parameter count (Shazeer 2020).")
CRITERION = ("Fixed before the run. (1) depth holds if, in the 20-layer MLP at initialisation, "
             "the step unit gives exactly zero gradient below the top layer, the ratio "
             "||dL/dW_1|| / ||dL/dW_20|| is < 1e-2 for sigmoid and for tanh and >= 0.1 for ReLU, "
             "GELU and Swish. (2) dead units holds if ReLU's dead fraction at the high learning "
             "rate exceeds its fraction at the normal rate and each of Leaky ReLU's, GELU's and "
             "Swish's at the high rate. (3) LLM holds if every gated FFN's mean validation "
             "perplexity is below every ungated FFN's mean by more than the largest seed "
             "standard deviation of the five. The claim holds if all three hold.")

WIDTH = 64          # hidden width of the digits MLP (64 -> 64 -> 64 -> 64 -> 10)
DEPTH = 3
LR = 0.1
HIGH_LR = 1.0
BATCH = 128
CLIP = 1.0          # gradient-norm clipping, as Transformer training does, for every network
DEAD_GRAD = 1e-3    # a unit whose |f'(z)| stays below this on every example passes no gradient
GATED_NAMES = ("glu", "reglu", "geglu", "swiglu")
DEPTH_UNITS = ("step", "sigmoid", "tanh", "relu", "gelu", "silu")
DEAD_UNITS = ("relu", "leaky_relu", "gelu", "silu")
DEAD_TRACKED = DEAD_UNITS
FFN_UNITS = ("relu", "gelu", "silu", "geglu", "swiglu")
LABEL = {"step": "step", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU",
         "leaky_relu": "Leaky ReLU", "gelu": "GELU", "silu": "Swish", "geglu": "GEGLU",
         "swiglu": "SwiGLU"}
# Shazeer (2020), Table 1: log-perplexity on C4 after 65,536 steps (lower is better)
SHAZEER_2020 = {"relu": 1.997, "gelu": 1.983, "silu": 1.994, "geglu": 1.942, "swiglu": 1.944}


@dataclass(frozen=True)
class ActivationsLabConfig:
    depth_layers: int = 20
    depth_seeds: int = 3
    dead_epochs: int = 8
    dead_seeds: int = 2
    lm_vocab: int = 2000          # WikiText-2 words kept (lab/wikitext.py)
    lm_train_tokens: int = 200_000
    lm_eval_tokens: int = 10_000
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    d_ff: int = 256               # plain FFN hidden width; gated: gated_hidden_size(d_model)
    lm_T: int = 32
    lm_batch: int = 16
    lm_steps: int = 150
    lm_lr: float = 3e-3
    lm_seeds: int = 3


# Full mode, sized by measuring each part on one core of this 2-core machine (CPU time, one torch
# thread, 2026-12-03, load average 5-12 from other processes on the other core):
#   part 1  the six 20-layer MLPs with 5 seeds at initialisation (LSUV included): ~12 s;
#   part 2  one epoch of the 5-seed ensemble with the dead-unit census ~0.1-0.2 s, five
#           trainings of 40 epochs: ~30 s;
#   part 3  one AdamW step of the d_model-64, 2-layer LM, batch 16 x 64, vocabulary 2,000:
#           ~0.06 s (58 us a token), so 300 steps and the perplexity of 50k validation tokens
#           take ~19 s a run, 25 runs (5 FFNs x 5 seeds) ~480 s.
# Total about 9 minutes on one idle core (the run of 2026-12-03 on the benchmark core: 413 s).
# The first draft (d_model 128, 4 layers, vocabulary 10,000, batch 32 x 128, 3,000 steps)
# measured 1.75-1.85 s a step: about 36 hours for its 25 runs. At fixed compute the vocabulary
# only grows the output layer, which all five FFNs share, so full spends it on what the
# comparison needs: 5 seeds instead of 3 (the verdict weighs the gap against the seed spread),
# 2x the context and 5x the training tokens of quick, drawn from the whole training set, and 5x
# the validation tokens.
PRESETS = {
    "quick": ActivationsLabConfig(),
    "full": ActivationsLabConfig(depth_seeds=5, dead_epochs=40, dead_seeds=5, lm_train_tokens=0,
                                 lm_eval_tokens=50_000, lm_T=64, lm_steps=300, lm_seeds=5),
}


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
    """Per copy: the fraction of hidden units that pass (almost) no gradient on any example of
    ``x``: max over examples of |f'(z)| < DEAD_GRAD, f' by autograd of the unit. For ReLU that
    is "z <= 0 on every example" (f' = 0 exactly there): such a unit outputs 0, its weights get
    no gradient and it cannot recover - it is dead. Leaky ReLU (f' >= its slope) never dies;
    GELU and Swish only where z is far below 0 on every example. For a gated unit, its gate half
    with z <= 0 on every example. Returns a list of S floats."""
    import torch

    zs: list = []
    with torch.no_grad():
        model(x, record=zs)
    dead = torch.zeros(zs[0].shape[0])
    total = 0
    for i, z in enumerate(zs):                                    # (S, N, units)
        if model.gated:
            alive = (z.chunk(2, dim=-1)[1] > 0).any(1)            # (S, units)
        else:
            z = z.detach().requires_grad_(True)
            (dz,) = torch.autograd.grad(model.unit(i, z).sum(), z)
            alive = (dz.abs() >= DEAD_GRAD).any(1)
        dead += (~alive).sum(1)
        total += alive.shape[-1]
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



# --- 1. gradient through depth ------------------------------------------------------------------

class TrueStep(nn.Module):
    """H(z) = 1[z > 0] with its true derivative, 0 (``groundup.nn.activations.step`` trains
    through a surrogate instead): adding 0 * z gives autograd a path that carries exactly 0."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z > 0).to(z.dtype) + 0 * z


def grad_norms_through_depth(activation: str, x, y, seeds: list[int], depth: int) -> np.ndarray:
    """(depth + 1,) mean over seeds of ||dL/dW_l|| for l = 1..depth+1 (the last is the output
    layer), L the cross-entropy on (x, y), every network LSUV-scaled first."""
    model = make_mlp("relu" if activation == "step" else activation, seeds, width=WIDTH, depth=depth)
    if activation == "step":
        model.acts = nn.ModuleList([nn.ModuleList([TrueStep()]) for _ in range(depth)])
    lsuv_(model, x)
    logits = model(x)                                                    # (S, B, 10)
    loss = F.cross_entropy(logits.transpose(1, 2), y.expand(len(seeds), -1), reduction="none").mean(1)
    loss.sum().backward()
    norms = torch.stack([w.grad.flatten(1).norm(dim=1) for w in model.weights])  # (depth+1, S)
    return norms.mean(1).numpy()


# --- 3. the LLM comparison ----------------------------------------------------------------------

def ffn_hidden(activation: str, cfg: ActivationsLabConfig) -> int:
    """The FFN hidden width: d_ff for a plain unit; 2/3 of 4 d_model for a gated one (three
    weight matrices instead of two: Shazeer 2020, Section 2)."""
    from ..nn.activations import GATED
    from ..nn.glu import gated_hidden_size

    return gated_hidden_size(cfg.d_model, cfg.d_ff // cfg.d_model) if activation in GATED else cfg.d_ff


def make_lm(activation: str, vocab: int, cfg: ActivationsLabConfig):
    from ..nn.lm_configs import TransformerLMConfig
    from ..nn.transformer_lm import TransformerLM

    return TransformerLM(TransformerLMConfig(d_model=cfg.d_model, n_heads=cfg.n_heads,
                                             num_layers=cfg.n_layers, d_ff=ffn_hidden(activation, cfg),
                                             max_len=cfg.lm_T, activation=activation), vocab)


def ffn_params(model) -> int:
    """Parameters of the FFN blocks (linear1 and linear2 of every decoder block)."""
    return sum(p.numel() for b in model.blocks for m in (b.linear1, b.linear2) for p in m.parameters())


def train_lm(activation: str, data, cfg: ActivationsLabConfig, seed: int) -> dict:
    """AdamW on ``lm_steps`` batches of random windows drawn from a generator seeded by
    ``seed`` (the same tokens for every activation), initial weights from ``seed``."""
    import torch
    import torch.nn.functional as F

    from ..optim import AdamW
    from .wikitext import perplexity, windows

    train, valid, V = data
    torch.manual_seed(seed)
    model = make_lm(activation, V, cfg)
    opt = AdamW(model.parameters(), lr=cfg.lm_lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(cfg.lm_steps):
        x = windows(train, cfg.lm_batch, cfg.lm_T, g)                    # (B, T+1)
        logits, _ = model(x[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    seconds = time.perf_counter() - t0
    model.eval()
    ppl = perplexity(lambda ids: model(ids)[0], valid, cfg.lm_T)
    return {"ppl": ppl, "seconds": seconds, "params": sum(p.numel() for p in model.parameters()),
            "ffn_params": ffn_params(model)}


def kendall_tau(a: list[float], b: list[float]) -> float:
    """Kendall's rank correlation of two equally long lists (no ties assumed)."""
    n, s = len(a), 0
    for i in range(n):
        for j in range(i + 1, n):
            s += np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
    return float(s / (n * (n - 1) / 2))


# --- verdict ------------------------------------------------------------------------------------

def verdict(fig: dict) -> tuple[bool, str]:
    """(held, sentence) from the figures by CRITERION (fabricated figures in the tests)."""
    r = fig["grad_ratio_first_over_last"]
    p1 = (fig["step_grad_below_top"] == 0 and r["sigmoid"] < 1e-2 and r["tanh"] < 1e-2
          and all(r[k] >= 0.1 for k in ("relu", "gelu", "silu")))
    d = fig["dead_fraction_high_lr"]
    p2 = d["relu"] > fig["dead_fraction_relu_normal_lr"] and all(d["relu"] > d[k] for k in
                                                                 ("leaky_relu", "gelu", "silu"))
    ppl, sd = fig["ffn_val_ppl"], fig["ffn_val_ppl_sd"]
    spread = max(sd.values())
    gap = min(ppl[u] for u in ("relu", "gelu", "silu")) - max(ppl[g] for g in ("geglu", "swiglu"))
    p3 = gap > spread
    yes = lambda b: "held" if b else "did not hold"  # noqa: E731
    order = sorted(ppl, key=ppl.get)
    sentence = (
        f"{'Held' if p1 and p2 and p3 else 'Did not hold'}: (1) depth {yes(p1)} (layer-1 / "
        f"layer-20 gradient norm: " + ", ".join(f"{LABEL[k]} {v:.2g}" for k, v in r.items())
        + f"; step below the top {fig['step_grad_below_top']:g}); (2) dead units {yes(p2)} "
        f"(high lr: " + ", ".join(f"{LABEL[k]} {100 * v:.1f}%" for k, v in d.items())
        + f"; ReLU at the normal lr {100 * fig['dead_fraction_relu_normal_lr']:.1f}%); (3) LLM "
        f"{yes(p3)} (best ungated minus worst gated perplexity {gap:+.2f} against a seed spread "
        f"of {spread:.2f}; order here " + " < ".join(LABEL[k] for k in order)
        + f", Kendall tau with Shazeer 2020's order {fig['ffn_order_tau_vs_shazeer']:+.2f}).")
    return p1 and p2 and p3, sentence


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


def run(out: Path, *, full: bool, seed: int, cfg: ActivationsLabConfig | None = None) -> Result:
    with torch_threads(1):  # small matrices: one thread is fastest and fair under load
        return _run(out, cfg or PRESETS["full" if full else "quick"], seed)


def _run(out: Path, cfg: ActivationsLabConfig, seed: int) -> Result:
    import os

    from .plotting import plt, save
    from .wikitext import capped_wikitext

    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    X, y = load_digits()
    rng = np.random.default_rng(12345)  # one fixed split; seeds vary init and batch order
    perm = rng.permutation(len(X))
    n_test = len(X) // 4
    te, tr = perm[:n_test], perm[n_test:]
    data = (torch.from_numpy(X[tr]), torch.from_numpy(y[tr]), torch.from_numpy(X[te]),
            torch.from_numpy(y[te]))
    fig: dict = {"load_average": load}
    tables, plots = [], []
    p = plt()

    # 1. gradient through depth
    L = cfg.depth_layers
    seeds = [seed + s for s in range(cfg.depth_seeds)]
    norms = {a: grad_norms_through_depth(a, data[0][:512], data[1][:512], seeds, L) for a in DEPTH_UNITS}
    fig["grad_ratio_first_over_last"] = {a: float(f"{norms[a][0] / norms[a][L - 1]:.3g}")
                                         for a in DEPTH_UNITS if a != "step"}
    fig["step_grad_below_top"] = float(norms["step"][:L].max())
    f, ax = p.subplots(figsize=(6.5, 4))
    for a in DEPTH_UNITS:
        ax.semilogy(range(1, L + 2), np.maximum(norms[a], 1e-30), "o-", ms=3, label=LABEL[a])
    ax.set(xlabel="layer (1 = next to the input, %d = output)" % (L + 1), ylabel="||dL/dW_l||",
           ylim=(1e-12, None), title=f"{L}-layer MLP at initialisation (LSUV), digits batch")
    ax.legend(fontsize=8)
    plots.append(Plot(save(f, out / "gradient_through_depth.png"),
                      f"Gradient norm of each layer's weights in a {L}-layer, {WIDTH}-wide MLP at "
                      f"initialisation (every unit from unit-variance pre-activations, mean of "
                      f"{len(seeds)} seeds). Read from right (output) to left (input): a falling "
                      "line is a vanishing gradient; a unit whose gradient is 0 below the top "
                      "layer is drawn at the floor."))
    tables.append(Table(f"1. Gradient through depth: ||dL/dW_1|| / ||dL/dW_{L}|| at init",
                        ["unit", "ratio", "||dL/dW_1||", f"||dL/dW_{L}||"],
                        [[LABEL[a], f"{norms[a][0] / norms[a][L - 1]:.3g}" if norms[a][L - 1] else "0/0",
                          f"{norms[a][0]:.3g}", f"{norms[a][L - 1]:.3g}"] for a in DEPTH_UNITS]))

    # 2. dead units
    seeds = [seed + s for s in range(cfg.dead_seeds)]
    runs = {a: train_seeds(a, data, seeds, cfg.dead_epochs, lr=HIGH_LR) for a in DEAD_UNITS}
    normal = train_seeds("relu", data, seeds, cfg.dead_epochs, lr=LR)
    mean_dead = lambda rs: float(np.mean([r["dead"][-1] for r in rs]))  # noqa: E731
    fig["dead_fraction_high_lr"] = {a: round(mean_dead(rs), 4) for a, rs in runs.items()}
    fig["dead_fraction_relu_normal_lr"] = round(mean_dead(normal), 4)
    rows = [[f"{LABEL[a]}, lr {HIGH_LR:g}", f"{100 * mean_dead(rs):.1f}",
             f"{100 * np.mean([r['test_acc'] for r in rs]):.1f}"] for a, rs in runs.items()]
    rows.append([f"ReLU, lr {LR:g}", f"{100 * mean_dead(normal):.1f}",
                 f"{100 * np.mean([r['test_acc'] for r in normal]):.1f}"])
    tables.append(Table(f"2. Dead units after {cfg.dead_epochs} epochs (digits MLP 3 x {WIDTH}, "
                        f"SGD+momentum, clip {CLIP}, mean of {len(seeds)} seeds)",
                        ["unit, learning rate", "dead units % (max |f'| < 1e-3 on every example)",
                         "test accuracy %"], rows))
    f, ax = p.subplots(figsize=(6, 3.5))
    for a, rs in list(runs.items()) + [("relu@normal", normal)]:
        dd = 100 * np.array([r["dead"] for r in rs])
        label = f"ReLU, lr {LR:g}" if a == "relu@normal" else f"{LABEL[a]}, lr {HIGH_LR:g}"
        ax.plot(range(dd.shape[1]), dd.mean(0), label=label)
    ax.set(xlabel="epoch", ylabel="dead units %", title="units that pass no gradient")
    ax.legend(fontsize=8)
    plots.append(Plot(save(f, out / "dead_units.png"),
                      "Fraction of hidden units whose derivative is below 1e-3 on every training "
                      "example, during training at a high learning rate (and ReLU at the normal "
                      "one). Look for the curves that grow: a dead ReLU never recovers."))

    # 3. the LLM comparison
    wt = capped_wikitext(cfg.lm_vocab, cfg.lm_train_tokens, cfg.lm_eval_tokens)
    seeds = [seed + s for s in range(cfg.lm_seeds)]
    lm = {a: [train_lm(a, wt, cfg, s) for s in seeds] for a in FFN_UNITS}
    ppl = {a: np.array([r["ppl"] for r in rs]) for a, rs in lm.items()}
    fig["ffn_params"] = {a: rs[0]["ffn_params"] for a, rs in lm.items()}
    fig["lm_params"] = {a: rs[0]["params"] for a, rs in lm.items()}
    fig["ffn_val_ppl"] = {a: round(float(v.mean()), 3) for a, v in ppl.items()}
    fig["ffn_val_ppl_sd"] = {a: round(float(v.std(ddof=1)), 3) if len(v) > 1 else 0.0 for a, v in ppl.items()}
    fig["ffn_order_tau_vs_shazeer"] = round(kendall_tau([fig["ffn_val_ppl"][a] for a in FFN_UNITS],
                                                        [SHAZEER_2020[a] for a in FFN_UNITS]), 3)
    tables.append(Table(
        f"3. Transformer LM on WikiText-2 ({wt[2]} most frequent words), FFN activation swapped: "
        f"d_model {cfg.d_model}, {cfg.n_layers} layers, {cfg.lm_steps} AdamW steps of "
        f"{cfg.lm_batch} x {cfg.lm_T} tokens, lr {cfg.lm_lr:g}, {len(seeds)} seeds (load average {load})",
        ["FFN", "hidden width", "FFN params", "model params", "valid perplexity mean", "sd",
         "Shazeer 2020 log-ppl", "s / run"],
        [[LABEL[a], ffn_hidden(a, cfg), fig["ffn_params"][a], fig["lm_params"][a],
          f"{ppl[a].mean():.2f}", f"{fig['ffn_val_ppl_sd'][a]:.2f}", SHAZEER_2020[a],
          f"{np.mean([r['seconds'] for r in lm[a]]):.1f}"] for a in FFN_UNITS]))
    f, ax = p.subplots(figsize=(6, 3.8))
    for i, a in enumerate(FFN_UNITS):
        ax.errorbar([i], [ppl[a].mean()], yerr=[ppl[a].std(ddof=1) if len(seeds) > 1 else 0],
                    fmt="o", capsize=4, color="C1" if a in GATED_NAMES else "C0")
        ax.plot([i] * len(seeds), ppl[a], ".", color="0.6")
    ax.set_xticks(range(len(FFN_UNITS)), [LABEL[a] for a in FFN_UNITS])
    ax.set(ylabel="validation perplexity", title="FFN activation, equal parameters")
    plots.append(Plot(save(f, out / "ffn_perplexity.png"),
                      "Validation perplexity of the same Transformer LM with its FFN activation "
                      "swapped (gated in orange, with 2/3 the hidden width so the parameter count "
                      "is equal): mean and standard deviation over seeds, each seed as a grey "
                      "dot. Shazeer (2020) found GEGLU and SwiGLU best after 65,536 steps."))
    plots.append(Plot(_plot_functions(out), "Each activation (solid) and its derivative "
                      "(dashed, by autograd of our implementation; the step unit's is a surrogate)."))

    held, sentence = verdict(fig)
    notes = [f"Load average at the start {load}; times are wall clock on a shared machine.",
             "Data: the bundled 8x8 digits (UCI optdigits, CC BY 4.0) for parts 1-2; bundled "
             "WikiText-2 for part 3, with the vocabulary capped (lab/wikitext.py).",
             f"Part 3 trains for {cfg.lm_steps} steps (Shazeer: 65,536 steps on C4): read its "
             "ordering as what this budget shows, not as a replication."]
    return Result(name=NAME, title=TITLE, claim=CLAIM, verdict=sentence, held=held,
                  criterion=CRITERION, summary=fig, tables=tables, plots=plots, notes=notes)
