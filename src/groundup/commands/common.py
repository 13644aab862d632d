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
