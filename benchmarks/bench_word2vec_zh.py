"""Chinese word2vec: groundup vs gensim 4.4 on the same tokens and the same settings.

Corpus (from ``../shared/data/zh``, see its SOURCES.md):
  * ``cmrc`` — CMRC 2017's two validation ``*.doc_query`` files, already machine-segmented with
    spaces. A document line is ``N ||| words``: the prefix is stripped and the ``<qid_K> |||``
    query lines (cloze sentences with an ``XXXXX`` hole, or questions) are left out. The same
    stories come in overlapping windows, so lines are deduplicated (first occurrence kept).
  * ``tatoeba`` (optional, ``--corpus cmrc,tatoeba``) — Tatoeba's Mandarin sentences, converted
    to Simplified (OpenCC t2s) and segmented with jieba: groundup's own pipeline,
    ``TextOptions(tokenizer="zh", script="simplified")``.
  The tokens are written once to one file, one sentence per line, and both systems read that
  file (gensim: ``LineSentence``; ours: ``read_sentences`` with the word tokenizer), so they
  train on the very same tokens.

Settings (the English benchmark's): skip-gram and CBOW, vector_size 100, window 5, negative 5,
sample 1e-3, min_count 5, alpha 0.025, 5 epochs, 2 threads; one run per seed (``--seeds``),
gensim first. Ours runs once per seed under each of ``--ours``' conventions:
  * ``gensim`` — gensim 4's two conventions where word2vec.c's (our defaults) differ: initial
    input vectors uniform in [-1/D, 1/D) instead of [-0.5/D, 0.5/D) (``init="gensim"``), and an
    NS term whose score is beyond +-6 skipped instead of updated with the saturated sigmoid
    (``saturated="skip"``). These are "the same settings" as gensim's;
  * ``word2vec.c`` — our defaults.
On a corpus this small the initial range is not negligible: with word2vec.c's, CBOW ends at a
training objective about 0.024 higher (docs/word2vec.md).

Each run is also scored by its training objective (``groundup.text.word2vec.objective``): the
mean NS loss per prediction over one pass of the corpus with the learning rate at 0, the same
sub-sampling, windows and noise words (one fixed random stream) for every run's weights, gensim's
``syn1neg`` included. It compares the two trainers on the same predictions, far less noisy than
an accuracy over a few hundred questions. Differences are paired by seed: the table gives the
mean +- the standard deviation over seeds of (ours - gensim), and how many seeds were below.

Evaluation, the same evaluator for both (groundup's, which tests/test_word2vec_eval.py and
tests/test_word2vec_zh.py check against gensim's on the same vectors), over the whole vocabulary
(restrict_vocab = vocabulary size; both vocabularies are equal, min_count 5 over the same tokens):
  * CA8 morphological and semantic analogies (Li et al. 2018) and CA_translated: 3CosAdd
    accuracy over the questions whose four words are all in the vocabulary; coverage = those
    questions / all questions;
  * COS960 (Huang et al. 2019): Spearman of cosine vs the mean human score over the pairs in
    the vocabulary; coverage = those pairs / 960.

    .venv/bin/python benchmarks/bench_word2vec_zh.py                       # CMRC, sg+cbow, seeds 1-10
    .venv/bin/python benchmarks/bench_word2vec_zh.py --corpus cmrc,tatoeba --archs cbow --ours gensim

Prints a Markdown table (what, gensim, ours, ours - gensim per convention) and writes the same as JSON
(``benchmarks/out/word2vec_zh.json`` by default). Accuracy is what this compares; the training
seconds in the JSON are wall times on whatever the machine was doing (time them through a quiet
CPU before quoting them).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

from _common import ROOT, load_average, markdown_table, write_json

EVAL = {"CA8 morphological": "CA8/morphological.txt", "CA8 semantic": "CA8/semantic.txt",
        "CA_translated": "CA_translated/ca_translated.txt"}
SIM = {"COS960": "COS960/COS960_all.txt"}
_DOC_LINE = re.compile(r"^\d+ \|\|\| (.*)$")


def zh_root() -> Path:
    from groundup.data.locate import shared_file

    root = shared_file("zh")
    if root is None:
        raise SystemExit("shared data zh/ not found (set GROUNDUP_DATA)")
    return root


def cmrc_lines(root: Path) -> tuple[list[str], dict]:
    """CMRC 2017's document lines without the 'N ||| ' prefix, deduplicated (first kept)."""
    docs = 0
    seen: dict[str, None] = {}
    for name in ("cloze.valid.doc_query", "user.valid.doc_query"):
        with open(root / "corpus" / "cmrc2017" / name, encoding="utf-8") as f:
            for line in f:
                m = _DOC_LINE.match(line.rstrip("\n"))
                if m is None:          # a <qid_K> ||| query line
                    continue
                docs += 1
                text = " ".join(m.group(1).split())
                if text:
                    seen.setdefault(text, None)
    return list(seen), {"document_lines": docs, "unique_lines": len(seen)}


def tatoeba_lines(root: Path) -> tuple[list[str], dict]:
    """Tatoeba's Mandarin sentences, Simplified and jieba-segmented (groundup's zh pipeline)."""
    from groundup.data.pipeline import TextOptions

    tok = TextOptions(tokenizer="zh", script="simplified").get_tokenizer()
    out: dict[str, None] = {}
    n = 0
    with open(root / "corpus" / "tatoeba-cmn" / "tatoeba_cmn_sentences.tsv", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            n += 1
            words = tok(parts[2])
            if words:
                out.setdefault(" ".join(words), None)
    return list(out), {"sentences": n, "unique_lines": len(out)}


def build_corpus(names: list[str], cache: Path) -> tuple[Path, dict]:
    root = zh_root()
    lines: list[str] = []
    info: dict = {}
    for name in names:
        got, stats = {"cmrc": cmrc_lines, "tatoeba": tatoeba_lines}[name](root)
        lines += got
        info[name] = {**stats, "tokens": sum(len(l.split()) for l in got)}
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"word2vec_zh.{'+'.join(names)}.txt"
    from groundup.io import write_text

    write_text(path, "\n".join(lines) + "\n")
    info["lines"] = len(lines)
    info["tokens"] = sum(len(l.split()) for l in lines)
    return path, info


CONVENTIONS = {"gensim": dict(init="gensim", saturated="skip"), "word2vec.c": {}}


def settings(arch: str, seed: int, epochs: int, threads: int) -> dict:
    return dict(arch=arch, dim=100, window=5, negative=5, sample=1e-3, min_count=5, alpha=0.025,
                epochs=epochs, threads=threads, seed=seed)


def train_gensim(path: Path, s: dict):
    """(word vectors, input and output weights (V, D) each, seconds)"""
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    from groundup.text.word2vec.vectors import WordVectors

    t0 = time.perf_counter()
    m = Word2Vec(LineSentence(str(path)), vector_size=s["dim"], window=s["window"],
                 negative=s["negative"], hs=0, sample=s["sample"], min_count=s["min_count"],
                 alpha=s["alpha"], workers=s["threads"], sg=int(s["arch"] == "sg"), seed=s["seed"],
                 epochs=s["epochs"])
    secs = time.perf_counter() - t0
    return WordVectors(list(m.wv.index_to_key), m.wv.vectors), (m.wv.vectors, m.syn1neg), secs


def train_ours(path: Path, s: dict, conventions: str):
    """(word vectors, input and output weights, seconds) with ``CONVENTIONS[conventions]``"""
    from groundup.data.pipeline import TextOptions
    from groundup.text.word2vec import Word2VecConfig, train
    from groundup.text.word2vec.vocab import read_sentences

    cfg = Word2VecConfig(arch=s["arch"], dim=s["dim"], window=s["window"], negative=s["negative"],
                         sample=s["sample"], min_count=s["min_count"], alpha=s["alpha"],
                         epochs=s["epochs"], threads=s["threads"], seed=s["seed"], **CONVENTIONS[conventions])
    t0 = time.perf_counter()
    m = train(read_sentences(path, TextOptions()), cfg, show_progress=False)
    return m.wv, (m.syn0, m.syn1neg), time.perf_counter() - t0


def scorer(path: Path, arch: str):
    """The training objective of (syn0, syn1neg) on the corpus at ``path``, ``arch``'s
    predictions, one fixed random stream (:func:`groundup.text.word2vec.objective`)."""
    from groundup.data.pipeline import TextOptions
    from groundup.text.word2vec import Word2VecConfig, objective
    from groundup.text.word2vec.vocab import build_vocab, read_sentences

    sents = read_sentences(path, TextOptions())
    cfg = Word2VecConfig(arch=arch)
    vocab = build_vocab(sents, min_count=cfg.min_count)

    def score(wv, weights) -> float:
        if wv.words != vocab.itos:
            raise SystemExit("the two systems' vocabularies differ: the objective needs one order")
        return objective(sents, vocab, *weights, cfg)
    return score


def evaluate(wv, root: Path) -> dict:
    from groundup.text.word2vec.evaluate import evaluate_analogies, evaluate_word_pairs

    out = {}
    for name, rel in EVAL.items():
        r = evaluate_analogies(wv, root / "word-eval" / rel, restrict_vocab=len(wv))
        out[name] = {"accuracy": r.accuracy, "correct": r.correct, "answered": r.total,
                     "questions": r.questions, "coverage": r.total / max(r.questions, 1),
                     "sections": {s["section"]: [s["correct"], s["total"]] for s in r.sections}}
    for name, rel in SIM.items():
        r = evaluate_word_pairs(wv, root / "word-eval" / rel, restrict_vocab=len(wv))
        out[name] = {"spearman": r.spearman, "pairs": r.pairs, "all_pairs": r.pairs + r.oov,
                     "coverage": r.pairs / max(r.pairs + r.oov, 1)}
    return out


METRICS = [(f"{k} accuracy", k, "accuracy") for k in EVAL] + [(f"{k} Spearman", k, "spearman") for k in SIM] \
    + [("training objective (mean NS loss, one pass at lr 0)", "objective", "loss")]


def summarize(runs: list[dict], archs: list[str], ours: list[str]) -> tuple[list[list[str]], dict]:
    """Rows (what, gensim's mean, then per convention: ours' mean and the paired difference),
    and the same as a dict."""
    rows, summary = [], {}
    for arch in archs:
        by = {(r["system"], r["seed"]): r for r in runs if r["arch"] == arch}
        seeds = sorted({seed for _, seed in by})
        for label, k, m in METRICS:
            g = [by["gensim", sd]["eval"][k][m] for sd in seeds]
            row, entry = [f"{arch} {label}", f"{statistics.mean(g):.4f}"], {"gensim": g}
            for c in ours:
                o = [by[f"ours/{c}", sd]["eval"][k][m] for sd in seeds]
                d = [x - y for x, y in zip(o, g)]
                sd_d = statistics.stdev(d) if len(d) > 1 else 0.0
                row += [f"{statistics.mean(o):.4f}",
                        f"{statistics.mean(d):+.4f} ± {sd_d:.4f} ({sum(x < 0 for x in d)}/{len(d)})"]
                entry[f"ours/{c}"] = {"values": o, "diff_mean": statistics.mean(d), "diff_sd": sd_d}
            if k == "objective":
                row.append("")
            else:
                ev = by["gensim", seeds[0]]["eval"][k]
                n = (ev["answered"], ev["questions"]) if m == "accuracy" else (ev["pairs"], ev["all_pairs"])
                row.append(f"{n[0]:,} of {n[1]:,}")
            rows.append(row)
            summary[f"{arch} {label}"] = entry
    return rows, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="cmrc", help="cmrc, tatoeba or both (comma list)")
    ap.add_argument("--archs", default="sg,cbow")
    ap.add_argument("--seeds", default="1,2,3,4,5,6,7,8,9,10")
    ap.add_argument("--ours", default="gensim,word2vec.c",
                    help="our runs' conventions, a comma list of: " + ", ".join(CONVENTIONS))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", default=str(ROOT / "benchmarks" / "out"),
                    help="folder for the token file")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "word2vec_zh.json"))
    args = ap.parse_args()
    os.environ.setdefault("GROUNDUP_PROGRESS", "0")
    names = args.corpus.split(",")
    root = zh_root()
    path, info = build_corpus(names, Path(args.cache))
    print(f"corpus {'+'.join(names)}: {info['lines']:,} lines, {info['tokens']:,} tokens "
          f"({', '.join(f'{k}: {v}' for k, v in info.items() if isinstance(v, dict))})",
          file=sys.stderr)
    ours = args.ours.split(",")
    if set(ours) - set(CONVENTIONS):
        raise SystemExit(f"--ours: unknown conventions {sorted(set(ours) - set(CONVENTIONS))}")
    runs = []
    for arch in args.archs.split(","):
        score = scorer(path, arch)
        for seed in map(int, args.seeds.split(",")):
            s = settings(arch, seed, args.epochs, args.threads)
            systems = [("gensim", lambda: train_gensim(path, s))]
            systems += [(f"ours/{c}", lambda c=c: train_ours(path, s, c)) for c in ours]
            for system, fn in systems:
                wv, weights, secs = fn()
                ev = evaluate(wv, root)
                ev["objective"] = {"loss": score(wv, weights)}
                runs.append({"system": system, "arch": arch, "seed": seed, "vocab": len(wv),
                             "train_wall_s": secs, "eval": ev})
                print(f"  {system:17s} {arch:4s} seed {seed}: vocab {len(wv):,}, "
                      + ", ".join(f"{k} {v.get('accuracy', v.get('spearman', v.get('loss'))):.4f}"
                                  for k, v in ev.items()) + f" ({secs:.1f} s)", file=sys.stderr)
    rows, summary = summarize(runs, args.archs.split(","), ours)
    table = markdown_table(["what (seeds " + args.seeds + ")", "gensim"]
                           + [h for c in ours for h in (f"ours, {c}'s conventions", "ours - gensim: mean ± sd (seeds below)")]
                           + ["in vocabulary"], rows)
    print(f"\nChinese word2vec, {'+'.join(names)}: {info['lines']:,} lines, {info['tokens']:,} tokens; "
          f"dim 100, window 5, negative 5, sample 1e-3, min_count 5, {args.epochs} epochs, "
          f"{args.threads} threads\n")
    print(table)
    import gensim

    write_json(args.out, {"corpus": info, "corpus_file": str(path), "settings": settings(
        "*", 0, args.epochs, args.threads), "seeds": args.seeds, "ours": CONVENTIONS, "gensim": gensim.__version__,
        "load_average": load_average(), "summary": summary, "runs": runs, "table": table})
    print(f"\nwrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
