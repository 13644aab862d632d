"""One time step of the Elman RNN, the LSTM and the GRU, written from their equations.

Notation: B batch, I input size, H hidden size, P = proj_size or H (width of h), G gate blocks
(1 Elman, 4 LSTM, 3 GRU). ``xw`` is the input projection ``x W_ih^T + b_ih`` (B, G*H), computed
by the caller for all time steps at once; a step adds the recurrent part ``h W_hh^T + b_hh``.

The step functions are the slow, obviously correct reference that the sequence layers in
:mod:`groundup.nn.rnn` loop over (the fused BPTT in :mod:`groundup.nn.rnn_fused` is tested
against them). The ``*Cell`` modules take the same arguments and return the same values as
``torch.nn.RNNCell`` / ``LSTMCell`` / ``GRUCell``, with the same parameter names and layout
(gate blocks stacked along dim 0 in torch's order: LSTM i,f,g,o; GRU r,z,n).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


# --- the equations -------------------------------------------------------------------------
def elman_step(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, nonlinearity: str) -> Tensor:
    """Elman (1990): h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), phi = tanh or ReLU."""
    a = xw + F.linear(h, w_hh, b_hh)                  # (B, H)
    return torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)


def lstm_step(xw: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None,
              w_hr: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Hochreiter & Schmidhuber (1997) with the forget gate of Gers et al. (2000), as torch.nn.LSTM:

        i, f, g, o = sigma(.), sigma(.), tanh(.), sigma(.) of  W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)            (then h_t = W_hr h_t when proj_size > 0, Sak et al. 2014)
    """
    gates = xw + F.linear(h, w_hh, b_hh)              # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)               # each (B, H)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)                         # (B, P)
    return h, c


def gru_step(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """GRU as torch.nn.GRU (cuDNN's placement: the reset gate multiplies W_hn h + b_hn):

        r = sigma(W_ir x + b_ir + W_hr h + b_hr)
        z = sigma(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}
    """
    hw = F.linear(h, w_hh, b_hh)                      # (B, 3H)
    x_r, x_z, x_n = xw.chunk(3, dim=-1)
    h_r, h_z, h_n = hw.chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def paper_gru_step(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """GRU as in Cho et al. (2014), eq. 5-8: the reset gate acts on h *before* the product,

        n = tanh(W_in x + b_in + W_hn (r * h_{t-1}) + b_hn)

    so the candidate cannot see the parts of the past that r switched off. r and z as in
    :func:`gru_step`; same parameter layout, so a torch.nn.GRU state_dict loads unchanged.
    """
    H = h.shape[-1]
    b_rz = None if b_hh is None else b_hh[: 2 * H]
    b_n = None if b_hh is None else b_hh[2 * H:]
    x_r, x_z, x_n = xw.chunk(3, dim=-1)
    h_r, h_z = F.linear(h, w_hh[: 2 * H], b_rz).chunk(2, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + F.linear(r * h, w_hh[2 * H:], b_n))
    return (1 - z) * n + z * h


# --- torch.nn-compatible cells -------------------------------------------------------------
class _CellBase(nn.Module):
    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        kw = {"device": device, "dtype": dtype}
        G = self.gates
        self.weight_ih = nn.Parameter(torch.empty(G * hidden_size, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(G * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G * hidden_size, **kw))
            self.bias_hh = nn.Parameter(torch.empty(G * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias, as torch.nn."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _check(self, x: Tensor, hx: Tensor | None) -> tuple[Tensor, bool]:
        if x.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: expected input of 1 or 2 dims, got shape {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input size {x.shape[-1]} != input_size {self.input_size}")
        batched = x.dim() == 2
        return (x if batched else x.unsqueeze(0)), batched

    def _state(self, hx: Tensor | None, x: Tensor, batched: bool, width: int) -> Tensor:
        if hx is None:
            return x.new_zeros(x.shape[0], width)
        if hx.dim() != (2 if batched else 1):
            raise ValueError(f"{type(self).__name__}: hidden state has {hx.dim()} dims for "
                             f"{'batched' if batched else 'unbatched'} input")
        hx = hx if batched else hx.unsqueeze(0)
        if tuple(hx.shape) != (x.shape[0], width):
            raise ValueError(f"{type(self).__name__}: expected hidden state of shape "
                             f"{(x.shape[0], width)}, got {tuple(hx.shape)}")
        return hx


class RNNCell(_CellBase):
    """Elman cell, as torch.nn.RNNCell(input_size, hidden_size, bias, nonlinearity)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._check(input, hx)
        h = self._state(hx, x, batched, self.hidden_size)
        h = elman_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh,
                       self.bias_hh, self.nonlinearity)
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """LSTM cell, as torch.nn.LSTMCell; returns (h', c')."""

    gates = 4

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        x, batched = self._check(input, hx)
        h0, c0 = (None, None) if hx is None else hx
        h = self._state(h0, x, batched, self.hidden_size)
        c = self._state(c0, x, batched, self.hidden_size)
        h, c = lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """GRU cell, as torch.nn.GRUCell (reset gate after the product, see :func:`gru_step`)."""

    gates = 3
    _step = staticmethod(gru_step)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = self._check(input, hx)
        h = self._state(hx, x, batched, self.hidden_size)
        h = self._step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)


class PaperGRUCell(GRUCell):
    """GRU cell of Cho et al. (2014): reset gate before the product (:func:`paper_gru_step`)."""

    _step = staticmethod(paper_gru_step)
