"""Constructor validation shared by the optimizers: every error names the offending value."""
from __future__ import annotations

import math

import torch


def scalar(name: str, value, *, low: float = 0.0, high: float | None = None,
           high_open: bool = False) -> float:
    """``value`` as a float in [low, high] (or [low, high) when high_open), else ValueError."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a number or a 1-element tensor, got shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    too_high = high is not None and (value >= high if high_open else value > high)
    if value < low or too_high:
        rng = f"[{low}, {high})" if high_open else (f"[{low}, {high}]" if high is not None else f">= {low}")
        raise ValueError(f"Invalid {name}: {value} (must be {rng})")
    return float(value)


def flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def optional_flag(name: str, value) -> bool | None:
    return None if value is None else flag(name, value)
