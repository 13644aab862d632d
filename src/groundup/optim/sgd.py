"""Stochastic gradient descent with momentum (Polyak 1964) and Nesterov's variant
(Sutskever et al. 2013, eq. 3-4 in the form torch uses), as torch.optim.SGD.

Per parameter theta with gradient g (lr alpha, momentum mu, dampening tau, weight decay lambda):

    g <- -g                                  if maximize
    g <- g + lambda theta                    (L2 in the gradient)
    b <- g                                   at the first step, else  b <- mu b + (1 - tau) g
    g <- g + mu b  if nesterov, else  g <- b (when mu != 0)
    theta <- theta - alpha g

Two interchangeable implementations, tested against each other and against torch.optim.SGD:
a per-tensor loop (the reference) and a multi-tensor one over ``torch._foreach_*`` kernels.
The state ('momentum_buffer') and param-group keys are torch's, so state_dicts move either way.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch.optim import Optimizer

from ._checks import flag, optional_flag, scalar


class SGD(Optimizer):
    """Same arguments as torch.optim.SGD. ``foreach=None`` (default) picks as torch does:
    multi-tensor kernels on CUDA, the per-tensor loop on CPU (faster there, measured). ``fused`` must be None or False
    (no fused SGD kernel here); ``differentiable`` must be False."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        defaults = dict(
            lr=scalar("learning rate", lr),
            momentum=scalar("momentum value", momentum),
            dampening=scalar("dampening", dampening),
            weight_decay=scalar("weight_decay value", weight_decay),
            nesterov=flag("nesterov", nesterov),
            maximize=flag("maximize", maximize),
            foreach=optional_flag("foreach", foreach),
            differentiable=flag("differentiable", differentiable),
            fused=optional_flag("fused", fused),
        )
        if nesterov and (defaults["momentum"] <= 0 or defaults["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        if differentiable:
            raise ValueError("differentiable=True is not supported by groundup.optim.SGD")
        if fused:
            raise ValueError("fused=True is not supported by groundup.optim.SGD (use foreach)")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key in ("nesterov", "maximize", "differentiable"):
                group.setdefault(key, False)
            group.setdefault("foreach", None)
            group.setdefault("fused", None)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
                if p.grad.is_sparse:
                    raise RuntimeError("groundup.optim.SGD does not support sparse gradients")
            grads = [p.grad for p in params]
            bufs = [self.state[p].get("momentum_buffer") for p in params] if group["momentum"] else None
            foreach = group["foreach"] if group["foreach"] is not None else params[0].device.type == "cuda"
            update = sgd_foreach if foreach else sgd_single
            update(params, grads, bufs, lr=group["lr"], momentum=group["momentum"],
                   dampening=group["dampening"], weight_decay=group["weight_decay"],
                   nesterov=group["nesterov"], maximize=group["maximize"])
            if bufs is not None:
                for p, b in zip(params, bufs):
                    self.state[p]["momentum_buffer"] = b
        return loss


def sgd_single(params: list[Tensor], grads: list[Tensor], bufs: list[Tensor | None] | None, *,
               lr: float, momentum: float, dampening: float, weight_decay: float,
               nesterov: bool, maximize: bool) -> None:
    """Reference: one parameter at a time. ``bufs`` is updated in place (None -> new buffer)."""
    for k, (p, g) in enumerate(zip(params, grads)):
        if maximize:
            g = -g
        if weight_decay:
            g = g.add(p, alpha=weight_decay)                # g + lambda theta
        if momentum:
            b = bufs[k]
            if b is None:
                b = bufs[k] = g.clone()
            else:
                b.mul_(momentum).add_(g, alpha=1 - dampening)   # b = mu b + (1 - tau) g
            g = g.add(b, alpha=momentum) if nesterov else b
        p.add_(g, alpha=-lr)


def sgd_foreach(params: list[Tensor], grads: list[Tensor], bufs: list[Tensor | None] | None, *,
                lr: float, momentum: float, dampening: float, weight_decay: float,
                nesterov: bool, maximize: bool) -> None:
    """The same update with multi-tensor kernels (one kernel launch per op per dtype/device)."""
    for idx in _groups(params):
        ps, gs = [params[i] for i in idx], [grads[i] for i in idx]
        if maximize:
            gs = torch._foreach_neg(gs)
        if weight_decay:
            gs = torch._foreach_add(gs, ps, alpha=weight_decay)
        if momentum:
            old = [j for j, i in enumerate(idx) if bufs[i] is not None]
            for j, i in enumerate(idx):
                if bufs[i] is None:
                    bufs[i] = gs[j].clone()
            if old:
                bs, go = [bufs[idx[j]] for j in old], [gs[j] for j in old]
                torch._foreach_mul_(bs, momentum)
                torch._foreach_add_(bs, go, alpha=1 - dampening)
            bs = [bufs[i] for i in idx]
            gs = torch._foreach_add(gs, bs, alpha=momentum) if nesterov else bs
        torch._foreach_add_(ps, gs, alpha=-lr)


def _groups(params: list[Tensor]) -> list[list[int]]:
    """Indices of params grouped by (device, dtype): foreach kernels need one of each."""
    by_key: dict[tuple, list[int]] = {}
    for i, p in enumerate(params):
        by_key.setdefault((p.device, p.dtype), []).append(i)
    return list(by_key.values())
