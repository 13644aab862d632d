"""`groundup lab [NAME ...] [--quick|--full] [--lang en|zh] --out DIR`"""
from __future__ import annotations

import sys

LANGS = ("en", "zh")  # groundup.lab.messages.CATALOGUES (not imported: --help stays fast)


def register(sub) -> None:
    p = sub.add_parser("lab", help="run the experiments and write a report",
                       description="Run lab experiments (all by default) and write DIR/report.html, "
                                   "DIR/results.json and DIR/summary.md.")
    p.add_argument("names", nargs="*", metavar="NAME", help="experiments to run (default: all)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="quick mode (default; at most ~90 s each)")
    mode.add_argument("--full", action="store_true", help="paper-scale runs (slow)")
    p.add_argument("--out", default="lab-out",
                   help="output folder, created with missing parents (default: lab-out)")
    p.add_argument("--seed", type=int, default=0, help="random seed of every experiment (default 0)")
    p.add_argument("--lang", choices=LANGS, default="en",
                   help="language of the report (default en); zh also runs the Chinese text "
                        "experiments (ngram-zh, word2vec-zh, segment-zh, charlm-zh) in place of ngram "
                        "and word2vec")
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from ..lab import registry
    from ..lab.runner import run_lab

    if args.list:
        from ..lab.catalogue import text

        for n in registry.names("all"):
            print(f"{n:20s} {text(args.lang, n + '.title')}")
        return 0
    from ..io import check_output_folder

    out = check_output_folder(args.out)
    results = run_lab(args.names or None, out, full=args.full, seed=args.seed, lang=args.lang,
                      log=lambda m: print(m, file=sys.stderr))
    print(f"report: {out / 'report.html'}", file=sys.stderr)
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"groundup: error: experiments failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
