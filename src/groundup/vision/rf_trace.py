"""Turn a torch.nn.Module into the graph of per-axis ops that :mod:`receptive_field` walks.

Two tracers, one rule table:

* ``fx``: ``torch.fx.symbolic_trace`` gives the graph (every branch, skip connection and
  concatenation is an explicit node); shapes come from ``ShapeProp`` under a FakeTensorMode, so
  no real arithmetic runs (VGG-16 at 224x224 costs nothing).
* ``run``: for models fx cannot trace (control flow on values, untraceable Python), run the model
  once under a ``TorchFunctionMode`` that records every torch function, method and operator with
  the identity of its input and output tensors, and forward hooks that name the module each call
  belongs to. Fake tensors first; real zeros if the model insists on looking at values.

Both produce, per traced op, its output shape and what it does to each spatial axis (a Window,
Transposed, Resample, Adaptive or Collapse op, or a merge of several paths). Ops that mix no
positions (activations, normalisation, dropout, 1x1-free channel ops) are folded away.
"""
from __future__ import annotations

import contextlib
import io
import operator
from fractions import Fraction
from typing import Any, Callable

from ..errors import ConfigError, ModelFormatError
from .receptive_field import GraphNode
from .rf_ops import Adaptive, Collapse, Pointwise, Resample, Transposed, Window


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


# --- module rules (fx call_module) -------------------------------------------------------

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


# --- building the graph --------------------------------------------------------------------

class _Builder:
    """Accumulates GraphNodes; pointwise ops and one-input merges alias their input."""

    def __init__(self, ndim: int, unknown: str):
        self.ndim, self.unknown = ndim, unknown
        self.nodes: list[GraphNode] = []
        self.notes: list[str] = []
        self.collapsed: set[int] = set()
        self.output_shape: tuple | None = None

    def add(self, name, kind, ops, inputs, shape) -> int:
        self.nodes.append(GraphNode(name, kind, ops, tuple(inputs), tuple(shape) if shape else None))
        return len(self.nodes) - 1

    def apply(self, label: str, name: str, args, kwargs, srcs: list[int], in_shape, out_shape,
              mod=None) -> int | None:
        """Add the node for one op; returns its index (or the aliased input's), None if non-spatial."""
        if not srcs:
            return None
        if any(s in self.collapsed for s in srcs):
            # every unit of a map that already sees the whole input still does
            idx = srcs[0] if len(srcs) == 1 else self.add(label, "merge", None, srcs, out_shape)
            self.collapsed.add(idx)
            return idx
        try:
            if mod is not None:
                kind, ops = module_rule(mod, in_shape, out_shape, self.ndim)
            else:
                kind, ops = rule(name, args, kwargs, in_shape, out_shape, self.ndim)
        except UnsupportedOpError as e:
            same = out_shape is not None and tuple(out_shape[-self.ndim:]) == tuple(in_shape[-self.ndim:])
            if self.unknown == "pointwise" and same:
                self.notes.append(f"{label}: {e}; assumed pointwise")
                kind, ops = "pointwise", None
            else:
                raise UnsupportedOpError(f"{label}: {e} (pass unknown='pointwise' to assume it mixes "
                                         f"no positions)") from None
        if kind == "pointwise" and len(set(srcs)) > 1:
            kind = "merge"  # an elementwise op of two maps (torch.where, addcmul, max(a, b))
        if kind in ("pointwise", "passthrough") or (kind == "merge" and len(set(srcs)) == 1):
            return srcs[0]
        if kind == "merge":
            if name in ("cat", "concat", "concatenate", "stack"):
                dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
                if _dim_is_spatial(dim, len(in_shape), self.ndim):
                    raise UnsupportedOpError(f"{label}: concatenation along a spatial axis")
            return self.add(label, name, None, sorted(set(srcs)), out_shape)
        idx = self.add(label, kind, ops, srcs[:1], out_shape)
        if kind == "collapse" or kind == "global pool":
            self.collapsed.add(idx)
        return idx


def full_input_shape(model, input_shape) -> tuple[tuple[int, ...], int]:
    """(N, C, *spatial) from (H, W) / (C, H, W) / (N, C, H, W); C from the first convolution."""
    import torch.nn as nn

    if input_shape is None:
        raise ConfigError("input_shape is required for a torch model, e.g. (224, 224)")
    shape = tuple(int(v) for v in input_shape)
    if not shape or any(v < 1 for v in shape):
        raise ConfigError(f"input sizes must be >= 1, got {tuple(input_shape)}")
    convs = [m for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd)]
    if convs and len(shape) == convs[0].weight.ndim - 2:
        c = convs[0].in_channels
        shape = (1, c, *shape)
    elif convs and len(shape) == convs[0].weight.ndim - 1:
        shape = (1, *shape)
    elif not convs and len(shape) < 3:
        raise ConfigError(f"give the full input shape (N, C, ...) for a model without convolutions, "
                          f"got {shape}")
    if len(shape) < 3:
        raise ConfigError(f"input must have at least one spatial axis, got shape {shape}")
    return shape, len(shape) - 2


def trace(model, input_shape, *, method: str = "auto", unknown: str = "error"):
    """Graph of per-axis ops for ``model`` on an input of ``input_shape``."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ConfigError(f"expected a torch.nn.Module, got {type(model).__name__}")
    if method not in ("auto", "fx", "run"):
        raise ConfigError(f"method must be auto, fx or run, got {method!r}")
    if unknown not in ("error", "pointwise"):
        raise ConfigError(f"unknown must be 'error' or 'pointwise', got {unknown!r}")
    shape, ndim = full_input_shape(model, input_shape)
    if method in ("auto", "fx"):
        try:
            gm = torch.fx.symbolic_trace(model)
        except Exception as e:  # fx refuses data-dependent control flow and many Python idioms
            if method == "fx":
                raise UnsupportedOpError(f"torch.fx cannot trace this model: {e}") from None
        else:
            b = _fx_graph(gm, shape, ndim, unknown)
            return b.nodes, ndim, shape, b.notes, b.output_shape
    b = _run_graph(model, shape, ndim, unknown)
    if method == "auto":
        b.notes.insert(0, "traced by running the model (torch.fx could not trace it)")
    return b.nodes, ndim, shape, b.notes, b.output_shape


def _fx_graph(gm, shape, ndim, unknown) -> _Builder:
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.passes.shape_prop import ShapeProp

    try:  # ShapeProp and FakeTensorMode print tracebacks of their own: keep the CLI to one line
        with _quiet():
            ShapeProp(gm, fake_mode=FakeTensorMode(allow_non_fake_inputs=True)).propagate(
                torch.empty(shape, device=_device(gm)))
    except Exception as e:
        raise _does_not_run(shape, e) from None
    b = _Builder(ndim, unknown)
    where: dict[Any, int] = {}

    def meta_shape(n):
        tm = n.meta.get("tensor_meta") if hasattr(n, "meta") else None
        return tuple(tm.shape) if tm is not None and hasattr(tm, "shape") else None

    def to_shaped(a):
        if isinstance(a, torch.fx.Node):
            s = meta_shape(a)
            return Shaped(s) if s is not None else None
        if isinstance(a, (list, tuple)):
            return type(a)(to_shaped(x) for x in a)
        return a

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if where:
                continue  # extra inputs with defaults: not the image
            where[node] = b.add("input", "input", None, (), shape)
            continue
        if node.op == "get_attr":
            continue
        if node.op == "output":
            out = node.args[0]
            while isinstance(out, (list, tuple)) or isinstance(out, dict):
                out = next(iter(out.values())) if isinstance(out, dict) else out[0]
            if out not in where:
                raise ConfigError("the model's output does not depend on its input")
            _finish(b, where[out])
            b.output_shape = meta_shape(out)
            continue
        srcs = []
        for a in _flat_nodes(node.args, node.kwargs):
            if a in where and where[a] not in srcs:
                srcs.append(where[a])
        if not srcs:
            continue
        out_shape = meta_shape(node)
        first = next(a for a in _flat_nodes(node.args, node.kwargs) if a in where)
        in_shape = meta_shape(first) or b.nodes[where[first]].shape
        if node.op == "call_module":
            mod = gm.get_submodule(node.target)
            idx = b.apply(node.target, "", (), {}, srcs, in_shape, out_shape, mod=mod)
        else:
            name = _plain(node.target if isinstance(node.target, str) else _fname(node.target))
            if name in NONTENSOR:
                continue
            idx = b.apply(node.name, name, to_shaped(node.args), to_shaped(node.kwargs), srcs,
                          in_shape, out_shape)
        if idx is not None:
            where[node] = idx
    return b


@contextlib.contextmanager
def _quiet():
    """Silence the stderr output and error logs of fx/fake-tensor internals for a moment."""
    import logging

    log = logging.getLogger("torch._subclasses.fake_tensor")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        log.setLevel(level)


def _does_not_run(shape, e: Exception) -> ConfigError:
    cause = e.__cause__ or e
    text = str(cause).strip().splitlines()
    return ConfigError(f"the model does not run on an input of shape {tuple(shape)}: "
                       f"{type(cause).__name__}: {text[0] if text else ''}")


def _device(model):
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return None


def _fname(fn: Callable) -> str:
    if fn is operator.getitem:
        return "getitem"
    return getattr(fn, "__name__", str(fn))


def _flat_nodes(args, kwargs):
    import torch

    stack = list(args) + list(kwargs.values())
    while stack:
        a = stack.pop(0)
        if isinstance(a, torch.fx.Node):
            yield a
        elif isinstance(a, (list, tuple)):
            stack[:0] = list(a)
        elif isinstance(a, dict):
            stack[:0] = list(a.values())


def _finish(b: _Builder, out_idx: int) -> None:
    """Keep only the nodes the output depends on, and make the output the last node."""
    keep, todo = set(), [out_idx]
    while todo:
        i = todo.pop()
        if i not in keep:
            keep.add(i)
            todo.extend(b.nodes[i].inputs)
    order = sorted(keep)
    remap = {old: new for new, old in enumerate(order)}
    nodes = []
    for old in order:
        n = b.nodes[old]
        nodes.append(GraphNode(n.name, n.kind, n.ops, tuple(remap[i] for i in n.inputs), n.shape))
    b.collapsed = {remap[i] for i in b.collapsed if i in remap}
    b.nodes = nodes


def _run_graph(model, shape, ndim, unknown) -> _Builder:
    """Trace by running: a TorchFunctionMode records each op with its tensors' identities."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.overrides import TorchFunctionMode

    calls: list = []
    names: list[str] = []

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            calls.append((func, args, kwargs, out, names[-1] if names else ""))
            return out

    def leave(mod, inp, out):
        names.pop()

    handles = []
    for qual, m in model.named_modules():
        handles.append(m.register_forward_pre_hook(lambda mod, inp, q=qual: names.append(q)))
        handles.append(m.register_forward_hook(leave))
    was_training = model.training
    model.eval()  # batch statistics would update running buffers; fields do not depend on it
    try:
        try:
            with _quiet(), FakeTensorMode(allow_non_fake_inputs=True):
                x = torch.empty(shape, device=_device(model))
                with Recorder():
                    result = model(x)
        except Exception:
            calls.clear()
            names.clear()
            x = torch.zeros(shape, device=_device(model))
            with torch.no_grad(), Recorder():
                result = model(x)
    except Exception as e:
        raise _does_not_run(shape, e) from None
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    b = _Builder(ndim, unknown)
    where: dict[int, int] = {id(x): b.add("input", "input", None, (), shape)}
    shapes: dict[int, tuple] = {id(x): tuple(shape)}
    counts: dict[str, int] = {}
    for func, args, kwargs, out, modname in calls:
        name = _plain(_fname(func))
        if name in NONTENSOR:
            continue
        tensors = [t for t in _flat_tensors(args, kwargs) if id(t) in where]
        srcs = list(dict.fromkeys(where[id(t)] for t in tensors))
        if not srcs:
            continue
        counts[name] = counts.get(name, 0) + 1
        label = f"{modname}:{name}" if modname else f"{name}_{counts[name]}"
        outs = list(_flat_tensors((out,), {}))
        out_shape = tuple(outs[0].shape) if outs else None
        in_shape = shapes[id(tensors[0])]
        sargs = tuple(Shaped(a.shape) if isinstance(a, torch.Tensor) else a for a in args)
        idx = b.apply(label, name, sargs, kwargs, srcs, in_shape, out_shape)
        if idx is None:
            continue
        for t in outs:
            where[id(t)] = idx
            shapes[id(t)] = tuple(t.shape)
    outs = [t for t in _flat_tensors((result,), {}) if id(t) in where]
    if not outs:
        raise ConfigError("the model's output does not depend on its input")
    _finish(b, where[id(outs[0])])
    b.output_shape = tuple(outs[0].shape)
    return b


def _flat_tensors(args, kwargs):
    import torch

    stack = list(args) + list(kwargs.values())
    while stack:
        a = stack.pop(0)
        if isinstance(a, torch.Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            stack[:0] = list(a)
        elif isinstance(a, dict):
            stack[:0] = list(a.values())
