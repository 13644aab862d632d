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
class Result:
    """What one experiment found.

    ``summary`` holds the key figures (flat, JSON-friendly) that ``results.json`` exposes;
    ``plots`` are file names relative to the experiment's output folder; ``verdict`` says in one
    sentence whether the article's claim held in this run.
    """

    name: str
    title: str
    claim: str = ""
    verdict: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    mode: str = "quick"
    ok: bool = True
    error: str = ""
