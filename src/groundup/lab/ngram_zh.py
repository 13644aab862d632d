"""Lab (Chinese): which sentence is plausible, and n-grams of characters vs of words.

Data: the bundled CMRC 2017 stories (:mod:`groundup.lab.zh_data`), spaces removed, every 10th
line held out. Two modified-Kneser-Ney models of each order are estimated from the same training
lines: one over characters (the ``char`` tokenizer) and one over words (the ``zh`` tokenizer,
jieba; when the ``zh`` extra is not installed that half is skipped and the verdict says so).

The article's use: a language model tells which of two sentences is the plausible one. Each
held-out sentence of 8-40 characters is shuffled (its characters in a random order, never the
original) and both models score the original and the shuffled string (the word model reads each
string through the ``zh`` tokenizer); a pair is won when the original's log-probability is higher.

Characters vs words: perplexity *per character* (``10^(-log10 p / C)``, C = characters + one
``</s>`` per sentence), comparable across the two tokenizations; KenLM's conventions (an unknown
word scores as ``<unk>``; the OOV rate of each is reported).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .base import Plot, Result, Table
from .catalogue import text

NAME = "ngram-zh"
TITLE = text("en", f"{NAME}.title")
CLAIM = text("en", f"{NAME}.claim")
CRITERION = text("en", f"{NAME}.criterion")

HELD_OUT_EVERY = 10
MIN_CHARS, MAX_CHARS = 8, 40
PAIRS_QUICK, PAIRS_FULL = 400, 2000
WIN_RATE = 0.95          # the verdict's threshold on pairs won, fixed before the run
COMPARE_ORDER = 3        # the order at which characters and words are compared
N_EXAMPLES = 6


def shuffled(chars: list[str], rng) -> list[str]:
    """The characters in a random order that is not the original (the sentence needs two
    distinct characters)."""
    while True:
        p = [chars[i] for i in rng.permutation(len(chars))]
        if p != chars:
            return p


def pair_wins(model, originals: list[list[str]], shuffles: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(S,) log10 p of each original and of its shuffle, from one vectorised pass each."""
    return model.score_sentences(originals), model.score_sentences(shuffles)


def per_char_perplexity(model, sentences: list[list[str]], n_chars: int) -> tuple[float, float]:
    """(perplexity per character, OOV rate) of token lists whose text has ``n_chars``
    characters; one ``</s>`` per sentence counts as a character."""
    ev = model.evaluate(sentences)
    return 10 ** (-ev.log10_prob / (n_chars + len(sentences))), ev.oov / ev.tokens


def judge(char_rate: float, word_rate: float | None, char_ppl: float, word_ppl: float | None) -> bool | None:
    """:data:`CRITERION` as code: None when the word model is missing and the rest held."""
    if char_rate < WIN_RATE or (word_rate is not None and word_rate < WIN_RATE):
        return False
    if word_rate is None:
        return None
    return word_ppl < char_ppl


def run(out: Path, *, full: bool, seed: int, lang: str = "en") -> Result:
    from ..data.tokenize import char_tokens
    from ..text.ngram import NgramModel
    from ..text.ngram.corpus import encode
    from ..text.ngram.counts import count_encoded
    from ..text.ngram.kneser_ney import DiscountFallbackWarning
    from ..text.ngram.model import estimate
    from .plotting import plt, save
    from .zh_data import cmrc_lines, zh_tokenizer

    T = lambda key, **kw: text(lang, f"{NAME}.{key}", **kw)   # noqa: E731
    rng = np.random.default_rng(seed)
    lines = cmrc_lines(raw=True)
    train = [s for i, s in enumerate(lines) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    test = [s for i, s in enumerate(lines) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    zh, why = zh_tokenizer()
    tokenizers = {"char": char_tokens} | ({"word": zh} if zh is not None else {})
    orders = range(1, 6) if full else range(1, COMPARE_ORDER + 1)

    # pairs: held-out sentences and their shuffles, as strings (each tokenizer reads them)
    cands = [s for s in test if MIN_CHARS <= len(s) <= MAX_CHARS and len(set(s)) > 1]
    cands = [cands[i] for i in rng.permutation(len(cands))[: PAIRS_FULL if full else PAIRS_QUICK]]
    pairs = [(s, "".join(shuffled(list(s), rng))) for s in cands]
    n_test_chars = sum(len(s) for s in test)

    ppl, oov, rate, deltas = {}, {}, {}, {}
    for kind, tok in tokenizers.items():
        sents = [tok(s) for s in train]
        test_toks = [tok(s) for s in test]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DiscountFallbackWarning)
            counts = count_encoded(encode(sents), max(orders))
            for k in orders:
                model = NgramModel(estimate(counts.truncated(k), "mkn"))
                ppl[kind, k], oov[kind] = per_char_perplexity(model, test_toks, n_test_chars)
                if k == COMPARE_ORDER:
                    a, b = pair_wins(model, [tok(o) for o, _ in pairs], [tok(x) for _, x in pairs])
                    deltas[kind] = a - b
                    rate[kind] = float(np.mean(a > b))
    has_word = "word" in tokenizers
    held = judge(rate["char"], rate.get("word"), ppl["char", COMPARE_ORDER],
                 ppl.get(("word", COMPARE_ORDER)))

    res = Result(name=NAME, title=T("title"), claim=T("claim"), criterion=T("criterion"), held=held)
    kinds = list(tokenizers)
    label = {"char": T("char"), "word": T("word")}
    res.tables.append(Table(T("table_ppl", sents=len(test), chars=n_test_chars),
                            [T("col_model")] + [T("col_order", k=k) for k in orders] + [T("col_oov")],
                            [[label[kind]] + [f"{ppl[kind, k]:.1f}" for k in orders] + [f"{oov[kind]:.2%}"]
                             for kind in kinds]))
    res.tables.append(Table(T("table_pairs", n=len(pairs), k=COMPARE_ORDER),
                            T("headers_pairs").split("|"),
                            [[label[kind], f"{rate[kind]:.1%}", f"{np.median(deltas[kind]):.1f}"]
                             for kind in kinds]))
    ex = [[o, x] + [f"{deltas[kind][i]:+.1f}" for kind in kinds] for i, (o, x) in enumerate(pairs[:N_EXAMPLES])]
    res.tables.append(Table(T("table_examples"), T("headers_examples").split("|")[: 2 + len(kinds)], ex))

    fig, ax = plt().subplots(figsize=(5.5, 3.6))
    for kind in kinds:
        ax.plot(list(orders), [ppl[kind, k] for k in orders], "o-", label=kind)
    ax.set_xticks(list(orders))
    ax.set_xlabel("order N")
    ax.set_ylabel("held-out perplexity per character")
    ax.set_title("CMRC 2017 stories: modified-KN n-grams")
    ax.legend(fontsize=8)
    res.plots.append(Plot(save(fig, out / "ngram_zh_perplexity.png"), T("caption_ppl")))

    res.summary = {"train_lines": len(train), "test_lines": len(test), "test_chars": n_test_chars,
                   "pairs": len(pairs), "word_tokenizer": "zh" if has_word else None,
                   **{f"pairs_won_{kind}": rate[kind] for kind in kinds},
                   **{f"ppl_per_char_{kind}_{k}": ppl[kind, k] for kind in kinds for k in orders},
                   **{f"oov_rate_{kind}": oov[kind] for kind in kinds}}
    word = T({True: "held", False: "not_held", None: "inconclusive"}[held])
    res.verdict = T("verdict_chars", word=word, char=rate["char"], k=COMPARE_ORDER,
                    char_ppl=ppl["char", COMPARE_ORDER])
    res.verdict += (T("verdict_words", word_rate=rate["word"], word_ppl=ppl["word", COMPARE_ORDER],
                      lower=T("lower" if ppl["word", COMPARE_ORDER] < ppl["char", COMPARE_ORDER] else "not_lower"))
                    if has_word else T("verdict_no_words", why=why))
    res.notes.append(T("note_data", train=len(train), test=len(test)))
    return res
