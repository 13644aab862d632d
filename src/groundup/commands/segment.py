"""`groundup segment`: Chinese word segmentation from the shell, one output line per input line.

    groundup segment [FILE ...|-] [--method jieba|ngram] [-o OUT] [--encoding gb18030]
    groundup segment [FILE ...] --method ngram [--model SEG.npz | --dictionary DICT]
                     [--train SEGMENTED.txt ...] [--order 1|2] [--word-bonus B] [--save SEG.npz]

``jieba`` is jieba's segmentation (:func:`groundup.data.zh.cut`, the zh extra); ``ngram`` is
ours, :class:`groundup.text.ngram.segment.Segmenter`: a saved model (``--model``), or one built
now from a dictionary (``--dictionary``, default jieba's ``dict.txt``) and, for the bigram
model, segmented text (``--train``); ``--save`` writes what was built. Words are separated by
single spaces; an empty line stays an empty line.
"""
from __future__ import annotations

import sys
from dataclasses import fields

from ..data.pipeline import TextOptions
from ..text.ngram.segment import SegmenterConfig
from .common import add_config_options, config_overrides


def register(sub) -> None:
    p = sub.add_parser(
        "segment", help="Chinese word segmentation (jieba, or our n-gram segmenter)",
        description="Cut Chinese text into words: one output line per input line, words separated "
                    "by single spaces (FILE ..., or standard input when none or -).",
        epilog="--method ngram builds its model from jieba's dict.txt (the zh extra) unless "
               "--model or --dictionary is given; --train SEGMENTED.txt (one sentence a line, "
               "words separated by spaces; CMRC 2017's 'N ||| words' lines are understood) adds a "
               "corpus: the lexicon grows by its words and --order 2 (the default) estimates the "
               "bigram model on it. --save SEG.npz writes the model (with no FILE, nothing is "
               "segmented); --model SEG.npz loads one. Example: groundup segment --train "
               "corpus.txt --save seg.npz; groundup segment --model seg.npz text.txt -o out.txt")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="text, UTF-8 unless --encoding says otherwise (- = standard input)")
    p.add_argument("--method", choices=("jieba", "ngram"), default="jieba",
                   help="jieba = jieba's segmentation (rjieba when installed); ngram = our "
                        "maximum-probability segmenter [default: jieba]")
    p.add_argument("-o", "--output", metavar="OUT", help="write here (atomically) instead of stdout")
    p.add_argument("--model", metavar="SEG.npz", help="a segmenter saved with --save (ngram)")
    p.add_argument("--dictionary", metavar="DICT",
                   help="'word count [tag]' lines (ngram) [default: jieba's dict.txt]")
    p.add_argument("--train", action="append", default=[], metavar="SEGMENTED.txt",
                   help="segmented text for the lexicon and the bigram model (ngram; repeatable; "
                        "read in --encoding, like FILE; a --dictionary is UTF-8)")
    p.add_argument("--save", metavar="SEG.npz", help="write the segmenter built here (ngram)")
    p.add_argument("--force", action="store_true", help="with --save: replace a file that is not "
                                                        "a .npz model")
    add_config_options(p, SegmenterConfig)
    add_config_options(p, TextOptions, skip=tuple(f.name for f in fields(TextOptions)
                                                  if f.name != "encoding"))
    p.set_defaults(func=_segment)


def _segmenter(args, encoding: str):
    from ..config import apply_overrides
    from ..errors import ConfigError
    from ..text.ngram.segment import Segmenter

    given = config_overrides(args, SegmenterConfig)
    if args.model:
        if args.dictionary or args.train:
            raise ConfigError("--model loads a saved segmenter: give it without --dictionary/--train")
        seg = Segmenter.load(args.model)
        return seg.with_config(**given) if given else seg
    cfg = apply_overrides(SegmenterConfig(), given)
    if args.dictionary is None:
        from ..data.zh import INSTALL, jieba_dictionary_path

        if jieba_dictionary_path() is not None:
            return Segmenter.from_jieba_dictionary(args.train or None, cfg, encoding=encoding)
        if not args.train:
            raise ConfigError(f"--method ngram builds on jieba's dictionary, which needs the zh "
                              f"extra: {INSTALL} (or give --dictionary, --train or --model)")
    return Segmenter.build(args.dictionary, args.train or None, cfg, encoding=encoding)


def _segment(args) -> int:
    from ..errors import ConfigError
    from ..io import atomic_write, check_output

    ngram_only = [o for o, v in (("--model", args.model), ("--dictionary", args.dictionary),
                                 ("--train", args.train), ("--save", args.save)) if v]
    if args.method == "jieba" and (ngram_only or config_overrides(args, SegmenterConfig)):
        raise ConfigError(f"{(ngram_only or ['the segmenter options'])[0]} is for --method ngram")
    files = args.files or (["-"] if not args.save else [])
    if files.count("-") > 1:
        raise ConfigError("standard input (-) can be read once")
    from ..config import apply_overrides
    from ..data.textfile import check_text_file

    encoding = apply_overrides(TextOptions(), config_overrides(args, TextOptions)).encoding
    for f in files:
        check_text_file(f)  # every input checked before the model is built or a line written
    if args.output:
        check_output(args.output, inputs=files + args.train + [args.model, args.dictionary])
    if args.save:
        check_output(args.save, inputs=files + args.train + [args.dictionary], kind="npz",
                     force=args.force, option="--save")
    if args.method == "jieba":
        from ..data.zh import cut

        def cut_lines(lines):
            return map(cut, lines)
    else:
        seg = _segmenter(args, encoding)
        if args.save:
            seg.save(args.save)
            print(f"wrote {args.save}: {seg.describe()}", file=sys.stderr)
        cut_lines = seg.segment_lines  # many lines per compiled call
    if not files:
        return 0
    if args.output:
        with atomic_write(args.output, "w") as out:
            _run(files, cut_lines, out, encoding)
    else:
        _run(files, cut_lines, sys.stdout, encoding)
    return 0


def _run(files, cut_lines, out, encoding: str) -> None:
    from ..data.textfile import iter_lines

    for f in files:
        for words in cut_lines(iter_lines(f, encoding=encoding)):
            out.write(" ".join(words) + "\n")
