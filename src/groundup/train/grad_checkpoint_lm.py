"""Gradient checkpointing for the engine's language models: ``--grad-checkpoint SPEC``.

Notation: B batch, T the truncated-BPTT window, V vocabulary. The engine's models share one
interface, ``model(x (B, T), state) -> (logits (B, T, V), state)`` (see :mod:`.models`), so a
recurrent model can be cut along time: the window is run as consecutive chunks x[:, a:b], the
state carried from one to the next, and each chunk but the last is checkpointed (Chen et al.
2016 Sec. 3 apply the same idea to an RNN unrolled over time: keep the hidden state at the
chunk boundaries, recompute the rest). Only the chunks' inputs (token ids and the incoming
state) and the logits stay alive; the recurrent layers' gates and hidden states are recomputed.

SPEC: ``""`` / ``"off"`` (no checkpointing), ``"sqrt"`` (round(sqrt T) chunks), an integer k
(k chunks, as ``checkpoint_sequential``), or a memory budget such as ``"64MB"`` (the planner's
least-recomputation plan for that many bytes of saved activations, from a measured dry run of
one window, assuming every time step saves the same). Not for models whose output at t depends on
later chunks' inputs being in the same call (a Transformer without a key/value state): those
need per-block checkpointing inside the model.
"""
from __future__ import annotations

from ..errors import ConfigError
from .grad_checkpoint import checkpoint
from .grad_checkpoint_plan import parse_spec, plan_checkpoints, sequential_segments


def _saved_bytes(model, x, state) -> tuple[int, int]:
    """Bytes autograd saves for one window (parameters excluded), and the state's bytes."""
    import torch

    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen, total = set(params), [0]

    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in seen:
            seen.add(st.data_ptr())
            total[0] += st.nbytes()
        return t

    rng = torch.get_rng_state()
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        _, new_state = model(x, state)
    torch.set_rng_state(rng)  # the dry run must not move the training's random stream
    flat = [new_state] if isinstance(new_state, torch.Tensor) else list(new_state or [])
    return total[0], sum(t.untyped_storage().nbytes() for t in flat if isinstance(t, torch.Tensor))


class TimeCheckpointed:
    """Callable like the model, running the window in checkpointed time chunks."""

    def __init__(self, model, spec):
        from torch.nn.parallel import DistributedDataParallel

        if isinstance(model, DistributedDataParallel):  # one DDP forward per step only
            raise ConfigError("grad_checkpoint is not supported with torchrun (DDP) yet")
        self.model = model
        self.spec = parse_spec(spec) if isinstance(spec, str) else spec
        self.plans: dict[int, list] = {}

    def plan(self, x, state) -> list[tuple[int, int, bool]]:
        T = x.shape[1]
        if T not in self.plans:
            kind, value = self.spec
            if kind == "segments":
                self.plans[T] = sequential_segments(T, value if value is None else min(value, T))
            else:
                saved, out = _saved_bytes(self.model, x, state)
                self.plans[T] = plan_checkpoints([-(-saved // T)] * T, [out] * T, value)
        return self.plans[T]

    def __call__(self, x, state=None):
        import torch

        if self.spec is None or not torch.is_grad_enabled():
            return self.model(x, state)
        pieces, plan = [], self.plan(x, state)
        for a, b, ckpt in plan:
            chunk = x[:, a:b]                                            # (B, b - a)
            logits, state = (checkpoint(self.model, chunk, state) if ckpt
                             else self.model(chunk, state))
            if state is None and b < x.shape[1]:
                raise ConfigError("grad_checkpoint cuts the window along time, which needs a "
                                  "model that carries a state between chunks (a recurrent one)")
            pieces.append(logits)                                        # (B, b - a, V)
        return torch.cat(pieces, dim=1), state                           # (B, T, V)

    def __getattr__(self, name):  # train()/eval()/parameters() reach the wrapped model
        return getattr(self.model, name)


def wrap(model, spec: str):
    """The model itself when ``spec`` is off, else a :class:`TimeCheckpointed` around it."""
    return model if parse_spec(spec) is None else TimeCheckpointed(model, spec)
