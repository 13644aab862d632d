"""What each torch op does to positions: the rule table both tracers share.

A rule maps an op (a torch function, Tensor method or operator by name, or an nn.Module) with
its arguments and its input/output shapes to per-axis ops of :mod:`rf_ops` (Window, Transposed,
Resample, Adaptive, Collapse), to "pointwise" (mixes no positions: folded away), to "merge"
(several paths meet) or raises :class:`UnsupportedOpError` naming the op.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..errors import ModelFormatError
from .rf_ops import Adaptive, Collapse, Resample, Transposed, Window

class UnsupportedOpError(ModelFormatError):
    """The model uses an op whose effect on positions we have no rule for."""


# names (without leading/trailing underscores) of ops that mix no spatial positions
POINTWISE = {
    "relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "leaky_relu", "elu", "selu", "celu",
    "hardtanh", "hardswish", "hardsigmoid", "mish", "softplus", "softsign", "prelu", "rrelu",
    "glu", "logsigmoid", "tanhshrink", "threshold", "hardshrink", "softshrink", "sign", "step",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "batch_norm", "instance_norm", "group_norm", "local_response_norm", "normalize",
    "neg", "abs", "exp", "log", "sqrt", "rsqrt", "pow", "clamp", "clamp_min", "clamp_max", "clip",
    "contiguous", "clone", "to", "float", "double", "half", "type_as", "detach", "requires_grad",
    "square", "reciprocal", "erf", "sin", "cos", "floor", "round", "mul", "pos",
    "channel_shuffle",
}
MERGE = {"add", "radd", "iadd", "sub", "rsub", "isub", "mul", "rmul", "imul", "truediv", "rtruediv",
         "div", "idiv", "maximum", "minimum", "max", "min", "where", "addcmul", "lerp", "cat",
         "concat", "concatenate", "stack"}
NONTENSOR = {"size", "dim", "numel", "get", "shape", "getattr", "len", "ndimension", "item",
             "tolist", "is_contiguous", "device", "dtype"}


def _plain(name: str) -> str:
    name = name.strip("_")
    return {"iadd": "add", "radd": "add", "isub": "sub", "imul": "mul", "rmul": "mul",
            "itruediv": "truediv", "idiv": "div"}.get(name, name)


def _tup(v, ndim: int, what: str) -> tuple:
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return tuple(v) * ndim
        if len(v) != ndim:
            raise UnsupportedOpError(f"{what} {v!r} does not have {ndim} values")
        return tuple(v)
    return (v,) * ndim


def window_ops(ndim, kernel, stride=None, padding=0, dilation=1) -> tuple:
    k = _tup(kernel, ndim, "kernel")
    s = _tup(k if stride in (None, (), []) else stride, ndim, "stride")
    d = _tup(dilation, ndim, "dilation")
    if padding == "valid":
        p = (0,) * ndim
    elif padding == "same":
        p = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d))
    else:
        p = _tup(padding, ndim, "padding")
    return tuple(Window(int(a), int(b), int(c), int(e)) for a, b, c, e in zip(k, s, p, d))


class Shaped:
    """Stand-in for a tensor of known shape (an fx Node after ShapeProp)."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    @property
    def ndim(self):
        return len(self.shape)


def _shape(x) -> tuple | None:
    s = getattr(x, "shape", None)
    return tuple(s) if s is not None and not isinstance(x, (int, float)) else None


def rule(name: str, args: tuple, kwargs: dict, in_shape: tuple, out_shape: tuple | None,
         ndim: int) -> tuple[str, Any]:
    """What op ``name`` (a torch function, Tensor method or operator) does to positions.

    Returns ("pointwise", None), ("merge", None), ("window"/..., per-axis ops), ("collapse", ops)
    or ("passthrough", None) for tuple-returning channel splits; raises UnsupportedOpError.
    """
    def arg(i, key, default=None):
        if len(args) > i:
            return args[i]
        return kwargs.get(key, default)

    spatial_in = in_shape[-ndim:]
    if name in ("conv1d", "conv2d", "conv3d"):
        w = _shape(arg(1, "weight"))
        return "conv", window_ops(ndim, w[2:], arg(3, "stride", 1), arg(4, "padding", 0),
                                  arg(5, "dilation", 1))
    if name in ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
        w = _shape(arg(1, "weight"))
        k, s = w[2:], _tup(arg(3, "stride", 1), ndim, "stride")
        p, d = _tup(arg(4, "padding", 0), ndim, "padding"), _tup(arg(7, "dilation", 1), ndim, "dilation")
        return "transposed", tuple(Transposed(int(a), int(b), int(c), int(e)) for a, b, c, e in zip(k, s, p, d))
    if name.startswith("max_pool") or name.startswith("avg_pool") or name.startswith("lp_pool"):
        if name.startswith("lp_pool"):  # lp_pool(input, norm_type, kernel_size, stride)
            return "lppool", window_ops(ndim, arg(2, "kernel_size"), arg(3, "stride"))
        dil = arg(4, "dilation", 1) if name.startswith("max") else 1
        return name[:3] + "pool", window_ops(ndim, arg(1, "kernel_size"), arg(2, "stride"), arg(3, "padding", 0), dil)
    if name.startswith("adaptive_"):
        ops = tuple(Adaptive(a, b) for a, b in zip(spatial_in, out_shape[-ndim:]))
        if all(b == 1 for b in out_shape[-ndim:]):
            return "global pool", tuple(Collapse(a) for a in spatial_in)
        return "adaptive pool", tuple(o.as_window() or o for o in ops)
    if name in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
        mode = {"upsample_nearest": "nearest", "upsample_bilinear": "bilinear"}.get(name)
        mode = mode or arg(3, "mode", "nearest")
        align = bool(arg(4, "align_corners", None)) or name == "upsample_bilinear"
        if mode == "area":
            return "area", tuple(Adaptive(a, b).as_window() or Adaptive(a, b)
                                 for a, b in zip(spatial_in, out_shape[-ndim:]))
        sf = arg(2, "scale_factor", None)
        scales = _tup(sf, ndim, "scale_factor") if isinstance(sf, (int, float, list, tuple)) else None
        ops = []
        for ax, (a, b) in enumerate(zip(spatial_in, out_shape[-ndim:])):
            sc = Fraction(scales[ax]).limit_denominator(10**6) if scales else Fraction(b, a)
            ops.append(Resample(mode, sc, a, b, align))
        return "upsample", tuple(ops)
    if name == "pixel_shuffle":
        r = int(arg(1, "upscale_factor"))
        return "pixel shuffle", tuple(Resample("nearest", Fraction(r), a, a * r) for a in spatial_in)
    if name == "pixel_unshuffle":
        r = int(arg(1, "downscale_factor"))
        return "pixel unshuffle", window_ops(ndim, r, r)
    if name == "pad":
        pad = list(arg(1, "pad"))
        left = [0] * ndim  # pad lists (left, right) pairs from the LAST axis backwards
        for i in range(0, min(len(pad), 2 * ndim), 2):
            left[ndim - 1 - i // 2] = int(pad[i])
        return "pad", tuple(Window(1, 1, p) for p in left)
    if name == "getitem":
        return _getitem_rule(arg(1, "idx"), in_shape, ndim)
    if name in ("flatten", "view", "reshape", "unflatten", "squeeze", "unsqueeze", "transpose",
                "permute", "movedim", "expand", "expand_as", "repeat", "linear", "matmul",
                "mean", "sum", "amax", "amin", "max", "min", "logsumexp", "std", "var", "norm",
                "softmax", "log_softmax", "layer_norm"):
        if out_shape is not None and len(out_shape) >= ndim and tuple(out_shape[-ndim:]) == spatial_in:
            # the trailing (spatial) axes survive: it mixes channels only, unless it acts on them
            if name in ("transpose", "permute", "movedim") and _moves_spatial(name, args, kwargs, len(in_shape), ndim):
                raise UnsupportedOpError(f"{name} moving a spatial axis")
            if name in ("softmax", "log_softmax") and _dim_is_spatial(arg(1, "dim"), len(in_shape), ndim):
                return "collapse", tuple(Collapse(a) for a in spatial_in)
            if name == "layer_norm" and len(_tup(arg(1, "normalized_shape"), 1, "")) > 1:
                return "pointwise", None  # statistics over the map are treated as constants
            if name in ("linear", "matmul"):
                raise UnsupportedOpError(f"{name} over the last spatial axis of a {in_shape} map")
            return "pointwise", None
        return "collapse", tuple(Collapse(a) for a in spatial_in)
    if name in MERGE:
        return "merge", None
    if name in POINTWISE:
        return "pointwise", None
    if name in ("chunk", "split", "unbind", "tensor_split"):
        d = arg(2, "dim", 0)
        if _dim_is_spatial(d, len(in_shape), ndim):
            raise UnsupportedOpError(f"{name} along a spatial axis")
        return "passthrough", None
    raise UnsupportedOpError(f"no receptive-field rule for {name!r}")


def _dim_is_spatial(d, rank, ndim) -> bool:
    if d is None:
        return True
    dims = d if isinstance(d, (list, tuple)) else (d,)
    return any((x % rank) >= rank - ndim for x in dims)


def _moves_spatial(name, args, kwargs, rank, ndim) -> bool:
    if name == "permute":
        dims = args[1:] if len(args) > 2 else (args[1] if len(args) > 1 else kwargs.get("dims"))
        dims = [d % rank for d in dims]
        return dims[-ndim:] != list(range(rank - ndim, rank))
    rest = [a for a in args[1:3] if isinstance(a, int)]
    return any(_dim_is_spatial(d, rank, ndim) for d in rest)


def _getitem_rule(idx, in_shape, ndim):
    idx = idx if isinstance(idx, tuple) else (idx,)
    if any(i is Ellipsis for i in idx):
        k = idx.index(Ellipsis)
        fill = len(in_shape) - (len(idx) - 1)
        idx = idx[:k] + (slice(None),) * fill + idx[k + 1:]
    idx = idx + (slice(None),) * (len(in_shape) - len(idx))
    if len(idx) != len(in_shape) or not all(isinstance(i, slice) or i is None for i in idx[-ndim:]):
        raise UnsupportedOpError(f"indexing {idx!r} of a spatial map")
    ops = []
    for sl, n in zip(idx[-ndim:], in_shape[-ndim:]):
        start, _, step = sl.indices(n)
        ops.append(Window(1, step, -start))
    if all(o == Window(1, 1, 0) for o in ops):
        return "pointwise", None
    return "crop", tuple(ops)


# --- module rules (fx call_module) ---------------------------------------------------------

def module_rule(mod, in_shape, out_shape, ndim) -> tuple[str, Any]:
    import torch.nn as nn

    if isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return "conv", window_ops(ndim, mod.kernel_size, mod.stride, mod.padding, mod.dilation)
    if isinstance(mod, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        return rule("conv_transpose2d", (None, Shaped(mod.weight.shape), None, mod.stride, mod.padding,
                                         mod.output_padding, mod.groups, mod.dilation), {},
                    in_shape, out_shape, ndim)
    if isinstance(mod, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        return "maxpool", window_ops(ndim, mod.kernel_size, mod.stride, mod.padding, mod.dilation)
    if isinstance(mod, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
        return "avgpool", window_ops(ndim, mod.kernel_size, mod.stride, mod.padding)
    if isinstance(mod, (nn.LPPool1d, nn.LPPool2d)):
        return "lppool", window_ops(ndim, mod.kernel_size, mod.stride)
    if type(mod).__name__.startswith("Adaptive"):
        return rule("adaptive_pool", (), {}, in_shape, out_shape, ndim)
    if isinstance(mod, nn.Upsample):
        return rule("interpolate", (None, mod.size, mod.scale_factor, mod.mode, mod.align_corners), {},
                    in_shape, out_shape, ndim)
    if isinstance(mod, nn.PixelShuffle):
        return rule("pixel_shuffle", (None, mod.upscale_factor), {}, in_shape, out_shape, ndim)
    if isinstance(mod, nn.PixelUnshuffle):
        return rule("pixel_unshuffle", (None, mod.downscale_factor), {}, in_shape, out_shape, ndim)
    if type(mod).__name__.endswith("Pad1d") or type(mod).__name__.endswith("Pad2d") or \
            type(mod).__name__.endswith("Pad3d"):
        return rule("pad", (None, mod.padding), {}, in_shape, out_shape, ndim)
    if isinstance(mod, nn.Flatten):
        return rule("flatten", (), {}, in_shape, out_shape, ndim)
    if isinstance(mod, (nn.Linear, nn.Bilinear, nn.LazyLinear)):
        return rule("linear", (), {}, in_shape, out_shape, ndim)
    if isinstance(mod, (nn.Softmax, nn.LogSoftmax)):
        return rule("softmax", (None, mod.dim), {}, in_shape, out_shape, ndim)
    if isinstance(mod, nn.LayerNorm):
        return rule("layer_norm", (None, mod.normalized_shape), {}, in_shape, out_shape, ndim)
    if isinstance(mod, (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
                        nn.AlphaDropout, nn.LocalResponseNorm, nn.GroupNorm, nn.ChannelShuffle,
                        nn.modules.batchnorm._NormBase)):
        return "pointwise", None
    if mod.__class__.__module__ == "torch.nn.modules.activation" and not isinstance(
            mod, (nn.MultiheadAttention, nn.Softmax2d)):
        return "pointwise", None
    raise UnsupportedOpError(f"no receptive-field rule for module {type(mod).__name__}")
