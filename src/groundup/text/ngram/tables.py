"""The backoff tables every smoothing method produces, and that ARPA files store.

Notation: N order, V vocabulary size, n_k number of listed k-grams.

A backoff model lists some n-grams with log10 p(w | h) and, for each listed context h, a
log10 backoff weight b(h). For any other event (Katz 1987; the ARPA format):

    p(w | w_1..w_{k-1}) = p_listed(w_1..w_{k-1} w)                    if listed
                        = b(w_1..w_{k-1}) * p(w | w_2..w_{k-1})       otherwise (b = 1 if h is unlisted)

Interpolated models (Kneser-Ney) fit the same form exactly: the listed value is the
interpolated probability and b(h) is the interpolation weight gamma(h) (Chen & Goodman 1998,
section 2.8), which is how lmplz writes them.

Layout: the integer trie of :mod:`.counts` (``key = context_id * V + word``), so a model's
tables are three lists of arrays aligned with ``keys``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class BackoffTables:
    """keys[k-1] (n_k,) int64 sorted; logprob[k-1] (n_k,) log10 p; backoff[k-1] (n_k,) log10 b
    (zeros at order N). ``info`` records how they were estimated (method, discounts, warnings)."""

    vocab: list[str]
    keys: list[np.ndarray]
    logprob: list[np.ndarray]
    backoff: list[np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def order(self) -> int:
        return len(self.keys)

    @property
    def V(self) -> int:
        return len(self.vocab)

    def validate(self) -> None:
        if not self.keys:
            raise ValueError("a model needs at least the unigram order")
        for k, (key, lp, bo) in enumerate(zip(self.keys, self.logprob, self.backoff), start=1):
            if not (len(key) == len(lp) == len(bo)):
                raise ValueError(f"order {k}: keys/logprob/backoff lengths differ "
                                 f"({len(key)}, {len(lp)}, {len(bo)})")
            if len(key) > 1 and not (np.diff(key) > 0).all():
                raise ValueError(f"order {k}: keys are not sorted and unique")


def log10_or_ninf(x: np.ndarray) -> np.ndarray:
    """log10 that maps 0 to -inf without a warning (an event the model calls impossible)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, -np.inf)
    pos = x > 0
    out[pos] = np.log10(x[pos])
    return out


def listed_lower_mass(tables_logprob_lower: np.ndarray, suffix: np.ndarray, ctx: np.ndarray,
                      n_ctx: int) -> np.ndarray:
    """(n_ctx,) sum over the listed continuations w of each context h of p(w | h'), where
    h' drops h's first word: the denominator of a backoff weight (Katz 1987, eq. 16)."""
    return np.bincount(ctx, weights=10.0 ** tables_logprob_lower[suffix], minlength=n_ctx)
