"""Lab: n-gram language models, orders 1..5 x five smoothing methods, and plausibility.

WikiText-2 (bundled, CC BY-SA) is counted once at order 5; every (method, order) model is
estimated from those counts (the counts of a k-gram model are the first k orders of the 5-gram
counts) and scored on valid and test with KenLM's conventions (``</s>`` counted; the literal
``<unk>`` of WikiText is the unknown word). Blank lines are skipped.

Plausibility, the article's use case: for held-out sentences (English: WikiText-2 test; Chinese:
a character model of the Analects with every 10th paragraph held out), every ordering of a short
clause is scored and we count how often the original order ranks first. Chance is 1/L! for a
clause of L distinct tokens.
"""
from __future__ import annotations

import itertools
import math
import time
import warnings
from pathlib import Path

import numpy as np

from .base import Plot, Result, Table

NAME = "ngram"
TITLE = "N-gram language models: smoothing, order, and which sentence is plausible"
CLAIM = ("Smoothing is what makes longer contexts useful: with (modified) Kneser-Ney the test "
         "perplexity falls as the order grows, while maximum likelihood gives unseen n-grams "
         "probability zero (infinite perplexity); and such a model can tell the natural word "
         "order of a sentence from its permutations, in English and in Chinese.")
CRITERION = ("Held iff modified-KN test perplexity falls from order 1 to 2 to 3; MLE's is infinite "
             "at every order from 2 to 5; and the original order of a held-out clause ranks first "
             "among all its orderings more than 5 times as often as chance (mean 1/L!) in English "
             "and in Chinese. Otherwise did not hold.")
METHODS = ("mle", "addk", "katz", "kn", "mkn")
LABELS = {"mle": "MLE", "addk": "add-1 (Laplace)", "katz": "Katz (Good-Turing)",
          "kn": "interpolated KN", "mkn": "modified KN (= lmplz)"}


def _wikitext(split: str) -> list[list[str]]:
    from ..data.locate import bundled_path, open_text

    with open_text(bundled_path("wikitext-2", f"wiki.{split}.tokens.xz")) as f:
        return [line.split() for line in f if line.strip()]


def _clauses(sents, min_len: int, max_len: int, limit: int, rng) -> list[list[str]]:
    """Short clauses with distinct tokens, cut at punctuation, in random order."""
    out = []
    for s in sents:
        cur: list[str] = []
        for w in s + ["."]:
            if w in {",", ".", ";", ":", "?", "!", "，", "。", "；", "：", "？", "！", "、", "“", "”", "‘", "’"}:
                if min_len <= len(cur) <= max_len and len(set(cur)) == len(cur) and "<unk>" not in cur:
                    out.append(cur)
                cur = []
            else:
                cur.append(w)
    idx = rng.permutation(len(out))[:limit]
    return [out[i] for i in idx]


def plausibility(model, clauses) -> tuple[float, list[list]]:
    """Fraction of clauses whose original order scores best among all its orderings, and
    example rows (clause, rank of the original, best-scoring ordering)."""
    top1, rows = 0, []
    for c in clauses:
        perms = [list(p) for p in itertools.permutations(c)]
        scores = model.score_sentences(perms)
        rank = 1 + int((scores > scores[0] + 1e-9).sum())  # permutations()[0] is the original
        top1 += rank == 1
        rows.append([c, rank, math.factorial(len(c)), perms[int(np.argmax(scores))]])
    return top1 / max(len(clauses), 1), rows


def run(out: Path, *, full: bool, seed: int) -> Result:
    from ..data.tokenize import char_tokens
    from ..text.ngram import NgramModel
    from ..text.ngram.corpus import encode, encode_fixed
    from ..text.ngram.counts import count_encoded
    from ..text.ngram.kneser_ney import DiscountFallbackWarning
    from ..text.ngram.model import estimate
    from ..utils import progress
    from .plotting import plt, save

    rng = np.random.default_rng(seed)
    res = Result(name=NAME, title=TITLE, claim=CLAIM)
    t0 = time.perf_counter()
    train, valid, test = _wikitext("train"), _wikitext("valid"), _wikitext("test")
    corpus = encode(train)
    counts = count_encoded(corpus, 5)
    t_count = time.perf_counter() - t0
    enc_valid = encode_fixed(valid, corpus.vocab, {w: i for i, w in enumerate(corpus.vocab)})
    enc_test = encode_fixed(test, corpus.vocab, {w: i for i, w in enumerate(corpus.vocab)})

    ppl: dict[tuple[str, int], tuple[float, float]] = {}
    models = {}
    grid = [(m, k) for m in METHODS for k in range(1, 6)]
    for method, k in progress(grid, desc="ngram models", unit=" model"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DiscountFallbackWarning)
            model = NgramModel(estimate(counts.truncated(k), method, k=1.0))
        # two passes per model: binary search beats building the hash tables
        ev_v = model.evaluate_encoded(enc_valid, fast=False)
        ev_t = model.evaluate_encoded(enc_test, fast=False)
        ppl[method, k] = (ev_v.perplexity, ev_t.perplexity)
        if method == "mkn" and k in (3, 5):
            models[k] = model
        if k == 5 and method == "mkn":
            oov_rate = ev_t.oov / ev_t.tokens
    t_models = time.perf_counter() - t0 - t_count

    def fmt(x: float) -> str:
        return "inf" if not math.isfinite(x) else f"{x:.1f}"

    res.tables.append(Table(
        "WikiText-2 test perplexity (valid in brackets), </s> counted, <unk> is a word",
        ["method"] + [f"order {k}" for k in range(1, 6)],
        [[LABELS[m]] + [f"{fmt(ppl[m, k][1])} ({fmt(ppl[m, k][0])})" for k in range(1, 6)]
         for m in METHODS]))

    fig, ax = plt().subplots(figsize=(6.4, 4.2))
    for m in METHODS:
        ks = [k for k in range(1, 6) if math.isfinite(ppl[m, k][1])]
        ax.plot(ks, [ppl[m, k][1] for k in ks], marker="o", label=LABELS[m])
    ax.set_yscale("log")
    ax.set_xticks(range(1, 6))
    ax.set_xlabel("order N")
    ax.set_ylabel("test perplexity (log scale)")
    ax.set_title("WikiText-2: perplexity by order and smoothing\n(MLE is infinite beyond unigrams)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    res.plots.append(Plot(save(fig, out / "ngram_perplexity.png"),
                          "WikiText-2 test perplexity (log scale) against the n-gram order, one line per "
                          "smoothing method. Look for: whether the two Kneser-Ney lines fall as the order "
                          "grows, and how add-1 behaves; MLE has a point at order 1 only (infinite beyond)."))

    # ---------------------------------------------------------------- plausibility, English
    n_clauses = 60 if full else 20
    en_clauses = _clauses(test, 4, 6 if full else 5, n_clauses, rng)
    en_top1, en_rows = plausibility(models[5], en_clauses)
    en_chance = float(np.mean([1 / math.factorial(len(c)) for c in en_clauses]))

    # --------------------------------------------------------------- plausibility, Chinese
    from ..data.locate import bundled_path

    lines = bundled_path("zh", "lunyu.txt").read_text(encoding="utf-8").splitlines()
    zh = [char_tokens(line) for line in lines if line.strip()]
    zh_train = [s for i, s in enumerate(zh) if i % 10 != 9]
    zh_test = [s for i, s in enumerate(zh) if i % 10 == 9]
    zh_ppl = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiscountFallbackWarning)
        zh_counts = count_encoded(encode(zh_train), 5)
        for k in range(1, 6):
            zh_model = NgramModel(estimate(zh_counts.truncated(k), "mkn"))
            zh_ppl[k] = zh_model.evaluate(zh_test).perplexity
            if k == 3:
                zh_model3 = zh_model
    zh_clauses = _clauses(zh_test, 4, 6 if full else 5, n_clauses, rng)
    zh_top1, zh_rows = plausibility(zh_model3, zh_clauses)
    zh_chance = float(np.mean([1 / math.factorial(len(c)) for c in zh_clauses]))

    res.tables.append(Table(
        "Analects (论语), character-level modified KN: held-out perplexity per character",
        ["order"] + [str(k) for k in range(1, 6)], [["perplexity"] + [f"{zh_ppl[k]:.1f}" for k in range(1, 6)]]))
    res.tables.append(Table(
        "Plausibility: does the original order of a held-out clause score best among all its orderings?",
        ["language", "model", "clauses", "original ranked first", "chance (mean 1/L!)"],
        [["English (WikiText-2 test)", "word 5-gram MKN", len(en_clauses), f"{en_top1:.0%}", f"{en_chance:.1%}"],
         ["Chinese (Analects, held out)", "char 3-gram MKN", len(zh_clauses), f"{zh_top1:.0%}", f"{zh_chance:.1%}"]]))
    examples = [["en", " ".join(c), f"{r} / {n}", " ".join(b)] for c, r, n, b in en_rows[:6]]
    examples += [["zh", "".join(c), f"{r} / {n}", "".join(b)] for c, r, n, b in zh_rows[:6]]
    res.tables.append(Table("Examples: rank of the original among all orderings, and the model's favourite",
                            ["lang", "original clause", "rank / orderings", "best-scoring ordering"],
                            examples))

    prune_summary = _how_small(res, models[3], enc_test, out)

    best_order = min(range(1, 6), key=lambda k: ppl["mkn", k][1])
    mkn = [ppl["mkn", k][1] for k in range(1, 6)]
    res.summary = {
        "train_tokens": corpus.n_words, "vocab": len(corpus.vocab) - 1,
        "ngrams_order5": counts.sizes(),
        **{f"test_ppl_{m}_{k}": ppl[m, k][1] for m in METHODS for k in range(1, 6)},
        **{f"valid_ppl_{m}_{k}": ppl[m, k][0] for m in METHODS for k in range(1, 6)},
        "test_oov_rate": oov_rate, "mkn_best_order": best_order,
        "plausibility_top1_en": en_top1, "plausibility_chance_en": en_chance,
        "plausibility_top1_zh": zh_top1, "plausibility_chance_zh": zh_chance,
        **{f"zh_char_ppl_{k}": zh_ppl[k] for k in range(1, 6)},
        "seconds_counting": t_count, "seconds_models": t_models, **prune_summary,
    }
    falls = mkn[2] < mkn[1] < mkn[0]
    mle_inf = all(not math.isfinite(ppl["mle", k][1]) for k in range(2, 6))
    mkn_best = all(ppl["mkn", k][1] <= min(ppl[m, k][1] for m in METHODS) + 1e-9 for k in range(2, 6))
    plaus = en_top1 > 5 * en_chance and zh_top1 > 5 * zh_chance
    held = bool(falls and mle_inf and plaus)
    res.held, res.criterion = held, CRITERION
    res.verdict = (
        f"{'Held' if held else 'Did not fully hold'}: modified KN test perplexity "
        f"{mkn[0]:.0f} -> {mkn[1]:.0f} -> {mkn[2]:.0f} for orders 1-3 (best at order {best_order}, "
        f"{min(mkn):.1f}); MLE is {'infinite' if mle_inf else 'finite'} beyond unigrams; "
        f"modified KN is {'the best' if mkn_best else 'not always the best'} method at every order >= 2. "
        f"The original word order ranks first for {en_top1:.0%} of English clauses and "
        f"{zh_top1:.0%} of Chinese ones (chance {en_chance:.1%} / {zh_chance:.1%}).")
    res.notes += [
        "Each model is estimated from one 5-gram count of WikiText-2 train (2.1M tokens), "
        "truncated to the order; modified KN reproduces KenLM's lmplz (see docs/ngram.md).",
        "Perplexity convention as KenLM's query: </s> is a token, OOV words score as <unk> and "
        f"count as tokens; WikiText's own <unk> is a word of the vocabulary (test OOV rate "
        f"{oov_rate:.1%}, all of them literal <unk>).",
        "Add-1 spreads far too much mass over unseen words, so its perplexity grows with the "
        "order; Katz and KN both fix that, KN better, since its lower orders count contexts "
        "(continuation counts) rather than occurrences.",
        "Plausibility clauses: 4-5 tokens (quick) cut at punctuation, distinct tokens, no <unk>; "
        "the Chinese model never saw the held-out paragraphs (every 10th).",
    ]
    return res


PRUNE_THRESHOLDS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4)


def _how_small(res: Result, model, enc_test, out: Path) -> dict:
    """How small can the model get: entropy pruning (Stolcke 1998, text/ngram/prune.py) of the
    WikiText-2 modified-KN 3-gram at several thresholds; test perplexity against the number of
    n-grams kept (a table and a plot; reported, no verdict of its own)."""
    from ..text.ngram import NgramModel
    from ..text.ngram.prune import entropy_deltas, prune_entropy
    from .plotting import plt, save

    deltas = entropy_deltas(model.tables)
    full_n = sum(len(k) for k in model.tables.keys)
    full_ppl = model.evaluate_encoded(enc_test, fast=False).perplexity
    points = [(0.0, full_n, full_ppl)]
    for th in PRUNE_THRESHOLDS:
        m = NgramModel(prune_entropy(model.tables, th, deltas=deltas))
        points.append((th, sum(len(k) for k in m.tables.keys), m.evaluate_encoded(enc_test, fast=False).perplexity))
    res.tables.append(Table(
        "How small can the model get? Entropy pruning of the WikiText-2 modified-KN 3-gram",
        ["threshold (relative perplexity increase per n-gram)", "n-grams kept", "share of the full model",
         "test perplexity", "vs unpruned"],
        [[f"{th:g}" if th else "0 (unpruned)", f"{n:,}", f"{n / full_n:.1%}", f"{p:.1f}", f"{p / full_ppl - 1:+.1%}"]
         for th, n, p in points]))
    fig, ax = plt().subplots(figsize=(6.4, 4.2))
    ax.plot([n for _, n, _ in points], [p for _, _, p in points], marker="o")
    for th, n, p in points:
        ax.annotate(f"{th:g}", (n, p), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("n-grams in the model (log scale)")
    ax.set_ylabel("test perplexity")
    ax.set_title("WikiText-2 3-gram MKN, entropy-pruned (Stolcke 1998)")
    ax.grid(alpha=0.3)
    res.plots.append(Plot(save(fig, out / "ngram_pruning.png"),
                          "Test perplexity against model size as the pruning threshold grows (labels). "
                          "Look for: how many n-grams go before perplexity rises by a few percent."))
    return {"prune_points": [{"threshold": th, "ngrams": n, "test_ppl": p} for th, n, p in points]}
