"""Sequential work: forward+backward time of one recurrent layer (groundup LSTM, torch.nn.LSTM)
and one causal self-attention layer (groundup CausalSelfAttention) against sequence length T,
with the FLOPs each does and the T at which attention's quadratic cost overtakes each RNN's
serial loop. The measurement of `groundup lab transformer`, part 1, at a chosen size, on CPU or
on a GPU.

    .venv/bin/python benchmarks/bench_seq_work.py --threads 1                 # CPU, one thread
    .venv/bin/python benchmarks/bench_seq_work.py --device cuda --lengths 32 64 128 256 512 1024 2048 4096 8192

Prints a Markdown table and writes JSON (default benchmarks/out/seq_work_<device>.json).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, load_average, markdown_table, write_json  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lengths", type=int, nargs="+", default=[32, 64, 128, 256, 512, 1024, 2048])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    import torch

    from groundup.lab.transformer import TransformerLabConfig, crossover, sequential_work

    torch.set_num_threads(a.threads)
    load = load_average()
    cfg = TransformerLabConfig(d=a.width, seq_batch=a.batch, seq_lengths=tuple(a.lengths), seq_reps=a.reps)
    res = sequential_work(cfg, a.device)
    rows = res["rows"]
    names = ("groundup LSTM", "torch.nn.LSTM", "attention")
    print(f"device {a.device}, threads {a.threads}, B={a.batch}, width {a.width}, best of {a.reps}, "
          f"load average {load}\n")
    print(markdown_table(["T", "GFLOP LSTM", "GFLOP attention"] + [f"{n} ms" for n in names]
                         + ["groundup LSTM / attention", "torch LSTM / attention"],
                         [[r["T"], r["flops_rnn"] / 1e9, r["flops_attention"] / 1e9]
                          + [1e3 * r[n] for n in names]
                          + [r["groundup LSTM"] / r["attention"], r["torch.nn.LSTM"] / r["attention"]]
                          for r in rows]))
    cross = {n: crossover(rows, n) for n in names[:2]}
    print(f"\nattention slower than the RNN from T = {cross['groundup LSTM']} (groundup LSTM), "
          f"{cross['torch.nn.LSTM']} (torch.nn.LSTM); None = not within the lengths measured")
    out = a.json or ROOT / "benchmarks" / "out" / f"seq_work_{a.device}.json"
    write_json(out, {"device": a.device, "threads": a.threads, "batch": a.batch, "width": a.width,
                     "reps": a.reps, "load_average": load, "rows": rows, "crossover_T": cross,
                     "load_after": load_average()})


if __name__ == "__main__":
    main()
