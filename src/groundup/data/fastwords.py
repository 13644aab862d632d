"""Words numbered in order of first appearance, straight from text bytes, in compiled code: the
``spaces`` tokenizer's words (:func:`.tokenize.spaces_tokens`, lmplz's: split on space, tab
and carriage return; lines on ``\\n``) without a Python string per token.

What it is for: reading a large corpus into a stream of word ids (``ngram build --memory``),
where making a ``str`` and looking it up in a ``dict`` for each of hundreds of millions of
tokens costs more than the rest of the reading. The text still comes through the one reader
(:func:`.textfile.iter_blocks`: decoding, encodings, byte-order mark, the errors), and the
tokens are the ``spaces`` tokenizer's (tested against it); only the split and the lookup are
compiled. The separators are ASCII bytes, which never occur inside a UTF-8 sequence, so
splitting the UTF-8 bytes splits the text.

The table is open addressing (linear probing, FNV-1a hashes of the word's bytes, at most half
full); word w's bytes are ``arena[start[w]:start[w] + size[w]]``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..utils import numba_without_scipy

numba_without_scipy()

FNV_OFFSET = np.uint64(0xCBF29CE484222325)  # FNV-1a, 64 bit (Fowler, Noll, Vo)
FNV_PRIME = np.uint64(0x100000001B3)


@njit(cache=True, inline="always")
def _is_space(b):  # pragma: no cover - compiled
    return b == 32 or b == 9 or b == 13


@njit(cache=True, inline="always")
def fnv1a(buf, s, e):  # pragma: no cover - compiled
    """FNV-1a (64 bit) of the bytes buf[s:e]: the word hash of this numbering and of the binary
    n-gram model's word table (:mod:`groundup.text.ngram.packed`, where it is part of the file
    format). A kernel that inlines it is cached by numba with it, so a change here needs those
    caches cleared."""
    h = FNV_OFFSET
    for i in range(s, e):
        h = (h ^ np.uint64(buf[i])) * FNV_PRIME
    return h


@njit(cache=True)
def _find_or_add(buf, s, e, h, slots, hashes, start, size, arena, n):  # pragma: no cover
    """The id of the word buf[s:e] (hash h), added as word n[0] if new."""
    mask = len(slots) - 1
    j = np.int64(h & np.uint64(mask))
    m = e - s
    while True:
        w = slots[j]
        if w < 0:
            break
        if hashes[w] == h and size[w] == m:
            a = start[w]
            same = True
            for t in range(m):
                if arena[a + t] != buf[s + t]:
                    same = False
                    break
            if same:
                return w
        j = (j + 1) & mask
    w = n[0]
    a = start[w - 1] + size[w - 1] if w > 0 else 0
    for t in range(m):
        arena[a + t] = buf[s + t]
    start[w], size[w], hashes[w] = a, m, h
    slots[j] = w
    n[0] = w + 1
    return w


@njit(cache=True)
def number_lines(buf, slots, hashes, start, size, arena, n, ids, lens):  # pragma: no cover
    """Split ``buf`` (UTF-8 bytes of whole lines: every line but the last ends in ``\\n``; the
    last one may not) into lines and words, numbering the words: ``ids`` gets each word's id,
    ``lens`` each line's word count; returns (words, lines). The caller sizes the table and the
    arrays for every word of ``buf`` being new (:meth:`WordNumbering.encode`)."""
    nw = 0
    nl = 0
    count = 0
    i = 0
    L = len(buf)
    while i < L:
        c = buf[i]
        if c == 10:
            lens[nl] = count
            nl += 1
            count = 0
            i += 1
        elif _is_space(c):
            i += 1
        else:
            s = i
            while i < L and buf[i] != 10 and not _is_space(buf[i]):
                i += 1
            ids[nw] = _find_or_add(buf, s, i, fnv1a(buf, s, i), slots, hashes, start, size,
                                   arena, n)
            nw += 1
            count += 1
    if L > 0 and buf[L - 1] != 10:  # the last line has no newline
        lens[nl] = count
        nl += 1
    return nw, nl


@njit(cache=True)
def _rehash(slots, hashes, n):  # pragma: no cover - compiled
    mask = len(slots) - 1
    slots[:] = -1
    for w in range(n):
        j = np.int64(hashes[w] & np.uint64(mask))
        while slots[j] >= 0:
            j = (j + 1) & mask
        slots[j] = w


class WordNumbering:
    """Words numbered from 0 in order of first appearance (``first`` words numbered before any
    text: the specials). :meth:`encode` numbers the words of whole lines of text."""

    def __init__(self, first=()):
        self.n = np.zeros(1, dtype=np.int64)
        self.slots = np.full(1 << 16, -1, dtype=np.int32)
        self.hashes = np.zeros(1 << 15, dtype=np.uint64)
        self.start = np.zeros(1 << 15, dtype=np.int64)
        self.size = np.zeros(1 << 15, dtype=np.int64)
        self.arena = np.zeros(1 << 20, dtype=np.uint8)
        self.words: list[str] = []
        for w in first:
            self.encode(w + "\n")
        if len(self.words) != len(first):
            raise ValueError(f"the first words must be distinct single words: {first!r}")

    def _room(self, nbytes: int) -> None:
        """Grow every array for ``nbytes`` bytes of text of new words only."""
        n = int(self.n[0])
        most = n + nbytes // 2 + 1
        if most > len(self.start):
            cap = max(most, 2 * len(self.start))
            for name in ("hashes", "start", "size"):
                a = getattr(self, name)
                b = np.zeros(cap, dtype=a.dtype)
                b[:n] = a[:n]
                setattr(self, name, b)
        if 2 * most > len(self.slots):
            self.slots = np.empty(1 << (2 * most - 1).bit_length(), dtype=np.int32)
            _rehash(self.slots, self.hashes, n)
        used = int(self.start[n - 1] + self.size[n - 1]) if n else 0
        if used + nbytes > len(self.arena):
            b = np.zeros(max(used + nbytes, 2 * len(self.arena)), dtype=np.uint8)
            b[:used] = self.arena[:used]
            self.arena = b

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids int32, words per line int64) of the lines of ``text`` (whole lines; the last one
        may lack its newline); new words are added to :attr:`words`."""
        data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        self._room(len(data))
        ids = np.empty(len(data) // 2 + 1, dtype=np.int32)
        lens = np.empty(text.count("\n") + 1, dtype=np.int64)
        n0 = int(self.n[0])
        nw, nl = number_lines(data, self.slots, self.hashes, self.start, self.size, self.arena,
                              self.n, ids, lens)
        n1 = int(self.n[0])
        if n1 > n0:
            a, b = int(self.start[n0]), int(self.start[n1 - 1] + self.size[n1 - 1])
            raw = self.arena[a:b].tobytes()
            offs = (self.start[n0:n1] - a).tolist()
            ends = (self.start[n0:n1] + self.size[n0:n1] - a).tolist()
            self.words.extend(raw[s:e].decode("utf-8") for s, e in zip(offs, ends))
        return ids[:nw], lens[:nl]
