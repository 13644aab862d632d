"""Gradient checkpointing: keep a segment's inputs, recompute its activations in backward.

Chen, Xu, Zhang, Guestrin 2016, "Training Deep Nets with Sublinear Memory Cost" (Sec. 3-4);
the public API is that of ``torch.utils.checkpoint`` (``checkpoint``, ``checkpoint_sequential``),
which is our test-only oracle.

Notation: a network f = f_n o ... o f_1 cut into segments; a checkpointed segment S keeps only its
input x_S in the forward pass; in the backward pass the first time autograd needs one of S's
saved activations, S is run again from x_S (once), with the CPU/CUDA random-number state of the
first run, so dropout masks repeat and the gradients equal the uncheckpointed ones bit for bit.

Two mechanisms, as in torch:

- ``use_reentrant=False`` (default), saved-tensor hooks: the segment runs with autograd on, but
  every tensor autograd wants to save is swapped for a placeholder (:class:`_Slot`). Unpacking
  any placeholder of the segment recomputes the segment once, collecting the tensors autograd
  saves in the same order, and hands each node its tensor. Gradients reach the segment's
  parameters and inputs through the ordinary graph; ``torch.autograd.grad`` works.
- ``use_reentrant=True``, an autograd Function: the segment runs under ``no_grad``; backward
  reruns it under ``enable_grad`` on detached inputs and calls ``torch.autograd.backward`` inside
  backward (re-entering the engine). Parameter gradients are accumulated into ``.grad``; at least
  one tensor input must require grad (as in torch).
"""
from __future__ import annotations

import warnings
import weakref
from contextlib import ExitStack, contextmanager

import torch

from ..errors import ConfigError, TrainingError
from .grad_checkpoint_plan import sequential_segments, validate_plan

__all__ = ["checkpoint", "checkpoint_sequential", "run_segments", "sequential_segments"]


# ---------------------------------------------------------------------------------------------
# Random-number and autocast state of the first run, replayed during recomputation.

def _cuda_devices(tensors) -> list[int]:
    if not (torch.cuda.is_available() and torch.cuda.is_initialized()):
        return []
    devs = {t.device.index for t in tensors if isinstance(t, torch.Tensor) and t.is_cuda}
    return sorted(d if d is not None else torch.cuda.current_device() for d in devs)


class _ForwardState:
    """What the first run depended on besides its inputs: RNG states and autocast settings."""

    def __init__(self, tensors, preserve_rng_state: bool):
        self.preserve = preserve_rng_state
        if preserve_rng_state:
            self.cpu_rng = torch.get_rng_state()
            self.cuda_devices = _cuda_devices(tensors)
            self.cuda_rng = [torch.cuda.get_rng_state(d) for d in self.cuda_devices]
        self.autocast = [(dev, torch.is_autocast_enabled(dev), torch.get_autocast_dtype(dev))
                         for dev in ("cpu", "cuda")
                         if dev == "cpu" or torch.cuda.is_available()]

    @contextmanager
    def replay(self):
        """Run the body with the first run's RNG and autocast state; the caller's RNG stream is
        put back afterwards, so backward does not perturb the random numbers training draws."""
        if self.preserve:
            saved_cpu = torch.get_rng_state()
            saved_cuda = [torch.cuda.get_rng_state(d) for d in self.cuda_devices]
            torch.set_rng_state(self.cpu_rng)
            for d, s in zip(self.cuda_devices, self.cuda_rng):
                torch.cuda.set_rng_state(s, d)
        try:
            with ExitStack() as stack:
                for dev, enabled, dtype in self.autocast:
                    stack.enter_context(torch.autocast(dev, dtype=dtype, enabled=enabled))
                yield
        finally:
            if self.preserve:
                torch.set_rng_state(saved_cpu)
                for d, s in zip(self.cuda_devices, saved_cuda):
                    torch.cuda.set_rng_state(s, d)


def _tensors_in(args, kwargs) -> list[torch.Tensor]:
    return [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]


# ---------------------------------------------------------------------------------------------
# use_reentrant=False: saved-tensor hooks.

class _Slot:
    """Placeholder autograd keeps instead of a saved activation; ``index`` is its save order."""

    __slots__ = ("index", "__weakref__")

    def __init__(self, index: int):
        self.index = index


class _Frame:
    """One checkpointed call: the closure that reruns it, and the saved tensors it recomputed.

    ``recomputed`` maps a live placeholder to its recomputed tensor; an entry is taken out when
    autograd unpacks it, so each recomputed activation lives only until its node has used it.
    """

    def __init__(self, rerun, state: _ForwardState):
        self.rerun = rerun
        self.state = state
        self.slots: list[weakref.ref] = []
        self.meta: list[tuple] = []
        self.recomputed: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.recomputations = 0

    def pack(self, t: torch.Tensor) -> _Slot:  # forward: drop the tensor, keep a placeholder
        slot = _Slot(len(self.slots))
        self.slots.append(weakref.ref(slot))
        self.meta.append((t.shape, t.dtype, t.device))
        return slot

    def unpack(self, slot: _Slot) -> torch.Tensor:  # backward: recompute on first need
        if slot not in self.recomputed:
            self._recompute()
        return self.recomputed.pop(slot)

    def _recompute(self) -> None:
        live = [ref() for ref in self.slots]
        count = 0

        def pack_again(t):
            nonlocal count
            i = count
            count += 1
            if i < len(live) and live[i] is not None:
                if (t.shape, t.dtype, t.device) != self.meta[i]:
                    raise TrainingError(
                        f"checkpoint: recomputation saved a {tuple(t.shape)} {t.dtype} tensor where "
                        f"the forward pass saved {tuple(self.meta[i][0])} {self.meta[i][1]} "
                        f"(save #{i}); the checkpointed function must run the same ops each time")
                self.recomputed[live[i]] = t.detach()
            return None

        with self.state.replay(), torch.enable_grad(), \
                torch.autograd.graph.saved_tensors_hooks(pack_again, _never_unpacked):
            self.rerun()
        self.recomputations += 1
        if count != len(live):
            raise TrainingError(
                f"checkpoint: the forward pass saved {len(live)} tensors but the recomputation "
                f"saved {count}; the checkpointed function must run the same ops each time")


def _never_unpacked(_):  # the recomputed graph is discarded, never differentiated
    raise RuntimeError("internal: a recomputed graph was differentiated")


def _checkpoint_hooks(function, args, kwargs, preserve_rng_state):
    state = _ForwardState(_tensors_in(args, kwargs), preserve_rng_state)
    frame = _Frame(lambda: function(*args, **kwargs), state)
    with torch.autograd.graph.saved_tensors_hooks(frame.pack, frame.unpack):
        return function(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# use_reentrant=True: an autograd Function that reruns the segment inside backward.

class _CheckpointFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, function, preserve_rng_state, *args):
        ctx.function = function
        ctx.state = _ForwardState(args, preserve_rng_state)
        ctx.tensor_index = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]
        ctx.requires = [a.requires_grad for a in args if isinstance(a, torch.Tensor)]
        ctx.others = [None if isinstance(a, torch.Tensor) else a for a in args]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_index))  # the only thing kept
        with torch.no_grad():
            return function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        inputs = list(ctx.others)
        for i, t, req in zip(ctx.tensor_index, ctx.saved_tensors, ctx.requires):
            inputs[i] = t.detach().requires_grad_(req)
        with ctx.state.replay(), torch.enable_grad():
            outputs = ctx.function(*inputs)
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
                 if isinstance(o, torch.Tensor) and o.requires_grad and g is not None]
        if pairs:
            torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        grads = [inputs[i].grad if isinstance(inputs[i], torch.Tensor) else None
                 for i in range(len(inputs))]
        return (None, None, *grads)


# ---------------------------------------------------------------------------------------------
# Public API (torch.utils.checkpoint's).

def checkpoint(function, *args, use_reentrant: bool = False, preserve_rng_state: bool = True,
               **kwargs):
    """``function(*args, **kwargs)`` keeping only its inputs; recomputed once during backward.

    Same contract as ``torch.utils.checkpoint.checkpoint``: outputs and gradients equal the
    direct call's (bit for bit on CPU with ``preserve_rng_state=True``, dropout included).
    ``use_reentrant`` picks the mechanism (module docstring); keyword arguments are passed
    through with the hooks mechanism only, as in torch.
    """
    if not callable(function):
        raise ConfigError(f"checkpoint: function must be callable, got {type(function).__name__}")
    if not torch.is_grad_enabled():  # nothing would be saved: nothing to checkpoint
        return function(*args, **kwargs)
    if not use_reentrant:
        return _checkpoint_hooks(function, args, kwargs, preserve_rng_state)
    if kwargs:
        raise ConfigError(f"checkpoint: keyword arguments {sorted(kwargs)} need use_reentrant=False")
    if not any(isinstance(a, torch.Tensor) and a.requires_grad for a in args):
        warnings.warn("checkpoint(use_reentrant=True): no tensor input requires grad, so no "
                      "gradient will reach the segment's parameters", stacklevel=2)
    return _CheckpointFunction.apply(function, preserve_rng_state, *args)


def run_segments(functions, plan, input, *, use_reentrant: bool = False,
                 preserve_rng_state: bool = True):
    """Run layers ``functions`` on ``input`` segment by segment: ``plan`` lists consecutive
    ``(start, end, checkpointed)`` triples covering all layers (from :func:`sequential_segments`
    or the planner in :mod:`groundup.train.grad_checkpoint_plan`)."""
    layers = list(functions.children()) if isinstance(functions, torch.nn.Sequential) \
        else list(functions)
    validate_plan(plan, len(layers))

    def run(start, end):
        def forward(x):
            for layer in layers[start:end]:
                x = layer(x)
            return x
        return forward

    x = input
    for start, end, ckpt in plan:
        x = checkpoint(run(start, end), x, use_reentrant=use_reentrant,
                       preserve_rng_state=preserve_rng_state) if ckpt else run(start, end)(x)
    return x


def checkpoint_sequential(functions, segments, input, use_reentrant: bool = False, **kwargs):
    """``torch.utils.checkpoint.checkpoint_sequential``: run a Sequential (or list of layers) in
    ``segments`` pieces, all but the last checkpointed; ``segments=None`` -> round(sqrt(n))."""
    return run_segments(functions, sequential_segments(len(functions), segments), input,
                        use_reentrant=use_reentrant, **kwargs)
