"""RWKV-4: the stable recurrence equals the paper's formula, the chunked/parallel form equals the
recurrence in values and gradients (float64), streaming in segments equals one pass."""
from __future__ import annotations

import math

import pytest
import torch

from groundup.nn.lm_configs import RWKVConfig
from groundup.nn.ssm.rwkv import RWKVLM, wkv_chunked, wkv_recurrent


def wkv_formula(w, u, k, v):
    """Eq. (14) literally: sum over i < t of e^(-(t-1-i) w + k_i) v_i plus e^(u + k_t) v_t, over
    the same sum of weights. Overflows for large k; the reference for small inputs."""
    T = k.shape[1]
    out = []
    for t in range(T):
        num = torch.exp(u + k[:, t]) * v[:, t]
        den = torch.exp(u + k[:, t])
        for i in range(t):
            e = torch.exp(-(t - 1 - i) * w + k[:, i])
            num, den = num + e * v[:, i], den + e
        out.append(num / den)
    return torch.stack(out, 1)


def _inputs(B=2, T=11, C=5, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    w_log = torch.randn(C, generator=g, dtype=torch.float64)
    u = torch.randn(C, generator=g, dtype=torch.float64)
    k = scale * torch.randn(B, T, C, generator=g, dtype=torch.float64)
    v = torch.randn(B, T, C, generator=g, dtype=torch.float64)
    return [t.requires_grad_() for t in (w_log, u, k, v)]


def test_wkv_by_hand():
    # C = 1, w = log 2 (decay e^-w = 1/2), u = 0, k = 0: the weights of v_0, v_1, v_2 in wkv_2 are
    # e^(-w) = 1/2, e^0 = 1, e^(u) = 1, so wkv_2 = (0.5 * 1 + 1 * 2 + 1 * 4) / 2.5 = 2.6; wkv_0 = v_0
    # and wkv_1 = (1 * 1 + 1 * 2) / 2 = 1.5
    w, u = torch.tensor([math.log(2.0)]), torch.tensor([0.0])
    k, v = torch.zeros(1, 3, 1), torch.tensor([1.0, 2.0, 4.0]).view(1, 3, 1)
    for fn in (wkv_recurrent, lambda *a: wkv_chunked(*a, chunk=2)):
        y, _ = fn(w, u, k, v)
        torch.testing.assert_close(y.view(-1), torch.tensor([1.0, 1.5, 2.6]))


def test_recurrence_equals_formula():
    w_log, u, k, v = _inputs()
    y, _ = wkv_recurrent(torch.exp(w_log), u, k, v)
    torch.testing.assert_close(y, wkv_formula(torch.exp(w_log), u, k, v), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunk", [1, 3, 4, 11, 64])
def test_chunked_equals_recurrent_values_and_gradients(chunk):
    w_log, u, k, v = _inputs(T=11)
    y1, s1 = wkv_recurrent(torch.exp(w_log), u, k, v)
    y2, s2 = wkv_chunked(torch.exp(w_log), u, k, v, chunk=chunk)
    torch.testing.assert_close(y2, y1, rtol=1e-12, atol=1e-12)
    # the state is (a, b, p) up to a common scale: compare the numerator and denominator it means
    for x1, x2 in ((s1[0], s2[0]), (s1[1], s2[1])):
        torch.testing.assert_close(x2 * torch.exp(s2[2]), x1 * torch.exp(s1[2]), rtol=1e-12, atol=1e-12)
    g = torch.randn_like(y1)
    grads1 = torch.autograd.grad((y1 * g).sum() + s1[0].sum() * 0.1, (w_log, u, k, v))
    grads2 = torch.autograd.grad((y2 * g).sum() + s2[0].sum() * 0.1, (w_log, u, k, v))
    for a, b in zip(grads1, grads2):
        assert torch.isfinite(a).all()
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-10)


def test_no_overflow_where_the_formula_overflows():
    w_log, u, k, v = _inputs(T=9)
    w = torch.exp(w_log)
    big = k + 800.0  # e^800 overflows float64; wkv is invariant to a common shift of k
    assert not torch.isfinite(wkv_formula(w, u, big, v)).all()
    ref = wkv_formula(w, u, k, v)
    for fn in (wkv_recurrent, lambda *a: wkv_chunked(*a, chunk=4)):
        y, _ = fn(w, u, big, v)
        torch.testing.assert_close(y, ref, rtol=1e-10, atol=1e-10)


def test_state_carries_across_segments():
    w_log, u, k, v = _inputs(T=12)
    w = torch.exp(w_log)
    whole, _ = wkv_recurrent(w, u, k, v)
    y1, s = wkv_chunked(w, u, k[:, :5], v[:, :5], chunk=3)
    y2, _ = wkv_chunked(w, u, k[:, 5:], v[:, 5:], s, chunk=3)
    torch.testing.assert_close(torch.cat([y1, y2], 1), whole, rtol=1e-12, atol=1e-12)


def test_lm_parallel_equals_recurrent_and_streaming():
    torch.manual_seed(0)
    cfg = RWKVConfig(d_model=8, num_layers=2, chunk=4)
    model = RWKVLM(cfg, 17).double()
    for p in model.parameters():  # the zero-initialised output layers would hide the recurrence
        torch.nn.init.normal_(p, std=0.3) if p.dim() > 1 else None
    x = torch.randint(0, 17, (3, 10))
    full, _ = model(x)
    rec, _ = model(x, recurrent=True)
    torch.testing.assert_close(rec, full, rtol=1e-10, atol=1e-10)
    state, parts = None, []
    for s in range(0, 10, 3):  # uneven segments, then token by token through the same state
        y, state = model(x[:, s:s + 3], state)
        parts.append(y)
    torch.testing.assert_close(torch.cat(parts, 1), full, rtol=1e-10, atol=1e-10)
    loss = full.logsumexp(-1).mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_config_validation():
    with pytest.raises(ValueError, match="d_model must be >= 1, got 0"):
        RWKVConfig(d_model=0)
    with pytest.raises(ValueError, match="chunk must be >= 1"):
        wkv_chunked(torch.ones(2), torch.ones(2), torch.ones(1, 3, 2), torch.ones(1, 3, 2), chunk=0)
