"""`groundup word2vec train|evaluate|similar|analogy|export`: word vectors from the shell.

    groundup word2vec train CORPUS --arch sg|cbow --loss ns|hs --dim D --window W --negative K
                                   --sample S --min-count M --epochs E --threads T -o VECTORS.bin
                                   [--checkpoint-every SECONDS]   (a killed run: the same command resumes)
    groundup word2vec evaluate VECTORS --analogies FILE --similarity FILE [--json]
    groundup word2vec similar VECTORS WORD [WORD ...] [--minus WORD] [--topn N]
    groundup word2vec analogy VECTORS A B C [--method add|mul]      (A : B :: C : ?)
    groundup word2vec export VECTORS -o OUT.txt|OUT.bin

CORPUS is a text file or a folder of text files, one sentence per line (any line length).
Vectors are in word2vec C format: binary, or text when the name ends in ``.txt``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..text.word2vec.train import Word2VecConfig
from .common import add_config_options, config_overrides, print_json


def register(sub) -> None:
    p = sub.add_parser("word2vec", help="train and query word vectors (skip-gram / CBOW)",
                       description="Word2Vec (Mikolov et al. 2013): skip-gram and CBOW with negative "
                                   "sampling or hierarchical softmax, word2vec.c's recipe.")
    s = p.add_subparsers(dest="w2v_command", metavar="SUBCOMMAND")

    t = s.add_parser("train", help="train vectors on a corpus",
                     description="Train word vectors. Defaults are gensim 4.4's (and word2vec.c's SG "
                                 "ones); every option is a field of Word2VecConfig.")
    t.add_argument("corpus", metavar="CORPUS", help="text file, folder of text files, or - (stdin "
                                                    "cannot be used: word2vec reads the text twice)")
    t.add_argument("-o", "--output", required=True, metavar="VECTORS",
                   help="output vectors: word2vec C binary, or text if it ends in .txt "
                        "(its folder must exist)")
    t.add_argument("--force", action="store_true", help="replace an existing file that is not vectors")
    t.add_argument("--preset", default="sg-ns", help="starting config (sg-ns, cbow-ns, sg-hs, word2vec-c-demo)")
    t.add_argument("--config", metavar="FILE", help="TOML/JSON file of config overrides")
    t.add_argument("--checkpoint-every", type=float, metavar="SECONDS",
                   help="save the training state (vectors, learning-rate position, random state) to "
                        "VECTORS.ckpt at the first job boundary (~10,000 words) after every SECONDS of "
                        "training; 0: after every job. Whenever VECTORS.ckpt exists, the same command "
                        "continues from it (bit-identical to an uninterrupted run with one thread or "
                        "--deterministic); it is removed once the vectors are written")
    t.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_config_options(t, Word2VecConfig)
    t.set_defaults(func=_train)

    e = s.add_parser("evaluate", help="analogy accuracy and word-pair Spearman",
                     description="Google-analogy accuracy (gensim's restrict_vocab convention; "
                                 "Chinese CA8 files as they are) and word-pair similarity Spearman "
                                 "(WordSim-353 / SimLex-999 / COS960 formats).")
    e.add_argument("vectors", metavar="VECTORS", help="word2vec C vectors (binary or .txt)")
    e.add_argument("--analogies", action="append", default=[], metavar="FILE",
                   help="questions-words.txt format: ': section' lines, then 'a b c d' (CA8 and "
                        "CA_translated too; repeatable)")
    e.add_argument("--similarity", action="append", default=[], metavar="FILE",
                   help="word1<TAB>word2<TAB>score lines (WordSim-353, SimLex-999), or "
                        "space-separated 'word1 word2 score ...' (COS960; repeatable)")
    e.add_argument("--restrict-vocab", type=int, default=30000, help="analogies: top-N words (30000)")
    e.add_argument("--method", choices=["add", "mul"], default="add", help="3CosAdd or 3CosMul")
    e.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    e.set_defaults(func=_evaluate)

    q = s.add_parser("similar", help="nearest neighbours of words (+) minus words (-)")
    q.add_argument("vectors", metavar="VECTORS", help="word2vec C vectors (binary or .txt)")
    q.add_argument("words", nargs="+", metavar="WORD", help="words whose vectors are added")
    q.add_argument("--minus", action="append", default=[], metavar="WORD",
                   help="a word whose vector is subtracted (repeatable)")
    q.add_argument("--topn", type=int, default=10, help="neighbours to show (default 10)")
    q.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    q.set_defaults(func=_similar)

    a = s.add_parser("analogy", help="A : B :: C : ?")
    a.add_argument("vectors", metavar="VECTORS", help="word2vec C vectors (binary or .txt)")
    for name in "abc":
        a.add_argument(name, help=f"word {name.upper()} of A : B :: C : ?")
    a.add_argument("--method", choices=["add", "mul"], default="add", help="3CosAdd or 3CosMul (default add)")
    a.add_argument("--topn", type=int, default=5, help="answers to show (default 5)")
    a.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a.set_defaults(func=_analogy)

    x = s.add_parser("export", help="convert between the text and binary formats")
    x.add_argument("vectors", metavar="VECTORS", help="word2vec C vectors (binary or .txt)")
    x.add_argument("-o", "--output", required=True, metavar="OUT",
                   help=".txt for text, else binary (its folder must exist)")
    x.add_argument("--force", action="store_true", help="replace an existing file that is not vectors")
    x.set_defaults(func=_export)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _train(args) -> int:
    from ..config import apply_overrides, load_config_file
    from ..errors import ConfigError
    from ..io import check_output
    from ..text.word2vec import PRESETS, train
    from ..text.word2vec.checkpoint import Checkpointing
    from ..text.word2vec.formats import save_word2vec
    from ..text.word2vec.vocab import read_sentences

    check_output(args.output, inputs=[args.corpus, args.config], kind="word2vec", force=args.force)
    if args.preset not in PRESETS:
        raise ConfigError(f"unknown preset {args.preset!r} (known: {', '.join(PRESETS)})")
    cfg = PRESETS[args.preset]
    if args.config:
        cfg = apply_overrides(cfg, load_config_file(args.config))
    over = config_overrides(args, Word2VecConfig)
    if over.get("loss") == "hs" and "negative" not in over:
        over["negative"] = 0
    cfg = apply_overrides(cfg, over)
    out = Path(args.output)
    ckpt = Checkpointing(out.with_name(out.name + ".ckpt"), args.checkpoint_every)
    corpus = read_sentences(args.corpus, cfg)
    log = lambda m: print(m, file=sys.stderr)
    model = train(corpus, cfg, log=log, checkpoint=ckpt)
    save_word2vec(args.output, model.wv, text=cfg.text_options())
    ckpt.path.unlink(missing_ok=True)   # the run is complete: nothing left to resume
    st = model.stats
    summary = {"output": args.output, "config": cfg, **{k: st[k] for k in (
        "vocab_size", "corpus_tokens", "effective_words", "train_seconds", "effective_words_per_s",
        "epoch_loss")}}
    if args.json:
        print_json(summary)
    else:
        print(f"{st['vocab_size']:,} words x {cfg.dim} -> {args.output} "
              f"({st['train_seconds']:.1f} s, {st['effective_words_per_s']:,.0f} effective words/s)")
    return 0


def _load(path):
    from ..text.word2vec.formats import load_word2vec

    return load_word2vec(path)


def _evaluate(args) -> int:
    from ..errors import ConfigError
    from ..text.word2vec.evaluate import evaluate_analogies, evaluate_word_pairs

    if not args.analogies and not args.similarity:
        raise ConfigError("give --analogies FILE and/or --similarity FILE")
    wv = _load(args.vectors)
    out = {"vectors": args.vectors, "vocab_size": len(wv), "analogies": {}, "similarity": {}}
    for f in args.analogies:
        r = evaluate_analogies(wv, f, restrict_vocab=args.restrict_vocab, method=args.method)
        out["analogies"][f] = {"accuracy": r.accuracy, "correct": r.correct, "answered": r.total,
                               "questions": r.questions, "oov_ratio": r.oov_ratio, **r.by_kind(),
                               "sections": r.sections}
    for f in args.similarity:
        r = evaluate_word_pairs(wv, f)
        out["similarity"][f] = {"spearman": r.spearman, "pearson": r.pearson, "pairs": r.pairs,
                                "oov_ratio": r.oov_ratio}
    if args.json:
        print_json(out)
        return 0
    for f, r in out["analogies"].items():
        google = any(s["section"].startswith("gram") for s in r["sections"])   # its two kinds
        kinds = f"semantic {r['semantic']:.4f}, syntactic {r['syntactic']:.4f}; " if google else ""
        print(f"{f}: analogy accuracy {r['accuracy']:.4f} ({r['correct']}/{r['answered']}; {kinds}"
              f"{r['oov_ratio']:.1f}% of questions outside the top {args.restrict_vocab})")
        for s in r["sections"]:
            print(f"  {s['section']:30s} {s['accuracy']:.4f}  ({s['correct']}/{s['total']})")
    for f, r in out["similarity"].items():
        print(f"{f}: Spearman {r['spearman']:.4f} on {r['pairs']} pairs ({r['oov_ratio']:.1f}% OOV)")
    return 0


def _print_pairs(pairs, as_json, key="neighbours") -> None:
    if as_json:
        print_json({key: [{"word": w, "score": s} for w, s in pairs]})
    else:
        for w, s in pairs:
            print(f"{s:.4f}  {w}")


def _similar(args) -> int:
    wv = _load(args.vectors)
    _check_words(wv, args.words + args.minus)
    _print_pairs(wv.most_similar(args.words, args.minus, topn=args.topn), args.json)
    return 0


def _analogy(args) -> int:
    wv = _load(args.vectors)
    _check_words(wv, [args.a, args.b, args.c])
    _print_pairs(wv.analogy(args.a, args.b, args.c, topn=args.topn, method=args.method), args.json,
                 key="answers")
    return 0


def _check_words(wv, words) -> None:
    from ..errors import DataError

    missing = [w for w in words if w not in wv]
    if missing:
        raise DataError(f"not in the vocabulary: {', '.join(missing)}")


def _export(args) -> int:
    from ..io import check_output
    from ..text.word2vec.formats import save_word2vec

    check_output(args.output, inputs=[args.vectors], kind="word2vec", force=args.force)
    wv = _load(args.vectors)
    save_word2vec(args.output, wv)
    print(f"{len(wv):,} vectors -> {args.output}", file=sys.stderr)
    return 0
