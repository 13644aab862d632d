"""Optimizers: SGD, Adam/AdamW and stochastic approximation (Robbins-Monro and friends).

Names are resolved lazily so that ``import groundup.optim`` does not import torch.
"""
from importlib import import_module as _import_module

_EXPORTS = {
    "SGD": "sgd",
    "Adam": "adam",
    "AdamW": "adam",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(_import_module(f"groundup.optim.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'groundup.optim' has no attribute {name!r}")
