"""The lab: one module per experiment, each making an article's claim visible.

An experiment module defines ``NAME``, ``TITLE``, ``CLAIM`` (the article's claim in one
sentence) and ``run(out: Path, *, full: bool, seed: int) -> Result``; it is listed in
:mod:`groundup.lab.registry`. The Result says whether the claim held (``held``: True, False or
None for inconclusive) and by which rule (``criterion``, written in the module before the run),
and captions each figure (``Plot(file, caption)``: what it shows and what to look for).
``groundup lab`` runs them and :mod:`groundup.lab.report` writes ``report.html`` (verdict badges,
readable on a phone), ``results.json`` and ``summary.md``. With ``--lang zh`` the report is in
Chinese: titles and claims come from :mod:`groundup.lab.catalogue`, and the Chinese text
experiments (whose ``run`` takes ``lang``) write all their words from it.
"""
from .base import Plot, Result, Table

__all__ = ["Plot", "Result", "Table"]
