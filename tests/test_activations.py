"""Activations against the torch built-ins: values and gradients to 1e-6 from -1e4 to 1e4,
at -0.0 and subnormals, in float32 and float64; no NaN/inf where the math is finite."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.nn import activations as A

# Tolerance: |ours - torch| <= 1e-6 + 1e-6 |torch|, i.e. 1e-6 absolute near 0 and 1e-6 relative
# for large outputs (at x = 1e4 a float32 has only 1e-3 of absolute resolution).
TOL = dict(atol=1e-6, rtol=1e-6)

PAIRS = {
    "sigmoid": (A.sigmoid, torch.sigmoid),
    "tanh": (A.tanh, torch.tanh),
    "hardtanh": (A.hardtanh, F.hardtanh),
    "hardtanh(-2,0.5)": (lambda x: A.hardtanh(x, -2.0, 0.5), lambda x: F.hardtanh(x, -2.0, 0.5)),
    "relu": (A.relu, F.relu),
    "leaky_relu": (A.leaky_relu, F.leaky_relu),
    "leaky_relu(0.2)": (lambda x: A.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2)),
    "elu": (A.elu, F.elu),
    "elu(0.5)": (lambda x: A.elu(x, 0.5), lambda x: F.elu(x, 0.5)),
    "selu": (A.selu, F.selu),
    "softplus": (A.softplus, F.softplus),
    "softplus(2,5)": (lambda x: A.softplus(x, 2.0, 5.0), lambda x: F.softplus(x, 2.0, 5.0)),
    "softplus(0.5,30)": (lambda x: A.softplus(x, 0.5, 30.0), lambda x: F.softplus(x, 0.5, 30.0)),
    "gelu": (A.gelu, F.gelu),
    "gelu_tanh": (lambda x: A.gelu(x, "tanh"), lambda x: F.gelu(x, approximate="tanh")),
    "silu": (A.silu, F.silu),
    "swish(1)": (lambda x: A.swish(x, 1.0), F.silu),
    "mish": (A.mish, F.mish),
    "step": (A.step, lambda x: torch.heaviside(x, torch.zeros_like(x))),
}


def wide_inputs(dtype: torch.dtype) -> torch.Tensor:
    """-1e4..1e4 log-spaced down to the smallest subnormal, +-0, and a dense [-30, 30] grid."""
    finfo = torch.finfo(dtype)
    smallest = math.log10(finfo.smallest_normal) - (7 if dtype == torch.float32 else 15)
    mags = torch.logspace(smallest, 4, 1500, dtype=torch.float64).to(dtype)
    special = torch.tensor([0.0, -0.0, finfo.tiny / 8, -finfo.tiny / 8, finfo.tiny, 1e4, -1e4],
                           dtype=dtype)
    x = torch.cat([-mags, mags, special, torch.linspace(-30, 30, 3001, dtype=dtype)])
    assert (x.abs() < finfo.tiny).sum() > 2  # subnormals are really in there
    return x


def value_and_grad(fn, x):
    x = x.clone().requires_grad_(True)
    y = fn(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), g


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", [n for n in PAIRS if n != "step"])
def test_matches_torch_values_and_gradients(name, dtype):
    ours, ref = PAIRS[name]
    x = wide_inputs(dtype)
    y, g = value_and_grad(ours, x)
    y_ref, g_ref = value_and_grad(ref, x)
    assert y.dtype == dtype and y.shape == x.shape
    assert torch.isfinite(y).all() and torch.isfinite(g).all()
    torch.testing.assert_close(y, y_ref, **TOL)
    torch.testing.assert_close(g, g_ref, **TOL)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_at_float_extremes(dtype):
    # Far beyond 1e4, up to half the largest float, every value and derivative here is finite
    # and representable (values bounded by 1.06 |x| - SELU's scale - slopes by 1.76), and so
    # must ours be. (At the largest float itself selu(x) = 1.0507 x overflows, as torch's does.)
    big = torch.finfo(dtype).max / 2
    x = torch.tensor([-big, -1e30, -1e10, 1e10, 1e30, big], dtype=dtype)
    for name, (ours, _) in PAIRS.items():
        y, g = value_and_grad(ours, x)
        assert torch.isfinite(y).all(), (name, y)
        assert torch.isfinite(g).all(), (name, g)


def test_nan_and_inf_inputs_behave_like_torch():
    # A NaN must not be laundered into a number (a naive where(x > 0, x, 0) maps NaN to 0).
    x = torch.tensor([float("nan"), float("inf"), -float("inf")])
    for name, (ours, ref) in PAIRS.items():
        expected = ref(x)
        if name == "gelu":  # torch's exact GELU gives NaN at +inf; the limit is +inf
            assert torch.isnan(expected[1])
            expected[1] = float("inf")
        torch.testing.assert_close(ours(x), expected, equal_nan=True, msg=name)


def test_negative_zero_is_kept_where_torch_keeps_it():
    x = torch.tensor([-0.0])
    for f in (A.tanh, A.gelu, A.silu, A.mish, A.leaky_relu, A.elu):
        y = f(x)
        assert y.item() == 0.0 and not torch.isnan(y).any()
    assert math.copysign(1, A.tanh(x).item()) == -1  # tanh is odd: tanh(-0) = -0
    assert math.copysign(1, torch.tanh(x).item()) == -1


def test_stable_where_the_naive_formula_is_not():
    # The textbook formulas give NaN gradients at large |x|; ours do not.
    x = torch.tensor([-1e4, -200.0, 200.0, 1e4], requires_grad=True)
    naive_softplus = torch.log(1 + torch.exp(x))
    (g_naive,) = torch.autograd.grad(naive_softplus.sum(), x)
    assert not torch.isfinite(naive_softplus).all() or torch.isnan(g_naive).any()
    for f in (A.softplus, A.mish, A.sigmoid, A.elu, A.selu, A.silu):
        y, g = value_and_grad(f, x.detach())
        assert torch.isfinite(y).all() and torch.isfinite(g).all(), f.__name__


def test_step_values_and_surrogate_gradients():
    x = torch.tensor([-2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0])
    y, g = value_and_grad(A.step, x)
    assert y.tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    # straight-through, clipped: d/dx := 1[|x| <= 1] (the hardtanh derivative, boundaries in)
    assert g.tolist() == [0, 1, 1, 1, 1, 1, 1, 0]
    _, g_sig = value_and_grad(lambda t: A.step(t, "sigmoid"), x)
    _, g_ref = value_and_grad(lambda t: torch.sigmoid(4 * t), x)
    torch.testing.assert_close(g_sig, g_ref, **TOL)
    with pytest.raises(ValueError, match="surrogate"):
        A.step(x, "bogus")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_prelu_per_channel_and_shared_match_torch(dtype):
    x = wide_inputs(dtype)[:3000].reshape(2, 3, 500)  # (B, C, L)
    for w in (torch.tensor([0.25], dtype=dtype), torch.tensor([0.1, -0.3, 2.0], dtype=dtype)):
        xa, wa = x.clone().requires_grad_(), w.clone().requires_grad_()
        xb, wb = x.clone().requires_grad_(), w.clone().requires_grad_()
        A.prelu(xa, wa).sum().backward()
        F.prelu(xb, wb).sum().backward()
        torch.testing.assert_close(A.prelu(x, w), F.prelu(x, w), **TOL)
        torch.testing.assert_close(xa.grad, xb.grad, **TOL)
        torch.testing.assert_close(wa.grad, wb.grad, atol=1e-6, rtol=1e-5)  # a sum of 1000 terms
    with pytest.raises(ValueError, match="2 slopes but the input has 3 channels"):
        A.prelu(x, torch.ones(2, dtype=dtype))


def test_learnable_swish_beta_gradient_matches_torch():
    x = torch.linspace(-50, 50, 1001, dtype=torch.float64)
    m = A.Swish(1.7, learnable=True).double()
    m(x).sum().backward()
    beta = m.beta.detach().clone().requires_grad_(True)  # 1.7 rounded to float32, then widened
    (x * torch.sigmoid(beta * x)).sum().backward()
    torch.testing.assert_close(m.beta.grad, beta.grad, atol=1e-10, rtol=1e-10)
    assert [n for n, _ in A.Swish(learnable=False).named_parameters()] == []
    assert [n for n, _ in m.named_parameters()] == ["beta"]


def test_modules_match_functions():
    x = torch.randn(4, 3, 5, generator=torch.Generator().manual_seed(0)) * 5
    for name, m in [("relu", A.ReLU()), ("gelu_tanh", A.GELU("tanh")), ("mish", A.Mish())]:
        torch.testing.assert_close(m(x), PAIRS[name][1](x), **TOL)
    torch.testing.assert_close(A.PReLU(3)(x), F.prelu(x, torch.full((3,), 0.25)), **TOL)
    torch.testing.assert_close(A.Softplus(2.0, 5.0)(x), F.softplus(x, 2.0, 5.0), **TOL)
    for name in list(A.ELEMENTWISE) + list(A.GATED):
        assert A.get(name)(torch.zeros(2, 4)).shape[0] == 2


def test_hand_values():
    # sigmoid(0) = 1/2; tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6; softplus(0) = ln 2;
    # gelu(1) = Phi(1) = 0.841344746...; silu(2) = 2 / (1 + e^-2) = 1.761594156;
    # selu(-inf limit) -> -scale * alpha = -1.758099340847376...
    t = torch.tensor
    d = torch.float64
    assert A.sigmoid(t(0.0, dtype=d)).item() == 0.5
    assert abs(A.tanh(t(math.log(2), dtype=d)).item() - 0.6) < 1e-15
    assert abs(A.softplus(t(0.0, dtype=d)).item() - math.log(2)) < 1e-15
    assert abs(A.gelu(t(1.0, dtype=d)).item() - 0.8413447460685429) < 1e-15
    assert abs(A.silu(t(2.0, dtype=d)).item() - 1.7615941559557649) < 1e-15
    assert abs(A.selu(t(-1e4, dtype=d)).item() + 1.7580993408473766) < 1e-15


def test_bad_arguments_name_the_value():
    x = torch.zeros(3)
    with pytest.raises(ValueError, match="'exact'"):
        A.gelu(x, approximate="exact")
    with pytest.raises(ValueError, match="-1"):
        A.softplus(x, beta=-1)
    with pytest.raises(ValueError, match="1 and 1"):
        A.hardtanh(x, 1, 1)
    with pytest.raises(ValueError, match="'nope'"):
        A.get("nope")
    with pytest.raises(ValueError, match="0"):
        A.PReLU(0)


def test_properties_table_is_measured_from_the_code():
    from groundup.nn.activation_properties import probe

    torch.set_num_threads(1)
    relu, tanh, gelu, step, selu = (probe(n) for n in ("relu", "tanh", "gelu", "step", "selu"))
    assert relu["range"] == "[0, inf)" and relu["monotonic"] and relu["smoothness"] == "kinked"
    assert abs(relu["mean_N01"] - 1 / math.sqrt(2 * math.pi)) < 1e-3  # E[max(0, z)] = 1/sqrt(2 pi)
    assert relu["saturates"] == "left"
    assert tanh["range"] == "(-1, 1)" and tanh["zero_centred"] and tanh["saturates"] == "both"
    assert gelu["range"] == "[-0.17, inf)" and not gelu["monotonic"]
    assert abs(gelu["mean_N01"] - 1 / (2 * math.sqrt(math.pi))) < 1e-3  # E[z Phi(z)]
    assert step["smoothness"] == "discontinuous"
    assert selu["zero_centred"]  # the self-normalising fixed point: mean 0 on N(0, 1)


@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(0.05, 3.0), slope=st.floats(-0.5, 0.9), beta=st.floats(0.1, 10.0),
       threshold=st.floats(1.0, 40.0), lo=st.floats(-5.0, 0.5), width=st.floats(0.1, 5.0),
       dtype=st.sampled_from([torch.float32, torch.float64]))
def test_parameterised_units_match_torch_for_random_parameters(alpha, slope, beta, threshold,
                                                               lo, width, dtype):
    x = torch.cat([torch.linspace(-60, 60, 2001, dtype=dtype),
                   torch.tensor([-1e4, -0.0, 0.0, 1e4], dtype=dtype)])
    pairs = [(lambda t: A.elu(t, alpha), lambda t: F.elu(t, alpha)),
             (lambda t: A.leaky_relu(t, slope), lambda t: F.leaky_relu(t, slope)),
             (lambda t: A.softplus(t, beta, threshold), lambda t: F.softplus(t, beta, threshold)),
             (lambda t: A.hardtanh(t, lo, lo + width), lambda t: F.hardtanh(t, lo, lo + width))]
    for ours, ref in pairs:
        y, g = value_and_grad(ours, x)
        y_ref, g_ref = value_and_grad(ref, x)
        torch.testing.assert_close(y, y_ref, **TOL)
        torch.testing.assert_close(g, g_ref, **TOL)


def test_exact_gelu_keeps_relative_precision_in_the_left_tail():
    """gelu(x) = x Phi(x) and gelu'(x) = Phi(x) + x phi(x) at x = -8.374 and -20 (values from
    mpmath at 30 digits). torch.special.ndtr returns 0 there on CPU; erfc does not."""
    x = torch.tensor([-8.374, -20.0], dtype=torch.float64, requires_grad=True)
    y = A.gelu(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    want_y = torch.tensor([-2.3319395501161431e-16, -5.5072482372124674e-88], dtype=torch.float64)
    want_g = torch.tensor([-1.9520233003344793e-15, -1.1014360483133464e-86], dtype=torch.float64)
    torch.testing.assert_close(y.detach(), want_y, rtol=1e-12, atol=0)
    torch.testing.assert_close(g, want_g, rtol=1e-12, atol=0)
