"""Lab: Word2Vec learns, without supervision, a space where related words are near each other.

Quick mode trains skip-gram with negative sampling for ``QUICK_EPOCHS`` epochs on the bundled
WikiText-2 train split (2.05M tokens, lowercased; 1.42M effective words an epoch after sub-sampling), then shows
the article's own kind of examples: the cosine similarity of probe words to a close word, a
related one and an unrelated one (the article's cat / kitten / dog / iphone, with words that
occur in WikiText-2), their nearest neighbours, king - man + woman, a PCA projection of word
groups, and the analogy accuracy on the covered Google questions beside gensim's on the same
corpus with the same settings (benchmarks/bench_word2vec_lab.py ran gensim once and recorded
its figures in ``assets/word2vec_gensim.json``). ``--full`` trains 5 epochs on the
english-novels-98 text8-like stream when the shared data is present (no gensim figure for it
here: see docs/word2vec.md), else the quick run.

The Google analogy set is used with gensim's restrict_vocab=30000 convention when the shared
evaluation files are present; a small built-in set (words that occur in WikiText-2) always.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from .base import Plot, Result, Table

NAME = "word2vec"
TITLE = "Word2Vec: unsupervised word vectors where related words are close"
CLAIM = ("Trained only to predict context words, skip-gram puts semantically related words "
         "near each other (cat is close to kitten, less to dog, far from iphone; word groups form "
         "separate clusters) and encodes relations as vector offsets (king - man + woman ~ queen), "
         "as well as the reference implementation does on the same text.")

QUICK_EPOCHS = 10
# the settings of the quick run, and of the gensim run it is compared with (gensim's defaults
# but the epochs; 2 threads as on the 2-core machine the quick run is timed on)
QUICK_SETTINGS = dict(arch="sg", dim=100, window=5, negative=5, sample=1e-3, min_count=5, alpha=0.025,
                      min_alpha=0.0001, epochs=QUICK_EPOCHS, threads=2)
# neighbours are listed among the most frequent words: after 10 epochs on 2M tokens a word seen
# 5-10 times sits near the few words it was seen with (cat -> "telecom", "tot" unrestricted)
NEIGHBOUR_VOCAB = 10_000
GENSIM_FILE = Path(__file__).with_name("assets") / "word2vec_gensim.json"

# (word, a close word, a related word, an unrelated word): the article's cat / kitten / dog /
# iphone, with words of WikiText-2 (which has no "kitten" or "iphone")
PROBES = [("cat", "cats", "dog", "playstation"), ("dog", "dogs", "horse", "album"),
          ("king", "queen", "prince", "guitar"), ("guitar", "bass", "piano", "election"),
          ("playstation", "xbox", "nintendo", "church")]
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
CRITERION = (
    "Held if all three hold: (1) word groups separate: mean cosine within groups minus across "
    "groups > 0.2 and >= 70% of group words have a same-group nearest neighbour; (2) for every "
    "probe, the close and the related word both have a higher cosine to it than the unrelated "
    "word; (3) analogy accuracy on the covered Google questions (the built-in set when the shared "
    "data is absent) is at least gensim's mean on the same corpus and settings minus "
    "max(2 points, 2 binomial standard errors). Did not hold if one fails; inconclusive when no "
    "gensim figure for these settings exists.")


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


def quick_corpus():
    """The quick run's corpus (also what the gensim benchmark trains on)."""
    return _corpus(False)[0]


def probe_cosines(similarity) -> dict[str, float]:
    """cos(word, other) for every probe pair, keyed "word/other"; ``similarity(a, b)``."""
    return {f"{w}/{o}": float(similarity(w, o)) for w, *others in PROBES for o in others}


def gensim_reference(settings: dict, corpus_name: str) -> dict | None:
    """gensim's recorded figures when they were measured with these settings on this corpus."""
    try:
        ref = json.loads(GENSIM_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return ref if ref.get("settings") == settings and ref.get("corpus") == corpus_name else None


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return c - h, c + h


def place_labels(ax, points: np.ndarray, words: list[str], fontsize: int = 7) -> int:
    """Label scatter points without overlap: each label tries eight offsets around its point
    and takes the first whose box overlaps no label placed before; a label with no free spot is
    left out. Returns the number placed."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    placed = []
    offsets = [(4, 3), (4, -9), (-4, 3), (-4, -9), (0, 7), (0, -13), (8, -3), (-8, -3)]
    for (x, y), w in zip(points, words):
        for dx, dy in offsets:
            t = ax.annotate(w, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                            ha="left" if dx >= 0 else "right", alpha=0.85)
            box = t.get_window_extent(renderer).expanded(1.05, 1.1)
            if not any(box.overlaps(b) for b in placed):
                placed.append(box)
                break
            t.remove()
    return len(placed)


def group_separation(wv, groups: dict[str, list[str]]):
    """How well word groups separate: (present groups, their words, each word's group label,
    mean cosine within groups, mean cosine across groups, share of words whose nearest other
    group word is of its own group). A group with fewer than 3 words in ``wv`` is left out."""
    present = {k: [w for w in v if w in wv] for k, v in groups.items()}
    present = {k: v for k, v in present.items() if len(v) >= 3}
    words = [w for v in present.values() for w in v]
    lab_arr = np.array([k for k, v in present.items() for _ in v])
    U = wv.unit[[wv.index(w) for w in words]]                     # (n, D) unit vectors
    S = U @ U.T                                                    # (n, n) cosines
    same = lab_arr[:, None] == lab_arr[None, :]
    off = ~np.eye(len(words), dtype=bool)
    within, across = float(S[same & off].mean()), float(S[~same].mean())
    nn_same = float(np.mean([same[i, np.argmax(np.where(off[i], S[i], -2))] for i in range(len(words))]))
    return present, words, lab_arr, within, across, nn_same


def run(out: Path, *, full: bool, seed: int) -> Result:
    from ..data.locate import shared_file
    from ..io import write_text
    from ..text.word2vec import Word2VecConfig, train
    from ..text.word2vec.evaluate import evaluate_analogies, evaluate_word_pairs
    from .plotting import plt, save

    res = Result(NAME, TITLE, CLAIM, mode="full" if full else "quick", criterion=CRITERION)
    corpus, corpus_name = _corpus(full)
    settings = dict(QUICK_SETTINGS, epochs=5) if full else QUICK_SETTINGS
    cfg = Word2VecConfig(**settings, seed=seed + 1)
    t0 = time.perf_counter()
    model = train(corpus, cfg, show_progress=True)
    wv = model.wv
    st = model.stats
    res.summary.update({
        "corpus": corpus_name, "arch": "skip-gram + negative sampling", "epochs": cfg.epochs,
        "vocab_size": st["vocab_size"], "corpus_tokens": st["corpus_tokens"],
        "effective_words": st["effective_words"], "train_seconds": round(st["train_seconds"], 2),
        "effective_words_per_s": round(st["effective_words_per_s"]),
        "loss_first_epoch": round(model.epoch_loss[0], 4), "loss_last_epoch": round(model.epoch_loss[-1], 4),
    })
    peer = None if full else gensim_reference(settings, corpus_name)

    # the article's examples: cosine to a close, a related and an unrelated word; neighbours
    cos = probe_cosines(wv.similarity) if all(w in wv for p in PROBES for w in p) else {}
    prows, probes_ok = [], bool(cos)
    for w, close, related, far in PROBES:
        if not cos:
            break
        c, r, f = (cos[f"{w}/{o}"] for o in (close, related, far))
        probes_ok &= c > f and r > f
        g = (lambda o: f" ({peer['probe_cosines'][f'{w}/{o}']:.2f})") if peer else (lambda o: "")
        prows.append([w, f"{close} {c:.2f}{g(close)}", f"{related} {r:.2f}{g(related)}",
                      f"{far} {f:.2f}{g(far)}",
                      ", ".join(n for n, _ in wv.most_similar(w, topn=6, restrict_vocab=NEIGHBOUR_VOCAB))])
        res.summary[f"cos_{w}_{close}"], res.summary[f"cos_{w}_{far}"] = round(c, 3), round(f, 3)
    res.tables.append(Table("Probe words: cosine to a close, a related and an unrelated word"
                            + (" (gensim's, same corpus and settings, in brackets)" if peer else ""),
                            ["word", "close", "related", "unrelated",
                             f"6 nearest of the {NEIGHBOUR_VOCAB:,} most frequent words"], prows))

    # king - man + woman, and the built-in and Google analogy sets
    if all(x in wv for x in ("king", "man", "woman")):
        answers = wv.analogy("man", "king", "woman", topn=5)
        res.summary["king_minus_man_plus_woman"] = answers[0][0]
        res.notes.append("king - man + woman = " + ", ".join(f"{a} ({s:.2f})" for a, s in answers)
                         + (f"; gensim's top 5: {', '.join(peer['king_man_woman'])}" if peer else ""))
    qfile = out / "lab_analogies.txt"
    write_text(qfile, LAB_ANALOGIES)
    lab = evaluate_analogies(wv, qfile, restrict_vocab=30000)
    res.summary.update({"lab_analogy_acc": round(lab.accuracy, 4), "lab_analogy_answered": lab.total})
    g = shared_file("word-eval", "questions-words.txt")
    google = evaluate_analogies(wv, g, restrict_vocab=30000) if g is not None else None
    arows = []
    for label, r, key in (("built-in set", lab, "lab"), ("Google set, covered questions", google, "google")):
        if r is None:
            continue
        lo, hi = wilson(r.correct, r.total)
        pv = peer.get(f"{key}_accuracy") if peer else None
        arows.append([label, f"{r.correct}/{r.total}", f"{100 * r.accuracy:.1f}% ({100 * lo:.1f}-{100 * hi:.1f})",
                      "—" if pv is None else f"{100 * np.mean(pv):.1f}% ({', '.join(f'{100 * x:.1f}' for x in pv)})"])
    if google is not None:
        kinds = google.by_kind()
        res.summary.update({"google_analogy_acc": round(google.accuracy, 4), "google_answered": google.total,
                            "google_semantic": round(kinds["semantic"], 4),
                            "google_syntactic": round(kinds["syntactic"], 4)})
    res.tables.append(Table("Analogy accuracy, 3CosAdd (restrict_vocab 30000)",
                            ["questions", "correct / answered", "ours (95% interval)",
                             "gensim 4.4, same corpus and settings (seeds)"], arows))
    for name, fname in (("ws353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        f = shared_file("word-eval", fname)
        if f is not None:
            r = evaluate_word_pairs(wv, f)
            res.summary[f"{name}_spearman"] = round(r.spearman, 4)

    # groups: within-group vs across-group cosine, and a PCA plot
    present, words, lab_arr, within, across, nn_same = group_separation(wv, GROUPS)
    res.summary.update({"group_within_cos": round(within, 3), "group_across_cos": round(across, 3),
                        "group_nn_same_group": round(nn_same, 3)})
    X = wv.vectors[[wv.index(w) for w in words]].astype(np.float64)
    X -= X.mean(0)
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    P = X @ Vt[:2].T                                               # (n, 2) PCA coordinates
    p = plt()
    fig, ax = p.subplots(figsize=(7.5, 6))
    for k in present:
        ax.scatter(P[lab_arr == k, 0], P[lab_arr == k, 1], label=k, s=25)
    ax.set_title(f"Word2Vec (skip-gram) vectors, PCA of word groups\n{corpus_name}")
    ax.set_xlabel("PC 1"); ax.set_ylabel("PC 2"); ax.legend(fontsize=8)
    fig.canvas.draw()                                              # fixes the axes before labels are measured
    n_lab = place_labels(ax, P, words)
    res.plots.append(Plot(save(fig, out / "word2vec_pca.png"),
                          f"The {len(words)} group words projected on their first two principal components, "
                          f"coloured by group ({n_lab} labelled; a label that would overlap another is left "
                          f"out). Look for one cluster per colour: the groups were never given to the model."))

    fig, ax = p.subplots(figsize=(5, 3.2))
    ax.plot(range(1, len(model.epoch_loss) + 1), model.epoch_loss, marker="o")
    ax.set_xlabel("epoch"); ax.set_ylabel("mean loss per prediction (float64)")
    ax.set_title("Training loss")
    res.plots.append(Plot(save(fig, out / "word2vec_loss.png"),
                          "Mean negative-sampling loss per prediction in each epoch: it should fall and "
                          "flatten as the learning rate decays to zero."))

    res.notes.append(f"Trained {cfg.epochs} epoch(s) of skip-gram/NS (dim 100, window 5, 5 noise words, "
                     f"sample 1e-3, min_count 5, 2 threads) on {st['effective_words']:,} effective words in "
                     f"{st['train_seconds']:.1f} s.")
    if peer:
        res.notes.append(f"gensim's figures: {peer['command']} (gensim {peer['gensim_version']}, seeds "
                         f"{peer['seeds']}).")
    if g is None:
        res.notes.append("The Google analogy set and WordSim/SimLex files are not present (shared data "
                         "absent), so only the built-in questions are scored.")

    # the verdict, by CRITERION
    groups_ok = within - across > 0.2 and nn_same > 0.7
    scored, key = (google, "google") if google is not None else (lab, "lab")
    analogy_ok = None
    if peer and peer.get(f"{key}_accuracy"):
        ref = float(np.mean(peer[f"{key}_accuracy"]))
        tol = max(0.02, 2 * math.sqrt(ref * (1 - ref) / max(scored.total, 1)))
        analogy_ok = scored.accuracy >= ref - tol
        res.summary.update({"gensim_analogy_acc": round(ref, 4), "analogy_tolerance": round(tol, 4)})
    res.held = False if not (groups_ok and probes_ok) or analogy_ok is False else (None if analogy_ok is None else True)
    word = {True: "Held", False: "Did not hold", None: "Inconclusive"}[res.held]
    peer_txt = ("no gensim figure for these settings" if analogy_ok is None else
                f"gensim {100 * res.summary['gensim_analogy_acc']:.1f}% on the same corpus and settings")
    res.verdict = (f"{word}: same-group words have mean cosine {within:.2f} vs {across:.2f} across groups "
                   f"({100 * nn_same:.0f}% have a same-group nearest neighbour); the probes' related words "
                   f"{'all' if probes_ok else 'not all'} score above the unrelated ones; analogies by vector "
                   f"offset: {100 * scored.accuracy:.1f}% of {scored.total} covered "
                   f"{'Google' if key == 'google' else 'built-in'} questions ({peer_txt}).")
    res.summary["seconds_total"] = round(time.perf_counter() - t0, 1)
    return res
