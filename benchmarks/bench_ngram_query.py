"""Benchmark: loading and querying an n-gram model, ours (ARPA, .npz, binary) against the kenlm
Python module, on the PTB 5-gram (modified Kneser-Ney, built by groundup = lmplz's model).

    .venv/bin/python benchmarks/bench_ngram_query.py [--order 5] [--reps 3] [--passes 5]
                                                     [--out benchmarks/out/ngram_query.json]

* Load time: each load runs in a fresh process (imports done first, not timed), best of
  ``--reps``: our ARPA reader, the ``.npz``, the binary file verified and unverified
  (``verify=False``: the memory-mapped load alone), and ``kenlm.Model`` on the same ARPA file
  (KenLM builds its probing hash table while it reads). KenLM's own binary format needs its
  ``build_binary`` tool, which is not installed here (the Python module has no writer).
* Throughput, in this process, interleaved over ``--reps`` repetitions of ``--passes`` passes
  over the 3,761 test sentences (words/s counts words without ``</s>``, as
  /work/shared/BASELINES.md did): ``kenlm.Model.score(s)`` one sentence at a time; our
  ``NgramModel.score(s)`` one sentence at a time (binary model); our batch
  ``score_sentences`` over all sentences at once (the str sentences, tokenizing included).
  Ours twice: through the C extension (``_scorer.c``, when built) and through the numba kernels
  it is checked against (``GROUNDUP_NGRAM_NATIVE=0``'s route), on the same model file; the
  per-sentence values of the two must be bit-identical (reported). Best of the reps.

Prints a Markdown table and writes JSON. Run through the benchmark queue (COORD.md).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

LOAD_WORKER = r"""
import sys, time
kind, path = sys.argv[1], sys.argv[2]
if kind == "kenlm":
    import kenlm
    t0 = time.perf_counter(); m = kenlm.Model(path); t1 = time.perf_counter()
else:
    from groundup.text.ngram import NgramModel
    import groundup.text.ngram.binary, groundup.text.ngram.arpa  # imports not timed
    t0 = time.perf_counter()
    m = NgramModel.load(path, verify=kind != "bin-unverified")
    t1 = time.perf_counter()
    m.score("the")  # the model answers (a lazy load would show here)
print(t1 - t0)
"""


def load_time(kind: str, path: Path, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        out = subprocess.run([sys.executable, "-c", LOAD_WORKER, kind, str(path)], capture_output=True,
                             text=True, check=True).stdout.split()
        best = min(best, float(out[-1]))
    return best


def ptb_model(tmp: Path, order: int):
    """(files, our MKN model of PTB train) with <unk> renamed UNK as bench_ngram.py does;
    None when PTB is absent."""
    from bench_ngram import prepare
    from groundup.data.textfile import iter_lines
    from groundup.text.ngram import NgramModel

    files = prepare("ptb", tmp)
    if files is None:
        print("PTB not found (set GROUNDUP_DATA)", file=sys.stderr)
        return None
    return files, NgramModel.build((l.split() for l in iter_lines(files["train"])), order, "mkn")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--order", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "ngram_query.json"))
    args = ap.parse_args()
    import kenlm

    from bench_ngram import loadavg
    from groundup.data.textfile import iter_lines
    from groundup.text.ngram import NgramModel

    res = {"load_before": loadavg(), "order": args.order}
    with tempfile.TemporaryDirectory(prefix="bench_ngram_query_") as tmpd:
        tmp = Path(tmpd)
        built = ptb_model(tmp, args.order)
        if built is None:
            return 1
        files, model = built
        paths = {"arpa": tmp / "m.arpa", "npz": tmp / "m.npz", "bin": tmp / "m.bin"}
        for p in paths.values():
            model.save(p)
        res["sizes_mb"] = {k: p.stat().st_size / 1e6 for k, p in paths.items()}
        res["ngrams"] = [len(k) for k in model.tables.keys]
        loads = {"ours: ARPA": load_time("arpa", paths["arpa"], args.reps),
                 "ours: .npz": load_time("npz", paths["npz"], args.reps),
                 "ours: binary, verified": load_time("bin", paths["bin"], args.reps),
                 "ours: binary, unverified (mmap only)": load_time("bin-unverified", paths["bin"], args.reps),
                 "kenlm module: ARPA": load_time("kenlm", paths["arpa"], args.reps)}
        res["load_s"] = loads

        sents = [l.strip() for l in iter_lines(files["test"])]
        words = sum(len(s.split()) for s in sents)
        from groundup.text.ngram import native

        ours = NgramModel.load(paths["bin"])
        ours.score("the")  # picks its route now: the C scorer where built
        native.ENABLED, enabled = False, native.ENABLED
        numba = NgramModel.load(paths["bin"])
        numba.score("the")  # the numba kernels
        native.ENABLED = enabled
        res["native_built"] = ours._native() is not None
        theirs = kenlm.Model(str(paths["arpa"]))
        diff = max(abs(ours.score(s) - theirs.score(s)) for s in sents)
        res["max_abs_sentence_diff_vs_kenlm"] = diff
        res["c_equals_numba_bitwise"] = (
            [ours.score(s) for s in sents] == [numba.score(s) for s in sents]
            and ours.score_sentences(sents).tobytes() == numba.score_sentences(sents).tobytes())
        c = "C" if res["native_built"] else "C NOT BUILT: numba"

        def per_sentence(f):
            def run():
                for _ in range(args.passes):
                    for s in sents:
                        f(s)
            return run

        def batch(model):
            def run():
                for _ in range(args.passes):
                    model.score_sentences(sents)
            return run

        runs = {"kenlm score(), per sentence": per_sentence(theirs.score),
                f"ours score(), per sentence ({c})": per_sentence(ours.score),
                "ours score(), per sentence (numba)": per_sentence(numba.score),
                f"ours score_sentences(), batched ({c})": batch(ours),
                "ours score_sentences(), batched (numba)": batch(numba)}
        for f in runs.values():
            f()  # warm: compiled kernels, caches
        best = {k: 0.0 for k in runs}
        for _ in range(args.reps):
            for name, f in runs.items():
                t0 = time.perf_counter()
                f()
                best[name] = max(best[name], args.passes * words / (time.perf_counter() - t0))
        res["words_per_s"] = best
    res["load_after"] = loadavg()
    k = best["kenlm score(), per sentence"]
    lines = ["| what | value | ratio to kenlm |", "|---|---|---|"]
    for name, v in loads.items():
        lines.append(f"| load {name} (s, best of {args.reps}) | {v:.3f} | "
                     f"{v / loads['kenlm module: ARPA']:.2f}x the time |")
    for name, v in best.items():
        lines.append(f"| {name} (words/s) | {v / 1e6:.2f}M | {v / k:.2f} |")
    lines.append(f"| max abs sentence log10 difference vs kenlm | {diff:.1e} | (kenlm stores float32) |")
    lines.append(f"| C and numba sentence values bit-identical | "
                 f"{'yes' if res['c_equals_numba_bitwise'] else 'NO'} | |")
    sizes = ", ".join(f"{k} {v:.1f} MB" for k, v in res["sizes_mb"].items())
    print("\n".join(lines))
    print(f"\nPTB {args.order}-gram, n-grams {res['ngrams']}; files: {sizes}; "
          f"load average before / after: {res['load_before']} / {res['load_after']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from groundup.io import write_text

    res["table"] = lines
    write_text(out, json.dumps(res, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
