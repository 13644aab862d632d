"""Linear RNNs of the same family: LRU (Orvieto et al. 2023) and RetNet's retention (Sun et al. 2023).

Notation: B batch, L length, H input/output width, N state size, heads h, d_k / d_v head dims.

LRU ("Resurrecting Recurrent Neural Networks for Long Sequences", Eq. (6)-(7)):
    lambda = exp(-exp(nu) + i exp(theta))          stable complex diagonal, |lambda| < 1
    gamma  = sqrt(1 - |lambda|^2)                  normalisation of the input
    h_t = lambda * h_(t-1) + gamma * (B x_t)       -> one complex linear_scan
    y_t = Re(C h_t) + D x_t
    init: |lambda| uniform on the ring [r_min, r_max], phase uniform in [0, max_phase].

RetNet retention (Sun et al. 2023, Eqs. (5)-(7)), per head with decay gamma, without the xPos
rotation (the decay is the part that makes it a linear RNN):
    recurrent   S_n = gamma S_(n-1) + K_n^T V_n,   o_n = Q_n S_n
    parallel    O = (Q K^T * D) V,   D_nm = gamma^(n-m) if n >= m else 0
    chunkwise   inside a chunk of size c: (Q K^T * D) V; across chunks:
                R_i = gamma^c R_(i-1) + K_[i]^T (V_[i] * zeta),  zeta_j = gamma^(c-1-j)
                O_[i] += (Q_[i] R_(i-1)) * xi,                  xi_j = gamma^(j+1)
    multi-scale: gamma_head = 1 - 2^(-5 - head).
All three forms give the same output (tests).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
from torch import Tensor

from ..lm_configs import LRULMConfig
from .lm_io import embedding_and_head
from .scan import linear_scan


class LRU(nn.Module):
    """Linear Recurrent Unit: x (B, L, H) -> y (B, L, H)."""

    def __init__(self, d_model: int, d_state: int, r_min: float = 0.0, r_max: float = 1.0,
                 max_phase: float = 2 * math.pi):
        super().__init__()
        if not 0.0 <= r_min < r_max <= 1.0:
            raise ValueError(f"need 0 <= r_min < r_max <= 1, got r_min={r_min}, r_max={r_max}")
        H, N = d_model, d_state
        u1, u2 = torch.rand(N), torch.rand(N)
        # |lambda|^2 uniform on [r_min^2, r_max^2]  =>  nu = log(-0.5 log(u (r_max^2 - r_min^2) + r_min^2))
        self.nu_log = nn.Parameter(torch.log(-0.5 * torch.log(u1 * (r_max**2 - r_min**2) + r_min**2)))
        self.theta_log = nn.Parameter(torch.log(max_phase * u2))
        self.B = nn.Parameter(torch.view_as_real(torch.randn(N, H, dtype=torch.cfloat) / math.sqrt(2 * H)))
        self.C = nn.Parameter(torch.view_as_real(torch.randn(H, N, dtype=torch.cfloat) / math.sqrt(N)))
        self.D = nn.Parameter(torch.randn(H))
        # the recurrence's eigenvalues (and the skip), not weights to shrink
        for p in (self.nu_log, self.theta_log, self.D):
            p._no_weight_decay = True

    def lam(self) -> Tensor:
        return torch.exp(-torch.exp(self.nu_log) + 1j * torch.exp(self.theta_log))  # (N,)

    def forward(self, x: Tensor, recurrent: bool = False, h0: Tensor | None = None,
                return_state: bool = False):
        """``h0`` (B, N) complex continues a sequence; ``return_state`` also returns h_(L-1)."""
        lam = self.lam()
        gamma = torch.sqrt(1 - lam.abs() ** 2)  # (N,)
        Bx = torch.einsum("nh,blh->bnl", torch.view_as_complex(self.B), x.to(lam.dtype)) * gamma[:, None]  # (B, N, L)
        if recurrent:  # the step-by-step twin
            h = torch.zeros(x.shape[0], lam.shape[0], dtype=lam.dtype, device=x.device) if h0 is None else h0
            hs = []
            for b_t in Bx.unbind(-1):
                h = lam * h + b_t
                hs.append(h)
            hs = torch.stack(hs, dim=-1)
        else:
            hs = linear_scan(lam[None, :, None], Bx, h0)  # (B, N, L)
        y = torch.einsum("hn,bnl->blh", torch.view_as_complex(self.C), hs).real + self.D * x
        return (y, hs[..., -1]) if return_state else y


class LRULM(nn.Module):
    """Embedding, num_layers x [x + MLP(GELU(LRU(LayerNorm(x))))], LayerNorm, head (the LRU
    paper's block with a plain MLP); ``forward(tokens, state)`` returns logits and per-layer
    states (the LM contract of :mod:`groundup.nn.lm_configs`)."""

    def __init__(self, cfg: LRULMConfig, vocab_size: int):
        super().__init__()
        self.cfg, d_model, n = cfg, cfg.d_model, cfg.num_layers
        self.embedding, self.head = embedding_and_head(vocab_size, d_model, cfg.tie_weights)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(n))
        self.lrus = nn.ModuleList(LRU(d_model, cfg.d_state, r_min=0.9, r_max=0.999, max_phase=math.pi / 10)
                                  for _ in range(n))
        self.mlps = nn.ModuleList(nn.Sequential(nn.Linear(d_model, 2 * d_model), nn.GELU(),
                                                nn.Dropout(cfg.dropout), nn.Linear(2 * d_model, d_model))
                                  for _ in range(n))
        self.norm_f = nn.LayerNorm(d_model)

    def forward(self, tokens: Tensor, state: list | None = None):
        x = self.embedding(tokens)
        new = []
        for i, (norm, lru, mlp) in enumerate(zip(self.norms, self.lrus, self.mlps)):
            y, s = lru(norm(x), h0=state[i] if state is not None else None, return_state=True)
            x = x + mlp(y)
            new.append(s)
        return self.head(self.norm_f(x)), new


def retention_parallel(q: Tensor, k: Tensor, v: Tensor, gamma: Tensor) -> Tensor:
    """q, k (B, h, L, d_k); v (B, h, L, d_v); gamma (h,) -> (B, h, L, d_v)."""
    L = q.shape[-2]
    n = torch.arange(L, device=q.device)
    diff = (n[:, None] - n[None, :]).to(q.dtype)  # n - m
    D = torch.where(diff >= 0, gamma[:, None, None] ** diff.clamp(min=0), torch.zeros((), dtype=q.dtype))  # (h, L, L)
    return (q @ k.transpose(-1, -2) * D) @ v


def retention_recurrent(q: Tensor, k: Tensor, v: Tensor, gamma: Tensor) -> Tensor:
    S = q.new_zeros(q.shape[0], q.shape[1], q.shape[-1], v.shape[-1])  # (B, h, d_k, d_v)
    g = gamma[:, None, None]
    outs = []
    for q_n, k_n, v_n in zip(q.unbind(-2), k.unbind(-2), v.unbind(-2)):
        S = g * S + k_n.unsqueeze(-1) * v_n.unsqueeze(-2)  # S_n = gamma S_(n-1) + K_n^T V_n
        outs.append((q_n.unsqueeze(-2) @ S).squeeze(-2))  # o_n = Q_n S_n
    return torch.stack(outs, dim=-2)


def retention_chunkwise(q: Tensor, k: Tensor, v: Tensor, gamma: Tensor, chunk: int = 64,
                        state: Tensor | None = None, return_state: bool = False):
    """The chunkwise form; ``state`` R (B, h, d_k, d_v), the recurrent state before q's first
    position, continues a sequence, and ``return_state`` also returns R after the last one."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    Bsz, h, L, dk = q.shape
    R = q.new_zeros(Bsz, h, dk, v.shape[-1]) if state is None else state
    g = gamma[:, None, None]
    outs = []
    for s in range(0, L, chunk):
        qi, ki, vi = q[..., s:s + chunk, :], k[..., s:s + chunk, :], v[..., s:s + chunk, :]
        c = qi.shape[-2]
        j = torch.arange(c, device=q.device, dtype=q.dtype)
        inner = retention_parallel(qi, ki, vi, gamma)  # within the chunk
        xi = g ** (j + 1)[:, None]  # (h, c, 1): decay from the chunk start to row j
        cross = (qi @ R) * xi
        outs.append(inner + cross)
        zeta = g ** (c - 1 - j)[:, None]  # (h, c, 1)
        R = (g ** c) * R + ki.transpose(-1, -2) @ (vi * zeta)
    out = torch.cat(outs, dim=-2)
    return (out, R) if return_state else out


def retnet_gammas(heads: int) -> Tensor:
    """Multi-scale decays gamma_h = 1 - 2^(-5 - h) of RetNet."""
    return 1 - 2.0 ** (-5 - torch.arange(heads, dtype=torch.float32))
