"""Scoring a word segmentation against gold: word-boundary precision, recall and F1.

The standard SIGHAN bakeoff scoring (Sproat & Emerson 2003, the ``score`` script): a word is a
span (start, end) of character offsets in the sentence with its whitespace removed; a
predicted word is correct when the gold segmentation has exactly that span.

    P = |pred ∩ gold| / |pred|        R = |pred ∩ gold| / |gold|        F1 = 2PR / (P + R)

summed over all sentences before dividing (micro-average), as the bakeoff does. Gold
``这样 的 处理`` vs predicted ``这样的 处理``: gold spans {(0,2), (2,3), (3,5)}, predicted
{(0,3), (3,5)}, one in common: P = 1/2, R = 1/3, F1 = 0.4.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence


@dataclass(frozen=True)
class SegmentationScore:
    """Counts and the three ratios (0 where a denominator is 0)."""

    correct: int
    predicted: int
    gold: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "correct": self.correct, "predicted": self.predicted, "gold": self.gold}


def word_spans(words: Sequence[str]) -> set[tuple[int, int]]:
    """{(start, end)} of each word over the sentence's characters, whitespace removed."""
    spans, i = set(), 0
    for w in words:
        n = len("".join(w.split()))
        if n:
            spans.add((i, i + n))
            i += n
    return spans


def score(gold: Iterable[Sequence[str]], predicted: Iterable[Sequence[str]]) -> SegmentationScore:
    """Micro-averaged span P/R/F1 of predicted word lists against gold ones, sentence by
    sentence; a pair whose characters differ (not the same sentence) is a ValueError."""
    correct = n_pred = n_gold = 0
    for k, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        gs, ps = "".join("".join(g).split()), "".join("".join(p).split())
        if gs != ps:
            raise ValueError(f"sentence {k}: the segmentations cover different text "
                             f"({gs[:30]!r} vs {ps[:30]!r})")
        G, P = word_spans(g), word_spans(p)
        correct += len(G & P)
        n_gold += len(G)
        n_pred += len(P)
    return SegmentationScore(correct, n_pred, n_gold)


def evaluate(segment: Callable[[str], Sequence[str]], sentences) -> SegmentationScore:
    """Score ``segment`` (line -> words) on gold sentences (``.text`` and ``.words``, e.g.
    :func:`groundup.data.conllu.read_conllu`'s)."""
    sentences = list(sentences)
    return score([s.words for s in sentences], [segment(s.text) for s in sentences])
