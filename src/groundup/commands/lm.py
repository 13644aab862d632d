"""`groundup lm train|eval|generate|plot|convert`: word-level language models on the shared engine.

    groundup lm train --model lstm --data ptb --preset ptb-small [--epochs 1 ...] --out DIR
    groundup lm train --tokenizer char --max-vocab 20000 --min-count 2 --train FILE --valid FILE \
                      [--test FILE] --out DIR                        # your own text
    groundup lm eval DIR/best.pt --data ptb --json
    groundup lm generate DIR/best.pt --tokens 50 --temperature 0.8
    groundup lm plot DIR
    groundup lm convert OLD.pt NEW.pt

Every field of :class:`groundup.train.config.LMConfig`, of its :class:`DataConfig` and of the
chosen family's model config is an option (``--hidden-size 650``), generated from the dataclass
fields with their help text; ``--help`` lists each family's options under its name. Options
override ``--config FILE`` which overrides ``--preset``. Under ``torchrun`` the same command
trains with DistributedDataParallel.
"""
from __future__ import annotations

import argparse
import os
import sys


def register(sub) -> None:
    p = sub.add_parser("lm", help="train, evaluate and sample word-level language models",
                       description="Word-level language models (RNN, LSTM, GRU) trained with "
                                   "groundup's shared engine.")
    lm = p.add_subparsers(dest="lm_command", metavar="SUBCOMMAND")

    t = lm.add_parser("train", help="train a model into --out DIR (resumes if DIR has a checkpoint)",
                      formatter_class=argparse.RawDescriptionHelpFormatter,
                      epilog=_family_help())
    t.add_argument("--preset", default=None, help="ptb-small, ptb-medium or quick")
    t.add_argument("--config", default=None, metavar="FILE", help="TOML or JSON config file")
    t.add_argument("--out", required=True, metavar="DIR",
                   help="the run folder (created, with missing parents)")
    t.add_argument("--force", action="store_true",
                   help="start afresh in a folder that holds another run's files")
    t.add_argument("--json", action="store_true", help="print final.json on stdout")
    _add_config_options(t)
    t.set_defaults(func=_train)

    e = lm.add_parser("eval", help="perplexity of a checkpoint on valid and test")
    e.add_argument("checkpoint", help="a best.pt / checkpoint.pt, or the run folder")
    e.add_argument("--data", default=None, help="ptb, wikitext2 or a folder (default: the training data)")
    e.add_argument("--eval-tokens", type=int, default=None, help="use only the first N tokens")
    e.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    e.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    _text_options(e)
    e.set_defaults(func=_eval)

    g = lm.add_parser("generate", help="sample text from a checkpoint")
    g.add_argument("checkpoint", help="a best.pt / checkpoint.pt, or the run folder")
    g.add_argument("--tokens", type=int, default=50, help="tokens to sample (default 50)")
    g.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (default 1)")
    g.add_argument("--prompt", default="", help="text to continue (tokenized the model's way)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    g.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    _text_options(g)
    g.set_defaults(func=_generate)

    pl = lm.add_parser("plot", help="draw DIR/metrics.jsonl to DIR/curves.png")
    pl.add_argument("run_dir", metavar="DIR", help="a run folder with metrics.jsonl")
    pl.add_argument("--out", default=None, help="PNG path, or JPEG if it ends in .jpg "
                                                "(default DIR/curves.png; its folder must exist)")
    pl.add_argument("--force", action="store_true", help="replace an existing file that is not an image")
    pl.set_defaults(func=_plot)

    cv = lm.add_parser("convert", help="rewrite a best.pt / checkpoint.pt of an older groundup "
                                       "in the current format")
    cv.add_argument("old", metavar="OLD", help="the file to read (left unchanged)")
    cv.add_argument("new", metavar="NEW", help="the file to write (must not exist)")
    cv.set_defaults(func=_convert)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _text_options(parser: argparse.ArgumentParser) -> None:
    """The text options, to check against the model's (the default is the model's own)."""
    from ..data.pipeline import TextOptions
    from .common import add_config_options

    add_config_options(parser, TextOptions)
    parser.epilog = "The text options default to the model's own; another value is an error."


def _given_text(args) -> dict:
    from ..data.pipeline import TextOptions
    from .common import config_overrides

    return config_overrides(args, TextOptions)


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """The run's, the data's and every family's options, generated from the dataclass fields
    (:func:`groundup.commands.common.add_config_options`); a family's options are parsed once
    each (several families share a name) and listed per family in the epilog."""
    import dataclasses

    from ..train.config import DataConfig, LMConfig, model_option_names
    from ..train.families import FAMILIES
    from .common import add_config_options

    add_config_options(parser.add_argument_group("run options"), LMConfig, skip=("model", "data"))
    data = parser.add_argument_group("data options")
    corpus = next(f for f in dataclasses.fields(DataConfig) if f.name == "corpus")
    data.add_argument("--data", "--corpus", dest="corpus", default=argparse.SUPPRESS, metavar="NAME",
                      help=f"{corpus.metadata['help']} [default: {corpus.default}]")
    add_config_options(data, DataConfig, skip=("corpus",))
    model = parser.add_argument_group("model", "--model NAME chooses the family; the options "
                                               "of each family are listed below")
    model.add_argument("--model", dest="model", default=argparse.SUPPRESS, metavar="NAME",
                       help=f"one of {', '.join(sorted(FAMILIES))} [default: lstm]")
    for name in sorted(model_option_names()):
        bools = {f.type in (bool, "bool") for fam in FAMILIES.values()
                 for f in dataclasses.fields(fam.config) if f.name == name}
        extra = dict(nargs="?", const="true") if True in bools else {}
        parser.add_argument("--" + name.replace("_", "-"), dest=name, default=argparse.SUPPRESS,
                            help=argparse.SUPPRESS, **extra)


def _family_help() -> str:
    """Each family's options under its name, formatted by argparse from the config fields."""
    import dataclasses

    from ..train.families import FAMILIES
    from .common import add_config_options

    shown: dict[type, list[str]] = {}
    for name, fam in FAMILIES.items():  # subclasses of one config (lstm, gru, ...) share a list
        base = next(c for c in reversed(fam.config.__mro__) if dataclasses.is_dataclass(c))
        shown.setdefault(base, []).append(name)
    parts = []
    for base, names in shown.items():
        p = argparse.ArgumentParser(add_help=False, usage=argparse.SUPPRESS)
        g = p.add_argument_group(f"--model {' | '.join(names)}",
                                 " ".join((base.__doc__ or "").split("\n\n")[0].split()))
        add_config_options(g, base)
        parts.append(p.format_help().strip("\n"))
    return "model families (an option a family does not have is an error):\n\n" + "\n\n".join(parts)


def _overrides(args) -> dict:
    from ..train.config import DATA_FIELDS, RUN_FIELDS, model_option_names

    names = RUN_FIELDS | DATA_FIELDS | model_option_names() | {"model"}
    return {k: v for k, v in vars(args).items() if k in names}


def _train(args) -> int:
    from ..train.config import make_config
    from ..train.engine import train
    from .common import print_json

    cfg = make_config(args.preset, args.config, _overrides(args))
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, rank 0 holds the folder
        from ..io import check_output_folder
        from ..train.engine import BEST, CHECKPOINT, FINAL, METRICS

        check_output_folder(args.out, owned=(METRICS, BEST, FINAL), unless=CHECKPOINT, force=args.force)
    final = train(cfg, args.out)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 speaks for the run
        return 0
    if args.json:
        print_json({k: v for k, v in final.items() if k != "history"})
    else:
        print(f"valid perplexity {final['valid_perplexity']:.2f}{_test_ppl(final)} "
              f"after {final['epochs']} epochs "
              f"({final['tokens_per_second']:.0f} tokens/s); {args.out}/final.json")
    return 0


def _test_ppl(res: dict) -> str:
    t = res.get("test_perplexity")
    return "" if t is None else f", test perplexity {t:.2f}"


def _eval(args) -> int:
    from ..train.engine import evaluate_checkpoint
    from .common import print_json

    res = evaluate_checkpoint(args.checkpoint, args.data, device=args.device,
                              eval_tokens=args.eval_tokens, text=_given_text(args))
    if args.json:
        print_json(res)
    else:
        print(f"valid perplexity {res['valid_perplexity']:.2f}{_test_ppl(res)}")
    return 0


def _generate(args) -> int:
    from ..train.engine import generate
    from .common import print_json

    text = generate(args.checkpoint, args.tokens, temperature=args.temperature, seed=args.seed,
                    prompt=args.prompt, device=args.device, text=_given_text(args))
    if args.json:
        print_json({"text": text, "tokens": args.tokens, "temperature": args.temperature})
    else:
        print(text)
    return 0


def _plot(args) -> int:
    from ..io import check_output
    from ..train.plot import plot_run

    if os.path.isdir(args.run_dir):  # else plot_run says what is missing
        check_output(args.out or os.path.join(args.run_dir, "curves.png"), kind="image", option="--out",
                     inputs=[os.path.join(args.run_dir, "metrics.jsonl")], force=args.force)
    path = plot_run(args.run_dir, args.out)
    print(path)
    return 0


def _convert(args) -> int:
    from ..io import check_output
    from ..train.convert import convert_file

    if not os.path.exists(args.new):  # convert_file refuses an existing NEW by name
        check_output(args.new, inputs=[args.old], option="NEW")
    print(convert_file(args.old, args.new))
    return 0
