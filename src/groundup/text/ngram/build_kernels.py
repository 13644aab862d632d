"""The compiled loops of the n-gram builders (numba), at module level so that numba's disk cache
(``cache=True``) serves every process after the first: counting's trie extension, the sort's
key packing, tie-breaking and row gathering, and the ARPA line formatter.

Importing this module imports numba (about 0.4 s); the modules that use it import it inside the
functions that need it, so importing :mod:`groundup.text.ngram` stays light.

Notation: n rows, k words per n-gram, ``bits`` bits per word id in a key, L 64-bit lanes per key.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ...utils import numba_without_scipy

numba_without_scipy()


# ----------------------------------------------------------------------------- counting (trie)
@njit(cache=True)
def extend(prev_sorted, prev_sorted_ids, nxt, V):  # pragma: no cover - compiled
    """One order up in :func:`.counts.count_encoded`.

    prev_sorted: positions where a (k-1)-gram ends, sorted by its id (prev_sorted_ids,
    non-decreasing). Their successors t+1 are where k-grams end, already grouped by prefix id;
    only each run that shares a prefix still needs sorting by the next word. Returns (positions
    sorted by k-gram id, their ids, the distinct keys id_{k-1} * V + w, their counts)."""
    m = len(prev_sorted)
    cand = np.empty(m, np.int64)
    pre = np.empty(m, np.int64)
    wd = np.empty(m, np.int64)
    n = 0
    for j in range(m):
        w = nxt[prev_sorted[j]]
        if w >= 0:  # the sentence goes on
            cand[n] = prev_sorted[j] + 1
            pre[n] = prev_sorted_ids[j]
            wd[n] = w
            n += 1
    i = 0
    while i < n:
        j = i + 1
        while j < n and pre[j] == pre[i]:
            j += 1
        if j - i > 32:
            order = np.argsort(wd[i:j], kind="mergesort")
            c_seg = cand[i:j].copy()
            w_seg = wd[i:j].copy()
            for q in range(j - i):
                cand[i + q] = c_seg[order[q]]
                wd[i + q] = w_seg[order[q]]
        else:  # insertion sort, stable, on short runs
            for a in range(i + 1, j):
                t, w = cand[a], wd[a]
                b = a - 1
                while b >= i and wd[b] > w:
                    cand[b + 1] = cand[b]
                    wd[b + 1] = wd[b]
                    b -= 1
                cand[b + 1] = t
                wd[b + 1] = w
        i = j
    keys = np.empty(n, np.int64)
    cnt = np.zeros(n, np.int64)
    sorted_ids = np.empty(n, np.int64)
    u = -1
    last = -1
    for j in range(n):
        key = pre[j] * V + wd[j]
        if key != last:
            u += 1
            keys[u] = key
            last = key
        cnt[u] += 1
        sorted_ids[j] = u
    return cand[:n].copy(), sorted_ids, keys[:u + 1].copy(), cnt[:u + 1].copy()


# ------------------------------------------------------------------------------------ sorting
@njit(cache=True)
def lane_major(W, bits, reverse, out):  # pragma: no cover - compiled
    """(n, k) word ids -> ``out`` (L, n) uint64: lane l of row i holds words l*per ..
    min(k, (l+1)*per) - 1 (per = 64 // bits), ``bits`` bits each, the first of them most
    significant; the words are taken from the last back when ``reverse`` (suffix order).
    Comparing the lanes in turn compares the words in turn. Lane-major, so lane 0 is
    contiguous, ready to sort (a transposed view of an (n, L) array gives row-major keys)."""
    n, k = W.shape
    per = 64 // bits
    b = np.uint64(bits)
    for lane in range(out.shape[0]):
        for i in range(n):
            key = np.uint64(0)
            for j in range(lane * per, min(k, lane * per + per)):
                w = W[i, k - 1 - j] if reverse else W[i, j]
                key = (key << b) | np.uint64(w)
            out[lane, i] = key


@njit(cache=True)
def break_ties(perm, lanes):  # pragma: no cover - compiled
    """``perm`` sorts the rows by lane 0; sort each run of equal lane 0 by lanes 1.. (in place),
    so that ``perm`` sorts the rows lexicographically by all lanes. ``lanes`` (L, n): lane l of
    row i at [l, i]. Short runs: insertion sort; long ones (a frequent suffix before counts are
    combined): stable sorts from the last lane."""
    L, n = lanes.shape
    i = 0
    while i < n:
        h = lanes[0, perm[i]]
        j = i + 1
        while j < n and lanes[0, perm[j]] == h:
            j += 1
        if j - i > 32:
            idx = perm[i:j].copy()
            for lane in range(L - 1, 0, -1):
                col = np.empty(j - i, np.uint64)
                for q in range(j - i):
                    col[q] = lanes[lane, idx[q]]
                idx = idx[np.argsort(col, kind="mergesort")]
            perm[i:j] = idx
        else:
            for a in range(i + 1, j):
                t = perm[a]
                b = a - 1
                while b >= i:
                    less = False
                    for lane in range(1, L):
                        x, y = lanes[lane, t], lanes[lane, perm[b]]
                        if x != y:
                            less = x < y
                            break
                    if not less:
                        break
                    perm[b + 1] = perm[b]
                    b -= 1
                perm[b + 1] = t
        i = j
    return perm


@njit(cache=True)
def run_starts(W, lo, hi):  # pragma: no cover - compiled
    """(n,) bool: row i starts a run of equal words W[:, lo:hi] (row 0 always does)."""
    n = W.shape[0]
    out = np.empty(n, np.bool_)
    for i in range(n):
        new = i == 0
        for j in range(lo, hi):
            if new or W[i, j] != W[i - 1, j]:
                new = True
                break
        out[i] = new
    return out


@njit(cache=True)
def combine_equal(W, C):  # pragma: no cover - compiled
    """Rows sorted so that equal W rows are adjacent: each run of equal rows becomes its first
    row with C summed, compacted to the front in place; returns the number of rows kept."""
    n, k = W.shape
    if n == 0:
        return 0
    m = 0
    for i in range(1, n):
        same = True
        for j in range(k):
            if W[i, j] != W[m, j]:
                same = False
                break
        if same:
            C[m] += C[i]
        else:
            m += 1
            if m != i:
                for j in range(k):
                    W[m, j] = W[i, j]
                C[m] = C[i]
    return m + 1


@njit(cache=True)
def gather_rows(src, perm, out):  # pragma: no cover - compiled
    """out[i] = src[perm[i]] for 2-D arrays (records viewed as rows of machine words)."""
    n, m = len(perm), src.shape[1]
    for i in range(n):
        r = perm[i]
        for j in range(m):
            out[i, j] = src[r, j]
    return out


# ------------------------------------------------------------------------------- ARPA lines
# "00" "01" .. "99": two digits a step
_PAIRS = np.array([ord(c) for i in range(100) for c in f"{i:02d}"], dtype=np.uint8)


@njit(cache=True, inline="always")
def _put_float(buf, p, v):  # pragma: no cover - compiled; same text as arpa._fmt1
    """Six decimals, trailing zeros and point dropped, -inf (or <= -99) as -99, at byte p
    (unsigned); returns the byte after."""
    one = np.uint64(1)
    if not (v > -99.0):
        v = -99.0
    scaled = np.uint64(np.floor(abs(v) * 1e6 + 0.5))
    if scaled == 0:
        buf[p] = 48  # "0"
        return p + one
    if v < 0:
        buf[p] = 45  # "-"
        p += one
    ip = scaled // np.uint64(1000000)
    fp = scaled - ip * np.uint64(1000000)
    if ip < 10:
        buf[p] = np.uint8(48 + ip)
        p += one
    elif ip < 100:
        buf[p] = _PAIRS[2 * ip]
        buf[p + one] = _PAIRS[2 * ip + one]
        p += np.uint64(2)
    else:
        nd = np.uint64(1)  # digits of the integer part, written right to left
        t = ip // np.uint64(10)
        while t:
            nd += one
            t //= np.uint64(10)
        for i in range(nd):
            buf[p + nd - one - np.uint64(i)] = np.uint8(48 + ip % np.uint64(10))
            ip //= np.uint64(10)
        p += nd
    if fp:
        buf[p] = 46  # "."
        a = fp // np.uint64(10000)  # six digits, two at a time, then the zeros dropped
        b = fp // np.uint64(100) % np.uint64(100)
        c = fp % np.uint64(100)
        buf[p + np.uint64(1)] = _PAIRS[2 * a]
        buf[p + np.uint64(2)] = _PAIRS[2 * a + one]
        buf[p + np.uint64(3)] = _PAIRS[2 * b]
        buf[p + np.uint64(4)] = _PAIRS[2 * b + one]
        buf[p + np.uint64(5)] = _PAIRS[2 * c]
        buf[p + np.uint64(6)] = _PAIRS[2 * c + one]
        p += np.uint64(7)
        while buf[p - one] == 48:
            p -= one
    return p


@njit(cache=True)
def line_bytes(W, lens):  # pragma: no cover - compiled
    """An upper bound of the bytes :func:`format_lines` writes for these rows (and the 16
    bytes it may write past the last)."""
    n, k = W.shape
    total = 0
    for i in range(n):
        for j in range(k):
            total += lens[W[i, j]]
    return total + n * (k + 2 * 12 + 2) + PAD


PAD = 16  # words of at most this many bytes are copied from a table of rows this wide


@njit(cache=True)
def format_lines(W, lp, bo, with_bo, chars, offs, pad, out):  # pragma: no cover - compiled
    """``lp<TAB>w_1 .. w_k[<TAB>bo]<LF>`` per row into ``out``; returns the bytes written.
    A word of at most PAD bytes is copied as a whole row of ``pad`` (its bytes, zeros after:
    a fixed-size copy, the zeros overwritten by what follows), a longer one byte by byte from
    ``chars``; indices unsigned, so no negative-index checks."""
    p = np.uint64(0)
    one = np.uint64(1)
    n, k = W.shape
    for i in range(n):
        p = _put_float(out, p, lp[i])
        out[p] = 9
        p += one
        for j in range(k):
            if j:
                out[p] = 32
                p += one
            w = np.uint64(W[i, j])
            o = np.uint64(offs[w])
            m = np.uint64(offs[w + one]) - o
            if m <= np.uint64(PAD):
                for c in range(PAD):
                    out[p + np.uint64(c)] = pad[w, c]
            else:
                for c in range(m):
                    out[p + np.uint64(c)] = chars[o + np.uint64(c)]
            p += m
        if with_bo:
            out[p] = 9
            p += one
            p = _put_float(out, p, bo[i])
        out[p] = 10
        p += one
    return p


# -------------------------------------------------------------------------------- adjusting
@njit(cache=True)
def adjust_chunk(W, C, prev, has_prev, grp_c, grp_d, out_w, out_c, out_a, out_n,
                 final):  # pragma: no cover - compiled
    """lmplz's adjusting pass over padded N-grams in suffix order (one chunk; the state carries
    over): every order's groups g_k = w_{N-k+1}..w_N are runs, and they end in suffix order.

    W (n, N) the padded N-grams (<s> repeated before a sentence), C (n,) their counts; prev (N,)
    the last N-gram seen, has_prev (1,), grp_c / grp_d (N + 1,) the raw count and the distinct
    left words so far of the open group of each order k. A group that ends is written to row
    out_n[k-1] of out_w[k-1] (its words in the last k columns), out_c (raw count) and out_a
    (adjusted count) when it is an n-gram (<s> at most as its first word):

        a(g) = c(g) at order N or when g starts with <s>,  N1+(. g) otherwise

    ``final``: also end every open group after the chunk (the end of the stream)."""
    n, N = W.shape
    for i in range(n + (1 if final else 0)):
        if i < n:
            L = 0  # the common suffix with the previous N-gram
            if has_prev[0]:
                while L < N and W[i, N - 1 - L] == prev[N - 1 - L]:
                    L += 1
            else:
                L = -1
        else:
            L = 0 if has_prev[0] else -1
        if L >= 0:
            for k in range(N, L, -1):  # the groups of orders > L end with the previous N-gram
                real = True
                for j in range(N - k + 1, N):
                    if prev[j] == 1:  # <s> inside: padding, no n-gram
                        real = False
                        break
                if real:
                    r = out_n[k - 1]
                    for j in range(N):
                        out_w[k - 1, r, j] = prev[j]
                    out_c[k - 1, r] = grp_c[k]
                    out_a[k - 1, r] = grp_c[k] if (k == N or prev[N - k] == 1) else grp_d[k]
                    out_n[k - 1] = r + 1
                grp_c[k] = 0
                grp_d[k] = 0
        if i == n:
            break
        for k in range(1, N + 1):
            grp_c[k] += C[i]
        for k in range(max(L, 1), N):  # g_{k+1} is new within g_k: one more left word
            grp_d[k] += 1
        for j in range(N):
            prev[j] = W[i, j]
        has_prev[0] = True


@njit(cache=True)
def _scatter(src, lanes, dst, dst_lanes, s, e, lane, shift, mask, start):  # pragma: no cover
    """Counting sort of rows s..e of ``src``/``lanes`` into the same rows of ``dst``/
    ``dst_lanes`` by the digit (lanes[lane] >> shift) & mask, reading in order (stable); the
    digit d's rows end up at start[d]..start[d + 1] (absolute)."""
    m = src.shape[1]
    L = lanes.shape[0]
    nb = mask + 1
    start[:] = 0
    for i in range(s, e):
        start[((lanes[lane, i] >> shift) & mask) + 1] += 1
    start[0] = s
    for b in range(nb):
        start[b + 1] += start[b]
    pos = start[:nb].copy()
    for i in range(s, e):
        b = (lanes[lane, i] >> shift) & mask
        p = pos[b]
        pos[b] = p + 1
        for j in range(m):
            dst[p, j] = src[i, j]
        for t in range(L):
            dst_lanes[t, p] = lanes[t, i]


@njit(cache=True)
def _sort_gather(src, lanes, dst, s, e, lane):  # pragma: no cover - compiled
    """Rows s..e of ``src`` sorted by ``lanes`` from lane ``lane`` on (the lanes before it are
    equal within the rows) into the same rows of ``dst``."""
    m = src.shape[1]
    if e - s == 1:
        for j in range(m):
            dst[s, j] = src[s, j]
        return
    perm = np.argsort(lanes[lane, s:e])
    if lanes.shape[0] > lane + 1:
        perm = break_ties(perm, lanes[lane:, s:e])
    for q in range(e - s):
        r = s + perm[q]
        for j in range(m):
            dst[s + q, j] = src[r, j]


@njit(cache=True)
def bucket_sort(src, lanes, dst, dst_lanes, tops, big):  # pragma: no cover - compiled
    """Sort the rows of ``src`` (n, m machine words) by ``lanes`` (L, n; compared lane by
    lane), in place, with ``dst`` and ``dst_lanes`` (the same shapes) as scratch; ``tops[l]``:
    the significant bits of lane l. A most-significant-digit radix sort: a counting sort by the
    top 16 bits of lane 0 moves rows and lanes to their bucket, reading in order; a bucket of
    more than ``big`` rows is split again by its next 10 bits (into the other buffer), and so
    on down the lanes; each bucket of at most ``big`` rows is then sorted by its own lanes and
    gathered, so the random reads of the gather stay inside one bucket (in cache) instead of
    ranging over the whole buffer: the gather of an argsort costs a cache miss per row. Word
    ids are numbered by frequency, so the frequent words share their top bits and their
    buckets are the ones split again, as deep as they need."""
    n = src.shape[0]
    L = lanes.shape[0]
    if n == 0:
        return
    # a stack of buckets to sort, a row each: rows s..e, lane, bits of the lane left, and where
    # they are (0: src, 1: dst)
    stack = np.empty((64, 5), np.int64)
    stack[0] = (0, n, 0, tops[0], 0)
    top = 1
    first = True
    while top > 0:
        top -= 1
        s, e, lane, left, where = stack[top]
        if left == 0 and lane + 1 < L:
            lane += 1
            left = tops[lane]
        if (e - s <= big and not first) or left == 0:
            if where == 1:
                _sort_gather(dst, dst_lanes, src, s, e, lane)
            else:
                _sort_gather(src, lanes, dst, s, e, lane)
                for q in range(s, e):
                    for j in range(src.shape[1]):
                        src[q, j] = dst[q, j]
            continue
        b = min(16 if first else 10, left)
        first = False
        start = np.empty((1 << b) + 1, np.int64)
        shift = left - b
        if where == 0:
            _scatter(src, lanes, dst, dst_lanes, s, e, lane, shift, (1 << b) - 1, start)
        else:
            _scatter(dst, dst_lanes, src, lanes, s, e, lane, shift, (1 << b) - 1, start)
        if top + (1 << b) > len(stack):  # room for every sub-bucket
            grown = np.empty((2 * (top + (1 << b)), 5), np.int64)
            grown[:top] = stack[:top]
            stack = grown
        for c in range((1 << b) - 1, -1, -1):
            if start[c + 1] > start[c]:
                stack[top] = (start[c], start[c + 1], lane, shift, 1 - where)
                top += 1


# ------------------------------------------------------------------------------ merge join
@njit(cache=True, inline="always")
def _compare(A, a, B, b, reverse):  # pragma: no cover - compiled
    """Row a of A against row b of B (word ids), from the last word back when ``reverse``."""
    m = A.shape[1]
    for t in range(m):
        j = m - 1 - t if reverse else t
        if A[a, j] != B[b, j]:
            return -1 if A[a, j] < B[b, j] else 1
    return 0


@njit(cache=True)
def join_sorted(Q, S, V, i0, reverse, out, found):  # pragma: no cover - compiled
    """For each row of Q (sorted, in S's order) the value V of the equal row of S (sorted),
    walking S from row i0: out[q], found[q]. Returns (queries answered, row of S reached);
    it stops early where S runs out before a query is passed (the rest needs more of S)."""
    nq, ns = Q.shape[0], S.shape[0]
    i = i0
    for q in range(nq):
        c = -1
        while i < ns:
            c = _compare(S, i, Q, q, reverse)
            if c >= 0:
                break
            i += 1
        if i == ns:
            return q, i
        found[q] = c == 0
        if c == 0:
            out[q] = V[i]
    return nq, i


# ------------------------------------------------------------------------------ normalization
@njit(cache=True)
def normalize_runs(W, m, a, c, Dk, tk, u, g, keep, first, gam):  # pragma: no cover - compiled
    """Modified Kneser-Ney's normalization of records in context order (the runs of equal
    W[:, :m], whole in this chunk): for each n-gram hw of a context h with adjusted count a,

        u(w | h) = (a(hw) - D(a(hw))) / sum_v a(hv),   gamma(h) = sum_v D'(hv) / sum_v a(hv)

    with D' = D(a), or a itself where the n-gram is pruned (raw count c <= tk > 0: lmplz gives
    a pruned n-gram's whole mass to gamma). Sums run in row order (what ``np.bincount`` does
    in :func:`.kneser_ney.estimate`, so the floats are the same). Writes u, g (gamma of the
    row's context) and keep per row, first (the run's first row) and gam (gamma) per run;
    returns the number of runs."""
    n = W.shape[0]
    r = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n:
            same = True
            for t in range(m):
                if W[j, t] != W[i, t]:
                    same = False
                    break
            if not same:
                break
            j += 1
        den = 0.0
        num = 0.0
        for q in range(i, j):
            den += np.float64(a[q])
        for q in range(i, j):
            aq = a[q]
            pruned = tk > 0 and c[q] <= tk
            num += np.float64(aq) if pruned else Dk[min(aq, 3)]
        gamma = num / den
        for q in range(i, j):
            aq = a[q]
            u[q] = (np.float64(aq) - Dk[min(aq, 3)]) / den
            g[q] = gamma
            keep[q] = not (tk > 0 and c[q] <= tk)
        first[r] = i
        gam[r] = gamma
        r += 1
        i = j
    return r
