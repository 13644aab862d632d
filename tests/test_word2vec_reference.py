"""The compiled kernel against a plain-Python transcription of word2vec.c's training loop.

The reference below is written the way word2vec.c reads: sentence by sentence, sub-sampling,
the shrunk window, and for every prediction the output terms in order, each noise word drawn
at the moment it is used. It consumes the same random stream (xorshift64*, re-implemented here
with Python integers), so the two must agree on every update. The kernel draws a centre's noise
words ahead of time and prefetches rows; this test is what says that changes nothing.
"""
import math

import numpy as np
import pytest

from groundup.text.word2vec import kernels
from groundup.text.word2vec.huffman import build_huffman
from groundup.text.word2vec.sampling import alias_table, keep_probabilities, noise_distribution

MASK = (1 << 64) - 1
M = 0x2545F4914F6CDD1D
MAX_EXP = 6.0


class XorShift:
    def __init__(self, seed: int):
        self.x = seed

    def next(self) -> int:
        x = self.x
        x ^= x >> 12
        x = (x ^ (x << 25)) & MASK
        x ^= x >> 27
        self.x = x
        return x

    def randint(self, n: int) -> int:
        return ((((self.next() * M) & MASK) >> 32) * n) >> 32

    def uniform(self) -> float:
        return (((self.next() * M) & MASK) >> 40) / 16777216.0

    def noise(self, alias_prob, alias_idx) -> int:
        r = (self.next() * M) & MASK
        k = ((r >> 32) * len(alias_prob)) >> 32
        u = (r & 0xFFFFFF) / 16777216.0
        return k if u < alias_prob[k] else int(alias_idx[k])


def sigmoid(f):
    return 1.0 / (1.0 + math.exp(-f))


def reference(sents, syn0, syn1neg, syn1, keep, alias_prob, alias_idx, huff, sg, hs, negative,
              window, alpha, seed):
    """word2vec.c's loop (constant alpha), in float32 arrays, one noise draw at a time."""
    codes, points, lens = huff
    rng = XorShift(seed)
    alpha = np.float32(alpha)
    npred = 0

    def output_terms(h, target, neu1e):
        if hs:
            for k in range(lens[target]):
                node, code = points[target, k], codes[target, k]
                f = float(np.dot(h, syn1[node]))
                if -MAX_EXP < f < MAX_EXP:
                    g = np.float32((1.0 - code - sigmoid(f)) * alpha)
                    neu1e += g * syn1[node]
                    syn1[node] += g * h
        if negative:
            for k in range(negative + 1):
                if k == 0:
                    w, label = target, 1.0
                else:
                    w, label = rng.noise(alias_prob, alias_idx), 0.0
                    if w == target:
                        continue
                f = float(np.dot(h, syn1neg[w]))
                sig = 1.0 if f > MAX_EXP else 0.0 if f < -MAX_EXP else sigmoid(f)
                g = np.float32((label - sig) * alpha)
                neu1e += g * syn1neg[w]
                syn1neg[w] += g * h

    for sent in sents:
        kept = [w for w in sent if keep[w] >= 1.0 or rng.uniform() < keep[w]]
        for i, centre in enumerate(kept):
            b = rng.randint(window)
            ctx = [j for j in range(max(0, i - window + b), min(len(kept), i + window + 1 - b)) if j != i]
            if sg:
                for j in ctx:
                    c = kept[j]
                    neu1e = np.zeros(syn0.shape[1], np.float32)
                    output_terms(syn0[c].copy(), centre, neu1e)
                    syn0[c] += neu1e
                    npred += 1
            elif ctx:
                h = np.mean([syn0[kept[j]] for j in ctx], axis=0).astype(np.float32)
                neu1e = np.zeros(syn0.shape[1], np.float32)
                output_terms(h, centre, neu1e)
                for j in ctx:
                    syn0[kept[j]] += neu1e
                npred += 1
    return npred


@pytest.mark.parametrize("sg", [True, False])
@pytest.mark.parametrize("hs,negative", [(False, 4), (True, 0), (True, 2)])
def test_kernel_equals_word2vec_c_loop(sg, hs, negative):
    V, D, window, seed = 14, 8, 3, 99
    rng = np.random.default_rng(5)
    counts = np.sort(rng.integers(3, 400, V))[::-1].astype(np.int64)
    p = counts / counts.sum()
    sents = [list(rng.choice(V, n, p=p)) for n in (37, 1, 52, 25)]
    keep = keep_probabilities(counts, 0.02).astype(np.float32)
    assert (keep < 1).any() and (keep >= 1).any()           # both branches of sub-sampling run
    alias_prob, alias_idx = alias_table(noise_distribution(counts, 0.75))
    huff = build_huffman(counts)
    syn0 = rng.normal(0, 0.3, (V, D)).astype(np.float32)
    syn1neg = rng.normal(0, 0.3, (V, D)).astype(np.float32)
    syn1 = rng.normal(0, 0.3, (V - 1, D)).astype(np.float32)
    ref = [a.copy() for a in (syn0, syn1neg, syn1)]
    init = syn0.copy()

    n_ref = reference(sents, *ref, keep, alias_prob, alias_idx, huff, sg, hs, negative, window, 0.05, seed)

    ids = np.concatenate([np.array(s, np.int32) for s in sents])
    starts = np.concatenate([[0], np.cumsum([len(s) for s in sents])]).astype(np.int64)
    stats = np.zeros(4)
    kernels.train_chunk(ids, starts, 0, len(sents), syn0, syn1neg, syn1, keep, alias_prob, alias_idx,
                        *huff, sg, hs, negative, window, True, 0.05, 0.05,
                        np.array([seed], np.uint64), stats, True)
    assert stats[2] == n_ref                                  # same predictions, so same random draws
    for ours, theirs in zip((syn0, syn1neg, syn1), ref):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-5)
    assert np.abs(syn0 - init).max() > 1e-2                   # and it did train
