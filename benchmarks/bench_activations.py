"""Speed of our activations and upsampling ops against the torch built-ins (same process).

    .venv/bin/python benchmarks/bench_activations.py [--n 1048576] [--repeats 15] [--out F]

Forward + backward, float32, one thread. Repetitions of ours and the peer are interleaved so
machine noise hits both alike; we report the fastest repetition of each (noise only adds time).
Ours are compositions of torch ops (several kernels and autograd nodes where torch has one fused
kernel), so a ratio above 1 is expected: this measures the price of writing them from the
formula, not a claimed speed-up.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from groundup.nn import activations as A
from groundup.nn import upsample as U


def _time(fn, make_inputs) -> float:
    inputs = make_inputs()
    t0 = time.perf_counter()
    y = fn(*inputs)
    y.sum().backward()
    return time.perf_counter() - t0


def cases(n: int):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, generator=g) * 3

    def vec():
        return (x.detach().clone().requires_grad_(True),)

    acts = [("sigmoid", A.sigmoid, torch.sigmoid), ("tanh", A.tanh, torch.tanh),
            ("relu", A.relu, F.relu), ("leaky_relu", A.leaky_relu, F.leaky_relu),
            ("elu", A.elu, F.elu), ("selu", A.selu, F.selu), ("softplus", A.softplus, F.softplus),
            ("gelu", A.gelu, F.gelu),
            ("gelu_tanh", lambda t: A.gelu(t, "tanh"), lambda t: F.gelu(t, approximate="tanh")),
            ("silu", A.silu, F.silu), ("mish", A.mish, F.mish), ("glu", A.glu, F.glu)]
    for name, ours, peer in acts:
        yield name, ours, peer, vec
    img = torch.rand(8, 16, 64, 64, generator=g)

    def image():
        return (img.detach().clone().requires_grad_(True),)

    for mode, kw in [("nearest", {}), ("bilinear", dict(align_corners=False)),
                     ("bicubic", dict(align_corners=False))]:
        yield (f"interpolate {mode} x2 (8,16,64,64)",
               lambda t, m=mode, k=kw: U.interpolate(t, scale_factor=2, mode=m, **k),
               lambda t, m=mode, k=kw: F.interpolate(t, scale_factor=2, mode=m, **k), image)
    w = torch.randn(16, 8, 3, 3, generator=g)

    def image_w():
        return (img.detach().clone().requires_grad_(True), w.detach().clone().requires_grad_(True))

    yield ("conv_transpose2d k3 s2 (8,16,64,64)",
           lambda t, k: U.conv_transpose2d(t, k, stride=2, padding=1, output_padding=1),
           lambda t, k: F.conv_transpose2d(t, k, stride=2, padding=1, output_padding=1), image_w)
    yield ("pixel_shuffle r2 (8,16,64,64)", lambda t: U.pixel_shuffle(t, 2),
           lambda t: F.pixel_shuffle(t, 2), image)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1 << 20)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out/activations.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name, ours, peer, make in cases(args.n):
        t_ours, t_peer = [], []
        for _ in range(args.repeats):
            t_ours.append(_time(ours, make))
            t_peer.append(_time(peer, make))
        rows.append({"what": name, "ours_ms": 1e3 * min(t_ours), "peer_ms": 1e3 * min(t_peer),
                     "ratio": min(t_ours) / min(t_peer)})
    load = os.getloadavg()
    print(f"forward+backward, float32, 1 thread, fastest of {args.repeats}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (shared machine)\n")
    print("| what | ours ms | torch ms | ratio |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['what']} | {r['ours_ms']:.2f} | {r['peer_ms']:.2f} | {r['ratio']:.2f} |")
    from groundup.io import write_text

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text(args.out, json.dumps({"rows": rows, "loadavg": load, "n": args.n,
                                     "repeats": args.repeats, "torch": torch.__version__},
                                    indent=1))


if __name__ == "__main__":
    main()
