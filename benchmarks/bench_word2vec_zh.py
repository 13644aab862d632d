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
means reported (a single run moves by about a point).

Evaluation, the same evaluator for both (groundup's, which tests/test_word2vec_eval.py and
tests/test_word2vec_zh.py check against gensim's on the same vectors), over the whole vocabulary
(restrict_vocab = vocabulary size; both vocabularies are equal, min_count 5 over the same tokens):
  * CA8 morphological and semantic analogies (Li et al. 2018) and CA_translated: 3CosAdd
    accuracy over the questions whose four words are all in the vocabulary; coverage = those
    questions / all questions;
  * COS960 (Huang et al. 2019): Spearman of cosine vs the mean human score over the pairs in
    the vocabulary; coverage = those pairs / 960.

    .venv/bin/python benchmarks/bench_word2vec_zh.py                       # CMRC, sg+cbow, seeds 1,2,3
    .venv/bin/python benchmarks/bench_word2vec_zh.py --corpus cmrc,tatoeba --archs sg --seeds 1

Prints a Markdown table (what, ours, gensim, ours - gensim) and writes the same as JSON
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


def settings(arch: str, seed: int, epochs: int, threads: int) -> dict:
    return dict(arch=arch, dim=100, window=5, negative=5, sample=1e-3, min_count=5, alpha=0.025,
                epochs=epochs, threads=threads, seed=seed)


def train_gensim(path: Path, s: dict):
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    from groundup.text.word2vec.vectors import WordVectors

    t0 = time.perf_counter()
    m = Word2Vec(LineSentence(str(path)), vector_size=s["dim"], window=s["window"],
                 negative=s["negative"], hs=0, sample=s["sample"], min_count=s["min_count"],
                 alpha=s["alpha"], workers=s["threads"], sg=int(s["arch"] == "sg"), seed=s["seed"],
                 epochs=s["epochs"])
    secs = time.perf_counter() - t0
    return WordVectors(list(m.wv.index_to_key), m.wv.vectors), secs


def train_ours(path: Path, s: dict):
    from groundup.data.pipeline import TextOptions
    from groundup.text.word2vec import Word2VecConfig, train
    from groundup.text.word2vec.vocab import read_sentences

    cfg = Word2VecConfig(arch=s["arch"], dim=s["dim"], window=s["window"], negative=s["negative"],
                         sample=s["sample"], min_count=s["min_count"], alpha=s["alpha"],
                         epochs=s["epochs"], threads=s["threads"], seed=s["seed"])
    t0 = time.perf_counter()
    m = train(read_sentences(path, TextOptions()), cfg, show_progress=False)
    return m.wv, time.perf_counter() - t0


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="cmrc", help="cmrc, tatoeba or both (comma list)")
    ap.add_argument("--archs", default="sg,cbow")
    ap.add_argument("--seeds", default="1,2,3")
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
    runs = []
    for arch in args.archs.split(","):
        for seed in map(int, args.seeds.split(",")):
            s = settings(arch, seed, args.epochs, args.threads)
            for system, fn in (("gensim", train_gensim), ("ours", train_ours)):
                wv, secs = fn(path, s)
                ev = evaluate(wv, root)
                runs.append({"system": system, "arch": arch, "seed": seed, "vocab": len(wv),
                             "train_wall_s": secs, "eval": ev})
                print(f"  {system:6s} {arch:4s} seed {seed}: vocab {len(wv):,}, "
                      + ", ".join(f"{k} {v.get('accuracy', v.get('spearman')):.4f}" for k, v in ev.items())
                      + f" ({secs:.1f} s)", file=sys.stderr)

    metrics = [(f"{k} accuracy", k, "accuracy") for k in EVAL] + [(f"{k} Spearman", k, "spearman") for k in SIM]
    rows, summary = [], {}
    for arch in args.archs.split(","):
        mean = lambda sysname, k, m: statistics.mean(
            r["eval"][k][m] for r in runs if r["system"] == sysname and r["arch"] == arch)
        for label, k, m in metrics:
            o, g = mean("ours", k, m), mean("gensim", k, m)
            cov = mean("ours", k, "coverage"), mean("gensim", k, "coverage")
            n = "questions" if m == "accuracy" else "all_pairs"
            total = runs[0]["eval"][k][n]
            rows.append([f"{arch} {label}", f"{o:.4f}", f"{g:.4f}", f"{o - g:+.4f}",
                         f"{cov[0]:.1%} / {cov[1]:.1%} of {total:,}"])
            summary[f"{arch} {label}"] = {"ours": o, "gensim": g, "diff": o - g,
                                          "coverage_ours": cov[0], "coverage_gensim": cov[1],
                                          "of": total}
        vo = statistics.mean(r["vocab"] for r in runs if r["system"] == "ours" and r["arch"] == arch)
        vg = statistics.mean(r["vocab"] for r in runs if r["system"] == "gensim" and r["arch"] == arch)
        rows.append([f"{arch} vocabulary (min_count 5)", f"{vo:,.0f}", f"{vg:,.0f}", f"{vo - vg:+,.0f}", ""])
    table = markdown_table(["what (mean over seeds " + args.seeds + ")", "ours", "gensim",
                            "ours - gensim", "coverage (ours / gensim)"], rows)
    print(f"\nChinese word2vec, {'+'.join(names)}: {info['lines']:,} lines, {info['tokens']:,} tokens; "
          f"dim 100, window 5, negative 5, sample 1e-3, min_count 5, {args.epochs} epochs, "
          f"{args.threads} threads\n")
    print(table)
    import gensim

    write_json(args.out, {"corpus": info, "corpus_file": str(path), "settings": settings(
        "*", 0, args.epochs, args.threads), "seeds": args.seeds, "gensim": gensim.__version__,
        "load_average": load_average(), "summary": summary, "runs": runs, "table": table})
    print(f"\nwrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
