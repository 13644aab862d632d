"""gensim on the word2vec lab's quick run: same corpus, same settings, the figures the lab shows.

The lab (``groundup lab word2vec``) trains skip-gram/NS on the bundled WikiText-2 train split
with ``groundup.lab.word2vec.QUICK_SETTINGS``; this script trains gensim 4.4 on the very same
token lists with the same settings for a few seeds and records, per seed, the analogy accuracy
on the covered Google questions (restrict_vocab 30000) and on the lab's built-in set, the probe
cosines and king - man + woman. It writes them to ``src/groundup/lab/assets/word2vec_gensim.json``
(read by the lab; gensim is never imported at run time) and prints a Markdown table.

    .venv/bin/python benchmarks/bench_word2vec_lab.py --seeds 1,2,3
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def one_seed(sentences, seed: int, google: Path | None, lab_file: Path) -> dict:
    import gensim
    from gensim.models import Word2Vec

    from groundup.lab import word2vec as lab

    s = lab.QUICK_SETTINGS
    t0 = time.perf_counter()
    m = Word2Vec(sentences, vector_size=s["dim"], window=s["window"], negative=s["negative"], hs=0,
                 sample=s["sample"], min_count=s["min_count"], alpha=s["alpha"], min_alpha=s["min_alpha"],
                 workers=s["threads"], sg=int(s["arch"] == "sg"), epochs=s["epochs"], seed=seed)
    seconds = time.perf_counter() - t0
    out = {"seed": seed, "seconds": round(seconds, 1), "gensim_version": gensim.__version__,
           "vocab_size": len(m.wv)}
    for key, f in (("google", google), ("lab", lab_file)):
        if f is not None:
            acc, sections = m.wv.evaluate_word_analogies(str(f), restrict_vocab=30000)
            total = sections[-1]
            out[f"{key}_accuracy"] = acc
            out[f"{key}_answered"] = len(total["correct"]) + len(total["incorrect"])
    out["probe_cosines"] = lab.probe_cosines(m.wv.similarity)
    out["king_man_woman"] = [w for w, _ in m.wv.most_similar(positive=["king", "woman"], negative=["man"], topn=5)]
    return out


def record(runs: list[dict], corpus_name: str, seeds: str) -> dict:
    from groundup.lab import word2vec as lab

    keys = [k for k in ("google_accuracy", "lab_accuracy") if k in runs[0]]
    return {
        "command": "python benchmarks/bench_word2vec_lab.py --seeds " + seeds,
        "gensim_version": runs[0]["gensim_version"], "corpus": corpus_name, "settings": lab.QUICK_SETTINGS,
        "seeds": [r["seed"] for r in runs], "vocab_size": runs[0]["vocab_size"],
        **{k: [round(r[k], 4) for r in runs] for k in keys},
        **{k.replace("accuracy", "answered"): runs[0][k.replace("accuracy", "answered")] for k in keys},
        "probe_cosines": {p: round(sum(r["probe_cosines"][p] for r in runs) / len(runs), 3)
                          for p in runs[0]["probe_cosines"]},
        "king_man_woman": runs[0]["king_man_woman"],
        "seconds": [r["seconds"] for r in runs],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--out", default=str(ROOT / "src/groundup/lab/assets/word2vec_gensim.json"))
    args = ap.parse_args()
    from groundup.data.locate import shared_file
    from groundup.io import write_text
    from groundup.lab import word2vec as lab

    corpus, corpus_name = lab._corpus(False)
    sentences = list(corpus)
    google = shared_file("word-eval", "questions-words.txt")
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        lab_file = Path(tmp) / "lab_analogies.txt"
        lab_file.write_text(lab.LAB_ANALOGIES, encoding="utf-8")
        for s in args.seeds.split(","):
            runs.append(one_seed(sentences, int(s), google, lab_file))
            rec = record(runs, corpus_name, args.seeds)
            write_text(args.out, json.dumps(rec, indent=1) + "\n")     # after every seed
            print(f"seed {s}: {json.dumps({k: runs[-1][k] for k in runs[-1] if 'accuracy' in k})}", flush=True)
    keys = [k for k in ("google_accuracy", "lab_accuracy") if k in runs[0]]
    print(f"| gensim {rec['gensim_version']}, {corpus_name}, seeds {rec['seeds']} | value |\n|---|---|")
    for k in keys:
        print(f"| {k} | {', '.join(f'{x:.4f}' for x in rec[k])} (answered {rec[k.replace('accuracy', 'answered')]}) |")
    for p, c in rec["probe_cosines"].items():
        print(f"| cos {p} (mean of seeds) | {c:.3f} |")
    print(f"| king - man + woman (seed {rec['seeds'][0]}) | {', '.join(rec['king_man_woman'])} |")
    print(f"| train seconds | {rec['seconds']} |")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
