"""Katz backoff with Good-Turing discounting.

Notation: c raw count of an n-gram, n_r the number of k-grams seen exactly r times (per order),
K the count above which counts are trusted (Katz uses 5), d_r the discount ratio.

Good (1953) / Katz (1987), eq. (13) in Chen & Goodman (1998):

    r* = (r + 1) n_{r+1} / n_r
    d_r = (r*/r - (K+1) n_{K+1} / n_1) / (1 - (K+1) n_{K+1} / n_1)      1 <= r <= K;  d_r = 1 above K
    p(w | h) = d_{c(hw)} c(hw) / c(h)                                     for seen hw
    b(h) = (1 - sum_{v seen after h} p(v | h)) / (1 - sum_{v seen after h} p(v | h'))
    p(w) at the bottom: d_{c(w)} c(w) / N + (left-over mass) / |V_u|    (as lmplz does for KN,
          the unigram left-over is spread uniformly over every word but <s>, <unk> included,
          so an unknown word never gets probability 0)

Degenerate Good-Turing (a count-of-counts is 0, or some d_r falls outside (0, 1], which happens
on small data where n_r is not decreasing): the trusted range K is lowered until every d_r is
valid (a documented Katz variant, Chen & Goodman section 2.4); if even K = 1 fails, singletons
get the fallback d_1 = 0.5 (absolute discount 0.5) for that order. Each such case is reported.

A context whose continuations all have counts above K keeps all its mass under Katz's rule, so
an unseen word after it would get probability 0 (common in WikiText, e.g. after "= ="). For
those contexts only, every count is reduced by an absolute 0.5 (Ney et al. 1994's absolute
discounting), which leaves n(h.) * 0.5 / c(h) to back off with; this is reported as a warning.
"""
from __future__ import annotations

import warnings

import numpy as np

from .corpus import BOS_ID
from .counts import NgramCounts
from .kneser_ney import DiscountFallbackWarning
from .tables import BackoffTables, listed_lower_mass, log10_or_ninf

ZERO_LEFT_D = 0.5  # absolute discount for contexts that Katz would leave without any mass


def good_turing_ratios(counts: np.ndarray, K: int = 5) -> tuple[np.ndarray, int, str | None]:
    """(K+1,) d_r for r = 0..K (index 0 unused), the K actually used, and a note if lowered."""
    n = np.bincount(np.minimum(counts, K + 1), minlength=K + 2).astype(np.float64)
    for Kt in range(K, 0, -1):
        if n[1] == 0:
            break
        common = (Kt + 1) * n[Kt + 1] / n[1]
        if common >= 1.0:
            continue
        d = np.ones(K + 1)
        ok = True
        for r in range(1, Kt + 1):
            if n[r] == 0:
                ok = False
                break
            dr = ((r + 1) * n[r + 1] / n[r] / r - common) / (1.0 - common)
            if not (0.0 < dr <= 1.0):
                ok = False
                break
            d[r] = dr
        if ok:
            note = None if Kt == K else f"Good-Turing valid only up to K = {Kt} (asked {K})"
            return d, Kt, note
    d = np.ones(K + 1)
    d[1] = 0.5
    return d, 0, ("Good-Turing discounts are undefined or out of (0, 1] for every K "
                  f"(count-of-counts n1..n{K + 1} = {n[1:K + 2].astype(int).tolist()}); "
                  "using the fallback d1 = 0.5")


def estimate(c: NgramCounts, K: int = 5) -> BackoffTables:
    N = c.order
    Vu = c.V - 1
    problems, ratios = [], []

    def discounted(k: int) -> np.ndarray:
        d, Kt, note = good_turing_ratios(c.counts[k - 1], K)
        ratios.append(d[1:].tolist())
        if note:
            problems.append(f"order {k}: {note}")
        cnt = c.counts[k - 1]
        return np.where(cnt > K, cnt, d[np.minimum(cnt, K)] * cnt)  # d_r * r; trusted above K

    p1 = discounted(1) / c.counts[0].sum()  # <s> has count 0
    if p1.sum() >= 1.0 - 1e-12:  # no unigram count <= K: same zero-left-over rule as below
        problems.append(f"order 1: only counts above K = {K}; unigram counts are discounted "
                        f"by {ZERO_LEFT_D} (absolute) instead")
        p1 = np.maximum(c.counts[0] - ZERO_LEFT_D, 0.0) / c.counts[0].sum()
    p1 += (1.0 - p1.sum()) / Vu
    p1[BOS_ID] = 1.0
    logprob = [log10_or_ninf(p1)]
    backoff = []
    for k in range(2, N + 1):
        ck = discounted(k)
        raw = c.counts[k - 1]
        ctx = c.keys[k - 1] // c.V
        n_ctx = len(c.keys[k - 2])
        tot = np.bincount(ctx, weights=raw, minlength=n_ctx)  # c(h)
        pk = ck / tot[ctx]
        left = 1.0 - np.bincount(ctx, weights=pk, minlength=n_ctx)
        full = (left <= 1e-12) & (tot > 0)  # every continuation trusted: nothing left over
        if full.any():
            problems.append(f"order {k}: {int(full.sum())} contexts have only counts above "
                            f"K = {K}, so Katz leaves them no mass for unseen words; their "
                            f"counts are discounted by {ZERO_LEFT_D} (absolute) instead")
            fix = full[ctx]
            pk[fix] = (raw[fix] - ZERO_LEFT_D) / tot[ctx[fix]]
            left = 1.0 - np.bincount(ctx, weights=pk, minlength=n_ctx)
        logprob.append(log10_or_ninf(pk))
        lower = 1.0 - listed_lower_mass(logprob[k - 2], c.suffix[k - 1], ctx, n_ctx)
        b = np.divide(left, lower, out=np.zeros(n_ctx), where=lower > 1e-12)
        b = np.clip(b, 0.0, None)
        b[tot == 0] = 1.0  # not a context
        backoff.append(log10_or_ninf(b))
    backoff.append(np.zeros(len(c.keys[N - 1])))
    for p in problems:
        warnings.warn(p, DiscountFallbackWarning, stacklevel=2)
    return BackoffTables(c.vocab, c.keys, logprob, backoff,
                         {"method": "katz", "K": K, "good_turing_ratios": ratios,
                          "warnings": problems})
