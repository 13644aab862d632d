"""Mamba: linear-time sequence modelling with selective state spaces (Gu & Dao 2023).

Notation: B batch, L length, D d_model, E d_inner = expand * D, N d_state, R dt_rank, K d_conv.

The block (paper, Figure 3; Section 3.4):
    [x, z] = in_proj(u)                         (B, L, 2E)
    x = SiLU(causal depthwise conv1d(x))        (B, L, E), kernel K, left padding K-1
    [dt, B, C] = x_proj(x)                      (B, L, R + 2N)   input-dependent: "selective"
    delta = softplus(dt_proj(dt))               (B, L, E)
    y = selective_scan(x, delta, A, B, C, D)    A = -exp(A_log) (E, N), S4D-real init A_n = -(n+1)
    out = out_proj(y * SiLU(z))                 (B, L, D)

The language model follows the one LM contract (:mod:`groundup.nn.lm_configs`):
``MambaLM(MambaConfig(...), vocab_size)``, ``forward(tokens, state=None) -> (logits, state)``
with the per-layer caches below as the state, so a stream can be trained in segments.

Recurrent inference keeps a constant-size cache per layer: the last K-1 conv inputs (B, E, K-1)
and the SSM state h (B, E, N); :meth:`MambaBlock.step` consumes one token and equals the
parallel forward pass (tests).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..lm_configs import MambaConfig
from ..norm import RMSNorm
from .selective_scan import selective_scan


class MambaBlock(nn.Module):
    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.cfg = cfg
        E, N, R = cfg.d_inner, cfg.d_state, cfg.rank
        self.in_proj = nn.Linear(cfg.d_model, 2 * E, bias=False)
        self.conv1d = nn.Conv1d(E, E, cfg.d_conv, groups=E)  # causal: left padding in forward
        self.x_proj = nn.Linear(E, R + 2 * N, bias=False)
        self.dt_proj = nn.Linear(R, E, bias=True)
        # dt initialised log-uniform in [dt_min, dt_max] through the inverse softplus of the bias
        dt = torch.exp(torch.rand(E) * (math.log(cfg.dt_max) - math.log(cfg.dt_min)) + math.log(cfg.dt_min))
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
        self.A_log = nn.Parameter(torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(E, 1))  # (E, N)
        self.D = nn.Parameter(torch.ones(E))
        # the SSM's dynamics, not weights to shrink (the reference implementation marks them too)
        self.A_log._no_weight_decay = self.D._no_weight_decay = True
        self.out_proj = nn.Linear(E, cfg.d_model, bias=False)

    def _ssm_params(self, x: Tensor):
        """x (..., E) -> delta (..., E), B (..., N), C (..., N)."""
        N, R = self.cfg.d_state, self.cfg.rank
        dt, B, C = self.x_proj(x).split([R, N, N], dim=-1)
        delta = F.softplus(self.dt_proj(dt))
        return delta, B, C

    def forward(self, u: Tensor, cache: tuple[Tensor, Tensor] | None = None, return_cache: bool = False):
        """u (B, L, D) -> (B, L, D); with ``cache`` = (conv inputs, h) the sequence continues from
        that state, and ``return_cache`` also returns the state after the last token."""
        K = self.cfg.d_conv
        x, z = self.in_proj(u).chunk(2, dim=-1)  # (B, L, E) each
        xt = x.transpose(1, 2)  # (B, E, L)
        if cache is None:
            conv_in, h0 = F.pad(xt, (K - 1, 0)), None  # causal: K-1 zeros on the left
        else:
            conv_in, h0 = torch.cat([cache[0], xt], dim=-1), cache[1]
        x = F.silu(F.conv1d(conv_in, self.conv1d.weight, self.conv1d.bias, groups=xt.shape[1]))  # (B, E, L)
        delta, B, C = self._ssm_params(x.transpose(1, 2))  # (B, L, E), (B, L, N), (B, L, N)
        A = -torch.exp(self.A_log)  # (E, N)
        y, last = selective_scan(x, delta.transpose(1, 2), A, B.transpose(1, 2), C.transpose(1, 2),
                                 D=self.D, z=z.transpose(1, 2), return_last_state=True, h0=h0)  # (B, E, L)
        out = self.out_proj(y.transpose(1, 2))
        return (out, (conv_in[..., conv_in.shape[-1] - (K - 1):], last)) if return_cache else out

    def init_cache(self, batch: int, device=None, dtype=torch.float32) -> tuple[Tensor, Tensor]:
        E = self.cfg.d_inner
        return (torch.zeros(batch, E, self.cfg.d_conv - 1, device=device, dtype=dtype),
                torch.zeros(batch, E, self.cfg.d_state, device=device, dtype=dtype))

    def step(self, u_t: Tensor, cache: tuple[Tensor, Tensor]) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """One token: u_t (B, D) -> y_t (B, D); cache = (conv inputs (B, E, K-1), h (B, E, N))."""
        conv_state, h = cache
        x, z = self.in_proj(u_t).chunk(2, dim=-1)  # (B, E)
        window = torch.cat([conv_state, x.unsqueeze(-1)], dim=-1)  # (B, E, K)
        x = (window * self.conv1d.weight.squeeze(1)).sum(-1) + self.conv1d.bias  # (B, E)
        x = F.silu(x)
        delta, B, C = self._ssm_params(x)  # (B, E), (B, N), (B, N)
        A = -torch.exp(self.A_log)
        h = torch.exp(delta.unsqueeze(-1) * A) * h + (delta * x).unsqueeze(-1) * B.unsqueeze(1)  # (B, E, N)
        y = (h * C.unsqueeze(1)).sum(-1) + self.D * x
        y = y * F.silu(z)
        return self.out_proj(y), (window[..., 1:], h)


class MambaLM(nn.Module):
    """Embedding, num_layers x [x + MambaBlock(RMSNorm(x))], RMSNorm, (tied) LM head."""

    def __init__(self, cfg: MambaConfig, vocab_size: int):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(vocab_size, cfg.d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)  # as the reference implementation does
        self.layers = nn.ModuleList(MambaBlock(cfg) for _ in range(cfg.num_layers))
        self.norms = nn.ModuleList(RMSNorm(cfg.d_model, eps=1e-5) for _ in range(cfg.num_layers))
        self.norm_f = RMSNorm(cfg.d_model, eps=1e-5)
        self.lm_head = nn.Linear(cfg.d_model, vocab_size, bias=False)
        if cfg.tie_weights:
            self.lm_head.weight = self.embedding.weight

    def forward(self, tokens: Tensor, cache: list | None = None) -> tuple[Tensor, list]:
        """tokens (B, L) -> (logits (B, L, V), per-layer caches): the parallel pass from an
        optional per-layer cache (so a long stream can be processed in segments, or a prompt
        before step-by-step decoding)."""
        x = self.embedding(tokens)
        new = []
        for i, (norm, layer) in enumerate(zip(self.norms, self.layers)):
            y, c = layer(norm(x), cache[i] if cache is not None else None, return_cache=True)
            x = x + y
            new.append(c)
        return self.lm_head(self.norm_f(x)), new

    def init_cache(self, batch: int, device=None):
        return [layer.init_cache(batch, device) for layer in self.layers]

    def step(self, token: Tensor, cache: list) -> tuple[Tensor, list]:
        """token (B,) -> logits (B, V) with constant-memory recurrent state."""
        x = self.embedding(token)
        new = []
        for norm, layer, c in zip(self.norms, self.layers, cache):
            y, c = layer.step(norm(x), c)
            x = x + y
            new.append(c)
        return self.lm_head(self.norm_f(x)), new
