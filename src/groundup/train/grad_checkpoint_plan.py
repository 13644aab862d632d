"""Which layers to checkpoint under a memory budget (Chen et al. 2016, Sec. 4).

Notation: layers 0..n-1 run in order; s_i = bytes autograd saves when layer i runs plainly
(measured by :func:`profile_layers` with saved-tensor hooks, network input and parameters
excluded), o_i = bytes of layer i's output, c_i = cost of recomputing layer i (1 per layer by
default, or its measured forward time). A plan is a list of consecutive segments
``(start, end, checkpointed)``; it runs with :func:`groundup.train.grad_checkpoint.run_segments`.

Memory model (what is alive, walking the plan front to back; the backward pass frees it back to
front): a plain layer keeps s_i until its backward; a checkpointed segment [a, b) keeps only its
input o_{a-1} (the network input for a = 0 belongs to the caller: 0), and when backward reaches
it, it recomputes all its layers at once, adding its burst sum_{i in [a,b)} s_i on top of
everything stored before it:

    peak = max( sum of everything stored,  max over checkpointed [a,b) of
                stored_before(a) + o_{a-1} + sum_{a<=i<b} s_i )            recompute = sum c_i
                                                                              over checkpointed i
Chen et al. keep every segment checkpointed (recompute = one extra forward) and pick the
segment boundaries greedily for a budget; letting layers run plainly as well trades the other
way, and :func:`plan_checkpoints` minimises the recomputation subject to peak <= budget exactly
(dynamic programming over segment ends with Pareto sets of (stored bytes, recompute cost)).
The default without a budget is Chen's sqrt(n) segments (:func:`sequential_segments`).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ..errors import ConfigError

Plan = list[tuple[int, int, bool]]


@dataclass(frozen=True)
class LayerProfile:
    saved: tuple[int, ...]      # s_i, bytes
    output: tuple[int, ...]     # o_i, bytes
    seconds: tuple[float, ...]  # forward time of layer i in the dry run

    @property
    def n(self) -> int:
        return len(self.saved)


def profile_layers(functions, input) -> LayerProfile:
    """One dry forward pass through the layers, recording per layer the bytes of the tensors
    autograd saves (each storage counted once, at the first layer that saves it; parameters and
    the network input excluded: they are not activations) and the output's bytes."""
    import torch

    layers = list(functions)
    params = {p.untyped_storage().data_ptr() for layer in layers
              if isinstance(layer, torch.nn.Module) for p in layer.parameters()}
    seen = set(params)
    if isinstance(input, torch.Tensor):
        seen.add(input.untyped_storage().data_ptr())
    saved, output, seconds = [], [], []
    current = [0]

    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in seen:
            seen.add(st.data_ptr())
            current[0] += st.nbytes()
        return t

    x = input
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        for layer in layers:
            current[0] = 0
            t0 = time.perf_counter()
            x = layer(x)
            seconds.append(time.perf_counter() - t0)
            saved.append(current[0])
            output.append(x.untyped_storage().nbytes() if isinstance(x, torch.Tensor) else 0)
    return LayerProfile(tuple(saved), tuple(output), tuple(seconds))


def validate_plan(plan: Plan, n: int) -> None:
    """Refuse a plan whose segments do not cover layers 0..n-1 consecutively."""
    expect = 0
    for start, end, _ in plan:
        if start != expect or end <= start:
            raise ConfigError(f"checkpoint plan: segments must be consecutive and non-empty, "
                              f"got {[tuple(p) for p in plan]}")
        expect = end
    if expect != n:
        raise ConfigError(f"checkpoint plan covers {expect} layers, the model has {n}")


def plan_peak(plan: Plan, saved, output) -> int:
    """Peak activation bytes of ``plan`` under the module's memory model."""
    validate_plan(plan, len(saved))
    stored = peak = 0
    for start, end, ckpt in plan:
        if ckpt:
            inp = output[start - 1] if start > 0 else 0
            peak = max(peak, stored + inp + sum(saved[start:end]))
            stored += inp
        else:
            stored += sum(saved[start:end])
    return max(peak, stored)


def plan_recompute(plan: Plan, cost=None) -> float:
    """Recomputation of ``plan``: the summed cost of its checkpointed layers (1 each by default)."""
    return sum((end - start) if cost is None else sum(cost[start:end])
               for start, end, ckpt in plan if ckpt)


def _merge(plan: Plan) -> Plan:
    """Join consecutive plain layers into one plain segment (same memory, same cost)."""
    out: Plan = []
    for seg in plan:
        if out and not seg[2] and not out[-1][2]:
            out[-1] = (out[-1][0], seg[1], False)
        else:
            out.append(seg)
    return out


def plan_checkpoints(saved, output, budget: int | None, cost=None) -> Plan:
    """The plan with the least recomputation whose modelled peak is at most ``budget`` bytes.

    ``budget=None`` gives Chen's sqrt(n) segments. Ties in recomputation go to the lower stored
    total. Raises ConfigError naming the budget when no plan fits.
    """
    n = len(saved)
    if n < 1 or len(output) != n or (cost is not None and len(cost) != n):
        raise ConfigError(f"planner: saved, output (and cost) need one entry per layer, got "
                          f"{len(saved)}, {len(output)}" + ("" if cost is None else f", {len(cost)}"))
    if budget is None:
        return sequential_segments(n, None)
    if budget <= 0:
        raise ConfigError(f"planner: budget must be > 0 bytes, got {budget}")
    c = [1.0] * n if cost is None else [float(v) for v in cost]
    prefix_s, prefix_c = [0], [0.0]
    for i in range(n):
        prefix_s.append(prefix_s[-1] + saved[i])
        prefix_c.append(prefix_c[-1] + c[i])

    # front[i]: Pareto set of states at boundary i, (stored, recompute, previous state, segment).
    front: list[list[tuple]] = [[] for _ in range(n + 1)]
    front[0] = [(0, 0.0, None, None)]
    for i in range(n):
        states = _pareto(front[i])
        front[i] = states
        inp = output[i - 1] if i > 0 else 0
        for state in states:
            stored, rc = state[0], state[1]
            if stored + saved[i] <= budget:  # layer i runs plainly
                front[i + 1].append((stored + saved[i], rc, state, (i, i + 1, False)))
            for j in range(i + 1, n + 1):  # checkpointed segment [i, j)
                if stored + inp + prefix_s[j] - prefix_s[i] > budget:
                    break
                front[j].append((stored + inp, rc + prefix_c[j] - prefix_c[i], state,
                                 (i, j, True)))
    finals = _pareto(front[n])
    if not finals:
        raise ConfigError(f"planner: no checkpoint plan of these {n} layers fits a budget of "
                          f"{budget} bytes (sqrt(n) segments need "
                          f"{int(plan_peak(sequential_segments(n, None), saved, output))})")
    best = min(finals, key=lambda s: (s[1], s[0]))
    plan = []
    while best[3] is not None:
        plan.append(best[3])
        best = best[2]
    return _merge(plan[::-1])


def _pareto(states):
    """States not beaten in both stored bytes and recomputation (lowest stored first)."""
    out, best_rc = [], float("inf")
    for s in sorted(states, key=lambda s: (s[0], s[1])):
        if s[1] < best_rc:
            out.append(s)
            best_rc = s[1]
    return out


def chen_greedy(saved, output, threshold: int) -> Plan:
    """Chen et al. 2016's greedy boundary choice (Sec. 4, budgeted memory planning): walk the layers adding s_i to a
    running total; when it exceeds ``threshold``, end a checkpointed segment there. All
    segments are checkpointed; the caller searches ``threshold`` for the lowest peak."""
    if threshold <= 0:
        raise ConfigError(f"chen_greedy: threshold must be > 0 bytes, got {threshold}")
    plan, start, run = [], 0, 0
    for i, s in enumerate(saved):
        run += s
        if run > threshold and i + 1 < len(saved):
            plan.append((start, i + 1, True))
            start, run = i + 1, 0
    plan.append((start, len(saved), True))
    return plan


def parse_budget(text: str) -> int:
    """``"512MB"``, ``"1.5GiB"``, ``"300000"`` -> bytes (decimal and binary units)."""
    units = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9,
             "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
    s = str(text).strip().upper().replace(" ", "")
    num = s.rstrip("KMGIB")
    try:
        value = float(num) * units[s[len(num):]]
    except (ValueError, KeyError):
        raise ConfigError(f"memory budget must look like 512MB or 1.5GiB, got {text!r}") from None
    if value <= 0:
        raise ConfigError(f"memory budget must be > 0, got {text!r}")
    return int(value)


def sequential_segments(n: int, segments: int | None) -> list[tuple[int, int, bool]]:
    """The partition ``checkpoint_sequential`` uses: ``(start, end, checkpointed)`` per segment.

    As torch: ``size = n // segments``; the first ``segments - 1`` segments of ``size`` layers
    are checkpointed and the rest runs plainly (its activations are needed first in backward).
    ``segments=None`` takes round(sqrt(n)) (Chen et al. Sec. 3: O(sqrt n) memory).
    """
    if n < 1:
        raise ConfigError(f"checkpoint_sequential: need at least one layer, got {n}")
    if segments is None:
        segments = max(1, round(math.sqrt(n)))
    if isinstance(segments, bool) or not isinstance(segments, int):
        raise ConfigError(f"checkpoint_sequential: segments must be an integer, got {segments!r}")
    if not 1 <= segments <= n:
        raise ConfigError(f"checkpoint_sequential: segments must be in 1..{n} (the number of "
                          f"layers), got {segments}")
    size = n // segments
    plan = [(s * size, (s + 1) * size, True) for s in range(segments - 1)]
    plan.append(((segments - 1) * size, n, False))
    return plan


def parse_spec(spec: str) -> tuple[str, int | None] | None:
    """``None`` (off), ``("segments", k or None for sqrt)`` or ``("budget", bytes)``."""
    s = str(spec).strip().lower()
    if s in ("", "off", "none", "0"):
        return None
    if s == "sqrt":
        return ("segments", None)
    if s.isdigit():
        return ("segments", int(s))
    try:
        return ("budget", parse_budget(s))
    except ConfigError:
        raise ConfigError(f"grad_checkpoint must be off, sqrt, a number of segments or a memory "
                          f"budget such as 64MB, got {spec!r}") from None
