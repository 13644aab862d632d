"""Fast batch scoring: hashed n-gram ids and one compiled pass over the token stream.

Notation: N order, V vocabulary size, T tokens, n_k listed k-grams, C_k hash capacity.

The reference is :meth:`NgramModel.token_log10_reference` (binary search of every order over
the whole stream with numpy). Here each order k >= 2 gets an open-addressing hash table from
its trie key (``context_id * V + word``) to its id, and a numba kernel walks the stream once,
keeping the ids of the n-grams that end at the previous token as the context, exactly like
KenLM's state. Each token costs at most N-1 hash probes, which is what makes it fast.
"""
from __future__ import annotations

import numpy as np

_EMPTY = -1
_MULT = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing (Knuth, TAOCP 6.4)


def _kernels():
    from numba import njit

    @njit(cache=True, inline="always")
    def slot(key, bits):  # pragma: no cover - compiled
        return np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))

    @njit(cache=True)
    def build(keys, bits, table):  # pragma: no cover - compiled
        mask = (1 << bits) - 1
        for i in range(len(keys)):
            s = slot(keys[i], bits)
            while table[s, 0] != -1:
                s = (s + 1) & mask
            table[s, 0] = keys[i]
            table[s, 1] = i

    @njit(cache=True)
    def score(tok, pos, V, N, lp, lp_off, bo, bo_off, table, t_off, t_bits, out):  # pragma: no cover
        prev = np.full(N + 1, -1, np.int64)  # prev[k]: id of the k-gram ending at t-1
        cur = np.full(N + 1, -1, np.int64)
        for t in range(len(tok)):
            w = tok[t]
            if pos[t] == 0:  # <s>: context only, never scored
                for k in range(N + 1):
                    prev[k] = -1
                prev[1] = w
                out[t] = 0.0
                continue
            cur[1] = w
            s = lp[lp_off[0] + w]
            longest = 1
            chain = True
            for k in range(2, N + 1):
                cur[k] = -1
                if prev[k - 1] < 0 or not chain:  # KenLM stops at the first miss too
                    chain = False
                    continue
                key = prev[k - 1] * V + w
                bits = t_bits[k]
                mask = (1 << bits) - 1
                base = t_off[k]
                h = slot(key, bits)
                while True:  # key and id side by side: one cache line per probe
                    tk = table[base + h, 0]
                    if tk == key:
                        cur[k] = table[base + h, 1]
                        break
                    if tk == -1:
                        break
                    h = (h + 1) & mask
                if cur[k] >= 0 and chain:
                    s = lp[lp_off[k - 1] + cur[k]]
                    longest = k
                else:
                    chain = False
            for j in range(longest, N):  # backoffs of the skipped contexts
                if prev[j] >= 0:
                    s += bo[bo_off[j - 1] + prev[j]]
            out[t] = s
            for k in range(N + 1):
                prev[k] = cur[k]
        return out

    return build, score


_K = None


def kernels():
    global _K
    if _K is None:
        _K = _kernels()
    return _K


class HashIndex:
    """Hash tables for orders 2..N plus the concatenated log-prob and backoff arrays."""

    def __init__(self, keys: list[np.ndarray], logprob: list[np.ndarray], backoff: list[np.ndarray]):
        build, _ = kernels()
        N = len(keys)
        self.N = N
        self.t_bits = np.zeros(N + 1, dtype=np.int64)
        self.t_off = np.zeros(N + 2, dtype=np.int64)
        for k in range(2, N + 1):
            bits = max(4, int(np.ceil(np.log2(2 * len(keys[k - 1]) + 1))))  # load factor <= 1/2
            self.t_bits[k] = bits
            self.t_off[k + 1] = self.t_off[k] + (1 << bits)
        total = int(self.t_off[N + 1])
        self.table = np.full((max(total, 1), 2), _EMPTY, dtype=np.int64)  # (C, 2): key, id
        for k in range(2, N + 1):
            a, b = int(self.t_off[k]), int(self.t_off[k + 1])
            build(keys[k - 1], int(self.t_bits[k]), self.table[a:b])
        self.lp = np.concatenate(logprob).astype(np.float64)
        self.lp_off = np.concatenate([[0], np.cumsum([len(x) for x in logprob])]).astype(np.int64)
        self.bo = np.concatenate(backoff).astype(np.float64)
        self.bo_off = self.lp_off.copy()

    def token_log10(self, tokens: np.ndarray, pos: np.ndarray, V: int) -> np.ndarray:
        _, score = kernels()
        out = np.empty(len(tokens), dtype=np.float64)
        return score(tokens.astype(np.int64), pos.astype(np.int64), V, self.N, self.lp, self.lp_off,
                     self.bo, self.bo_off, self.table, self.t_off, self.t_bits, out)
