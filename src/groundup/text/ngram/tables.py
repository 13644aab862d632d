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
        """Structure and values a scorer can trust (ValueError naming the field otherwise).

        keys[0] is arange(V); keys[k-1] holds ``context * V + word`` with the context an index
        into keys[k-2], so every key lies in [0, n_{k-1} V); log-probabilities are <= 0 or -inf
        (never NaN or +inf), backoffs finite or -inf (log10 0)."""
        if not self.keys:
            raise ValueError("a model needs at least the unigram order")
        if not (len(self.keys) == len(self.logprob) == len(self.backoff)):
            raise ValueError(f"keys/logprob/backoff have {len(self.keys)}, {len(self.logprob)}, "
                             f"{len(self.backoff)} orders")
        V = self.V
        if tuple(self.vocab[:3]) != ("<unk>", "<s>", "</s>"):
            raise ValueError(f"vocab must start with <unk> <s> </s>, got {list(self.vocab[:3])}")
        if any(not isinstance(w, str) or not w for w in self.vocab) or len(set(self.vocab)) != V:
            raise ValueError("vocab words must be distinct non-empty strings")
        prev_n = 1
        for k, (key, lp, bo) in enumerate(zip(self.keys, self.logprob, self.backoff), start=1):
            for name, a in (("keys", key), ("logprob", lp), ("backoff", bo)):
                if not isinstance(a, np.ndarray) or a.ndim != 1:
                    raise ValueError(f"{name}{k} must be a 1-D array, got shape "
                                     f"{getattr(a, 'shape', type(a).__name__)}")
            if key.dtype.kind not in "iu":
                raise ValueError(f"keys{k} must be integers, got {key.dtype}")
            if lp.dtype.kind != "f" or bo.dtype.kind != "f":
                raise ValueError(f"logprob{k} and backoff{k} must be floats, got {lp.dtype}, {bo.dtype}")
            if not (len(key) == len(lp) == len(bo)):
                raise ValueError(f"order {k}: keys/logprob/backoff lengths differ "
                                 f"({len(key)}, {len(lp)}, {len(bo)})")
            if k == 1 and not np.array_equal(key, np.arange(V)):
                raise ValueError(f"keys1 must be 0..V-1 (V = {V})")
            if len(key) and (int(key.min()) < 0 or int(key.max()) >= prev_n * V):
                raise ValueError(f"keys{k} out of range: each must be in [0, {prev_n * V}) "
                                 f"(context index * V + word)")
            if len(key) > 1 and not (np.diff(key) > 0).all():
                raise ValueError(f"order {k}: keys are not sorted and unique")
            if np.isnan(lp).any() or (lp > 1e-6).any():
                raise ValueError(f"logprob{k} holds NaN or a value above 0 (a probability above 1)")
            if np.isnan(bo).any() or np.isposinf(bo).any():
                raise ValueError(f"backoff{k} holds NaN or +inf")
            prev_n = len(key)


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
