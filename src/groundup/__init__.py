"""groundup: classic deep-learning and NLP building blocks, written from the equations.

Importing the package is cheap: subpackages (``groundup.nn``, ``groundup.text``, ...) are
imported on first use so that ``groundup --help`` stays fast.
"""
from importlib import import_module as _import_module

__version__ = "0.1.0"

_SUBPACKAGES = {"data", "text", "nn", "optim", "train", "vision", "lab"}


def __getattr__(name):
    if name in _SUBPACKAGES:
        return _import_module(f"groundup.{name}")
    raise AttributeError(f"module 'groundup' has no attribute {name!r}")
