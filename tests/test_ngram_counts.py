"""Vectorised counting against the slow dictionary reference, and the corpus conventions."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.data.tokenize import char_tokens as split_chars
from groundup.text.ngram.corpus import encode
from groundup.text.ngram.counts import count_encoded, count_ngrams, count_ngrams_reference

words = st.sampled_from(["a", "b", "c", "d", "<unk>", "<s>", "</s>", "猫", "狗"])
corpora = st.lists(st.lists(words, max_size=9), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(sents=corpora, order=st.integers(1, 5))
def test_counts_match_reference(sents, order):
    fast = count_ngrams(sents, order)
    ref = count_ngrams_reference(sents, order)
    for k in range(1, order + 1):
        assert fast.as_dict(k) == dict(ref[k]), k
        assert (np.diff(fast.keys[k - 1]) > 0).all()  # sorted, unique trie keys
    # counting once at order N and truncating equals counting at the lower order
    low = count_ngrams(sents, 1 + (order - 1) // 2)
    cut = fast.truncated(low.order)
    assert cut.last_full == low.last_full
    for k in range(1, low.order + 1):
        np.testing.assert_array_equal(cut.keys[k - 1], low.keys[k - 1])


@settings(max_examples=40, deadline=None)
@given(sents=corpora, order=st.integers(1, 5))
def test_compiled_counting_matches_numpy(sents, order):
    enc = encode(sents)
    fast, ref = count_encoded(enc, order, method="fast"), count_encoded(enc, order, method="numpy")
    for k in range(order):
        for a, b in ((fast.keys, ref.keys), (fast.counts, ref.counts), (fast.suffix, ref.suffix)):
            np.testing.assert_array_equal(a[k], b[k])


def test_padding_and_specials():
    # "<s> a b </s>" and "<s> </s>" (an empty line is a sentence, as in lmplz and query)
    c = count_ngrams([["a", "b"], []], 3)
    assert c.vocab[:3] == ["<unk>", "<s>", "</s>"]
    assert c.as_dict(1) == {("a",): 1, ("b",): 1, ("</s>",): 2}  # <s> alone is no event
    assert c.as_dict(2) == {("<s>", "a"): 1, ("a", "b"): 1, ("b", "</s>"): 1, ("<s>", "</s>"): 1}
    assert c.as_dict(3) == {("<s>", "a", "b"): 1, ("a", "b", "</s>"): 1}
    # a literal <unk> is the unknown word (id 0); literal <s> / </s> inside a line are dropped
    c = count_ngrams([["x", "<unk>", "<s>", "y", "</s>"]], 2)
    assert c.as_dict(2) == {("<s>", "x"): 1, ("x", "<unk>"): 1, ("<unk>", "y"): 1, ("y", "</s>"): 1}
    assert c.vocab.index("<unk>") == 0


def test_chinese_characters_are_tokens():
    line = "學而時習之，不亦說乎"
    toks = split_chars(line)
    assert toks[:3] == ["學", "而", "時"] and len(toks) == 10
    c = count_ngrams([toks, split_chars("學 而")], 2)
    assert c.as_dict(2)[("學", "而")] == 2
    enc = encode([toks])
    assert enc.n_words == 10 and len(enc.tokens) == 12
