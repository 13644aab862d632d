"""BLEU written from Papineni et al. (2002), checked against nltk (test-only oracle)."""
import math
import warnings

import pytest

from groundup.train.bleu import bleu, corpus_bleu, sentence_bleu

nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")

# nltk's docstring example (Papineni's "the party" sentences), all >= 4 tokens
H1 = ("It is a guide to action which ensures that the military always obeys the commands of "
      "the party").split()
H2 = "It is to insure the troops forever hearing the activity guidebook that party direct".split()
R1 = ("It is a guide to action that ensures that the military will forever heed Party "
      "commands").split()
R2 = ("It is the guiding principle which guarantees the military forces always being under "
      "the command of the Party").split()
R3 = "It is the practical guide for the army always to heed the directions of the party".split()
H3 = "he read the book because he was interested in world history".split()
R4 = "he was interested in world history because he read the book".split()
H4 = "the cat sat quietly on a red mat today".split()  # unigram and bigram overlap only
R5 = "the cat was sitting on the mat".split()


def _nltk(kind, hyp, refs, method):
    sm = None if method is None else getattr(nltk_bleu.SmoothingFunction(), method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "sentence":
            return nltk_bleu.sentence_bleu(refs, hyp, smoothing_function=sm)
        return nltk_bleu.corpus_bleu(refs, hyp, smoothing_function=sm)


@pytest.mark.parametrize("method", [None, "method1", "method2", "method3", "method4"])
@pytest.mark.parametrize("hyp, refs", [(H1, [R1, R2, R3]), (H2, [R1, R2, R3]), (H3, [R4]),
                                       (H4, [R5]), (H4, [R5, R1])])
def test_sentence_bleu_matches_nltk(hyp, refs, method):
    ours = sentence_bleu(hyp, refs, smooth=method)
    ref = _nltk("sentence", hyp, refs, method)
    assert ours == pytest.approx(ref, rel=1e-12, abs=1e-60)  # nltk: ~1e-77 where we give 0


@pytest.mark.parametrize("method", [None, "method1", "method2", "method3", "method4"])
def test_corpus_bleu_matches_nltk(method):
    hyps = [H1, H2, H3, H4]
    refs = [[R1, R2, R3], [R1, R2, R3], [R4], [R5]]
    assert corpus_bleu(hyps, refs, smooth=method) == pytest.approx(
        _nltk("corpus", hyps, refs, method), rel=1e-12)


def test_known_value_and_hand_examples():
    # nltk's documented value for H1 against R1-R3
    assert sentence_bleu(H1, [R1, R2, R3]) == pytest.approx(0.5045666840058485, rel=1e-12)
    # Papineni's clipping example: 7 x "the" against "the cat is on the mat" -> p1 = 2/7;
    # c = 7 > r = 6, so BP = 1 and BLEU-1 = 2/7
    assert sentence_bleu(["the"] * 7, "the cat is on the mat".split(), max_n=1) == pytest.approx(2 / 7)
    # brevity: "the cat" vs "the cat is on the mat": p1 = p2 = 1, BP = exp(1 - 6/2)
    assert sentence_bleu(["the", "cat"], "the cat is on the mat".split(), max_n=2) == pytest.approx(
        math.exp(-2))
    # a perfect match is 1; integer tokens work; no overlap is 0
    assert bleu([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == 1.0
    assert bleu([7, 8, 9, 10], [1, 2, 3, 4]) == 0.0
    assert bleu([], [1, 2, 3]) == 0.0


def test_bleu_dispatches_sentence_vs_corpus_and_corpus_is_not_mean_of_sentences():
    s = bleu(H1, [R1, R2, R3])
    c = bleu([H1, H3], [[R1, R2, R3], R4])  # a single reference may be given bare
    assert s == sentence_bleu(H1, [R1, R2, R3])
    assert c == corpus_bleu([H1, H3], [[R1, R2, R3], [R4]])
    assert c != pytest.approx((s + sentence_bleu(H3, R4)) / 2)


def test_documented_difference_from_nltk_on_short_candidates():
    # A 3-token candidate has no 4-grams. nltk adds max(1, 0) = 1 to the 4-gram denominator;
    # we (like sacrebleu and mteval) count 0. With method1 this changes p4's epsilon/denominator
    # only in the corpus where the short sentence's phantom 4-gram is pooled with others.
    hyps = [H1, ["the", "military", "party"]]
    refs = [[R1, R2, R3], [R1]]
    ours = corpus_bleu(hyps, refs, smooth="method1")
    theirs = _nltk("corpus", hyps, refs, "method1")
    assert ours > theirs  # 1 phantom n-gram per short order in nltk's denominators


def test_validation():
    with pytest.raises(ValueError, match="max_n"):
        bleu(H1, R1, max_n=0)
    with pytest.raises(ValueError, match="smooth"):
        bleu(H1, R1, smooth="floor")
    with pytest.raises(ValueError, match="candidates"):
        corpus_bleu([H1, H2], [[R1]])
    with pytest.raises(ValueError, match="candidate_tokens"):
        bleu("a string", R1)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Random token lists over a 5-word vocabulary (so 1- to 4-gram matches are common), each at
# least 4 tokens long: the range where nltk's conventions and ours coincide.
_sent = st.lists(st.integers(0, 4), min_size=4, max_size=12)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(hyp=_sent, refs=st.lists(_sent, min_size=1, max_size=3),
       method=st.sampled_from([None, "method1", "method2", "method3", "method4"]))
def test_sentence_bleu_matches_nltk_on_random_sentences(hyp, refs, method):
    assert sentence_bleu(hyp, refs, smooth=method) == pytest.approx(
        _nltk("sentence", hyp, refs, method), rel=1e-12, abs=1e-60)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(pairs=st.lists(st.tuples(_sent, st.lists(_sent, min_size=1, max_size=2)), min_size=1,
                      max_size=5),
       method=st.sampled_from([None, "method1", "method2", "method3", "method4"]))
def test_corpus_bleu_matches_nltk_on_random_corpora(pairs, method):
    hyps, refs = [p[0] for p in pairs], [p[1] for p in pairs]
    assert corpus_bleu(hyps, refs, smooth=method) == pytest.approx(
        _nltk("corpus", hyps, refs, method), rel=1e-12, abs=1e-60)


@pytest.mark.parametrize("ours, theirs", [(None, "none"), ("method1", "floor"),
                                          ("method2", "add-k"), ("method3", "exp")])
def test_matches_sacrebleu_when_installed(ours, theirs):
    # Optional oracle (sacrebleu is not a test dependency; skipped without it). With
    # tokenize='none' and candidates of >= 4 tokens, sacrebleu's corpus score is 100 x ours.
    sacrebleu = pytest.importorskip("sacrebleu.metrics")
    hyps = [H1, H2, H3, H4]
    refs = [[R1, R2], [R2, R3], [R4, R4], [R5, R1]]  # two reference streams
    kw = {"smooth_value": 0.1} if theirs == "floor" else {"smooth_value": 1} if theirs == "add-k" else {}
    m = sacrebleu.BLEU(tokenize="none", smooth_method=theirs, **kw)
    streams = [[" ".join(r[j]) for r in refs] for j in range(2)]
    score = m.corpus_score([" ".join(h) for h in hyps], streams).score
    assert score == pytest.approx(100 * corpus_bleu(hyps, refs, smooth=ours), rel=1e-12)
