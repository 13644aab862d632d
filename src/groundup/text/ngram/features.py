"""N-grams as features: every n-gram seen at least ``min_count`` times becomes one column.

Notation: D documents, F features, k an order in ``orders``.

The article's use of n-grams beyond language modelling: a text is represented by how often each
frequent n-gram occurs in it (a bag of n-grams; Cavnar & Trenkle 1994 use the same idea for text
categorisation). Rare n-grams are dropped because they carry little evidence and blow up F.

``fit`` counts with :mod:`.counts` (the same integer trie), ``transform`` finds the id of the
k-gram ending at every position by binary search, one order at a time, and accumulates the
(document, feature) pairs with one ``bincount``.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ...errors import ConfigError
from .corpus import BOS_ID, EOS_ID, encode, encode_fixed
from .counts import count_encoded, ngram_words


class NgramFeatures:
    """Bag-of-n-grams features with a frequency threshold.

    ``orders``: which n-gram lengths to use; ``min_count``: keep n-grams seen at least this
    often in the fitting documents; ``boundaries``: also use n-grams that touch ``<s>``/``</s>``.
    """

    def __init__(self, orders: Sequence[int] = (1, 2), min_count: int = 2, *,
                 boundaries: bool = False, binary: bool = False):
        orders = sorted(set(int(k) for k in orders))
        if not orders or orders[0] < 1:
            raise ConfigError(f"orders must be integers >= 1, got {orders}")
        if min_count < 1:
            raise ConfigError(f"min_count must be >= 1, got {min_count}")
        self.orders, self.min_count = orders, min_count
        self.boundaries, self.binary = boundaries, binary
        self.keys: list[np.ndarray] | None = None

    def fit(self, docs: Iterable[Sequence[str]]) -> "NgramFeatures":
        corpus = encode(docs)
        c = count_encoded(corpus, max(self.orders))
        self.vocab = c.vocab
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.keys = c.keys
        self.column: list[np.ndarray] = []  # column[k-1]: (n_k,) feature column or -1
        names: list[str] = []
        F = 0
        for k in range(1, c.order + 1):
            col = np.full(len(c.keys[k - 1]), -1, dtype=np.int64)
            if k in self.orders:
                keep = c.counts[k - 1] >= self.min_count
                if not self.boundaries:
                    W = ngram_words(c.keys, c.V, k)
                    keep &= ~np.isin(W, (BOS_ID, EOS_ID)).any(axis=1)
                idx = np.flatnonzero(keep)
                col[idx] = np.arange(F, F + len(idx))
                F += len(idx)
                names += [" ".join(self.vocab[w] for w in row)
                          for row in ngram_words(c.keys, c.V, k)[idx].tolist()]
            self.column.append(col)
        self.feature_names = names
        self.counts = np.concatenate([c.counts[k - 1][self.column[k - 1] >= 0]
                                      for k in range(1, c.order + 1)])
        return self

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def transform(self, docs: Iterable[Sequence[str]]) -> np.ndarray:
        """(D, F) float32 counts (or 0/1 with ``binary=True``)."""
        if self.keys is None:
            raise ConfigError("call fit() before transform()")
        corpus = encode_fixed(docs, self.vocab, self.index)
        tok = corpus.tokens.astype(np.int64)
        pos = corpus.pos
        V = len(self.vocab)
        doc = np.cumsum(pos == 0) - 1  # (T,) document of each position
        rows, cols = [], []
        ids = tok.copy()
        for k in range(1, len(self.keys) + 1):
            if k > 1:
                prev = np.full(len(tok), -1, dtype=np.int64)
                prev[1:] = ids[:-1]
                at = np.flatnonzero((prev >= 0) & (pos >= k - 1))
                key = prev[at] * V + tok[at]
                keys = self.keys[k - 1]
                j = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
                hit = keys[j] == key
                ids = np.full(len(tok), -1, dtype=np.int64)
                ids[at[hit]] = j[hit]
            ok = ids >= 0
            if k == 1:
                ok &= pos >= 1  # <s> alone is not counted
            col = np.full(len(tok), -1, dtype=np.int64)
            col[ok] = self.column[k - 1][ids[ok]]
            use = col >= 0
            rows.append(doc[use])
            cols.append(col[use])
        D, F = corpus.n_sentences, self.n_features
        flat = np.concatenate(rows) * F + np.concatenate(cols)
        X = np.bincount(flat, minlength=D * F).reshape(D, F).astype(np.float32)
        return (X > 0).astype(np.float32) if self.binary else X

    def fit_transform(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        docs = list(docs)
        return self.fit(docs).transform(docs)
