"""S4D: the diagonal structured state space (Gu, Gupta, Goel & Re, NeurIPS 2022, "On the
Parameterization and Initialization of Diagonal State Space Models").

Notation: B batch, H channels (one independent SSM per channel), N state size (N/2 complex
conjugate pairs are kept; the real output is twice the real part), L length.

Continuous SSM per channel:  x'(t) = A x(t) + B u(t),  y(t) = C x(t) + D u(t),  A diagonal.
Zero-order hold with step dt (paper, Eq. (5)):
    A_bar = exp(dt A),   B_bar = (exp(dt A) - 1) / A * B
Convolution mode (training):  y = K * u + D u,  K_l = 2 Re( sum_n C_n B_bar_n A_bar_n^l )
    — a Vandermonde product, then an FFT convolution in O(L log L).
Recurrent mode (inference):   x_k = A_bar x_(k-1) + B_bar u_k,  y_k = 2 Re(C x_k) + D u_k.
B is folded into C (B = 1), as in the authors' pedagogical s4d.py.

Initialisation (paper, Section 4): S4D-Lin  A_n = -1/2 + i pi n;
S4D-Inv  A_n = -1/2 + i (N/pi) (N/(2n+1) - 1); dt log-uniform in [dt_min, dt_max].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..lm_configs import S4LMConfig
from .lm_io import embedding_and_head
from .scan import linear_scan


class S4DKernel(nn.Module):
    """Generates the S4D convolution kernel K (H, L) and the recurrent (A_bar, B_bar, C)."""

    def __init__(self, d_model: int, d_state: int = 64, dt_min: float = 1e-3, dt_max: float = 1e-1,
                 init: str = "inv"):
        super().__init__()
        if d_state < 2 or d_state % 2:
            raise ValueError(f"d_state must be an even number >= 2, got {d_state}")
        if not 0 < dt_min <= dt_max:
            raise ValueError(f"need 0 < dt_min <= dt_max, got {dt_min}, {dt_max}")
        H, N2 = d_model, d_state // 2
        log_dt = torch.rand(H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        n = torch.arange(N2, dtype=torch.float32)
        if init == "lin":
            imag = math.pi * n
        elif init == "inv":
            imag = (d_state / math.pi) * (d_state / (2 * n + 1) - 1)
        else:
            raise ValueError(f"init must be 'lin' or 'inv', got {init!r}")
        self.log_dt = nn.Parameter(log_dt)  # (H,)
        self.log_A_real = nn.Parameter(torch.log(0.5 * torch.ones(H, N2)))  # (H, N/2)
        self.A_imag = nn.Parameter(imag.repeat(H, 1))  # (H, N/2)
        # the SSM's dynamics (A, dt), not weights to shrink (the S4 repository gives them no decay)
        for p in (self.log_dt, self.log_A_real, self.A_imag):
            p._no_weight_decay = True
        C = torch.randn(H, N2, dtype=torch.cfloat) * math.sqrt(0.5)
        self.C = nn.Parameter(torch.view_as_real(C))  # (H, N/2, 2)

    def _dtA(self) -> tuple[Tensor, Tensor]:
        A = -torch.exp(self.log_A_real) + 1j * self.A_imag  # (H, N/2)
        return A, A * torch.exp(self.log_dt)[:, None]  # A, dt A

    def discrete(self) -> tuple[Tensor, Tensor, Tensor]:
        """(A_bar, B_bar, C), each complex (H, N/2)."""
        A, dtA = self._dtA()
        A_bar = torch.exp(dtA)
        B_bar = (A_bar - 1.0) / A  # ZOH with B = 1
        return A_bar, B_bar, torch.view_as_complex(self.C)

    def forward(self, L: int) -> Tensor:
        A, dtA = self._dtA()
        C = torch.view_as_complex(self.C)
        B_bar = (torch.exp(dtA) - 1.0) / A
        vander = torch.exp(dtA.unsqueeze(-1) * torch.arange(L, device=dtA.device))  # (H, N/2, L)
        return 2 * torch.einsum("hn,hnl->hl", C * B_bar, vander).real  # (H, L)


def fft_conv(u: Tensor, K: Tensor) -> Tensor:
    """Causal convolution y_t = sum_(s<=t) K_s u_(t-s) via FFT; u (B, H, L), K (H, L)."""
    L = u.shape[-1]
    n = 2 * L  # zero-pad so the circular convolution is linear
    y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(K, n=n), n=n)[..., :L]
    return y


class S4D(nn.Module):
    """The S4D layer: y = K * u + D u (convolution mode) or step by step (recurrent mode)."""

    def __init__(self, d_model: int, d_state: int = 64, **kernel_args):
        super().__init__()
        self.kernel = S4DKernel(d_model, d_state, **kernel_args)
        self.D = nn.Parameter(torch.randn(d_model))
        self.D._no_weight_decay = True

    def forward(self, u: Tensor, state: Tensor | None = None, return_state: bool = False):
        """u (B, H, L) -> y (B, H, L), convolution mode. ``state`` (B, H, N/2) complex continues
        a sequence; ``return_state`` also returns the state after the last step. Both follow from
        unrolling the recurrence: with x_(-1) = state,
            y_k += 2 Re(C A_bar^(k+1) state),   x_(L-1) = A_bar^L state + sum_k A_bar^(L-1-k) B_bar u_k
        — two more Vandermonde products, so carrying state costs O(B H N L), no scan."""
        L = u.shape[-1]
        y = fft_conv(u, self.kernel(L)) + self.D[:, None] * u
        if state is None and not return_state:
            return y
        A_bar, B_bar, C = self.kernel.discrete()  # (H, N/2)
        powers = torch.exp(torch.log(A_bar).unsqueeze(-1) * torch.arange(L + 1, device=u.device))  # (H, N/2, L+1): A_bar^l
        if state is not None:
            y = y + 2 * torch.einsum("hn,bhn,hnl->bhl", C, state, powers[..., 1:]).real
        if not return_state:
            return y
        last = torch.einsum("bhl,hnl->bhn", u.to(powers.dtype), powers[..., :L].flip(-1)) * B_bar  # sum_k A^(L-1-k) B u_k
        if state is not None:
            last = last + powers[..., L] * state
        return y, last

    def forward_recurrent(self, u: Tensor) -> Tensor:
        """The same output as :meth:`forward` through the recurrence (one linear scan)."""
        A_bar, B_bar, C = self.kernel.discrete()  # (H, N/2)
        b = B_bar[None, :, :, None] * u.unsqueeze(2).to(B_bar.dtype)  # (B, H, N/2, L)
        x = linear_scan(A_bar[None, :, :, None], b)  # (B, H, N/2, L)
        y = 2 * torch.einsum("hn,bhnl->bhl", C, x).real
        return y + self.D[:, None] * u

    def step(self, u_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One recurrent step: u_t (B, H) -> y_t (B, H), new state (B, H, N/2) complex."""
        A_bar, B_bar, C = self.kernel.discrete()
        if state is None:
            state = torch.zeros(u_t.shape[0], *A_bar.shape, dtype=A_bar.dtype, device=u_t.device)
        state = A_bar * state + B_bar * u_t.unsqueeze(-1)
        y = 2 * (state * C).sum(-1).real + self.D * u_t
        return y, state


@dataclass(frozen=True)
class S4BlockConfig:
    d_model: int = 128
    d_state: int = 64
    dropout: float = 0.0
    init: str = "inv"
    prenorm: bool = True


class S4Block(nn.Module):
    """x + Dropout(GLU(Linear(Dropout(GELU(S4D(Norm(x))))))) — the block of the S4 repository
    (SSM, activation, output gating, residual, norm, dropout). x (B, L, H) -> (B, L, H)."""

    def __init__(self, cfg: S4BlockConfig):
        super().__init__()
        self.cfg = cfg
        self.norm = nn.LayerNorm(cfg.d_model)
        self.ssm = S4D(cfg.d_model, cfg.d_state, init=cfg.init)
        self.out = nn.Linear(cfg.d_model, 2 * cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor, state: Tensor | None = None, return_state: bool = False):
        z = self.norm(x) if self.cfg.prenorm else x
        z, last = self.ssm(z.transpose(1, 2), state, return_state=True)
        z = self.drop(F.gelu(z.transpose(1, 2)))  # (B, L, H)
        z = F.glu(self.out(z), dim=-1)  # output gating
        x = x + self.drop(z)
        x = x if self.cfg.prenorm else self.norm(x)
        return (x, last) if return_state else x


class S4LM(nn.Module):
    """Embedding, num_layers x S4Block, LayerNorm, linear head; ``forward(tokens, state)``
    returns the logits and the per-layer SSM states, so a stream can be processed in segments
    (the LM contract of :mod:`groundup.nn.lm_configs`)."""

    def __init__(self, cfg: S4LMConfig, vocab_size: int):
        super().__init__()
        self.cfg = cfg
        self.embedding, self.head = embedding_and_head(vocab_size, cfg.d_model, cfg.tie_weights)
        block = S4BlockConfig(d_model=cfg.d_model, d_state=cfg.d_state, dropout=cfg.dropout)
        self.blocks = nn.ModuleList(S4Block(block) for _ in range(cfg.num_layers))
        self.norm = nn.LayerNorm(cfg.d_model)

    def forward(self, tokens: Tensor, state: list | None = None):
        x = self.embedding(tokens)
        new = []
        for i, b in enumerate(self.blocks):
            x, s = b(x, state[i] if state is not None else None, return_state=True)
            new.append(s)
        return self.head(self.norm(x)), new
