"""Helpers shared by the CLI command modules."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..utils import dumps_json


def print_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout (progress and logs go to stderr)."""
    sys.stdout.write(dumps_json(obj) + "\n")
    sys.stdout.flush()


def input_file(path: str) -> Path:
    """Check that ``path`` is a readable, non-empty regular file; one clear error otherwise."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{path}: no such file")
    if p.is_dir():
        raise DataError(f"{path}: is a directory, expected a file")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    if size == 0:
        raise DataError(f"{path}: file is empty")
    return p


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def add_config_options(parser, cls, *, skip: tuple[str, ...] = ()) -> None:
    """One ``--field-name`` option per field of the dataclass ``cls`` (the one rule from config
    to CLI): help from the field's ``option(...)`` metadata, choices from it or from a
    ``Literal`` type, the default shown. Options default to "not given" (argparse.SUPPRESS),
    so :func:`config_overrides` returns only what the user typed: a preset or a config file
    supplies the rest. A bool is ``--flag`` (true) or ``--flag false``."""
    import argparse
    import dataclasses
    import typing

    from ..config import field_choices

    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init or f.name.startswith("_"):
            continue
        typ = hints[f.name]
        choices = field_choices(f, typ)
        default = f.default if f.default is not dataclasses.MISSING else None
        text = f.metadata.get("help", "")   # the choices are in the metavar
        text += f" [default: {default}]" if default not in (None, "") else ""
        flag = "--" + f.name.replace("_", "-")
        kw = dict(dest=f.name, default=argparse.SUPPRESS, help=text.strip())
        if typ is bool:
            parser.add_argument(flag, nargs="?", const="true", metavar="BOOL", **kw)
        else:
            parser.add_argument(flag, metavar=f.metadata.get("metavar") or (
                "{" + ",".join(map(str, choices)) + "}" if choices else f.name.upper()), **kw)


def config_overrides(args, cls) -> dict[str, Any]:
    """The fields of ``cls`` the user gave on the command line (see :func:`add_config_options`)."""
    import dataclasses

    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
