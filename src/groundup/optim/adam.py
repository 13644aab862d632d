"""Adam (Kingma & Ba 2015, Algorithm 1) and AdamW (Loshchilov & Hutter 2019, Algorithm 2), as
torch.optim.Adam / torch.optim.AdamW.

Per parameter theta with gradient g, at step t (lr alpha_t, betas b1 b2, weight decay lambda):

    g <- -g                                          if maximize
    g <- g + lambda theta                            Adam: L2 in the gradient (and in m, v)
    theta <- theta (1 - alpha_t lambda)              AdamW: decoupled, as torch/apex/optax
    theta <- theta (1 - eta_t lambda)                AdamW(fully_decoupled=True): L&H's
                                                     schedule multiplier eta_t only
    m <- b1 m + (1 - b1) g                           first moment
    v <- b2 v + (1 - b2) g^2                         second moment
    v_max <- max(v_max, v)                           amsgrad (Reddi et al. 2018); v_max replaces v
    theta <- theta - alpha_t / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

``fully_decoupled``: Loshchilov & Hutter write the update as
``theta_t = theta_{t-1} - eta_t (alpha m_hat / (sqrt(v_hat) + eps) + lambda theta_{t-1})`` with a
*fixed* alpha and a schedule multiplier eta_t, so the decay is independent of alpha. torch (like
apex and optax) multiplies the decay by the current learning rate alpha_t = alpha eta_t instead,
which couples the best lambda to alpha again. With ``fully_decoupled=True`` we use
eta_t = lr / initial_lr (``initial_lr`` is the group's lr at construction, or the one an LR
scheduler recorded), so the per-step decay is lambda eta_t; lambda must then be chosen about
alpha times smaller than torch's for the same strength (lambda_torch alpha = lambda_ours).

Three interchangeable implementations of the same update, tested against each other and
against torch.optim: a per-tensor loop (``foreach=False``, the reference), a multi-tensor one
over ``torch._foreach_*`` kernels (``foreach=True``), and a one-pass numba kernel
(``fused=True``, :mod:`groundup.optim.adam_fused`, ~4x faster on CPU). ``foreach=None`` picks
as torch does: multi-tensor on CUDA, the per-tensor loop on CPU, where the foreach kernels were
measured slower (benchmarks/bench_optim.py; BASELINES.md section 5). State keys ('step', 'exp_avg',
'exp_avg_sq', 'max_exp_avg_sq') and group keys are torch's, so state_dicts move either way.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.optim import Optimizer

from ._checks import flag, optional_flag, scalar


class Adam(Optimizer):
    """Same arguments as torch.optim.Adam (lr, betas, eps, weight_decay, amsgrad, foreach,
    maximize, capturable, differentiable, fused, decoupled_weight_decay), plus
    ``fully_decoupled`` (see the module docstring; only with decoupled weight decay).
    ``capturable`` and ``differentiable`` must be False."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False, fully_decoupled: bool = False) -> None:
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        defaults = dict(
            lr=scalar("learning rate", lr),
            betas=(scalar("beta parameter at index 0", betas[0], high=1.0, high_open=True),
                   scalar("beta parameter at index 1", betas[1], high=1.0, high_open=True)),
            eps=scalar("epsilon value", eps),
            weight_decay=scalar("weight_decay value", weight_decay),
            amsgrad=flag("amsgrad", amsgrad),
            foreach=optional_flag("foreach", foreach),
            maximize=flag("maximize", maximize),
            capturable=flag("capturable", capturable),
            differentiable=flag("differentiable", differentiable),
            fused=optional_flag("fused", fused),
            decoupled_weight_decay=flag("decoupled_weight_decay", decoupled_weight_decay),
            fully_decoupled=flag("fully_decoupled", fully_decoupled),
        )
        if capturable or differentiable:
            raise ValueError(f"capturable and differentiable must be False here, got "
                             f"capturable={capturable}, differentiable={differentiable}")
        if fully_decoupled and not decoupled_weight_decay:
            raise ValueError("fully_decoupled=True needs decoupled weight decay (use AdamW)")
        if fused and foreach:
            raise ValueError("fused=True and foreach=True cannot both be set")
        super().__init__(params, defaults)
        if fully_decoupled:
            for group in self.param_groups:
                group.setdefault("initial_lr", group["lr"])

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key in ("amsgrad", "maximize", "capturable", "differentiable",
                        "decoupled_weight_decay", "fully_decoupled"):
                group.setdefault(key, False)
            group.setdefault("foreach", None)
            group.setdefault("fused", None)
            for p in group["params"]:
                st = self.state.get(p, {})
                if st and not torch.is_tensor(st["step"]):
                    st["step"] = torch.tensor(float(st["step"]), dtype=torch.float32)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, m, v, vmax, steps = [], [], [], [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("Adam does not support sparse gradients")
                st = self.state[p]
                if not st:
                    st["step"] = torch.tensor(0.0, dtype=torch.float32)
                    st["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    st["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if group["amsgrad"]:
                        st["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                st["step"] += 1
                params.append(p)
                grads.append(p.grad)
                m.append(st["exp_avg"])
                v.append(st["exp_avg_sq"])
                vmax.append(st.get("max_exp_avg_sq"))
                steps.append(float(st["step"]))
            if not params:
                continue
            decoupled = group["decoupled_weight_decay"]
            if group["fully_decoupled"]:        # eta_t: the schedule multiplier only
                decay_scale = group["lr"] / group["initial_lr"] if group["initial_lr"] else 0.0
            else:
                decay_scale = group["lr"]       # torch: decay times the current lr
            kw = dict(lr=group["lr"], beta1=group["betas"][0], beta2=group["betas"][1],
                      eps=group["eps"], weight_decay=group["weight_decay"],
                      amsgrad=group["amsgrad"], maximize=group["maximize"],
                      decoupled=decoupled, decay_scale=decay_scale)
            if group["fused"]:
                from .adam_fused import adam_fused      # numba: imported only when asked for
                rest = adam_fused(params, grads, m, v, vmax, steps, **kw)
                if rest:
                    pick = lambda xs: [xs[k] for k in rest]  # noqa: E731
                    adam_foreach(pick(params), pick(grads), pick(m), pick(v), pick(vmax),
                                 pick(steps), **kw)
            elif _use_foreach(group["foreach"], params):
                adam_foreach(params, grads, m, v, vmax, steps, **kw)
            else:
                adam_single(params, grads, m, v, vmax, steps, **kw)
        return loss


def _use_foreach(foreach: bool | None, params: list[Tensor]) -> bool:
    """torch's default: multi-tensor kernels on CUDA, the per-tensor loop on CPU."""
    return foreach if foreach is not None else params[0].device.type == "cuda"


class AdamW(Adam):
    """Adam with decoupled weight decay, as torch.optim.AdamW (default weight_decay=0.01);
    ``fully_decoupled=True`` gives Loshchilov & Hutter's schedule-only decay (module docstring)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 fully_decoupled: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True, fully_decoupled=fully_decoupled)


def adam_single(params: list[Tensor], grads: list[Tensor], m: list[Tensor], v: list[Tensor],
                vmax: list[Tensor | None], steps: list[float], *, lr: float, beta1: float,
                beta2: float, eps: float, weight_decay: float, amsgrad: bool, maximize: bool,
                decoupled: bool, decay_scale: float) -> None:
    """Reference: one parameter at a time, the equations of the module docstring in order."""
    for k, p in enumerate(params):
        g = -grads[k] if maximize else grads[k]
        if weight_decay:
            if decoupled:
                p.mul_(1 - decay_scale * weight_decay)
            else:
                g = g.add(p, alpha=weight_decay)
        m[k].lerp_(g, 1 - beta1)                                  # m = b1 m + (1-b1) g
        v[k].mul_(beta2).addcmul_(g, g, value=1 - beta2)          # v = b2 v + (1-b2) g^2
        second = v[k]
        if amsgrad:
            torch.maximum(vmax[k], v[k], out=vmax[k])
            second = vmax[k]
        bc1 = 1 - beta1 ** steps[k]
        bc2 = 1 - beta2 ** steps[k]
        denom = (second.sqrt() / math.sqrt(bc2)).add_(eps)        # sqrt(v_hat) + eps
        p.addcdiv_(m[k], denom, value=-lr / bc1)                 # theta -= alpha m_hat / denom


def adam_foreach(params: list[Tensor], grads: list[Tensor], m: list[Tensor], v: list[Tensor],
                 vmax: list[Tensor | None], steps: list[float], *, lr: float, beta1: float,
                 beta2: float, eps: float, weight_decay: float, amsgrad: bool, maximize: bool,
                 decoupled: bool, decay_scale: float) -> None:
    """The same update with multi-tensor kernels, per (device, dtype) group."""
    by_key: dict[tuple, list[int]] = {}
    for i, p in enumerate(params):
        by_key.setdefault((p.device, p.dtype), []).append(i)
    for idx in by_key.values():
        ps, gs = [params[i] for i in idx], [grads[i] for i in idx]
        ms, vs = [m[i] for i in idx], [v[i] for i in idx]
        if maximize:
            gs = torch._foreach_neg(gs)
        if weight_decay:
            if decoupled:
                torch._foreach_mul_(ps, 1 - decay_scale * weight_decay)
            else:
                gs = torch._foreach_add(gs, ps, alpha=weight_decay)
        torch._foreach_lerp_(ms, gs, 1 - beta1)
        torch._foreach_mul_(vs, beta2)
        torch._foreach_addcmul_(vs, gs, gs, 1 - beta2)
        second = vs
        if amsgrad:
            second = [vmax[i] for i in idx]
            torch._foreach_maximum_(second, vs)
        t = [steps[i] for i in idx]
        denom = torch._foreach_sqrt(second)
        if len(set(t)) == 1:                   # the usual case: one step count for the group
            bc1, bc2 = 1 - beta1 ** t[0], 1 - beta2 ** t[0]
            torch._foreach_div_(denom, math.sqrt(bc2))
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(ps, ms, denom, -lr / bc1)
        else:
            torch._foreach_div_(denom, [math.sqrt(1 - beta2 ** s) for s in t])
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(ps, ms, denom, [-lr / (1 - beta1 ** s) for s in t])
