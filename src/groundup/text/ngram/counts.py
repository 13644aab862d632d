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

    def truncated(self, order: int) -> "NgramCounts":
        """The counts of a lower-order model: its orders are the first ``order`` of these, and
        lmplz's last padded n-gram is the suffix of ours (suffix order compares the end first)."""
        if not 1 <= order <= self.order:
            raise ValueError(f"order must be in 1..{self.order}, got {order}")
        return NgramCounts(self.vocab, order, self.keys[:order], self.counts[:order],
                           self.suffix[:order], self.n_sentences, self.n_words,
                           self.last_full[len(self.last_full) - order:] if self.last_full else ())

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


def _count_fast(tok: np.ndarray, pos: np.ndarray, order: int, V: int):
    """Orders 2..N with the compiled kernel: (keys, counts, ids-per-position) per order."""
    from .build_kernels import extend

    T = len(tok)
    nxt = np.full(T, -1, dtype=np.int64)  # the next word in the same sentence, -1 at </s>
    nxt[:-1] = np.where(pos[1:] != 0, tok[1:], -1)
    sorted_pos = np.argsort(tok, kind="stable")  # every position (even <s>) by its unigram id
    sorted_ids = tok[sorted_pos]
    for _ in range(2, order + 1):  # a generator: one order's per-position ids alive at a time
        sorted_pos, sorted_ids, keys, cnt = extend(sorted_pos, sorted_ids, nxt, V)
        ids = np.full(T, -1, dtype=np.int64)
        ids[sorted_pos] = sorted_ids
        yield keys, cnt, ids


def _count_numpy(tok: np.ndarray, pos: np.ndarray, order: int, V: int):
    """The reference for :func:`_count_fast`: one ``np.unique`` (comparison sort) per order."""
    ids = tok
    for k in range(2, order + 1):
        at = np.flatnonzero(pos >= k - 1)  # positions where a k-gram ends
        keys, inv, cnt = np.unique(ids[at - 1] * V + tok[at], return_inverse=True,
                                   return_counts=True)
        new_ids = np.full(len(tok), -1, dtype=np.int64)
        new_ids[at] = inv.reshape(-1)
        yield keys, cnt.astype(np.int64), new_ids
        ids = new_ids


def count_encoded(corpus: EncodedCorpus, order: int, *, method: str = "auto") -> NgramCounts:
    """Count all k-grams, k = 1..order, of an encoded corpus.

    ``method``: "fast" (compiled, O(T) per order plus sorting of the short runs that share a
    context), "numpy" (the reference, a comparison sort per order), or "auto"."""
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    V = len(corpus.vocab)
    tok = corpus.tokens.astype(np.int64)  # (T,)
    pos = corpus.pos.astype(np.int64)
    keys = [np.arange(V, dtype=np.int64)]
    counts = [np.bincount(tok[pos >= 1], minlength=V).astype(np.int64)]  # <s> is no event
    suffix = [np.zeros(0, dtype=np.int64)]
    count = _count_numpy if method == "numpy" or (method == "auto" and len(tok) < 4096) \
        else _count_fast
    ids = tok  # (T,) id of the (k-1)-gram ending at t, -1 where none
    for k, (uniq, cnt, new_ids) in enumerate(count(tok, pos, order, V), start=2):
        at = np.flatnonzero(new_ids >= 0)
        suf = np.empty(len(uniq), dtype=np.int64)
        suf[new_ids[at]] = ids[at]  # w_2..w_k is the (k-1)-gram ending at the same position
        keys.append(uniq)
        counts.append(cnt)
        suffix.append(suf)
        ids = new_ids
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
