"""Word2Vec: groundup vs gensim 4.4, same corpus, same settings, same run.

Corpora: english-novels-98 made text8-like (lowercase, everything outside a-z a space, one
stream: 14.1M words, the stand-in for text8, which is not on these machines) and WikiText-2
train (whitespace tokens, one sentence per line). Settings (the issue's): vector_size 100,
window 5, negative 5, sample 1e-3, min_count 5, 2 worker threads, 5 epochs, alpha 0.025.

Each (system, corpus, arch) trains in its own subprocess, so peak RSS (``ru_maxrss``, read right
after training, before evaluation) is that system's alone; runs alternate gensim / ours to share
the machine's noise. Reported per run:
  * effective words/s = words kept after sub-sampling, all epochs / training-loop seconds
    (gensim: ``train()``'s trained word count over its wall time; ours: the same count from the
    kernel over ``train_seconds``), and the end-to-end wall (vocabulary + encoding + training);
  * analogy accuracy (questions-words.txt, restrict_vocab 30000), WS353 and SimLex-999 Spearman
    — gensim's vectors scored by gensim's evaluator, ours by ours (tests/test_word2vec_eval.py
    checks the two evaluators agree on the same vectors).

    .venv/bin/python benchmarks/bench_word2vec.py                  # everything, 5 epochs
    .venv/bin/python benchmarks/bench_word2vec.py --epochs 1 --corpora wikitext2
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def novels_text8like(cache: Path) -> Path:
    """Build (once) the text8-like novels98 stream from the shared data."""
    from groundup.data.locate import shared_file

    src = shared_file("english-novels-98")
    if src is None:
        raise SystemExit("shared data english-novels-98 not found (set GROUNDUP_DATA)")
    if cache.exists():
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        first = True
        for f in sorted(src.glob("*.txt")):
            s = re.sub("[^a-z]+", " ", f.read_text(encoding="utf-8").lower()).strip()
            out.write(("" if first else " ") + s)
            first = False
    tmp.replace(cache)
    return cache


def corpus_path(name: str, cache_dir: Path) -> tuple[Path, str]:
    from groundup.data.locate import shared_file

    if name == "novels98":
        return novels_text8like(cache_dir / "novels98.text8like"), "text8"
    p = shared_file("wikitext-2", "wiki.train.tokens")
    if p is None:
        raise SystemExit("shared data wikitext-2 not found")
    return p, "lines"


def eval_files():
    from groundup.data.locate import shared_file

    return (shared_file("word-eval", "questions-words.txt"), shared_file("word-eval", "wordsim353.tsv"),
            shared_file("word-eval", "simlex999.txt"))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def one_gensim(path: Path, kind: str, arch: str, epochs: int, threads: int = 2, seed: int = 1) -> dict:
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence, Text8Corpus

    import logging

    rates: list[float] = []     # gensim's own per-epoch "N effective words/s" log lines

    class _EpochRates(logging.Handler):
        def emit(self, record):
            m = re.search(r"EPOCH \d+.*?([\d.]+) effective words/s", record.getMessage())
            if m:
                rates.append(float(m.group(1)))

    lg = logging.getLogger("gensim.models.word2vec")
    lg.setLevel(logging.INFO)
    lg.addHandler(_EpochRates())
    t0 = time.perf_counter()
    corpus = Text8Corpus(str(path)) if kind == "text8" else LineSentence(str(path))
    m = Word2Vec(vector_size=100, window=5, negative=5, hs=0, sample=1e-3, min_count=5, workers=threads,
                 sg=int(arch == "sg"), seed=seed, epochs=epochs)
    m.build_vocab(corpus)
    t1, c1 = time.perf_counter(), time.process_time()
    trained, raw = m.train(corpus, total_examples=m.corpus_count, epochs=epochs)
    t2, c2 = time.perf_counter(), time.process_time()
    rss = peak_mb()
    q, ws, sl = eval_files()
    acc = m.wv.evaluate_word_analogies(str(q), restrict_vocab=30000)
    sem = [s for s in acc[1][:-1] if not s["section"].startswith("gram")]
    syn = [s for s in acc[1][:-1] if s["section"].startswith("gram")]
    frac = lambda ss: (sum(len(s["correct"]) for s in ss) /
                       max(sum(len(s["correct"]) + len(s["incorrect"]) for s in ss), 1))
    w = m.wv.evaluate_word_pairs(str(ws))
    s = m.wv.evaluate_word_pairs(str(sl))
    return {"vocab": len(m.wv), "effective_words": trained, "train_s": t2 - t1, "total_s": t2 - t0,
            "eff_words_per_s": trained / (t2 - t1), "train_cpu_s": c2 - c1,
            "eff_words_per_cpu_s": trained / (c2 - c1), "peak_rss_mb": rss, "analogy": acc[0],
            "analogy_sem": frac(sem), "analogy_syn": frac(syn),
            "ws353": w[1][0], "ws353_oov": w[2], "simlex": s[1][0], "simlex_oov": s[2],
            "epoch_rates": rates}


def one_ours(path: Path, kind: str, arch: str, epochs: int, deterministic: bool = False,
             in_memory: bool = True, threads: int = 2, saturated: str | None = None,
             compute_loss: bool = True, seed: int = 1, init: str | None = None) -> dict:
    from groundup.data.pipeline import TextOptions
    from groundup.text.word2vec import Word2VecConfig, train
    from groundup.text.word2vec.evaluate import evaluate_analogies, evaluate_word_pairs
    from groundup.text.word2vec.vocab import read_sentences

    os.environ.setdefault("GROUNDUP_PROGRESS", "0")
    t0 = time.perf_counter()
    corpus = read_sentences(path, TextOptions())
    cfg = Word2VecConfig(arch=arch, dim=100, window=5, negative=5, sample=1e-3, min_count=5,
                         threads=threads, seed=seed, epochs=epochs, deterministic=deterministic,
                         in_memory=in_memory, compute_loss=compute_loss,
                         **({"saturated": saturated} if saturated else {}),
                         **({"init": init} if init else {}))
    m = train(corpus, cfg, show_progress=False)
    t2 = time.perf_counter()
    rss = peak_mb()
    q, ws, sl = eval_files()
    wv = m.wv
    acc = evaluate_analogies(wv, q, restrict_vocab=30000)
    w = evaluate_word_pairs(wv, ws)
    s = evaluate_word_pairs(wv, sl)
    kinds = acc.by_kind()
    st = m.stats
    return {"vocab": len(wv), "effective_words": st["effective_words"], "train_s": st["train_seconds"],
            "total_s": t2 - t0, "eff_words_per_s": st["effective_words_per_s"], "peak_rss_mb": rss,
            "train_cpu_s": st["train_cpu_seconds"],
            "eff_words_per_cpu_s": st["effective_words"] / st["train_cpu_seconds"],
            "analogy": acc.accuracy, "analogy_sem": kinds["semantic"], "analogy_syn": kinds["syntactic"],
            "ws353": w.spearman, "ws353_oov": w.oov_ratio, "simlex": s.spearman, "simlex_oov": s.oov_ratio,
            "epoch_loss": m.epoch_loss, "saturated": cfg.saturated, "init": cfg.init, "threads": threads,
            "seed": seed,
            "compute_loss": compute_loss,
            "epoch_rates": [st["effective_words"] / epochs / sec for sec in st["epoch_seconds"]]}


def warm_kernel_cache() -> None:
    """Compile the kernel (numba caches it on disk) before any timed child: after a change to
    kernels.py the first child would otherwise compile inside its training loop, and the
    compiler's memory would count in its peak RSS. Run in a child of its own: a child's
    ``ru_maxrss`` starts from its parent's size (fork, then exec keeps the high-water mark), so
    the parent must stay small."""
    if "--warm" not in sys.argv:
        subprocess.run([sys.executable, __file__, "--warm"], check=True)
        return
    from groundup.text.word2vec import Word2VecConfig, train

    words = [f"w{i}" for i in range(300)]
    for V in (300, 70_000):               # uint16 and int32 token ids compile separately
        sents = [words * 3] if V == 300 else [[f"x{i}" for i in range(V)]]
        train(sents, Word2VecConfig(min_count=1, epochs=1, threads=1, dim=8), show_progress=False)


def cacheline_ns() -> float | None:
    """benchmarks/cacheline.py's one-way cache-line transfer time, run in a child so that the
    parent does not grow (its size would count in the next child's peak RSS)."""
    r = subprocess.run([sys.executable, str(Path(__file__).with_name("cacheline.py"))],
                       capture_output=True, text=True)
    m = re.search(r" ([0-9.]+) ns", r.stdout)
    return float(m.group(1)) if r.returncode == 0 and m else None


def run_child(system: str, corpus: str, arch: str, epochs: int, cache: Path, log,
              threads: int = 2, saturated: str | None = None, no_loss: bool = False,
              seed: int = 1, init: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", system, corpus, arch, "--epochs", str(epochs),
           "--cache", str(cache), "--threads", str(threads)]
    if saturated:
        cmd += ["--saturated", saturated]
    if no_loss:
        cmd += ["--no-loss"]
    if init:
        cmd += ["--init", init]
    cmd += ["--seed", str(seed)]
    # where the host has put our two vCPUs decides how fast Hogwild threads can share rows
    line_ns = cacheline_ns()
    log(f"  running {system} {corpus} {arch} ..." + ("" if line_ns is None else f" (cache line {line_ns:.0f} ns)"))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{system} {corpus} {arch} failed:\n{r.stderr[-3000:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["cacheline_ns"] = line_ns
    log(f"    {res['eff_words_per_s']:,.0f} eff w/s, train {res['train_s']:.1f}s, "
        f"analogy {res['analogy']:.4f}, ws353 {res['ws353']:.3f}, rss {res['peak_rss_mb']:.0f} MB")
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--corpora", default="novels98,wikitext2")
    ap.add_argument("--archs", default="sg,cbow")
    ap.add_argument("--ours", default="ours", help="ours (corpus in memory), ours-stream (re-read "
                                                   "each epoch, as gensim), ours-det (deterministic)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "word2vec.json"))
    ap.add_argument("--cache", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--threads", type=int, default=2, help="worker threads, both systems")
    ap.add_argument("--saturated", default=None, choices=["update", "skip"],
                    help="ours: NS scores beyond +-6 update (word2vec.c) or are skipped (gensim); "
                         "default: the library's default")
    ap.add_argument("--seed", type=int, default=1, help="both systems' seed")
    ap.add_argument("--seeds", default=None,
                    help="comma list: run both systems once per seed and report the means "
                         "(single-run analogy accuracy varies by about a point)")
    ap.add_argument("--init", default=None,
                    help="ours: initial input vectors in [-0.5/D, 0.5/D) ('word2vec.c') or [-1/D, 1/D) "
                         "('gensim', as gensim 4); a comma list runs ours once per value beside one "
                         "gensim run; default: the library's default")
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="do not run: merge the results of earlier runs (e.g. one per seed) into one table")
    ap.add_argument("--no-loss", action="store_true",
                    help="ours: do not compute the per-epoch loss (gensim's default; a log per term)")
    ap.add_argument("--child", nargs=3, metavar=("SYSTEM", "CORPUS", "ARCH"))
    ap.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.warm:
        warm_kernel_cache()
        return
    cache = Path(args.cache)
    if args.child:
        system, corpus, arch = args.child
        path, kind = corpus_path(corpus, cache)
        if system == "gensim":
            res = one_gensim(path, kind, arch, args.epochs, threads=args.threads, seed=args.seed)
        else:
            extra = {"saturated": args.saturated} if args.saturated else {}
            if args.init:
                extra["init"] = args.init
            res = one_ours(path, kind, arch, args.epochs, deterministic=system == "ours-det",
                           in_memory=system != "ours-stream", threads=args.threads,
                           compute_loss=not args.no_loss, seed=args.seed, **extra)
        print(json.dumps(res))
        return

    if args.merge:
        results, loads = [], []
        for f in args.merge:
            d = json.loads(Path(f).read_text())
            results += d["results"]
            loads.append((d["load_before"], d["load_after"]))
        report(table_rows(results), results, max(lb for lb, _ in loads), max(la for _, la in loads),
               Path(args.out))
        return
    log = lambda m: print(m, file=sys.stderr, flush=True)
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    inits = args.init.split(",") if args.init else [None]
    for init in inits:
        if init not in (None, "word2vec.c", "gensim"):
            raise SystemExit(f"--init: unknown value {init!r} (word2vec.c or gensim)")
    warm_kernel_cache()
    load_before = os.getloadavg()
    results = []
    for corpus in args.corpora.split(","):
        corpus_path(corpus, cache)          # build the cache once, outside the timed children
        for arch in args.archs.split(","):
            for seed in seeds:
                g = run_child("gensim", corpus, arch, args.epochs, cache, log, args.threads, seed=seed)
                for init in inits:
                    o = run_child(args.ours, corpus, arch, args.epochs, cache, log, args.threads,
                                  args.saturated, args.no_loss, seed=seed, init=init)
                    results.append({"corpus": corpus, "arch": arch, "epochs": args.epochs, "gensim": g,
                                    "ours": o, "ours_mode": args.ours, "threads": args.threads,
                                    "seed": seed})
    rows = table_rows(results)
    load_after = os.getloadavg()
    report(rows, results, load_before, load_after, Path(args.out))


def _mean(results, system, key):
    vals = [r[system][key] for r in results]
    return sum(vals) / len(vals), vals


def _epoch_rates(rs, system) -> list[float]:
    return [x for r in rs for x in r[system].get("epoch_rates", [])]


def _med(rs, system) -> float:
    v = sorted(_epoch_rates(rs, system))
    return (v[len(v) // 2] + v[(len(v) - 1) // 2]) / 2 if v else 0.0


def _best(rs, system) -> float:
    return max(_epoch_rates(rs, system), default=0.0)


def _worst(rs, system) -> float:
    return min(_epoch_rates(rs, system), default=0.0)


def _rates(rs, system) -> str:
    if not _epoch_rates(rs, system):
        return "-"
    return f"{_worst(rs, system):,.0f} / {_med(rs, system):,.0f} / {_best(rs, system):,.0f}"


def _cacheline(rs, system) -> str:
    vals = [r[system].get("cacheline_ns") for r in rs]
    return ", ".join("-" if v is None else f"{v:.0f}" for v in vals)


def table_rows(results: list[dict]) -> list[list[str]]:
    """One block of rows per (corpus, arch, epochs, threads, mode): means over the seeds run."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        key = (r["corpus"], r["arch"], r["epochs"], r.get("threads", 2), r.get("ours_mode", "ours"),
               r["ours"].get("init", "word2vec.c"))
        groups.setdefault(key, []).append(r)
    rows = []
    for (corpus, arch, epochs, threads, mode, init), rs in groups.items():
        n = len(rs)
        tag = f"{corpus} {arch.upper()} e{epochs} t{threads}" + ("" if mode == "ours" else f" ({mode})")
        if init != "word2vec.c":
            tag += f" init={init}"
        if n > 1:
            tag += f", mean of {n} seeds"

        def m(system, key):
            return _mean(rs, system, key)[0]

        def spread(system, key, fmt):
            vals = _mean(rs, system, key)[1]
            return "" if n == 1 else " (" + ", ".join(fmt.format(v) for v in vals) + ")"

        o, g = (lambda k: m("ours", k)), (lambda k: m("gensim", k))
        rows += [
            [tag, "effective words/s", f"{o('eff_words_per_s'):,.0f}", f"{g('eff_words_per_s'):,.0f}",
             f"{o('eff_words_per_s') / g('eff_words_per_s'):.2f}"],
            [tag, "per-epoch eff. words/s: slowest / median / best epoch", _rates(rs, "ours"),
             _rates(rs, "gensim"),
             f"{_worst(rs, 'ours') / _worst(rs, 'gensim'):.2f} / {_med(rs, 'ours') / _med(rs, 'gensim'):.2f} / "
             f"{_best(rs, 'ours') / _best(rs, 'gensim'):.2f}" if _med(rs, "gensim") else "-"],
            [tag, "effective words per CPU-second", f"{o('eff_words_per_cpu_s'):,.0f}",
             f"{g('eff_words_per_cpu_s'):,.0f}", f"{o('eff_words_per_cpu_s') / g('eff_words_per_cpu_s'):.2f}"],
            [tag, "end-to-end wall s (vocab+train)", f"{o('total_s'):.1f}", f"{g('total_s'):.1f}",
             f"{g('total_s') / o('total_s'):.2f} (speed)"],
            [tag, "analogy acc (restrict 30k)", f"{o('analogy'):.4f}" + spread("ours", "analogy", "{:.4f}"),
             f"{g('analogy'):.4f}" + spread("gensim", "analogy", "{:.4f}"),
             f"{100 * (o('analogy') - g('analogy')):+.2f} pt"],
            [tag, "WS353 Spearman", f"{o('ws353'):.3f}" + spread("ours", "ws353", "{:.3f}"),
             f"{g('ws353'):.3f}" + spread("gensim", "ws353", "{:.3f}"), f"{o('ws353') - g('ws353'):+.3f}"],
            [tag, "SimLex-999 Spearman", f"{o('simlex'):.3f}", f"{g('simlex'):.3f}",
             f"{o('simlex') - g('simlex'):+.3f}"],
            [tag, "peak RSS MB", f"{o('peak_rss_mb'):.0f}", f"{g('peak_rss_mb'):.0f}",
             f"{o('peak_rss_mb') / g('peak_rss_mb'):.2f}x"],
            [tag, "cache-line transfer ns, before each run (~35 one chiplet, ~170 two)",
             _cacheline(rs, "ours"), _cacheline(rs, "gensim"), "-"],
        ]
    return rows


def report(rows, results, load_before, load_after, out: Path) -> None:
    lines = ["| run | what | ours | gensim 4.4 | ratio / diff |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    print("\n".join(lines))
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} (the highest "
          f"over merged runs)")
    out.parent.mkdir(parents=True, exist_ok=True)
    from groundup.io import write_text

    write_text(out, json.dumps({"results": results, "load_before": load_before, "load_after": load_after,
                               "machine": os.uname().nodename}, indent=2))


if __name__ == "__main__":
    main()
