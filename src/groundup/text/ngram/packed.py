"""The packed model: hash tables for words and n-grams in a few flat arrays, scored by one
compiled pass per sentence. It is what ``groundup ngram binarize`` writes (:mod:`.binary`) and
what any loaded model builds once for fast scoring.

Notation: N order, V vocabulary size, n_k listed k-grams, C_k = 2^bits_k slots of the order-k
table, C_v = 2^vocab_bits slots of the word table.

Arrays (all little-endian, flat, so the file maps them without a copy):

* ``chars`` (sum of word lengths,) uint8: the UTF-8 bytes of the words, in id order;
  ``vocab_offsets`` (V+1,) int64: word i is ``chars[off[i]:off[i+1]]``;
* ``vocab_table`` (C_v,) int64: open addressing on the FNV-1a hash of a word's bytes, holding
  the word id or -1 (empty); load factor <= 1/2;
* ``keys``, ``logprob``, ``backoff`` (sum n_k,): the sorted trie keys (``context_id * V +
  word``, :mod:`.tables`) and log10 values of every order, one after the other;
* ``table`` (sum_k C_k W_k,) int64: per order k >= 2, C_k rows of W_k = 3 words (key,
  log10 p, log10 b; the floats as float64 bit patterns), W_N = 2 at the top order (no backoff);
  key -1 = empty; Fibonacci hashing of the key, linear probing, load factor <= 3/4. The key of
  an order-k n-gram is ``row(context) * V + word``, where row(context) is the context's row in
  the order-(k-1) table (its word id at order 1): the state carried from word to word is rows,
  so a row needs no id, and the values sit beside the key, as in KenLM's probing table (one
  cache line per lookup). ``logprob``/``backoff`` keep the same values in trie order.

The scoring kernel (:func:`kernels`) reads a sentence's UTF-8 bytes with ``\\n`` between
tokens, looks each token up in the word table, and applies the backoff rule with KenLM's state
(the ids of the n-grams ending at the previous word), as :meth:`NgramModel.token_log10_reference`
does with numpy: per token, ``log10 p = lp(longest listed n-gram) + sum of the backoffs of the
contexts longer than it``. Every index read from the arrays is bounds-checked and every probe
loop is bounded by the table size, so a corrupt (unverified) file gives wrong numbers, never a
crash.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from ...utils import numba_without_scipy

numba_without_scipy()

from ...data.fastwords import fnv1a  # the word hash (part of the file format)
from .tables import BackoffTables


def table_bits(n: int) -> int:
    """log2 of the slots for n entries at load factor <= 3/4 (at least one empty slot)."""
    return max(4, int(np.ceil(np.log2(4 * n / 3 + 1))))


@dataclass
class Packed:
    V: int
    counts: np.ndarray  # (N,) n_k
    t_bits: np.ndarray  # (N+1,) bits of the order-k table at k (0 for k < 2)
    vocab_bits: int
    chars: np.ndarray
    vocab_offsets: np.ndarray
    vocab_table: np.ndarray
    keys: np.ndarray
    logprob: np.ndarray
    backoff: np.ndarray
    table: np.ndarray  # (sum C_k W_k,)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def N(self) -> int:
        return len(self.counts)

    @property
    def offsets(self) -> np.ndarray:
        """(N+1,) start of each order in keys/logprob/backoff."""
        return np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)

    @property
    def t_off(self) -> np.ndarray:
        """(N+2,) start (in int64 words) of the order-k table at k (orders 0 and 1 have none)."""
        return table_offsets(self.t_bits)

    def vocab(self) -> list[str]:
        return bytes(self.chars).decode("utf-8").split("\n") if self.V > 1 else \
            [bytes(self.chars).decode("utf-8")]

    def tables(self, vocab: list[str]) -> BackoffTables:
        """The backoff tables as views into the packed arrays (no copy)."""
        o = self.offsets
        sl = [slice(int(o[k]), int(o[k + 1])) for k in range(self.N)]
        return BackoffTables(vocab, [self.keys[s] for s in sl], [self.logprob[s] for s in sl],
                             [self.backoff[s] for s in sl], self.info)

    def meta(self) -> np.ndarray:
        """The small int64 record the kernels read: V, N, vocab_bits, then offsets (N+1),
        t_off (N+2), t_bits (N+1)."""
        m = np.concatenate([[self.V, self.N, self.vocab_bits], self.offsets, self.t_off,
                            self.t_bits]).astype(np.int64)
        m.flags.writeable = False
        return m


def table_offsets(t_bits: np.ndarray) -> np.ndarray:
    """(N+2,) start of each order's table in the flat ``table`` (rows of 3, 2 at order N)."""
    N = len(t_bits) - 1
    k = np.arange(N + 1)
    sizes = np.where(k >= 2, np.left_shift(1, t_bits) * np.where(k == N, 2, 3), 0)
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def word_table(vocab: list[str]) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """The word hash table: (chars, vocab_offsets, vocab_bits, vocab_table) as the format
    keeps them (module docstring); :func:`word_id` looks a word up in it."""
    enc = [w.encode("utf-8") for w in vocab]
    chars = np.frombuffer(b"\n".join(enc), dtype=np.uint8)
    # word i is chars[off[i]:off[i+1]-1] (a '\n' between words): off[V] = len(chars) + 1
    lens = np.fromiter((len(b) + 1 for b in enc), dtype=np.int64, count=len(enc))
    offs = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    bits = table_bits(len(vocab))
    table = np.full(1 << bits, -1, dtype=np.int64)
    build_vocab(chars, offs, bits, table)
    return chars, offs, bits, table


def pack(t: BackoffTables) -> Packed:
    """Build the hash tables of ``t`` (keys, log-probs and backoffs are concatenated)."""
    K = kernels()
    chars, vocab_offsets, vocab_bits, vocab_table = word_table(t.vocab)
    counts = np.array([len(k) for k in t.keys], dtype=np.int64)
    N = len(counts)
    t_bits = np.zeros(N + 1, dtype=np.int64)
    for k in range(2, N + 1):
        t_bits[k] = table_bits(int(counts[k - 1]))
    p = Packed(t.V, counts, t_bits, vocab_bits, chars, vocab_offsets, vocab_table,
               np.concatenate(t.keys).astype(np.int64),
               np.concatenate(t.logprob).astype(np.float64),
               np.concatenate(t.backoff).astype(np.float64),
               np.empty(0, dtype=np.int64), dict(t.info))
    t_off = p.t_off
    table = np.full(max(int(t_off[-1]), 1), -1, dtype=np.int64)
    rows = np.arange(t.V, dtype=np.int64)  # row of each (k-1)-gram; word ids at order 1
    for k in range(2, N + 1):
        key = t.keys[k - 1].astype(np.int64)
        rows = K.build(rows[key // t.V] * t.V + key % t.V, t.logprob[k - 1].astype(np.float64),
                       t.backoff[k - 1].astype(np.float64), int(t_bits[k]), 3 if k < N else 2,
                       table[t_off[k]:t_off[k + 1]])
    p.table = table
    for a in (p.chars, p.vocab_offsets, p.vocab_table, p.keys, p.logprob, p.backoff, p.table):
        a.flags.writeable = False  # like a mapped file's: one compiled signature for both
    return p


MULT = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing (Knuth, TAOCP 6.4)


@njit(cache=True, inline="always")
def slot(h, bits):  # pragma: no cover - compiled
    return np.int64((np.uint64(h) * MULT) >> np.uint64(64 - bits))


@njit(cache=True)
def build(keys, lp, bo, bits, width, table):  # pragma: no cover - compiled
    """Insert (key, lp, bo) rows; (n,) the row of each entry (the next order's context)."""
    mask = (1 << bits) - 1
    tf = table.view(np.float64)
    rows = np.empty(len(keys), np.int64)
    for i in range(len(keys)):
        s = slot(keys[i], bits)
        while table[s * width] != -1:
            s = (s + 1) & mask
        table[s * width] = keys[i]
        tf[s * width + 1] = lp[i]
        if width == 3:
            tf[s * width + 2] = bo[i]
        rows[i] = s
    return rows


@njit(cache=True)
def build_vocab(chars, offs, bits, table):  # pragma: no cover - compiled
    mask = (1 << bits) - 1
    for i in range(len(offs) - 1):
        s = slot(fnv1a(chars, offs[i], offs[i + 1] - 1), bits)
        while table[s] != -1:
            s = (s + 1) & mask
        table[s] = i


@njit(cache=True, inline="always")
def word_id(buf, a, b, chars, offs, vtable, vbits, V):  # pragma: no cover - compiled
    """Id of the word buf[a:b]; 0 (<unk>) when absent."""
    mask = (1 << vbits) - 1
    s = slot(fnv1a(buf, a, b), vbits)
    n = b - a
    for _ in range(mask + 1):
        i = vtable[s]
        if i < 0 or i >= V:
            return 0
        c = offs[i]
        if 0 <= c and offs[i + 1] - 1 - c == n and c + n <= len(chars):
            same = True
            for j in range(n):
                if chars[c + j] != buf[a + j]:
                    same = False
                    break
            if same:
                return i
        s = (s + 1) & mask
    return 0


@njit(cache=True, inline="always")
def find(key, base, bits, width, table):  # pragma: no cover - compiled
    """The row (0 .. 2^bits - 1) of key in the order's table at ``base``, or -1."""
    mask = (1 << bits) - 1
    h = slot(key, bits)
    for _ in range(mask + 1):
        tk = table[base + h * width]
        if tk == key:
            return h
        if tk == -1:
            return -1
        h = (h + 1) & mask
    return -1


@njit(cache=True, inline="always")
def step(w, prev, prev_bo, cur, cur_bo, meta, lp, bo, table, tf):  # pragma: no cover
    """log10 p(w | state) and the order matched; fills the next state.

    State (KenLM's): prev[k] the row of the k-gram ending at the previous word (its word id
    at k = 1; -1 if unlisted), prev_bo[k] its log10 backoff. The backoff rule (tables.py): lp
    of the longest listed n-gram ending in w, plus the backoffs of the longer contexts."""
    V, N = meta[0], meta[1]
    t = 3 + N + 1  # meta[t + k]: start of the order-k table
    tb = 3 + 2 * N + 3  # meta[tb + k]: bits of the order-k table
    cur[1] = w
    cur_bo[1] = bo[w]
    s = lp[w]
    longest = 1
    for k in range(2, N + 1):
        cur[k] = -1
        cur_bo[k] = 0.0
    for k in range(2, N + 1):  # KenLM stops at the first miss too
        if prev[k - 1] < 0:
            break
        width = 3 if k < N else 2
        r = find(prev[k - 1] * V + w, meta[t + k], meta[tb + k], width, table)
        if r < 0:
            break
        at = meta[t + k] + r * width
        cur[k] = r
        s = tf[at + 1]
        if k < N:
            cur_bo[k] = tf[at + 2]
        longest = k
    for j in range(longest, N):
        if prev[j] >= 0:
            s += prev_bo[j]
    return s, longest


@njit(cache=True)
def score_bytes(buf, eos, meta, chars, offs, vtable, lp, bo, table, tf,
                out_lp, out_len, out_id):  # pragma: no cover - compiled
    """Score the '\\n'-separated tokens of buf after <s> (then </s> if eos): (m, total
    log10 p) over the m scored tokens (literal <s> </s> dropped); out_lp[:m] log10 p,
    out_len[:m] the n-gram order matched, out_id[:m] the word ids, unless out_lp is
    empty (the total only); m = -1 if out_lp is too short."""
    V, N, vbits = meta[0], meta[1], meta[2]
    prev = np.full(N + 1, -1, np.int64)
    cur = np.full(N + 1, -1, np.int64)
    prev_bo = np.zeros(N + 1)
    cur_bo = np.zeros(N + 1)
    prev[1] = 1  # <s>
    prev_bo[1] = bo[1]
    store = len(out_lp) > 0
    total = 0.0
    m = 0
    a = 0
    L = len(buf)
    done = False
    while not done:
        if a < L:
            b = a
            while b < L and buf[b] != 10:
                b += 1
            w = word_id(buf, a, b, chars, offs, vtable, vbits, V) if b > a else 1
            a = b + 1
            if w == 1 or w == 2:  # literal <s> </s> are dropped, as encode() does
                continue
        elif eos:
            w = 2
            done = True
        else:
            break
        s, longest = step(w, prev, prev_bo, cur, cur_bo, meta, lp, bo, table, tf)
        if store:
            if m >= len(out_lp):
                return -1, total
            out_lp[m], out_len[m], out_id[m] = s, longest, w
        total += s
        m += 1
        prev[:] = cur
        prev_bo[:] = cur_bo
    return m, total


@njit(cache=True)
def score_ids(tok, pos, meta, lp, bo, table, tf, out):  # pragma: no cover - compiled
    """(T,) log10 p of a padded id stream (pos 0 = <s>: context only, 0)."""
    N = meta[1]
    prev = np.full(N + 1, -1, np.int64)
    cur = np.full(N + 1, -1, np.int64)
    prev_bo = np.zeros(N + 1)
    cur_bo = np.zeros(N + 1)
    for t in range(len(tok)):
        if pos[t] == 0:
            prev[:] = -1
            prev[1] = tok[t]
            prev_bo[1] = bo[tok[t]]
            out[t] = 0.0
            continue
        s, _ = step(tok[t], prev, prev_bo, cur, cur_bo, meta, lp, bo, table, tf)
        out[t] = s
        prev[:] = cur
        prev_bo[:] = cur_bo
    return out


class _Kernels:
    """The compiled functions, compiled on first use (cache=True keeps them across runs)."""

    def __init__(self):
        self.build, self.build_vocab, self.find, self.word_id = build, build_vocab, find, word_id
        self.score_bytes, self.score_ids = score_bytes, score_ids


_K = None


def kernels() -> _Kernels:
    global _K
    if _K is None:
        _K = _Kernels()
    return _K
