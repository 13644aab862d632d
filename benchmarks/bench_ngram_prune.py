"""Benchmark: perplexity against model size under entropy-based pruning (Stolcke 1998), PTB.

    .venv/bin/python benchmarks/bench_ngram_prune.py [--order 5] [--thresholds 0 1e-9 ...]
                                                     [--out benchmarks/out/ngram_prune.json]

Builds the PTB modified-KN model (lmplz's model; ``<unk>`` renamed ``UNK`` as
benchmarks/bench_ngram.py does), computes every n-gram's relative-entropy change once, prunes at
each threshold (``groundup ngram prune --threshold T`` does the same) and reports n-grams kept,
test perplexity (KenLM query's conventions) and the binary file's size. A quality figure, not a
time: it need not run through the benchmark queue. Writes a Markdown table, JSON and a plot
(``--out`` with ``.png``).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--order", type=int, default=5)
    ap.add_argument("--thresholds", type=float, nargs="+",
                    default=[0, 1e-9, 1e-8, 3e-8, 1e-7, 3e-7, 1e-6, 1e-5])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "ngram_prune.json"))
    args = ap.parse_args()
    from bench_ngram_query import ptb_model
    from groundup.data.textfile import iter_lines
    from groundup.io import write_text
    from groundup.text.ngram import NgramModel
    from groundup.text.ngram.prune import entropy_deltas, prune_entropy

    with tempfile.TemporaryDirectory(prefix="bench_ngram_prune_") as tmpd:
        tmp = Path(tmpd)
        built = ptb_model(tmp, args.order)
        if built is None:
            return 1
        files, model = built
        test = [l.split() for l in iter_lines(files["test"])]
        deltas = entropy_deltas(model.tables)
        rows = []
        for th in args.thresholds:
            m = model if th == 0 else NgramModel(prune_entropy(model.tables, th, deltas=deltas))
            m.save(tmp / "m.bin")
            ev = m.evaluate(test)
            rows.append({"threshold": th, "ngrams": [len(k) for k in m.tables.keys],
                         "total": sum(len(k) for k in m.tables.keys), "test_ppl": ev.perplexity,
                         "bin_mb": (tmp / "m.bin").stat().st_size / 1e6})
            print(f"threshold {th:g}: {rows[-1]['total']:,} n-grams, ppl {ev.perplexity:.2f}", file=sys.stderr)
    full = rows[0]
    lines = ["| threshold | n-grams (orders 1..N) | total | share | test perplexity | vs unpruned | binary MB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['threshold']:g} | {' / '.join(f'{n:,}' for n in r['ngrams'])} | {r['total']:,} | "
                     f"{r['total'] / full['total']:.1%} | {r['test_ppl']:.2f} | "
                     f"{r['test_ppl'] / full['test_ppl'] - 1:+.1%} | {r['bin_mb']:.1f} |")
    print("\n".join(lines))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps({"order": args.order, "rows": rows, "table": lines}, indent=2))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot([r["total"] for r in rows], [r["test_ppl"] for r in rows], marker="o")
    for r in rows:
        ax.annotate(f"{r['threshold']:g}", (r["total"], r["test_ppl"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("n-grams in the model (log scale)")
    ax.set_ylabel("PTB test perplexity")
    ax.set_title(f"PTB {args.order}-gram modified KN, entropy-pruned (Stolcke 1998)")
    ax.grid(alpha=0.3)
    fig.savefig(out.with_suffix(".png"), dpi=120, bbox_inches="tight")
    return 0


if __name__ == "__main__":
    sys.exit(main())
