"""Huffman tree, sub-sampling, the noise sampler, vocabulary and the corpus reader."""
import heapq
import math

import numpy as np
import pytest

from groundup.errors import ConfigError, DataError, TrainingError
from groundup.text.word2vec import kernels
from groundup.data.batching import encode_sentences
from groundup.data.pipeline import TextOptions
from groundup.data.tokenize import text8_normalize
from groundup.text.word2vec.huffman import build_huffman
from groundup.text.word2vec.sampling import (alias_probabilities, alias_table, keep_probabilities,
                                              noise_distribution)
from groundup.text.word2vec.vocab import build_vocab, read_sentences


def TextCorpus(path, tokenizer="word", lowercase=False, max_sentence_length=10_000):
    """word2vec's sentences of ``path`` through the one text pipeline."""
    return read_sentences(path, TextOptions(tokenizer=tokenizer, lowercase=lowercase),
                          max_sentence_length)


def _huffman_cost(counts):
    """Optimal expected code length * total count, by the textbook heap construction."""
    h = list(map(int, counts))
    heapq.heapify(h)
    cost = 0
    while len(h) > 1:
        a, b = heapq.heappop(h), heapq.heappop(h)
        cost += a + b
        heapq.heappush(h, a + b)
    return cost


@pytest.mark.parametrize("counts", [
    [5, 3, 2, 1],
    [45, 13, 12, 16, 9, 5],             # the CLRS example: optimal cost 224
    [1, 1, 1, 1, 1, 1, 1, 1],
    list(np.random.default_rng(0).zipf(1.5, 300).clip(max=10**6)),
])
def test_huffman_is_optimal_prefix_code(counts):
    counts = np.sort(np.asarray(counts))[::-1]
    codes, points, lens = build_huffman(counts)
    V = len(counts)
    words = ["".join(map(str, codes[w, :lens[w]])) for w in range(V)]
    assert len(set(words)) == V
    for a in words:                        # prefix-free: no code starts another
        for b in words:
            assert a == b or not b.startswith(a)
    assert sum(2.0 ** -l for l in lens) == pytest.approx(1.0)   # Kraft equality: a full tree
    assert int((lens * counts).sum()) == _huffman_cost(counts)  # optimal expected length
    # every path starts at the root (inner node V-2) and visits distinct inner nodes
    assert np.all(points[:, 0] == V - 2)
    for w in range(V):
        p = points[w, :lens[w]]
        assert len(set(p.tolist())) == len(p) and p.min() >= 0 and p.max() <= V - 2


def test_huffman_hand_example():
    # counts 5,3,2,1: node 0 = w3 (1, bit 0) + w2 (2, bit 1) = 3; node 1 = 3 + 3 where
    # word2vec.c's test count[leaf] < count[node] fails on the tie, so node 0 is taken first
    # (bit 0) and w1 second (bit 1); root 2 = w0 (5, bit 0) + node 1 (6, bit 1).
    # Codes read from the root: w0 "0", w1 "11", w2 "101", w3 "100".
    codes, points, lens = build_huffman(np.array([5, 3, 2, 1]))
    got = ["".join(map(str, codes[w, :lens[w]])) for w in range(4)]
    assert got == ["0", "11", "101", "100"]
    assert points[2, :3].tolist() == [2, 1, 0]
    with pytest.raises(TrainingError):
        build_huffman(np.array([7]))


def test_subsampling_matches_formula():
    counts = np.array([1000, 100, 10, 1])
    s = 0.01
    p = keep_probabilities(counts, s)
    T = counts.sum()                                   # 1111
    for c, got in zip(counts, p):
        want = min((math.sqrt(c / (s * T)) + 1) * (s * T) / c, 1.0)
        assert got == pytest.approx(want, rel=1e-6)
    # hand check: c = 1000, sT = 11.11: (sqrt(90.009) + 1) * 0.01111 = 0.11651
    assert p[0] == pytest.approx(0.116516, rel=1e-4)
    assert np.all(keep_probabilities(counts, 0) == 1)
    with pytest.raises(ConfigError):
        keep_probabilities(counts, -1)


def test_alias_table_is_exact_and_draws_follow_unigram_075():
    rng = np.random.default_rng(1)
    counts = np.sort(rng.zipf(1.3, 50).clip(max=5000))[::-1]
    p = noise_distribution(counts)
    np.testing.assert_allclose(p, counts ** 0.75 / (counts ** 0.75).sum())
    prob, alias = alias_table(p)
    np.testing.assert_allclose(alias_probabilities(prob, alias), p, atol=1e-7)
    # draws through the kernel's own sampler: Pearson chi-square goodness of fit
    n = 200_000
    draws = kernels.draw_noise(n, prob, alias, 987654321)
    obs = np.bincount(draws, minlength=len(p))
    exp = n * p
    chi2 = ((obs - exp) ** 2 / exp).sum()
    # 49 degrees of freedom: mean 49, sd ~9.9; the 0.999 quantile is 85.4
    assert chi2 < 85.4, chi2


def test_vocab_order_min_count_and_pruning():
    sents = [["b", "a", "b", "c"], ["a", "b", "d", "c"], ["e"]]
    v = build_vocab(sents, min_count=2)
    assert v.itos == ["b", "c", "a"]           # b:3, then c:2 and a:2, ties last-seen first (gensim)
    assert v.counts.tolist() == [3, 2, 2] and v.total == 9 and v.counts.sum() == 7
    # max_vocab_size=2: after sentence 1 (3 types > 2) the words seen once (c) are dropped,
    # min_reduce becomes 2; after sentence 2 ({a:2, b:3, d:1, c:1}) those seen <= 2 go
    v2 = build_vocab(sents, min_count=1, max_vocab_size=2)
    assert v2.itos == ["b", "e"]
    assert build_vocab(sents, min_count=1, max_vocab=2).itos == ["b", "c"]  # the shared --max-vocab
    with pytest.raises(TrainingError):
        build_vocab(sents, min_count=10)
    with pytest.raises(ConfigError):
        build_vocab(sents, min_count=0)


def test_corpus_reader_long_lines_blocks_and_normalisers(tmp_path, monkeypatch):
    from groundup.data.corpora import TextCorpus as Corpus

    words = [f"w{i % 37}" for i in range(2500)]
    f = tmp_path / "c.txt"
    f.write_text(" ".join(words) + "\nSecond LINE, here!\n\n", encoding="utf-8")
    monkeypatch.setattr(Corpus, "_SLICE", 64)   # read the long line in small slices
    sents = list(TextCorpus(f, max_sentence_length=1000))
    assert [len(s) for s in sents] == [1000, 1000, 500, 3]   # the blank line gives no sentence
    assert sum(sents[:3], []) == words and sents[3] == ["Second", "LINE,", "here!"]
    assert list(TextCorpus(f, lowercase=True))[-1] == ["second", "line,", "here!"]
    assert text8_normalize("Hello, World! Ça va-t-il 2x?").split() == "hello world a va t il x".split()
    assert list(TextCorpus(f, tokenizer="text8"))[-1] == ["second", "line", "here"]
    d = tmp_path / "dir"; d.mkdir()
    (d / "b.txt").write_text("two\n"); (d / "a.txt").write_text("one\n")
    assert list(TextCorpus(d)) == [["one"], ["two"]]
    ids, starts, n = encode_sentences([["one", "zz", "two"], ["zz"], ["two"]], {"one": 0, "two": 1})
    assert ids.tolist() == [0, 1, 1] and starts.tolist() == [0, 2, 3] and n == 3


def test_corpus_reader_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good words\nbad \xff byte\n")
    with pytest.raises(DataError, match="offset 15"):
        list(TextCorpus(bad))
    with pytest.raises(DataError, match="no such file"):
        TextCorpus(tmp_path / "missing.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no files"):
        TextCorpus(tmp_path / "empty")
    with pytest.raises(ConfigError, match="tokenizer"):
        TextCorpus(bad, tokenizer="bpe")


def test_chinese_char_tokenizer(tmp_path):
    f = tmp_path / "zh.txt"
    f.write_text("我爱北京 天安门\n猫 吃 鱼\n", encoding="utf-8")
    assert list(TextCorpus(f, tokenizer="char")) == [list("我爱北京天安门"), list("猫吃鱼")]
    assert list(TextCorpus(f)) == [["我爱北京", "天安门"], ["猫", "吃", "鱼"]]   # pre-segmented
    f.write_text("我爱NLP。\n", encoding="utf-8")
    assert list(TextCorpus(f, tokenizer="char")) == [["我", "爱", "NLP", "。"]]


def test_vocab_order_equals_gensims_on_ties():
    """The restrict_vocab=30000 of the analogy test takes the first words of this order, so
    ties must fall as gensim orders them for the figures to compare (reference: real gensim)."""
    gensim = pytest.importorskip("gensim")
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    sents = [[words[j] for j in rng.zipf(1.3, 30) % 60] for _ in range(40)]
    m = gensim.models.Word2Vec(vector_size=4, min_count=2, workers=1)
    m.build_vocab(sents)
    v = build_vocab(sents, min_count=2)
    assert len(set(v.counts.tolist())) < len(v.counts)        # the corpus has ties to order
    assert v.itos == m.wv.index_to_key
