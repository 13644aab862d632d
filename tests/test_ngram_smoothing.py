"""Every smoothing method on a corpus small enough to compute by hand, and the invariant that
every context's distribution sums to one (property-based).

The toy corpus is two sentences, "a b" and "b", i.e. the padded stream
    <s> a b </s>   <s> b </s>
Vocabulary ids: <unk> 0, <s> 1, </s> 2, a 3, b 4. The predictable words V_u = {<unk>, </s>, a, b}
(|V_u| = 4). Raw counts: unigrams a 1, b 2, </s> 2 (N = 5); bigrams <s> a 1, a b 1, b </s> 2, <s> b 1.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.text.ngram import NgramModel
from groundup.text.ngram.kneser_ney import DiscountFallbackWarning
from groundup.text.ngram.counts import ngram_words
from groundup.text.ngram.katz import good_turing_ratios

TOY = [["a", "b"], ["b"]]


def build(smoothing, order=2, sents=TOY, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiscountFallbackWarning)
        return NgramModel.build(sents, order, smoothing, **kw)


def p(model, word, *context):
    """p(word | <s> context...), from the distribution over the whole vocabulary."""
    q = model.next_log10(["<s>", *context])
    return 10.0 ** q[model.index[word]]


def test_mle_by_hand():
    m = build("mle")
    # unigrams c/N: a 1/5, b 2/5, </s> 2/5, <unk> 0
    assert 10 ** m.tables.logprob[0][m.index["a"]] == pytest.approx(1 / 5)
    assert m.tables.logprob[0][m.index["<unk>"]] == -np.inf
    # p(a|<s>) = c(<s> a)/c(<s> .) = 1/2, p(b|a) = 1/1, p(</s>|b) = 2/2
    assert p(m, "a") == pytest.approx(0.5)
    assert p(m, "b", "a") == pytest.approx(1.0)
    assert m.score("a b") == pytest.approx(math.log10(0.5))
    # "b a": a was never seen after b, and b is a seen context -> probability 0
    assert m.score("b a") == -np.inf
    assert m.evaluate([["b", "a"]]).perplexity == math.inf


def test_add_one_by_hand():
    m = build("addk", k=1.0)
    # unigrams (c + 1) / (N + |V_u|) = (c + 1) / 9: a 2/9, b 3/9, </s> 3/9, <unk> 1/9
    assert p(m, "<unk>") == pytest.approx(1 / 12)  # see the <s> context below
    assert 10 ** m.tables.logprob[0][m.index["<unk>"]] == pytest.approx(1 / 9)
    # context <s>: c = 2, denominator 2 + 4 = 6: p(a|<s>) = p(b|<s>) = 2/6
    assert p(m, "a") == pytest.approx(2 / 6)
    # unseen mass 1 * (4 - 2) / 6 = 1/3; lower-order mass of the seen {a, b} = 5/9
    # backoff = (1/3) / (1 - 5/9) = 3/4, so p(</s>|<s>) = 3/4 * 3/9 = 1/4, p(<unk>|<s>) = 1/12
    assert p(m, "</s>") == pytest.approx(1 / 4)
    assert 10 ** m.tables.backoff[0][m.index["<s>"]] == pytest.approx(3 / 4)
    # context a: c = 1, denominator 5: p(b|a) = 2/5; backoff (3/5) / (1 - 3/9) = 9/10
    assert p(m, "b", "a") == pytest.approx(2 / 5)
    assert p(m, "a", "a") == pytest.approx(9 / 10 * 2 / 9)
    assert p(m, "</s>", "a") == pytest.approx(9 / 10 * 3 / 9)


def test_katz_by_hand():
    m = build("katz")
    # Good-Turing is undefined at both orders of this corpus (n3 = 0, and d_1 would be 4 for
    # the unigrams), so singletons get the fallback ratio d_1 = 0.5, larger counts keep d = 1.
    assert "fallback d1 = 0.5" in m.info["warnings"][0]
    # unigrams: a 0.5*1/5 = 0.1, b 0.4, </s> 0.4, left-over 0.1 spread over |V_u| = 4
    lp = 10 ** m.tables.logprob[0]
    assert lp[m.index["a"]] == pytest.approx(0.125)
    assert lp[m.index["b"]] == pytest.approx(0.425)
    assert lp[m.index["<unk>"]] == pytest.approx(0.025)
    # context <s> (c = 2): p(a|<s>) = p(b|<s>) = 0.5 * 1/2 = 0.25; left-over 0.5;
    # lower mass of {a, b} = 0.55, so b(<s>) = 0.5 / 0.45 = 10/9 and p(</s>|<s>) = 10/9 * 0.425
    assert p(m, "a") == pytest.approx(0.25)
    assert p(m, "</s>") == pytest.approx(10 / 9 * 0.425)
    # context a (c = 1): p(b|a) = 0.5, b(a) = 0.5 / (1 - 0.425)
    assert p(m, "b", "a") == pytest.approx(0.5)
    assert p(m, "a", "a") == pytest.approx(0.5 / 0.575 * 0.125)
    # context b: its only continuation "b </s>" (count 2) is trusted (d_2 = 1), which would
    # leave nothing for unseen words; the zero-left-over rule discounts it by 0.5 instead:
    # p(</s>|b) = 1.5/2, b(b) = 0.25 / (1 - 0.425), p(a|b) = b(b) * 0.125
    assert p(m, "</s>", "b") == pytest.approx(0.75)
    assert p(m, "a", "b") == pytest.approx(0.25 / 0.575 * 0.125)
    assert "contexts have only counts above" in m.info["warnings"][-1]


def test_good_turing_ratios_by_hand():
    # n1 = 6, n2 = 2, n3 = 1 with K = 2: common = (K+1) n3 / n1 = 0.5
    # d1 = (2 n2 / n1 - 0.5) / 0.5 = 1/3, d2 = (3 n3 / n2 / 2 - 0.5) / 0.5 = 1/2
    counts = np.array([1] * 6 + [2] * 2 + [3])
    d, K, note = good_turing_ratios(counts, K=2)
    assert K == 2 and note is None
    assert d[1] == pytest.approx(1 / 3) and d[2] == pytest.approx(1 / 2)


def test_kneser_ney_by_hand():
    m = build("kn")
    # adjusted unigram counts (distinct left words): a 1 ({<s>}), b 2 ({a, <s>}), </s> 1 ({b})
    # unigram n1 = 2, n2 = 1 -> D = 2 / (2 + 2) = 0.5; sum a = 4; gamma() = 0.5 * 3 / 4 = 0.375
    # p(a) = 0.5/4 + 0.375/4 = 0.21875, p(b) = 1.5/4 + 0.09375 = 0.46875, p(<unk>) = 0.09375
    lp = 10 ** m.tables.logprob[0]
    assert lp[m.index["a"]] == pytest.approx(0.21875)
    assert lp[m.index["b"]] == pytest.approx(0.46875)
    assert lp[m.index["<unk>"]] == pytest.approx(0.09375)
    # bigram n1 = 3, n2 = 1 -> D = 3 / 5 = 0.6
    # <s>: p(a|<s>) = 0.4/2 + 0.6 * 0.21875 = 0.33125; p(</s>|<s>) = 0.6 * 0.21875
    assert p(m, "a") == pytest.approx(0.33125)
    assert p(m, "</s>") == pytest.approx(0.13125)
    # a: p(b|a) = 0.4 + 0.6 * 0.46875; b: gamma = 0.6/2, p(</s>|b) = 1.4/2 + 0.3 * 0.21875
    assert p(m, "b", "a") == pytest.approx(0.68125)
    assert p(m, "</s>", "b") == pytest.approx(0.765625)
    assert m.score("a b") == pytest.approx(math.log10(0.33125 * 0.68125 * 0.765625))


def test_modified_kneser_ney_by_hand_with_fallback():
    # count-of-counts n3 = 0 at both orders: lmplz needs --discount_fallback here; we warn
    # and name the missing count, then use D1 = 0.5, D2 = 1, D3+ = 1.5.
    with pytest.warns(DiscountFallbackWarning) as caught:
        m = NgramModel.build(TOY, 2, "mkn")
    assert [str(w.message)[:37] for w in caught] == ["order 1: no 1-gram has adjusted count",
                                                     "order 2: no 2-gram has adjusted count"]
    assert "adjusted count 3 (count-of-counts n3 = 0)" in str(caught[0].message)
    # unigrams: D(a=1) .5, D(b=2) 1, D(</s>=1) .5 -> gamma() = 2/4; p(a) = .5/4 + .5/4 = 0.25
    lp = 10 ** m.tables.logprob[0]
    assert lp[m.index["a"]] == pytest.approx(0.25)
    assert lp[m.index["b"]] == pytest.approx(0.375)
    assert lp[m.index["<unk>"]] == pytest.approx(0.125)
    # <s>: gamma = (.5 + .5)/2; p(b|<s>) = .5/2 + .5 * .375; b: p(</s>|b) = (2-1)/2 + .5 * .25
    assert p(m, "b") == pytest.approx(0.4375)
    assert p(m, "b", "a") == pytest.approx(0.6875)
    assert p(m, "</s>", "b") == pytest.approx(0.625)


def test_kneser_ney_never_infinite():
    """An OOV word and an unseen bigram both get finite probabilities (NLTK's KN gives inf)."""
    for method in ("kn", "mkn"):
        m = build(method, order=3)
        ev = m.evaluate([["b", "a", "zebra", "a", "a"]])
        assert math.isfinite(ev.perplexity) and ev.oov == 1


# ------------------------------------------------------------------ property-based invariant
sentences = st.lists(st.lists(st.sampled_from("abcde"), min_size=0, max_size=7),
                     min_size=1, max_size=8)


@settings(max_examples=25, deadline=None)
@given(sents=sentences, order=st.integers(1, 4),
       method=st.sampled_from(["mkn", "kn", "katz", "addk", "mle"]))
def test_every_context_sums_to_one(sents, order, method):
    m = build(method, order=order, sents=sents, k=0.5)
    # every listed context, plus an unseen one, at every length
    contexts = [[]]
    for k in range(1, order):
        for row in ngram_words(m.tables.keys, m.V, k)[:30]:
            contexts.append([m.vocab[i] for i in row])
    contexts.append(["e", "zzz", "a"][-(order - 1):] if order > 1 else [])
    for ctx in contexts:
        if "</s>" in ctx:
            continue
        q = m.next_log10(ctx)
        total = float(np.sum(10.0 ** q))
        assert total == pytest.approx(1.0, abs=1e-9), (method, ctx, total)


@settings(max_examples=15, deadline=None)
@given(sents=sentences, order=st.integers(1, 4),
       method=st.sampled_from(["mkn", "katz", "addk", "mle"]))
def test_distribution_and_sentence_scores_agree(sents, order, method):
    """Two routes: the full next-word distribution vs the per-token scoring of the stream."""
    m = build(method, order=order, sents=sents, k=0.5)
    sent = sents[0] + ["zzz", "a"]
    toks = m.token_log10(m.encode([sent]))[1:]  # skip <s>
    history = ["<s>"]
    for w, got in zip(sent + ["</s>"], toks):
        want = m.next_log10(history)[m.index.get(w, 0)]
        assert got == pytest.approx(want, abs=1e-9) or (got == want == -np.inf)
        history.append(w)
