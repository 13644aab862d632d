"""RWKV-4: a linear RNN with attention-like token weighting (Peng et al. 2023, "RWKV: Reinventing
RNNs for the Transformer Era", Section 3).

Notation: B batch, T length, C channels (d_model), F channel-mixing width, V vocabulary.

Token shift (Eqs. 11-13, 17-18): every projection sees a per-channel mix of this token and the
previous one, x'_t = mu * x_t + (1 - mu) * x_(t-1) (x_(-1) = 0, or the previous segment's last).

Time mixing (Eqs. 11-16):
    r_t = W_r (mu_r x_t + (1 - mu_r) x_(t-1))        receptance   (B, T, C)
    k_t = W_k (mu_k x_t + (1 - mu_k) x_(t-1))        key          (B, T, C)
    v_t = W_v (mu_v x_t + (1 - mu_v) x_(t-1))        value        (B, T, C)
    wkv_t = [ sum_(i<t) e^(-(t-1-i) w + k_i) v_i + e^(u + k_t) v_t ]
          / [ sum_(i<t) e^(-(t-1-i) w + k_i)     + e^(u + k_t)     ]      (Eq. 14), per channel
    o_t = W_o (sigmoid(r_t) * wkv_t)
  w > 0 (C,) is the per-channel decay (w = exp(w_log)); u (C,) the "bonus" of the current token.
  wkv_t is a weighted average of the values, with weights that decay with distance: attention
  whose scores are k_i - distance * w, computable as a recurrence.

Channel mixing (Eqs. 17-19):
    r'_t = W'_r (mu'_r x_t + (1 - mu'_r) x_(t-1)),  k'_t = W'_k (mu'_k x_t + (1 - mu'_k) x_(t-1))
    o'_t = sigmoid(r'_t) * W'_v max(k'_t, 0)^2

Two forms of wkv, equal in values and gradients (tests, float64):
* :func:`wkv_recurrent` — the numerically stable recurrence (paper, Appendix / the official
  CUDA kernel's idea): keep numerator and denominator as (a, b) scaled by e^-p, p the running
  maximum exponent, so no exponential ever overflows:
      q = max(p, u + k_t);    wkv_t = (e^(p-q) a + e^(u+k_t-q) v_t) / (e^(p-q) b + e^(u+k_t-q))
      p' = max(p - w, k_t);   a' = e^(p-w-p') a + e^(k_t-p') v_t;   b' = e^(p-w-p') b + e^(k_t-p')
* :func:`wkv_chunked` — chunks of ``chunk`` tokens: inside a chunk, all (t, i) exponents at once
  (a (B, c, c, C) tensor, max-subtracted like a softmax); across chunks, the same (a, b, p) state
  as the recurrence, advanced by a whole chunk at once. ``chunk >= T`` is the fully parallel
  (attention-like, O(T^2)) form; ``chunk = 1`` is the recurrence again.

The LM (:class:`RWKVLM`): embedding, LayerNorm, n x [x + TimeMix(LN(x)); x + ChannelMix(LN(x))],
LayerNorm, head; ``forward(tokens, state) -> (logits, state)`` with, per layer, the time-mixing
(last x, a, b, p) and the channel-mixing last x, so a stream can be fed in segments.
"""
from __future__ import annotations

import math
import torch
import torch.nn as nn
from torch import Tensor

from ..lm_configs import RWKVConfig
from .lm_io import embedding_and_head

NEG_INF = float("-inf")


def _initial_state(k: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(a, b, p) of an empty history: no numerator, no denominator, exponent -inf; (B, C) each."""
    z = k.new_zeros(k.shape[0], k.shape[-1])
    return z, z, torch.full_like(z, NEG_INF)


def wkv_recurrent(w: Tensor, u: Tensor, k: Tensor, v: Tensor, state=None):
    """The stable recurrence, one token at a time. w, u (C,); k, v (B, T, C); ``state`` (a, b, p)
    each (B, C) or None. Returns wkv (B, T, C) and the state after the last token."""
    a, b, p = _initial_state(k) if state is None else state
    out = []
    for k_t, v_t in zip(k.unbind(1), v.unbind(1)):  # (B, C) each
        q = torch.maximum(p, u + k_t)
        e1, e2 = torch.exp(p - q), torch.exp(u + k_t - q)
        out.append((e1 * a + e2 * v_t) / (e1 * b + e2))           # wkv_t, Eq. (14)
        q = torch.maximum(p - w, k_t)
        e1, e2 = torch.exp(p - w - q), torch.exp(k_t - q)
        a, b, p = e1 * a + e2 * v_t, e1 * b + e2, q               # decay, then add token t
    return torch.stack(out, dim=1), (a, b, p)


def wkv_chunked(w: Tensor, u: Tensor, k: Tensor, v: Tensor, state=None, chunk: int = 32):
    """The same wkv, ``chunk`` tokens at a time (see the module docstring); same arguments."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    a, b, p = _initial_state(k) if state is None else state
    T = k.shape[1]
    out = []
    for s in range(0, T, chunk):
        kc, vc = k[:, s:s + chunk], v[:, s:s + chunk]             # (B, c, C)
        c = kc.shape[1]
        j = torch.arange(c, device=k.device)
        dist = (j[:, None] - 1 - j[None, :]).to(k.dtype)           # t - 1 - i, (c, c)
        # exponent of token i's weight in wkv_t: -(t-1-i) w + k_i (i < t), u + k_t (i = t)
        E = -dist[None, :, :, None] * w + kc[:, None, :, :]        # (B, c, c, C)
        E = torch.where((j[:, None] > j[None, :])[None, :, :, None], E,
                        torch.where((j[:, None] == j[None, :])[None, :, :, None], u + kc[:, None, :, :],
                                    torch.full_like(E, NEG_INF)))
        S = p[:, None, :] - j[None, :, None].to(k.dtype) * w       # the carried history, (B, c, C)
        m = torch.maximum(E.amax(dim=2), S)                        # (B, c, C)
        P = torch.exp(E - m[:, :, None, :])                        # (B, c, c, C)
        eS = torch.exp(S - m)
        num = (P * vc[:, None, :, :]).sum(dim=2) + eS * a[:, None, :]
        den = P.sum(dim=2) + eS * b[:, None, :]
        out.append(num / den)
        # the state at the chunk's end: every token i decayed by (c-1-i) steps, the old one by c
        Ee = -(c - 1 - j).to(k.dtype)[None, :, None] * w + kc      # (B, c, C)
        Se = p - c * w                                             # (B, C)
        pe = torch.maximum(Ee.amax(dim=1), Se)
        Pe, eSe = torch.exp(Ee - pe[:, None, :]), torch.exp(Se - pe)
        a, b, p = (Pe * vc).sum(dim=1) + eSe * a, Pe.sum(dim=1) + eSe * b, pe
    return torch.cat(out, dim=1), (a, b, p)


def _shift(x: Tensor, last: Tensor | None) -> Tensor:
    """x_(t-1) for every t: (B, T, C), the first from ``last`` (B, C) or zeros."""
    first = x.new_zeros(x.shape[0], 1, x.shape[2]) if last is None else last[:, None, :]
    return torch.cat([first, x[:, :-1]], dim=1)


def _ramp(C: int, power: float) -> Tensor:
    return (torch.arange(C, dtype=torch.float32) / C) ** power  # (C,), 0 .. ~1


class TimeMix(nn.Module):
    """RWKV-4 time mixing: x (B, T, C) -> (B, T, C); state (last x, a, b, p)."""

    def __init__(self, d_model: int, layer: int = 0, n_layer: int = 1, chunk: int = 32):
        super().__init__()
        C = d_model
        self.chunk = chunk
        depth = layer / max(1, n_layer - 1)  # 0 for the first layer .. 1 for the last
        # per-channel decays spread from slow to fast, deeper layers faster (RWKV-4 init, Sec. 3.5)
        decay = -5 + 8 * (torch.arange(C, dtype=torch.float32) / max(1, C - 1)) ** (0.7 + 1.3 * depth)
        self.w_log = nn.Parameter(decay)                                # w = exp(w_log) > 0
        self.u = nn.Parameter(math.log(0.3) + 0.5 * ((torch.arange(C) + 1) % 3 - 1).float())
        ramp = _ramp(C, 1.0 - depth)
        self.mu_k, self.mu_v = nn.Parameter(ramp.clone()), nn.Parameter(ramp + 0.3 * depth)
        self.mu_r = nn.Parameter(0.5 * ramp)
        self.key, self.value, self.receptance, self.output = (nn.Linear(C, C, bias=False) for _ in range(4))
        nn.init.zeros_(self.output.weight)  # each block starts as the identity, as in RWKV-4

    def forward(self, x: Tensor, state=None, recurrent: bool = False):
        last, wkv_state = (None, None) if state is None else (state[0], state[1:])
        xx = _shift(x, last)                                            # x_(t-1), (B, T, C)
        k = self.key(self.mu_k * x + (1 - self.mu_k) * xx)              # (B, T, C)
        v = self.value(self.mu_v * x + (1 - self.mu_v) * xx)
        r = self.receptance(self.mu_r * x + (1 - self.mu_r) * xx)
        w = torch.exp(self.w_log)
        if recurrent:
            y, (a, b, p) = wkv_recurrent(w, self.u, k, v, wkv_state)
        else:
            y, (a, b, p) = wkv_chunked(w, self.u, k, v, wkv_state, self.chunk)
        return self.output(torch.sigmoid(r) * y), (x[:, -1], a, b, p)


class ChannelMix(nn.Module):
    """RWKV-4 channel mixing: x (B, T, C) -> (B, T, C); state: the last x (B, C)."""

    def __init__(self, d_model: int, d_ffn: int, layer: int = 0, n_layer: int = 1):
        super().__init__()
        ramp = _ramp(d_model, 1.0 - layer / max(1, n_layer - 1))
        self.mu_k, self.mu_r = nn.Parameter(ramp.clone()), nn.Parameter(ramp.clone())
        self.key = nn.Linear(d_model, d_ffn, bias=False)
        self.receptance = nn.Linear(d_model, d_model, bias=False)
        self.value = nn.Linear(d_ffn, d_model, bias=False)
        nn.init.zeros_(self.value.weight)

    def forward(self, x: Tensor, last: Tensor | None = None):
        xx = _shift(x, last)
        k = torch.relu(self.key(self.mu_k * x + (1 - self.mu_k) * xx)) ** 2    # (B, T, F)
        r = torch.sigmoid(self.receptance(self.mu_r * x + (1 - self.mu_r) * xx))
        return r * self.value(k), x[:, -1]


class RWKVLM(nn.Module):
    """RWKV-4 language model: ``forward(tokens (B, T), state) -> (logits (B, T, V), state)``."""

    def __init__(self, cfg: RWKVConfig, vocab_size: int):
        super().__init__()
        self.cfg = cfg
        C, n = cfg.d_model, cfg.num_layers
        self.embedding, self.head = embedding_and_head(vocab_size, C, cfg.tie_weights)
        self.ln0 = nn.LayerNorm(C)  # RWKV-4 normalises the embedding once before the blocks
        self.ln1 = nn.ModuleList(nn.LayerNorm(C) for _ in range(n))
        self.ln2 = nn.ModuleList(nn.LayerNorm(C) for _ in range(n))
        self.att = nn.ModuleList(TimeMix(C, i, n, cfg.chunk) for i in range(n))
        self.ffn = nn.ModuleList(ChannelMix(C, cfg.ffn_mult * C, i, n) for i in range(n))
        self.ln_out = nn.LayerNorm(C)

    def forward(self, tokens: Tensor, state: list | None = None, recurrent: bool = False):
        x = self.ln0(self.embedding(tokens))                            # (B, T, C)
        new = []
        for i in range(self.cfg.num_layers):
            att_state, ffn_last = (None, None) if state is None else (state[i][:4], state[i][4])
            y, att_state = self.att[i](self.ln1[i](x), att_state, recurrent)
            x = x + y
            y, ffn_last = self.ffn[i](self.ln2[i](x), ffn_last)
            x = x + y
            new.append((*att_state, ffn_last))
        return self.head(self.ln_out(x)), new
