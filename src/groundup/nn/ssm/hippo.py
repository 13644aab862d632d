"""HiPPO: optimal online polynomial projection (Gu, Dao, Ermon, Rudra & Re, NeurIPS 2020).

Keep N coefficients c(t) of the projection of a signal's history f(s <= t) onto an orthogonal
basis under a measure mu^(t); HiPPO shows c(t) obeys a linear ODE.

Sign convention (the interface's): dc/dt = A c + B f, so A is returned *negative* (stable);
the paper writes dc/dt = -A c + B f with A positive.

* ``legs`` — scaled Legendre, uniform measure on [0, t] (the whole history, timescale-free).
  Time-varying: dc/dt = (1/t) (A c + B f), with (paper, Eq. (2) / Thm 2)
      A_nk = -sqrt(2n+1) sqrt(2k+1) (n > k),  -(n+1) (n = k),  0 (n < k);   B_n = sqrt(2n+1).
  Reconstruction: f(s) ~= sum_n c_n sqrt(2n+1) P_n(2s/t - 1),  s in [0, t].
* ``legt`` — translated Legendre, uniform measure on the window [t - theta, t] (theta = 1), the
  LMU form (Voelker et al. 2019; HiPPO Appendix D.1):
      A_nk = -(2n+1) * ((-1)^(n-k) if n >= k else 1);   B_n = (2n+1) (-1)^n.
  Reconstruction: f(t - r theta) ~= sum_n c_n P_n(2r - 1), r in [0, 1] the delay.
* ``lagt`` — Laguerre, exponentially decaying measure e^-(t-s) on (-inf, t] (paper, App. D.2):
      A_nk = -1 (n >= k), 0 otherwise;  B_n = 1.   f(s) ~= sum_n c_n L_n(t - s).
* ``fout`` — truncated Fourier on [t - 1, t] with the basis 1, sqrt2 cos(2 pi k x),
  sqrt2 sin(2 pi k x) (paper App. D.4; the "other endpoint" f(t-1) is replaced by its
  reconstruction, which gives the rank-one correction -B B^T):
      A = R - B B^T,  R[cos_k, sin_k] = 2 pi k,  R[sin_k, cos_k] = -2 pi k;  B = g(0).

Discretisation of dc/dt = A c + B f with step dt (:func:`discretize`):
    euler           A_bar = I + dt A,                  B_bar = dt B
    backward_euler  A_bar = (I - dt A)^-1,             B_bar = (I - dt A)^-1 dt B
    bilinear        A_bar = (I - dt/2 A)^-1 (I + dt/2 A), B_bar = (I - dt/2 A)^-1 dt B
    zoh             A_bar = exp(dt A),                 B_bar = A^-1 (exp(dt A) - I) B
(zoh via the exponential of the augmented matrix [[A, B], [0, 0]], so A need not be invertible).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

MEASURES = ("legs", "legt", "lagt", "fout")
METHODS = ("euler", "backward_euler", "bilinear", "zoh")


def transition(measure: str, N: int, dtype=torch.float64) -> tuple[Tensor, Tensor]:
    """Continuous-time (A, B) of HiPPO with dc/dt = A c + B f; A (N, N), B (N,)."""
    if N < 1:
        raise ValueError(f"N must be >= 1, got {N}")
    n = np.arange(N)[:, None].astype(np.float64)
    k = np.arange(N)[None, :].astype(np.float64)
    if measure == "legs":
        r = np.sqrt(2 * np.arange(N) + 1.0)
        A = -np.where(n > k, r[:, None] * r[None, :], np.where(n == k, n + 1, 0.0))
        B = r.copy()
    elif measure == "legt":
        A = -(2 * n + 1) * np.where(n >= k, (-1.0) ** (n - k), 1.0)
        B = (2 * np.arange(N) + 1.0) * (-1.0) ** np.arange(N)
    elif measure == "lagt":
        A = -np.where(n >= k, 1.0, 0.0)
        B = np.ones(N)
    elif measure == "fout":
        B = np.zeros(N)
        B[0] = 1.0
        B[1::2] = math.sqrt(2)  # cos terms: sqrt2 cos(0) ; sin terms vanish at 0
        R = np.zeros((N, N))
        for j in range(1, N, 2):  # index j = cos_k, j+1 = sin_k with k = (j+1)//2
            kk = (j + 1) // 2
            if j + 1 < N:
                R[j, j + 1] = 2 * math.pi * kk
                R[j + 1, j] = -2 * math.pi * kk
        A = R - np.outer(B, B)
    else:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    return torch.tensor(A, dtype=dtype), torch.tensor(B, dtype=dtype)


def discretize(A: Tensor, B: Tensor, dt: float, method: str = "bilinear") -> tuple[Tensor, Tensor]:
    """Discrete (A_bar, B_bar) so that c_k = A_bar c_(k-1) + B_bar f_k."""
    if dt <= 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    N = A.shape[-1]
    I = torch.eye(N, dtype=A.dtype)
    if method == "euler":
        return I + dt * A, dt * B
    if method == "backward_euler":
        inv = torch.linalg.inv(I - dt * A)
        return inv, dt * inv @ B
    if method == "bilinear":
        inv = torch.linalg.inv(I - dt / 2 * A)
        return inv @ (I + dt / 2 * A), dt * inv @ B
    if method == "zoh":
        M = torch.zeros(N + 1, N + 1, dtype=A.dtype)
        M[:N, :N] = A
        M[:N, N] = B
        E = torch.linalg.matrix_exp(dt * M)
        return E[:N, :N], E[:N, N]
    raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def project_online(f: Tensor, measure: str, N: int, dt: float | None = None,
                   method: str = "bilinear") -> Tensor:
    """Feed samples f_0..f_(L-1) one by one; return the coefficients after each step, (L, N).

    For ``legs`` the step k uses A/k, B/k (the time-varying ODE sampled at t = k), the paper's
    discrete LegS; the other measures use a fixed step ``dt`` (default 1/L: the window theta = 1
    spans the whole signal).
    """
    f = torch.as_tensor(f, dtype=torch.float64)
    L = f.shape[0]
    A, B = transition(measure, N)
    c = torch.zeros(N, dtype=torch.float64)
    out = torch.empty(L, N, dtype=torch.float64)
    if measure == "legs":
        I = torch.eye(N, dtype=torch.float64)
        for k in range(L):
            t = k + 1
            if method == "bilinear":  # (I - A/(2t)) c_k = (I + A/(2t)) c_(k-1) + B/t f_k
                lhs = I - A / (2 * t)
                c = torch.linalg.solve(lhs, (I + A / (2 * t)) @ c + B / t * f[k])
            else:
                Ab, Bb = discretize(A, B, 1.0 / t, method)
                c = Ab @ c + Bb * f[k]
            out[k] = c
        return out
    Ab, Bb = discretize(A, B, dt if dt is not None else 1.0 / L, method)
    for k in range(L):
        c = Ab @ c + Bb * f[k]
        out[k] = c
    return out


def _legendre(n_max: int, x: Tensor) -> Tensor:
    """P_0..P_(n_max-1) at x by Bonnet's recursion, (n_max, len(x))."""
    P = [torch.ones_like(x), x]
    for n in range(1, n_max - 1):
        P.append(((2 * n + 1) * x * P[n] - n * P[n - 1]) / (n + 1))
    return torch.stack(P[:n_max])


def _laguerre(n_max: int, x: Tensor) -> Tensor:
    L = [torch.ones_like(x), 1 - x]
    for n in range(1, n_max - 1):
        L.append(((2 * n + 1 - x) * L[n] - n * L[n - 1]) / (n + 1))
    return torch.stack(L[:n_max])


def reconstruct(c: Tensor, measure: str, s: Tensor, t: float = 1.0, theta: float = 1.0) -> Tensor:
    """Evaluate the history encoded by coefficients ``c`` (N,) at past times ``s`` (<= t).

    ``legs``: s in [0, t]; ``legt``/``fout``: s in [t - theta, t]; ``lagt``: s <= t.
    """
    N = c.shape[-1]
    s = torch.as_tensor(s, dtype=torch.float64)
    if measure == "legs":
        x = 2 * s / t - 1
        basis = torch.sqrt(2 * torch.arange(N, dtype=torch.float64) + 1)[:, None] * _legendre(N, x)
    elif measure == "legt":
        r = (t - s) / theta  # delay as a fraction of the window, 0 = now
        basis = _legendre(N, 2 * r - 1)  # Voelker's shifted Legendre P_n(2r - 1)
    elif measure == "lagt":
        basis = _laguerre(N, t - s)
    elif measure == "fout":
        y = (s - (t - theta)) / theta  # in [0, 1]
        rows = [torch.ones_like(y)]
        for j in range(1, N):
            kk = (j + 1) // 2
            rows.append(math.sqrt(2) * (torch.cos(2 * math.pi * kk * y) if j % 2 == 1 else torch.sin(2 * math.pi * kk * y)))
        basis = torch.stack(rows)
    else:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    return c @ basis
