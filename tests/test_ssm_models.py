"""HiPPO closed forms and memory, S4D convolution = recurrence, Mamba step = parallel,
LRU scan = loop, RetNet's three retention forms agree."""
from __future__ import annotations

import math

import pytest
import torch

from groundup.nn.ssm import hippo
from groundup.nn.ssm.linear import (LRU, retention_chunkwise, retention_parallel, retention_recurrent,
                                    retnet_gammas)
from groundup.nn.lm_configs import LRULMConfig, MambaConfig, RetNetLMConfig, S4LMConfig
from groundup.nn.ssm.mamba import MambaLM
from groundup.nn.ssm.s4 import S4D, S4Block, S4BlockConfig


def test_legs_closed_form_entries():
    A, B = hippo.transition("legs", 4)
    # by hand from A_nk = sqrt(2n+1) sqrt(2k+1) (n>k), n+1 (n=k), 0 (n<k), negated
    assert A[0, 0] == -1 and A[1, 1] == -2 and A[3, 3] == -4
    assert A[1, 0] == pytest.approx(-math.sqrt(3))
    assert A[2, 1] == pytest.approx(-math.sqrt(15))
    assert A[3, 0] == pytest.approx(-math.sqrt(7))
    assert torch.all(torch.triu(A, 1) == 0)
    torch.testing.assert_close(B, torch.sqrt(torch.tensor([1.0, 3, 5, 7], dtype=torch.float64)))
    for n in range(4):
        for k in range(4):
            want = -(math.sqrt(2 * n + 1) * math.sqrt(2 * k + 1) if n > k else (n + 1 if n == k else 0))
            assert A[n, k].item() == pytest.approx(want)


def _signal(L):
    s = torch.linspace(0, 1, L + 1, dtype=torch.float64)[1:]
    return s, torch.sin(6 * s) + 0.5 * torch.cos(13 * s**2)


def _rmse_at_cell_centres(measure, f, s, N):
    """Online zoh coefficients after the whole signal, read at the cells' centres: RMS error
    (LagT weighted by its measure e^-(t-s))."""
    L = f.shape[0]
    c = hippo.project_online(f, measure, N, method="zoh")[-1]
    g = hippo.reconstruct(c, measure, s - 0.5 / L, t=1.0)
    w = torch.exp(-(1 - s)) if measure == "lagt" else torch.ones_like(s)
    return ((((g - f) ** 2) * w).sum() / w.sum()).sqrt().item()


@pytest.mark.parametrize("measure,Ns,last", [
    ("legs", (4, 8, 16), 1e-3), ("legt", (4, 8, 16), 0.05), ("lagt", (4, 16, 64), 0.35),
    ("fout", (5, 9, 17, 33), 0.05)])
def test_reconstruction_error_falls_with_N(measure, Ns, last):
    # a smooth signal; the window (LegT, FouT) spans it all. Measured (L=1000): legs 0.26, 0.16,
    # 3e-4; legt 0.31, 0.17, 0.027; lagt 0.70, 0.44, 0.27; fout 0.24, 0.086, 0.051, 0.031
    # (FouT falls as ~1/sqrt(N): the signal's periodic extension jumps from f(1) to f(0), where a
    # Fourier series converges slowly). Before the FouT fix it stayed near 0.38 for every N.
    s, f = _signal(1000)
    errs = [_rmse_at_cell_centres(measure, f, s, N) for N in Ns]
    assert all(a > b for a, b in zip(errs, errs[1:])), errs
    assert errs[-1] < last, errs


def test_fout_follows_the_window_projection_of_a_non_periodic_signal():
    # the online FouT coefficients against the exact Fourier coefficients of the last window,
    # computed by quadrature. With the endpoint estimate f(t-1) ~= B^T c (no factor 2) they are
    # off by 0.27 (measured); with 2 B^T c - f(t) by 0.011, what is left of the Gibbs effect at N=33
    L, W, N = 2000, 1000, 33
    s = torch.linspace(0, 2, L + 1, dtype=torch.float64)[1:]
    f = torch.sin(5 * s) + 0.3 * s**2
    c = hippo.project_online(f, "fout", N, dt=1 / W, method="zoh")[-1]
    y = (torch.arange(20000, dtype=torch.float64) + 0.5) / 20000  # midpoint rule on the window
    fy = torch.sin(5 * (1 + y)) + 0.3 * (1 + y) ** 2
    basis = hippo.reconstruct(torch.eye(N, dtype=torch.float64), "fout", y, t=1.0)  # (N, len(y))
    c_opt = (basis * fy).mean(dim=1)
    assert (c - c_opt).abs().max().item() < 0.02


def test_fout_even_N_keeps_only_complete_pairs():
    # N = 8 holds the constant and 3 (cos, sin) pairs, like N = 7; its last coordinate (a cosine
    # without its sine) stays zero instead of integrating the window difference into B^T c
    _, f = _signal(300)
    c7 = hippo.project_online(f, "fout", 7, method="zoh")
    c8 = hippo.project_online(f, "fout", 8, method="zoh")
    torch.testing.assert_close(c8[:, :7], c7, rtol=1e-12, atol=1e-12)
    assert c8[:, 7].abs().max().item() == 0


def test_legs_zoh_is_the_exact_projection_of_the_step_function():
    # sample k holds over the cell (k/L, (k+1)/L]; the exact coefficients of that step function
    # on [0, 1] use int P_n = (P_(n+1) - P_(n-1)) / (2n + 1). A constant is a step function,
    # so it is kept exactly: c = (f_0, 0, 0, ...) after every step (bilinear is not exact here)
    L, N = 50, 12
    const = hippo.project_online(torch.full((L,), 3.0, dtype=torch.float64), "legs", N, method="zoh")
    torch.testing.assert_close(const, 3.0 * torch.eye(N, dtype=torch.float64)[0].expand(L, N),
                               rtol=0, atol=1e-12)
    f = torch.randn(L, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = torch.linspace(-1, 1, L + 1, dtype=torch.float64)  # cell edges, 2s - 1
    P = hippo._legendre(N + 1, x)  # (N + 1, L + 1)
    n = torch.arange(1, N, dtype=torch.float64)[:, None]
    anti = torch.cat([x[None], (P[2:N + 1] - P[0:N - 1]) / (2 * n + 1)])  # antiderivatives, (N, L + 1)
    exact = torch.sqrt(2 * torch.arange(N, dtype=torch.float64) + 1) / 2 * ((anti[:, 1:] - anti[:, :-1]) @ f)
    online = hippo.project_online(f, "legs", N, method="zoh")[-1]
    torch.testing.assert_close(online, exact, rtol=1e-9, atol=1e-9)


def test_legs_is_timescale_robust():
    # the same signal over 500 and over 1000 samples: LegS sees the same history at t = end
    _, f1 = _signal(500)
    _, f2 = _signal(1000)
    c1 = hippo.project_online(f1, "legs", 16)[-1]
    c2 = hippo.project_online(f2, "legs", 16)[-1]
    assert (c1 - c2).abs().max().item() < 5e-3
    # while a fixed-step LegT with window 200 steps remembers a different stretch of the signal
    l1 = hippo.project_online(f1, "legt", 16, dt=1 / 200)[-1]
    l2 = hippo.project_online(f2, "legt", 16, dt=1 / 200)[-1]
    assert (l1 - l2).abs().max().item() > 10 * (c1 - c2).abs().max().item()


def test_discretizations():
    A, B = hippo.transition("legt", 6)
    Az, Bz = hippo.discretize(A, B, 1e-3, "zoh")
    torch.testing.assert_close(Az, torch.linalg.matrix_exp(1e-3 * A))
    torch.testing.assert_close(Bz, torch.linalg.solve(A, (Az - torch.eye(6, dtype=A.dtype)) @ B))
    # all methods agree with the exact zoh to O(dt^2) per step (euler, backward euler) or
    # O(dt^3) (bilinear): at dt = 1e-4 with |A| ~ 11 that is ~1e-6 and ~1e-11
    Az, Bz = hippo.discretize(A, B, 1e-4, "zoh")
    for m, tol in (("euler", 1e-5), ("backward_euler", 1e-5), ("bilinear", 1e-9)):
        Ad, Bd = hippo.discretize(A, B, 1e-4, m)
        assert (Ad - Az).abs().max() < tol and (Bd - Bz).abs().max() < tol, m
    # bilinear keeps the stable LegS stable at any step
    Ab, _ = hippo.discretize(*hippo.transition("legs", 32), 10.0, "bilinear")
    assert torch.linalg.eigvals(Ab).abs().max() < 1
    with pytest.raises(ValueError, match="measure must be one of"):
        hippo.transition("legx", 4)
    with pytest.raises(ValueError, match="method must be one of"):
        hippo.discretize(A, B, 0.1, "rk4")


@pytest.mark.parametrize("init", ["inv", "lin"])
def test_s4d_convolution_equals_recurrence(init):
    torch.manual_seed(0)
    m = S4D(8, 16, init=init)
    u = torch.randn(2, 8, 300)
    y_conv = m(u)
    torch.testing.assert_close(m.forward_recurrent(u), y_conv, rtol=1e-4, atol=1e-4)
    state, ys = None, []
    for t in range(u.shape[-1]):
        y, state = m.step(u[:, :, t], state)
        ys.append(y)
    torch.testing.assert_close(torch.stack(ys, -1), y_conv, rtol=1e-4, atol=1e-4)


def test_s4_block_shapes_and_grads():
    torch.manual_seed(0)
    blk = S4Block(S4BlockConfig(d_model=16, d_state=8))
    x = torch.randn(2, 50, 16, requires_grad=True)
    y = blk(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert torch.isfinite(x.grad).all() and blk.ssm.kernel.log_dt.grad is not None


def test_mamba_recurrent_step_equals_parallel_forward():
    torch.manual_seed(0)
    m = MambaLM(MambaConfig(d_model=32, num_layers=2), 50)
    tok = torch.randint(0, 50, (2, 40))
    logits, _ = m(tok)
    cache, outs = m.init_cache(2), []
    for t in range(tok.shape[1]):
        out, cache = m.step(tok[:, t], cache)
        outs.append(out)
    torch.testing.assert_close(torch.stack(outs, 1), logits, rtol=1e-4, atol=1e-4)
    # constant-memory cache: conv window (B, E, K-1) and SSM state (B, E, N)
    assert cache[0][0].shape == (2, 64, 3) and cache[0][1].shape == (2, 64, 16)
    # a prompt through the parallel pass, then steps, equals the parallel pass on everything
    head, cache = m(tok[:, :25])
    tail, _ = m(tok[:, 25:], cache)
    torch.testing.assert_close(torch.cat([head, tail], 1), logits, rtol=1e-4, atol=1e-4)
    out, _ = m.step(tok[:, 25], cache)
    torch.testing.assert_close(out, logits[:, 25], rtol=1e-4, atol=1e-4)


def test_lru_scan_equals_loop_and_is_stable():
    torch.manual_seed(0)
    m = LRU(6, 10, r_min=0.5, r_max=0.99)
    assert (m.lam().abs() < 1).all()
    x = torch.randn(2, 30, 6)
    torch.testing.assert_close(m(x), m(x, recurrent=True), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="r_min"):
        LRU(4, 4, r_min=0.9, r_max=0.5)


@pytest.mark.parametrize("chunk", [1, 7, 16, 64])
def test_retention_three_forms_agree(chunk):
    g = torch.Generator().manual_seed(chunk)
    q, k = (torch.randn(2, 3, 50, 8, generator=g, dtype=torch.float64) for _ in range(2))
    v = torch.randn(2, 3, 50, 5, generator=g, dtype=torch.float64)
    gam = retnet_gammas(3).double()
    par = retention_parallel(q, k, v, gam)
    torch.testing.assert_close(retention_recurrent(q, k, v, gam), par)
    torch.testing.assert_close(retention_chunkwise(q, k, v, gam, chunk=chunk), par)


def _segments_equal_whole(model, tokens, split):
    whole, _ = model(tokens, None)
    a, st = model(tokens[:, :split], None)
    b, _ = model(tokens[:, split:], st)
    torch.testing.assert_close(torch.cat([a, b], 1), whole, rtol=1e-4, atol=1e-4)


def test_s4_lru_and_retnet_lms_carry_state_across_segments():
    from groundup.nn.ssm.linear import LRULM
    from groundup.nn.ssm.retnet import RetNetLM
    from groundup.nn.ssm.s4 import S4LM

    torch.manual_seed(0)
    tok = torch.randint(0, 30, (2, 50))
    _segments_equal_whole(S4LM(S4LMConfig(d_model=16, num_layers=2, d_state=8), 30), tok, 17)
    _segments_equal_whole(LRULM(LRULMConfig(d_model=16, num_layers=2, d_state=8), 30), tok, 33)
    _segments_equal_whole(RetNetLM(RetNetLMConfig(d_model=16, n_heads=2, num_layers=2, d_ff=32), 30), tok, 21)
