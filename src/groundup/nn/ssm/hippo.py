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
* ``fout`` — truncated Fourier on the window [t - 1, t] with the basis 1, sqrt2 cos(2 pi k y),
  sqrt2 sin(2 pi k y), y = s - (t - 1) in [0, 1] (paper App. D.4). Differentiating
  c_n(t) = int_(t-1)^t f(s) g_n(s - t + 1) ds gives, exactly,
      dc/dt = R c + B (f(t) - f(t-1)),  R[cos_k, sin_k] = 2 pi k,  R[sin_k, cos_k] = -2 pi k,
      B = g(0) = g(1) = (1, sqrt2, 0, sqrt2, 0, ...).
  The value leaving the window, f(t-1), is not in the state and is replaced by a reconstruction.
  The periodic extension of f on the window jumps from f(t) to f(t-1) at y = 0, where a truncated
  Fourier series converges to the *midpoint* (f(t-1) + f(t)) / 2, not to f(t-1); so
  f(t-1) ~= 2 B^T c - f(t), and
      dc/dt = (R - 2 B B^T) c + 2 B f(t).
  (Substituting f(t-1) ~= B^T c instead gives R - B B^T and leaves an O(1) error on any signal that
  is not periodic in the window. The state-spaces reference has the doubled correction in its
  ``fourier2`` variant, "orthonormal on [0, 1]"; its ``fout`` is the same system on a window of
  length 2.) The state holds the constant and K = (N - 1) // 2 cos/sin pairs: for even N the last
  coordinate would be a cosine whose sine partner is missing, and d c_cos_k / dt needs c_sin_k, so
  that coordinate is kept at zero (A and B zero there) rather than let it integrate garbage into
  the endpoint estimate B^T c (the reference pads with a zero-frequency sine for the same reason).

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
        K = (N - 1) // 2  # complete (cos_k, sin_k) pairs at indices (2k - 1, 2k)
        B = np.zeros(N)
        B[0] = 1.0
        B[1:2 * K:2] = math.sqrt(2)  # sqrt2 cos(0) ; the sines vanish at y = 0
        R = np.zeros((N, N))
        for kk in range(1, K + 1):
            R[2 * kk - 1, 2 * kk] = 2 * math.pi * kk
            R[2 * kk, 2 * kk - 1] = -2 * math.pi * kk
        A = R - 2 * np.outer(B, B)  # f(t-1) ~= 2 B^T c - f(t): the series' value at the jump
        B = 2 * B
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

    ``legs`` runs on the sample clock t = k + 1 (step k covers (k, k+1]): with ``bilinear`` (the
    paper's discrete LegS) step k uses A/t, B/t; with ``zoh`` it is exact for the input held at
    f_k over the step: the LegS ODE dc/dt = (1/t)(A c + B f) is time-invariant in tau = log t, so
        c_k = exp(A dtau) c_(k-1) + A^-1 (exp(A dtau) - I) B f_k,   dtau = log((k+1)/k),
    and the first step (dtau = inf) gives the projection of a constant, c_0 = e_0 f_0 (A e_0 = -B).
    The other measures use a fixed step ``dt`` (default 1/L: the window theta = 1 spans the
    whole signal). Under ``zoh`` the state encodes the step function whose value on the cell
    (k dt, (k+1) dt] is f_k, so compare its reconstruction with f_k at the cell centre
    (k + 1/2) dt; the bilinear clock has no such exact reading and an O(dt) error that falls
    mostly on the far past for LegS (its first steps are long in log t).
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
            elif method == "zoh":
                if k == 0:
                    c = f[0] * I[0]
                else:
                    Ab, Bb = discretize(A, B, math.log(t / k), "zoh")
                    c = Ab @ c + Bb * f[k]
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
