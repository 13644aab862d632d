"""Agreement with KenLM: golden ARPA files written by lmplz, and the kenlm Python module
reading ARPA files that we wrote.

The golden files in tests/data were made with KenLM's lmplz built from kpu/kenlm @ 4cb443e
(see /work/shared/BASELINES.md section 1), exactly:

    lmplz -o 3 -S 100M < ngram_shakespeare.txt > ngram_shakespeare.o3.arpa
    lmplz -o 5 -S 100M --discount_fallback < ngram_shakespeare60.txt > ngram_shakespeare60.o5.arpa
    lmplz -o 2 -S 100M --discount_fallback < ngram_toy.txt > ngram_toy.o2.arpa
    lmplz -o 3 -S 100M --prune 0 1 < ngram_shakespeare.txt > ngram_shakespeare.o3.prune01.arpa
    lmplz -o 4 -S 100M --prune 0 1 2 < ngram_shakespeare.txt > ngram_shakespeare.o4.prune012.arpa

ngram_shakespeare.txt is the first 150 speech lines of tinyshakespeare (public domain),
lower-cased with punctuation split off, plus two lines "the zzq" that make lmplz's final
count-of-counts detail matter (see kneser_ney.count_of_counts). The 5-gram needs the fallback
discounts at orders 4 and 5 (lmplz: "Substituting fallback discounts").
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from groundup.text.ngram import NgramModel
from groundup.text.ngram.arpa import read_arpa, write_arpa, write_arpa_reference
from groundup.text.ngram.counts import count_ngrams, ngram_words
from groundup.text.ngram.kneser_ney import DiscountFallbackWarning, estimate

DATA = Path(__file__).parent / "data"


def sentences(name):
    return [line.split() for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def as_dict(tables):
    out = {}
    for k in range(1, tables.order + 1):
        W = ngram_words(tables.keys, tables.V, k).tolist()
        for row, lp, bo in zip(W, tables.logprob[k - 1].tolist(), tables.backoff[k - 1].tolist()):
            out[tuple(tables.vocab[i] for i in row)] = (lp, bo)
    return out


def parse_arpa_plain(path):
    """A third, independent reading of an ARPA file: {gram tuple: (log10 p, log10 b)}."""
    out, k = {}, 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("\\") and line.endswith("-grams:"):
            k = int(line[1:line.index("-")])
        elif k and line and not line.startswith("\\"):
            f = line.split("\t")
            out[tuple(f[1].split())] = (float(f[0]), float(f[2]) if len(f) > 2 else 0.0)
    return out


@pytest.mark.parametrize("corpus, arpa, order", [
    ("ngram_shakespeare.txt", "ngram_shakespeare.o3.arpa", 3),
    ("ngram_shakespeare60.txt", "ngram_shakespeare60.o5.arpa", 5),
    ("ngram_toy.txt", "ngram_toy.o2.arpa", 2),
])
def test_modified_kneser_ney_reproduces_lmplz(corpus, arpa, order):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiscountFallbackWarning)
        ours = as_dict(estimate(count_ngrams(sentences(corpus), order)))
    gold = parse_arpa_plain(DATA / arpa)
    assert set(ours) == set(gold)
    worst = max(max(abs(ours[g][0] - v[0]), abs(ours[g][1] - v[1])) for g, v in gold.items())
    assert worst < 1e-5  # lmplz prints float32 values (~7 digits); the issue asks for 1e-4


@pytest.mark.parametrize("arpa, order, prune", [
    ("ngram_shakespeare.o3.prune01.arpa", 3, (0, 1)),
    ("ngram_shakespeare.o4.prune012.arpa", 4, (0, 1, 2)),
])
def test_count_pruning_reproduces_lmplz(arpa, order, prune):
    """--prune: n-grams of order k >= 2 with raw count <= t_k are dropped; their adjusted
    counts go to their context's gamma (lmplz initial_probabilities.cc, AddRight), so the
    kept probabilities and every backoff differ from the unpruned model's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiscountFallbackWarning)
        ours = as_dict(estimate(count_ngrams(sentences("ngram_shakespeare.txt"), order), prune=prune))
    gold = parse_arpa_plain(DATA / arpa)
    full = parse_arpa_plain(DATA / "ngram_shakespeare.o3.arpa")
    assert set(ours) == set(gold) and len(gold) < len(full)
    worst = max(max(abs(ours[g][0] - v[0]), abs(ours[g][1] - v[1])) for g, v in gold.items())
    assert worst < 1e-5
    moved = [g for g in gold if len(g) == 2 and abs(gold[g][1] - full[g][1]) > 1e-3]
    assert moved  # pruning changes backoffs (the pruned mass): not just a filter


@pytest.mark.parametrize("prune", [(1,), (0, 2, 1), (0, 1, 1, 1, 1)])
def test_prune_thresholds_are_checked(prune):
    from groundup.errors import ConfigError
    from groundup.text.ngram.kneser_ney import prune_thresholds

    with pytest.raises(ConfigError):
        prune_thresholds(prune, 3)
    assert prune_thresholds((0, 1), 4) == [0, 1, 1, 1]


def test_lmplz_count_of_counts_detail_matters():
    """Without mirroring lmplz's final-flush count-of-counts, the discounts differ visibly."""
    c = count_ngrams(sentences("ngram_shakespeare.txt"), 3)
    gold = parse_arpa_plain(DATA / "ngram_shakespeare.o3.arpa")
    plain = as_dict(estimate(c, lmplz_count_of_counts=False))
    worst = max(abs(plain[g][0] - v[0]) for g, v in gold.items())
    assert worst > 1e-4


def test_fallback_names_the_degenerate_count():
    c = count_ngrams(sentences("ngram_shakespeare60.txt"), 5)
    with pytest.warns(DiscountFallbackWarning) as rec:
        t = estimate(c)
    msgs = [str(r.message) for r in rec]
    assert any(m.startswith("order 5: no 5-gram has adjusted count") for m in msgs)
    assert t.info["discounts"][4] == [0.5, 1.0, 1.5]


kenlm = pytest.importorskip("kenlm")
TEST_SENTS = ["first citizen : before we proceed any further , hear me speak .",
              "speak , speak .", "we proceed further , citizen zebra unknownword .",
              "the zzq the zzq", "", "you are all resolved rather to die than to famish ?"]


def kenlm_token_scores(model, sent):
    return [s for s, _, _ in model.full_scores(sent, bos=True, eos=True)]


def test_read_kenlm_arpa_and_score_like_kenlm():
    path = DATA / "ngram_shakespeare.o3.arpa"
    ours = NgramModel.load(path)
    ref = kenlm.Model(str(path))
    for s in TEST_SENTS:
        for fast in (True, False):  # hashed kernel and binary-search twin
            toks = ours.token_log10(ours.encode([s.split()]), fast=fast)[1:]
            np.testing.assert_allclose(toks, kenlm_token_scores(ref, s), atol=1e-5)
        assert ours.score(s) == pytest.approx(ref.score(s, bos=True, eos=True), abs=1e-4)


def perplexity_like_query(model, sents):
    """KenLM query's report: </s> counted, OOV tokens dropped from 'excluding OOVs'."""
    total = total_in = 0.0
    n = n_oov = 0
    for s in sents:
        for lp, _, oov in model.full_scores(s, bos=True, eos=True):
            total += lp
            n += 1
            if oov:
                n_oov += 1
            else:
                total_in += lp
    return 10 ** (-total / n), 10 ** (-total_in / (n - n_oov)), n, n_oov


@pytest.mark.parametrize("smoothing", ["mkn", "kn", "katz", "addk"])
def test_kenlm_module_reads_our_arpa(tmp_path, smoothing):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiscountFallbackWarning)
        m = NgramModel.build(sentences("ngram_shakespeare.txt"), 3, smoothing)
    path = tmp_path / "m.arpa"
    m.save(path)
    ref = kenlm.Model(str(path))
    for s in TEST_SENTS:
        for fast in (True, False):
            toks = m.token_log10(m.encode([s.split()]), fast=fast)[1:]
            np.testing.assert_allclose(toks, kenlm_token_scores(ref, s), atol=2e-5)
    ev = m.evaluate([s.split() for s in TEST_SENTS])
    ppl, ppl_in, n, n_oov = perplexity_like_query(ref, TEST_SENTS)
    assert (ev.tokens, ev.oov) == (n, n_oov)
    assert n == sum(len(s.split()) + 1 for s in TEST_SENTS) and n_oov >= 2
    assert ev.perplexity == pytest.approx(ppl, rel=1e-4)
    assert ev.perplexity_excl_oov == pytest.approx(ppl_in, rel=1e-4)


def test_arpa_round_trip_and_writer_twins(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiscountFallbackWarning)
        m = NgramModel.build(sentences("ngram_shakespeare60.txt"), 4, "mkn")
    fast, slow = tmp_path / "fast.arpa", tmp_path / "slow.arpa"
    write_arpa(m.tables, fast)
    write_arpa_reference(m.tables, slow)
    assert fast.read_bytes() == slow.read_bytes()
    back = read_arpa(fast)
    assert back.vocab == m.vocab
    for k in range(4):
        np.testing.assert_array_equal(back.keys[k], m.tables.keys[k])
        np.testing.assert_allclose(back.logprob[k], m.tables.logprob[k], atol=5.1e-7)
        np.testing.assert_allclose(back.backoff[k], m.tables.backoff[k], atol=5.1e-7)
    # the binary format is exact
    m.save(tmp_path / "m.npz")
    again = NgramModel.load(tmp_path / "m.npz")
    for k in range(4):
        np.testing.assert_array_equal(again.tables.logprob[k], m.tables.logprob[k])
    assert again.info["method"] == "mkn"
    s = "first citizen : speak , speak ."
    assert again.score(s) == m.score(s)


def test_mle_zero_probabilities_survive_arpa_as_minus_99(tmp_path):
    m = NgramModel.build([["a", "b"], ["b"]], 2, "mle")
    m.save(tmp_path / "m.arpa")
    text = (tmp_path / "m.arpa").read_text()
    assert "-99\t<unk>" in text
    back = NgramModel.load(tmp_path / "m.arpa")
    assert back.score("b a") == -math.inf
