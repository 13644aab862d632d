"""Gradient checkpointing: peak activation memory and step time against depth.

A stack of n blocks [Linear(D,D), ReLU, LayerNorm(D)] on a (B, D) batch; a step is forward,
``out.pow(2).mean()``, backward, SGD. Modes: none; every block checkpointed; sqrt(n) segments
(torch's checkpoint_sequential partition); a plan from the budget planner (budget = a quarter of
the no-checkpoint activation bytes, raised to the sqrt(n) plan's modelled peak where it cannot be
met). Each checkpointed mode runs twice, through groundup.train.checkpoint and through
torch.utils.checkpoint.checkpoint, on the same model and plan, both use_reentrant=False.

Memory: peak of live CPU-allocator bytes during one step (torch.profiler allocation records),
minus nothing: gradients already exist (zeroed in place), so the peak is the step's activations
plus transient buffers. Time: median of interleaved repetitions (the machine is shared).

    .venv/bin/python benchmarks/bench_checkpoint.py [--depths 4 8 16 32 64] [--reps 5]
"""
from __future__ import annotations

import argparse
import statistics
import time

from _common import load_average, markdown_table, peak_live_bytes, write_json

import torch
import torch.utils.checkpoint as tcp

from groundup.train.grad_checkpoint_plan import plan_checkpoints, plan_peak, profile_layers
from groundup.train.grad_checkpoint import checkpoint, sequential_segments


def make_blocks(n, width, seed=0):
    torch.manual_seed(seed)
    return [torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.ReLU(),
                                torch.nn.LayerNorm(width)) for _ in range(n)]


def run_plan(blocks, plan, x, cp):
    def seg(a, b):
        def f(h):
            for blk in blocks[a:b]:
                h = blk(h)
            return h
        return f
    for a, b, ckpt in plan:
        x = cp(seg(a, b), x, use_reentrant=False) if ckpt else seg(a, b)(x)
    return x


def plans_for(blocks, x, frac):
    n = len(blocks)
    prof = profile_layers(blocks, x)
    total = sum(prof.saved)
    sqrt_plan = sequential_segments(n, None)
    budget = int(frac * total)
    floor = plan_peak(sqrt_plan, prof.saved, prof.output)
    try:
        budget_plan = plan_checkpoints(prof.saved, prof.output, budget)
    except ValueError:
        budget = floor
        budget_plan = plan_checkpoints(prof.saved, prof.output, budget)
    plans = {"none": [(0, n, False)], "every": [(i, i + 1, True) for i in range(n)],
             "sqrt": sqrt_plan, "budget": budget_plan}
    model = {k: plan_peak(p, prof.saved, prof.output) for k, p in plans.items()}
    return plans, model, budget, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--depths", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--budget-frac", type=float, default=0.25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="benchmarks/out/checkpoint.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_before = load_average()

    all_blocks = make_blocks(max(args.depths), args.width)
    params = [p for b in all_blocks for p in b.parameters()]
    opt = torch.optim.SGD(params, lr=1e-4, foreach=False)
    x = torch.randn(args.batch, args.width, generator=torch.Generator().manual_seed(1))
    cps = {"ours": checkpoint, "torch": tcp.checkpoint}

    configs = []  # (depth, mode, impl, plan)
    info = {}
    for n in args.depths:
        blocks = all_blocks[:n]
        plans, model, budget, total = plans_for(blocks, x, args.budget_frac)
        info[n] = {"model_peak": model, "budget": budget, "no_ckpt_saved": total,
                   "plans": {k: [list(s) for s in p] for k, p in plans.items()}}
        for mode, plan in plans.items():
            for impl in (["ours"] if mode == "none" else ["ours", "torch"]):
                configs.append((n, mode, impl, plan))

    def step(cfg):
        n, _, impl, plan = cfg
        opt.zero_grad(set_to_none=False)
        out = run_plan(all_blocks[:n], plan, x, cps[impl])
        out.pow(2).mean().backward()
        opt.step()

    for p in params:  # gradients exist before any measured step
        p.grad = torch.zeros_like(p)
    mem = {}
    for cfg in configs:
        step(cfg)  # warm-up
        mem[cfg[:3]] = peak_live_bytes(lambda: step(cfg))
    times = {cfg[:3]: [] for cfg in configs}
    for _ in range(args.reps):  # interleaved: each rep runs every configuration once
        for cfg in configs:
            t0 = time.perf_counter()
            step(cfg)
            times[cfg[:3]].append(time.perf_counter() - t0)
    load_after = load_average()

    rows, records = [], []
    for n in args.depths:
        t_none = statistics.median(times[(n, "none", "ours")])
        m_none = mem[(n, "none", "ours")]
        for mode in ("none", "every", "sqrt", "budget"):
            t_o = statistics.median(times[(n, mode, "ours")])
            m_o = mem[(n, mode, "ours")]
            rec = {"depth": n, "mode": mode, "ours_ms": 1e3 * t_o, "ours_MB": m_o / 1e6,
                   "model_MB": info[n]["model_peak"][mode] / 1e6,
                   "mem_vs_none": m_o / m_none, "time_vs_none": t_o / t_none,
                   "ours_times_ms": [1e3 * t for t in times[(n, mode, "ours")]]}
            if mode != "none":
                t_t = statistics.median(times[(n, mode, "torch")])
                m_t = mem[(n, mode, "torch")]
                rec.update(torch_ms=1e3 * t_t, torch_MB=m_t / 1e6, time_ratio=t_o / t_t,
                           mem_ratio=m_o / m_t,
                           torch_times_ms=[1e3 * t for t in times[(n, mode, "torch")]])
            records.append(rec)
            rows.append([n, mode, f"{rec['ours_MB']:.1f}", f"{rec['model_MB']:.1f}",
                         f"{rec['mem_vs_none']:.3f}", f"{rec['ours_ms']:.0f}",
                         f"{rec['time_vs_none']:.2f}",
                         "-" if mode == "none" else f"{rec['torch_MB']:.1f}",
                         "-" if mode == "none" else f"{rec['mem_ratio']:.3f}",
                         "-" if mode == "none" else f"{rec['torch_ms']:.0f}",
                         "-" if mode == "none" else f"{rec['time_ratio']:.3f}"])
    print(f"blocks [Linear({args.width},{args.width}), ReLU, LayerNorm], batch {args.batch}, "
          f"{args.threads} thread(s), {args.reps} interleaved reps; load average before "
          f"{load_before}, after {load_after}")
    print(markdown_table(["depth", "mode", "ours peak MB", "model MB", "mem / none", "ours ms",
                          "time / none", "torch peak MB", "mem ours/torch", "torch ms",
                          "time ours/torch"], rows))
    for n in args.depths:
        print(f"depth {n}: budget {info[n]['budget'] / 1e6:.1f} MB "
              f"(no-checkpoint saved {info[n]['no_ckpt_saved'] / 1e6:.1f} MB), budget plan "
              f"{info[n]['plans']['budget']}")
    write_json(args.out, {"args": vars(args), "load_before": load_before,
                          "load_after": load_after, "results": records, "plans": info})


if __name__ == "__main__":
    main()
