"""The result an experiment returns, rendered by :mod:`groundup.lab.report`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class Plot:
    """A figure file (relative to the experiment's output folder) and its caption: what it
    shows and what to look for."""

    file: str
    caption: str = ""


@dataclass
class Result:
    """What one experiment found.

    ``summary`` holds the key figures (flat, JSON-friendly) that ``results.json`` exposes;
    ``plots`` are :class:`Plot` entries (a bare file name is accepted and gets no caption);
    ``verdict`` says in one sentence whether the article's claim held in this run; ``held`` is
    that judgement as data (True, False, or None for inconclusive), decided by ``criterion``, the
    rule written in the experiment's code before the run.
    """

    name: str
    title: str
    claim: str = ""
    verdict: str = ""
    held: bool | None = None
    criterion: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    plots: list[Plot | str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    mode: str = "quick"
    ok: bool = True
    error: str = ""
