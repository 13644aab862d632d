"""The compiled kernel against its readable twin, :mod:`groundup.text.word2vec.reference`.

The reference is word2vec.c's loop in NumPy: each noise word drawn when it is used, one term
at a time. It consumes the same random stream (xorshift64*), so the two must agree on every
update, on the counters and on the random state they end in. The kernel draws a centre's noise
words ahead of time, prefetches rows and sums in float32 with fastmath; this test is what says
that changes nothing beyond rounding.

Tolerance: float32 dot products summed in another order differ by a few ulp per step; over
~1,000 updates of vectors of size ~0.3 that stays below 2e-5 (measured: at most 3e-6).
"""
import numpy as np
import pytest

from groundup.text.word2vec import reference
from groundup.text.word2vec.huffman import build_huffman
from groundup.text.word2vec.jobs import Job
from groundup.text.word2vec.kernels import Kernel, Weights
from groundup.text.word2vec.sampling import alias_table, keep_probabilities, noise_distribution


def _problem(V=14, D=8):
    rng = np.random.default_rng(5)
    counts = np.sort(rng.integers(3, 400, V))[::-1].astype(np.int64)
    p = counts / counts.sum()
    sents = [list(rng.choice(V, n, p=p)) for n in (37, 1, 52, 25)]
    weights = [rng.normal(0, 0.3, shape).astype(np.float32) for shape in ((V, D), (V, D), (V - 1, D))]
    return counts, sents, weights


@pytest.mark.parametrize("sg", [True, False])
@pytest.mark.parametrize("hs,negative", [(False, 4), (True, 0), (True, 2)])
@pytest.mark.parametrize("variant", ["plain", "cbow-sum+skip-saturated"])
def test_kernel_equals_reference(sg, hs, negative, variant):
    window, seed, a0, a1 = 3, 99, 0.05, 0.01
    cbow_mean, skip = (True, False) if variant == "plain" else (False, True)
    counts, sents, weights = _problem()
    keep = keep_probabilities(counts, 0.02)
    assert (keep < 1).any() and (keep >= 1).any()           # both branches of sub-sampling run
    alias_prob, alias_idx = alias_table(noise_distribution(counts, 0.75))
    huff = build_huffman(counts)
    ref = [a.copy() for a in weights]
    init = weights[0].copy()

    r = reference.train_sentences(sents, *ref, keep_prob=keep, alias_prob=alias_prob, alias_idx=alias_idx,
                                  huffman=huff if hs else None, sg=sg, negative=negative, window=window,
                                  alpha_begin=a0, alpha_end=a1, seed=seed, cbow_mean=cbow_mean,
                                  skip_saturated=skip)

    kernel = Kernel(keep, alias_prob, alias_idx, *huff, sg=sg, hs=hs, negative=negative, window=window,
                    cbow_mean=cbow_mean, skip_saturated=skip)
    ids = np.concatenate([np.array(s, np.int32) for s in sents])
    starts = np.concatenate([[0], np.cumsum([len(s) for s in sents])]).astype(np.int64)
    rng, stats = np.array([seed], np.uint64), np.zeros(4)
    w = Weights(*weights)
    kernel.train(Job(ids, starts, 0, len(sents), 0), w, a0, a1, rng, stats)

    # same predictions and the same random state at the end: the same draws in the same order
    assert stats[2] == r["predictions"] and int(rng[0]) == r["rng_state"]
    assert (stats[0], stats[3]) == (r["effective_words"], r["raw_words"])
    assert stats[1] == pytest.approx(r["loss"], rel=1e-5)
    for ours, theirs in zip(w.arrays(), ref):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-5)
    assert np.abs(w.syn0 - init).max() > 1e-2                 # and it did train


def test_reference_ns_step_by_hand():
    """One NS term, computed by hand: h = (1, 0), v'_target = (0, 0): score 0, sigma = 1/2,
    g = alpha (1 - 1/2) = 0.05; v' += g h = (0.05, 0); e = g v' (old) = 0; loss = log 2."""
    syn1neg = np.zeros((2, 2), np.float32)
    e, loss = reference.ns_update(np.array([1.0, 0.0], np.float32), 0, [], syn1neg, alpha=0.1)
    np.testing.assert_allclose(syn1neg[0], [0.05, 0.0])
    np.testing.assert_array_equal(e, [0.0, 0.0])
    assert loss == pytest.approx(np.log(2.0))
