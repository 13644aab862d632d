"""Turn a torch.nn.Module into the graph of per-axis ops that :mod:`receptive_field` walks.

Two tracers, one rule table (:mod:`rf_rules`):

* ``fx``: ``torch.fx.symbolic_trace`` gives the graph (every branch, skip connection and
  concatenation is an explicit node); shapes come from ``ShapeProp`` under a FakeTensorMode, so
  no real arithmetic runs (VGG-16 at 224x224 costs nothing).
* ``run``: for models fx cannot trace (control flow on values, untraceable Python), run the model
  once under a ``TorchFunctionMode`` that records every torch function, method and operator with
  the identity of its input and output tensors, and forward hooks that name the module each call
  belongs to. Fake tensors first; real zeros if the model insists on looking at values.

Both produce, per traced op, its output shape and what it does to each spatial axis (a Window,
Transposed, Resample, Adaptive or Collapse op, or a merge of several paths). Ops that mix no
positions (activations, normalisation, dropout, channel-only ops) are folded away.
"""
from __future__ import annotations

import contextlib
import io
import operator
from typing import Any, Callable

from ..errors import ConfigError
from .rf_ops import GraphNode
from .rf_rules import NONTENSOR, Shaped, UnsupportedOpError, _dim_is_spatial, _plain, module_rule, rule

__all__ = ["trace", "full_input_shape", "UnsupportedOpError"]

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
    import warnings

    log = logging.getLogger("torch._subclasses.fake_tensor")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
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
