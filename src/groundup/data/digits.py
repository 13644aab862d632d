"""The bundled 8x8 handwritten digits (UCI optdigits, CC BY 4.0; see bundled/tabular/README.md).

One loader for every experiment that trains a small classifier offline (activations, adamw,
metric-loss).
"""
from __future__ import annotations

import gzip

import numpy as np

from ..errors import DataError
from .locate import bundled_path


def load_digits(dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """X (1797, 64) in [0, 1] (pixel counts / 16), labels y (1797,) int64."""
    path = bundled_path("tabular", "digits.csv.gz")
    try:
        with gzip.open(path, "rt", encoding="ascii") as f:
            data = np.loadtxt(f, delimiter=",", dtype=np.int64)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read the bundled digits table {path}: {e}") from e
    if data.ndim != 2 or data.shape[1] != 65:
        raise DataError(f"{path}: expected 65 columns, got shape {data.shape}")
    return (data[:, :64] / 16.0).astype(dtype), data[:, 64]
