"""CoNLL-U, read for its word segmentation: the raw text and the word forms of each sentence.

Format (universaldependencies.org/format.html): sentences separated by blank lines; comment
lines start with ``#`` (``# text = ...`` holds the raw sentence); a word line has ten
tab-separated fields, FORM (the word) second. Two kinds of line are not words of the
segmentation and are skipped: multiword-token ranges (ID ``3-4``: the surface token, whose
parts follow as words) and empty nodes (ID ``5.1``: enhanced-graph nodes with no surface form).

The gold segmentation of UD_Chinese-GSDSimp is the FORM column: ``然而 ， 这样 的 处理 ...``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError


@dataclass(frozen=True)
class GoldSentence:
    """One sentence: its raw ``text`` (``# text =``, or the forms joined when absent) and its
    gold ``words`` (FORM of each word line, in order)."""

    sent_id: str
    text: str
    words: tuple[str, ...]


def read_conllu(path: str | Path) -> list[GoldSentence]:
    """Every sentence of a CoNLL-U file (DataError naming the line for a malformed one)."""
    from .textfile import iter_lines

    out: list[GoldSentence] = []
    sent_id, text, words = "", None, []

    def flush() -> None:
        nonlocal sent_id, text, words
        if words:
            out.append(GoldSentence(sent_id or str(len(out) + 1),
                                    text if text is not None else "".join(words), tuple(words)))
        sent_id, text, words = "", None, []

    for n, line in enumerate(iter_lines(path), start=1):
        if not line.strip():
            flush()
        elif line.startswith("#"):
            key, eq, value = line[1:].partition("=")
            if eq and key.strip() == "text":
                text = value.strip()
            elif eq and key.strip() == "sent_id":
                sent_id = value.strip()
        else:
            cols = line.split("\t")
            if len(cols) != 10:
                raise DataError(f"{path}: line {n}: a word line has 10 tab-separated fields, "
                                f"got {len(cols)}")
            if "-" in cols[0] or "." in cols[0]:  # multiword-token range, empty node
                continue
            if not cols[0].isdigit() or not cols[1]:
                raise DataError(f"{path}: line {n}: bad word ID {cols[0]!r} or empty FORM")
            words.append(cols[1])
    flush()
    if not out:
        raise DataError(f"{path}: no sentences")
    return out
