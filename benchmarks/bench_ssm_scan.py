"""Selective scan: our fast scan vs the sequential reference vs a community-style pure-PyTorch
Mamba scan, and causal attention for scale, over L = 1k .. 16k on this CPU.

    .venv/bin/python benchmarks/bench_ssm_scan.py [--lengths 1024,2048,4096,8192,16384] [--reps 3]

Time is forward + backward (sum of outputs as the loss), median of ``--reps`` interleaved runs;
memory is the peak of live CPU-allocator bytes during one forward + backward (torch.profiler).
Shapes: batch 1, d (= E) 64, n 16 — a Mamba layer of d_model 32 with expand 2.
"""
from __future__ import annotations

import argparse
import math

import _common as C  # noqa: E402  (sets sys.path)
import torch
import torch.nn.functional as F

from groundup.nn.ssm import selective_scan, selective_scan_ref


def community_scan(u, delta, A, B, Cm):
    """The straightforward pure-PyTorch scan the community uses as a reference (written here from
    the paper's equations in that style): discretise everything up front as (b, L, d, n) tensors,
    then one Python step per token."""
    deltaA = torch.exp(torch.einsum("bdl,dn->bldn", delta, A))
    deltaB_u = torch.einsum("bdl,bnl,bdl->bldn", delta, B, u)
    x = torch.zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []
    for i in range(u.shape[2]):
        x = deltaA[:, i] * x + deltaB_u[:, i]
        ys.append(torch.einsum("bdn,bn->bd", x, Cm[:, :, i]))
    return torch.stack(ys, dim=2)


def attention(q, k, v):
    """Causal softmax attention written out (L x L scores), the quadratic comparison."""
    L = q.shape[-2]
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    s = s.masked_fill(torch.ones(L, L, dtype=torch.bool).triu(1), float("-inf"))
    return F.softmax(s, dim=-1) @ v


def make(L, d=64, n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = lambda *s: torch.randn(*s, generator=g).requires_grad_()  # noqa: E731
    u, B, Cm = t(1, d, L), t(1, n, L), t(1, n, L)
    delta = (torch.rand(1, d, L, generator=g) * 0.1).requires_grad_()
    A = (-torch.rand(d, n, generator=g) - 0.1).requires_grad_()
    q, k, v = t(1, 1, L, d), t(1, 1, L, d), t(1, 1, L, d)
    return (u, delta, A, B, Cm), (q, k, v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", default="1024,2048,4096,8192,16384")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (the kernel uses as many); 1 is the fair default on a "
                         "shared 2-core machine")
    ap.add_argument("--skip-slow-above", type=int, default=8192,
                    help="skip the sequential reference above this length")
    ap.add_argument("--skip-community-above", type=int, default=4096,
                    help="skip the community-style scan (quadratic backward) above this length")
    ap.add_argument("--profile-slow-up-to", type=int, default=2048,
                    help="measure peak memory of the two sequential scans only up to this length "
                         "(the profiler records every one of their L x ops; their memory is linear "
                         "in L and is extrapolated from the measured lengths in the table's note)")
    ap.add_argument("--out", default=str(C.ROOT / "benchmarks" / "out" / "ssm_scan.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    methods = {
        "fast (ours)": lambda s, a: selective_scan(*s),
        "sequential ref (ours)": lambda s, a: selective_scan_ref(*s),
        "community pure-PyTorch": lambda s, a: community_scan(*s),
        "causal attention (L x L)": lambda s, a: attention(*a),
    }
    rows, records = [], []
    for L in (int(x) for x in args.lengths.split(",")):
        ssm_in, att_in = make(L)
        res = {}
        for name, fn in methods.items():
            slow = name in ("sequential ref (ours)", "community pure-PyTorch")
            if name == "sequential ref (ours)" and L > args.skip_slow_above:
                continue
            if name == "community pure-PyTorch" and L > args.skip_community_above:
                continue

            def step(fn=fn):
                fn(ssm_in, att_in).sum().backward()

            t, ts = C.median_time(step, reps=args.reps)
            mem = C.peak_live_bytes(step) if not (slow and L > args.profile_slow_up_to) else float("nan")
            res[name] = (t, mem)
            records.append({"L": L, "method": name, "seconds": t, "all_seconds": ts,
                            "peak_bytes": None if mem != mem else mem})
        # check: the three scans agree
        with torch.no_grad():
            y_fast = selective_scan(*ssm_in)
            if L <= 4096:
                torch.testing.assert_close(y_fast, community_scan(*ssm_in), rtol=1e-3, atol=1e-3)
        base = res.get("sequential ref (ours)")
        for name, (t, mem) in res.items():
            speed = f"{base[0] / t:.2f}x" if base else "-"
            rows.append([L, name, t * 1000, mem / 2**20 if mem == mem else "not profiled", speed])
        print(f"L={L} done", flush=True)
    table = C.markdown_table(["L", "method", "fwd+bwd ms (median)", "peak live MiB", "speed-up vs sequential"], rows)
    print(table)
    print(f"\nload average during run: {C.load_average()}; torch threads {args.threads}")
    C.write_json(args.out, {"records": records, "load_average": C.load_average(), "threads": args.threads})


if __name__ == "__main__":
    main()
