"""Compiled lattice + Viterbi for :mod:`.segment`, many lines per call.

Notation: T characters of a batch of lines (whitespace removed), K the most Viterbi states at
one position (at most the longest lexicon word + 2), n_t trie nodes (the lexicon's prefixes).

The reference is :meth:`Segmenter.segment_reference` (a Python dict of prefixes, edge lists,
Viterbi over them); tests check that the two cut every line the same way. Here:

* the lexicon is a trie over code points, one node per prefix; its edges (parent, c) -> child
  are a sorted array of keys ``parent << 21 | c`` searched by bisection, and ``word[node]`` is
  the lexicon id of the prefix (-1: only a prefix). The bigram model's log-probabilities are
  found the same way in its own sorted keys ``v * V + w`` (:mod:`.tables`), so the segmenter
  holds no copy of them;
* a batch of lines is one string of T characters, ``flag[k]`` saying what lies before character
  k: 0 inside an atom, 1 an atom boundary, 2 the start of a whitespace-separated chunk (no word
  crosses it); ``line[i]`` the offset of line i;
* the kernel walks the trie from each atom start (the edges of the lattice, shortest first, as
  the reference lists them), relaxes the Viterbi scores in place, and marks the cut positions of
  the best path in ``cut`` (T + 1,), ties broken as the reference breaks them.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from ...data.tokenize import _CJK_CLASS, char_tokens

_CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")
SHIFT = 21  # code points < 2^21


def _kernels():
    from numba import njit

    @njit(cache=True, inline="always")
    def find(keys, key):  # pragma: no cover - compiled
        """Index of ``key`` in the sorted array ``keys``, or -1 (binary search)."""
        j = np.searchsorted(keys, key)
        return j if j < len(keys) and keys[j] == key else -1

    @njit(cache=True, inline="always")
    def child(trie_keys, trie_child, node, c):  # pragma: no cover - compiled
        j = find(trie_keys, (node << 21) | c)
        return trie_child[j] if j >= 0 else -1

    @njit(cache=True)
    def edges_from(s, le, cps, flag, trie_keys, trie_child, word, maxlen, out_e, out_w):  # pragma: no cover
        """The lattice edges starting at s: (end, word id or -2 for an unknown atom) into
        out_e/out_w, shortest first; returns how many."""
        node, e, m, atom_done = 0, s, 0, False
        while e < le:
            if node >= 0:
                node = child(trie_keys, trie_child, node, cps[e])
            e += 1
            if e == le or flag[e] >= 1:  # an atom ends at e
                wid = word[node] if node >= 0 else -1
                if not atom_done:  # the single atom: always an edge
                    out_e[m] = e
                    out_w[m] = wid if wid >= 0 else -2
                    m += 1
                    atom_done = True
                elif wid >= 0:
                    out_e[m] = e
                    out_w[m] = wid
                    m += 1
            if atom_done and (node < 0 or e - s >= maxlen):
                break
            if e < le and flag[e] == 2:  # whitespace: no word goes on
                break
        return m

    @njit(cache=True)
    def unigram(cps, flag, line, trie_keys, trie_child, word, maxlen, lp, unk_lp, bonus, cut):  # pragma: no cover
        T = len(cps)
        best = np.empty(T + 1)
        back = np.zeros(T + 1, np.int64)
        out_e = np.empty(maxlen + 2, np.int64)
        out_w = np.empty(maxlen + 2, np.int64)
        for li in range(len(line) - 1):
            ls, le = line[li], line[li + 1]
            if le == ls:
                continue
            best[ls] = 0.0
            for p in range(ls + 1, le + 1):
                best[p] = -np.inf
            for s in range(ls, le):
                if flag[s] == 0:
                    continue
                base = best[s] + bonus
                m = edges_from(s, le, cps, flag, trie_keys, trie_child, word, maxlen, out_e, out_w)
                for q in range(m):
                    w = out_w[q]
                    cand = base + (lp[w] if w >= 0 else unk_lp)
                    if cand > best[out_e[q]]:
                        best[out_e[q]] = cand
                        back[out_e[q]] = s
            p = le
            while p > ls:
                cut[p] = 1
                p = back[p]
            cut[ls] = 1

    @njit(cache=True)
    def bigram(cps, flag, line, trie_keys, trie_child, word, maxlen, bid, spell, unk_spell, bonus,
               V, lp1, bo1, keys2, lp2, cut):  # pragma: no cover
        K = maxlen + 2
        n_max = 0
        for li in range(len(line) - 1):
            n_max = max(n_max, line[li + 1] - line[li])
        st_u = np.empty((n_max + 1, K), np.int64)      # state: the last word's bigram id
        st_s = np.empty((n_max + 1, K))                # its best score
        st_bp = np.empty((n_max + 1, K), np.int64)     # previous position (line-relative)
        st_bk = np.empty((n_max + 1, K), np.int64)     # previous state's slot there
        st_n = np.zeros(n_max + 1, np.int64)
        out_e = np.empty(K, np.int64)
        out_w = np.empty(K, np.int64)
        for li in range(len(line) - 1):
            ls, le = line[li], line[li + 1]
            n = le - ls
            if n == 0:
                continue
            st_n[:n + 1] = 0
            st_u[0, 0] = 1  # <s>
            st_s[0, 0] = 0.0
            st_n[0] = 1
            for s in range(ls, le):
                i = s - ls
                if flag[s] == 0 or st_n[i] == 0:
                    continue
                m = edges_from(s, le, cps, flag, trie_keys, trie_child, word, maxlen, out_e, out_w)
                for q in range(m):
                    w = out_w[q]
                    j = out_e[q] - ls
                    u = bid[w] if w >= 0 else 0
                    add = (spell[w] if w >= 0 else unk_spell) + bonus
                    for k in range(st_n[i]):
                        v = st_u[i, k]
                        g = find(keys2, v * V + u)
                        cand = st_s[i, k] + add + (lp2[g] if g >= 0 else bo1[v] + lp1[u])
                        slot = -1
                        for r in range(st_n[j]):
                            if st_u[j, r] == u:
                                slot = r
                                break
                        if slot < 0:
                            slot = st_n[j]
                            st_n[j] += 1
                            st_u[j, slot] = u
                            st_s[j, slot] = cand
                            st_bp[j, slot] = i
                            st_bk[j, slot] = k
                        elif cand > st_s[j, slot]:
                            st_s[j, slot] = cand
                            st_bp[j, slot] = i
                            st_bk[j, slot] = k
            end_k, end_s = -1, -np.inf
            for k in range(st_n[n]):  # close with P(</s> | v)
                v = st_u[n, k]
                g = find(keys2, v * V + 2)
                cand = st_s[n, k] + (lp2[g] if g >= 0 else bo1[v] + lp1[2])
                if cand > end_s:
                    end_k, end_s = k, cand
            j, k = n, end_k
            while j > 0:
                cut[ls + j] = 1
                j, k = st_bp[j, k], st_bk[j, k]
            cut[ls] = 1

    return unigram, bigram


@lru_cache(maxsize=None)
def kernels():
    """(unigram, bigram), compiled at the first call (numba's cache makes later runs quick)."""
    return _kernels()


def build_trie(lex: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keys (n_t,) sorted, child (n_t,), word (n_t + 1,)) of the lexicon's prefix dict ``lex``
    (prefix -> lexicon id, or -1 for a prefix that is no word): the edge (parent, c) is
    ``keys[j] = parent << 21 | c`` leading to node ``child[j]``; node 0 is the empty prefix."""
    node = {p: i for i, p in enumerate(lex, start=1)}
    keys = np.fromiter(((node.get(p[:-1], 0) << SHIFT) | ord(p[-1]) for p in lex),
                       dtype=np.int64, count=len(lex))
    word = np.full(len(lex) + 1, -1, dtype=np.int64)
    word[1:] = np.fromiter(lex.values(), dtype=np.int64, count=len(lex))
    order = np.argsort(keys, kind="stable")
    return keys[order], (order + 1).astype(np.int64), word


def encode_lines(lines: list[str]) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """(text, cps (T,), flag (T + 1,), line (L + 1,)): the lines without whitespace, their
    code points, what lies before each character (0 inside an atom, 1 atom boundary, 2 chunk
    start) and each line's offset."""
    parts: list[str] = []
    flag = bytearray()
    line = [0]
    for ln in lines:
        for chunk in ln.split():
            parts.append(chunk)
            if _CJK_RUN.fullmatch(chunk):  # every character an atom
                flag += b"\x02" + b"\x01" * (len(chunk) - 1)
            else:
                first = len(flag)
                for a in char_tokens(chunk):
                    flag += b"\x01" + b"\x00" * (len(a) - 1)
                flag[first] = 2
        line.append(len(flag))
    text = "".join(parts)
    flag += b"\x02"
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return text, cps, np.frombuffer(bytes(flag), dtype=np.uint8), np.asarray(line, dtype=np.int64)


def split_words(text: str, line: np.ndarray, cut: np.ndarray) -> list[list[str]]:
    """The words of each line from the cut marks."""
    pos = np.flatnonzero(cut).tolist()
    out, q = [], 0
    bounds = line.tolist()
    for li in range(len(bounds) - 1):
        ls, le = bounds[li], bounds[li + 1]
        if ls == le:
            out.append([])
            continue
        while pos[q] < ls:
            q += 1
        words = []
        a = pos[q]
        q += 1
        while a < le:
            b = pos[q]
            words.append(text[a:b])
            a = b
            q += 1
        q -= 1  # le is the next line's start too
        out.append(words)
    return out
