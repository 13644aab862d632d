"""Full training step of the PTB 'small' LM (Zaremba et al. 2014): groundup.nn.LSTM/GRU vs
torch.nn.LSTM (oneDNN on CPU) and torch.nn.GRU, in one process, interleaved.

A step: zero_grad, embedding (10k x 200), 2 x 200 recurrent layers, Linear 200 -> 10k,
cross-entropy over 20 x 35 tokens, backward, clip_grad_norm_(5), SGD lr 1; the hidden state is
carried and detached between steps. Random token ids (speed does not depend on the data).

    .venv/bin/python benchmarks/bench_rnn.py                    # 5 rounds x 20 steps per variant
    .venv/bin/python benchmarks/bench_rnn.py --rounds 3 --steps 10 --threads 2
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

import groundup.nn as gnn  # noqa: E402

V, E, H, LAYERS, B, T = 10_000, 200, 200, 2, 20, 35


class LM(torch.nn.Module):
    def __init__(self, rnn: torch.nn.Module):
        super().__init__()
        self.emb = torch.nn.Embedding(V, E)
        self.rnn = rnn
        self.out = torch.nn.Linear(H, V)

    def forward(self, x, state):
        y, state = self.rnn(self.emb(x), state)
        return self.out(y), state


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def make(kind: str, impl: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if impl == "torch":
        rnn = getattr(torch.nn, kind)(E, H, LAYERS)
    else:
        rnn = getattr(gnn, kind)(E, H, LAYERS)
        rnn.fused = impl == "ours"            # "ours-ref": the plain autograd loop
    return LM(rnn)


def stepper(model: torch.nn.Module):
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    loss_fn = torch.nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(1)
    batches = [(torch.randint(0, V, (T, B), generator=g), torch.randint(0, V, (T, B), generator=g))
               for _ in range(4)]
    box = {"state": None, "i": 0}

    def step():
        x, y = batches[box["i"] % len(batches)]
        box["i"] += 1
        opt.zero_grad()
        logits, state = model(x, box["state"])
        loss = loss_fn(logits.view(-1, V), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        box["state"] = detach(state)
    return step


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per block")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kinds", default="LSTM,GRU")
    ap.add_argument("--impls", default="ours,torch,ours-ref")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "rnn.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    variants = [(k, i) for k in args.kinds.split(",") for i in args.impls.split(",")]
    steps = {v: stepper(make(*v)) for v in variants}
    for v in variants:                      # warm up every variant before timing any
        for _ in range(3):
            steps[v]()
    times: dict[tuple, list[float]] = {v: [] for v in variants}
    for _ in range(args.rounds):            # interleaved: each round times every variant once
        for v in variants:
            t0 = time.perf_counter()
            for _ in range(args.steps):
                steps[v]()
            times[v].append((time.perf_counter() - t0) / args.steps * 1e3)
    med = {v: statistics.median(ts) for v, ts in times.items()}
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"PTB-small training step (ms/step, median of {args.rounds} interleaved blocks of "
          f"{args.steps} steps, {args.threads} threads; load average {load}; shared machine)\n")
    print("| what | ours ms/step | torch ms/step | ratio ours/torch |")
    print("|---|---|---|---|")
    rows = []
    for kind in args.kinds.split(","):
        for impl in [i for i in args.impls.split(",") if i != "torch"]:
            if (kind, "torch") in med:
                ours, ref = med[(kind, impl)], med[(kind, "torch")]
                label = f"{kind} 2x200 ({'fused BPTT' if impl == 'ours' else 'autograd loop'})"
                print(f"| {label} | {ours:.1f} | {ref:.1f} | {ours / ref:.2f} |")
                rows.append({"what": label, "ours_ms": ours, "torch_ms": ref, "ratio": ours / ref})
    payload = {"rows": rows, "blocks_ms": {f"{k}/{i}": ts for (k, i), ts in times.items()},
               "threads": args.threads, "steps": args.steps, "rounds": args.rounds,
               "load_average": load, "torch": torch.__version__}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    from groundup.io import write_text
    write_text(args.out, json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
