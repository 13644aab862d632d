"""Querying trained word vectors: similarity, nearest neighbours, analogies.

Notation: V words, D dimensions; ``vectors`` (V, D) float32 in vocabulary order (most frequent
first); ``unit`` (V, D) the rows scaled to length 1, computed once and cached.

* cosine similarity  cos(a, b) = a.b / (|a| |b|)
* 3CosAdd (Mikolov et al. 2013c, "Linguistic Regularities"): for a : b :: c : ?, the word d
  maximising cos(d, b - a + c); as gensim, the *unit* vectors of the query words are averaged
  with weights +1 (positive) / -1 (negative), then the mean is normalised.
* 3CosMul (Levy & Goldberg 2014, eq. 4): d maximising cos'(d,b) cos'(d,c) / (cos'(d,a) + eps)
  with cos' = (1 + cos) / 2 mapped into [0, 1] and eps = 1e-6 (gensim ``most_similar_cosmul``).

Query words are excluded from the answers. Everything is one matrix-vector product over V.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ...errors import ConfigError


class WordVectors:
    """Word vectors with a gensim-KeyedVectors-like query API."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None,
                 text=None):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ConfigError(f"need one vector row per word: {len(words)} words, vectors {vectors.shape}")
        self.words = list(words)
        self.vectors = vectors
        self.counts = counts
        self.text = text  # the TextOptions the vectors were trained with (None: not recorded)
        self.key_to_index = {w: i for i, w in enumerate(self.words)}
        if len(self.key_to_index) != len(self.words):
            raise ConfigError("duplicate words in the vocabulary")
        self._norms: np.ndarray | None = None
        self._unit: np.ndarray | None = None

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.key_to_index

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def index(self, word: str) -> int:
        try:
            return self.key_to_index[word]
        except KeyError:
            raise KeyError(f"word {word!r} not in vocabulary") from None

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.index(word)]

    @property
    def norms(self) -> np.ndarray:
        """(V,) float32 vector lengths (cached)."""
        if self._norms is None:
            self._norms = np.linalg.norm(self.vectors, axis=1).astype(np.float32)
        return self._norms

    @property
    def unit(self) -> np.ndarray:
        """(V, D) unit-length rows (cached); an all-zero row stays zero."""
        if self._unit is None:
            n = self.norms.copy()
            n[n == 0] = 1.0
            self._unit = (self.vectors / n[:, None]).astype(np.float32)
        return self._unit

    # ------------------------------------------------------------- similarity
    def similarity(self, a: str, b: str) -> float:
        return float(np.dot(self.unit[self.index(a)], self.unit[self.index(b)]))

    def _mean_unit(self, positive: Iterable, negative: Iterable) -> tuple[np.ndarray, list[int]]:
        terms = [(p, 1.0) for p in _as_list(positive)] + [(n, -1.0) for n in _as_list(negative)]
        if not terms:
            raise ConfigError("give at least one positive or negative word")
        mean = np.zeros(self.dim, np.float32)
        used = []
        for key, w in terms:
            if isinstance(key, str):
                i = self.index(key)
                used.append(i)
                mean += w * self.unit[i]
            else:
                mean += w * np.asarray(key, np.float32)
        mean /= len(terms)
        n = np.linalg.norm(mean)
        return (mean / n if n > 0 else mean).astype(np.float32), used

    def _top(self, scores: np.ndarray, topn: int, exclude: list[int]) -> list[tuple[str, float]]:
        k = min(topn + len(exclude), len(scores))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        ex = set(exclude)
        return [(self.words[i], float(scores[i])) for i in best if i not in ex][:topn]

    def most_similar(self, positive: Iterable = (), negative: Iterable = (), topn: int = 10,
                     restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """The ``topn`` words nearest (cosine) to mean(unit(positive)) - mean(unit(negative));
        3CosAdd when positive=[b, c], negative=[a]. Items may be words or raw vectors."""
        mean, used = self._mean_unit(positive, negative)
        return self.similar_by_vector(mean, topn, restrict_vocab, exclude=used)

    def similar_by_vector(self, vector: np.ndarray, topn: int = 10, restrict_vocab: int | None = None,
                          exclude: Sequence[int] = ()) -> list[tuple[str, float]]:
        """Nearest neighbours of a raw vector by cosine similarity."""
        v = np.asarray(vector, np.float32)
        if v.shape != (self.dim,):
            raise ConfigError(f"vector must have shape ({self.dim},), got {v.shape}")
        n = np.linalg.norm(v)
        v = v / n if n > 0 else v
        end = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        scores = self.unit[:end] @ v          # (end,)
        return self._top(scores, topn, [i for i in exclude if i < end])

    def most_similar_cosmul(self, positive: Iterable = (), negative: Iterable = (), topn: int = 10,
                            restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """3CosMul (Levy & Goldberg 2014): prod cos'(d, p) / (prod cos'(d, n) + 1e-6)."""
        pos, neg = _as_list(positive), _as_list(negative)
        if not pos:
            raise ConfigError("3CosMul needs at least one positive word")
        end = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        U = self.unit[:end]
        used = [self.index(w) for w in pos + neg]
        num = np.prod([(1 + U @ self.unit[self.index(w)]) / 2 for w in pos], axis=0)
        den = np.prod([(1 + U @ self.unit[self.index(w)]) / 2 for w in neg], axis=0) if neg else 1.0
        return self._top((num / (den + 1e-6)).astype(np.float32), topn, used)

    def analogy(self, a: str, b: str, c: str, topn: int = 1, method: str = "add",
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """a : b :: c : ?  (man : king :: woman : queen) by 3CosAdd or 3CosMul."""
        if method == "add":
            return self.most_similar([b, c], [a], topn, restrict_vocab)
        if method == "mul":
            return self.most_similar_cosmul([b, c], [a], topn, restrict_vocab)
        raise ConfigError(f"method must be 'add' or 'mul', got {method!r}")

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word farthest from the mean of the others' unit vectors (gensim's rule)."""
        ws = [w for w in words if w in self.key_to_index]
        if not ws:
            raise ConfigError("none of the words is in the vocabulary")
        U = self.unit[[self.index(w) for w in ws]]          # (n, D)
        mean = U.mean(axis=0)
        mean /= max(np.linalg.norm(mean), 1e-12)
        return ws[int(np.argmin(U @ mean))]


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (str, np.ndarray)):
        return [x]
    return list(x)
