"""Receptive fields measured with the gradient: the exact support, and the effective field.

* ``gradient_map``: |d y_u / d x| for one output unit u (summed over its channels), one value per
  input pixel. With a *linearised* copy of the network (``linearise``: activations and
  normalisation removed, max-pooling turned into average pooling, all weights positive, positive
  input), no two paths can cancel, so the pixels with a nonzero gradient are exactly the
  theoretical receptive field; tests compare them with the analytic calculator.
* ``effective_receptive_field``: Luo, Li, Urtasun & Zemel, "Understanding the Effective
  Receptive Field in Deep Convolutional Neural Networks" (NeurIPS 2016), sec. 2: set the
  gradient at the centre unit of the output to 1 (0 elsewhere), back-propagate to the input, and
  average |grad| over random weight initialisations and random inputs. It is Gaussian-shaped
  and occupies a fraction of the theoretical field; its width grows like sqrt(depth) for a
  stack of convolutions (sec. 2.2) where the theoretical size grows like depth.

Shapes: x (1, C, *S) input, S the spatial sizes; maps are (*S).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn as nn


def linearise(model: nn.Module) -> nn.Module:
    """A copy of ``model`` without cancellation: positive weights, no nonlinearity or norm.

    Activation and normalisation modules become identities, max-pooling becomes average
    pooling with the same window, every convolution/linear weight is set to 1/fan_in and every
    bias to 0. Functional ReLUs that remain see positive inputs only, so they pass everything.
    """
    m = copy.deepcopy(model)
    for parent in m.modules():
        for name, child in list(parent.named_children()):
            new = _linear_counterpart(child)
            if new is not None:
                setattr(parent, name, new)
    with torch.no_grad():
        for mod in m.modules():
            w = getattr(mod, "weight", None)
            if isinstance(mod, (nn.modules.conv._ConvNd, nn.Linear)) and w is not None:
                fan_in = w[0].numel() if not isinstance(mod, nn.modules.conv._ConvTransposeNd) else w[:, 0].numel()
                w.fill_(1.0 / fan_in)
                if mod.bias is not None:
                    mod.bias.zero_()
    return m.eval()


def _linear_counterpart(child: nn.Module) -> nn.Module | None:
    pools = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d, nn.MaxPool3d: nn.AvgPool3d}
    if type(child) in pools:
        if child.dilation not in (1, (1, 1), (1,), (1, 1, 1)):
            raise ValueError("cannot linearise a dilated max-pool")
        return pools[type(child)](child.kernel_size, child.stride, child.padding, ceil_mode=child.ceil_mode)
    adaptive = {nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d}
    if type(child) in adaptive:
        return adaptive[type(child)](child.output_size)
    if (child.__class__.__module__ == "torch.nn.modules.activation"
            and not isinstance(child, (nn.MultiheadAttention, nn.Softmax, nn.Softmax2d, nn.LogSoftmax))):
        return nn.Identity()
    if isinstance(child, (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LocalResponseNorm,
                          nn.LayerNorm, nn.Dropout, nn.Dropout2d, nn.Dropout1d)):
        return nn.Identity()
    return None


def central_unit(shape: Sequence[int]) -> tuple[int, ...]:
    """The unit in the middle of an output map of spatial ``shape``."""
    return tuple(n // 2 for n in shape)


def gradient_map(model: nn.Module, x: torch.Tensor, unit: Sequence[int] | None = None) -> torch.Tensor:
    """|d y[unit] / d x| summed over channels: (N, *S) for x (N, C, *S).

    ``unit`` indexes the output's spatial axes (default: the centre); an output without spatial
    axes (a classifier) uses all of it. The output's channels are summed, i.e. the upstream
    gradient is 1 at ``unit`` in every channel and 0 elsewhere (Luo et al., sec. 2).
    """
    x = x.detach().clone().requires_grad_(True)
    y = model(x)
    if isinstance(y, (tuple, list)):
        y = y[0]
    if y.ndim > 2:
        unit = central_unit(y.shape[2:]) if unit is None else tuple(unit)
        y = y[(slice(None), slice(None), *unit)]
    (g,) = torch.autograd.grad(y.sum(), x)
    return g.abs().sum(1)


def support_box(gmap: torch.Tensor) -> tuple[tuple[int, int], ...]:
    """First and last index of nonzero entries along each axis of a (*S) map."""
    nz = torch.nonzero(gmap)
    if nz.numel() == 0:
        raise ValueError("the gradient is zero everywhere")
    return tuple((int(nz[:, a].min()), int(nz[:, a].max())) for a in range(gmap.ndim))


@dataclass
class EffectiveRF:
    """Averaged |gradient| map of the centre unit (normalised to sum 1) and its statistics.

    ``sigma``: standard deviation of the map along each axis (pixels); ``size_mass``: side of
    the smallest box centred on the centroid that holds ``mass`` of the total; ``gauss_r2``: R^2
    of each axis' marginal against a Gaussian with the same mean and sigma.
    """

    map: torch.Tensor
    centre: tuple[float, ...]
    sigma: tuple[float, ...]
    size_mass: tuple[int, ...]
    mass: float
    gauss_r2: tuple[float, ...]
    samples: int


def effective_receptive_field(model_fn: Callable[[], nn.Module], input_shape: Sequence[int], *,
                              inits: int = 4, inputs_per_init: int = 4, seed: int = 0,
                              mass: float = 0.95) -> EffectiveRF:
    """Luo et al. (2016): mean |d y_centre / d x| over ``inits`` fresh models x random inputs.

    ``model_fn`` builds a freshly initialised model (called once per initialisation, under a
    seeded generator); ``input_shape`` is (C, *S). Inputs are standard normal.
    """
    if inits < 1 or inputs_per_init < 1:
        raise ValueError(f"inits and inputs_per_init must be >= 1, got {inits}, {inputs_per_init}")
    if not 0 < mass < 1:
        raise ValueError(f"mass must be in (0, 1), got {mass}")
    total = None
    for i in range(inits):
        torch.manual_seed(seed * 1000 + i)
        model = model_fn().eval()
        x = torch.randn(inputs_per_init, *input_shape)
        g = gradient_map(model, x).sum(0)  # (*S): per-sample maps are summed over the batch
        total = g if total is None else total + g
    m = total / total.sum()
    return EffectiveRF(map=m, **_stats(m, mass), mass=mass, samples=inits * inputs_per_init)


def _stats(m: torch.Tensor, mass: float) -> dict:
    centre, sigma, r2 = [], [], []
    for ax in range(m.ndim):
        marg = m.sum(dim=tuple(a for a in range(m.ndim) if a != ax)).double()  # (S_ax,)
        pos = torch.arange(marg.numel(), dtype=torch.float64)
        mu = float((marg * pos).sum())
        sd = math.sqrt(float((marg * (pos - mu) ** 2).sum()))
        centre.append(mu)
        sigma.append(sd)
        gauss = torch.exp(-0.5 * ((pos - mu) / max(sd, 1e-9)) ** 2)
        gauss = gauss / gauss.sum()
        ss_res = float(((marg - gauss) ** 2).sum())
        ss_tot = float(((marg - marg.mean()) ** 2).sum())
        r2.append(1 - ss_res / ss_tot if ss_tot > 0 else 1.0)
    # smallest centred box holding `mass` of the total (grow the half-width pixel by pixel)
    c = [int(round(v)) for v in centre]
    half = 0
    while True:
        box = tuple(slice(max(ci - half, 0), ci + half + 1) for ci in c)
        if float(m[box].sum()) >= mass - 1e-9 or all(ci - half <= 0 and ci + half + 1 >= n
                                                      for ci, n in zip(c, m.shape)):
            break
        half += 1
    return {"centre": tuple(centre), "sigma": tuple(sigma), "size_mass": (2 * half + 1,) * m.ndim,
            "gauss_r2": tuple(r2)}
