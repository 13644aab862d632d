"""Transposed convolution as zero-insertion followed by an ordinary convolution.

Notation: N batch, C_in/C_out channels, g groups, L (1-D) or (H, W) (2-D) input size, k kernel
size, s stride, p padding, d dilation, o output_padding; every spatial quantity may differ per
axis.

A convolution with stride s maps a length-L' signal to length L; its transpose (the gradient of
that convolution with respect to its input, Dumoulin & Visin 2016, "A guide to convolution
arithmetic", section 4) maps L back to

    L' = (L - 1) s - 2 p + d (k - 1) + o + 1.

The same map is an ordinary stride-1 convolution of a modified input (their relationship 14):

1. insert s - 1 zeros between neighbouring input samples:        length (L - 1) s + 1
2. pad each side with d (k - 1) - p zeros (crop if negative) and add o more at the end;
3. convolve (stride 1, dilation d) with the kernel flipped in space and with its in/out
   channels swapped within each group: weight (C_in, C_out/g, *k) -> (C_out, C_in/g, *k).

The zeros of step 1 are what make the checkerboard artefact (Odena, Dumoulin & Olah 2016): when
k is not divisible by s, output positions see an unequal number of non-zero inputs.

Matches ``torch.nn.functional.conv_transpose1d`` / ``conv_transpose2d`` (same arguments); the
convolution of step 3 is ``F.conv1d`` / ``F.conv2d``.
"""
from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["conv_transpose1d", "conv_transpose2d", "zero_insert", "transposed_output_size"]


def _ntuple(v, n: int, name: str) -> list[int]:
    vals = list(v) if isinstance(v, (list, tuple)) else [v] * n
    if len(vals) != n or any(isinstance(x, bool) or not isinstance(x, Integral) for x in vals):
        raise ValueError(f"{name} must be an int or {n} ints, got {v!r}")
    return vals


def transposed_output_size(in_size: int, k: int, s: int, p: int, o: int, d: int) -> int:
    """L' = (L - 1) s - 2 p + d (k - 1) + o + 1."""
    return (in_size - 1) * s - 2 * p + d * (k - 1) + o + 1


def zero_insert(x: Tensor, stride: list[int]) -> Tensor:
    """Put s - 1 zeros between neighbouring samples along each trailing spatial axis:
    (N, C, *L) -> (N, C, *((L - 1) s + 1))."""
    dims = len(stride)
    spatial = x.shape[-dims:]
    out_shape = list(x.shape[:-dims]) + [(n - 1) * s + 1 for n, s in zip(spatial, stride)]
    y = x.new_zeros(out_shape)
    y[(Ellipsis,) + tuple(slice(None, None, s) for s in stride)] = x  # every s-th sample
    return y


def _conv_transpose(x: Tensor, weight: Tensor, bias, stride, padding, output_padding, groups,
                    dilation, dims: int) -> Tensor:
    name = f"conv_transpose{dims}d"
    unbatched = x.dim() == dims + 1
    if x.dim() not in (dims + 1, dims + 2):
        raise ValueError(f"{name} expects a {dims + 1}-D or {dims + 2}-D input, got shape "
                         f"{tuple(x.shape)}")
    if weight.dim() != dims + 2:
        raise ValueError(f"{name} expects a {dims + 2}-D weight (C_in, C_out/groups, *k), got "
                         f"shape {tuple(weight.shape)}")
    if unbatched:
        x = x.unsqueeze(0)
    s = _ntuple(stride, dims, "stride")
    p = _ntuple(padding, dims, "padding")
    o = _ntuple(output_padding, dims, "output_padding")
    d = _ntuple(dilation, dims, "dilation")
    if isinstance(groups, bool) or not isinstance(groups, Integral) or groups < 1:
        raise ValueError(f"groups must be a positive integer, got {groups!r}")
    for nm, vals, low in (("stride", s, 1), ("dilation", d, 1), ("padding", p, 0),
                          ("output_padding", o, 0)):
        if any(v < low for v in vals):
            raise ValueError(f"{nm} must be >= {low}, got {vals}")
    for oi, si, di in zip(o, s, d):
        if oi >= max(si, di):
            raise ValueError(f"output_padding must be smaller than stride or dilation, got "
                             f"output_padding={o}, stride={s}, dilation={d}")
    c_in, c_out_g, *k = weight.shape
    if x.shape[1] != c_in:
        raise ValueError(f"input has {x.shape[1]} channels but weight expects {c_in}")
    if c_in % groups:
        raise ValueError(f"input channels ({c_in}) must be divisible by groups ({groups})")
    if bias is not None and bias.shape != (c_out_g * groups,):
        raise ValueError(f"bias must have shape ({c_out_g * groups},), got {tuple(bias.shape)}")
    out = [transposed_output_size(n, ki, si, pi, oi, di)
           for n, ki, si, pi, oi, di in zip(x.shape[2:], k, s, p, o, d)]
    if any(n <= 0 for n in out):
        raise ValueError(f"{name}: output size {out} is not positive (input {list(x.shape[2:])}, "
                         f"kernel {k}, stride {s}, padding {p}, dilation {d})")

    z = zero_insert(x, s)                                          # (N, C_in, *((L-1)s+1))
    pads: list[int] = []
    for ki, pi, oi, di in reversed(list(zip(k, p, o, d))):         # F.pad lists the last axis first
        q = di * (ki - 1) - pi                                     # negative q crops
        pads += [q, q + oi]
    z = F.pad(z, pads)
    # (C_in, C_out/g, *k) -> (g, C_in/g, C_out/g, *k) -> (g, C_out/g, C_in/g, *k) -> flip space
    w = weight.reshape(groups, c_in // groups, c_out_g, *k).transpose(1, 2)
    w = w.reshape(groups * c_out_g, c_in // groups, *k).flip(list(range(2, 2 + dims)))
    conv = F.conv1d if dims == 1 else F.conv2d
    y = conv(z, w, bias, stride=1, padding=0, dilation=d, groups=groups)  # (N, C_out, *L')
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """(N, C_in, L) -> (N, C_out, L'); the arguments of ``F.conv_transpose1d``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """(N, C_in, H, W) -> (N, C_out, H', W'); the arguments of ``F.conv_transpose2d``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2)


def conv_transpose_scatter_ref(x: Tensor, weight: Tensor, stride: int, padding: int) -> Tensor:
    """The definition, slowly, for (C_in, L) 1-D input, groups = dilation = 1: every input
    sample adds a copy of the kernel, scaled by its value, at offset i s - p of the output."""
    c_in, length = x.shape
    _, c_out, k = weight.shape
    full = torch.zeros(c_out, (length - 1) * stride + k, dtype=x.dtype)
    for i in range(length):
        full[:, i * stride:i * stride + k] += (x[:, i, None, None] * weight).sum(0)
    return full[:, padding:full.shape[1] - padding]
