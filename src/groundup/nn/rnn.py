"""Multi-layer, optionally bidirectional Elman RNN, LSTM and GRU layers, torch.nn-compatible.

Notation: L sequence length, B batch, I input size, H hidden size, P = proj_size or H (width of
h), G gate blocks (1 Elman, 4 LSTM, 3 GRU), D directions (1 or 2), N num_layers.

Per layer and direction: the input projection ``x W_ih^T + b_ih`` for all L steps is one
matmul (L*B, I) x (I, G*H); the loop over time then adds only ``h W_hh^T + b_hh`` and the gate
math. Two interchangeable loops run it: the reference loop over the step functions of
:mod:`groundup.nn.rnn_cells` (plain autograd) and a fused loop with hand-written
backpropagation through time (:mod:`groundup.nn.rnn_fused`), tested against each other and both
against torch.nn.RNN / LSTM / GRU with copied weights.

Same constructor arguments, forward arguments, return values, parameter names
(``weight_ih_l{k}[_reverse]``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``,
``weight_hr_l{k}``) and initialisation as torch.nn, so a state_dict loads either way.
Variable-length batches: pass a ``PackedSequence`` (as in torch) or, beyond torch, padded input
with ``lengths=``; padded steps neither update the state nor leak into the outputs (zeros there,
as ``pad_packed_sequence`` gives).
"""
from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from . import rnn_cells

State = tuple[Tensor, ...]  # (h,) or (h, c), each (B, width)


class RNNBase(nn.Module):
    """Shared machinery: parameters, layers, directions, packing, masking. Subclasses say how
    many gate blocks they have and what one step computes (:meth:`_step`)."""

    gates = 1
    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        for name, value, low in (("input_size", input_size, 1), ("hidden_size", hidden_size, 1),
                                 ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"dropout must be a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout={dropout} has no effect with num_layers=1: it is applied between "
                          "recurrent layers, after all but the last", UserWarning, stacklevel=2)
        if proj_size and proj_size >= hidden_size:
            raise ValueError(f"proj_size must be smaller than hidden_size ({hidden_size}), got {proj_size}")
        if proj_size and self.mode != "LSTM":
            raise ValueError(f"proj_size is only supported by LSTM, got proj_size={proj_size}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional, self.proj_size = bool(bidirectional), proj_size
        self.fused = True  # use the fused BPTT loop where it applies (see rnn_fused)
        D = 2 if bidirectional else 1
        P = proj_size or hidden_size
        kw = {"device": device, "dtype": dtype}
        G = self.gates
        self._weight_names: list[tuple[str, ...]] = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else P * D
            for direction in range(D):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (G * hidden_size, layer_in)), ("weight_hh", (G * hidden_size, P))]
                if bias:
                    shapes += [("bias_ih", (G * hidden_size,)), ("bias_hh", (G * hidden_size,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                for name, shape in shapes:
                    setattr(self, name + sfx, nn.Parameter(torch.empty(shape, **kw)))
                self._weight_names.append(tuple(name + sfx for name, _ in shapes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias, as torch.nn."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    # --- torch.nn.RNNBase's introspection ---------------------------------------------------
    @property
    def _all_weights(self) -> list[list[str]]:
        """Parameter names per layer and direction, in torch's order."""
        return [list(names) for names in self._weight_names]

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """The parameters per layer and direction, as torch.nn.RNNBase.all_weights."""
        return [[getattr(self, n) for n in names] for names in self._weight_names]

    def flatten_parameters(self) -> None:
        """Kept for programs written for torch.nn: torch packs the weights into one cuDNN
        buffer here. The loops of this module read the parameters as they are, so there is
        nothing to pack (torch's own call is a no-op on the CPU too)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False), ("proj_size", 0)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    # --- per-architecture pieces ---------------------------------------------------------
    def _step(self, xw: Tensor, state: State, w: dict[str, Tensor]) -> State:
        raise NotImplementedError

    def _fused_scan(self, xw: Tensor, state: State, w: dict[str, Tensor], mask: Tensor | None):
        """The fused loop for this architecture, or None when it does not apply. ``mask``
        (L, B, 1) in xw's dtype, 1 at real steps, or None."""
        return None

    def _state_widths(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size,)

    # --- the loop over time --------------------------------------------------------------
    def _scan(self, xw: Tensor, state: State, w: dict[str, Tensor], mask: Tensor | None) -> tuple[Tensor, State]:
        """Run one direction of one layer over xw (L, B, G*H); return outputs (L, B, P) and the
        final state. ``mask`` (L, B, 1) bool marks real (not padded) steps."""
        if self.fused:
            fused = self._fused_scan(xw, state, w, None if mask is None else mask.to(xw.dtype))
            if fused is not None:
                return fused
        outputs = []
        for t in range(xw.shape[0]):
            new = self._step(xw[t], state, w)
            if mask is not None:        # padded step: keep the state, output zero
                m = mask[t]
                new = tuple(torch.where(m, n, s) for n, s in zip(new, state))
                outputs.append(torch.where(m, new[0], 0.0))
            else:
                outputs.append(new[0])
            state = new
        return torch.stack(outputs), state

    # --- forward -------------------------------------------------------------------------
    def forward(self, input, hx=None, lengths=None):
        """input (L, B, I) [(B, L, I) if batch_first], (L, I) unbatched, or a PackedSequence;
        hx: h_0 (D*N, B, P) [LSTM: (h_0, c_0), c_0 (D*N, B, H)] or None for zeros; ``lengths``
        (B,) optional, for padded input of variable length (beyond torch).
        Returns (output, h_n) [LSTM: (output, (h_n, c_n))] like torch."""
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError("lengths= cannot be combined with a PackedSequence input")
            x, lengths_t = _unpack(input)          # (L, B, I), original batch order
            batched = True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"input must be a Tensor or PackedSequence, got {type(input).__name__}")
            if input.dim() not in (2, 3):
                raise ValueError(f"{self.mode}: expected input of 2 (unbatched) or 3 dims, got shape {tuple(input.shape)}")
            batched = input.dim() == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1).contiguous()     # time-major buffers in the loop
            lengths_t = None if lengths is None else _check_lengths(lengths, x.shape[0], x.shape[1])
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{self.mode}: input size {x.shape[-1]} != input_size {self.input_size}")
        L, B = x.shape[0], x.shape[1]
        D = 2 if self.bidirectional else 1
        states = self._initial_states(hx, B, batched, x)   # each (D*N, B, width)

        mask = rev_index = None
        if lengths_t is not None:
            steps = torch.arange(L, device=x.device).unsqueeze(1)          # (L, 1)
            lens = lengths_t.to(x.device).unsqueeze(0)                       # (1, B)
            mask = (steps < lens).unsqueeze(-1)                              # (L, B, 1)
            # reverse each sequence within its own length; padding stays in place
            rev_index = torch.where(steps < lens, lens - 1 - steps, steps)  # (L, B)

        finals: list[list[Tensor]] = [[] for _ in states]
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for direction in range(D):
                k = layer * D + direction
                w = {n.rsplit("_l", 1)[0]: getattr(self, n) for n in self._weight_names[k]}
                xw = F.linear(layer_in, w["weight_ih"], w.get("bias_ih"))   # (L, B, G*H), one matmul
                if direction:
                    xw = _reverse(xw, rev_index)
                out, state = self._scan(xw, tuple(s[k] for s in states), w, mask)
                if direction:
                    out = _reverse(out, rev_index)
                outs.append(out)
                for f, s in zip(finals, state):
                    f.append(s)
            layer_in = outs[0] if D == 1 else torch.cat(outs, dim=-1)        # (L, B, D*P)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, training=True)
        output = layer_in
        final = tuple(torch.stack(f) for f in finals)                         # (D*N, B, width)

        if packed:
            output = _pack_like(output, input)
        elif not batched:
            output = output.squeeze(1)
            final = tuple(s.squeeze(1) for s in final)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (final if len(final) > 1 else final[0])

    def _initial_states(self, hx, B: int, batched: bool, x: Tensor) -> list[Tensor]:
        D = 2 if self.bidirectional else 1
        widths = self._state_widths()
        if hx is None:
            return [x.new_zeros(D * self.num_layers, B, w) for w in widths]
        hxs = (hx,) if isinstance(hx, Tensor) else tuple(hx)
        if len(hxs) != len(widths):
            raise ValueError(f"{self.mode}: expected {len(widths)} initial state tensor(s), got {len(hxs)}")
        out = []
        for h, w in zip(hxs, widths):
            if h.dim() != (3 if batched else 2):
                raise ValueError(f"{self.mode}: initial state must have {3 if batched else 2} dims "
                                 f"for {'batched' if batched else 'unbatched'} input, got shape {tuple(h.shape)}")
            h = h if batched else h.unsqueeze(1)
            if tuple(h.shape) != (D * self.num_layers, B, w):
                raise ValueError(f"{self.mode}: expected initial state of shape "
                                 f"{(D * self.num_layers, B, w)}, got {tuple(h.shape)}")
            out.append(h)
        return out


class RNN(RNNBase):
    """Elman RNN, as torch.nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh',
    bias=True, batch_first=False, dropout=0.0, bidirectional=False); ``mode`` is torch's
    'RNN_TANH' or 'RNN_RELU'."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"   # torch's names
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"

    def _step(self, xw, state, w):
        return (rnn_cells.elman_step(xw, state[0], w["weight_hh"], w.get("bias_hh"), self.nonlinearity),)

    def _fused_scan(self, xw, state, w, mask):
        from .rnn_fused import elman_scan
        return elman_scan(xw, state, w["weight_hh"], w.get("bias_hh"), self.nonlinearity, mask)


class LSTM(RNNBase):
    """LSTM, as torch.nn.LSTM(input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, proj_size=0); hx and the final state
    are (h, c) pairs."""

    gates = 4
    mode = "LSTM"

    def _state_widths(self):
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def _step(self, xw, state, w):
        return rnn_cells.lstm_step(xw, state[0], state[1], w["weight_hh"], w.get("bias_hh"), w.get("weight_hr"))

    def _fused_scan(self, xw, state, w, mask):
        if self.proj_size:
            return None
        from .rnn_fused import lstm_scan
        return lstm_scan(xw, state, w["weight_hh"], w.get("bias_hh"), mask)


class GRU(RNNBase):
    """GRU, as torch.nn.GRU (cuDNN's reset-gate placement; see :class:`PaperGRU` for Cho et al.'s)."""

    gates = 3
    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)

    def _step(self, xw, state, w):
        return (rnn_cells.gru_step(xw, state[0], w["weight_hh"], w.get("bias_hh")),)

    def _fused_scan(self, xw, state, w, mask):
        from .rnn_fused import gru_scan
        return gru_scan(xw, state, w["weight_hh"], w.get("bias_hh"), mask)


class PaperGRU(GRU):
    """GRU of Cho et al. (2014, eq. 5-8): the reset gate multiplies h_{t-1} before W_hn.
    Same arguments and parameter layout as :class:`GRU` (a torch.nn.GRU state_dict loads)."""

    def _step(self, xw, state, w):
        return (rnn_cells.paper_gru_step(xw, state[0], w["weight_hh"], w.get("bias_hh")),)

    def _fused_scan(self, xw, state, w, mask):
        return None


# --- variable-length helpers ---------------------------------------------------------------
def _check_lengths(lengths, L: int, B: int) -> Tensor:
    t = torch.as_tensor(lengths)
    if t.dim() != 1 or t.shape[0] != B:
        raise ValueError(f"lengths must have shape ({B},), got {tuple(t.shape)}")
    if t.dtype.is_floating_point or t.dtype == torch.bool:
        raise ValueError(f"lengths must be integers, got dtype {t.dtype}")
    if B and (int(t.min()) < 1 or int(t.max()) > L):
        raise ValueError(f"lengths must lie in [1, {L}], got min {int(t.min())} and max {int(t.max())}")
    return t.long()


def _reverse(x: Tensor, rev_index: Tensor | None) -> Tensor:
    """Reverse time (dim 0), each sequence within its own length when rev_index is given."""
    if rev_index is None:
        return x.flip(0)
    return x.gather(0, rev_index.unsqueeze(-1).expand_as(x))


def _unpack(p: PackedSequence) -> tuple[Tensor, Tensor]:
    """PackedSequence -> padded (L, B, I) in the caller's batch order, and lengths (B,)."""
    batch_sizes = p.batch_sizes.to(p.data.device)                                # (L,)
    L, B = batch_sizes.numel(), int(p.batch_sizes[0])
    present = torch.arange(B, device=p.data.device).unsqueeze(0) < batch_sizes.unsqueeze(1)  # (L, B)
    padded = p.data.new_zeros(L, B, *p.data.shape[1:])
    padded[present] = p.data                       # packed rows are time-major, sorted batch
    lengths = present.sum(0)
    if p.unsorted_indices is not None:
        padded = padded.index_select(1, p.unsorted_indices)
        lengths = lengths.index_select(0, p.unsorted_indices)
    return padded, lengths.cpu()


def _pack_like(padded: Tensor, like: PackedSequence) -> PackedSequence:
    """Padded (L, B, F) in caller order -> PackedSequence with ``like``'s batch layout."""
    if like.sorted_indices is not None:
        padded = padded.index_select(1, like.sorted_indices)
    batch_sizes = like.batch_sizes.to(padded.device)
    present = torch.arange(padded.shape[1], device=padded.device).unsqueeze(0) < batch_sizes.unsqueeze(1)
    return PackedSequence(padded[present], like.batch_sizes, like.sorted_indices, like.unsorted_indices)
