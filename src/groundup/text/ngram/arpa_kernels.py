"""The compiled fast path of the ARPA reader (:mod:`.arpa`): the n-gram lines of a section as
lmplz and :func:`.arpa.write_arpa` write them,

    log10 p <TAB> w_1 <SPACE> ... <SPACE> w_k [<TAB> log10 b] <LF>

parsed in one pass into word ids and float64 values. Anything else (spaces for tabs, a CR, a
doubled separator, a missing backoff, a number in exponent notation or with more than 15 digits,
inf or nan, a word that is no unigram) makes the kernel hand the whole chunk back to the
general parser in Python, which reads it or names the line that is wrong; so the fast path only
ever gives what the general one would.

A number is read as its digits M (< 10^15, exact in a float64) and the count d of digits after
the point: M / 10^d is one correctly rounded division of two exact doubles (10^d is exact for
d <= 22), the nearest double to the decimal, which is what ``float()`` returns.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ...utils import numba_without_scipy

numba_without_scipy()

from .packed import slot, word_id  # the binary format's hashing and word table

_POW10 = np.array([10.0 ** d for d in range(23)])  # exact doubles up to 1e22
_UNK = np.frombuffer(b"<unk>", dtype=np.uint8).copy()


@njit(cache=True, inline="always")
def _decimal(buf, p, end):  # pragma: no cover - compiled
    """A plain decimal at buf[p:]: (ok, value, the byte after it)."""
    neg = False
    if p < end and buf[p] == 45:  # "-"
        neg = True
        p += 1
    m = np.int64(0)
    digits = 0
    frac = 0
    point = False
    while p < end:
        c = buf[p]
        if 48 <= c <= 57:
            m = m * 10 + (c - 48)
            digits += 1
            if point:
                frac += 1
        elif c == 46 and not point:  # "."
            point = True
        else:
            break
        p += 1
    if digits == 0 or digits > 15 or frac > 22:
        return False, 0.0, p
    v = np.float64(m) / _POW10[frac]
    return True, -v if neg else v, p


@njit(cache=True)
def parse_lines(buf, k, with_bo, chars, offs, vtable, vbits, V, W, lp, bo):  # pragma: no cover
    """The len(lp) lines of ``buf`` (UTF-8) into W (n, k) word ids, lp and bo (n,); returns
    the lines read (all of them, with nothing after the last) or -1 where the general parser
    must read the chunk."""
    n = W.shape[0]
    end = len(buf)
    p = 0
    for i in range(n):
        ok, v, p = _decimal(buf, p, end)
        if not ok or p >= end or buf[p] != 9:
            return -1
        lp[i] = v
        p += 1
        for j in range(k):
            a = p
            while p < end:
                c = buf[p]
                if c == 32 or c == 9 or c == 10 or c == 13:
                    break
                p += 1
            if p == a or p >= end or buf[p] == 13:
                return -1
            if (j < k - 1) != (buf[p] == 32):  # a space between words, a tab or LF after
                return -1
            w = word_id(buf, a, p, chars, offs, vtable, vbits, V)
            if w == 0:  # <unk>, or a word that is no unigram (the general parser says which)
                if p - a != 5:
                    return -1
                for t in range(5):
                    if buf[a + t] != _UNK[t]:
                        return -1
            W[i, j] = w
            p += 1
        if with_bo:
            if buf[p - 1] != 9:
                return -1
            ok, v, p = _decimal(buf, p, end)
            if not ok or p >= end or buf[p] != 10:
                return -1
            bo[i] = v
            p += 1
        elif buf[p - 1] != 10:
            return -1
    if p != end:
        return -1
    return n


# ------------------------------------------------------------------ contexts: key -> position
@njit(cache=True)
def index_keys(keys, bits, table):  # pragma: no cover - compiled
    """An open-addressing table (Fibonacci hashing, linear probing; -1 empty) of the positions
    of the distinct ``keys``, so that :func:`find_keys` finds a key's position in one or two
    probes where a binary search over the sorted keys costs a cache miss a step."""
    mask = (1 << bits) - 1
    for i in range(len(keys)):
        s = slot(keys[i], bits)
        while table[s] != -1:
            s = (s + 1) & mask
        table[s] = i


@njit(cache=True)
def find_keys(keys, bits, table, queries, pos):  # pragma: no cover - compiled
    """pos[q] = the position of queries[q] in ``keys`` (:func:`index_keys`); returns the first
    query not found, or -1."""
    mask = (1 << bits) - 1
    for q in range(len(queries)):
        key = queries[q]
        s = slot(key, bits)
        while True:
            i = table[s]
            if i == -1:
                return q
            if keys[i] == key:
                pos[q] = i
                break
            s = (s + 1) & mask
    return -1
