"""Intrinsic evaluation: the Google analogy test and word-pair similarity (Spearman).

Both follow gensim 4.4's ``KeyedVectors.evaluate_word_analogies`` and ``evaluate_word_pairs``
rule for rule, so that figures compare with gensim's (the tests load our vectors into gensim and
check the numbers agree):

Analogies (file: ``: section`` header lines, then ``a b c d`` lines meaning a:b :: c:d; CRLF
line ends, as in the Chinese CA8 and CA_translated sets, are read as LF):
  * only the ``restrict_vocab`` most frequent words count (30,000 by default); a question with
    any of its four words outside them is skipped and counted in ``oov`` — it is *not* wrong;
  * comparison is case-insensitive by upper-casing, and a word's upper-cased form maps to its
    most frequent spelling;
  * the answer is the top-5 3CosAdd neighbours (query words excluded by index), the first one
    whose upper-cased form is none of a, b, c; it is right if it equals d;
  * a line that does not have four words is skipped; a question before any header is an error.

Word pairs (file: ``word1<TAB>word2<TAB>score`` lines, ``#`` comments; or space-separated
``word1 word2 score ...`` lines, COS960's layout, whose extra columns are ignored; gensim reads
only the first): pairs with a word
outside the top ``restrict_vocab`` (300,000) are skipped and reported as the OOV ratio (%);
the score is Spearman's rank correlation (average ranks for ties) of model cosine vs human.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ...data.textfile import iter_lines
from ...errors import DataError
from .vectors import WordVectors


@dataclass
class AnalogyResult:
    accuracy: float                                   # correct / (correct + incorrect)
    correct: int
    total: int                                        # questions answered (in vocabulary)
    questions: int                                    # well-formed questions in the file
    oov: int                                          # skipped: a word outside restrict_vocab
    sections: list[dict] = field(default_factory=list)

    @property
    def oov_ratio(self) -> float:
        return 100.0 * self.oov / max(self.questions, 1)

    def by_kind(self) -> dict[str, float]:
        """Semantic (sections not starting 'gram') and syntactic ('gram*') accuracy."""
        out = {}
        for kind, test in (("semantic", lambda s: not s.startswith("gram")),
                           ("syntactic", lambda s: s.startswith("gram"))):
            c = sum(s["correct"] for s in self.sections if test(s["section"]))
            t = sum(s["total"] for s in self.sections if test(s["section"]))
            out[kind] = c / t if t else 0.0
        return out


@dataclass
class PairsResult:
    spearman: float
    pearson: float
    pairs: int            # pairs scored
    oov: int              # pairs skipped
    oov_ratio: float      # percent of pairs skipped


def _ok_vocab(wv: WordVectors, restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    keys = wv.words[:restrict_vocab]
    norm = str.upper if case_insensitive else (lambda s: s)
    # reversed: the most frequent spelling of an upper-cased form wins (gensim)
    return {norm(k): i for i, k in reversed(list(enumerate(keys)))}


def evaluate_analogies(wv: WordVectors, path: str | os.PathLike, *, restrict_vocab: int = 30000,
                       case_insensitive: bool = True, method: str = "add",
                       batch: int = 256) -> AnalogyResult:
    """Google-analogy accuracy with gensim's conventions (see module doc)."""
    if method not in ("add", "mul"):
        raise DataError(f"method must be 'add' or 'mul', got {method!r}")
    ok = _ok_vocab(wv, restrict_vocab, case_insensitive)
    norm = str.upper if case_insensitive else (lambda s: s)
    sections: list[dict] = []
    qs: list[tuple[int, int, int, str, frozenset, int]] = []   # ia, ib, ic, expected, ignore, section
    questions = oov = 0
    for line_no, line in enumerate(iter_lines(path), 1):
        if line.startswith(": "):
            sections.append({"section": line[2:].strip(), "correct": 0, "total": 0})
            continue
        if not sections:
            if not line.strip():
                continue
            raise DataError(f"{path}: line {line_no}: question before any ': section' header")
        parts = [norm(w) for w in line.split()]
        if len(parts) != 4:
            continue                                           # gensim skips invalid lines
        questions += 1
        a, b, c, d = parts
        if a not in ok or b not in ok or c not in ok or d not in ok:
            oov += 1
            continue
        qs.append((ok[a], ok[b], ok[c], d, frozenset((a, b, c)), len(sections) - 1))
    if not sections:
        raise DataError(f"{path}: no ': section' header; is this an analogy file?")

    R = min(restrict_vocab, len(wv))
    U = wv.unit[:R]                                            # (R, D)
    for start in range(0, len(qs), batch):
        part = qs[start:start + batch]
        ia = np.array([q[0] for q in part]); ib = np.array([q[1] for q in part])
        ic = np.array([q[2] for q in part])
        if method == "add":
            M = wv.unit[ib] + wv.unit[ic] - wv.unit[ia]        # (B, D), mean of +-unit vectors
            M /= np.maximum(np.linalg.norm(M, axis=1, keepdims=True), 1e-12)
            S = U @ M.T                                        # (R, B) cosine scores
        else:
            cos = lambda idx: (1 + U @ wv.unit[idx].T) / 2     # (R, B) in [0, 1]
            S = cos(ib) * cos(ic) / (cos(ia) + 1e-6)
        k = min(8, R)                                          # topn 5 + 3 query words
        top = np.argpartition(-S, k - 1, axis=0)[:k] if k < R else np.tile(np.arange(R)[:, None], (1, S.shape[1]))
        for col, q in enumerate(part):
            cand = top[:, col][np.argsort(-S[top[:, col], col], kind="stable")]
            cand = [i for i in cand if i not in (q[0], q[1], q[2])][:5]
            predicted = None
            for i in cand:
                predicted = norm(wv.words[i])
                if predicted in ok and predicted not in q[4]:
                    break
            sec = sections[q[5]]
            sec["total"] += 1
            sec["correct"] += int(predicted == q[3])
    correct = sum(s["correct"] for s in sections)
    total = sum(s["total"] for s in sections)
    for s in sections:
        s["accuracy"] = s["correct"] / s["total"] if s["total"] else 0.0
    return AnalogyResult(correct / total if total else 0.0, correct, total, questions, oov, sections)


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (as scipy.stats.rankdata)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    ranks = np.empty(len(x), np.float64)
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def pearson(x, y) -> float:
    x = np.asarray(x, np.float64) - np.mean(x)
    y = np.asarray(y, np.float64) - np.mean(y)
    d = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / d) if d > 0 else float("nan")


def spearman(x, y) -> float:
    """Spearman's rho: Pearson correlation of the (average-tie) ranks."""
    return pearson(rankdata(x), rankdata(y))


def _pair_fields(line: str, delimiter: str | None) -> list[str] | None:
    """``[word1, word2, score]`` of a word-pair line, or None for a line to skip.

    ``delimiter`` given (gensim's ``"\\t"``): exactly three fields. None: the file's own layout,
    told line by line: a tab-separated line is read as gensim reads it; a line without tabs
    is split on whitespace and its first three fields taken, so COS960's ``word1 word2 mean
    a1 ... a15`` (the mean, then its 15 annotators' scores) reads as (word1, word2, mean)."""
    if delimiter is None:
        if "\t" in line:
            delimiter = "\t"
        else:
            parts = line.split()
            return parts[:3] if len(parts) >= 3 else None
    parts = line.split(delimiter)
    return parts if len(parts) == 3 else None


def evaluate_word_pairs(wv: WordVectors, path: str | os.PathLike, *, restrict_vocab: int = 300000,
                        case_insensitive: bool = True, delimiter: str | None = None) -> PairsResult:
    """WordSim-353 / SimLex-999 (``word1<TAB>word2<TAB>score``) or COS960 (``word1 word2 score
    ...``, space-separated, extra columns ignored) evaluation with gensim's conventions (see
    module doc; ``delimiter=None`` tells the layout per line, :func:`_pair_fields`)."""
    ok = _ok_vocab(wv, restrict_vocab, case_insensitive)
    norm = str.upper if case_insensitive else (lambda s: s)
    gold, model = [], []
    oov = 0
    for line in iter_lines(path):
        if not line or line.startswith("#"):
            continue
        parts = _pair_fields(line, delimiter)
        if parts is None:
            continue                                            # gensim skips invalid lines
        try:
            sim = float(parts[2])
        except ValueError:
            continue
        a, b = norm(parts[0]), norm(parts[1])
        if a not in ok or b not in ok:
            oov += 1
            continue
        gold.append(sim)
        model.append(float(np.dot(wv.unit[ok[a]], wv.unit[ok[b]])))
    if not gold:
        raise DataError(f"{path}: no word pair could be scored (is it word1<TAB>word2<TAB>score "
                        f"or word1 word2 score ..., and are the words in the vocabulary?)")
    return PairsResult(spearman(gold, model), pearson(gold, model), len(gold), oov,
                       100.0 * oov / (len(gold) + oov))
