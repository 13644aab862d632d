"""Gated linear units and the feed-forward blocks of today's Transformers.

Notation: B batch, L length, D model width, H hidden width of the feed-forward block.

GLU (Dauphin et al. 2017, eq. 1): h = a (x) s(b), where the last dimension of the input is split
into halves a ("value") and b ("gate"). Shazeer (2020), "GLU Variants Improve Transformer",
swaps the sigmoid for other nonlinearities:

    ReGLU  = a * relu(b)      GEGLU = a * gelu(b)      SwiGLU = a * swish_1(b) = a * silu(b)

and uses them as the Transformer feed-forward block (his eq. 6):

    FFN_SwiGLU(x) = (silu(x W) (x) x V) W2

which has three weight matrices instead of two. To keep the parameter count of the plain
FFN(x) = act(x W1) W2 with H = 4D (2 * 4D^2 = 8D^2 weights), the hidden width is cut to
H = 2/3 * 4D (3 * D * 8D/3 = 8D^2); LLaMA then rounds H up to a multiple of 256
(:func:`gated_hidden_size`).

Half order: ``glu(x)`` = first half * s(second half), the order of ``torch.nn.functional.glu``;
all four gated functions here share it, so in Shazeer's notation the second half is x W.
"""
from __future__ import annotations

from torch import Tensor, nn

from .elementwise import ELEMENTWISE, gelu, relu, sigmoid, silu

__all__ = ["glu", "reglu", "geglu", "swiglu", "GLU", "ReGLU", "GEGLU", "SwiGLU", "GATED",
           "gated_hidden_size", "FeedForward", "GatedFeedForward", "SwiGLUFFN"]


def _halves(x: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    if x.dim() == 0:
        raise ValueError("a gated unit needs at least one dimension to split, got a scalar")
    n = x.shape[dim]
    if n % 2:
        raise ValueError(f"a gated unit splits dim {dim} in halves; its size must be even, "
                         f"got {n}")
    return x.chunk(2, dim=dim)  # a (value), b (gate): (..., n/2, ...) each


def glu(x: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) (Dauphin et al. 2017); matches ``torch.nn.functional.glu``."""
    a, b = _halves(x, dim)
    return a * sigmoid(b)


def reglu(x: Tensor, dim: int = -1) -> Tensor:
    """a * relu(b) (Shazeer 2020)."""
    a, b = _halves(x, dim)
    return a * relu(b)


def geglu(x: Tensor, dim: int = -1, approximate: str = "none") -> Tensor:
    """a * gelu(b) (Shazeer 2020)."""
    a, b = _halves(x, dim)
    return a * gelu(b, approximate)


def swiglu(x: Tensor, dim: int = -1) -> Tensor:
    """a * silu(b) (Shazeer 2020), the unit of PaLM and LLaMA."""
    a, b = _halves(x, dim)
    return a * silu(b)


class GLU(nn.Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return glu(x, self.dim)


class ReGLU(GLU):
    def forward(self, x: Tensor) -> Tensor:
        return reglu(x, self.dim)


class GEGLU(GLU):
    def __init__(self, dim: int = -1, approximate: str = "none"):
        super().__init__(dim)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return geglu(x, self.dim, self.approximate)


class SwiGLU(GLU):
    def forward(self, x: Tensor) -> Tensor:
        return swiglu(x, self.dim)


def gated_hidden_size(d_model: int, expansion: int = 4, multiple_of: int = 1) -> int:
    """H = int(2/3 * expansion * D), rounded up to ``multiple_of`` (LLaMA's rule, with
    multiple_of = 256). With multiple_of = 1 and D divisible by 3 the gated block has exactly the
    plain block's 2 * expansion * D^2 weights."""
    for name, v in (("d_model", d_model), ("expansion", expansion), ("multiple_of", multiple_of)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    h = int(2 * expansion * d_model / 3)
    return multiple_of * ((h + multiple_of - 1) // multiple_of)


def _activation(name: str) -> nn.Module:
    """An elementwise activation module by name (the FFN's nonlinearity)."""
    if name not in ELEMENTWISE:
        raise ValueError(f"unknown activation {name!r} (known: {', '.join(ELEMENTWISE)})")
    return ELEMENTWISE[name]()


class FeedForward(nn.Module):
    """The plain Transformer block FFN(x) = act(x W1) W2 (Vaswani et al. 2017, eq. 2, with ReLU;
    GPT-2 and BERT use GELU). x: (..., D) -> (..., D); H defaults to 4D."""

    def __init__(self, d_model: int, d_hidden: int | None = None, activation: str = "gelu",
                 bias: bool = False):
        super().__init__()
        d_hidden = 4 * d_model if d_hidden is None else d_hidden
        if d_model < 1 or d_hidden < 1:
            raise ValueError(f"d_model and d_hidden must be >= 1, got {d_model} and {d_hidden}")
        self.w_in = nn.Linear(d_model, d_hidden, bias=bias)    # W1: D -> H
        self.act = _activation(activation)
        self.w_out = nn.Linear(d_hidden, d_model, bias=bias)   # W2: H -> D

    def forward(self, x: Tensor) -> Tensor:
        return self.w_out(self.act(self.w_in(x)))


_GATE_ACTIVATIONS = {"glu": "sigmoid", "reglu": "relu", "geglu": "gelu", "swiglu": "silu"}


class GatedFeedForward(nn.Module):
    """FFN_GLU-variant(x) = (act(x W) (x) x V) W2 (Shazeer 2020, eq. 5-6).

    ``variant`` is one of glu, reglu, geglu, swiglu. H defaults to
    ``gated_hidden_size(D, 4, multiple_of)`` so the block has as many weights as
    :class:`FeedForward` with H = 4D. x: (..., D) -> (..., D).
    """

    def __init__(self, d_model: int, d_hidden: int | None = None, variant: str = "swiglu",
                 bias: bool = False, multiple_of: int = 1):
        super().__init__()
        if variant not in _GATE_ACTIVATIONS:
            raise ValueError(f"variant must be one of {sorted(_GATE_ACTIVATIONS)}, got {variant!r}")
        d_hidden = gated_hidden_size(d_model, 4, multiple_of) if d_hidden is None else d_hidden
        if d_model < 1 or d_hidden < 1:
            raise ValueError(f"d_model and d_hidden must be >= 1, got {d_model} and {d_hidden}")
        self.variant = variant
        self.w_gate = nn.Linear(d_model, d_hidden, bias=bias)  # W: D -> H, goes through act
        self.w_up = nn.Linear(d_model, d_hidden, bias=bias)    # V: D -> H, linear
        self.w_down = nn.Linear(d_hidden, d_model, bias=bias)  # W2: H -> D
        self.act = _activation(_GATE_ACTIVATIONS[variant])

    def forward(self, x: Tensor) -> Tensor:
        return self.w_down(self.act(self.w_gate(x)) * self.w_up(x))  # (..., D)


class SwiGLUFFN(GatedFeedForward):
    """The LLaMA/PaLM feed-forward block: ``GatedFeedForward(variant='swiglu')``."""

    def __init__(self, d_model: int, d_hidden: int | None = None, bias: bool = False,
                 multiple_of: int = 1):
        super().__init__(d_model, d_hidden, "swiglu", bias, multiple_of)


GATED: dict[str, type] = {"glu": GLU, "reglu": ReGLU, "geglu": GEGLU, "swiglu": SwiGLU}
