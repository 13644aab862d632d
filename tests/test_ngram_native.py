"""The C scoring pass (text/ngram/_scorer.c, chosen by native.py) against the numba kernels of
packed.py it reproduces: the same bits for every sentence total and every per-word value (log10
p, order matched, word id), its own str split equal to the model's tokenizer, and buffers it
refuses or reads garbage from without ever crashing."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundup.data.pipeline import TextOptions
from groundup.data.tokenize import WORD_WHITESPACE
from groundup.text.ngram import NgramModel, native

needs_c = pytest.mark.skipif(native._scorer is None, reason="the C extension is not built "
                                                            "(python setup.py build_ext --inplace)")

# words with non-ASCII bytes, and for the spaces tokenizer (lmplz's split) words holding a
# no-break space, a form feed and an ideographic space, which stay inside a word there
CORPUS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog",
          "café naïve 北京 欢迎 你", "the cat is naïve", "北京 欢迎 the dog",
          "x\xa0y z\x0cw 北京\u3000欢迎 the", "the mat the log the cat sat"]
WORDS = ["the", "cat", "sat", "on", "mat", "dog", "log", "café", "naïve", "北京", "欢迎", "你",
         "x\xa0y", "z\x0cw", "北京\u3000欢迎", "zzz", "ü", "日本", "<s>", "</s>", "<unk>"]
SEPARATORS = list(WORD_WHITESPACE) + ["  ", "\t\t"]


def routes(tokenizer: str, order: int = 3) -> tuple[NgramModel, NgramModel]:
    """(C route, numba route) over one packed model built with ``tokenizer``."""
    with warnings.catch_warnings():  # a tiny corpus: fallback discounts, whitespace in words
        warnings.simplefilter("ignore")
        m = NgramModel.build_from_text(CORPUS, order, text=TextOptions(tokenizer=tokenizer))
    c, nb = NgramModel(m.tables, packed=m.packed), NgramModel(m.tables, packed=m.packed)
    nb._nat = False  # what native.ENABLED = False gives a model
    return c, nb


def bits(x) -> bytes:
    return np.asarray(x, dtype=np.float64).tobytes()


def assert_same(c: NgramModel, nb: NgramModel, sentence) -> None:
    for eos in (True, False):
        assert bits(c.score(sentence, eos=eos)) == bits(nb.score(sentence, eos=eos)), (sentence, eos)
        got, want = c.score_tokens(sentence, eos=eos), nb.score_tokens(sentence, eos=eos)
        assert bits(got[0]) == bits(want[0]) and all(np.array_equal(g, w) for g, w in zip(got[1:], want[1:]))


PAIRS = {name: routes(name) for name in ("word", "spaces", "char")} if native._scorer else {}


@pytest.fixture(params=["word", "spaces", "char"])
def pair(request):
    if native._scorer is None:
        pytest.skip("the C extension is not built")
    c, nb = PAIRS[request.param]
    assert c._native() is not None and nb._native() is None
    return c, nb


sentence_text = st.one_of(
    st.lists(st.sampled_from(WORDS + SEPARATORS), max_size=30).map("".join),
    st.text(max_size=40))


@needs_c
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(s=sentence_text, t=sentence_text)
def test_c_equals_numba_bit_for_bit(pair, s, t):
    """Generated lines: OOVs, empty lines, literal <s> </s> <unk>, every Unicode whitespace,
    non-ASCII words. The str goes to C whole (split there for word/spaces, by the Python
    tokenizer for char); the numba route always gets the Python tokenizer's tokens."""
    c, nb = pair
    if "\n" in s + t and c.text.tokenizer == "spaces":
        return  # a token holding \n: the numba route gives up there (test below)
    assert_same(c, nb, s)
    assert_same(c, nb, c._tokens(s))  # tokens passed as a list
    batch = [s, t, "", c._tokens(t)]
    got = c.score_sentences(batch)
    assert bits(got) == bits(nb.score_sentences(batch)) == bits([c.score(x) for x in batch])


@needs_c
@settings(max_examples=200, deadline=None)
@given(s=st.lists(st.sampled_from(["ab", "é", "北", "\x00", "<s>"] + SEPARATORS + ["\n", "\x85"]),
                  max_size=20).map("".join))
def test_native_split_is_the_tokenizers(s):
    """The C split of a str gives the words (ids) of the Python tokenizer's tokens."""
    for name in ("word", "spaces"):
        c, _ = PAIRS[name]
        out = (np.empty(64), np.empty(64, dtype=np.int64), np.empty(64, dtype=np.int64))
        m = c._native().score_words(s, True, *out)
        toks = [w for w in c._tokens(s) if w not in ("<s>", "</s>")]
        assert out[2][:m - 1].tolist() == [c.index.get(w, 0) for w in toks], (name, s)


@needs_c
def test_literal_markers_and_a_newline_inside_a_spaces_word():
    c, nb = PAIRS["spaces"]
    # <s> and </s> in the text are dropped, <unk> is an OOV: "<s> the <unk> </s>" = "the zzz"
    assert bits(c.score("<s> the <unk> </s>")) == bits(c.score("the zzz"))
    # lmplz's split keeps \n inside a word: an OOV; the numba route takes the reference there
    lp, _, ids = c.score_tokens("the a\nb cat")
    ref, _, ref_ids = nb.score_tokens("the a\nb cat")
    assert ids.tolist() == ref_ids.tolist() == [c.index["the"], 0, c.index["cat"], 2]
    assert bits(lp) == bits(ref)
    assert c.score("the a\nb cat") == pytest.approx(nb.score("the a\nb cat"), abs=1e-12)


@needs_c
def test_lone_surrogates_take_the_reference_route():
    c, nb = PAIRS["word"]
    s = "the \ud800 cat"  # no UTF-8 bytes: the C call raises, the reference route scores it
    assert c.score(s) == pytest.approx(nb.score(s), abs=1e-12)
    assert c.score_sentences([s, "the cat"]) == pytest.approx(nb.score_sentences([s, "the cat"]),
                                                               abs=1e-12)
    with pytest.raises(TypeError):
        c.score(["the", 3])


@needs_c
@pytest.mark.data
def test_ptb_sentences_bit_for_bit(shared_data):
    """A 3-gram of 10,000 PTB training lines scoring the 3,761 test sentences."""
    lines = (shared_data / "ptb" / "ptb.train.txt").read_text().splitlines()[:10000]
    m = NgramModel.build_from_text(lines, 3)
    c, nb = NgramModel(m.tables, packed=m.packed), NgramModel(m.tables, packed=m.packed)
    nb._nat = False
    test = [l.strip() for l in (shared_data / "ptb" / "ptb.test.txt").read_text().splitlines()]
    assert bits([c.score(s) for s in test]) == bits([nb.score(s) for s in test])
    assert bits(c.score_sentences(test)) == bits(nb.score_sentences(test))
    for s in test[:500]:
        got, want = c.score_tokens(s), nb.score_tokens(s)
        assert bits(got[0]) == bits(want[0]) and np.array_equal(got[1], want[1])


def arrays(m: NgramModel) -> list[np.ndarray]:
    p = m.packed
    return [p.meta(), p.chars, p.vocab_offsets, p.vocab_table, p.logprob, p.backoff, p.table]


@needs_c
def test_short_or_inconsistent_buffers_are_refused():
    Scorer = native._scorer.Scorer
    c, _ = PAIRS["word"]
    good = arrays(c)
    Scorer(*good, 2)
    V = int(good[0][0])
    # every array but chars has a least size: meta 3N + 7, offsets V + 1, the word table
    # 2^vocab_bits, logprob and backoff V (the unigrams), the n-gram tables their rows
    for i, n in [(0, len(good[0]) - 1), (2, V), (3, len(good[3]) // 2), (4, V - 1), (5, V - 1),
                 (6, len(good[6]) - 1)]:
        bad = list(good)
        bad[i] = good[i][:n]
        with pytest.raises(ValueError):
            Scorer(*bad, 2)
    meta = good[0]
    N = int(meta[1])
    for at, value in [(0, 2), (1, 0), (1, 65), (2, 0), (2, 41), (3 + N + 1 + 2, -8),
                      (3 + N + 1 + 2, 1 << 40), (3 + 2 * N + 3 + 2, 0), (3 + 2 * N + 3 + 2, 41)]:
        bad = meta.copy()
        bad[at] = value
        with pytest.raises(ValueError):
            Scorer(bad, *good[1:], 2)
    misaligned = np.frombuffer(b"\0" + good[4].tobytes(), dtype=np.uint8)[1:]
    with pytest.raises(ValueError):
        Scorer(*good[:4], misaligned, *good[5:], 2)
    with pytest.raises(ValueError):
        Scorer(*good, 3)
    with pytest.raises(ValueError):
        Scorer.__new__(Scorer).score("the", True)  # never initialised
    s = Scorer(*good, 2)
    with pytest.raises(ValueError):
        s.score_many(["the", "cat"], True, np.empty(1))
    with pytest.raises(TypeError):
        s.score(3, True)
    with pytest.raises(TypeError):
        s.score_many([["the"], [b"cat"]], True, np.empty(2))
    # outputs too short for the words: m = -1, as the numba kernel reports it
    assert s.score_words("the cat sat", True, np.empty(2), np.empty(2, np.int64),
                         np.empty(2, np.int64)) == -1


@needs_c
def test_garbage_in_the_arrays_gives_numbers_not_crashes():
    """Sizes right, contents random (as an unverified damaged file): every index the pass
    reads is bounded, so it returns (wrong) numbers."""
    c, _ = PAIRS["word"]
    good = arrays(c)
    rng = np.random.default_rng(0)
    V = int(good[0][0])
    sentences = ["the cat sat on the mat zzz", "北京 欢迎 你 café", "", "the the the the"]
    for trial in range(30):
        bad = [a.copy() for a in good]
        for i in (2, 3, 6):  # offsets, word table, n-gram table: ints near the valid range
            n = len(bad[i])
            bad[i][:] = rng.choice([rng.integers(-3, V + 3, n), rng.integers(-2**62, 2**62, n),
                                    np.full(n, -1), rng.integers(0, 4, n)])
        bad[1] = rng.integers(0, 256, len(good[1]) + trial, dtype=np.uint8)
        s = native._scorer.Scorer(*bad, 2)
        out = np.empty(len(sentences))
        s.score_many(sentences, True, out)
        for x in sentences:
            s.score(x, False)


def test_the_switch_selects_numba():
    env = dict(os.environ, GROUNDUP_NGRAM_NATIVE="0")
    code = "from groundup.text.ngram import native; print(native.available())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_the_extension_is_built_where_ci_requires_it():
    """.ci/run sets GROUNDUP_REQUIRE_NATIVE=1: there a failed build is a failure, not a skip."""
    if os.environ.get("GROUNDUP_REQUIRE_NATIVE") != "1":
        pytest.skip("GROUNDUP_REQUIRE_NATIVE is not set")
    assert native.available()
