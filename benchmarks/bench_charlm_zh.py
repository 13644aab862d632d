"""Character-level LMs on Tang poems at equal training time: LSTM vs Transformer.

    .venv/bin/python benchmarks/bench_charlm_zh.py --budget 240 --threads 1 --runs-dir /tmp/charlm

The models, recipe, data and split are the lab's (``groundup lab charlm-zh``,
``groundup.lab.charlm_zh``: the bundled 11,715 poems, every 20th held out, char tokenizer, width
128, 2 layers, tied output layer, AdamW 3e-3 with warm-up and cosine decay, batch 16 x 64); each
model trains for ``--budget`` seconds of training steps (the engine's ``max_train_seconds``; the
cosine decay runs over that budget; evaluation is not counted), then is evaluated on the whole
validation set. One sampled poem per model is printed beside the table. The figure is a time
figure: run it on an idle core (the benchmark queue).

Prints a Markdown table (model, parameters, steps, characters seen, characters/s, validation
perplexity, ratio to the unigram model) and writes the same as JSON (default
``benchmarks/out/charlm_zh.json``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, markdown_table, write_json  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=240.0, help="training seconds per model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", default="lstm,transformer")
    ap.add_argument("--runs-dir", default="/tmp/charlm-zh-runs")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "charlm_zh.json"))
    args = ap.parse_args()

    from groundup.io import new_folder
    from groundup.lab import charlm_zh as lab
    from groundup.train.corpus import load_lm_corpus
    from groundup.train.engine import train

    runs = Path(args.runs_dir)
    runs.mkdir(parents=True, exist_ok=True)
    poems = lab.read_poems()
    files = lab.write_splits(poems, runs)
    text = lab.lm_config("lstm", files, seed=args.seed).data.text_options()
    corpus = load_lm_corpus("", text=text, files=files)
    uni = lab.unigram_perplexity(corpus.train, corpus.valid, len(corpus.vocab))
    load_before = load_average()
    results, rows = {}, []
    for kind in args.models.split(","):
        cfg = lab.lm_config(kind, files, seed=args.seed, epochs=1000, seconds=args.budget,
                            threads=args.threads)
        t0 = time.perf_counter()
        final = train(cfg, new_folder(runs, f"run-{kind}"), corpus=corpus, log=lambda m: None)
        run_dir = runs / f"run-{kind}"
        sample = lab.sample_poems(run_dir, 1, args.seed)[0]
        results[kind] = {k: final[k] for k in ("valid_perplexity", "steps", "train_tokens", "train_seconds",
                                               "tokens_per_second", "parameters", "epochs")}
        results[kind].update(wall_seconds=time.perf_counter() - t0, ratio_to_unigram=final["valid_perplexity"] / uni,
                             sample=sample)
        rows.append([kind, f"{final['parameters']:,}", final["steps"], f"{final['train_tokens']:,}",
                     f"{final['tokens_per_second']:,.0f}", f"{final['valid_perplexity']:.1f}",
                     f"{final['valid_perplexity'] / uni:.2f}"])
    rows.append(["unigram (add-one character frequencies)", "", "", f"{corpus.train.numel():,}", "",
                 f"{uni:.1f}", "1.00"])
    table = markdown_table(["model", "parameters", "steps", "characters seen", "characters/s",
                            "valid perplexity", "ratio to unigram"], rows)
    print(f"Tang poems, character-level LMs, {args.budget:g} s of training each, {args.threads} thread(s); "
          f"{len(poems):,} poems, valid {corpus.valid.numel():,} characters, V = {len(corpus.vocab):,}; "
          f"load before: {load_before}, after: {load_average()}\n")
    print(table)
    for kind, r in results.items():
        print(f"\n{kind} sample: {r['sample']}")
    write_json(args.out, {"budget_seconds": args.budget, "threads": args.threads, "seed": args.seed,
                          "poems": len(poems), "valid_characters": corpus.valid.numel(),
                          "vocab": len(corpus.vocab), "unigram_valid_perplexity": uni,
                          "recipe": lab.RECIPE, "models": {k: lab.MODELS[k] for k in results},
                          "load_before": load_before, "load_after": load_average(), "results": results,
                          "command": " ".join(["benchmarks/bench_charlm_zh.py"] + sys.argv[1:])})
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
