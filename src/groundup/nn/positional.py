"""Positional information for attention, which by itself is blind to order.

Notation: B batch, T length, E model width, H heads, D head width, pos a position, i a pair index.

* Sinusoidal (Vaswani et al. 2017, Section 3.5), added to the embeddings:
      PE[pos, 2i] = sin(pos / 10000^(2i/E)),   PE[pos, 2i+1] = cos(pos / 10000^(2i/E))
* Learned (GPT, BERT): a trainable table of max_len x E, added to the embeddings.
* Rotary, RoPE (Su et al. 2021, "RoFormer", eq. 34): rotate each pair (x_2i, x_2i+1) of q and k
  by the angle pos * theta_i, theta_i = base^(-2i/D). Then <R_m q, R_n k> depends on m - n only.
* ALiBi (Press, Smith & Lewis 2022, "Train Short, Test Long"): no embedding; the score of query
  at position p for key j gets -m_h (p - j), with head slopes m_h a geometric sequence.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["sinusoidal_table", "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding",
           "RotaryEmbedding", "alibi_slopes", "alibi_bias"]


def sinusoidal_table(max_len: int, d_model: int) -> Tensor:
    """(max_len, E) table of Vaswani et al.'s sines and cosines (E even)."""
    if max_len < 1 or d_model < 2 or d_model % 2:
        raise ValueError(f"need max_len >= 1 and an even d_model >= 2, got {max_len} and {d_model}")
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)             # (max_len, 1)
    inv_freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (E/2,)
    pe = torch.empty(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * inv_freq)
    pe[:, 1::2] = torch.cos(pos * inv_freq)
    return pe.float()


def _check_len(T: int, offset: int, max_len: int) -> None:
    if offset + T > max_len:
        raise ValueError(f"positions up to {offset + T} exceed max_len {max_len}")


class SinusoidalPositionalEncoding(nn.Module):
    """x (B, T, E) -> x + PE[offset : offset + T]. No parameters."""

    def __init__(self, d_model: int, max_len: int = 4096) -> None:
        super().__init__()
        self.max_len = max_len
        self.register_buffer("pe", sinusoidal_table(max_len, d_model), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        _check_len(x.shape[1], offset, self.max_len)
        return x + self.pe[offset:offset + x.shape[1]].to(x.dtype)


class LearnedPositionalEmbedding(nn.Module):
    """x (B, T, E) -> x + P[offset : offset + T], P a trainable (max_len, E) table."""

    def __init__(self, d_model: int, max_len: int) -> None:
        super().__init__()
        if max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {max_len}")
        self.max_len = max_len
        self.weight = nn.Parameter(torch.randn(max_len, d_model) * 0.02)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        _check_len(x.shape[1], offset, self.max_len)
        return x + self.weight[offset:offset + x.shape[1]]


class RotaryEmbedding(nn.Module):
    """x (B, H, T, D) -> each pair (x_2i, x_2i+1) at position pos rotated by pos * theta_i:

        [x'_2i  ]   [cos  -sin] [x_2i  ]
        [x'_2i+1] = [sin   cos] [x_2i+1],   theta_i = base^(-2i/D)   (RoFormer eq. 34)
    """

    def __init__(self, head_dim: int, base: float = 10000.0) -> None:
        super().__init__()
        if head_dim < 2 or head_dim % 2:
            raise ValueError(f"rotary head_dim must be even and >= 2, got {head_dim}")
        inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)                 # (D/2,)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        T = x.shape[-2]
        pos = torch.arange(offset, offset + T, device=x.device, dtype=torch.float32)
        angle = pos.unsqueeze(1) * self.inv_freq                                    # (T, D/2)
        cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
        x1, x2 = x[..., 0::2], x[..., 1::2]                                         # (.., T, D/2)
        return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


def alibi_slopes(n_heads: int) -> Tensor:
    """m_h = 2^(-8h/n) for h = 1..n when n is a power of 2 (1/2, 1/4, ..., 1/256 for 8 heads);
    otherwise the slopes of the nearest smaller power of 2 followed by every other slope of the
    next power of 2 (Press et al., Section 3 and their reference code)."""
    if n_heads < 1:
        raise ValueError(f"n_heads must be >= 1, got {n_heads}")

    def power_of_2(n: int) -> list[float]:
        return [2.0 ** (-8.0 * h / n) for h in range(1, n + 1)]

    p = 2 ** int(math.floor(math.log2(n_heads)))
    slopes = power_of_2(p)
    if p < n_heads:
        slopes += power_of_2(2 * p)[0::2][:n_heads - p]
    return torch.tensor(slopes)


def alibi_bias(slopes: Tensor, L: int, S: int) -> Tensor:
    """(H, L, S) additive bias -m_h (p_i - j), with query i at position p_i = S - L + i (the last
    L of S positions). Keys after the query get a positive value here; a causal mask removes them."""
    i = torch.arange(L, device=slopes.device).unsqueeze(1) + (S - L)
    j = torch.arange(S, device=slopes.device).unsqueeze(0)
    return -slopes.view(-1, 1, 1) * (i - j).to(slopes.dtype)                      # (H, L, S)
