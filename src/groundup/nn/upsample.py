"""Upsampling without learning: interpolation, PixelShuffle, and max-unpooling.

Notation: N batch, C channels, (H, W) or L the input's spatial size, (H', W') or L' the
output's, r the upscale factor.

Interpolation is separable: along each spatial axis, output sample i is a weighted sum of a few
input samples, y[i] = sum_t w[i, t] x[idx[i, t]], and a 2-D resize is the 1-D one applied to H
then to W. Every mode is just a rule for (idx, w); we gather with ``index_select`` so autograd's
backward is the matching scatter-add. The rules follow torch's CPU kernels (UpSample.h) exactly,
including where they compute in float32, so that even ``nearest`` picks the same pixels:

* source coordinate of output i, with ratio s = in/out (or 1/scale_factor when one is given):
  ``align_corners=False``: src = s (i + 1/2) - 1/2 (half-pixel centres; clamped at 0 for linear)
  ``align_corners=True``:  src = i (in - 1)/(out - 1) (corner pixels aligned)
* ``nearest``: idx = floor(i s) - OpenCV's INTER_NEAREST rule, which is *not* the nearest pixel
  centre: it shifts the image by half an input pixel; ``nearest-exact``: idx = floor((i + 1/2) s),
  the pixel whose centre is nearest (PIL and scikit-image's rule);
* ``linear``/``bilinear``: idx = floor(src), src + 1 (clamped), w = (1 - l, l), l = src - floor(src);
* ``bicubic``: Keys' (1981) cubic convolution on 4 taps floor(src) - 1 .. + 2 (clamped to the
  border), with a = -0.75 (torch and OpenCV; Keys and PIL use a = -0.5);
* ``area``: the mean over [floor(i in/out), ceil((i+1) in/out)), i.e. adaptive average pooling.

PixelShuffle (Shi et al. 2016): (N, C r^2, H, W) -> (N, C, H r, W r), y[c, h r + i, w r + j] =
x[c r^2 + i r + j, h, w]; PixelUnshuffle is its inverse. Max-unpooling (Zeiler & Fergus 2014,
"switches") puts each value back at the position its max-pool came from and zeros elsewhere.

Transposed convolution is in :mod:`groundup.nn.conv_transpose`; the learned sub-pixel layer and
ICNR in :mod:`groundup.nn.subpixel`; both are re-exported here.
"""
from __future__ import annotations

from numbers import Integral

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from .conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: F401

__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle", "max_unpool1d", "max_unpool2d",
           "conv_transpose1d", "conv_transpose2d", "axis_weights",
           "cubic_weights", "BICUBIC_A"]

BICUBIC_A = -0.75
_MODES = {"nearest": None, "nearest-exact": None, "area": None,
          "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


# --------------------------------------------------------------------------------------------
# Interpolation: one (idx, w) rule per mode, per axis
# --------------------------------------------------------------------------------------------
def cubic_weights(t: Tensor, a: float = BICUBIC_A) -> Tensor:
    """Keys' cubic-convolution weights for taps at distances 1 + t, t, 1 - t, 2 - t (t in [0, 1)).

    W(x) = (a+2)|x|^3 - (a+3)|x|^2 + 1         for |x| <= 1
         = a|x|^3 - 5a|x|^2 + 8a|x| - 4a       for 1 < |x| < 2
    The four weights sum to 1 for every t (a partition of unity), so a constant stays constant.
    """
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return torch.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], dim=-1)  # (out, 4)


def _ratio(in_size: int, out_size: int, scale: float | None, align_corners: bool) -> float:
    """torch's area_pixel_compute_scale: in/out, or 1/scale_factor when one is given."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def axis_weights(in_size: int, out_size: int, scale: float | None, mode: str,
                 align_corners: bool, dtype: torch.dtype,
                 shortcut: bool = False) -> tuple[Tensor, Tensor | None]:
    """(idx, w) for one axis: idx (out, T) int64 source positions, w (out, T) weights (None for
    the nearest modes, which copy). ``scale`` is the user's scale_factor or None.

    ``shortcut``: torch's 2-D nearest kernel (not its 1-D or 3-D one) treats out == in as a
    copy and out == 2 in as idx = i // 2 whatever the scale_factor, "to get rid of float
    precision"; with scale_factor=1.2 on 4 pixels that is [0, 1, 2, 3], not floor(i / 1.2)."""
    i = torch.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        # float32 arithmetic as in torch's nearest_idx / nearest_exact_idx (UpSample.h)
        s = torch.tensor(1.0 / scale if scale is not None and scale > 0 else in_size / out_size,
                         dtype=torch.float32)
        if mode == "nearest" and shortcut and out_size == in_size:
            idx = i
        elif mode == "nearest" and shortcut and out_size == 2 * in_size:
            idx = i // 2
        elif mode == "nearest":
            idx = torch.floor(i.to(torch.float32) * s).long()
        else:
            idx = torch.floor(((i.to(torch.float64) + 0.5) * s.double()).float()).long()
        return idx.clamp(max=in_size - 1)[:, None], None
    if mode == "area":
        start = (i * in_size) // out_size                       # floor(i in / out)
        end = -((-(i + 1) * in_size) // out_size)               # ceil((i + 1) in / out)
        taps = int((end - start).max())
        idx = start[:, None] + torch.arange(taps)[None, :]      # (out, T)
        inside = idx < end[:, None]
        w = inside.to(dtype) / (end - start)[:, None].to(dtype)
        return torch.where(inside, idx, start[:, None]), w
    s = _ratio(in_size, out_size, scale, align_corners)
    i64 = i.to(torch.float64)
    src = s * i64 if align_corners else s * (i64 + 0.5) - 0.5   # continuous source coordinate
    src = src.to(dtype)
    if mode == "bicubic":
        i0 = torch.floor(src).long().clamp(max=in_size - 1)    # torch's guard_index_and_lambda
        t = (src - i0.to(dtype)).clamp(0, 1)
        idx = (i0[:, None] + torch.arange(-1, 3)[None, :]).clamp(0, in_size - 1)
        return idx, cubic_weights(t)                            # (out, 4)
    # linear: torch treats out == in as the identity and clamps the source at 0
    if out_size == in_size:
        return i[:, None], torch.ones(out_size, 1, dtype=dtype)
    src = src.clamp(min=0)
    i0 = torch.floor(src).long().clamp(max=in_size - 1)
    lam = (src - i0.to(dtype)).clamp(0, 1)
    i1 = torch.where(i0 < in_size - 1, i0 + 1, i0)
    return torch.stack([i0, i1], 1), torch.stack([1 - lam, lam], 1)  # (out, 2)


def _resample_axis(x: Tensor, axis: int, idx: Tensor, w: Tensor | None) -> Tensor:
    out, taps = idx.shape
    g = x.index_select(axis, idx.reshape(-1))                   # (..., out*T, ...)
    if w is None:
        return g
    shape = list(x.shape)
    shape[axis:axis + 1] = [out, taps]
    g = g.reshape(shape)                                        # (..., out, T, ...)
    w = w.to(x.dtype).reshape([out, taps] + [1] * (x.dim() - axis - 1))
    return (g * w).sum(axis + 1)


def _tuple(v, n: int, name: str, x: Tensor) -> list:
    if isinstance(v, (list, tuple)):
        if len(v) != n:
            raise ValueError(f"{name} has {len(v)} values but the input has {n} spatial "
                             f"dimensions (shape {tuple(x.shape)})")
        return list(v)
    return [v] * n


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize (N, C, *spatial) by ``size`` or ``scale_factor``; the arguments and results of
    ``torch.nn.functional.interpolate`` (modes nearest, nearest-exact, linear, bilinear, bicubic,
    trilinear, area; no antialias)."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if antialias:
        raise ValueError("antialias=True is not implemented here (torch's antialiased "
                         "resize is a different, size-dependent kernel)")
    if input.dim() not in (3, 4, 5):
        raise ValueError(f"interpolate expects a 3-D, 4-D or 5-D input (N, C, *spatial), "
                         f"got shape {tuple(input.shape)}")
    dims = input.dim() - 2
    need = _MODES[mode]
    if need is not None and need != dims:
        raise ValueError(f"mode {mode!r} needs a {need + 2}-D input, got {input.dim()}-D "
                         f"(shape {tuple(input.shape)})")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(f"align_corners can only be set with the interpolating modes "
                             f"(linear, bilinear, bicubic, trilinear), not {mode!r}")
        align_corners = False
    elif align_corners is None:
        align_corners = False
    if (size is None) == (scale_factor is None):
        raise ValueError("give exactly one of size and scale_factor")
    in_sizes = list(input.shape[2:])
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size")
        out_sizes = _tuple(size, dims, "size", input)
        for s in out_sizes:
            if isinstance(s, bool) or not isinstance(s, Integral) or s <= 0:
                raise ValueError(f"size must hold positive integers, got {size!r}")
        scales: list[float | None] = [None] * dims
    else:
        scales = [float(s) for s in _tuple(scale_factor, dims, "scale_factor", input)]
        for s in scales:
            if not math.isfinite(s) or s <= 0:
                raise ValueError(f"scale_factor must be positive and finite, got {scale_factor!r}")
        out_sizes = [math.floor(n * s) for n, s in zip(in_sizes, scales)]
        if any(o <= 0 for o in out_sizes):
            raise ValueError(f"scale_factor {scale_factor!r} makes an empty output from "
                             f"spatial size {in_sizes}")
        if recompute_scale_factor or mode == "area":
            scales = [None] * dims
    if any(n <= 0 for n in in_sizes):
        raise ValueError(f"input spatial size must be positive, got {in_sizes}")

    y = input
    for k in range(dims):
        idx, w = axis_weights(in_sizes[k], out_sizes[k], scales[k], mode, align_corners,
                              input.dtype, shortcut=dims == 2)
        y = _resample_axis(y, 2 + k, idx, w)
    return y


# --------------------------------------------------------------------------------------------
# PixelShuffle / PixelUnshuffle (Shi et al. 2016)
# --------------------------------------------------------------------------------------------
def _check_factor(r, name: str) -> None:
    if isinstance(r, bool) or not isinstance(r, Integral) or r <= 0:
        raise ValueError(f"{name} must be a positive integer, got {r!r}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r); matches ``torch.nn.functional.pixel_shuffle``."""
    r = upscale_factor
    _check_factor(r, "upscale_factor")
    if input.dim() < 3:
        raise ValueError(f"pixel_shuffle expects (*, C r^2, H, W), got shape {tuple(input.shape)}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle: channels ({c}) must be divisible by "
                         f"upscale_factor^2 ({r}^2 = {r * r})")
    x = input.reshape(*lead, c // (r * r), r, r, h, w)        # (*, C, i, j, H, W)
    n = len(lead)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)   # (*, C, H, i, W, j)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W); the inverse of :func:`pixel_shuffle`."""
    r = downscale_factor
    _check_factor(r, "downscale_factor")
    if input.dim() < 3:
        raise ValueError(f"pixel_unshuffle expects (*, C, H r, W r), got shape "
                         f"{tuple(input.shape)}")
    *lead, c, hr, wr = input.shape
    if hr % r or wr % r:
        raise ValueError(f"pixel_unshuffle: height ({hr}) and width ({wr}) must be divisible "
                         f"by downscale_factor ({r})")
    h, w = hr // r, wr // r
    x = input.reshape(*lead, c, h, r, w, r)                    # (*, C, H, i, W, j)
    n = len(lead)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)   # (*, C, i, j, H, W)
    return x.reshape(*lead, c * r * r, h, w)


# --------------------------------------------------------------------------------------------
# Max-unpooling from the pooling indices
# --------------------------------------------------------------------------------------------
def _unpool_size(input: Tensor, kernel_size, stride, padding, output_size, dims: int):
    k = _tuple(kernel_size, dims, "kernel_size", input)
    s = k if stride is None else _tuple(stride, dims, "stride", input)
    p = _tuple(padding, dims, "padding", input)
    for name, vals, low in (("kernel_size", k, 1), ("stride", s, 1), ("padding", p, 0)):
        if any(not isinstance(v, Integral) or v < low for v in vals):
            raise ValueError(f"{name} must be integers >= {low}, got {vals}")
    spatial = list(input.shape[-dims:])
    default = [(n - 1) * si - 2 * pi + ki for n, si, pi, ki in zip(spatial, s, p, k)]
    if output_size is None:
        out = default
    else:
        out = list(output_size)
        if len(out) == dims + 2 or (len(out) == dims + 1 and input.dim() == dims + 1):
            out = out[-dims:]
        if len(out) != dims:
            raise ValueError(f"output_size should have {dims} or {dims + 2} values, got "
                             f"{list(output_size)}")
        for d in range(dims):
            if not default[d] - s[d] < out[d] < default[d] + s[d]:
                raise ValueError(f"invalid output_size {list(output_size)} (dim {d} must be "
                                 f"between {default[d] - s[d]} and {default[d] + s[d]}, "
                                 "exclusive)")
    if any(o <= 0 for o in out):
        raise ValueError(f"max_unpool output size must be positive, got {out}")
    return out


def _max_unpool(input: Tensor, indices: Tensor, out: list[int], dims: int) -> Tensor:
    if input.dim() not in (dims + 1, dims + 2):
        raise ValueError(f"max_unpool{dims}d expects a {dims + 1}-D or {dims + 2}-D input, got "
                         f"shape {tuple(input.shape)}")
    if indices.shape != input.shape:
        raise ValueError(f"indices shape {tuple(indices.shape)} must equal input shape "
                         f"{tuple(input.shape)}")
    if indices.dtype != torch.int64:
        raise ValueError(f"indices must be int64 (from max_pool with return_indices=True), got "
                         f"{indices.dtype}")
    plane = math.prod(out)
    lead = list(input.shape[:-dims])
    flat_i = indices.reshape(*lead, -1)                        # (N, C, H*W): flat positions
    if flat_i.numel():
        lo, hi = int(flat_i.min()), int(flat_i.max())
        if lo < 0 or hi >= plane:
            bad = lo if lo < 0 else hi
            raise ValueError(f"index {bad} is outside the output plane of {out} "
                             f"({plane} positions)")
    y = input.new_zeros(*lead, plane).scatter(-1, flat_i, input.reshape(*lead, -1))
    return y.reshape(*lead, *out)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """(N, C, L) -> (N, C, L'); matches ``torch.nn.functional.max_unpool1d``."""
    out = _unpool_size(input, kernel_size, stride, padding, output_size, 1)
    return _max_unpool(input, indices, out, 1)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """(N, C, H, W) -> (N, C, H', W'), H' = (H - 1) stride - 2 padding + kernel_size by default;
    matches ``torch.nn.functional.max_unpool2d``."""
    out = _unpool_size(input, kernel_size, stride, padding, output_size, 2)
    return _max_unpool(input, indices, out, 2)
