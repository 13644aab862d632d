"""Mamba's selective scan (Gu & Dao 2023, Algorithm 2 and Section 3.5 / Eq. 4).

Notation (the paper's, and the official ``selective_scan_ref``'s): b batch, d channels
(E*D_model in the paper), n state size, L length.

    delta_t = softplus(delta_t + delta_bias)            (when delta_softplus)
    A_bar_t = exp(delta_t * A)                          zero-order hold, Eq. 4
    B_bar_t u_t = delta_t * B_t * u_t                   the simplified (Euler) B of the paper
    h_t = A_bar_t * h_(t-1) + B_bar_t u_t               (b, d, n) per step
    y_t = C_t . h_t + D * u_t,   y = y * silu(z)

Shapes: u, delta, z (b, d, L); A (d, n); B, C (b, n, L) for the selective (input-dependent)
case or (d, n) for a time-invariant SSM; D, delta_bias (d,); output (b, d, L); last state
(b, d, n).

:func:`selective_scan_ref` loops over L (the slow, obviously correct twin); :func:`selective_scan`
computes all A_bar, B_bar u at once and runs the chunked :func:`linear_scan`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .scan import scan_time_major


def _check(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor) -> None:
    if u.dim() != 3:
        raise ValueError(f"u must be (batch, d, L), got shape {tuple(u.shape)}")
    if delta.shape != u.shape:
        raise ValueError(f"delta must have u's shape {tuple(u.shape)}, got {tuple(delta.shape)}")
    b, d, L = u.shape
    if A.shape[0] != d or A.dim() != 2:
        raise ValueError(f"A must be (d={d}, n), got {tuple(A.shape)}")
    n = A.shape[1]
    for name, M in (("B", B), ("C", C)):
        if M.shape not in ((b, n, L), (d, n)):
            raise ValueError(f"{name} must be (batch={b}, n={n}, L={L}) or (d={d}, n={n}), got {tuple(M.shape)}")


def _prepare(u, delta, A, B, C, delta_bias, delta_softplus):
    _check(u, delta, A, B, C)
    if delta_bias is not None:
        delta = delta + delta_bias[None, :, None]
    if delta_softplus:
        delta = F.softplus(delta)
    return delta


def _finish(y: Tensor, u: Tensor, D: Tensor | None, z: Tensor | None) -> Tensor:
    if D is not None:
        y = y + D[None, :, None] * u
    if z is not None:
        y = y * F.silu(z)
    return y


def selective_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None,
                   z: Tensor | None = None, delta_bias: Tensor | None = None, delta_softplus: bool = False,
                   return_last_state: bool = False, impl: str = "auto", h0: Tensor | None = None):
    """Fast selective scan; same arguments and results as :func:`selective_scan_ref`.

    ``h0`` (b, d, n), beyond the reference interface: the state before the first step (to
    continue a sequence, e.g. across truncated-BPTT segments); gradients flow into it.

    ``impl``: ``"cpu"`` the fused numba kernel (CPU, float32/64, selective B and C),
    ``"chunked"`` the device-generic chunked scan, ``"auto"`` the kernel where it applies.
    """
    if impl not in ("auto", "cpu", "chunked"):
        raise ValueError(f"impl must be 'auto', 'cpu' or 'chunked', got {impl!r}")
    delta = _prepare(u, delta, A, B, C, delta_bias, delta_softplus)
    from . import selective_scan_cpu as cpu

    if impl == "cpu" or (impl == "auto" and cpu.available(u, B, C)):
        if not cpu.available(u, B, C):
            raise ValueError("impl='cpu' needs CPU float tensors with B, C of shape (batch, n, L)")
        h_init = h0 if h0 is not None else u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
        y, last = cpu.SelectiveScanCPU.apply(u, delta, A, B, C, h_init)
        out = _finish(y, u, D, z)
        return (out, last) if return_last_state else out
    # Everything time-major, (L, b, d, n), so the scan reads contiguous slices.
    dt = delta.permute(2, 0, 1)  # (L, b, d)
    a = torch.exp(dt.unsqueeze(-1) * A)  # (L, b, d, n): A_bar_t = exp(delta_t A)
    Bt = B.permute(2, 0, 1).unsqueeze(2) if B.dim() == 3 else B  # (L, b, 1, n) or (d, n)
    bu = (dt * u.permute(2, 0, 1)).unsqueeze(-1) * Bt  # (L, b, d, n): B_bar_t u_t
    h = scan_time_major(a, bu, h0)  # (L, b, d, n)
    Ct = C.permute(2, 0, 1).unsqueeze(2) if C.dim() == 3 else C  # (L, b, 1, n) or (d, n)
    y = (h * Ct).sum(-1).permute(1, 2, 0)  # (b, d, L): y_t = C_t . h_t
    out = _finish(y, u, D, z)
    return (out, h[-1]) if return_last_state else out


def selective_scan_ref(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None,
                       z: Tensor | None = None, delta_bias: Tensor | None = None, delta_softplus: bool = False,
                       return_last_state: bool = False, h0: Tensor | None = None):
    """Sequential reference: one step of the recurrence per time step."""
    delta = _prepare(u, delta, A, B, C, delta_bias, delta_softplus)
    b, d, L = u.shape
    n = A.shape[1]
    h = u.new_zeros(b, d, n) if h0 is None else h0
    ys = []
    Bs = B.unbind(-1) if B.dim() == 3 else [B] * L
    Cs = C.unbind(-1) if C.dim() == 3 else [C] * L
    # unbind rather than indexing [..., t]: see linear_scan_ref
    for delta_t, u_t, B_t, C_t in zip(delta.unbind(-1), u.unbind(-1), Bs, Cs):
        B_t = B_t[:, None] if B_t.dim() == 2 and B.dim() == 3 else B_t  # (b, 1, n) or (d, n)
        C_t = C_t[:, None] if C_t.dim() == 2 and C.dim() == 3 else C_t
        A_bar = torch.exp(delta_t[..., None] * A)  # (b, d, n)
        h = A_bar * h + (delta_t * u_t)[..., None] * B_t  # (b, d, n)
        ys.append((h * C_t).sum(-1))  # (b, d)
    y = torch.stack(ys, dim=-1)  # (b, d, L)
    out = _finish(y, u, D, z)
    return (out, h) if return_last_state else out
