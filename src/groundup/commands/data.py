"""`groundup data list | download NAME | info NAME|PATH | verify NAME`"""
from __future__ import annotations

import sys
from dataclasses import fields

from ..data.pipeline import TextOptions
from ..data.tokenize import names as tokenizer_names
from .common import add_config_options, config_overrides


def add_data_option(parser, default: str | None = "wikitext2", help_extra: str = "") -> None:
    """Add the shared ``--data NAME|PATH`` option (a registered corpus or the user's own text)."""
    parser.add_argument("--data", default=default, metavar="NAME|PATH",
                        help="a registered corpus (see 'groundup data list') or your own text file/folder"
                             + (f" (default: {default})" if default else "") + help_extra)


def register(sub) -> None:
    p = sub.add_parser("data", help="list, download and inspect corpora",
                       description="The corpus registry: what is bundled, present or missing; "
                                   "downloads with checksum checks; statistics of any text.")
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    q = dsub.add_parser("list", help="registered corpora and where they are")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.set_defaults(func=_list)

    q = dsub.add_parser("download", help="download a registered corpus (resumable, checksum-verified)")
    q.add_argument("name", metavar="NAME", help="a registered corpus (groundup data list)")
    q.add_argument("--dest", metavar="DIR", help="target folder, created with missing parents "
                                                 "(default: the user cache, $GROUNDUP_CACHE or "
                                                 "~/.cache/groundup)")
    q.add_argument("--force", action="store_true",
                   help="download into the cache even when a copy is bundled or in the shared data")
    q.set_defaults(func=_download)

    q = dsub.add_parser("info", help="lines, tokens and types of a corpus or a text file")
    q.add_argument("target", metavar="NAME|PATH", help="a registered corpus, a file or a folder")
    q.add_argument("--split", default=None, help="train, valid or test (default: train, or an "
                                                 "evaluation set's only file)")
    q.add_argument("--tokenizer", choices=tokenizer_names(),
                   help="default: the corpus' own (word for a user file); see groundup.data.tokenize")
    q.add_argument("--no-eos", action="store_true", help="do not count an end-of-line token per line")
    q.add_argument("--oov", action="store_true",
                   help="also count this split's tokens and types unseen in the train split")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    add_config_options(q, TextOptions, skip=tuple(f.name for f in fields(TextOptions)
                                                  if f.name != "encoding"))
    q.set_defaults(func=_info)

    q = dsub.add_parser("verify", help="check the sha256 of a registered corpus' files")
    q.add_argument("name", metavar="NAME", help="a registered corpus (groundup data list)")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.set_defaults(func=_verify)

    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _list(args) -> int:
    from ..data import corpora
    from .common import markdown_table, print_json

    rows = []
    for n in corpora.names():
        c = corpora.get(n)
        rows.append({"name": c.name, "status": corpora.where(c), "kind": c.kind, "license": c.license,
                     "splits": list(c.splits), "lines": c.total("lines"), "words": c.total("words"),
                     "bytes": c.total("bytes"), "downloadable": c.downloadable, "title": c.title})
    if args.json:
        print_json({"corpora": rows, "cache": str(corpora.cache_dir())})
        return 0

    def mb(b):
        return "?" if b is None else f"{b / 1e6:.1f} MB"

    def words(w):
        return "?" if w is None else f"{w / 1e6:.2f}M" if w >= 1e5 else f"{w:,}"

    print(markdown_table(["name", "status", "license", "words", "size", "splits"],
                         [[r["name"], r["status"], r["license"][:48], words(r["words"]), mb(r["bytes"]),
                           "/".join(r["splits"])] for r in rows]))
    return 0


def _download(args) -> int:
    from ..data import corpora
    from ..data.download import download_corpus

    c = corpora.get(args.name)
    place = corpora.where(c)
    if args.dest is None and place in ("bundled", "shared") and not args.force:
        folder = corpora.resolve_files(c.name, c.splits[0])[0].parent
        print(f"{c.name}: already available ({place}, {folder}); nothing to download "
              f"(--force fetches a copy into the cache)", file=sys.stderr)
        print(folder)
        return 0
    folder = download_corpus(c, args.dest, log=lambda m: print(m, file=sys.stderr))
    print(f"{c.name}: ok ({folder})", file=sys.stderr)
    print(folder)
    return 0


def _info(args) -> int:
    from pathlib import Path

    from ..data.corpora import get, is_registered, load_corpus
    from ..data.stats import corpus_stats
    from .common import print_json

    from ..config import apply_overrides

    given = config_overrides(args, TextOptions)  # --tokenizer is this command's own option
    encoding = apply_overrides(TextOptions(), {k: v for k, v in given.items() if k == "encoding"}).encoding
    corpus = load_corpus(args.target, args.split, tokenizer=args.tokenizer, eos=not args.no_eos,
                         encoding=encoding)
    stats = corpus_stats(corpus)
    if args.oov:
        from ..data.stats import oov_stats

        train = load_corpus(args.target, "train", tokenizer=corpus.tokenizer, eos=corpus.eos or False,
                            encoding=encoding)
        stats.update(oov_stats(corpus, train))
    registered = not Path(args.target).expanduser().exists() and is_registered(args.target)
    split = get(args.target).split_files(args.split)[0].split if registered else (args.split or "train")
    out = {"corpus": corpus.name, "split": split, "tokenizer": corpus.tokenizer, "eos": corpus.eos,
           **stats, "files": [str(f) for f in corpus.files]}
    if registered:
        out["license"] = get(args.target).license
    if args.json:
        print_json(out)
    else:
        for k, v in out.items():
            if k == "files":
                v = ", ".join(v) if len(v) <= 3 else f"{len(v)} files in {Path(v[0]).parent}"
            print(f"{k:12s} {v!r}" if k == "eos" else f"{k:12s} {v}")
    return 0


def _verify(args) -> int:
    from ..data.corpora import get
    from ..data.stats import verify_corpus
    from .common import print_json

    c = get(args.name)
    results = verify_corpus(c)
    bad = [r for r in results if r["status"] != "ok"]
    if args.json:
        print_json({"corpus": c.name, "ok": not bad, "files": results})
    else:
        for r in results:
            print(f"{r['status']:9s} {r['file']}  {r.get('path') or ''}")
    if bad:
        print(f"groundup: error: {c.name}: {len(bad)} of {len(results)} files missing or not matching "
              f"the registered sha256", file=sys.stderr)
        return 2
    return 0
