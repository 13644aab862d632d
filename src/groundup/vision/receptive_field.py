"""Receptive fields of convolutional networks, from a list of layers or from a torch.nn.Module.

Notation: r receptive-field size, j jump (cumulative stride), start centre of unit 0's field,
all in input pixels, one value per spatial axis (H, W for images, L for 1-D signals); k kernel,
s stride, p padding, d dilation, k_eff = d (k - 1) + 1 (see :mod:`groundup.vision.rf_ops`).

Two recursions give the field of a chain of windows, and they must agree (tested):

* top-down, as the article writes it: start from one unit of the last map, RF_L = 1, and walk
  back, RF_(n-1) = (RF_n - 1) * s_n + k_n;
* bottom-up: r_out = r_in + (k_eff - 1) j_in, j_out = j_in s, start_out = start_in +
  ((k_eff - 1)/2 - p) j_in, starting from (1, 1, 0) at the input.

The closed form of Araujo, Norris & Sim ("Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019, eq. for r_0 and the effective padding P_0 = sum_l p_l prod_(i<l) s_i)
is a third route: start = (r - 1)/2 - P_0.

For a graph with several paths (skip connections, Inception branches) the field of a merge is
the union of its inputs' fields: the largest over paths when they are aligned (same jump and
centre), else the bounding box of the union, flagged ``aligned=False`` (see ``rf_ops.merge``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

from .rf_ops import INPUT_FIELD, GraphNode, Transposed, Window, merge, number
from .rf_trace import trace


@dataclass
class LayerRow:
    name: str
    kind: str
    detail: str
    shape: tuple[int, ...] | None
    size: tuple
    jump: tuple
    start: tuple
    aligned: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "detail": self.detail,
                "shape": list(self.shape) if self.shape else None, "size": list(self.size),
                "jump": list(self.jump), "start": list(self.start), "aligned": self.aligned}


@dataclass
class ReceptiveField:
    """The receptive field of a network's output, with the per-layer table.

    ``size``: the largest field of any output unit, exact (from the interval pass), per axis;
    ``jump`` and ``start``: the grid of the output units' centres, per axis (unit u's field is
    centred on start + u * jump); ``layers``: one row per traced op. ``aligned`` is False when
    some merge joined paths whose fields are not centred alike.
    """

    size: tuple
    jump: tuple
    start: tuple
    layers: list[LayerRow]
    input_shape: tuple[int, ...] | None = None
    output_shape: tuple[int, ...] | None = None
    aligned: bool = True
    notes: list[str] = field(default_factory=list)
    _graph: list[GraphNode] = field(default_factory=list, repr=False)
    _out: int = -1

    @property
    def effective_padding(self) -> tuple:
        """The Distill article's P_0 = (r - 1)/2 - start, the padding the field reaches into."""
        return tuple(number((Fraction(r) - 1) / 2 - Fraction(s)) for r, s in zip(self.size, self.start))

    def region(self, unit: Sequence[int] | int, node: int | None = None) -> tuple:
        """Exact input box (first, last pixel per axis) read by output ``unit``; may reach outside
        the image (padding); None on an axis where the unit reads no pixel at all (a transposed
        convolution's empty phase). ``node`` picks another map than the output (an index in _graph)."""
        node, unit = self._where(unit, node)
        return tuple(_box(self._graph, node, ax, u) for ax, u in enumerate(unit))

    def pixels(self, unit: Sequence[int] | int, node: int | None = None) -> tuple[list[int], ...]:
        """The input pixels (inside the image) that ``unit`` depends on, exactly, per axis.

        Holes included (dilation "gridding", a stride larger than the next kernel). Per axis:
        the projection of the true set of pixels onto that axis; with several paths the 2-D set
        is the union of per-path boxes, so it need not be the product of the projections.
        """
        node, unit = self._where(unit, node)
        return tuple(sorted(_back_set(self._graph, node, ax, {u}, clip=True)) for ax, u in enumerate(unit))

    def _where(self, unit, node):
        node = self._out if node is None else node
        ndim = len(self.size)
        unit = (unit,) * ndim if isinstance(unit, int) else tuple(unit)
        if len(unit) != ndim:
            raise ValueError(f"unit needs {ndim} indices, got {unit}")
        return node, unit

    def row(self, name: str) -> LayerRow:
        for r in self.layers:
            if r.name == name:
                return r
        raise KeyError(f"no layer named {name!r} (have: {', '.join(r.name for r in self.layers)})")

    def to_dict(self) -> dict[str, Any]:
        return {"size": list(self.size), "jump": list(self.jump), "start": list(self.start),
                "effective_padding": list(self.effective_padding), "aligned": self.aligned,
                "input_shape": list(self.input_shape) if self.input_shape else None,
                "output_shape": list(self.output_shape) if self.output_shape else None,
                "notes": list(self.notes), "layers": [r.as_dict() for r in self.layers]}


# --- the two passes over a graph ---------------------------------------------------------

def _forward(graph: list[GraphNode], ndim: int) -> tuple[list, list[LayerRow]]:
    fields: list = []
    rows: list[LayerRow] = []
    for node in graph:
        aligned = True
        if node.kind == "input":
            f = (INPUT_FIELD,) * ndim
        elif node.ops is None:  # a merge of several paths
            per_axis = [merge([fields[i][ax] for i in node.inputs]) for ax in range(ndim)]
            f = tuple(m for m, _ in per_axis)
            aligned = all(a for _, a in per_axis)
        else:
            (src,) = node.inputs
            f = tuple(op.forward(fields[src][ax]) for ax, op in enumerate(node.ops))
        fields.append(f)
        detail = "" if node.ops is None else _describe(node.ops)
        rows.append(LayerRow(node.name, node.kind, detail, node.shape,
                             tuple(number(a.size) for a in f), tuple(number(a.jump) for a in f),
                             tuple(number(a.start) for a in f), aligned))
    return fields, rows


def _describe(ops: tuple) -> str:
    texts = [op.describe() for op in ops]
    return texts[0] if len(set(texts)) == 1 else " | ".join(texts)


def _back(graph: list[GraphNode], out: int, axis: int, a: int, b: int) -> tuple[int, int] | None:
    """Exact interval pass: input pixels read by units a..b of node ``out`` along ``axis``
    (None if they read none: only biases reach them)."""
    need: dict[int, tuple[int, int]] = {out: (a, b)}
    for idx in range(out, -1, -1):
        if idx not in need:
            continue
        node = graph[idx]
        lo, hi = need.pop(idx)
        if node.kind == "input":
            return lo, hi
        if node.ops is None:
            targets = [(i, (lo, hi)) for i in node.inputs]
        else:
            (src,) = node.inputs
            shape = graph[src].shape
            n_in = shape[2 + axis] if shape and len(shape) > 2 + axis else 1
            targets = [(src, node.ops[axis].back(lo, hi, n_in))]
        for i, (l2, h2) in targets:
            if h2 < l2:
                continue  # reads nothing of this input (a transposed conv's empty phase)
            if i in need:
                need[i] = (min(need[i][0], l2), max(need[i][1], h2))
            else:
                need[i] = (l2, h2)
    return None


def _back_set(graph: list[GraphNode], out: int, axis: int, units: set[int], *, clip: bool) -> set[int]:
    """Exact set pass: the input units that ``units`` of node ``out`` read along ``axis``.

    ``clip``: drop positions outside each map (padding reads nothing: what the gradient sees);
    else keep them as virtual positions (the theoretical field, as published tables count it).
    """
    need: dict[int, set[int]] = {out: set(units)}
    for idx in range(out, -1, -1):
        if idx not in need:
            continue
        node = graph[idx]
        cur = need.pop(idx)
        if clip and node.shape and len(node.shape) > 2 + axis:
            cur = {o for o in cur if 0 <= o < node.shape[2 + axis]}
        if node.kind == "input":
            return cur
        if node.ops is None:
            targets = [(i, cur) for i in node.inputs]
        else:
            (src,) = node.inputs
            shape = graph[src].shape
            n_in = shape[2 + axis] if shape and len(shape) > 2 + axis else 1
            op = node.ops[axis]
            targets = [(src, {i for o in cur for i in op.reads(o, n_in)})]
        for i, got in targets:
            need.setdefault(i, set()).update(got)
    return set()


def _needs_sets(graph: list[GraphNode]) -> bool:
    """The interval pass needs every op's first and last source to be monotone in the output
    unit. A transposed convolution is not (with dilation, or an empty phase: k=2, s=2, d=3 has
    first sources 0, -1, 1 for outputs 0, 1, 2), so graphs with one use the set pass."""
    return any(node.ops is not None and any(isinstance(op, Transposed) for op in node.ops)
               for node in graph)


def _box(graph: list[GraphNode], out: int, axis: int, u: int) -> tuple[int, int] | None:
    """Theoretical box of unit u: the fast interval pass, or the set pass where it is not exact."""
    if not _needs_sets(graph):
        return _back(graph, out, axis, u, u)
    got = _back_set(graph, out, axis, {u}, clip=False)
    return (min(got), max(got)) if got else None


def analyse(graph: list[GraphNode], ndim: int, *, input_shape=None, notes=None,
            max_units: int = 4096) -> ReceptiveField:
    """Run both passes: the forward table, then the exact size as the max over output units."""
    fields, rows = _forward(graph, ndim)
    out = len(graph) - 1
    last = fields[out]
    sizes = []
    out_shape = graph[out].shape
    for ax in range(ndim):
        if last[ax].whole or out_shape is None or len(out_shape) != 2 + ndim:
            units = [0]
        else:
            n = out_shape[2 + ax]
            units = range(n) if n <= max_units else range(n // 2 - max_units // 2, n // 2 + max_units // 2)
        best = 0
        for u in units:
            box = _box(graph, out, ax, u)
            if box is not None:
                best = max(best, box[1] - box[0] + 1)
        sizes.append(best)
    return ReceptiveField(size=tuple(sizes), jump=rows[-1].jump, start=rows[-1].start,
                          layers=rows, input_shape=input_shape, output_shape=out_shape,
                          aligned=all(r.aligned for r in rows), notes=list(notes or []),
                          _graph=graph, _out=out)


# --- the analytic calculator over a plain stack of layers --------------------------------

@dataclass(frozen=True)
class Layer:
    """One layer of a plain stack: ``kind`` is conv, maxpool, avgpool or transposed.

    ``kernel``, ``stride``, ``padding``, ``dilation`` are an int (all axes) or one per axis.
    """

    kernel: int | tuple[int, ...]
    stride: int | tuple[int, ...] = 1
    padding: int | tuple[int, ...] = 0
    dilation: int | tuple[int, ...] = 1
    kind: str = "conv"
    name: str = ""

    def __post_init__(self):
        if self.kind not in ("conv", "maxpool", "avgpool", "transposed"):
            raise ValueError(f"kind must be conv, maxpool, avgpool or transposed, got {self.kind!r}")

    def per_axis(self, ndim: int) -> tuple:
        def axis(v, name):
            t = (v,) * ndim if isinstance(v, int) else tuple(v)
            if len(t) != ndim:
                raise ValueError(f"{name} {v!r} does not have {ndim} values")
            return t
        cls = Transposed if self.kind == "transposed" else Window
        return tuple(cls(k, s, p, d) for k, s, p, d in zip(
            axis(self.kernel, "kernel"), axis(self.stride, "stride"),
            axis(self.padding, "padding"), axis(self.dilation, "dilation")))


def stack_receptive_field(layers: Sequence[Layer], input_size: Sequence[int] | None = None,
                          ndim: int | None = None) -> ReceptiveField:
    """Bottom-up recursion over a stack of layers (the analytic calculator).

    ``input_size`` (spatial, e.g. (224, 224)) is optional; with it the rows carry map sizes.
    """
    if not layers:
        raise ValueError("layers must not be empty")
    ndim = ndim or (len(input_size) if input_size else 2)
    shape = (1, 1, *input_size) if input_size else None
    graph = [GraphNode("input", "input", None, (), shape)]
    for i, layer in enumerate(layers):
        ops = layer.per_axis(ndim)
        if shape is not None:
            shape = (1, 1, *(_out_len(op, n) for op, n in zip(ops, shape[2:])))
        graph.append(GraphNode(layer.name or f"{layer.kind}{i + 1}", layer.kind, ops, (i,), shape))
    rf = analyse(graph, ndim, input_shape=shape and (1, 1, *input_size))
    if input_size is None:  # no map sizes: the forward sizes are exact for windows
        rf.size = rf.layers[-1].size
    return rf


def _out_len(op, n: int) -> int:
    if isinstance(op, Transposed):
        return (n - 1) * op.stride - 2 * op.padding + op.dilation * (op.kernel - 1) + 1
    return (n + 2 * op.padding - op.k_eff) // op.stride + 1


def top_down_sizes(layers: Sequence[Layer], ndim: int = 2) -> list[tuple[int, ...]]:
    """The article's recursion RF_(n-1) = (RF_n - 1) * stride_n + ksize_n, from RF_L = 1.

    Returns [RF_L, RF_(L-1), ..., RF_0] per axis; RF_0 is the field in input pixels of one unit
    of the last layer. Only windows (conv/pool, with k_eff for dilation) have this form.
    """
    per_layer = [layer.per_axis(ndim) for layer in layers]
    if any(isinstance(op, Transposed) for ops in per_layer for op in ops):
        raise ValueError("the top-down recursion holds for windows only, not transposed layers")
    rf = (1,) * ndim
    out = [rf]
    for ops in reversed(per_layer):
        rf = tuple((r - 1) * op.stride + op.k_eff for r, op in zip(rf, ops))
        out.append(rf)
    return out


def effective_padding(layers: Sequence[Layer], ndim: int = 2) -> tuple[int, ...]:
    """Closed form P_0 = sum_l p_l prod_(i<l) s_i (Distill 2019); unit 0's field starts at -P_0."""
    per_layer = [layer.per_axis(ndim) for layer in layers]
    total = [0] * ndim
    jump = [1] * ndim
    for ops in per_layer:
        for ax, op in enumerate(ops):
            total[ax] += op.padding * jump[ax]
            jump[ax] *= op.stride
    return tuple(total)


def receptive_field(model, input_shape: Sequence[int] | None = None, *, method: str = "auto",
                    unknown: str = "error") -> ReceptiveField:
    """Receptive field of ``model``'s output with respect to its input.

    ``model``: a ``torch.nn.Module`` (traced with torch.fx, or run once under a recording
    torch-function mode when fx cannot trace it: ``method`` auto|fx|run), or a list of
    :class:`Layer` (the analytic calculator; ``input_shape`` then optional and spatial only).
    ``input_shape`` for a model: (H, W), (C, H, W) or (N, C, H, W)
    (1-D: (L,), (C, L), (N, C, L)); with spatial sizes only, C is the first convolution's
    ``in_channels``. ``unknown``: what to do with an op we have no rule for that keeps the map
    size: "error" (default) or "pointwise" (assume it mixes no positions, with a note).
    """
    if isinstance(model, (list, tuple)):
        return stack_receptive_field(model, input_shape)
    graph, ndim, shape, notes, out_shape = trace(model, input_shape, method=method, unknown=unknown)
    rf = analyse(graph, ndim, input_shape=shape, notes=notes)
    rf.output_shape = out_shape
    return rf
