"""The two textbook estimators: maximum likelihood and add-k (Laplace when k = 1).

Notation: c(g) raw count, c(h) = sum_v c(hv) the count of h as a context, V_u the words that
can be predicted (every word but ``<s>``; ``<unk>`` included), n(h.) the number of distinct
words seen after h.

MLE (Jurafsky & Martin, SLP3 eq. 3.12):

    p(w | h) = c(hw) / c(h)                 unseen hw in a seen context: probability 0
    b(h) = 0 (log10 -inf) for every seen context, so an unseen event scores -inf
    a context never seen at all backs off to its longest seen suffix (b = 1 there by the ARPA
    convention), so MLE is only infinite where the data really say "never seen after h"

Add-k (SLP3 eq. 3.24), written as a backoff model so that it fits the ARPA format:

    p(w | h) = (c(hw) + k) / (c(h) + k |V_u|)            for seen hw (exactly add-k)
    unseen mass m(h) = k (|V_u| - n(h.)) / (c(h) + k |V_u|)   (exactly add-k's unseen mass)
    b(h) = m(h) / (1 - sum_{v seen after h} p(v | h'))

so an unseen word gets add-k's total unseen mass shared in proportion to the lower-order add-k
model rather than uniformly (the uniform share is not expressible with ARPA backoff). At the
unigram level both coincide: p(w) = (c(w) + k) / (N + k |V_u|), ``<unk>`` included with c = 0.
"""
from __future__ import annotations

import numpy as np

from .corpus import BOS_ID
from .counts import NgramCounts
from .tables import BackoffTables, listed_lower_mass, log10_or_ninf


def _context_totals(c: NgramCounts, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    ctx = c.keys[k - 1] // c.V
    n_ctx = len(c.keys[k - 2])
    return ctx, np.bincount(ctx, weights=c.counts[k - 1], minlength=n_ctx), n_ctx


def estimate_mle(c: NgramCounts) -> BackoffTables:
    N = c.order
    c1 = c.counts[0].astype(np.float64)
    p1 = c1 / c1.sum()
    p1[BOS_ID] = 1.0
    logprob = [log10_or_ninf(p1)]
    backoff = []
    for k in range(2, N + 1):
        ctx, tot, n_ctx = _context_totals(c, k)
        logprob.append(log10_or_ninf(c.counts[k - 1] / tot[ctx]))
        backoff.append(np.where(tot > 0, -np.inf, 0.0))  # seen context: unseen events are impossible
    backoff.append(np.zeros(len(c.keys[N - 1])))
    return BackoffTables(c.vocab, c.keys, logprob, backoff, {"method": "mle", "warnings": []})


def estimate_addk(c: NgramCounts, k_add: float = 1.0) -> BackoffTables:
    if not k_add > 0:
        raise ValueError(f"add-k needs k > 0, got {k_add}")
    N = c.order
    Vu = c.V - 1
    c1 = c.counts[0].astype(np.float64)
    p1 = (c1 + k_add) / (c1.sum() + k_add * Vu)
    p1[BOS_ID] = 1.0
    logprob = [np.log10(p1)]
    backoff = []
    for k in range(2, N + 1):
        ctx, tot, n_ctx = _context_totals(c, k)
        den = tot + k_add * Vu  # (n_ctx,)
        logprob.append(np.log10((c.counts[k - 1] + k_add) / den[ctx]))
        seen = np.bincount(ctx, minlength=n_ctx)  # n(h.)
        unseen_mass = k_add * (Vu - seen) / den
        lower = listed_lower_mass(logprob[k - 2], c.suffix[k - 1], ctx, n_ctx)
        b = np.divide(unseen_mass, 1.0 - lower, out=np.zeros(n_ctx), where=(1.0 - lower) > 1e-12)
        b[tot == 0] = 1.0  # not a context
        backoff.append(log10_or_ninf(b))
    backoff.append(np.zeros(len(c.keys[N - 1])))
    return BackoffTables(c.vocab, c.keys, logprob, backoff,
                         {"method": "addk", "k": k_add, "warnings": []})
