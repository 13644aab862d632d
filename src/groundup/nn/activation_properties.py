"""The table of activation properties, measured from the code rather than typed by hand.

Each row is probed numerically on the module that :func:`groundup.nn.activations.get` builds
(learnable ones at their initial values), in float64:

* **range**: min and max over a fine grid on [-20, 20] plus the far points +-1e3, +-1e4; an end
  is infinite if f still moves by more than 1 from +-1e3 to +-1e4, closed (``[``) if the bound is reached at some |x| <= 8
  and open (``(``) if it is only approached;
* **monotonic**: no decrease larger than 1e-12 between neighbouring grid points;
* **smoothness**: ``discontinuous`` if f jumps by more than 1e-2 between points 1e-3 apart,
  ``kinked`` if its derivative (from autograd) does, ``smooth`` (C^1) otherwise;
* **mean on N(0,1)**: E[f(z)] for z ~ N(0, 1) by the trapezoid rule; ``zero-centred`` when its
  magnitude is below 0.05 (Glorot & Bengio 2010 and LeCun et al. 1998 argue for zero-mean units);
* **saturates**: where |f'| < 1e-6 at x = -1e3 (``left``), +1e3 (``right``), both or neither
  (for the step unit the surrogate gradient is probed; its true derivative is 0 everywhere);
* **cost**: the fastest of several timings of forward + backward on 2^20 float32 values relative to torch's ReLU,
  for the torch built-in (the function's own cost, in fused C++) and for ours (composed of
  torch ops, so it also pays one kernel per operation); measured, so machine-dependent.
"""
from __future__ import annotations

import time

import torch

__all__ = ["probe", "properties_table", "to_markdown"]

_FAR = 1e4
_ATTAINED = 8.0


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-3 else "0"


def _eval(name: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    from .activations import get

    m = get(name).double()
    x = x.clone().requires_grad_(True)
    y = m(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), g


def probe(name: str) -> dict:
    """Measure the range, monotonicity, smoothness, mean and saturation of one activation."""
    grid = torch.arange(-20000, 20001, dtype=torch.float64) * 1e-3  # [-20, 20], step 1e-3
    far = torch.tensor([-_FAR, -1e3, 1e3, _FAR], dtype=torch.float64)
    y, g = _eval(name, grid)
    yf, gf = _eval(name, far)

    lo_all, hi_all = min(y.min().item(), yf.min().item()), max(y.max().item(), yf.max().item())
    near = grid.abs() <= _ATTAINED
    if yf[0] < yf[1] - 1:  # still falling between -1e3 and -1e4: unbounded
        lo = "(-inf"
    else:
        lo = ("[" if (y[near] == lo_all).any() else "(") + _fmt(lo_all)
    if yf[-1] > yf[-2] + 1:
        hi = "inf)"
    else:
        hi = _fmt(hi_all) + ("]" if (y[near] == hi_all).any() else ")")

    ys = torch.cat([yf[:2], y, yf[2:]])
    monotonic = bool((ys.diff() >= -1e-12).all())
    if y.diff().abs().max() > 1e-2:
        smooth = "discontinuous"
    elif g.diff().abs().max() > 1e-2:
        smooth = "kinked"
    else:
        smooth = "smooth"

    pdf = torch.exp(-grid * grid / 2) / (2 * torch.pi) ** 0.5
    mean = torch.trapezoid(y * pdf, grid).item()
    left, right = gf[1].abs().item() < 1e-6, gf[2].abs().item() < 1e-6
    saturates = {(True, True): "both", (True, False): "left", (False, True): "right",
                 (False, False): "no"}[(left, right)]
    return {"name": name, "range": f"{lo}, {hi}", "monotonic": monotonic, "smoothness": smooth,
            "mean_N01": round(mean, 3) + 0.0, "zero_centred": abs(mean) < 0.05,
            "saturates": saturates}


def _builtin(name: str):
    import torch.nn.functional as F

    return {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "hardtanh": F.hardtanh, "relu": F.relu,
        "leaky_relu": F.leaky_relu, "elu": F.elu, "selu": F.selu, "softplus": F.softplus,
        "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu,
        "mish": F.mish,
    }.get(name)


def _time(fn, x: torch.Tensor, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        xi = x.detach().requires_grad_(True)
        t0 = time.perf_counter()
        fn(xi).sum().backward()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def properties_table(timing: bool = True, repeats: int = 7, n: int = 1 << 20) -> list[dict]:
    """One row per elementwise activation (the gated family takes two inputs and is left out)."""
    from .activations import ELEMENTWISE, get

    rows = [probe(name) for name in ELEMENTWISE]
    if timing:
        x = torch.randn(n, generator=torch.Generator().manual_seed(0))
        mods = {name: get(name) for name in ELEMENTWISE}
        ours = {name: [] for name in ELEMENTWISE}
        peer = {name: [] for name in ELEMENTWISE}
        for _ in range(repeats):  # interleave so machine noise hits every function alike
            for name in ELEMENTWISE:
                ours[name].append(_time(mods[name], x, 1))
                if _builtin(name) is not None:
                    peer[name].append(_time(_builtin(name), x, 1))
        # the minimum over repeats: on a shared machine noise only ever adds time
        base = min(peer["relu"])
        for r in rows:
            p = peer[r["name"]]
            r["cost_torch"] = round(min(p) / base, 2) if p else None
            r["cost_ours"] = round(min(ours[r["name"]]) / base, 2)
    return rows


def to_markdown(rows: list[dict]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r[c]
            cells.append("yes" if v is True else "no" if v is False else "-" if v is None
                         else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m groundup.nn.activation_properties
    print(to_markdown(properties_table()))
