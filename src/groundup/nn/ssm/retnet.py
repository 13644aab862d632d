"""RetNet, the language model (Sun et al. 2023, "Retentive Network: A Successor to Transformer
for Large Language Models", Section 2), on the retention forms of :mod:`.linear`.

Notation: B batch, L length, D d_model, h heads, d = D / h head width, F d_ff, V vocabulary.

Multi-scale retention (paper, Eq. (8)), without the xPos rotation of q and k:
    Q, K, V = X W_Q, X W_K / sqrt(d), X W_V          (B, h, L, d) each
    head_i = Retention(Q_i, K_i, V_i, gamma_i)       gamma_i = 1 - 2^(-5-i)
    Y = GroupNorm_h(concat(head_1..head_h))          (B, L, D), one norm per head
    MSR(X) = (swish(X W_G) * Y) W_O
Block (Eq. (9)): Y = MSR(LN(X)) + X;  X' = FFN(LN(Y)) + Y,  FFN = W_2 gelu(W_1 x).

Training runs each segment in the parallel form plus the decayed contribution of the state
carried from the previous segment (the chunkwise form with one chunk per segment); the state
returned per layer is R (B, h, d, d), so, like the LSTM, the model reads a stream in segments
and equals one pass over the whole stream (tests).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..lm_configs import RetNetLMConfig
from .linear import retention_chunkwise, retnet_gammas
from .lm_io import embedding_and_head


class MultiScaleRetention(nn.Module):
    """x (B, L, D), state R (B, h, d, d) or None -> (y (B, L, D), new R)."""

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.h, self.d = n_heads, d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.gate = nn.Linear(d_model, d_model, bias=False)
        self.out = nn.Linear(d_model, d_model, bias=False)
        self.norm = nn.GroupNorm(n_heads, d_model)
        self.register_buffer("gamma", retnet_gammas(n_heads), persistent=False)  # (h,)

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        B, L, D = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.h, self.d).permute(2, 0, 3, 1, 4)  # (B, h, L, d)
        k = k / math.sqrt(self.d)
        y, R = retention_chunkwise(q, k, v, self.gamma, chunk=L, state=state, return_state=True)
        y = self.norm(y.transpose(1, 2).reshape(B * L, D)).view(B, L, D)          # per-head norm
        return self.out(F.silu(self.gate(x)) * y), R


class RetNetLM(nn.Module):
    """Embedding, num_layers x RetNet block, LayerNorm, head; ``forward(tokens, state)``
    returns logits and the per-layer retention states (the LM contract of
    :mod:`groundup.nn.lm_configs`)."""

    def __init__(self, cfg: RetNetLMConfig, vocab_size: int):
        super().__init__()
        self.cfg, D = cfg, cfg.d_model
        self.embedding, self.head = embedding_and_head(vocab_size, D, cfg.tie_weights)
        self.ln1 = nn.ModuleList(nn.LayerNorm(D) for _ in range(cfg.num_layers))
        self.msr = nn.ModuleList(MultiScaleRetention(D, cfg.n_heads) for _ in range(cfg.num_layers))
        self.ln2 = nn.ModuleList(nn.LayerNorm(D) for _ in range(cfg.num_layers))
        self.ffn = nn.ModuleList(nn.Sequential(nn.Linear(D, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, D))
                                 for _ in range(cfg.num_layers))
        self.drop = nn.Dropout(cfg.dropout)
        self.norm_f = nn.LayerNorm(D)

    def forward(self, tokens: Tensor, state: list | None = None) -> tuple[Tensor, list]:
        x = self.embedding(tokens)                                              # (B, L, D)
        new = []
        for i in range(len(self.msr)):
            y, R = self.msr[i](self.ln1[i](x), state[i] if state is not None else None)
            x = x + self.drop(y)
            x = x + self.drop(self.ffn[i](self.ln2[i](x)))
            new.append(R)
        return self.head(self.norm_f(x)), new                                  # (B, L, V)
