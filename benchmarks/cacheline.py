"""How long one cache line takes to move between two CPUs: a ping-pong probe.

Two threads, pinned to two CPUs, take turns writing one shared 64-bit flag; each waits to see
the other's write before its own. One round moves the line twice, so the one-way transfer time
is the round's time / 2. On the 2-vCPU machines of this project it reads either ~35 ns (the two
vCPUs on the same chiplet of the host's CPU) or ~170 ns (on different chiplets), and the host
moves between the two every minute or so. Hogwild word2vec, whose threads write the same rows,
runs at a speed that follows this number (docs/word2vec.md), so bench_word2vec records it
before every run.

    .venv/bin/python benchmarks/cacheline.py                 # one reading
    .venv/bin/python benchmarks/cacheline.py --samples 60 --every 5
"""
from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def _load_acquire(typingctx, arr, i):
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]], wraparound=False)
        return builder.load_atomic(ptr, "acquire", 8)
    return types.int64(arr, i), codegen


@intrinsic
def _store_release(typingctx, arr, i, v):
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]], wraparound=False)
        builder.store_atomic(args[2], ptr, "release", 8)
        return context.get_dummy_value()
    return types.void(arr, i, v), codegen


@njit(nogil=True)
def _play(flag, rounds, first):
    """Round k: the first player writes 2k+1 and waits for 2k+2; the second the other way."""
    for k in range(rounds):
        if first:
            _store_release(flag, 0, 2 * k + 1)
            while _load_acquire(flag, 0) != 2 * k + 2:
                pass
        else:
            while _load_acquire(flag, 0) != 2 * k + 1:
                pass
            _store_release(flag, 0, 2 * k + 2)


def transfer_ns(rounds: int = 100_000, cpus: tuple[int, int] | None = None) -> float | None:
    """One-way cache-line transfer time in ns between two CPUs (None with fewer than two)."""
    allowed = sorted(os.sched_getaffinity(0))
    if cpus is None:
        if len(allowed) < 2:
            return None
        cpus = (allowed[0], allowed[1])
    flag = np.zeros(16, np.int64)                   # 128 bytes: the flag has its line to itself
    took: list[float] = []

    def player(first: bool, cpu: int) -> None:
        os.sched_setaffinity(0, {cpu})             # 0 = the calling thread
        t = time.perf_counter()
        _play(flag, rounds, first)
        if first:
            took.append(time.perf_counter() - t)

    warm = np.zeros(16, np.int64)                   # compile outside the timing
    w = threading.Thread(target=_play, args=(warm, 1, False))
    w.start()
    _play(warm, 1, True)
    w.join()
    threads = [threading.Thread(target=player, args=(False, cpus[1])),
               threading.Thread(target=player, args=(True, cpus[0]))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return took[0] / rounds / 2 * 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    args = ap.parse_args()
    for i in range(args.samples):
        ns = transfer_ns()
        print(f"{time.strftime('%H:%M:%S')} {'-' if ns is None else f'{ns:.1f}'} ns", flush=True)
        if i + 1 < args.samples:
            time.sleep(args.every)


if __name__ == "__main__":
    main()
