"""Norms and positional encodings: torch oracles, hand values, invariants."""
import math

import pytest
import torch

from groundup.nn.norm import LayerNorm, RMSNorm
from groundup.nn.positional import (LearnedPositionalEmbedding, RotaryEmbedding,
                                    SinusoidalPositionalEncoding, alibi_bias, alibi_slopes,
                                    sinusoidal_table)

torch.set_num_threads(1)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_layernorm_matches_torch(fused, bias):
    torch.manual_seed(0)
    theirs = torch.nn.LayerNorm((3, 4), eps=1e-4, bias=bias)
    with torch.no_grad():
        theirs.weight.normal_()
        if bias:
            theirs.bias.normal_()
    ours = LayerNorm((3, 4), eps=1e-4, bias=bias, fused=fused)
    ours.load_state_dict(theirs.state_dict())
    x = (torch.randn(5, 3, 4) * 3 + 1).requires_grad_()
    a, b = ours(x), theirs(x)
    assert torch.allclose(a, b, atol=1e-5)
    g = torch.randn_like(a)
    for u, v in zip(torch.autograd.grad(a, [x, *ours.parameters()], g),
                    torch.autograd.grad(b, [x, *theirs.parameters()], g)):
        assert torch.allclose(u, v, atol=1e-5)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rmsnorm_matches_torch(fused, eps):
    torch.manual_seed(0)
    theirs = torch.nn.RMSNorm(6, eps=eps)
    with torch.no_grad():
        theirs.weight.normal_()
    ours = RMSNorm(6, eps=eps, fused=fused)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(4, 6, requires_grad=True)
    a, b = ours(x), theirs(x)
    assert torch.allclose(a, b, atol=1e-6)
    for u, v in zip(torch.autograd.grad(a.sum(), [x, ours.weight]),
                    torch.autograd.grad(b.sum(), [x, theirs.weight])):
        assert torch.allclose(u, v, atol=1e-5)


def test_rmsnorm_by_hand():
    # x = [3, 4]: mean(x^2) = 12.5, y = x / sqrt(12.5) = [0.8485, 1.1314]
    y = RMSNorm(2, eps=0.0, fused=False)(torch.tensor([3.0, 4.0]))
    assert torch.allclose(y, torch.tensor([3.0, 4.0]) / math.sqrt(12.5))


def test_sinusoidal_by_hand():
    pe = sinusoidal_table(3, 4)
    # pos 1: [sin 1, cos 1, sin(1/100), cos(1/100)]  (10000^(2/4) = 100)
    assert torch.allclose(pe[1], torch.tensor([math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)]))
    assert torch.equal(pe[0], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    x = torch.zeros(1, 2, 4)
    assert torch.equal(SinusoidalPositionalEncoding(4, 8)(x, offset=1)[0], pe[1:3])


def test_rope_scores_depend_on_distance_only_and_keep_norms():
    torch.manual_seed(0)
    rope = RotaryEmbedding(8)
    q, k = torch.randn(1, 1, 1, 8, dtype=torch.float64), torch.randn(1, 1, 1, 8, dtype=torch.float64)
    rope = rope.double()

    def score(m, n):
        return (rope(q, m) * rope(k, n)).sum().item()

    assert score(5, 2) == pytest.approx(score(13, 10), abs=1e-6)
    assert score(0, 0) == pytest.approx((q * k).sum().item(), abs=1e-12)
    assert rope(q, 7).norm().item() == pytest.approx(q.norm().item(), abs=1e-6)
    # pair 0 rotates by pos * 1 rad: (1, 0) at pos 2 -> (cos 2, sin 2)
    e = torch.zeros(1, 1, 1, 8, dtype=torch.float64)
    e[..., 0] = 1
    assert torch.allclose(rope(e, 2)[..., :2].flatten(), torch.tensor([math.cos(2), math.sin(2)], dtype=torch.float64))


def test_alibi_slopes_and_bias():
    assert torch.allclose(alibi_slopes(8), torch.tensor([2.0 ** -i for i in range(1, 9)]))
    # 6 heads: 4-head slopes (1/4, 1/16, 1/64, 1/256) + every other 8-head slope (1/2, 1/8)
    assert torch.allclose(alibi_slopes(6), torch.tensor([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8]))
    b = alibi_bias(torch.tensor([0.5]), 2, 3)      # queries at positions 1 and 2
    assert torch.allclose(b[0], torch.tensor([[-0.5, 0.0, 0.5], [-1.0, -0.5, 0.0]]))


def test_learned_positions_and_length_check():
    p = LearnedPositionalEmbedding(4, max_len=3)
    x = torch.zeros(2, 3, 4)
    assert torch.equal(p(x)[1], p.weight)
    with pytest.raises(ValueError, match="exceed max_len 3"):
        p(x, offset=1)
