"""Counting the n-grams of every order 1..N, vectorised (no Python dict per n-gram).

Notation: N model order, V vocabulary size, T tokens in the padded stream, n_k the number of
distinct k-grams.

The encoding is a trie written as integers. A k-gram ``w_1..w_k`` gets the id of its position
in the sorted array of order-k keys, where

    key_k(w_1..w_k) = id_{k-1}(w_1..w_{k-1}) * V + w_k        (and id_1(w) = w)

so each order needs one ``np.unique`` over the positions where a k-gram ends, and keys never
overflow int64 (n_{k-1} * V stays far below 2^63 for any corpus that fits in memory). Sorted keys
also give, for free, the block of continuations of a context c: ``keys in [c*V, (c+1)*V)``.

Sentence boundaries follow lmplz: every line is ``<s> w_1 .. w_m </s>``; an n-gram may start
with ``<s>`` but never contain it later, and ``<s>`` alone is not an event (its count is 0).
:func:`count_ngrams_reference` is the slow, obviously correct twin used by the tests.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .corpus import BOS, BOS_ID, EOS, EncodedCorpus, encode


@dataclass
class NgramCounts:
    """Raw counts of every order, in the integer-trie layout described in the module docstring.

    keys[k-1]   (n_k,) int64, sorted: context id * V + last word
    counts[k-1] (n_k,) int64 raw counts c(w_1..w_k)
    suffix[k-1] (n_k,) int64 id of w_2..w_k at order k-1 (for k = 1: an empty array)
    last_full   the padded N-gram that comes last in lmplz's suffix sort (used only to mirror
                one detail of lmplz's count-of-counts, see kneser_ney.count_of_counts)
    """

    vocab: list[str]
    order: int
    keys: list[np.ndarray]
    counts: list[np.ndarray]
    suffix: list[np.ndarray]
    n_sentences: int
    n_words: int
    last_full: tuple[int, ...] = ()

    @property
    def V(self) -> int:
        return len(self.vocab)

    def sizes(self) -> list[int]:
        return [len(k) for k in self.keys]

    def context(self, k: int) -> np.ndarray:
        """(n_k,) id at order k-1 of each k-gram's context w_1..w_{k-1} (k >= 2)."""
        return self.keys[k - 1] // self.V

    def word(self, k: int) -> np.ndarray:
        """(n_k,) last word of each k-gram."""
        return self.keys[k - 1] % self.V

    def first_word(self, k: int) -> np.ndarray:
        """(n_k,) first word of each k-gram."""
        return first_words(self.keys, self.V)[k - 1]

    def words(self, k: int) -> np.ndarray:
        """(n_k, k) the word ids of each k-gram."""
        return ngram_words(self.keys, self.V, k)

    def as_dict(self, k: int) -> dict[tuple[str, ...], int]:
        """{k-gram as a word tuple: raw count} (for tests and small corpora), zero counts dropped."""
        w = self.words(k)
        return {tuple(self.vocab[i] for i in row): int(c)
                for row, c in zip(w.tolist(), self.counts[k - 1].tolist()) if c > 0}


def first_words(keys: list[np.ndarray], V: int) -> list[np.ndarray]:
    out = [keys[0] % V]
    for k in range(2, len(keys) + 1):
        out.append(out[-1][keys[k - 1] // V])
    return out


def ngram_words(keys: list[np.ndarray], V: int, k: int) -> np.ndarray:
    """Expand order-k keys into an (n_k, k) matrix of word ids, walking the trie upwards."""
    n = len(keys[k - 1])
    out = np.empty((n, k), dtype=np.int64)
    idx = np.arange(n)
    for j in range(k, 0, -1):
        key = keys[j - 1][idx]
        out[:, j - 1] = key % V
        idx = key // V
    return out


def group_numpy(prefix: np.ndarray, word: np.ndarray, n_prefix: int, V: int):
    """Distinct (prefix, word) pairs, sorted: (keys, inverse, counts). The reference for
    :func:`group_radix`; ``np.unique`` sorts with a comparison sort, O(T log T)."""
    uniq, inv, cnt = np.unique(prefix * V + word, return_inverse=True, return_counts=True)
    return uniq, inv.reshape(-1), cnt


def _radix_kernel():
    from numba import njit

    @njit(cache=True)
    def kernel(prefix, word, n_prefix, V):  # pragma: no cover - compiled
        n = len(prefix)
        # LSD radix sort in two counting passes: by word, then (stably) by prefix
        head = np.zeros(V + 1, np.int64)
        for i in range(n):
            head[word[i] + 1] += 1
        for v in range(V):
            head[v + 1] += head[v]
        by_word = np.empty(n, np.int64)
        for i in range(n):
            by_word[head[word[i]]] = i
            head[word[i]] += 1
        head = np.zeros(n_prefix + 1, np.int64)
        for i in range(n):
            head[prefix[i] + 1] += 1
        for c in range(n_prefix):
            head[c + 1] += head[c]
        order = np.empty(n, np.int64)
        for j in range(n):
            i = by_word[j]
            order[head[prefix[i]]] = i
            head[prefix[i]] += 1
        keys = np.empty(n, np.int64)
        cnt = np.zeros(n, np.int64)
        inv = np.empty(n, np.int64)
        u = -1
        last = -1
        for j in range(n):
            i = order[j]
            key = prefix[i] * V + word[i]
            if key != last:
                u += 1
                keys[u] = key
                last = key
            cnt[u] += 1
            inv[i] = u
        return keys[:u + 1].copy(), inv, cnt[:u + 1].copy()

    return kernel


_KERNEL = None


def group_radix(prefix: np.ndarray, word: np.ndarray, n_prefix: int, V: int):
    """Same result as :func:`group_numpy` in O(T + n_prefix + V): prefix ids are already small
    dense integers, so two counting-sort passes (numba) replace the comparison sort."""
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _radix_kernel()
    return _KERNEL(prefix.astype(np.int64), word.astype(np.int64), int(n_prefix), int(V))


def group(prefix: np.ndarray, word: np.ndarray, n_prefix: int, V: int):
    if len(prefix) < 2048:  # not worth the kernel
        return group_numpy(prefix, word, n_prefix, V)
    return group_radix(prefix, word, n_prefix, V)


def count_encoded(corpus: EncodedCorpus, order: int) -> NgramCounts:
    """Count all k-grams, k = 1..order, of an encoded corpus."""
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    V = len(corpus.vocab)
    tok = corpus.tokens.astype(np.int64)  # (T,)
    pos = corpus.pos
    ids = tok.copy()  # (T,) id of the k-gram ending at t, -1 where none
    keys = [np.arange(V, dtype=np.int64)]
    counts = [np.bincount(tok[pos >= 1], minlength=V).astype(np.int64)]  # <s> is no event
    suffix = [np.zeros(0, dtype=np.int64)]
    for k in range(2, order + 1):
        at = np.flatnonzero(pos >= k - 1)  # positions where a k-gram ends
        uniq, inv, cnt = group(ids[at - 1], tok[at], len(keys[-1]), V)
        suf = np.empty(len(uniq), dtype=np.int64)
        suf[inv] = ids[at]  # w_2..w_k is the (k-1)-gram ending at the same position
        ids = np.full(len(tok), -1, dtype=np.int64)
        ids[at] = inv
        keys.append(uniq)
        counts.append(cnt.astype(np.int64))
        suffix.append(suf)
    return NgramCounts(corpus.vocab, order, keys, counts, suffix, corpus.n_sentences,
                       corpus.n_words, _last_padded_ngram(corpus, order))


def count_ngrams(sentences: Iterable[Sequence[str]], order: int,
                 vocab: list[str] | None = None) -> NgramCounts:
    """Count n-grams of orders 1..order in token lists (one list per sentence)."""
    return count_encoded(encode(sentences, vocab), order)


def _last_padded_ngram(corpus: EncodedCorpus, order: int) -> tuple[int, ...]:
    """The N-gram (left-padded with <s>) that sorts last when compared from its last word back.

    lmplz pads each sentence's context with N-1 ``<s>`` and sorts these padded N-grams in
    "suffix order"; we find the maximum by narrowing the candidate positions one word at a time.
    """
    tok, pos = corpus.tokens, corpus.pos
    cand = np.flatnonzero(pos >= 1)
    if len(cand) == 0:
        return ()
    out = []
    for j in range(order):  # j words back from the end
        w = np.where(pos[cand] >= j, tok[cand - np.minimum(j, pos[cand])], BOS_ID)
        m = w.max()
        cand = cand[w == m]
        out.append(int(m))
    return tuple(reversed(out))


def count_ngrams_reference(sentences: Iterable[Sequence[str]], order: int) -> dict[int, Counter]:
    """Slow reference: {k: Counter of word tuples}, counting every substring of
    ``<s> w_1 .. w_m </s>`` except ``<s>`` alone. Literal ``<s>``/``</s>`` words are dropped."""
    out = {k: Counter() for k in range(1, order + 1)}
    for sent in sentences:
        padded = [BOS] + [w for w in sent if w not in (BOS, EOS)] + [EOS]
        for k in range(1, order + 1):
            for i in range(len(padded) - k + 1):
                gram = tuple(padded[i:i + k])
                if gram != (BOS,):
                    out[k][gram] += 1
    return out
