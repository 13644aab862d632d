"""Modified Kneser-Ney in bounded memory: lmplz's streaming pipeline, in numpy blocks.

Heafield, Pouzyrevsky, Clark & Koehn (2013), "Scalable Modified Kneser-Ney Language Model
Estimation" (ACL), section 3, as KenLM's lmplz implements it (lm/builder). Only the vocabulary
(V strings and a few V-sized arrays, as in lmplz) and one sort buffer per pass live in memory;
every n-gram table is a file of records (:mod:`.spill`) in one of two orders:

    suffix order   compared from the last word back:  n-grams sharing a suffix are adjacent
    context order  compared from the first word:      n-grams sharing a context are adjacent

The passes (names as in the paper), each a stream over sorted files:

    reading        the one reader and tokenizer (:mod:`groundup.data`); words numbered in order
                   of first appearance, the id stream spooled to disk (so stdin works)
    counting       per order k: the k-grams of each block of the stream, sorted in suffix order
                   with equal ones combined; full buffers spilled as runs, runs merged
    adjusting      a(g) = N1+(. g): in suffix order the (k+1)-grams with suffix g are one run,
                   and the runs come in the suffix order of the k-grams, so the continuation
                   counts stream beside the k-grams; count-of-counts and discounts follow
    normalization  sorted to context order, a context's n-grams are one run:
                   u(w | h) = (a(hw) - D(a(hw))) / sum_v a(hv),  gamma(h) = sum_v D(a(hv)) / sum_v a(hv)
    interpolation  sorted back to suffix order: p(w | h) = u(w | h) + gamma(h) p(w | h'), with
                   p(w | h') (the (k-1)-gram w_2..w_k) read from the order below, which streams
                   in the same order
    output         sorted to context order (the ARPA order of the in-memory builder), gamma(h)
                   joined to the n-gram h as its backoff; the ARPA file written block by block

Reading, counting and adjusting are one *engine*; what they hand on (:class:`Adjusted`: the
vocabulary, unigram counts, count-of-counts, each order's adjusted counts in context order) is
the seam where another engine plugs in (:mod:`.spark`: the same counts from a Spark job), and
the passes from the discounts on (:func:`estimate_streaming`) are the same for both.

Every number is computed with the same floating-point operations in the same order as the
in-memory reference :func:`.kneser_ney.estimate` (the sums over a context run in word order, as
``np.bincount`` does there), so the ARPA file is the same bytes whether the build spilled or
not, and the same as the in-memory builder's (tested).
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from ...errors import ConfigError, DataError
from .corpus import BOS_ID, EOS_ID, SPECIALS, UNK, UNK_ID, _assemble
from .model import warn_inner_whitespace
from .kneser_ney import (DiscountFallbackWarning, discounts, final_chain_grams, gamma_numerator,
                         prune_thresholds, raw_in_final_flush)
from .spill import (Cursor, ExternalSorter, MemoryAccount, Table, TempSpace, bits_for,
                    context_key, grouped, pack, record_dtype, run_starts, suffix_key)

SPOOL_LINES = 8192  # sentences encoded per step of the reading pass

# Bytes per row of what the passes compute from a chunk (the chunk itself included), from which
# they size their chunks to their share of the budget (spill.MemoryAccount). Counted generously:
# every temporary numpy array of the step, for k-gram records of ``isz`` bytes.
VOCAB_ROW = 192     # V-sized arrays: counts, remap, a(w), p(w), log p, backoff, unigram lines
BLOCK_ROW = 128     # a block of the token stream: ids, copies, positions, where k-grams end


def _count_row(k: int, isz: int) -> int:
    return BLOCK_ROW + 8 * k + isz          # + the k gathered columns, their stack, the records


def _adjust_row(k: int, isz: int) -> int:
    return 2 * isz + 48 + k                 # records, a, the adjusted copy, masks, bincount


def _norm_row(k: int, isz: int) -> int:
    return 2 * isz + 136 + 10 * k           # grouped's carry and copy, run ids, sums, u, gamma


def _interp_row(k: int, isz: int, key: int) -> int:
    return 2 * key + 2 * isz + 80           # query keys, lookup, p, log p, two record copies


def _cursor_row(isz: int, key: int) -> int:
    return isz + 4 * (key + 8)              # chunk; keys and values: the rest, new, joined


@dataclass
class StreamStats:
    """What a streaming build did: sizes, discounts, how much it spilled."""

    ngrams: list[int] = field(default_factory=list)
    n_sentences: int = 0
    n_words: int = 0
    discounts: list[list[float]] = field(default_factory=list)
    count_of_counts: list[list[int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    runs: dict[str, int] = field(default_factory=dict)  # pass -> sorted runs written
    temp_peak_bytes: int = 0
    memory_high_water: int = 0  # the most bytes held at once on the --memory account


# ----------------------------------------------------------------------------------- reading
def _spool(sentences: Iterable[Sequence[str]], space: TempSpace):
    """Number the words (first appearance; <unk> <s> </s> = 0 1 2) and spool the padded id
    stream to disk: (Table of int32 tokens, vocab, word counts, sentences)."""
    vocab = list(SPECIALS)
    index = {w: i for i, w in enumerate(vocab)}
    spool = Table(space, np.dtype("<i4"), "tokens")
    counts = np.zeros(1024, dtype=np.int64)
    n_sent = 0
    it = iter(sentences)
    while chunk := list(itertools.islice(it, SPOOL_LINES)):
        flat: list[str] = []
        lens = []
        for sent in chunk:
            flat.extend(sent)
            lens.append(len(sent))
        for w in dict.fromkeys(flat):
            if w not in index:
                index[w] = len(vocab)
                vocab.append(w)
        ids = np.fromiter(map(index.__getitem__, flat), dtype=np.int32, count=len(flat))
        enc = _assemble(vocab, ids, lens)
        if len(vocab) > len(counts):
            counts = np.concatenate([counts, np.zeros(max(len(vocab), 2 * len(counts)) - len(counts),
                                                      dtype=np.int64)])
        counts[:len(vocab)] += np.bincount(enc.tokens, minlength=len(vocab))
        spool.append(enc.tokens)
        n_sent += enc.n_sentences
    return spool, vocab, counts[:len(vocab)], n_sent


def restrict(vocab: list[str], counts: np.ndarray, text) -> tuple[list[str], np.ndarray]:
    """``min_count``/``max_vocab`` as :func:`.model.restrict_vocabulary`: (new vocab, remap old
    id -> new id), dropped words -> <unk>; kept words keep their order of first appearance.
    ``counts``: (V,) occurrences of each word (those of <s> and </s> are not looked at)."""
    remap = np.arange(len(vocab), dtype=np.int32)
    if text is None or (text.min_count == 1 and not text.max_vocab):
        return vocab, remap
    from ...data.pipeline import build_vocab

    freq = {vocab[i]: int(counts[i]) for i in range(len(vocab)) if i not in (BOS_ID, EOS_ID) and counts[i]}
    kept = build_vocab(freq, text, specials=(UNK,)).stoi
    new = list(SPECIALS)
    remap[3:] = UNK_ID
    for i in range(3, len(vocab)):
        if vocab[i] in kept:
            remap[i] = len(new)
            new.append(vocab[i])
    return new, remap


def _blocks(spool: Table, remap: np.ndarray, rows: int):
    """(tokens, pos) of whole sentences, about ``rows`` tokens at a time, from the spool."""
    carry = np.zeros(0, dtype=np.int32)
    for t in spool.chunks(rows):
        t = np.concatenate([carry, t]) if len(carry) else t
        last = int(np.flatnonzero(t == BOS_ID)[-1])  # the last sentence may go on
        if last == 0:
            carry = t
            continue
        yield _with_pos(remap[t[:last]])
        carry = t[last:]
    if len(carry):
        yield _with_pos(remap[carry])


def _with_pos(tok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(len(tok))
    start = np.maximum.accumulate(np.where(tok == BOS_ID, idx, 0))
    return tok, idx - start


def _last_padded(tok: np.ndarray, pos: np.ndarray, order: int) -> tuple[int, ...]:
    """:func:`.counts._last_padded_ngram` of one block."""
    from .corpus import EncodedCorpus
    from .counts import _last_padded_ngram

    return _last_padded_ngram(EncodedCorpus([], tok, pos, 0), order)


# ---------------------------------------------------------------------------------- counting
def _count(spool: Table, remap: np.ndarray, k: int, bits: int, space: TempSpace, budget: int,
           acct: MemoryAccount, stats: StreamStats) -> Table:
    """Order-k raw counts in suffix order: Table of (w (k,), c). Budget: 3/4 the sort buffer,
    1/4 the block being cut into k-grams; the merge of the runs, the whole budget."""
    dt = record_dtype(k, c="<i8")
    sorter = ExternalSorter(space, dt, suffix_key(bits), budget * 3 // 4, account=acct,
                            combine=True, stem=f"count{k}")
    with acct.hold(budget // 4) as share:
        for tok, pos in _blocks(spool, remap, max(share // _count_row(k, dt.itemsize), 256)):
            at = np.flatnonzero(pos >= k - 1)  # where a k-gram ends
            rec = np.empty(len(at), dtype=dt)
            rec["w"] = np.stack([tok[at - k + 1 + j] for j in range(k)], axis=1)
            rec["c"] = 1
            sorter.add(rec)
    sorter.finish()
    stats.runs[f"counting {k}"] = len(sorter.runs)
    with acct.hold(budget) as share:
        return sorter.to_table(f"counts{k}", sorter.chunk_rows(share))


# --------------------------------------------------------------------------------- adjusting
def _continuations(table: Table, rows: int):
    """N1+(. g) for each distinct suffix g of the (k+1)-grams of ``table`` (suffix order), in
    order: run lengths of equal w_2..w_{k+1}, a run that spans two chunks joined."""
    pending_w, pending_n = None, 0
    for rec in table.chunks(rows):
        s = rec["w"][:, 1:]
        starts = np.flatnonzero(run_starts(rec["w"], s.shape[1] + 1, lo=1))
        runs = np.diff(np.r_[starts, len(s)])
        if pending_w is not None:
            if (s[0] == pending_w).all():
                runs[0] += pending_n
            else:
                yield np.array([pending_n])
        pending_w, pending_n = s[-1].copy(), int(runs[-1])
        yield runs[:-1]
    if pending_w is not None:
        yield np.array([pending_n])


class _Take:
    """Hand out the next m values of a stream of arrays."""

    def __init__(self, stream):
        self.it, self.buf = iter(stream), np.zeros(0, dtype=np.int64)

    def take(self, m: int) -> np.ndarray:
        while len(self.buf) < m:
            nxt = next(self.it, None)
            if nxt is None:
                raise RuntimeError("continuation counts out of step with the n-grams")
            self.buf = np.concatenate([self.buf, nxt])
        out, self.buf = self.buf[:m], self.buf[m:]
        return out

    def empty(self) -> bool:
        return len(self.buf) == 0 and all(len(x) == 0 for x in self.it)


def _adjust(counts: Table, above: Table, share: int, space: TempSpace, n_row: np.ndarray,
            target: tuple[int, ...] | None) -> tuple[Table, tuple[int, int] | None]:
    """a(g) of the order-k n-grams (suffix order): raw count when g starts with <s>, else the
    continuation count from the (k+1)-grams. Fills ``n_row`` (count-of-counts) and returns the
    (raw, adjusted) of ``target`` when present (lmplz's final-flush detail). The two streams
    share ``share`` bytes half and half."""
    k = counts.dtype["w"].shape[0]
    dt = record_dtype(k, c="<i8", a="<i8")
    out = Table(space, dt, f"adjusted{k}")
    up = above.dtype.itemsize
    cont = _Take(_continuations(above, max(share // 2 // (up + 48 + k), 64)))
    found = None
    for rec in counts.chunks(max(share // 2 // _adjust_row(k, dt.itemsize), 64)):
        a = rec["c"].copy()
        free = rec["w"][:, 0] != BOS_ID
        a[free] = cont.take(int(free.sum()))
        n_row += np.bincount(np.minimum(a, 5), minlength=6)[:5]
        if target is not None:
            hit = np.flatnonzero((rec["w"] == np.asarray(target)).all(axis=1))
            if len(hit):
                found = (int(rec["c"][hit[0]]), int(a[hit[0]]))
        adj = np.empty(len(rec), dtype=dt)
        adj["w"], adj["c"], adj["a"] = rec["w"], rec["c"], a
        out.append(adj)
    if not cont.empty():
        raise RuntimeError("continuation counts out of step with the n-grams")
    return out, found


# ------------------------------------------------------------------------------- the seam
ContextStream = Callable[[int], Iterable[np.ndarray]]  # share (bytes) -> record chunks


@dataclass
class Adjusted:
    """What counting and adjusting hand on to the rest of the estimation: the seam between an
    engine that counts (this module's passes, or the Spark job of :mod:`.spark`) and the
    passes from the discounts on, which stream the same way whichever engine counted.

    ``by_context(k)`` (k = 2..N, called once per order in increasing k) prepares order k and
    returns ``stream(share)``, which yields the order-k records ``w`` (k,), ``c`` raw count
    and ``a`` adjusted count (order N may leave ``a`` out: a = c there) in context order, in
    chunks that fit ``share`` bytes."""

    vocab: list[str]
    c1: np.ndarray   # (V,) raw unigram counts, c(<s>) = 0
    a1: np.ndarray   # (V,) adjusted unigram counts
    n: np.ndarray    # (N, 5) count-of-counts n[k-1, j] of the adjusted counts, final flush applied
    by_context: Callable[[int], ContextStream]


def apply_final_flush(n: np.ndarray, chain_grams: list[tuple[int, ...]],
                      found: dict[int, tuple[int, int] | None]) -> None:
    """lmplz's final flush (:func:`.kneser_ney.raw_in_final_flush`) on ``n``: ``found`` maps the
    length of each chain n-gram to its (raw, adjusted) counts, or None where it is no n-gram
    of the corpus (the chain stops there)."""
    chain = []
    for gram in chain_grams:
        if found.get(len(gram)) is None:
            break
        chain.append((len(gram),) + found[len(gram)])
    raw_in_final_flush(n, chain)


def context_chunks(chunks: Iterable[np.ndarray], share: int) -> Iterator[np.ndarray]:
    """Record chunks re-cut to what normalization holds at once in ``share`` bytes (for an
    engine whose chunks come in sizes of its own)."""
    for rec in chunks:
        rows = max(share // _norm_row(rec["w"].shape[1], rec.dtype.itemsize), 64)
        for i in range(0, len(rec), rows):
            yield rec[i:i + rows]


def check_order(order) -> None:
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ConfigError(f"order must be an integer >= 1, got {order!r}")


def check_size(stats: "StreamStats", N: int) -> None:
    """The errors of a corpus too small to estimate from."""
    if stats.n_sentences == 0:
        raise ConfigError("cannot build a model from an empty corpus")
    if stats.n_words < N:
        raise DataError(f"{stats.n_words} tokens, fewer than the model order {N}")


def vocab_budget(memory: int, V: int, acct: MemoryAccount) -> int:
    """Reserve the V-sized arrays for the whole build; every pass then has the rest, B."""
    acct.reserve(V * VOCAB_ROW)
    return max(memory - V * VOCAB_ROW, 1 << 15)


# ----------------------------------------------------------------------------- the pipeline
def build_streaming(sentences: Iterable[Sequence[str]], order: int, path, *,
                    memory: int, temp_dir=None, modified: bool = True, text=None,
                    prune=()) -> StreamStats:
    """Estimate an interpolated (modified) Kneser-Ney model of ``order`` from token lists and
    write it as an ARPA file at ``path`` (atomically), holding at most about ``memory`` bytes
    of n-gram data in memory at any time (module docstring). ``text``: the text options, whose
    ``min_count``/``max_vocab`` map words to <unk> and which the file records; ``prune``:
    lmplz's count-pruning thresholds (:func:`.kneser_ney.prune_thresholds`)."""
    check_order(order)
    prune_thresholds(prune, order)
    stats = StreamStats()
    acct = MemoryAccount(memory)
    _return_freed_memory()
    with TempSpace(temp_dir) as space:
        adjusted, B = _count_and_adjust(sentences, order, space, memory, acct, text, stats)
        estimate_streaming(adjusted, order, path, space=space, budget=B, acct=acct,
                           modified=modified, text=text, prune=prune, stats=stats)
    return stats


def _count_and_adjust(sentences: Iterable[Sequence[str]], N: int, space: TempSpace, memory: int,
                      acct: MemoryAccount, text, stats: StreamStats) -> tuple[Adjusted, int]:
    """The single-machine engine: reading, counting and adjusting over sorted files; returns
    what it hands on and the budget B of each later pass."""
    # reading
    spool, vocab, word_counts, n_sent = _spool(sentences, space)
    stats.n_sentences, stats.n_words = n_sent, spool.rows - 2 * n_sent
    check_size(stats, N)
    vocab, remap = restrict(vocab, word_counts, text)
    V = len(vocab)
    bits = bits_for(V)
    B = vocab_budget(memory, V, acct)

    # counting: unigrams in memory (V-sized), higher orders sorted on disk
    c1 = np.zeros(V, dtype=np.int64)
    full: tuple[int, ...] = ()
    with acct.hold(B) as share:
        for tok, pos in _blocks(spool, remap, max(share // (2 * BLOCK_ROW), 256)):
            c1 += np.bincount(tok[pos >= 1], minlength=V)  # <s> is no event
            last = _last_padded(tok, pos, N)
            if last and (not full or last[::-1] > full[::-1]):
                full = last
    counts = {k: _count(spool, remap, k, bits, space, B, acct, stats) for k in range(2, N + 1)}
    spool.drop()
    stats.ngrams = [V] + [counts[k].rows for k in range(2, N + 1)]

    # adjusting: from the top order down; count-of-counts
    n = np.zeros((N, 5), dtype=np.int64)
    chain_grams = final_chain_grams(full) if N > 1 and full else []
    found: dict[int, tuple[int, int] | None] = {}
    adjusted = {N: counts[N]} if N > 1 else {}
    acct.reserve(B)  # the adjusting passes: one or two streams at a time
    if N > 1:
        for rec in counts[N].chunks(B // _adjust_row(N, counts[N].dtype.itemsize)):
            n[N - 1] += np.bincount(np.minimum(rec["c"], 5), minlength=6)[:5]
    for k in range(N - 1, 1, -1):
        target = chain_grams[k - 1] if k - 1 < len(chain_grams) else None
        adjusted[k], found[k] = _adjust(counts[k], counts[k + 1], B, space, n[k - 1], target)
        if k + 1 < N:
            counts[k + 1].drop()
    left = np.zeros(V, dtype=np.int64)
    if N > 1:
        for rec in counts[2].chunks(B // _adjust_row(2, counts[2].dtype.itemsize)):
            left += np.bincount(rec["w"][:, 1], minlength=V)
    acct.release(B)
    # a = c at the top order and for <s>; else the distinct left words, from the bigrams
    a1 = c1 if N == 1 else np.where(np.arange(V) == BOS_ID, c1, left).astype(np.int64)
    n[0] = np.bincount(np.minimum(a1, 5), minlength=6)[:5]
    n[:, 0] = 0
    if chain_grams:
        found[1] = (int(c1[chain_grams[0][0]]), int(a1[chain_grams[0][0]]))
        apply_final_flush(n, chain_grams, found)
    for k in range(2, N):
        counts[k].drop()

    def by_context(k: int) -> ContextStream:
        """Normalization's sort to context order. Budget, filling: 3/4 the sort, 1/4 the
        chunks read; then the caller's share for its merge (with what a chunk computes)."""
        table = adjusted.pop(k)
        isz = table.dtype.itemsize
        to_ctx = ExternalSorter(space, table.dtype, context_key(bits), B * 3 // 4, account=acct,
                                stem=f"ctx{k}")
        with acct.hold(B // 4) as share:
            for rec in table.chunks(max(share // isz, 64)):
                to_ctx.add(rec)
        to_ctx.finish()
        table.drop()
        stats.runs[f"normalization {k}"] = len(to_ctx.runs)
        return lambda share: to_ctx.sorted_chunks(to_ctx.chunk_rows(share, _norm_row(k, isz)))

    return Adjusted(vocab, c1, a1, n, by_context), B


def estimate_streaming(adj: Adjusted, N: int, path, *, space: TempSpace, budget: int,
                       acct: MemoryAccount, modified: bool, text, prune,
                       stats: StreamStats) -> None:
    """From the adjusted counts on: discounts, normalization, interpolation and the ARPA file
    at ``path``, each pass in ``budget`` bytes held on ``acct`` (the temporary files in
    ``space``); ``stats.ngrams`` holds the sizes per order on entry (the kept ones on return)."""
    t = prune_thresholds(prune, N)
    vocab, c1, a1, n = adj.vocab, adj.c1, adj.a1, adj.n
    warn_inner_whitespace(vocab, text)
    V = len(vocab)
    bits = bits_for(V)
    B = budget

    # discounts
    D, problems = discounts(n, modified=modified)
    for p in problems:
        warnings.warn(p, DiscountFallbackWarning, stacklevel=3)
    stats.discounts, stats.count_of_counts = D[:, 1:].tolist(), n[:, 1:].tolist()
    stats.warnings = problems

    # order 1, in memory as in kneser_ney.estimate
    Vu = V - 1
    a1f = a1.astype(np.float64)
    d1 = D[0][np.minimum(a1, 3)]
    gamma0 = d1.sum() / a1f.sum()
    p1 = (a1f - d1) / a1f.sum() + gamma0 / Vu
    p1[BOS_ID] = 1.0

    # normalization (context order) and interpolation (suffix order), order by order
    backoff = {}  # k -> Table of (w (k,), b = log10 gamma) in context order
    outputs = {}  # k -> sorter of (w, lp) to context order
    below = None  # Table of (w, p) of order k-1 in suffix order (k >= 3)
    for k in range(2, N + 1):
        norm = _normalize(adj.by_context(k), k, D[k - 1], t[k - 1], bits, space, B, acct)
        backoff[k - 1] = norm.backoff
        p_table, outputs[k] = _interpolate(norm.sorter, k, N, p1, below, bits, space, B, acct,
                                           stats)
        if below is not None:
            below.drop()
        below = p_table

    # output
    from .arpa import LineFormatter, write_arpa_sections

    fmt = LineFormatter(vocab)
    lp1 = np.minimum(np.log10(p1), 0.0)
    bo1 = np.zeros(V)
    if N > 1:
        for rec in backoff[1].chunks(B // _cursor_row(backoff[1].dtype.itemsize, 8)):
            bo1[rec["w"][:, 0]] = rec["b"]

    def section(k):
        """Budget: 1/2 the merge to context order (with the keys and backoffs computed from
        a chunk), 1/4 the backoff stream, 1/4 the formatted text."""
        if k == 1:
            yield fmt.format(np.arange(V, dtype=np.int64).reshape(V, 1), lp1, bo1, N > 1)
            return
        out = outputs[k]
        with acct.hold(B):
            bo = None
            if k < N:
                brows = B // 4 // _cursor_row(backoff[k].dtype.itemsize, out.key_bytes)
                bo = Cursor(backoff[k].chunks(brows), context_key(bits), "b", default=0.0)
            line = k * int(fmt.lens.max()) + k + 26  # the longest line of order k
            for rec in out.sorted_chunks(out.chunk_rows(B // 2, out.key_bytes + 4 * k + 40)):
                b = bo.lookup(context_key(bits)(rec)) if bo is not None else np.zeros(len(rec))
                W = np.ascontiguousarray(rec["w"])
                step = max(B // 4 // line, 256)
                for i in range(0, len(rec), step):
                    yield fmt.format(W[i:i + step], rec["lp"][i:i + step], b[i:i + step], k < N)

    write_arpa_sections(path, text.record() if text is not None else None, stats.ngrams,
                        (section(k) for k in range(1, N + 1)))
    stats.temp_peak_bytes = space.peak_bytes
    stats.memory_high_water = acct.high_water


def _return_freed_memory() -> None:
    """glibc raises its mmap threshold after large frees (up to 32 MB), after which freed sort
    buffers stay in the heap and count as resident; a fixed threshold hands them back."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 17)  # M_MMAP_THRESHOLD = 128 KiB
    except (OSError, AttributeError):
        pass


@dataclass
class _Normalized:
    sorter: ExternalSorter  # (w, u, g) of order k, to suffix order
    backoff: Table          # (w (k-1,), b) of the contexts, context order


def _normalize(stream: ContextStream, k: int, Dk: np.ndarray, tk: int, bits: int,
               space: TempSpace, budget: int, acct: MemoryAccount) -> _Normalized:
    """u and gamma of the order-k records, which ``stream`` yields in context order. Budget:
    1/2 the stream (with what a chunk computes), 1/2 the sort to suffix order."""
    # keep: not pruned (the field only when pruning: records of 4k + 16 bytes copy as words)
    dt = record_dtype(k, u="<f8", g="<f8", **({"keep": "?"} if tk > 0 else {}))
    to_suffix = ExternalSorter(space, dt, suffix_key(bits), budget // 2, account=acct,
                               stem=f"suf{k}")
    bdt = record_dtype(k - 1, b="<f8")
    backoff = Table(space, bdt, f"backoff{k - 1}")
    with acct.hold(budget // 2) as share:
        for rec in grouped(stream(share), k - 1):
            w = rec["w"]
            first = run_starts(w, k - 1)  # where a context's run starts
            gid = np.cumsum(first) - 1  # the run of each n-gram
            a = rec["a"] if "a" in rec.dtype.names else rec["c"]  # order N: a = c
            ak = a.astype(np.float64)
            dk = Dk[np.minimum(a, 3)]
            pruned = rec["c"] <= tk if tk > 0 else None  # by raw count, as lmplz
            den = np.bincount(gid, weights=ak)  # sum_v a(hv)
            gamma = gamma_numerator(gid, dk, ak, pruned, None) / den
            out = np.empty(len(rec), dtype=dt)
            out["w"], out["u"], out["g"] = w, (ak - dk) / den[gid], gamma[gid]
            if pruned is not None:
                out["keep"] = ~pruned
            to_suffix.add(out)
            starts = np.flatnonzero(first)
            b = np.empty(len(starts), dtype=bdt)
            b["w"], b["b"] = w[starts, :k - 1], np.log10(gamma)
            backoff.append(b)
    to_suffix.finish()
    return _Normalized(to_suffix, backoff)


def _interpolate(norm: ExternalSorter, k: int, N: int, p1: np.ndarray, below: Table | None,
                 bits: int, space: TempSpace, budget: int, acct: MemoryAccount,
                 stats: StreamStats):
    """p_k = u + gamma * p_{k-1}(suffix) in suffix order; returns (Table of (w, p) for the
    next order or None at N, sorter of (w, lp) to context order for the output). Budget: 1/2
    the sort to context order, 1/4 the merge to suffix order (with what a chunk computes), 1/4
    the stream of the order below."""
    stats.runs[f"interpolation {k}"] = len(norm.runs)
    odt = record_dtype(k, lp="<f8")
    to_out = ExternalSorter(space, odt, context_key(bits), budget // 2, account=acct,
                            stem=f"out{k}")
    pdt = record_dtype(k, p="<f8")
    p_table = Table(space, pdt, f"p{k}") if k < N else None
    stats.ngrams[k - 1] = 0  # the n-grams kept (all but the pruned)
    with acct.hold(budget // 2) as share:
        lower = None if k == 2 else Cursor(
            below.chunks(max(share // 2 // _cursor_row(below.dtype.itemsize, norm.key_bytes), 64)),
            suffix_key(bits), "p")
        work = _interp_row(k, pdt.itemsize, norm.key_bytes)
        for rec in norm.sorted_chunks(norm.chunk_rows(share // 2, work)):
            w = rec["w"]
            if lower is None:
                plow = p1[w[:, 1]]
            else:
                plow = lower.lookup(pack(w[:, 1:], bits, reverse=True))  # w_2..w_k in suffix order
            pk = rec["u"] + rec["g"] * plow
            if p_table is not None:
                pr = np.empty(len(rec), dtype=pdt)
                pr["w"], pr["p"] = w, pk
                p_table.append(pr)
            if "keep" in rec.dtype.names:
                keep = rec["keep"]
                w, pk = w[keep], pk[keep]
            out = np.empty(len(w), dtype=odt)
            out["w"], out["lp"] = w, np.minimum(np.log10(pk), 0.0)
            to_out.add(out)
            stats.ngrams[k - 1] += len(out)
    to_out.finish()
    stats.runs[f"output {k}"] = len(to_out.runs)
    return p_table, to_out
