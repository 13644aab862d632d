"""Activation functions from Rosenblatt's threshold unit to the GELU and Swish of today's LLMs.

Notation: ``x`` any-shaped tensor; every function here is elementwise and keeps the shape and
dtype of its input. The gated family (GLU, ReGLU, GEGLU, SwiGLU) and the feed-forward blocks
built from them live in :mod:`groundup.nn.glu`; :mod:`groundup.nn.activations` is the one place
that names both (``get('swiglu')``).

Each activation is written from its formula, both as a function (``gelu(x, approximate='none')``)
and as an ``nn.Module`` (``GELU(approximate='none')``). Where a torch built-in exists, values and
gradients match it to 1e-6 (``tests/test_activations.py``), from -1e4 to 1e4, at -0.0 and at
subnormals.

Numerical stability. The textbook formulas overflow: ``1 / (1 + exp(-x))`` is fine, but
``exp(x) / (1 + exp(x))`` is inf/inf = NaN for x > 89 in float32, and the autograd of
``log(1 + exp(x))`` is ``exp(x) / (1 + exp(x))`` again. So:

* sigmoid, tanh, softplus and mish are ``torch.autograd.Function`` s whose forward picks the
  branch that cannot overflow and whose backward is the closed-form derivative, written from the
  output (sigmoid' = s(1 - s), tanh' = 1 - t^2) or from a stable sigmoid;
* ELU/SELU evaluate ``expm1`` on ``min(x, 0)`` only, so the unused branch of the ``where`` never
  holds an inf whose zero gradient would be 0 * inf = NaN.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = [
    "step", "sigmoid", "tanh", "hardtanh", "relu", "leaky_relu", "prelu", "elu", "selu",
    "softplus", "gelu", "silu", "swish", "mish",
    "Step", "Sigmoid", "Tanh", "Hardtanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "SELU",
    "Softplus", "GELU", "SiLU", "Swish", "Mish",
    "ELEMENTWISE",
]

# SELU's fixed point constants (Klambauer et al. 2017, eq. 14), the same digits torch uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# --------------------------------------------------------------------------------------------
# The threshold unit (Rosenblatt 1958; McCulloch & Pitts 1943)
# --------------------------------------------------------------------------------------------
class _StepFn(torch.autograd.Function):
    """H(x) = 1 if x > 0 else 0. Its true derivative is 0 almost everywhere, so it cannot be
    trained by backpropagation; we backpropagate a *surrogate* instead:

    * ``'ste'``: the straight-through estimator clipped to |x| <= 1 (Bengio, Leonard & Courville
      2013; Hubara et al. 2016): dH/dx := 1[|x| <= 1], the derivative of hardtanh;
    * ``'sigmoid'``: the derivative of sigmoid(k x) with k = 4 (a common surrogate in spiking
      networks, Zenke & Ganguli 2018), k s(kx)(1 - s(kx)).
    """

    @staticmethod
    def forward(ctx, x: Tensor, surrogate: str) -> Tensor:
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g: Tensor):
        (x,) = ctx.saved_tensors
        if ctx.surrogate == "ste":
            return g * (x.abs() <= 1).to(g.dtype), None
        k = 4.0
        s = _SigmoidFn.apply(k * x)
        return g * k * s * (1 - s), None


_SURROGATES = ("ste", "sigmoid")


def step(x: Tensor, surrogate: str = "ste") -> Tensor:
    """Heaviside step H(x) = 1[x > 0] (H(0) = 0, as ``torch.heaviside(x, 0)``) with a surrogate
    gradient: ``'ste'`` (clipped straight-through, 1[|x| <= 1]) or ``'sigmoid'`` (4 s(4x)(1-s(4x)))."""
    if surrogate not in _SURROGATES:
        raise ValueError(f"surrogate must be one of {_SURROGATES}, got {surrogate!r}")
    return _StepFn.apply(x, surrogate)


# --------------------------------------------------------------------------------------------
# Sigmoid and tanh (the smooth squashing units of the 1980s-2000s)
# --------------------------------------------------------------------------------------------
class _SigmoidFn(torch.autograd.Function):
    """s(x) = 1 / (1 + e^-x), evaluated as 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for
    x < 0, so the exponent is never positive (no overflow, no inf/inf). s'(x) = s(1 - s)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        e = torch.exp(-x.abs())  # in (0, 1]: cannot overflow
        y = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return g * (1 - y) * y  # torch's sigmoid_backward uses the same product


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid 1 / (1 + e^-x); matches ``torch.sigmoid``."""
    return _SigmoidFn.apply(x)


class _TanhFn(torch.autograd.Function):
    """tanh(x) = sign(x) (1 - e) / (1 + e) with e = e^{-2|x|} in (0, 1]; the numerator is
    -expm1(-2|x|), which keeps full relative precision near 0. tanh'(x) = 1 - tanh^2."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        a = -2 * x.abs()
        y = torch.sign(x) * (-torch.expm1(a) / (1 + torch.exp(a)))
        y = torch.where(x == 0, x, y)  # keep -0.0 as -0.0 (sign(-0.0) * ... gives -0.0 too)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent (e^x - e^-x) / (e^x + e^-x); matches ``torch.tanh``."""
    return _TanhFn.apply(x)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """clamp(x, min_val, max_val), the piecewise-linear tanh (Collobert 2004). The gradient is 1
    strictly inside (min_val, max_val) and 0 elsewhere, boundaries included, as torch's."""
    if not min_val < max_val:
        raise ValueError(f"hardtanh needs min_val < max_val, got {min_val} and {max_val}")
    # constants at and beyond the bounds (gradient 0 there, as torch's); NaN falls through to x
    upper = torch.where(x >= max_val, torch.full_like(x, max_val), x)
    return torch.where(x <= min_val, torch.full_like(x, min_val), upper)


# --------------------------------------------------------------------------------------------
# The rectifier family (Nair & Hinton 2010; Maas et al. 2013; He et al. 2015; Clevert et al.
# 2016; Klambauer et al. 2017)
# --------------------------------------------------------------------------------------------
def relu(x: Tensor) -> Tensor:
    """max(0, x); d/dx = 1[x > 0] (0 at x = 0, as torch); NaN stays NaN."""
    return torch.where(x <= 0, torch.zeros_like(x), x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else negative_slope * x (Maas, Hannun & Ng 2013)."""
    return torch.where(x > 0, x, x * negative_slope)


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else a * x with a learned slope ``weight`` (He et al. 2015, eq. 1): one value,
    or one per channel (dim 1 of ``x``), as ``torch.nn.functional.prelu``."""
    if weight.dim() != 1:
        raise ValueError(f"prelu weight must be 1-D, got shape {tuple(weight.shape)}")
    n = weight.numel()
    if n != 1:
        channels = x.shape[1] if x.dim() >= 2 else None
        if channels != n:
            raise ValueError(f"prelu weight has {n} slopes but the input has "
                             f"{channels if channels is not None else 'no'} channels (dim 1)")
        a = weight.view([1, n] + [1] * (x.dim() - 2))  # broadcast over (B, C, *)
    else:
        a = weight
    return torch.where(x > 0, x, a * x)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x if x > 0 else alpha (e^x - 1) (Clevert, Unterthiner & Hochreiter 2016, eq. 15).

    ``expm1`` sees min(x, 0) only: the x > 0 branch of ``where`` would otherwise hold e^x = inf
    for x > 88 (float32) and its zero gradient would become 0 * inf = NaN."""
    neg = alpha * torch.expm1(torch.clamp(x, max=0))
    return torch.where(x > 0, x, neg)


def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. 2017."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


class _SoftplusFn(torch.autograd.Function):
    """softplus(x) = (1/beta) log(1 + e^{beta x}), and x itself once beta x > threshold (where
    the two agree to float precision), exactly torch's convention. The derivative is
    s(beta x), evaluated with the stable sigmoid rather than e^{bx} / (1 + e^{bx})."""

    @staticmethod
    def forward(ctx, x: Tensor, beta: float, threshold: float) -> Tensor:
        bx = x * beta
        linear = bx > threshold
        soft = torch.log1p(torch.exp(torch.clamp(bx, max=threshold))) / beta
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        return torch.where(linear, x, soft)

    @staticmethod
    def backward(ctx, g: Tensor):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        d = torch.where(bx > ctx.threshold, torch.ones_like(x), _SigmoidFn.apply(bx))
        return g * d, None, None


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/beta) log(1 + exp(beta x)), linear above ``threshold``; matches F.softplus."""
    if beta <= 0:
        raise ValueError(f"softplus beta must be > 0, got {beta}")
    return _SoftplusFn.apply(x, float(beta), float(threshold))


# --------------------------------------------------------------------------------------------
# Smooth rectifiers: GELU (Hendrycks & Gimpel 2016), Swish/SiLU (Elfwing et al. 2018;
# Ramachandran et al. 2017), Mish (Misra 2019)
# --------------------------------------------------------------------------------------------
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class _GeluTanhFn(torch.autograd.Function):
    """x s(2u), u = sqrt(2/pi) (x + 0.044715 x^3). Derivative
    s(2u) + 2 x s(2u) s(-2u) u'(x) with u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2); taking s(-2u)
    from the stable sigmoid, not as 1 - s(2u), avoids the cancellation that costs autograd of
    the forward formula ~2e-6 in float32 near x = 5."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        u2 = 2 * _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
        ctx.save_for_backward(x, u2)
        return x * _SigmoidFn.apply(u2)

    @staticmethod
    def backward(ctx, g: Tensor) -> Tensor:
        x, u2 = ctx.saved_tensors
        s_pos, s_neg = _SigmoidFn.apply(u2), _SigmoidFn.apply(-u2)
        du2 = 2 * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        # where s(-2u) s(2u) underflows to 0, x^2 may be inf: the product's limit is 0, not NaN
        bump = torch.where(s_pos * s_neg == 0, torch.zeros_like(x), x * s_pos * s_neg * du2)
        return g * (s_pos + bump)


class _GeluFn(torch.autograd.Function):
    """x Phi(x), with the closed-form derivative gelu'(x) = Phi(x) + x phi(x),
    phi(x) = exp(-x^2 / 2) / sqrt(2 pi), and Phi(x) = erfc(-x / sqrt 2) / 2, which keeps its
    relative precision in the left tail (``torch.special.ndtr`` does not on CPU: it returns 0 at
    x = -8.4, where Phi is 2.8e-17). Only x is saved, as torch's own GELU does; autograd through
    the formula kept three tensors and ran about twice the kernels."""

    @staticmethod
    def _cdf(x: Tensor) -> Tensor:
        return torch.special.erfc(x * -_SQRT_HALF).mul_(0.5)

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return _GeluFn._cdf(x).mul_(x)

    @staticmethod
    def backward(ctx, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        d = x.square().mul_(-0.5).exp_().mul_(x).mul_(_INV_SQRT_2PI)   # x phi(x)
        return d.add_(_GeluFn._cdf(x)).mul_(g)


_INV_SQRT_2PI = 1.0 / math.sqrt(2 * math.pi)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) with Phi the standard normal CDF (Hendrycks & Gimpel 2016, eq. 1).

    ``approximate='none'``: Phi(x) = erfc(-x / sqrt 2) / 2, which, unlike (1 + erf(x/sqrt 2)) / 2,
    keeps its relative precision in the left tail; the backward pass is the closed form
    Phi(x) + x phi(x) (:class:`_GeluFn`). ``approximate='tanh'``: the paper's
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), computed as x s(2u) since
    (1 + tanh u) / 2 = s(2u). Both match ``F.gelu`` with the same ``approximate``."""
    if approximate == "none":
        return _GeluFn.apply(x)
    if approximate == "tanh":
        return _GeluTanhFn.apply(x)
    raise ValueError(f"gelu approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x: Tensor) -> Tensor:
    """x s(x), the sigmoid-weighted linear unit (Elfwing, Uchibe & Doya 2018); matches F.silu."""
    return x * _SigmoidFn.apply(x)


def swish(x: Tensor, beta: float | Tensor = 1.0) -> Tensor:
    """x s(beta x) (Ramachandran, Zoph & Le 2017); beta = 1 is SiLU, beta -> inf tends to ReLU
    and beta = 0 to x/2. ``beta`` may be a tensor (the learnable version, :class:`Swish`)."""
    return x * _SigmoidFn.apply(beta * x)


class _MishFn(torch.autograd.Function):
    """mish(x) = x tanh(softplus(x)) (Misra 2019). With e = e^x,
    tanh(log(1 + e)) = ((1+e)^2 - 1) / ((1+e)^2 + 1) = e(e + 2) / (e(e + 2) + 2): evaluated with
    e = e^x for x <= 0 and, dividing by e^{2x}, as (1 + 2f) / (1 + 2f + 2f^2) with f = e^{-x}
    for x > 0: no exponent is ever positive. Derivative (the one torch uses):
    mish'(x) = t + x s(x) (1 - t^2), t = tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        f = torch.exp(-x.abs())  # e^x for x <= 0, e^-x for x > 0
        n = f * (f + 2)
        t = torch.where(x > 0, (1 + 2 * f) / (1 + 2 * f + 2 * f * f), n / (n + 2))
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, g: Tensor) -> Tensor:
        x, t = ctx.saved_tensors
        return g * (t + x * _SigmoidFn.apply(x) * (1 - t * t))


def mish(x: Tensor) -> Tensor:
    """x tanh(softplus(x)) (Misra 2019); matches F.mish."""
    return _MishFn.apply(x)


# --------------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------------
class Step(nn.Module):
    def __init__(self, surrogate: str = "ste"):
        super().__init__()
        if surrogate not in _SURROGATES:
            raise ValueError(f"surrogate must be one of {_SURROGATES}, got {surrogate!r}")
        self.surrogate = surrogate

    def forward(self, x: Tensor) -> Tensor:
        return step(x, self.surrogate)


class Sigmoid(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Tanh(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


class Hardtanh(nn.Module):
    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        super().__init__()
        if not min_val < max_val:
            raise ValueError(f"hardtanh needs min_val < max_val, got {min_val} and {max_val}")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: Tensor) -> Tensor:
        return hardtanh(x, self.min_val, self.max_val)


class ReLU(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class LeakyReLU(nn.Module):
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return leaky_relu(x, self.negative_slope)


class PReLU(nn.Module):
    """Learned negative slope, one shared or one per channel, initialised to 0.25 (He et al.)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25):
        super().__init__()
        if num_parameters < 1:
            raise ValueError(f"num_parameters must be >= 1, got {num_parameters}")
        self.weight = nn.Parameter(torch.full((num_parameters,), float(init)))

    def forward(self, x: Tensor) -> Tensor:
        return prelu(x, self.weight)


class ELU(nn.Module):
    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return elu(x, self.alpha)


class SELU(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return selu(x)


class Softplus(nn.Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        if beta <= 0:
            raise ValueError(f"softplus beta must be > 0, got {beta}")
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return softplus(x, self.beta, self.threshold)


class GELU(nn.Module):
    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return gelu(x, self.approximate)


class SiLU(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return silu(x)


class Swish(nn.Module):
    """x s(beta x) with a fixed beta, or a learned one (``learnable=True``, one scalar, as in
    Ramachandran et al.'s "Swish-beta")."""

    def __init__(self, beta: float = 1.0, learnable: bool = False):
        super().__init__()
        if learnable:
            self.beta = nn.Parameter(torch.tensor(float(beta)))
        else:
            self.register_buffer("beta", torch.tensor(float(beta)))

    def forward(self, x: Tensor) -> Tensor:
        return swish(x, self.beta.to(x.dtype))


class Mish(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return mish(x)


# name -> module factory, for the lab and the properties table. Elementwise ones only.
ELEMENTWISE: dict[str, type | object] = {
    "step": Step, "sigmoid": Sigmoid, "tanh": Tanh, "hardtanh": Hardtanh, "relu": ReLU,
    "leaky_relu": LeakyReLU, "prelu": PReLU, "elu": ELU, "selu": SELU, "softplus": Softplus,
    "gelu": GELU, "gelu_tanh": lambda: GELU("tanh"), "silu": SiLU,
    "swish_learnable": lambda: Swish(1.0, learnable=True), "mish": Mish,
}
