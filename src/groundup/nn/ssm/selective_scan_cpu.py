"""A fused CPU kernel for the selective scan (numba), forward and backward.

Why: on CPU the chunked scan in :mod:`.selective_scan` still materialises several (L, b, d, n)
tensors (A_bar, B_bar u, h, their gradients) and is bound by memory traffic; the benchmark
(benchmarks/bench_ssm_scan.py) showed it about 2-3x faster than the sequential loop, short of the
5x we want. This kernel does what Mamba's CUDA kernel does on GPU: it computes A_bar and B_bar u
on the fly inside the loop and never materialises them. One (batch, channel) pair per task,
parallel over the pairs (numba prange, as many threads as torch uses; serial at one thread).

Forward, per (b, d), for t = 0 .. L-1 and each state n:
    h_n = exp(delta_t A_dn) h_n + delta_t u_t B_tn,    y_t = sum_n C_tn h_n
Backward, t = L-1 .. 0, with g_n the gradient flowing into h_n (from y and from h_(t+1)):
    g_n += dy_t C_tn;  dC_tn = dy_t h_n(t)
    ddelta_t += g_n (h_n(t-1) a_n A_dn + u_t B_tn);   dA_dn += g_n h_n(t-1) a_n delta_t
    du_t += g_n delta_t B_tn;  dB_tn += g_n delta_t u_t;   g_n <- g_n a_n
The states h(t) are kept from the forward pass ((b, d, L, n), as the chunked path keeps them too).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

_KERNELS: dict = {}


def _build(parallel: bool = True):
    """The (forward, backward) kernels; ``parallel=False`` compiles the same loops serially
    (prange runs as range), so a one-thread run never starts numba's thread pool."""
    if parallel in _KERNELS:
        return _KERNELS[parallel]
    from numba import njit, prange

    @njit(parallel=parallel, cache=True)
    def fwd(u, delta, A, Bt, Ct, h0, y, hs):  # Bt, Ct (b, L, n); h0 (b, d, n); hs (b, d, L, n)
        nb, nd, L = u.shape
        N = A.shape[1]
        for idx in prange(nb * nd):
            b = idx // nd
            d = idx % nd
            h = h0[b, d].copy()
            for t in range(L):
                dt = delta[b, d, t]
                x = dt * u[b, d, t]
                acc = 0.0
                for n in range(N):
                    h[n] = np.exp(dt * A[d, n]) * h[n] + x * Bt[b, t, n]
                    acc += h[n] * Ct[b, t, n]
                    hs[b, d, t, n] = h[n]
                y[b, d, t] = acc

    @njit(parallel=parallel, cache=True)
    def bwd(u, delta, A, Bt, Ct, h0, hs, dy, dlast, du, ddelta, dA_part, dB_part, dC_part, dh0):
        nb, nd, L = u.shape
        N = A.shape[1]
        for idx in prange(nb * nd):
            b = idx // nd
            d = idx % nd
            g = dlast[b, d].copy()  # gradient into the last state h(L-1)
            for t in range(L - 1, -1, -1):
                dt = delta[b, d, t]
                ut = u[b, d, t]
                gy = dy[b, d, t]
                acc_delta = 0.0
                acc_u = 0.0
                for n in range(N):
                    dC_part[b, d, t, n] = gy * hs[b, d, t, n]
                    g[n] += gy * Ct[b, t, n]
                    a = np.exp(dt * A[d, n])
                    hp = hs[b, d, t - 1, n] if t > 0 else h0[b, d, n]
                    ga = g[n] * hp * a
                    acc_delta += ga * A[d, n] + g[n] * ut * Bt[b, t, n]
                    dA_part[b, d, n] += ga * dt
                    acc_u += g[n] * dt * Bt[b, t, n]
                    dB_part[b, d, t, n] = g[n] * dt * ut
                    g[n] *= a
                du[b, d, t] = acc_u
                ddelta[b, d, t] = acc_delta
            for n in range(N):  # after t = 0, g holds dL/dh(-1)
                dh0[b, d, n] = g[n]

    _KERNELS[parallel] = (fwd, bwd)
    return _KERNELS[parallel]


def available(u: Tensor, B: Tensor, C: Tensor) -> bool:
    if u.device.type != "cpu" or u.dtype not in (torch.float32, torch.float64):
        return False
    if B.dim() != 3 or C.dim() != 3:
        return False
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


def _threads() -> int:
    """The kernels use as many threads as torch is set to (``torch.set_num_threads``)."""
    import numba

    return max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))


def _kernels():
    """At one thread, the serial build: numba's OpenMP pool, once started, spins beside torch's
    own and on a busy 2-core machine made a Mamba training step 3.3x slower (measured)."""
    import numba

    n = _threads()
    if n == 1:
        return _build(parallel=False)
    numba.set_num_threads(n)
    return _build(parallel=True)


def _np(t: Tensor) -> np.ndarray:
    return t.detach().contiguous().numpy()


class SelectiveScanCPU(torch.autograd.Function):
    """y_core (b, d, L) and the last state (b, d, n) from u, delta (b, d, L), A (d, n),
    B, C (b, n, L) and the initial state h0 (b, d, n)."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, h0):
        fwd, _ = _kernels()
        dtype = u.dtype
        delta, A, B, C, h0 = (x.to(dtype) for x in (delta, A, B, C, h0))
        Bt, Ct = B.transpose(1, 2).contiguous(), C.transpose(1, 2).contiguous()  # (b, L, n)
        b, d, L = u.shape
        y = torch.empty(b, d, L, dtype=dtype)
        hs = torch.empty(b, d, L, A.shape[1], dtype=dtype)
        fwd(_np(u), _np(delta), _np(A), Bt.numpy(), Ct.numpy(), _np(h0), y.numpy(), hs.numpy())
        ctx.save_for_backward(u, delta, A, Bt, Ct, h0, hs)
        return y, hs[:, :, -1].clone()

    @staticmethod
    def backward(ctx, dy, dlast):
        _, bwd = _kernels()
        u, delta, A, Bt, Ct, h0, hs = ctx.saved_tensors
        b, d, L = u.shape
        N = A.shape[1]
        dlast = torch.zeros(b, d, N, dtype=u.dtype) if dlast is None else dlast.to(u.dtype)
        du, ddelta = torch.empty_like(u), torch.empty_like(u)
        dA_part = torch.zeros(b, d, N, dtype=u.dtype)
        dB_part = torch.empty(b, d, L, N, dtype=u.dtype)
        dC_part = torch.empty(b, d, L, N, dtype=u.dtype)
        dh0 = torch.empty(b, d, N, dtype=u.dtype)
        bwd(_np(u), _np(delta), _np(A), _np(Bt), _np(Ct), _np(h0), _np(hs), _np(dy.to(u.dtype)), _np(dlast),
            du.numpy(), ddelta.numpy(), dA_part.numpy(), dB_part.numpy(), dC_part.numpy(), dh0.numpy())
        dB = dB_part.sum(1).transpose(1, 2)  # (b, n, L)
        dC = dC_part.sum(1).transpose(1, 2)
        return du, ddelta, dA_part.sum(0), dB, dC, dh0
