"""The compiled kernel's updates against torch autograd on a tiny model.

Set-up that makes the kernel deterministic and readable: window 1 (so the random shrink b is
always 0), no sub-sampling, one noise word per prediction, and an alias table that always
returns the same noise word. A sentence [0, 1] then gives exactly two predictions in order
(skip-gram: input v_1 -> target 0, then input v_0 -> target 1), each a plain SGD step
``theta -= alpha * dL/dtheta`` on that prediction's loss, which torch computes by autograd.
"""
import numpy as np
import pytest
import torch

from groundup.text.word2vec.huffman import build_huffman
from groundup.text.word2vec.jobs import Job
from groundup.text.word2vec.kernels import Kernel, Weights

D = 6
ALPHA = 0.1


def _run(sent, V, sg, hs, negative, noise, cbow_mean=True, seed=0):
    rng = np.random.default_rng(seed)
    syn0 = rng.normal(0, 0.5, (V, D)).astype(np.float32)
    syn1neg = rng.normal(0, 0.5, (V, D)).astype(np.float32)
    counts = np.arange(V, 0, -1) * 10
    codes, points, lens = build_huffman(counts)
    syn1 = rng.normal(0, 0.5, (V - 1, D)).astype(np.float32)
    init = (syn0.copy(), syn1neg.copy(), syn1.copy())
    ids = np.array(sent, np.int32)
    starts = np.array([0, len(sent)], np.int64)
    alias_prob = np.zeros(V, np.float32)             # never keep the column ...
    alias_idx = np.full(V, noise, np.int32)          # ... always take the alias: the noise word
    stats = np.zeros(4)
    kernel = Kernel(np.ones(V, np.float32), alias_prob, alias_idx, codes, points, lens, sg=sg, hs=hs,
                    negative=negative, window=1, cbow_mean=cbow_mean)
    kernel.train(Job(ids, starts, 0, 1, 0), Weights(syn0, syn1neg, syn1), ALPHA, ALPHA,
                 np.array([12345], np.uint64), stats)
    return init, (syn0, syn1neg, syn1), stats, (codes, points, lens)


def _loss(h, target, W1neg, W1, hs, negative, noise, huff):
    """The objective of one prediction (eqs. in kernels.py), by autograd-able torch ops."""
    ls = torch.nn.functional.logsigmoid
    loss = torch.zeros((), dtype=torch.float64)
    if negative:
        loss = loss - ls(W1neg[target] @ h)
        if noise != target:
            loss = loss - ls(-(W1neg[noise] @ h))
    if hs:
        codes, points, lens = huff
        for k in range(lens[target]):
            sign = 1.0 - 2.0 * float(codes[target, k])       # label 1 - code -> sign +-1
            loss = loss - ls(sign * (W1[int(points[target, k])] @ h))
    return loss


def _reference(init, sent, sg, hs, negative, noise, huff, cbow_mean=True):
    W0, W1neg, W1 = (torch.tensor(a, dtype=torch.float64) for a in init)
    total = 0.0
    n = len(sent)
    for i in range(n):
        ctx = [sent[j] for j in range(max(0, i - 1), min(n, i + 2)) if j != i]
        if sg:
            for c in ctx:
                params = [W0, W1neg, W1]
                for p in params:
                    p.requires_grad_(True)
                L = _loss(W0[c], sent[i], W1neg, W1, hs, negative, noise, huff)
                g = torch.autograd.grad(L, params, allow_unused=True)
                total += L.item()
                with torch.no_grad():
                    W0, W1neg, W1 = (p.detach() - ALPHA * (gp if gp is not None else 0) for p, gp in zip(params, g))
        else:
            h = torch.stack([W0[c] for c in ctx]).sum(0)
            if cbow_mean:
                h = h / len(ctx)
            h = h.detach().requires_grad_(True)
            W1neg.requires_grad_(True); W1.requires_grad_(True)
            L = _loss(h, sent[i], W1neg, W1, hs, negative, noise, huff)
            gh, g1n, g1 = torch.autograd.grad(L, [h, W1neg, W1], allow_unused=True)
            total += L.item()
            with torch.no_grad():
                W1neg = W1neg.detach() - ALPHA * (g1n if g1n is not None else 0)
                W1 = W1.detach() - ALPHA * (g1 if g1 is not None else 0)
                W0 = W0.clone()
                for c in ctx:
                    # word2vec.c adds -alpha * dL/dh to every context vector: for the sum that
                    # is the exact gradient; for the mean it omits the chain-rule factor 1/|C|
                    W0[c] -= ALPHA * gh
    return [W0.numpy(), W1neg.numpy(), W1.numpy()], total


@pytest.mark.parametrize("sg,hs,negative,cbow_mean,sent", [
    (True, False, 1, True, [0, 1]),        # SGNS
    (True, True, 0, True, [0, 3]),         # SG + hierarchical softmax
    (False, False, 1, True, [0, 1, 2]),    # CBOW mean + NS
    (False, False, 1, False, [0, 1, 2]),   # CBOW sum + NS
    (False, True, 0, True, [1, 3, 0]),     # CBOW + HS
])
def test_kernel_update_matches_autograd(sg, hs, negative, cbow_mean, sent):
    V, noise = 5, 4
    init, got, stats, huff = _run(sent, V, sg, hs, negative, noise, cbow_mean)
    want, loss = _reference(init, sent, sg, hs, negative, noise, huff, cbow_mean)
    for name, g, w, i in zip(("syn0", "syn1neg", "syn1"), got, want, init):
        # float32 kernel vs float64 autograd: 1e-5 is ~100 float32 ulps at these magnitudes
        np.testing.assert_allclose(g, w, atol=1e-5, rtol=1e-5, err_msg=name)
    assert not np.allclose(got[0], init[0]), "the update must move the input vectors"
    assert stats[1] == pytest.approx(loss, rel=1e-5)
    assert stats[0] == len(sent)                       # no sub-sampling: all words effective


def _saturation_kernel(skip: bool) -> Kernel:
    """V = 3, skip-gram NS with one noise word that is always word 2, window 1."""
    V = 3
    return Kernel(np.ones(V, np.float32), np.zeros(V, np.float32), np.full(V, 2, np.int32),
                  *build_huffman(np.array([3, 2, 1])), sg=True, hs=False, negative=1, window=1,
                  skip_saturated=skip)


def test_saturated_scores_follow_word2vec_c():
    """Beyond |score| > 6 NS uses sigma = 0 or 1 (word2vec.c), so a confidently right pair does
    not move; the reported loss still uses the exact log-sigmoid: 2 predictions x 2 terms x
    softplus(-9)."""
    V = 3
    syn0 = np.zeros((V, D), np.float32); syn0[:, 0] = 3.0
    syn1neg = np.zeros((V, D), np.float32); syn1neg[0, 0] = 3.0     # score 9 for target 0
    syn1neg[2, 0] = -3.0                                              # noise score -9
    # sentence [0, 0], window 1: two predictions v_0 -> target 0 (score 9), noise 2 (score -9)
    starts = np.array([0, 2], np.int64)
    before = syn1neg.copy()
    stats = np.zeros(4)
    _saturation_kernel(skip=False).train(Job(np.array([0, 0], np.int32), starts, 0, 1, 0),
                                         Weights(syn0, syn1neg, np.zeros((2, D), np.float32)), ALPHA, ALPHA,
                                         np.array([7], np.uint64), stats)
    np.testing.assert_array_equal(syn1neg, before)
    assert stats[1] == pytest.approx(2 * 2 * np.log1p(np.exp(-9.0)), rel=1e-4)


@pytest.mark.parametrize("skip", [False, True])
def test_saturated_wrong_scores_push_in_word2vec_c_mode_and_are_skipped_in_gensim_mode(skip):
    """A noise word scored +9 (confidently wrong): word2vec.c updates with sigma = 1, i.e. the
    full step g = -alpha; gensim skips the pair. The loss is the exact one either way."""
    V = 3
    syn0 = np.zeros((V, D), np.float32); syn0[:, 0] = 3.0
    syn1neg = np.zeros((V, D), np.float32); syn1neg[2, 0] = 3.0      # noise word 2 scores +9
    starts = np.array([0, 2], np.int64)
    before, stats = syn1neg.copy(), np.zeros(4)
    _saturation_kernel(skip).train(Job(np.array([0, 0], np.int32), starts, 0, 1, 0),
                                   Weights(syn0, syn1neg, np.zeros((2, D), np.float32)), ALPHA, ALPHA,
                                   np.array([7], np.uint64), stats)
    moved = syn1neg[2] - before[2]
    if skip:
        np.testing.assert_array_equal(moved, 0.0)
    else:  # two predictions, each g = (0 - 1) * alpha times h (h_0 = 3, then h_0 = 3 - ...)
        assert moved[0] < -ALPHA * 3.0
    # target 0 scores 0 (syn1neg[0] = 0): sigma(0) -> both modes update it
    assert not np.allclose(syn1neg[0], 0.0)
    # the first prediction's loss is log 2 + softplus(9); the second sees the first's updates
    first = np.log(2.0) + np.log1p(np.exp(9.0))
    assert first < stats[1] < 2 * first
