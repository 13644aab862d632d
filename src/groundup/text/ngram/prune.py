"""Entropy-based pruning of a backoff model (Stolcke 1998, "Entropy-based Pruning of Backoff
Language Models"), as SRILM's ``ngram -prune``.

Notation: an explicit n-gram (h, w) of order k; h' = h without its first word (the backoff
context); S(h) the words listed after h; p the model, p' the model without (h, w); alpha(h) the
backoff weight (10^backoff); P(h) the probability of the context h.

Removing (h, w) makes p'(w | h) = alpha'(h) p(w | h') and renormalises h's backoff mass
(Stolcke, eq. 7)::

    alpha'(h) = (1 - sum_{v in S(h)} p(v|h) + p(w|h)) / (1 - sum_{v in S(h)} p(v|h') + p(w|h'))

Only the distribution after h changes, so the relative entropy D(p || p') is (eqs. 8-10)::

    D = -P(h) { p(w|h) [ln p(w|h') + ln alpha'(h) - ln p(w|h)]
                + [ln alpha'(h) - ln alpha(h)] (1 - sum_{v in S(h)} p(v|h)) }

and the perplexity grows by the factor e^D. An n-gram is pruned when e^D - 1 < threshold, the
relative perplexity increase SRILM's ``-prune`` compares with its threshold. As in the paper
(section 3.3), every D is computed against the original model, the pruned n-grams are removed
together, and the backoff weights are then recomputed (eq. 7 over what is kept).

P(h) is the chain rule through the model itself, as SRILM does: P(w_1 .. w_j) = P(w_1 ..
w_{j-1}) p(w_j | w_1 .. w_{j-1}), with P(<s>) = 1 (a sentence starts for sure) and each factor
the listed value (every prefix of a listed n-gram is listed).

One difference from SRILM: SRILM keeps an n-gram that is the context of a longer one; we also
keep one that is the suffix of a longer kept one, so the pruned model stays closed under
prefixes and suffixes, as lmplz's models are (KenLM's lookup, and ours, stop at the first
missing order). Unigrams are never pruned.
"""
from __future__ import annotations

import numpy as np

from .counts import ngram_words
from .tables import BackoffTables


def suffix_ids(t: BackoffTables, k: int) -> np.ndarray:
    """(n_k,) id in order k-1 of each order-k n-gram's suffix w_2..w_k (every suffix of a
    listed n-gram is listed in lmplz's models; a ValueError names the first that is not)."""
    W = ngram_words(t.keys, t.V, k)  # (n_k, k)
    ids = W[:, 1]
    for j in range(2, k):
        key = ids * t.V + W[:, j]
        pos = np.searchsorted(t.keys[j - 1], key)
        pos_ok = np.minimum(pos, len(t.keys[j - 1]) - 1)
        if not (t.keys[j - 1][pos_ok] == key).all():
            raise ValueError(f"a {k}-gram's suffix is not listed: the model is not suffix-closed")
        ids = pos
    return ids


def context_probability(t: BackoffTables) -> list[np.ndarray]:
    """P[j-1] (n_j,): P(w_1 .. w_j) by the chain rule through the listed values; P(<s>) = 1."""
    P = [10.0 ** t.logprob[0]]
    P[0][1] = 1.0  # <s>
    for j in range(2, t.order + 1):
        P.append(P[-1][t.keys[j - 1] // t.V] * 10.0 ** t.logprob[j - 1])
    return P


def entropy_deltas(t: BackoffTables) -> list[np.ndarray]:
    """D[k-1] (n_k,): the relative entropy D(p || p') of removing each order-k n-gram alone
    (module docstring, Stolcke eqs. 7-10), for k >= 2; D[0] is empty (unigrams stay)."""
    P = context_probability(t)
    out = [np.zeros(0)]
    for k in range(2, t.order + 1):
        c = t.keys[k - 1] // t.V  # (n_k,) context id in order k-1
        s = suffix_ids(t, k)
        p_h = 10.0 ** t.logprob[k - 1]  # p(w | h)
        p_h1 = 10.0 ** t.logprob[k - 2][s]  # p(w | h')
        n_ctx = len(t.keys[k - 2])
        num = np.bincount(c, weights=p_h, minlength=n_ctx)[c]  # sum_{v in S(h)} p(v | h)
        den = np.bincount(c, weights=p_h1, minlength=n_ctx)[c]  # sum_{v in S(h)} p(v | h')
        ln_alpha = np.log(10.0) * t.backoff[k - 2][c]
        with np.errstate(divide="ignore", invalid="ignore"):
            ln_alpha_new = np.log(1.0 - num + p_h) - np.log(1.0 - den + p_h1)
            D = -P[k - 2][c] * (p_h * (np.log(p_h1) + ln_alpha_new - np.log(p_h))
                                + (ln_alpha_new - ln_alpha) * (1.0 - num))
        # D >= 0 (a relative entropy; float rounding can give -1e-18); never prune what the
        # formula cannot price (a NaN or inf from a degenerate context)
        out.append(np.where(np.isfinite(D), np.maximum(D, 0.0), np.inf))
    return out


def prune_entropy(t: BackoffTables, threshold: float, *, deltas: list[np.ndarray] | None = None
                  ) -> BackoffTables:
    """The model without the n-grams whose removal raises perplexity by a factor < 1 +
    threshold (e^D - 1 < threshold), backoff weights recomputed (module docstring).
    ``deltas``: :func:`entropy_deltas` of ``t``, when several thresholds are tried."""
    if not (threshold >= 0 and np.isfinite(threshold)):
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold}")
    D = entropy_deltas(t) if deltas is None else deltas
    N, V = t.order, t.V
    keep = [np.ones(len(k), dtype=bool) for k in t.keys]
    for k in range(N, 1, -1):  # highest order first: what is kept protects its context and suffix
        prunable = np.expm1(D[k - 1]) < threshold
        if k < N:
            kept_above = keep[k]
            protected = np.zeros(len(t.keys[k - 1]), dtype=bool)
            protected[t.keys[k][kept_above] // V] = True  # contexts of kept (k+1)-grams
            protected[suffix_ids(t, k + 1)[kept_above]] = True  # their suffixes
            prunable &= ~protected
        keep[k - 1] = ~prunable
    # re-index: the kept (k+1)-grams' contexts get their new ids in order k
    new_id = [np.cumsum(m) - 1 for m in keep]
    keys = [t.keys[0].copy()]
    for k in range(2, N + 1):
        old = t.keys[k - 1][keep[k - 1]]
        keys.append(new_id[k - 2][old // V] * V + old % V)
    logprob = [lp[m].copy() for lp, m in zip(t.logprob, keep)]
    pruned = BackoffTables(list(t.vocab), keys, logprob, [bo[m].copy() for bo, m in zip(t.backoff, keep)],
                           {**t.info, "pruned": {"method": "entropy (Stolcke 1998)", "threshold": threshold,
                                                 "ngrams_before": [len(x) for x in t.keys]}})
    recompute_backoffs(pruned)
    return pruned


def recompute_backoffs(t: BackoffTables) -> None:
    """alpha(h) = (1 - sum_{v in S(h)} p(v|h)) / (1 - sum_{v in S(h)} p(v|h')) over the listed
    words (Katz 1987; Stolcke eq. 7), in place; a context with no listed word gets alpha = 1."""
    for k in range(2, t.order + 1):
        c = t.keys[k - 1] // t.V
        n_ctx = len(t.keys[k - 2])
        num = np.bincount(c, weights=10.0 ** t.logprob[k - 1], minlength=n_ctx)
        den = np.bincount(c, weights=10.0 ** t.logprob[k - 2][suffix_ids(t, k)], minlength=n_ctx)
        with np.errstate(divide="ignore", invalid="ignore"):
            bo = np.log10(1.0 - num) - np.log10(1.0 - den)
        ok = np.isfinite(bo) & (1.0 - den > 1e-12)
        t.backoff[k - 2] = np.where(ok, bo, t.backoff[k - 2])
    t.backoff[-1] = np.zeros(len(t.keys[-1]))
