"""Interpolated Kneser-Ney and modified Kneser-Ney, estimated the way KenLM's lmplz does.

Notation: N order, k an order in 1..N, a(g) the *adjusted* count of an n-gram g, D_k(a) the
discount of order k for adjusted count a (a >= 3 shares D_k(3)), V_u the uniform vocabulary
(every word except ``<s>``, ``<unk>`` included), n_j the number of k-grams with a = j.

Chen & Goodman (1998), "An empirical study of smoothing techniques", section 3 and eq. (26):

    adjusted count a(w_1..w_k) = c(w_1..w_k)                   if k = N or w_1 = <s>
                               = N1+(. w_1..w_k)               otherwise (distinct left words)
    Y   = n_1 / (n_1 + 2 n_2)
    D_j = j - (j + 1) Y n_{j+1} / n_j                           j = 1, 2, 3       (modified KN)
    D   = Y                                                     for every count   (plain KN)
    p(w | h) = (a(hw) - D(a(hw))) / sum_v a(hv)  +  gamma(h) p(w | h')
    gamma(h) = (D_1 N_1(h.) + D_2 N_2(h.) + D_3 N_3+(h.)) / sum_v a(hv)
    p(w) at the bottom: (a(w) - D(a(w))) / sum_v a(v)  +  gamma() / |V_u|

This matches lmplz (kpu/kenlm lm/builder: adjust_counts.cc, initial_probabilities.cc,
interpolate.cc), including: ``<s>`` gets probability 1 (log10 0) and is never predicted;
``<unk>`` is a zeroton that receives gamma()/|V_u|; the backoff weight of a context is its gamma.

One detail of lmplz is mirrored on purpose (``lmplz_count_of_counts=True``): when it flushes
its streams at the very end, lmplz adds the *raw* count instead of the adjusted count to the
count-of-counts for the n-grams that are suffixes of the last N-gram in its sort order
(adjust_counts.cc, the final loop). That moves at most one n-gram per order between two
count-of-count bins, which is invisible on PTB but changes the discounts on tiny corpora.

Degenerate count-of-counts (tiny or artificial corpora, where lmplz stops with "Could not
calculate Kneser-Ney discounts"): we name the count that is missing or the discount that is out
of range, and use lmplz's ``--discount_fallback`` values D = (0.5, 1, 1.5) for that order.
Unlike lmplz we also reject a discount of exactly 0, which would give unseen events probability 0
(an infinite perplexity) — so Kneser-Ney here never assigns probability 0 to any word.
"""
from __future__ import annotations

import warnings

import numpy as np

from ...errors import ConfigError
from .corpus import BOS_ID
from .counts import NgramCounts, first_words
from .tables import BackoffTables

FALLBACK = (0.5, 1.0, 1.5)  # lmplz --discount_fallback defaults: D1, D2, D3+


class DiscountFallbackWarning(UserWarning):
    """The count-of-counts of some order cannot give valid discounts; fallback values used."""


def adjusted_counts(c: NgramCounts) -> list[np.ndarray]:
    """a(g) per order: raw counts at order N and for n-grams starting with ``<s>``, otherwise the
    number of distinct words seen to the left (continuation counts)."""
    N = c.order
    first = first_words(c.keys, c.V)
    out: list[np.ndarray] = [np.empty(0)] * N
    out[N - 1] = c.counts[N - 1].copy()
    for k in range(N - 1, 0, -1):
        left = np.bincount(c.suffix[k], minlength=len(c.keys[k - 1]))  # N1+(. g) from (k+1)-grams
        out[k - 1] = np.where(first[k - 1] == BOS_ID, c.counts[k - 1], left).astype(np.int64)
    return out


def count_of_counts(c: NgramCounts, adjusted: list[np.ndarray], *,
                    lmplz_count_of_counts: bool = True) -> np.ndarray:
    """(N, 5) n[k-1, j] = number of k-grams with adjusted count j, j = 0..4."""
    N = c.order
    n = np.zeros((N, 5), dtype=np.int64)
    for k in range(1, N + 1):
        a = adjusted[k - 1]
        n[k - 1] = np.bincount(np.minimum(a, 5), minlength=6)[:5]
        n[k - 1, 0] = 0
    if lmplz_count_of_counts and N > 1 and c.last_full:
        chain = []
        for gram in final_chain_grams(c.last_full):
            gid = _lookup(c, gram)
            if gid < 0:
                break
            k = len(gram)
            chain.append((k, int(c.counts[k - 1][gid]), int(adjusted[k - 1][gid])))
        raw_in_final_flush(n, chain)
    return n


def final_chain_grams(full: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The suffixes of lmplz's last padded N-gram that its final flush counts with raw counts:
    lengths 1..N-1, up to (not including) one that starts with or contains <s> (an n-gram
    starting with <s> has raw = adjusted anyway). The caller stops at the first one that is not
    an n-gram of the corpus."""
    N = len(full)
    out = []
    for k in range(1, N):
        gram = full[N - k:]
        if gram[0] == BOS_ID or BOS_ID in gram[1:]:
            break
        out.append(gram)
    return out


def raw_in_final_flush(n: np.ndarray, chain: list[tuple[int, int, int]]) -> None:
    """Move each (order, raw, adjusted) of the chain from its adjusted to its raw count bin."""
    for k, raw, adj in chain:
        if adj < 5:
            n[k - 1, adj] -= 1 if adj else 0
        if raw < 5:
            n[k - 1, raw] += 1 if raw else 0


def _lookup(c: NgramCounts, gram: tuple[int, ...]) -> int:
    gid = gram[0]
    for k in range(2, len(gram) + 1):
        key = gid * c.V + gram[k - 1]
        keys = c.keys[k - 1]
        j = int(np.searchsorted(keys, key))
        if j >= len(keys) or keys[j] != key:
            return -1
        gid = j
    return gid


def discounts(n: np.ndarray, *, modified: bool = True) -> tuple[np.ndarray, list[str]]:
    """(N, 4) discounts D[k-1, a] for adjusted count a = 0..3 (a >= 3 uses index 3), and the
    warnings for orders whose count-of-counts are degenerate (fallback used there)."""
    N = len(n)
    D = np.zeros((N, 4))
    problems = []
    for k in range(1, N + 1):
        n1, n2, n3, n4 = (int(x) for x in n[k - 1, 1:5])
        why = None
        missing = [j for j, nj in ((1, n1), (2, n2), (3, n3)) if nj == 0] if modified else \
            [j for j, nj in ((1, n1), (2, n2)) if nj == 0]
        if missing:
            j = missing[0]
            why = (f"no {k}-gram has adjusted count {j} (count-of-counts n{j} = 0), so "
                   f"the discount for count {j} is undefined")
        else:
            Y = n1 / (n1 + 2.0 * n2)
            if modified:
                d = [j - (j + 1) * Y * nn / nj for j, nj, nn in ((1, n1, n2), (2, n2, n3), (3, n3, n4))]
            else:
                d = [Y, Y, Y]
            for j, dj in enumerate(d, start=1):
                if not (0.0 < dj <= (j if modified else 1.0)):
                    why = (f"{k}-gram discount D{j if modified else ''} = {dj:.4g} is out of range "
                           f"(0, {j if modified else 1}] (count-of-counts n1..n4 = {n1}, {n2}, {n3}, {n4})")
                    break
            if why is None:
                D[k - 1, 1:] = d
        if why is not None:
            D[k - 1, 1:] = FALLBACK if modified else (FALLBACK[0],) * 3
            used = "D1=0.5 D2=1 D3+=1.5" if modified else "D=0.5"
            problems.append(f"order {k}: {why}; using the fallback discounts {used} "
                            "(lmplz --discount_fallback)")
    return D, problems


def prune_thresholds(prune, N: int) -> list[int]:
    """lmplz's ``--prune`` values, one per order from 1 (the last repeats; none = no pruning):
    an n-gram of order k >= 2 whose raw count is <= t_k is dropped. Unigrams are never
    pruned (lmplz keeps them too when N > 1), so t_1 must be 0; non-decreasing, so that an
    n-gram's context and suffix (counts >= its own) are kept whenever it is."""
    t = [int(x) for x in prune] if prune else [0]
    if len(t) > N:
        raise ConfigError(f"--prune gives {len(t)} thresholds for a model of order {N}")
    if any(x < 0 for x in t) or t[0] != 0:
        raise ConfigError(f"--prune thresholds must be >= 0 and 0 for unigrams, got {t}")
    if any(b < a for a, b in zip(t, t[1:])):
        raise ConfigError(f"--prune thresholds must not decrease (as lmplz), got {t}")
    return t + [t[-1]] * (N - len(t))


def gamma_numerator(ctx: np.ndarray, dk: np.ndarray, ak: np.ndarray, pruned, n_ctx: int | None):
    """sum over a context's n-grams of D(a), where a pruned n-gram gives its whole adjusted
    count a to gamma instead (lmplz initial_probabilities.cc, AddRight: "unused probability
    mass from pruning"), so every distribution still sums to 1."""
    w = dk if pruned is None else np.where(pruned, ak, dk)
    return np.bincount(ctx, weights=w, minlength=n_ctx or 0)


def drop_pruned(keys: list[np.ndarray], values: list[list[np.ndarray]], keep: list, V: int):
    """Remove the pruned n-grams from the trie arrays and renumber the contexts."""
    new_id = np.arange(V)
    for k in range(2, len(keys) + 1):
        kk = keep[k - 1]
        if kk is None:
            kk = np.ones(len(keys[k - 1]), dtype=bool)
        key = keys[k - 1]
        keys[k - 1] = new_id[key[kk] // V] * V + key[kk] % V
        for vals in values:
            vals[k - 1] = vals[k - 1][kk]
        new_id = np.cumsum(kk) - 1


def estimate(c: NgramCounts, *, modified: bool = True,
             lmplz_count_of_counts: bool = True, prune=()) -> BackoffTables:
    """Interpolated (modified) Kneser-Ney backoff tables from raw counts; ``prune``: lmplz's
    count-pruning thresholds (:func:`prune_thresholds`)."""
    N, V = c.order, c.V
    t = prune_thresholds(prune, N)
    keep = [None] * N
    a = adjusted_counts(c)
    n = count_of_counts(c, a, lmplz_count_of_counts=lmplz_count_of_counts)
    D, problems = discounts(n, modified=modified)
    for p in problems:
        warnings.warn(p, DiscountFallbackWarning, stacklevel=2)
    Vu = V - 1  # uniform over every word but <s>
    logprob, backoff = [], []

    # order 1: discounted adjusted counts, interpolated with the uniform distribution
    a1 = a[0].astype(np.float64)
    d1 = D[0][np.minimum(a[0], 3)]  # (V,) D(a(w)); D(0) = 0
    gamma0 = d1.sum() / a1.sum()
    p = (a1 - d1) / a1.sum() + gamma0 / Vu  # (V,)
    p[BOS_ID] = 1.0  # never predicted; lmplz writes log10 p(<s>) = 0
    for k in range(2, N + 1):
        ak = a[k - 1].astype(np.float64)
        dk = D[k - 1][np.minimum(a[k - 1], 3)]
        ctx = c.keys[k - 1] // V  # (n_k,) context id at order k-1
        n_ctx = len(c.keys[k - 2])
        den = np.bincount(ctx, weights=ak, minlength=n_ctx)  # sum_v a(hv)
        pruned = c.counts[k - 1] <= t[k - 1] if t[k - 1] > 0 else None
        gamma = np.divide(gamma_numerator(ctx, dk, ak, pruned, n_ctx), den,
                          out=np.ones(n_ctx), where=den > 0)  # 1 (log 0) if h is no context
        keep[k - 1] = None if pruned is None else ~pruned
        pk = (ak - dk) / den[ctx] + gamma[ctx] * p[c.suffix[k - 1]]
        logprob.append(np.minimum(np.log10(p), 0.0))  # as lmplz: no log-prob above 0
        backoff.append(np.log10(gamma))
        p = pk  # only the order below is needed in linear form
    logprob.append(np.minimum(np.log10(p), 0.0))
    backoff.append(np.zeros(len(c.keys[N - 1])))
    info = {"method": "mkn" if modified else "kn", "discounts": D[:, 1:].tolist(),
            "count_of_counts": n[:, 1:].tolist(), "warnings": problems}
    keys = list(c.keys)
    if any(x is not None for x in keep):
        drop_pruned(keys, [logprob, backoff], keep, V)
        info["prune"] = t
    return BackoffTables(c.vocab, keys, logprob, backoff, info)
