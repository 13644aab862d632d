"""The ``groundup`` command: parse, call one library function, print, map errors to one line.

Each area registers its subcommands from a module in ``groundup.commands`` that defines
``register(subparsers)``; a subcommand sets ``func`` (taking the parsed args, returning an exit
code). Modules are imported only when listed here, and they import heavy libraries lazily inside
their functions so that ``groundup --help`` stays fast.
"""
from __future__ import annotations

import argparse
import errno
import gc
import importlib
import os
import sys
import warnings

from . import __version__
from .errors import GroundupError, GroundupWarning
from .io import held_locks, release_locks

# One line per area. Each module defines register(subparsers).
COMMAND_MODULES = [
    "groundup.commands.lab",
    "groundup.commands.data",
    "groundup.commands.ngram",
    "groundup.commands.word2vec",
    "groundup.commands.lm",
    "groundup.commands.rf",
    "groundup.commands.segment",
]


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line and exit 2, like every other error (subparsers inherit this)."""

    def error(self, message: str):
        print(f"groundup: error: {self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of ``command`` when its module is named
    ``groundup.commands.COMMAND`` (a run imports only its own area: ``ngram build`` does not
    pay for word2vec's compiled kernels or torch's model configs)."""
    parser = _Parser(
        prog="groundup",
        description="Classic deep-learning and NLP building blocks, from the equations.")
    parser.add_argument("--version", action="version", version=f"groundup {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    own = f"groundup.commands.{command}"
    for name in [own] if own in COMMAND_MODULES else COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # that area is not built yet
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    mark = held_locks()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", GroundupWarning)   # each run says it again
            warnings.showwarning = _show_warning
            return int(args.func(args) or 0)
    except GroundupError as e:
        print(f"groundup: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _forget_unhandled_interrupt()
        print("groundup: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # e.g. `groundup ... | head`: exit quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except MemoryError:
        print("groundup: error: out of memory", file=sys.stderr)
        return 2
    except OSError as e:
        # Files that vanish or cannot be written: one line, not a traceback. A write error
        # without a file name (an append to a log) names the command's output.
        name = getattr(e, "filename", None) or (
            e.errno in (errno.ENOSPC, errno.EDQUOT) and _output_of(args))
        where = f" {name}:" if name else ""
        print(f"groundup: error:{where} {e.strerror or e}", file=sys.stderr)
        return 2
    finally:
        release_locks(mark)  # the output locks the command took


def _forget_unhandled_interrupt() -> None:
    """Make a caught Ctrl-C exit with 130. CPython marks a KeyboardInterrupt that leaves code
    run from a string (``exec(str)``: dataclasses and namedtuples build their methods so, at
    import) as unhandled even when a caller catches it, and under ``python -m`` the process
    then ends by SIGINT instead of with the code it returns, depending on where the signal
    landed. The mark is cleared at the start of every string evaluation, so one that cannot
    fail clears it."""
    exec("pass", {})


def run() -> None:
    """The ``groundup`` command (its console script and ``python -m groundup``): :func:`main`,
    then the process's exit with the objects left frozen out of the interpreter's last garbage
    collections, which would walk them all only to free what the process's end frees anyway
    (0.15-0.3 s after an n-gram build: about a tenth of building 1M words). Files are closed
    by then and exit handlers still run. Not in :func:`main`, which tests call in-process."""
    code = main()
    gc.freeze()
    sys.exit(code)


_default_showwarning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A GroundupWarning is one line ``groundup: warning: ...``; others as Python shows them."""
    if issubclass(category, GroundupWarning):
        print(f"groundup: warning: {message}", file=sys.stderr)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


def _output_of(args) -> str | None:
    return next((str(v) for k in ("output", "out", "dest") if (v := getattr(args, k, None))), None)


if __name__ == "__main__":
    run()
