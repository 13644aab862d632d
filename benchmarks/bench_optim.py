"""AdamW.step() on ~10M parameters: groundup.optim.AdamW vs torch.optim.AdamW, one process,
interleaved (BASELINES.md section 5 layouts; lr 1e-3, default betas, weight decay 0.01;
gradients pre-filled with randn; only ``opt.step()`` is timed).

    wide = 10 x Linear(1000, 1000)                       (20 tensors, 10.01M params)
    many = 100 x [Linear(316, 316) + LayerNorm(316)]     (400 tensors, 10.08M params)

    .venv/bin/python benchmarks/bench_optim.py                  # both layouts, 5 rounds x 20 steps
    .venv/bin/python benchmarks/bench_optim.py --layout wide --rounds 9 --steps 10
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

from groundup.optim import AdamW  # noqa: E402

VARIANTS = {
    # name: (class, kwargs); torch's default (foreach=None) is its per-tensor loop on CPU
    "torch default": (torch.optim.AdamW, {}),
    "torch foreach=True": (torch.optim.AdamW, {"foreach": True}),
    "torch fused=True": (torch.optim.AdamW, {"fused": True}),
    "ours default": (AdamW, {}),
    "ours foreach=True": (AdamW, {"foreach": True}),
    "ours fused=True (numba)": (AdamW, {"fused": True}),
}


def params(layout: str) -> list[torch.nn.Parameter]:
    torch.manual_seed(0)
    if layout == "wide":
        model = torch.nn.Sequential(*[torch.nn.Linear(1000, 1000) for _ in range(10)])
    else:
        model = torch.nn.Sequential(*[m for _ in range(100)
                                      for m in (torch.nn.Linear(316, 316), torch.nn.LayerNorm(316))])
    ps = list(model.parameters())
    for p in ps:
        p.grad = torch.randn_like(p)
    return ps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", choices=["wide", "many", "both"], default="both")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per block")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "optim.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = args.variants.split(",")
    layouts = ["wide", "many"] if args.layout == "both" else [args.layout]
    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    result = {}
    for layout in layouts:
        opts = {}
        for name in names:
            cls, kw = VARIANTS[name]
            opts[name] = cls(params(layout), lr=1e-3, weight_decay=0.01, **kw)
            for _ in range(3):                      # warm-up (and numba compile)
                opts[name].step()
        times = {n: [] for n in names}
        for _ in range(args.rounds):
            for n in names:
                t0 = time.perf_counter()
                for _ in range(args.steps):
                    opts[n].step()
                times[n].append((time.perf_counter() - t0) / args.steps * 1e3)
        result[layout] = {n: {"median_ms": statistics.median(ts), "blocks_ms": ts} for n, ts in times.items()}
        del opts
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"AdamW.step() ms, median of {args.rounds} interleaved blocks of {args.steps} steps, "
          f"{args.threads} threads; load average {load0} -> {load} (shared machine)\n")
    base = "torch default"
    print("| layout | what | ours ms | peer | peer ms | ratio ours/peer |")
    print("|---|---|---|---|---|---|")
    for layout, res in result.items():
        for n in names:
            if n.startswith("ours") and base in res:
                o, t = res[n]["median_ms"], res[base]["median_ms"]
                print(f"| {layout} | {n} | {o:.1f} | {base} | {t:.1f} | {o / t:.2f} |")
        for n in names:
            if n.startswith("torch") and n != base:
                print(f"| {layout} | (context) | - | {n} | {res[n]['median_ms']:.1f} | - |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    from groundup.io import write_text
    write_text(args.out, json.dumps({"results": result, "threads": args.threads, "steps": args.steps,
                                     "rounds": args.rounds, "load_average": [load0, load],
                                     "torch": torch.__version__}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
