"""Layer normalisation and RMS normalisation, written from their formulas.

Notation: x (..., E), statistics over the last ``len(normalized_shape)`` dimensions.

* LayerNorm (Ba, Kiros & Hinton 2016, eq. 4): y = (x - mu) / sqrt(sigma^2 + eps) * g + b, with
  mu and the biased variance sigma^2 over the normalised dimensions. Matches torch.nn.LayerNorm.
* RMSNorm (Zhang & Sennrich 2019, eq. 4): y = x / sqrt(mean(x^2) + eps) * g; no centring, no
  bias. Matches torch.nn.RMSNorm, whose eps defaults to the dtype's machine epsilon.

Each module has a reference route (the formula below, autograd through it) and a fused route
(``torch.nn.functional.layer_norm`` / ``rms_norm``, one kernel forward and backward) used by
default for speed; tests/test_transformer_parts.py checks both against the torch modules in
values and gradients.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["layer_norm_reference", "rms_norm_reference", "LayerNorm", "RMSNorm", "make_norm"]


def _dims(normalized_shape) -> tuple[int, ...]:
    return tuple(range(-len(normalized_shape), 0))


def layer_norm_reference(x: Tensor, normalized_shape, weight: Tensor | None = None,
                         bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    d = _dims(normalized_shape)
    mu = x.mean(dim=d, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=d, keepdim=True)                   # biased, as the paper
    y = (x - mu) * torch.rsqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def rms_norm_reference(x: Tensor, normalized_shape, weight: Tensor | None = None,
                       eps: float | None = None) -> Tensor:
    eps = torch.finfo(x.dtype).eps if eps is None else eps
    y = x * torch.rsqrt((x * x).mean(dim=_dims(normalized_shape), keepdim=True) + eps)
    return y if weight is None else y * weight


def _shape(normalized_shape) -> tuple[int, ...]:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or any(n < 1 for n in shape):
        raise ValueError(f"normalized_shape must be positive sizes, got {normalized_shape!r}")
    return shape


class LayerNorm(nn.Module):
    """torch.nn.LayerNorm's arguments and parameter names (weight, bias)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None, *, fused: bool = True) -> None:
        super().__init__()
        self.normalized_shape, self.eps, self.fused = _shape(normalized_shape), eps, fused
        fk = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.ones(self.normalized_shape, **fk)) if elementwise_affine else None
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape, **fk)) if elementwise_affine and bias else None

    def forward(self, input: Tensor) -> Tensor:                     # torch's argument name
        if self.fused:
            return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)
        return layer_norm_reference(input, self.normalized_shape, self.weight, self.bias, self.eps)


class RMSNorm(nn.Module):
    """torch.nn.RMSNorm's arguments and parameter name (weight)."""

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True,
                 device=None, dtype=None, *, fused: bool = True) -> None:
        super().__init__()
        self.normalized_shape, self.eps, self.fused = _shape(normalized_shape), eps, fused
        fk = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.ones(self.normalized_shape, **fk)) if elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:                         # torch's argument name
        if self.fused:
            return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)
        return rms_norm_reference(x, self.normalized_shape, self.weight, self.eps)


def make_norm(kind: str, d_model: int, eps: float = 1e-5, bias: bool = True, **fk) -> nn.Module:
    """'layernorm' or 'rmsnorm' over the last dimension."""
    if kind == "layernorm":
        return LayerNorm(d_model, eps=eps, bias=bias, **fk)
    if kind == "rmsnorm":
        return RMSNorm(d_model, eps=eps, **fk)
    raise ValueError(f"norm must be 'layernorm' or 'rmsnorm', got {kind!r}")
