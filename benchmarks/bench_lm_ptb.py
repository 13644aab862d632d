"""Reproduce Zaremba et al. (2014) on Penn Treebank with groundup's training engine.

    .venv/bin/python benchmarks/bench_lm_ptb.py --preset ptb-small --model lstm \
        --run-dir /tmp/lmruns/ptb-small-lstm [--impl groundup|torch] [--epochs N]

Trains (resuming from ``--run-dir`` if a checkpoint is there, so a killed run can be restarted
with the same command), then prints a Markdown table (what, ours, published, ratio) and writes
JSON to ``--out`` (default ``benchmarks/out/lm_ptb_<preset>_<model>_<impl>.json``).

``--impl torch`` swaps the recurrent layer for torch.nn.LSTM/GRU/RNN (the peer, registered here
as a benchmark-only model); everything else (data, batching, loop, schedule, evaluation) is the
same engine, so the two runs isolate groundup's recurrent layer. The machine is shared during
this session: the JSON records ``uptime``'s load average at the start and end.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PUBLISHED = {  # Zaremba, Sutskever & Vinyals (2014), Table 1: (valid, test) perplexity
    "ptb-small": (120.7, 114.5),
    "ptb-medium": (86.2, 82.7),
}


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "n/a"


def register_torch_peer(kind: str) -> str:
    import torch

    from dataclasses import dataclass

    from groundup.nn.rnn_lm import RNNLanguageModel
    from groundup.train.families import FAMILIES, register_family

    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    # the family's config, as its own class: a config names its family
    peer = dataclass(frozen=True)(type(f"Torch{kind.upper()}Config", (FAMILIES[kind].config,), {}))
    name = f"torch-{kind}"
    register_family(name, peer, lambda cfg, vocab_size: RNNLanguageModel(cfg, vocab_size, rnn_class=cls))
    return name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="ptb-small", choices=sorted(PUBLISHED))
    ap.add_argument("--model", default="lstm", choices=["lstm", "gru", "rnn"])
    ap.add_argument("--impl", default="groundup", choices=["groundup", "torch"])
    ap.add_argument("--run-dir", required=True, help="training folder (checkpoints, metrics)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None, help="override the preset's learning rate")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--out", default=None)
    ap.add_argument("--note", default="", help="free text stored in the JSON (e.g. machine load)")
    ap.add_argument("--report-only", action="store_true",
                    help="do not train: summarise the epochs --run-dir has finished so far, "
                         "evaluate its best.pt on test, and project the full run's time")
    args = ap.parse_args(argv)
    if args.report_only:
        return report_partial(args)

    from groundup.train.config import make_config
    from groundup.train.engine import train

    model = args.model if args.impl == "groundup" else register_torch_peer(args.model)
    over = {"model": model, "threads": args.threads, "checkpoint_every": args.checkpoint_every,
            "progress": False}
    if args.epochs:
        over["epochs"] = args.epochs
    if args.lr:
        over["lr"] = args.lr
    cfg = make_config(args.preset, overrides=over)
    load_before = uptime()
    t0 = time.perf_counter()
    final = train(cfg, args.run_dir, log=lambda m: print(m, file=sys.stderr, flush=True))
    wall = time.perf_counter() - t0
    valid_pub, test_pub = PUBLISHED[args.preset]
    epochs = final["history"]
    result = {
        "preset": args.preset, "model": args.model, "impl": args.impl,
        "recurrent_impl": final["recurrent_impl"], "optimizer_impl": final.get("optimizer_impl"),
        "epochs_done": final["epochs"], "epochs_planned": cfg.epochs, "lr": cfg.lr,
        "valid_perplexity": final["valid_perplexity"], "test_perplexity": final["test_perplexity"],
        "published_valid": valid_pub, "published_test": test_pub,
        "test_ratio_to_published": final["test_perplexity"] / test_pub,
        "tokens_per_second": final["tokens_per_second"],
        "train_seconds": final["train_seconds"],
        "seconds_per_epoch": [e["epoch_seconds"] for e in epochs],
        "valid_perplexity_per_epoch": [e["valid_perplexity"] for e in epochs],
        "wall_seconds_this_process": wall, "threads": args.threads,
        "uptime_start": load_before, "uptime_end": uptime(),
        "note": args.note,
    }
    out = Path(args.out or f"benchmarks/out/lm_ptb_{args.preset}_{args.model}_{args.impl}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    from groundup.io import write_text

    write_text(out, json.dumps(result, indent=2) + "\n")
    print(f"| what | ours | published | ratio |\n|---|---|---|---|")
    print(f"| {args.preset} {args.model} test ppl ({final['epochs']} epochs) | "
          f"{final['test_perplexity']:.2f} | {test_pub} | {final['test_perplexity'] / test_pub:.3f} |")
    print(f"| {args.preset} {args.model} valid ppl | {final['valid_perplexity']:.2f} | {valid_pub} | "
          f"{final['valid_perplexity'] / valid_pub:.3f} |")
    print(f"\ntokens/s {final['tokens_per_second']:.0f}, train {final['train_seconds']:.0f} s; "
          f"{load_before}", file=sys.stderr)
    return 0


def report_partial(args) -> int:
    """A run that could not finish in the time available: what it reached, and the projection."""
    from groundup.io import write_text
    from groundup.train.config import PRESETS
    from groundup.train.engine import evaluate_checkpoint, read_metrics

    run = Path(args.run_dir)
    recs = read_metrics(run / "metrics.jsonl")
    steps = [r for r in recs if r["kind"] == "step"]
    epochs = [r for r in recs if r["kind"] == "epoch"]
    cfg = PRESETS[args.preset]
    if args.epochs:
        cfg = dataclasses.replace(cfg, epochs=args.epochs)
    res = evaluate_checkpoint(run / "best.pt") if (run / "best.pt").exists() else {}
    per_epoch = [e["epoch_seconds"] for e in epochs]
    steps_per_epoch = epochs[0]["step"] if epochs else None
    sec_per_step = (sum(per_epoch) / epochs[-1]["step"]) if epochs else None
    valid_pub, test_pub = PUBLISHED[args.preset]
    result = {
        "preset": args.preset, "model": args.model, "impl": args.impl, "partial": True,
        "epochs_done": len(epochs), "epochs_planned": cfg.epochs, "steps_done": len(steps),
        "valid_perplexity_per_epoch": [e["valid_perplexity"] for e in epochs],
        "train_perplexity_per_epoch": [e["train_perplexity"] for e in epochs],
        "seconds_per_epoch": per_epoch,
        "best_valid_perplexity": res.get("valid_perplexity"),
        "test_perplexity_of_best": res.get("test_perplexity"),
        "published_valid": valid_pub, "published_test": test_pub,
        "projected_full_run_seconds": (sec_per_step * steps_per_epoch * cfg.epochs)
        if sec_per_step else None,
        "uptime": uptime(), "note": args.note,
    }
    out = Path(args.out or f"benchmarks/out/lm_ptb_{args.preset}_{args.model}_{args.impl}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
