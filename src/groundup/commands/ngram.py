"""`groundup ngram build|binarize|query|eval|score|rank|generate|prune`: n-gram models from the shell.

    groundup ngram build TRAIN.txt|- --order N [--smoothing mkn|kn|katz|addk|mle] [--prune 0 1 1] -o MODEL.arpa|.bin
    groundup ngram build TRAIN.txt|- --order N --memory 1G [--temp-dir DIR] [--prune 0 1 1] -o MODEL.arpa
    groundup ngram build TRAIN.txt --order N --engine spark [--spark-master URL] -o MODEL.arpa
    groundup ngram binarize MODEL.arpa MODEL.bin
    groundup ngram query MODEL [FILE ...] [--words] [--json]      (standard input without FILE)
    groundup ngram prune MODEL --threshold T -o OUT
    groundup ngram eval MODEL.arpa TEST.txt|- [--json]
    groundup ngram score MODEL.arpa [FILE|-] [-s SENTENCE ...] [--rank] [--permute "w1 w2 .."]
    groundup ngram rank MODEL.arpa [FILE|-] [-s SENTENCE ...] [--permute "w1 w2 .."]  (score --rank)
    groundup ngram generate MODEL.arpa [-n 5] [--seed 0] [--prefix "..."]

Text is one sentence per line; ``<s>``/``</s>`` are added as KenLM does. ``build`` takes the
fields of :class:`~groundup.text.ngram.model.NgramConfig` as options, the text options
(``--tokenizer``, ``--lowercase``, ``--min-count``, ``--max-vocab``) among them, and the model
records them; ``eval``, ``score`` and ``generate`` read text the model's way, and a text option
given there that differs from the model's is an error. A literal ``<unk>`` in training text is
the unknown word.
"""
from __future__ import annotations

import sys
import time

from ..data.pipeline import TextOptions
from ..text.ngram.model import NgramConfig
from .common import add_config_options, config_overrides


def register(sub) -> None:
    p = sub.add_parser("ngram", help="n-gram language models (build, eval, score, rank, generate)",
                       description="N-gram language models: counting, smoothing (modified Kneser-Ney "
                                   "matches KenLM's lmplz), ARPA files, KenLM-compatible perplexity.")
    s = p.add_subparsers(dest="ngram_command", metavar="SUBCOMMAND")

    b = s.add_parser("build", help="count and smooth a corpus, write the model",
                     description="Build a model from TRAIN.txt (one sentence per line; - reads "
                                 "standard input). The output is ARPA if its name ends in .arpa, "
                                 "the memory-mapped binary format if it ends in .bin, else a "
                                 "numpy .npz (--format overrides the name).")
    b.add_argument("train", metavar="TRAIN.txt", help="training text, one sentence per line (- = standard input)")
    b.add_argument("-o", "--output", required=True, metavar="MODEL",
                   help="the model file (its folder must exist)")
    b.add_argument("--force", action="store_true", help="replace an existing file that is not a model")
    b.add_argument("--format", choices=("arpa", "bin", "npz"),
                   help="the model file's format (default: from the name)")
    b.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    b.add_argument("--memory", metavar="SIZE",
                   help="estimate in bounded memory like lmplz -S (e.g. 1G, 200M): n-grams are "
                        "sorted in blocks and spilled to disk (mkn/kn; a .bin model is "
                        "binarized from the ARPA file, in memory, as binarize does); every large "
                        "buffer (sort buffers, stream chunks, ARPA text) counts against SIZE, so "
                        "peak memory is SIZE plus a fixed overhead of about 160 MB (Python, "
                        "numpy, numba) and the vocabulary's strings (about 100 bytes a word)")
    b.add_argument("--temp-dir", metavar="DIR",
                   help="where --memory spills sorted runs (default: the system temporary folder)")
    b.add_argument("--prune", type=int, nargs="+", metavar="T",
                   help="count pruning as lmplz --prune: thresholds per order from 1 (0 for "
                        "unigrams, non-decreasing, the last repeats); an n-gram whose raw count "
                        "is <= its order's threshold is dropped, its mass going to the backoff")
    b.add_argument("--engine", choices=("local", "spark"), default="local",
                   help="where counting and adjusting run: local = this process; spark = a "
                        "Spark job (pip install 'groundup[spark]', and Java), the rest of the "
                        "estimation streaming here as with --memory: the same model bytes")
    b.add_argument("--spark-master", metavar="URL",
                   help="the Spark master for --engine spark (default: local[*], every core "
                        "of this machine); the workers must see TRAIN.txt at the same path")
    b.add_argument("--spark-partitions", type=int, default=0, metavar="P",
                   help="shards of the n-grams for --engine spark (default: twice the cores)")
    add_config_options(b, NgramConfig)
    b.set_defaults(func=_build)

    z = s.add_parser("binarize", help="write a model as the memory-mapped binary format",
                     description="Convert an ARPA (or .npz, or binary) model to groundup's binary "
                                 "format: one file that loads by memory mapping, in about the "
                                 "same time whatever its size (docs/ngram.md, 'Binary format').")
    z.add_argument("model", metavar="IN", help="an ARPA, .npz or binary model")
    z.add_argument("output", metavar="OUT.bin", help="the binary model to write")
    z.add_argument("--force", action="store_true", help="replace an existing file that is not a model")
    z.set_defaults(func=_binarize)

    q = s.add_parser("query", help="score sentences from files or stdin, like KenLM's query",
                     description="Per sentence (line): the total log10 probability and the OOV "
                                 "count, with --words each word's log10 probability and the "
                                 "length of the n-gram matched (KenLM query's output); then "
                                 "perplexity with and without OOVs. Reads standard input when "
                                 "no FILE is named; memory does not grow with the input.")
    q.add_argument("model", metavar="MODEL", help="an ARPA, .npz or binary model")
    q.add_argument("files", nargs="*", metavar="FILE", help="sentences, one per line (- = standard input)")
    q.add_argument("--words", action="store_true",
                   help="print word=ID NGRAM_LENGTH LOG10P for every scored token")
    q.add_argument("--no-sentences", action="store_true", help="print only the summary")
    q.add_argument("--json", action="store_true", help="one JSON object per line (then a summary object)")
    v = q.add_mutually_exclusive_group()
    v.add_argument("--verify", action="store_true",
                   help="check every value of a binary model before scoring (the load then "
                        "reads the whole file; without it a file damaged past its header gives "
                        "wrong scores, never a crash)")
    v.add_argument("--no-verify", action="store_false", dest="verify",
                   help="the default: a binary model's header and sections checked, its values "
                        "trusted (the load does not grow with the file)")
    _text_options(q)
    q.set_defaults(func=_query)

    r = s.add_parser("prune", help="entropy-based pruning (Stolcke 1998, SRILM's -prune)",
                     description="Remove the n-grams whose removal raises the model's perplexity "
                                 "by a relative amount below THRESHOLD (e^D - 1 < T, D the relative "
                                 "entropy of Stolcke 1998), then recompute the backoff weights.")
    r.add_argument("model", metavar="IN", help="an ARPA, .npz or binary model")
    r.add_argument("--threshold", type=float, required=True, metavar="T",
                   help="relative perplexity increase below which an n-gram goes (e.g. 1e-7)")
    r.add_argument("-o", "--output", required=True, metavar="OUT", help="the pruned model (.arpa, .bin, .npz)")
    r.add_argument("--force", action="store_true", help="replace an existing file that is not a model")
    r.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    r.set_defaults(func=_prune)

    e = s.add_parser("eval", help="perplexity of a test file (KenLM query's conventions)",
                     description="Perplexity with </s> counted as a token; OOV words are scored as "
                                 "<unk> and counted in 'oov'; perplexity_excl_oov drops them.")
    e.add_argument("model", metavar="MODEL", help="an ARPA or .npz model")
    e.add_argument("test", metavar="TEST.txt", help="sentences, one per line (- = standard input)")
    e.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    _text_options(e)
    e.set_defaults(func=_eval)

    for name, ranks in (("score", False), ("rank", True)):
        c = s.add_parser(name, help="rank sentences, most plausible first (= score --rank)" if ranks
                         else "log10 probability of sentences; rank candidates",
                         description="Score sentences (from FILE, -s, or all orderings of --permute) "
                                     "and print log10 p per sentence; " + (
                                         "sorted, most plausible first." if ranks else
                                         "--rank sorts them, most plausible first."))
        c.add_argument("model", metavar="MODEL", help="an ARPA or .npz model")
        c.add_argument("file", nargs="?", metavar="FILE", help="sentences, one per line (- = standard input)")
        c.add_argument("-s", "--sentence", action="append", default=[], help="a sentence (repeatable)")
        c.add_argument("--permute", metavar="WORDS", help="rank every ordering of these words (<= 8)")
        if not ranks:
            c.add_argument("--rank", action="store_true", help="sort from most to least plausible")
        c.add_argument("--top", type=int, default=0, help="show only the best TOP (when ranking)")
        c.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        _text_options(c)
        c.set_defaults(func=_score, **({"rank": True} if ranks else {}))

    g = s.add_parser("generate", help="sample sentences from the model")
    g.add_argument("model", metavar="MODEL", help="an ARPA or .npz model")
    g.add_argument("-n", type=int, default=5, help="number of sentences (default 5)")
    g.add_argument("--max-words", type=int, default=40, help="stop a sentence after this many tokens")
    g.add_argument("--seed", type=int, default=0, help="random seed")
    g.add_argument("--prefix", default="", help="words to start every sentence with")
    g.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    _text_options(g)
    g.set_defaults(func=_generate)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _text_options(parser) -> None:
    add_config_options(parser, TextOptions)
    parser.epilog = ("The text options default to the model's own; one that differs from what the "
                     "model was built with is an error.")


def _read(path: str, text: TextOptions, desc: str, *, training: bool = False) -> list[list[str]]:
    from ..data.pipeline import read_corpus
    from ..utils import progress

    return list(progress(read_corpus(path, text, training=training), desc=desc, unit=" lines"))


def _model_text(args, model) -> TextOptions:
    """The model's text options (a one-line error if the user asked for others)."""
    from ..data.pipeline import check_same_text

    return check_same_text(model.text, config_overrides(args, TextOptions), f"model {args.model}")


def _load(path: str):
    from ..text.ngram import NgramModel

    return NgramModel.load(path)


def _warn(caught) -> None:
    for w in caught:
        print(f"groundup: warning: {w.message}", file=sys.stderr)


def _build(args) -> int:
    import warnings

    from ..config import apply_overrides
    from ..errors import ConfigError, DataError
    from ..io import check_output
    from ..text.ngram import NgramModel
    from ..text.ngram.model import model_format

    cfg = apply_overrides(NgramConfig(), config_overrides(args, NgramConfig))
    fmt = args.format or model_format(args.output)
    check_output(args.output, inputs=[args.train], force=args.force, kind=fmt)
    t0 = time.perf_counter()
    if args.engine != "spark" and (args.spark_master is not None or args.spark_partitions):
        raise ConfigError("--spark-master and --spark-partitions go with --engine spark")
    if args.memory is not None or args.temp_dir is not None or args.engine == "spark":
        return _build_streaming(args, cfg, t0, fmt)
    sents = _read(args.train, cfg, "reading", training=True)
    words = sum(len(s) for s in sents)
    if words < cfg.order:
        raise DataError(f"{args.train}: {words} tokens, fewer than the model order {cfg.order}")
    print(f"counting and smoothing {words:,} tokens ({cfg.smoothing}, order {cfg.order}) ...",
          file=sys.stderr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = NgramModel.build(sents, cfg.order, cfg.smoothing, k=cfg.k, text=cfg,
                                 prune=args.prune or ())
    _warn(caught)
    del sents
    model.save(args.output, format=fmt)
    extra = {"discounts": model.info["discounts"]} if "discounts" in model.info else {}
    return _summary(args, cfg, t0, words, [len(k) for k in model.tables.keys],
                    model.info.get("warnings", []), extra)


def _summary(args, cfg, t0, words: int, sizes: list[int], warns: list, extra: dict) -> int:
    """What ``build`` prints: a JSON object (--json) or one line on stderr."""
    from .common import print_json

    summary = {"model": args.output, "order": cfg.order, "smoothing": cfg.smoothing,
               "text": cfg.text_options().record(), "train_tokens": words, "ngrams": sizes,
               "seconds": round(time.perf_counter() - t0, 3), "warnings": warns, **extra}
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {args.output}: n-grams {' / '.join(f'{n:,}' for n in sizes)} "
              f"in {summary['seconds']:.2f} s", file=sys.stderr)
    return 0


def _binarize(args) -> int:
    from ..io import check_output

    check_output(args.output, inputs=[args.model], force=args.force, kind="bin")
    t0 = time.perf_counter()
    model = _load(args.model)
    model.save(args.output, format="bin")
    print(f"wrote {args.output}: order {model.order}, n-grams "
          f"{' / '.join(f'{len(k):,}' for k in model.tables.keys)} in "
          f"{time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return 0


def _prune(args) -> int:
    import math

    from ..errors import ConfigError
    from ..io import check_output
    from ..text.ngram import NgramModel
    from ..text.ngram.model import model_format
    from ..text.ngram.prune import prune_entropy
    from .common import print_json

    if not (math.isfinite(args.threshold) and args.threshold >= 0):
        raise ConfigError(f"--threshold must be a finite number >= 0, got {args.threshold}")
    check_output(args.output, inputs=[args.model], force=args.force, kind=model_format(args.output))
    model = _load(args.model)
    before = [len(k) for k in model.tables.keys]
    try:
        pruned = NgramModel(prune_entropy(model.tables, args.threshold))
    except ValueError as e:
        raise ConfigError(f"{args.model}: cannot prune ({e})") from None
    pruned.save(args.output)
    after = [len(k) for k in pruned.tables.keys]
    if args.json:
        print_json({"model": args.output, "threshold": args.threshold, "ngrams_before": before,
                    "ngrams": after})
    else:
        print(f"wrote {args.output}: n-grams {' / '.join(f'{n:,}' for n in after)} (from "
              f"{' / '.join(f'{n:,}' for n in before)})", file=sys.stderr)
    return 0


def _query(args) -> int:
    from ..text.ngram import NgramModel
    from ..text.ngram.query import query

    model = NgramModel.load(args.model, verify=args.verify)
    text = _model_text(args, model)
    files = args.files or ["-"]
    return query(model, files, text, sys.stdout, words=args.words, json_lines=args.json,
                 sentences=not args.no_sentences)


def _build_streaming(args, cfg, t0, fmt: str) -> int:
    """``build --memory``: :func:`groundup.text.ngram.streaming.build_streaming`; ``--engine
    spark``: :func:`groundup.text.ngram.spark.build_spark`. A binary model (``-o OUT.bin``) is
    estimated as an ARPA file in the temporary folder, then binarized (the model of ``build -o
    OUT.arpa`` then ``binarize``, its source the corpus) and the ARPA file removed, on success,
    error, Ctrl-C and SIGTERM alike; binarizing holds the model in memory as ``binarize``
    does, and a warning says when that is likely to pass ``--memory``
    (:data:`BIN_BYTES_PER_NGRAM`)."""
    from ..errors import ConfigError
    from ..text.ngram.spill import TempSpace, check_temp_dir, parse_size

    how = "--engine spark" if args.engine == "spark" else "--memory"
    if cfg.smoothing not in ("mkn", "kn"):
        raise ConfigError(f"{how} estimates mkn or kn only, not {cfg.smoothing}")
    if fmt not in ("arpa", "bin"):
        raise ConfigError(f"{how} writes an ARPA or binary model: name the output *.arpa or "
                          f"*.bin, not {args.output}")
    memory = parse_size(args.memory if args.memory is not None else "1G")
    check_temp_dir(args.temp_dir)
    if fmt == "arpa":
        st = _estimate(args, cfg, memory, args.output)
    else:
        with TempSpace(args.temp_dir) as hold:
            arpa = str(hold.dir / "model.arpa")
            st = _estimate(args, cfg, memory, arpa)
            n = sum(st.ngrams)
            if n * BIN_BYTES_PER_NGRAM > memory:
                print(f"groundup: warning: binarizing holds the model in memory: about "
                      f"{n * BIN_BYTES_PER_NGRAM / 2**20:,.0f} MiB for {n:,} n-grams, more than "
                      f"--memory {memory / 2**20:,.0f} MiB (the estimation stayed within it)",
                      file=sys.stderr)
            print(f"binarizing {n:,} n-grams ...", file=sys.stderr)
            model = _load(arpa)
            model.info["source"] = str(args.train)  # not the ARPA file, gone with the folder
            model.save(args.output, format="bin")
    return _summary(args, cfg, t0, st.n_words, st.ngrams, st.warnings,
                    {"discounts": st.discounts, "memory": memory, "sorted_runs": st.runs,
                     "temp_peak_bytes": st.temp_peak_bytes,
                     "temp_memory_peak_bytes": st.temp_memory_peak_bytes,
                     "memory_accounted_peak_bytes": st.memory_high_water})


# Peak memory of binarizing, per n-gram (measured: the 1M- and 10M-word sampled 5-gram models,
# 3.2M and 26.5M n-grams, peaked at 574 MB and 3.07 GB, less the fixed 160 MB: 130 and 110).
BIN_BYTES_PER_NGRAM = 130


def _estimate(args, cfg, memory: int, output: str):
    """The bounded-memory estimation of ``build --memory|--engine spark`` into the ARPA file
    ``output``; returns its :class:`~groundup.text.ngram.streaming.StreamStats`."""
    import warnings

    from ..data.pipeline import read_corpus
    from ..errors import DataError
    from ..text.ngram.streaming import build_streaming
    from ..utils import progress

    spark = args.engine == "spark"
    common = dict(memory=memory, temp_dir=args.temp_dir, modified=cfg.smoothing == "mkn",
                  text=cfg.text_options(), prune=args.prune or ())
    sents = read_corpus(args.train, cfg, training=True)
    print(f"estimating {cfg.smoothing} order {cfg.order} in {memory / 2**20:.4g} MiB"
          f"{' (counting on Spark)' if spark else ''} ...", file=sys.stderr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if spark:
                st = _build_spark(args, cfg, sents, output, common)
            else:
                # a corpus the compiled reader can number goes to it whole, and reports lines
                fast = sents.can_number
                bar = progress(None if fast else sents, desc="reading", unit=" lines")
                st = build_streaming(sents if fast else bar, cfg.order, output,
                                     on_lines=bar.update if fast else None, **common)
                bar.close()
        except DataError as e:
            raise DataError(f"{args.train}: {e}") from None
    _warn(caught)
    return st


def _build_spark(args, cfg, sents, output: str, common: dict):
    """``--engine spark`` from a file or folder the workers read themselves: the first lines
    are read here (the spacing check of every training reader, and early errors), then
    :func:`groundup.text.ngram.spark.build_spark`."""
    import itertools

    from ..data.corpora import resolve_files
    from ..data.textfile import is_stdin
    from ..data.tokenize import SpacingCheck
    from ..errors import ConfigError
    from ..text.ngram.spark import build_spark

    if is_stdin(args.train):
        raise ConfigError("--engine spark reads files its workers open, not standard input: "
                          "give a file")
    for _ in itertools.islice(sents, SpacingCheck.LINES + 1):
        pass
    return build_spark(resolve_files(args.train), cfg.order, output, master=args.spark_master,
                       partitions=args.spark_partitions, **common)


def _eval(args) -> int:
    from .common import print_json

    model = _load(args.model)
    sents = _read(args.test, _model_text(args, model), "scoring")
    ev = model.evaluate(sents)
    out = {"model": args.model, "test": args.test, **ev.as_dict(), "order": model.order}
    if args.json:
        print_json(out)
    else:
        print(f"perplexity {ev.perplexity:.4f} (excluding OOVs {ev.perplexity_excl_oov:.4f}); "
              f"{ev.tokens:,} tokens incl. </s>, {ev.oov:,} OOV, {ev.sentences:,} sentences")
    return 0


def _score(args) -> int:
    import itertools

    from ..errors import ConfigError
    from .common import print_json

    model = _load(args.model)
    text = _model_text(args, model)
    split = text.get_tokenizer()
    cands = [split(s) for s in args.sentence]
    if args.file:
        cands += _read(args.file, text, "scoring")
    if args.permute:
        words = split(args.permute)
        if not 1 <= len(words) <= 8:
            raise ConfigError(f"--permute takes 1 to 8 tokens, got {len(words)}")
        cands += [list(p) for p in dict.fromkeys(itertools.permutations(words))]
    if not cands:
        raise ConfigError("nothing to score: give FILE, -s SENTENCE or --permute WORDS")
    joiner = split.joiner
    scores = model.score_sentences(cands)
    rows = [(float(s), joiner.join(c)) for s, c in zip(scores, cands)]
    if args.rank:
        rows.sort(key=lambda r: -r[0])
        if args.top > 0:
            rows = rows[:args.top]
    if args.json:
        print_json({"model": args.model, "ranked": bool(args.rank),
                    "sentences": [{"text": t, "log10_prob": s} for s, t in rows]})
    else:
        for s, t in rows:
            print(f"{s:.4f}\t{t}")
    return 0


def _generate(args) -> int:
    from .common import print_json

    model = _load(args.model)
    split = _model_text(args, model).get_tokenizer()
    out = model.generate(args.n, max_words=args.max_words, seed=args.seed,
                         prefix=split(args.prefix))
    joiner = split.joiner
    texts = [joiner.join(s) for s in out]
    if args.json:
        print_json({"model": args.model, "seed": args.seed, "sentences": texts})
    else:
        print("\n".join(texts))
    return 0
