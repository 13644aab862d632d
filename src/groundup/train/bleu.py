"""BLEU (Papineni, Roukos, Ward & Zhu 2002), corpus- and sentence-level, with the smoothing
methods of Chen & Cherry (2014, "A systematic comparison of smoothing techniques for
sentence-level BLEU").

Notation: c the candidate length, r the effective reference length (the closest reference
length per sentence, ties to the shorter, summed over the corpus), p_n the modified n-gram
precision = sum over sentences of clipped n-gram matches / sum of candidate n-grams,
w_n = 1/N the weights.

    BLEU = BP * exp(sum_n w_n log p_n),    BP = 1 if c > r else exp(1 - r / c)    (eq. 1-2)

Counts are pooled over the corpus before dividing (corpus BLEU is not the mean of sentence
BLEUs). Tokens are any hashable values that are not lists or tuples (words or ids); nothing is
tokenised here.

Matches nltk's ``corpus_bleu`` / ``sentence_bleu`` (test-only oracle) for smooth = None,
"method1" .. "method4" whenever every candidate has at least max_n tokens. Where conventions
differ (documented in docs/metric_losses.md):
* nltk floors each sentence's n-gram count at 1 (``max(1, count)``), so a candidate shorter
  than n adds a phantom n-gram to the denominator; we count what is there, like sacrebleu and
  the original mteval script.
* without smoothing, a zero p_n gives exactly 0.0 here; nltk substitutes the smallest float and
  returns a number around 1e-77 (with a warning).
* sacrebleu reports 100 x BLEU, tokenises raw text itself (13a) and, for sentence BLEU, uses
  the "effective order" (drops orders with no candidate n-grams); its "floor" smoothing is
  method1, "exp" is method3 and "add-k" (k = 1) is method2.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Hashable, Sequence

SMOOTHING = (None, "method1", "method2", "method3", "method4")


def _is_seq(x) -> bool:
    return isinstance(x, (list, tuple))


def _ngrams(tokens: Sequence[Hashable], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _sentence_stats(candidate, references, max_n):
    """Clipped matches and totals per order, candidate length and closest reference length."""
    matches, totals = [0] * max_n, [0] * max_n
    for n in range(1, max_n + 1):
        counts = _ngrams(candidate, n)
        max_ref: Counter = Counter()
        for ref in references:
            for g, c in _ngrams(ref, n).items():
                max_ref[g] = max(max_ref[g], c)
        matches[n - 1] = sum(min(c, max_ref[g]) for g, c in counts.items())  # clipping
        totals[n - 1] = sum(counts.values())
    c = len(candidate)
    r = min((len(ref) for ref in references), key=lambda L: (abs(L - c), L))
    return matches, totals, c, r


def _score(matches, totals, c, r, max_n, smooth, epsilon, k) -> float:
    if c == 0 or matches[0] == 0:
        return 0.0
    bp = 1.0 if c > r else math.exp(1.0 - r / c)
    p = []
    nist_k = 1  # NIST geometric smoothing counter (mteval-v13a's k)
    for i, (m, t) in enumerate(zip(matches, totals)):
        if smooth == "method2" and i > 0:  # Lin & Och (2004): add one to both, n > 1
            p.append((m + 1) / (t + 1))
        elif m > 0:
            p.append(m / t)
        elif smooth is None:
            return 0.0  # log 0: BLEU is zero without smoothing
        elif smooth == "method1":  # add epsilon to zero match counts
            p.append(epsilon / max(t, 1))
        elif smooth == "method3":  # NIST: 1 / (2^k t) for the k-th zero order
            p.append(1.0 / (2 ** nist_k * max(t, 1)))
            nist_k += 1
        elif smooth == "method4":  # Chen & Cherry 4: scale 1/2^k by ln(c) / K
            if c > 1:
                p.append(1.0 / (2 ** nist_k * k / math.log(c)) / max(t, 1))
                nist_k += 1
            else:
                return 0.0
        else:  # method2 for n = 1 with a zero match was handled above (matches[0] > 0)
            return 0.0
    return bp * math.exp(sum(math.log(x) for x in p) / max_n)


def _validate(max_n, smooth):
    if not isinstance(max_n, int) or isinstance(max_n, bool) or max_n < 1:
        raise ValueError(f"max_n must be an int >= 1, got {max_n!r}")
    if smooth not in SMOOTHING:
        raise ValueError(f"smooth must be one of {SMOOTHING}, got {smooth!r}")


def _as_references(refs):
    """One reference (a token list) or several (a list of token lists) -> list of references."""
    if not _is_seq(refs):
        raise ValueError(f"references must be a token list or a list of them, got {type(refs).__name__}")
    if len(refs) > 0 and all(_is_seq(r) for r in refs):
        return [list(r) for r in refs]
    return [list(refs)]


def corpus_bleu(candidates: Sequence[Sequence[Hashable]], references: Sequence, max_n: int = 4,
                smooth: str | None = None, epsilon: float = 0.1, k: float = 5.0) -> float:
    """Corpus BLEU in [0, 1]: n-gram counts pooled over sentences, then eq. 1-2.

    ``references[i]`` is one reference (a token list) or a list of references for candidate i.
    """
    _validate(max_n, smooth)
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} reference sets")
    if len(candidates) == 0:
        raise ValueError("corpus_bleu needs at least one candidate")
    M, T, C, R = [0] * max_n, [0] * max_n, 0, 0
    for cand, refs in zip(candidates, references):
        m, t, c, r = _sentence_stats(list(cand), _as_references(refs), max_n)
        M = [a + b for a, b in zip(M, m)]
        T = [a + b for a, b in zip(T, t)]
        C, R = C + c, R + r
    return _score(M, T, C, R, max_n, smooth, epsilon, k)


def sentence_bleu(candidate: Sequence[Hashable], references: Sequence, max_n: int = 4,
                  smooth: str | None = None, epsilon: float = 0.1, k: float = 5.0) -> float:
    """BLEU of one candidate against one reference (token list) or several (list of lists).

    Short sentences often have no 4-gram match; use a ``smooth`` method for a useful reward.
    """
    return corpus_bleu([candidate], [references], max_n=max_n, smooth=smooth, epsilon=epsilon, k=k)


def bleu(candidate_tokens, reference_tokens, max_n: int = 4, smooth: str | None = None,
         **kwargs) -> float:
    """Sentence BLEU when ``candidate_tokens`` is a token list, corpus BLEU when it is a list
    of token lists (then ``reference_tokens[i]`` belongs to candidate i)."""
    if not _is_seq(candidate_tokens):
        raise ValueError(f"candidate_tokens must be a list of tokens or of token lists, "
                         f"got {type(candidate_tokens).__name__}")
    if len(candidate_tokens) > 0 and all(_is_seq(c) for c in candidate_tokens):
        return corpus_bleu(candidate_tokens, reference_tokens, max_n=max_n, smooth=smooth, **kwargs)
    return sentence_bleu(candidate_tokens, reference_tokens, max_n=max_n, smooth=smooth, **kwargs)
