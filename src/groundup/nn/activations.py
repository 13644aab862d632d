"""Every activation by name: the elementwise ones (:mod:`groundup.nn.elementwise`, from
Rosenblatt's step to GELU and Swish) and the gated family with its feed-forward blocks
(:mod:`groundup.nn.glu`, GLU to SwiGLU). Import from here to have both; the two modules
themselves import downward only (glu builds on elementwise).
"""
from __future__ import annotations

from torch import nn

from .elementwise import *  # noqa: F401,F403
from .elementwise import ELEMENTWISE
from .elementwise import __all__ as _ELEMENTWISE_ALL
from .glu import *  # noqa: F401,F403
from .glu import GATED
from .glu import __all__ as _GLU_ALL

__all__ = [*_ELEMENTWISE_ALL, *_GLU_ALL, "get"]


def get(name: str) -> nn.Module:
    """A fresh module for an activation name (``'gelu_tanh'``, ``'swiglu'``, ...)."""
    table = {**ELEMENTWISE, **GATED}
    if name not in table:
        raise ValueError(f"unknown activation {name!r} (known: {', '.join(table)})")
    return table[name]()
