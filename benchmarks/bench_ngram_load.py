"""Benchmark: the load time of one large n-gram model in every form, each in a fresh process.

    .venv/bin/python benchmarks/bench_ngram_load.py --bin M.bin [--kenlm-bin M.kenlm] [--arpa M.arpa]
        [--reps 3] [--out benchmarks/out/ngram_load.json]

Ours: ``NgramModel.load(M.bin)`` verified (the default) and with ``verify=False``; kenlm's module:
``kenlm.Model`` of its own binary (``build_binary -s probing M.arpa M.kenlm``) and of the ARPA
file. Each load runs in a new interpreter (imports outside the timed part), best of ``--reps``,
after one sequential read of every file so that all come from the page cache. docs/ngram.md
("A model of a few GB") has the figures for the 10M-word 5-gram of ``bench_ngram_scale.py``.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from _common import ROOT, load_average, markdown_table, write_json

CASES = {  # name: (import line, timed statement; {p} is the file)
    "ours, binary, verified": ("from groundup.text.ngram import NgramModel", "NgramModel.load({p!r})"),
    "ours, binary, unverified": ("from groundup.text.ngram import NgramModel",
                                 "NgramModel.load({p!r}, verify=False)"),
    "kenlm, its probing binary": ("import kenlm", "kenlm.Model({p!r})"),
    "kenlm, ARPA": ("import kenlm", "kenlm.Model({p!r})"),
}


def time_load(setup: str, stmt: str, reps: int) -> float:
    code = (f"import sys, time; sys.path.insert(0, {str(ROOT / 'src')!r}); {setup}; "
            f"t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)")
    best = float("inf")
    for _ in range(reps):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"{stmt}: {r.stderr.strip().splitlines()[-1]}")
        best = min(best, float(r.stdout.split()[-1]))
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", type=Path, required=True)
    ap.add_argument("--kenlm-bin", type=Path)
    ap.add_argument("--arpa", type=Path)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "ngram_load.json")
    args = ap.parse_args()
    files = {"ours, binary, verified": args.bin, "ours, binary, unverified": args.bin,
             "kenlm, its probing binary": args.kenlm_bin, "kenlm, ARPA": args.arpa}
    for p in {p for p in files.values() if p is not None}:
        with open(p, "rb") as f:  # into the page cache
            while f.read(1 << 24):
                pass
    rows, out = [], {}
    for name, p in files.items():
        if p is None:
            continue
        setup, stmt = CASES[name]
        out[name] = t = time_load(setup, stmt.format(p=str(p)), args.reps)
        rows.append([name, p.name, f"{p.stat().st_size / 1e6:,.1f}", f"{t:.3f}"])
    print(markdown_table(["load", "file", "MB", f"s (best of {args.reps})"], rows))
    write_json(args.out, {"seconds": out, "files": {k: str(v) for k, v in files.items() if v},
                          "load": load_average()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
