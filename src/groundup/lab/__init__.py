"""The lab: one module per experiment, each making an article's claim visible.

An experiment module defines ``NAME``, ``TITLE``, ``CLAIM`` (the article's claim in one
sentence) and ``run(out: Path, *, full: bool, seed: int) -> Result``; it is listed in
:mod:`groundup.lab.registry`. ``groundup lab`` runs them and :mod:`groundup.lab.report` writes
``report.html``, ``results.json`` and ``summary.md``.
"""
from .base import Result, Table

__all__ = ["Result", "Table"]
