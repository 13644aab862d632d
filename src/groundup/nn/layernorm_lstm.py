"""Layer-normalised LSTM (Ba, Kiros & Hinton 2016, "Layer Normalization", section 3.1 / eq. 20-22).

Notation: L steps, B batch, I input size, H hidden size; LN(z; a, b) = a * (z - mean(z)) / std(z) + b
over the last dimension.

    (i, f, g, o) = LN(W_hh h_{t-1}; a_h) + LN(W_ih x_t; a_x) + b                   (eq. 20)
    c_t = sigma(f) * c_{t-1} + sigma(i) * tanh(g)                                   (eq. 21)
    h_t = sigma(o) * tanh(LN(c_t; a_c, b_c))                                        (eq. 22)

The two recurrent/input normalisations take a gain only: their shifts would add to the single
bias b (the paper's eq. 20 has one bias too), so they are left out. Gate order i, f, g, o and
the names ``weight_ih``, ``weight_hh``, ``bias`` follow torch.nn.LSTMCell. Because LN removes
the scale of W h, the cell's output is invariant to rescaling W_hh or W_ih by a positive
factor, which the tests check (a plain LSTM is not).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class LayerNormLSTMCell(nn.Module):
    """One LN-LSTM step. forward(x (B, I) or (I,), (h, c) or None) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, eps: float = 1e-5,
                 device=None, dtype=None) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        kw = {"device": device, "dtype": dtype}
        self.input_size, self.hidden_size, self.eps = input_size, hidden_size, eps
        H = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H, **kw))
        self.bias = nn.Parameter(torch.empty(4 * H, **kw))
        self.gain_ih = nn.Parameter(torch.empty(4 * H, **kw))     # a_x
        self.gain_hh = nn.Parameter(torch.empty(4 * H, **kw))     # a_h
        self.gain_c = nn.Parameter(torch.empty(H, **kw))          # a_c
        self.shift_c = nn.Parameter(torch.empty(H, **kw))         # b_c
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights and bias U(-1/sqrt(H), 1/sqrt(H)) as torch.nn.LSTMCell; gains 1, shift 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in (self.weight_ih, self.weight_hh, self.bias):
            nn.init.uniform_(p, -bound, bound)
        for p in (self.gain_ih, self.gain_hh, self.gain_c):
            nn.init.ones_(p)
        nn.init.zeros_(self.shift_c)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

    def input_term(self, x: Tensor) -> Tensor:
        """LN(W_ih x; a_x) + b for any leading shape (..., I) -> (..., 4H): all steps at once."""
        return F.layer_norm(F.linear(x, self.weight_ih), (4 * self.hidden_size,), self.gain_ih,
                            None, self.eps) + self.bias

    def step(self, xw: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        """Eq. 20-22 given the input term xw (B, 4H)."""
        H = self.hidden_size
        gates = xw + F.layer_norm(F.linear(h, self.weight_hh), (4 * H,), self.gain_hh, None, self.eps)
        i, f, g, o = gates.chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(F.layer_norm(c, (H,), self.gain_c, self.shift_c, self.eps))
        return h, c

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if input.dim() not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"LayerNormLSTMCell: expected input (B, {self.input_size}) or "
                             f"({self.input_size},), got {tuple(input.shape)}")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            z = x.new_zeros(x.shape[0], self.hidden_size)
            hx = (z, z)
        h, c = (t if batched else t.unsqueeze(0) for t in hx)
        h, c = self.step(self.input_term(x), h, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class LayerNormLSTM(nn.Module):
    """A stack of :class:`LayerNormLSTMCell` over sequences, with LSTM-like arguments
    (num_layers, batch_first, dropout between layers) and returns: forward(x (L, B, I),
    (h_0, c_0) each (N, B, H) or None) -> (output (L, B, H), (h_n, c_n)). One direction."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 batch_first: bool = False, dropout: float = 0.0, eps: float = 1e-5,
                 device=None, dtype=None) -> None:
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be an integer >= 1, got {num_layers!r}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout must be in [0, 1], got {dropout!r}")
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.batch_first, self.dropout = batch_first, float(dropout)
        self.cells = nn.ModuleList(
            LayerNormLSTMCell(input_size if k == 0 else hidden_size, hidden_size, eps, device, dtype)
            for k in range(num_layers))

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        x = input.transpose(0, 1) if self.batch_first else input     # (L, B, I)
        if x.dim() != 3:
            raise ValueError(f"LayerNormLSTM: expected 3-dim input, got shape {tuple(input.shape)}")
        N, B, H = self.num_layers, x.shape[1], self.hidden_size
        if hx is None:
            z = x.new_zeros(N, B, H)
            hx = (z, z)
        if tuple(hx[0].shape) != (N, B, H) or tuple(hx[1].shape) != (N, B, H):
            raise ValueError(f"LayerNormLSTM: initial states must be {(N, B, H)}, got "
                             f"{tuple(hx[0].shape)} and {tuple(hx[1].shape)}")
        hs, cs = [], []
        for k, cell in enumerate(self.cells):
            xw = cell.input_term(x)                                   # (L, B, 4H), all steps
            h, c = hx[0][k], hx[1][k]
            outs = []
            for t in range(x.shape[0]):
                h, c = cell.step(xw[t], h, c)
                outs.append(h)
            x = torch.stack(outs)                                     # (L, B, H)
            if self.dropout and self.training and k < N - 1:
                x = F.dropout(x, self.dropout, training=True)
            hs.append(h)
            cs.append(c)
        out = x.transpose(0, 1) if self.batch_first else x
        return out, (torch.stack(hs), torch.stack(cs))
