"""The word2vec updates, slow and readable: the twin of the compiled kernel (:mod:`.kernels`).

This module is word2vec.c's training loop written out in NumPy, one equation a line, in the
order word2vec.c runs it: sentence by sentence, sub-sampling, the shrunk window, and for each
prediction the output terms one after the other, each noise word drawn at the moment it is
used. It consumes the same random stream as the kernel (xorshift64*, here with Python
integers), so on the same input the two make the same updates; tests/test_word2vec_reference.py
checks that they agree. Nothing here is fast: use it to read, to check, to step through.

Notation: V words, D dimensions. ``syn0`` (V, D) holds the input vectors v_w (the word
vectors), ``syn1neg`` (V, D) the output vectors v'_w of negative sampling, ``syn1`` (V-1, D)
the vectors v'_n of the inner nodes of the Huffman tree (hierarchical softmax). sigma is the
logistic function. Each prediction takes an input vector h and a target word w_O and makes
one SGD step of size alpha on its loss L:

  skip-gram:  one prediction per (centre, context) pair, h = v_context, w_O = centre (as in
              word2vec.c; the paper writes it the other way round, the sum is the same);
  CBOW:       one prediction per centre, h = mean (or sum) of the context vectors, w_O = centre.

Negative sampling (Mikolov et al. 2013b, eq. 4), K noise words w_k ~ P_n(w) ~ count(w)^0.75:
  L = -log sigma(v'_{w_O} . h) - sum_k log sigma(-v'_{w_k} . h)
Each term has a label l (1 for w_O, 0 for noise) and, with g = alpha * (l - sigma(v'_t . h)):
  dL/dv'_t = -(l - sigma(v'_t . h)) h      ->  v'_t += g h
  dL/dh    = -sum_t (l - sigma(v'_t . h)) v'_t  ->  the input moves by e = sum_t g v'_t

Hierarchical softmax (2013b, section 2.1), the inner nodes n_1..n_L on w_O's path with code
bits c_k: p(w_O | h) = prod_k sigma((1 - 2 c_k) v'_{n_k} . h), so label l_k = 1 - c_k:
  L = -sum_k log sigma((1 - 2 c_k) v'_{n_k} . h),  g_k = alpha * (1 - c_k - sigma(v'_{n_k} . h))

The input update: skip-gram adds e to v_context; CBOW adds e to every context vector (for the
mean this is word2vec.c's rule, without the 1/|C| of the true gradient).

word2vec.c's clipping, kept here: a score |v' . h| >= 6 (MAX_EXP) skips an HS node; in NS it
uses the saturated sigma (0 or 1) and still updates, or is skipped with ``skip_saturated``
(gensim's rule). The loss is always the exact -log sigma of the unclipped score.

Sub-sampling keeps each occurrence of w with probability keep_prob[w] (see :mod:`.sampling`);
the window shrinks to window - b with b ~ U{0..window-1}; alpha falls linearly from
alpha_begin to alpha_end over the sentences' tokens, updated at each sentence.
"""
from __future__ import annotations

import math

import numpy as np

MAX_EXP = 6.0
_MASK = (1 << 64) - 1
_M = 0x2545F4914F6CDD1D


class XorShift64Star:
    """The kernel's random stream, in Python integers (Vigna's xorshift64*, shifts 12/25/27)."""

    def __init__(self, state: int):
        self.state = int(state)

    def next(self) -> int:
        x = self.state
        x ^= x >> 12
        x = (x ^ (x << 25)) & _MASK
        x ^= x >> 27
        self.state = x
        return x

    def randint(self, n: int) -> int:
        """Uniform in 0..n-1: the high 32 bits of x * M, scaled by n (Lemire's multiply-shift)."""
        return ((((self.next() * _M) & _MASK) >> 32) * n) >> 32

    def uniform(self) -> float:
        """Uniform in [0, 1) from 24 bits."""
        return (((self.next() * _M) & _MASK) >> 40) / 16777216.0

    def noise(self, alias_prob: np.ndarray, alias_idx: np.ndarray) -> int:
        """One draw from the alias table: column k from the high bits, keep k with probability
        alias_prob[k] (the low 24 bits), else take alias_idx[k]."""
        r = (self.next() * _M) & _MASK
        k = ((r >> 32) * len(alias_prob)) >> 32
        u = (r & 0xFFFFFF) / 16777216.0
        return k if u < alias_prob[k] else int(alias_idx[k])


def sigmoid(f: float) -> float:
    return 1.0 / (1.0 + math.exp(-f))


def neg_log_sigmoid(f: float) -> float:
    """-log sigma(f) = log(1 + e^-f), computed stably."""
    return (-f if f < 0 else 0.0) + math.log1p(math.exp(-abs(f)))


def ns_update(h: np.ndarray, target: int, noise: list[int], syn1neg: np.ndarray, alpha: float,
              skip_saturated: bool = False) -> tuple[np.ndarray, float]:
    """Negative sampling for one prediction: updates syn1neg in place.

    Returns (e, loss): e (D,) the step for the input vector(s), loss the prediction's L."""
    e = np.zeros_like(h)                                             # (D,)
    loss = 0.0
    terms = [(target, 1.0)] + [(w, 0.0) for w in noise if w != target]   # noise = target: skipped
    for w, label in terms:
        f = float(np.dot(h, syn1neg[w]))                             # score v'_w . h
        loss += neg_log_sigmoid(f if label else -f)                  # -log sigma(+-score)
        if abs(f) >= MAX_EXP and skip_saturated:
            continue
        sig = 1.0 if f > MAX_EXP else 0.0 if f < -MAX_EXP else sigmoid(f)
        g = np.float32((label - sig) * alpha)                        # g = alpha (l - sigma)
        e += g * syn1neg[w]                                          # e += g v'_w
        syn1neg[w] += g * h                                          # v'_w += g h
    return e, loss


def hs_update(h: np.ndarray, nodes: np.ndarray, codes: np.ndarray, syn1: np.ndarray,
              alpha: float) -> tuple[np.ndarray, float]:
    """Hierarchical softmax for one prediction along the path ``nodes`` with bits ``codes``:
    updates syn1 in place. Returns (e, loss) as :func:`ns_update`."""
    e = np.zeros_like(h)
    loss = 0.0
    for n, c in zip(nodes, codes):
        f = float(np.dot(h, syn1[n]))                                # score v'_n . h
        loss += neg_log_sigmoid(f if c == 0 else -f)                 # -log sigma((1 - 2c) score)
        if abs(f) >= MAX_EXP:                                        # word2vec.c skips the node
            continue
        g = np.float32((1.0 - c - sigmoid(f)) * alpha)               # g = alpha (1 - c - sigma)
        e += g * syn1[n]
        syn1[n] += g * h
    return e, loss


def predict(h, target, syn1neg, syn1, huffman, negative, rng, alias_prob, alias_idx, alpha,
            skip_saturated=False) -> tuple[np.ndarray, float]:
    """All output terms of one prediction (HS first, then NS, as word2vec.c): (e, loss)."""
    e, loss = np.zeros_like(h), 0.0
    if huffman is not None:
        codes, points, lens = huffman
        de, dl = hs_update(h, points[target, :lens[target]], codes[target, :lens[target]], syn1, alpha)
        e, loss = e + de, loss + dl
    if negative:
        noise = [rng.noise(alias_prob, alias_idx) for _ in range(negative)]
        de, dl = ns_update(h, target, noise, syn1neg, alpha, skip_saturated)
        e, loss = e + de, loss + dl
    return e, loss


def train_sentences(sentences, syn0, syn1neg, syn1, *, keep_prob, alias_prob, alias_idx, huffman,
                    sg: bool, negative: int, window: int, alpha_begin: float, alpha_end: float,
                    seed: int, cbow_mean: bool = True, skip_saturated: bool = False) -> dict:
    """Train on ``sentences`` (lists of word ids) in place, word2vec.c's loop.

    ``huffman`` is ``(codes, points, lens)`` for HS or None; ``negative`` 0 means no NS.
    Returns the kernel's counters: effective words, loss sum, predictions, raw words, and the
    random state at the end."""
    rng = XorShift64Star(seed)
    raw_total = max(sum(len(s) for s in sentences), 1)
    raw_done = eff = npred = 0
    loss = 0.0
    for sent in sentences:
        alpha = alpha_begin + (alpha_end - alpha_begin) * (raw_done / raw_total)   # per sentence
        kept = [w for w in sent if keep_prob[w] >= 1.0 or rng.uniform() < keep_prob[w]]
        raw_done += len(sent)
        eff += len(kept)
        for i, centre in enumerate(kept):
            b = rng.randint(window)                                  # shrink the window by b
            ctx = [kept[j] for j in range(max(0, i - window + b), min(len(kept), i + window + 1 - b))
                   if j != i]
            if sg:
                for c in ctx:                                        # h = v_c, target the centre
                    e, dl = predict(syn0[c].copy(), centre, syn1neg, syn1, huffman, negative, rng,
                                    alias_prob, alias_idx, alpha, skip_saturated)
                    syn0[c] += e
                    loss, npred = loss + dl, npred + 1
            elif ctx:
                h = np.sum([syn0[c] for c in ctx], axis=0, dtype=np.float32)   # (D,) sum of contexts
                if cbow_mean:
                    h *= np.float32(1.0 / len(ctx))                  # ... or their mean
                e, dl = predict(h, centre, syn1neg, syn1, huffman, negative, rng, alias_prob, alias_idx,
                                alpha, skip_saturated)
                for c in ctx:                                        # every context vector moves by e
                    syn0[c] += e
                loss, npred = loss + dl, npred + 1
    return {"effective_words": eff, "loss": loss, "predictions": npred, "raw_words": raw_done,
            "rng_state": rng.state}
