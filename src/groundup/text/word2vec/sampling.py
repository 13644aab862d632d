"""The two samplers of word2vec: sub-sampling of frequent words, and the noise distribution.

Sub-sampling (Mikolov et al. 2013b, section 2.3, in word2vec.c's form, which differs from the
paper's ``1 - sqrt(t/f)``): a word with corpus count ``c`` among ``T`` retained tokens is kept
with probability

    p_keep(w) = (sqrt(c / (s*T)) + 1) * (s*T) / c          (capped at 1)

where ``s`` is the ``sample`` threshold (word2vec.c ``TrainModelThread``; gensim
``Word2Vec.prepare_vocab``). ``s = 0`` keeps every word.

Negative sampling draws noise words from ``P_n(w) = c(w)^0.75 / sum_v c(v)^0.75`` (section
2.2). word2vec.c fills a 10^8-entry table and gensim bisects a cumulative table; we use Walker's
alias method (Vose's construction), O(1) per draw with two V-sized arrays: pick a column ``k``
uniformly, keep it with probability ``prob[k]``, else take ``alias[k]``.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConfigError


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """(V,) float32 probability of keeping each occurrence of each word."""
    if sample < 0:
        raise ConfigError(f"sample must be >= 0, got {sample}")
    counts = np.asarray(counts, dtype=np.float64)
    if sample == 0:
        return np.ones(len(counts), dtype=np.float32)
    st = sample * counts.sum()
    p = (np.sqrt(counts / st) + 1.0) * st / counts
    return np.minimum(p, 1.0).astype(np.float32)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """(V,) float64 P_n(w) proportional to count^power."""
    w = np.asarray(counts, dtype=np.float64) ** power
    return w / w.sum()


def alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias method for the distribution ``p`` (V,).

    Returns ``prob`` (V,) float32 and ``alias`` (V,) int32 such that drawing ``k`` uniformly
    from 0..V-1 and returning ``k`` with probability ``prob[k]``, else ``alias[k]``, samples p.
    """
    p = np.asarray(p, dtype=np.float64)
    V = len(p)
    scaled = p * V / p.sum()
    prob = np.ones(V, dtype=np.float64)
    alias = np.arange(V, dtype=np.int32)
    small = [i for i in range(V) if scaled[i] < 1.0]
    large = [i for i in range(V) if scaled[i] >= 1.0]
    s = scaled.tolist()
    while small and large:
        lo, hi = small.pop(), large.pop()
        prob[lo] = s[lo]
        alias[lo] = hi
        s[hi] = s[hi] + s[lo] - 1.0
        (small if s[hi] < 1.0 else large).append(hi)
    # leftovers are 1 up to rounding
    return prob.astype(np.float32), alias


def alias_probabilities(prob: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """The exact distribution an alias table samples (for tests): (V,) float64."""
    V = len(prob)
    out = prob.astype(np.float64) / V
    np.add.at(out, alias, (1.0 - prob.astype(np.float64)) / V)
    return out
