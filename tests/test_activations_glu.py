"""The gated family (GLU, ReGLU, GEGLU, SwiGLU) and the feed-forward blocks built from them."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from groundup.nn import activations as A

TOL = dict(atol=1e-6, rtol=1e-6)


def _ref(kind):
    # torch compositions, first half * act(second half), the order of F.glu
    acts = {"glu": torch.sigmoid, "reglu": F.relu, "geglu": F.gelu, "swiglu": F.silu}

    def f(x, dim=-1):
        a, b = x.chunk(2, dim=dim)
        return a * acts[kind](b)
    return f


@pytest.mark.parametrize("kind", ["glu", "reglu", "geglu", "swiglu"])
@pytest.mark.parametrize("dim", [-1, 1])
def test_gated_units_match_torch(kind, dim):
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(3, 6, 8, generator=g, dtype=torch.float64) * 30)
    ours = getattr(A, kind)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = ours(xa, dim), _ref(kind)(xb, dim)
    w = torch.randn_like(ya)
    (ya * w).sum().backward()
    (yb * w).sum().backward()
    torch.testing.assert_close(ya, yb, **TOL)
    torch.testing.assert_close(xa.grad, xb.grad, **TOL)
    if kind == "glu":
        torch.testing.assert_close(ya, F.glu(x, dim), **TOL)
    assert getattr(A, {"glu": "GLU", "reglu": "ReGLU", "geglu": "GEGLU",
                       "swiglu": "SwiGLU"}[kind])(dim)(x).shape == ya.shape


def test_gated_unit_rejects_odd_width():
    with pytest.raises(ValueError, match="got 5"):
        A.swiglu(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="scalar"):
        A.glu(torch.tensor(1.0))


def test_two_thirds_rule_matches_plain_ffn_parameter_count():
    # D = 96: plain FFN has 2 * 96 * 384 = 73,728 weights; SwiGLU has H = 2/3 * 384 = 256 and
    # 3 * 96 * 256 = 73,728 weights: equal.
    plain, gated = A.FeedForward(96), A.SwiGLUFFN(96)
    n_plain = sum(p.numel() for p in plain.parameters())
    n_gated = sum(p.numel() for p in gated.parameters())
    assert n_plain == n_gated == 73_728
    assert gated.w_gate.out_features == 256
    # LLaMA-7B: D = 4096, multiple_of = 256 -> H = 11008
    assert A.gated_hidden_size(4096, 4, 256) == 11008
    with pytest.raises(ValueError, match="multiple_of"):
        A.gated_hidden_size(64, 4, 0)


def test_swiglu_ffn_matches_torch_with_copied_weights():
    torch.manual_seed(0)
    ffn = A.SwiGLUFFN(12, bias=True).double()
    x = torch.randn(2, 5, 12, dtype=torch.float64)
    W, V, W2 = ffn.w_gate, ffn.w_up, ffn.w_down
    ref = F.linear(F.silu(F.linear(x, W.weight, W.bias)) * F.linear(x, V.weight, V.bias),
                   W2.weight, W2.bias)
    torch.testing.assert_close(ffn(x), ref, **TOL)
    # the fused form: one D -> 2H projection split by swiglu (value first, gate second)
    fused = torch.cat([V.weight, W.weight]), torch.cat([V.bias, W.bias])
    torch.testing.assert_close(F.linear(A.swiglu(F.linear(x, *fused)), W2.weight, W2.bias),
                               ref, **TOL)


@pytest.mark.parametrize("variant", ["glu", "reglu", "geglu", "swiglu"])
def test_gated_ffn_variants_run_and_train(variant):
    torch.manual_seed(0)
    ffn = A.GatedFeedForward(9, variant=variant)
    x = torch.randn(4, 9)
    loss = ffn(x).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in ffn.parameters())
    with pytest.raises(ValueError, match="'tanhglu'"):
        A.GatedFeedForward(9, variant="tanhglu")
