"""The model's query side: fast vs reference scoring, OOV conventions, ranking, sampling,
Chinese character models, n-gram features, and bad model files."""
from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from groundup.data.locate import bundled_path
from groundup.errors import ConfigError, ModelFormatError
from groundup.text.ngram import NgramModel
from groundup.data.pipeline import TextOptions
from groundup.data.tokenize import char_tokens as split_chars
from groundup.text.ngram.features import NgramFeatures
from groundup.text.ngram.kneser_ney import DiscountFallbackWarning

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def shakespeare():
    sents = [l.split() for l in (DATA / "ngram_shakespeare.txt").read_text().splitlines()]
    return sents, NgramModel.build(sents, 4, "mkn")


def test_hashed_scoring_matches_reference(shakespeare):
    sents, m = shakespeare
    rng = np.random.default_rng(0)
    # real sentences, shuffled words (many unseen n-grams) and OOV words, long enough for
    # the compiled path (>= 64 tokens)
    test = sents[:40] + [list(rng.permutation(s)) for s in sents[40:80]] + [["zz", "the", "qq"]]
    corpus = m.encode(test)
    assert len(corpus.tokens) > 64
    fast, ref = m.token_log10(corpus, fast=True), m.token_log10_reference(corpus)
    np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-12)


def test_oov_and_end_of_sentence_conventions(shakespeare):
    _, m = shakespeare
    ev = m.evaluate([["speak", "zzz", "speak"], []])
    # tokens: 3 words + </s>, then the empty sentence's </s>
    assert (ev.tokens, ev.oov, ev.sentences) == (5, 1, 2)
    s = m.token_log10(m.encode([["speak", "zzz", "speak"], []]))
    # the <s> positions score 0; the OOV word is scored as <unk>
    assert s[0] == 0 and s[5] == 0
    total, oov = s.sum(), s[2]
    assert ev.perplexity == pytest.approx(10 ** (-total / 5))
    assert ev.perplexity_excl_oov == pytest.approx(10 ** (-(total - oov) / 4))
    # a literal <unk> is the same word as an unknown one
    assert m.score("speak <unk> speak") == pytest.approx(m.score("speak zzz speak"))


def test_rank_prefers_the_real_word_order(shakespeare):
    _, m = shakespeare
    words = "we know't , we know't .".split()
    ranked = m.rank([list(p) for p in dict.fromkeys(itertools.permutations(words))])
    assert ranked[0][1] == " ".join(words)
    assert ranked[0][0] > ranked[-1][0]


def test_generation_is_seeded_and_uses_the_vocabulary(shakespeare):
    _, m = shakespeare
    a = m.generate(3, seed=1, max_words=20)
    assert a == m.generate(3, seed=1, max_words=20)
    assert a != m.generate(3, seed=2, max_words=20)
    for s in a:
        assert 0 <= len(s) <= 20 and all(w in m.index and w not in ("<s>", "</s>", "<unk>") for w in s)


def test_generation_follows_the_model():
    """A deterministic corpus: after "a" the 2-gram MLE model can only say "b"."""
    m = NgramModel.build([["a", "b", "c"]] * 5, 2, "mle")
    assert m.generate(2, seed=0) == [["a", "b", "c"], ["a", "b", "c"]]
    # after "x" only <unk> was ever seen; without <unk> nothing is possible: the sentence ends
    m = NgramModel.build([["x", "<unk>"]], 2, "mle")
    assert m.generate(1, seed=0) == [["x"]]


def test_build_from_text_splits_as_the_cli_builder():
    """The Python API defaults to the CLI builder's tokenizer, lmplz's split (spaces): a
    no-break space stays inside a word, and the model records the tokenizer."""
    lines = ["a\u00a0b c d", "c d a\u00a0b", "c\td e"] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = NgramModel.build_from_text(lines, 2)
        w = NgramModel.build_from_text(lines, 2, text=TextOptions(tokenizer="word"))
    assert m.text.tokenizer == "spaces" and "a\u00a0b" in m.index and "e" in m.index
    assert "a\u00a0b" not in w.index and "a" in w.index


def test_chinese_character_model():
    lines = bundled_path("zh", "lunyu.txt").read_text(encoding="utf-8").splitlines()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiscountFallbackWarning)
        m = NgramModel.build_from_text(lines, 3, "mkn", text=TextOptions(tokenizer="char"))
    assert "学" in m.index and len(m.vocab) > 1000
    good = split_chars("学而时习之")
    bad = split_chars("习学之时而")
    assert m.score(good) > m.score(bad) + 3  # orders of magnitude more plausible
    ev = m.evaluate([split_chars(lines[0]), split_chars("人工智能")])
    assert math.isfinite(ev.perplexity) and ev.oov >= 1  # 智 is not in the Analects


def test_features_by_hand():
    docs = [["the", "cat", "sat"], ["the", "cat", "ran"], ["a", "dog", "sat"]]
    f = NgramFeatures(orders=(1, 2), min_count=2)
    X = f.fit_transform(docs)
    # seen twice or more: unigrams the, cat, sat; bigram "the cat" (boundaries excluded)
    assert f.feature_names == ["the", "cat", "sat", "the cat"]
    np.testing.assert_array_equal(X, [[1, 1, 1, 1], [1, 1, 0, 1], [0, 0, 1, 0]])
    np.testing.assert_array_equal(f.transform([["the", "cat", "the", "cat", "zz"]]), [[2, 2, 0, 2]])
    with pytest.raises(ConfigError):
        NgramFeatures(min_count=0)


def test_model_validation_and_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="order"):
        NgramModel.build([["a"]], 0)
    with pytest.raises(ConfigError, match="smoothing"):
        NgramModel.build([["a"]], 2, "witten-bell")
    bad = tmp_path / "bad.arpa"
    bad.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n")
    with pytest.raises(ModelFormatError, match="ends inside the 1-grams"):
        NgramModel.load(bad)
    bad.write_text("\\data\\\nngram 1=1\n\n\\1-grams:\n-1\tx\n\n\\end\\\n")
    with pytest.raises(ModelFormatError, match="lack <s>"):
        NgramModel.load(bad)
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelFormatError, match="not a valid groundup n-gram model"):
        NgramModel.load(bad)
    with pytest.raises(ModelFormatError, match="no such file"):
        NgramModel.load(tmp_path / "missing.arpa")


def test_lab_plausibility_pieces(shakespeare):
    """The lab's ranking helper: the original order of a training clause ranks first, and the
    clause cutter keeps short, distinct-token clauses between punctuation marks."""
    from groundup.lab.ngram import _clauses, plausibility

    _, m = shakespeare
    clauses = _clauses([["we", "know't", ",", "we", "know't", "."], ["a", "b", "c", "d", "a"],
                        ["speak", "me", "hear", "now", ";", "x"]], 3, 5, 10, np.random.default_rng(0))
    assert sorted(map(tuple, clauses)) == [("speak", "me", "hear", "now")]
    top1, rows = plausibility(m, [["hear", "me", "speak"]])
    assert top1 == 1.0 and rows[0][1] == 1 and rows[0][2] == 6
