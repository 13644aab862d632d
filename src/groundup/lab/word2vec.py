"""Lab: Word2Vec learns, without supervision, a space where related words are near each other.

Quick mode trains skip-gram with negative sampling on the bundled WikiText-2 train split
(2.1M tokens, lowercased), then shows the nearest neighbours of probe words, an analogy score,
word-pair correlations, and a PCA projection of word groups (months, numbers, family, countries,
animals). ``--full`` trains 5 epochs on the english-novels-98 text8-like stream when the shared
data is present, else on WikiText-2 for 5 epochs.

The analogy score uses a small built-in question set written for this lab (capital-country,
gender, plural, comparative: words that occur in WikiText-2), and the Google set with gensim's
restrict_vocab=30000 convention when the shared evaluation files are present.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .base import Result, Table

NAME = "word2vec"
TITLE = "Word2Vec: unsupervised word vectors where related words are close"
CLAIM = ("Trained only to predict context words, skip-gram puts semantically related words "
         "near each other (a word's nearest neighbours are related words, word groups form "
         "separate clusters) and encodes relations as vector offsets (king - man + woman ~ queen).")

PROBES = ["king", "france", "music", "river", "war", "january", "three", "german"]
GROUPS = {
    "months": ["january", "february", "march", "april", "june", "july", "august", "september",
               "october", "november", "december"],
    "numbers": ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
    "family": ["father", "mother", "son", "daughter", "brother", "sister", "wife", "husband"],
    "countries": ["france", "germany", "italy", "spain", "china", "japan", "russia", "india", "canada"],
    "animals": ["dog", "cat", "horse", "bird", "fish", "wolf", "bear", "snake"],
}
# a : b :: c : d — a small set for the bundled corpus (the Google set needs the shared data)
LAB_ANALOGIES = """: capital-country
paris france berlin germany
paris france rome italy
paris france madrid spain
paris france tokyo japan
berlin germany london england
rome italy moscow russia
london england paris france
tokyo japan beijing china
: gender
man woman king queen
man woman father mother
man woman son daughter
man woman brother sister
he she his her
king queen prince princess
husband wife father mother
boy girl brother sister
: plural
city cities country countries
song songs album albums
game games player players
car cars ship ships
year years day days
: comparative
large larger small smaller
high higher low lower
good better bad worse
long longer short shorter
"""


def _corpus(full: bool):
    from ..data.locate import bundled_path, shared_file
    from ..data.pipeline import TextOptions
    from ..text.word2vec.vocab import read_sentences

    if full:
        novels = shared_file("english-novels-98")
        if novels is not None:
            return (read_sentences(novels, TextOptions(tokenizer="text8")),
                    "english-novels-98 (text8-like, 98 files)")
    return (read_sentences(bundled_path("wikitext-2", "wiki.train.tokens.xz"), TextOptions(lowercase=True)),
            "WikiText-2 train (bundled, lowercased)")


def run(out: Path, *, full: bool, seed: int) -> Result:
    from ..data.locate import shared_file
    from ..io import write_text
    from ..text.word2vec import Word2VecConfig, train
    from ..text.word2vec.evaluate import evaluate_analogies, evaluate_word_pairs
    from .plotting import plt, save

    res = Result(NAME, TITLE, CLAIM, mode="full" if full else "quick")
    corpus, corpus_name = _corpus(full)
    cfg = Word2VecConfig(arch="sg", dim=100, window=5, negative=5, sample=1e-3, min_count=5,
                         epochs=5 if full else 2, threads=2, seed=seed + 1)
    t0 = time.perf_counter()
    model = train(corpus, cfg, show_progress=True)
    wv = model.wv
    st = model.stats
    res.summary.update({
        "corpus": corpus_name, "arch": "skip-gram + negative sampling", "epochs": cfg.epochs,
        "vocab_size": st["vocab_size"], "corpus_tokens": st["corpus_tokens"],
        "train_seconds": round(st["train_seconds"], 2),
        "effective_words_per_s": round(st["effective_words_per_s"]),
        "loss_first_epoch": round(model.epoch_loss[0], 4), "loss_last_epoch": round(model.epoch_loss[-1], 4),
    })

    # nearest neighbours of probe words
    rows = []
    for w in PROBES:
        if w in wv:
            rows.append([w, ", ".join(f"{n} ({s:.2f})" for n, s in wv.most_similar(w, topn=6))])
    res.tables.append(Table("Nearest neighbours (cosine)", ["word", "6 nearest words"], rows))

    # analogies: the lab set (always), the Google set (shared data)
    qfile = out / "lab_analogies.txt"
    write_text(qfile, LAB_ANALOGIES)
    lab = evaluate_analogies(wv, qfile, restrict_vocab=30000)
    lab_mul = evaluate_analogies(wv, qfile, restrict_vocab=30000, method="mul")
    res.summary.update({"lab_analogy_acc_3cosadd": round(lab.accuracy, 4),
                        "lab_analogy_acc_3cosmul": round(lab_mul.accuracy, 4),
                        "lab_analogy_answered": lab.total})
    arows = [[s["section"], f"{s['correct']}/{s['total']}", f"{m['correct']}/{m['total']}"]
             for s, m in zip(lab.sections, lab_mul.sections)]
    examples = []
    for a, b, c in [("man", "king", "woman"), ("paris", "france", "berlin"), ("city", "cities", "country")]:
        if all(x in wv for x in (a, b, c)):
            examples.append([f"{a} : {b} :: {c} : ?", ", ".join(w for w, _ in wv.analogy(a, b, c, topn=3))])
    res.tables.append(Table("Built-in analogy questions (3CosAdd / 3CosMul correct)",
                            ["section", "3CosAdd", "3CosMul"], arows))
    res.tables.append(Table("Analogy examples (3CosAdd, top 3)", ["question", "answers"], examples))
    g = shared_file("word-eval", "questions-words.txt")
    if g is not None:
        ga = evaluate_analogies(wv, g, restrict_vocab=30000)
        kinds = ga.by_kind()
        res.summary.update({"google_analogy_acc": round(ga.accuracy, 4), "google_answered": ga.total,
                            "google_semantic": round(kinds["semantic"], 4),
                            "google_syntactic": round(kinds["syntactic"], 4)})
    for name, fname in (("ws353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        f = shared_file("word-eval", fname)
        if f is not None:
            r = evaluate_word_pairs(wv, f)
            res.summary[f"{name}_spearman"] = round(r.spearman, 4)
            res.summary[f"{name}_oov_pct"] = round(r.oov_ratio, 1)

    # groups: within-group vs across-group cosine, and a PCA plot
    present = {k: [w for w in v if w in wv] for k, v in GROUPS.items()}
    present = {k: v for k, v in present.items() if len(v) >= 3}
    words = [w for v in present.values() for w in v]
    labels = [k for k, v in present.items() for _ in v]
    U = wv.unit[[wv.index(w) for w in words]]
    S = U @ U.T
    lab_arr = np.array(labels)
    same = lab_arr[:, None] == lab_arr[None, :]
    off = ~np.eye(len(words), dtype=bool)
    within, across = float(S[same & off].mean()), float(S[~same].mean())
    nn_same = np.mean([same[i, np.argmax(np.where(off[i], S[i], -2))] for i in range(len(words))])
    res.summary.update({"group_within_cos": round(within, 3), "group_across_cos": round(across, 3),
                        "group_nn_same_group": round(float(nn_same), 3)})
    X = wv.vectors[[wv.index(w) for w in words]].astype(np.float64)
    X -= X.mean(0)
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    P = X @ Vt[:2].T                                               # (n, 2) PCA coordinates
    p = plt()
    fig, ax = p.subplots(figsize=(7.5, 6))
    for k in present:
        m = lab_arr == k
        ax.scatter(P[m, 0], P[m, 1], label=k, s=25)
        for (x, y), w in zip(P[m], np.array(words)[m]):
            ax.annotate(w, (x, y), fontsize=7, alpha=0.8)
    ax.set_title(f"Word2Vec (skip-gram) vectors, PCA of word groups\n{corpus_name}")
    ax.set_xlabel("PC 1"); ax.set_ylabel("PC 2"); ax.legend(fontsize=8)
    res.plots.append(save(fig, out / "word2vec_pca.png"))

    fig, ax = p.subplots(figsize=(5, 3.2))
    ax.plot(range(1, len(model.epoch_loss) + 1), model.epoch_loss, marker="o")
    ax.set_xlabel("epoch"); ax.set_ylabel("mean loss per prediction (float64)")
    ax.set_title("Training loss")
    res.plots.append(save(fig, out / "word2vec_loss.png"))

    res.notes.append(f"Trained {cfg.epochs} epoch(s) of skip-gram/NS (dim 100, window 5, 5 noise words, "
                     f"sample 1e-3, min_count 5, 2 threads) in {st['train_seconds']:.1f} s.")
    if g is None:
        res.notes.append("The Google analogy set and WordSim/SimLex files are not present (shared data "
                         "absent), so only the built-in questions are scored.")
    # chance for an analogy is about 1 / vocabulary size; 10% is far above it
    held = within - across > 0.2 and nn_same > 0.7 and lab.accuracy > 0.1
    res.verdict = (f"{'Held' if held else 'Did not hold'}: words of the same group have mean cosine "
                   f"{within:.2f} vs {across:.2f} across groups, {100 * nn_same:.0f}% of group words have "
                   f"a same-group nearest neighbour, and {100 * lab.accuracy:.0f}% of the built-in "
                   f"analogies are solved by vector offsets ({lab.correct}/{lab.total}; chance ~1/{len(wv):,}).")
    res.summary["seconds_total"] = round(time.perf_counter() - t0, 1)
    return res
