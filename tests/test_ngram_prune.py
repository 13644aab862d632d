"""Entropy-based pruning (text/ngram/prune.py, Stolcke 1998) against a brute-force relative
entropy over the whole vocabulary, on a tiny model built in memory (exact float64 values)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from groundup.text.ngram import NgramModel
from groundup.text.ngram.counts import ngram_words
from groundup.text.ngram.prune import entropy_deltas, prune_entropy

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def model():
    lines = (DATA / "ngram_shakespeare60.txt").read_text().splitlines()[:40]
    return NgramModel.build([l.split() for l in lines], 3, "mkn")


def brute_force_delta(m: NgramModel, h: list[int], w: int) -> float:
    """D(p || p') = P(h) sum_v p(v|h) ln(p(v|h) / p'(v|h)), with p' the model without (h, w):
    the distributions over every word from next_log10, p' renormalised by brute force."""
    words = [m.vocab[i] for i in h]
    q = 10.0 ** m.next_log10(words)  # (V,) p(. | h); <s> gets 0
    q1 = 10.0 ** m.next_log10(words[1:])  # (V,) p(. | h')
    k = len(h) + 1
    hid = m._find(h)
    keys = m.tables.keys[k - 1]
    listed = keys[(keys // m.V) == hid] % m.V  # S(h)
    kept = listed[listed != w]
    mask = np.zeros(m.V, dtype=bool)
    mask[kept] = True
    mask[1] = True  # <s>: probability 0 either way
    alpha_new = (1.0 - q[kept].sum()) / q1[~mask].sum()
    q_new = np.where(mask, q, alpha_new * q1)
    P = 1.0  # P(h) by the chain rule, P(<s>) = 1
    for j in range(len(h)):
        if j == 0 and h[0] == 1:
            continue
        P *= 10.0 ** m.next_log10([m.vocab[i] for i in h[:j]])[h[j]]
    nz = q > 0
    return float(P * np.sum(q[nz] * np.log(q[nz] / q_new[nz])))


def test_delta_equals_brute_force(model):
    D = entropy_deltas(model.tables)
    rng = np.random.default_rng(0)
    for k in (2, 3):
        W = ngram_words(model.tables.keys, model.V, k)
        for i in rng.choice(len(W), size=12, replace=False):
            brute = brute_force_delta(model, W[i, :-1].tolist(), int(W[i, -1]))
            assert D[k - 1][i] == pytest.approx(brute, rel=1e-6, abs=1e-12), (k, W[i])
            assert D[k - 1][i] >= -1e-15  # a relative entropy


def test_pruned_model_is_normalised_and_smaller(model):
    sizes = []
    for threshold in (0.0, 1e-4, 1e-3, 1e9):
        t = prune_entropy(model.tables, threshold)
        m = NgramModel(t)  # validates
        sizes.append([len(k) for k in t.keys])
        for h in ([], ["<s>"], ["<s>", m.vocab[5]], [m.vocab[7], m.vocab[8]]):
            q = 10.0 ** m.next_log10(h)
            assert q.sum() == pytest.approx(1.0, abs=1e-9), (threshold, h)
    assert sizes[0] == [len(k) for k in model.tables.keys]  # D >= 0: nothing under 0
    totals = [sum(s) for s in sizes]
    assert totals[0] > totals[1] > totals[2] > totals[3]
    assert sizes[3][1:] == [0, 0]  # everything above the unigrams goes


def test_pruned_model_scores_like_kenlm(model, tmp_path):
    """The pruned model stays prefix- and suffix-closed: KenLM reads its ARPA and agrees."""
    kenlm = pytest.importorskip("kenlm")
    m = NgramModel(prune_entropy(model.tables, 1e-4))
    m.save(tmp_path / "p.arpa")
    k = kenlm.Model(str(tmp_path / "p.arpa"))
    for line in (DATA / "ngram_shakespeare60.txt").read_text().splitlines()[40:50]:
        assert m.score(line) == pytest.approx(k.score(line), abs=1e-4)


def test_cli_prune(tmp_path, capsys):
    from groundup.cli import main

    model_path = tmp_path / "m.arpa"
    assert main(["ngram", "build", str(DATA / "ngram_shakespeare60.txt"), "--order", "3", "-o",
                 str(model_path)]) == 0
    assert main(["ngram", "prune", str(model_path), "--threshold", "1e-4", "-o",
                 str(tmp_path / "p.bin"), "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["ngrams"][1] < out["ngrams_before"][1]
    assert NgramModel.load(tmp_path / "p.bin").tables.info["pruned"]["threshold"] == 1e-4
    assert main(["ngram", "prune", str(model_path), "--threshold", "-1", "-o", str(tmp_path / "q.arpa")]) == 2
