"""Modified Kneser-Ney in bounded memory: lmplz's streaming pipeline, in numpy blocks.

Heafield, Pouzyrevsky, Clark & Koehn (2013), "Scalable Modified Kneser-Ney Language Model
Estimation" (ACL), section 3, as KenLM's lmplz implements it (lm/builder). Only the vocabulary
(V strings and a few V-sized arrays, as in lmplz) and one sort buffer per pass live in memory;
every n-gram table is a file of records (:mod:`.spill`) in one of two orders:

    suffix order   compared from the last word back:  n-grams sharing a suffix are adjacent
    context order  compared from the first word:      n-grams sharing a context are adjacent

The passes (names as in the paper), each a stream over sorted files; three sorts, as lmplz:

    reading        the one reader and tokenizer (:mod:`groundup.data`); words numbered in order
                   of first appearance, the id stream spooled to disk (so stdin works)
    counting       the N-grams ending at every word, padded with <s> before a sentence (so
                   every k-gram is the suffix of one), sorted in suffix order (sort 1) with
                   equal ones combined; full buffers spilled as runs, runs merged
    adjusting      in suffix order each order's n-grams g are runs of the N-grams, ending in
                   suffix order, so one pass gives every order at once: c(g) the run's total,
                   a(g) = N1+(. g) its distinct left words (c(g) at N or after <s>); runs of
                   padding (<s> past the first word) are no n-grams; count-of-counts, discounts
    normalization  sorted to context order (sort 2), a context's n-grams are one run:
                   u(w | h) = (a(hw) - D(a(hw))) / sum_v a(hv),  gamma(h) = sum_v D(a(hv)) / sum_v a(hv);
                   from the top order down, so that order k's n-grams are joined to log10 gamma of
                   each as a context of order k + 1 (the same order of the same words, a merge
                   join) on the way
    interpolation  sorted to suffix order (sort 3): p(w | h) = u(w | h) + gamma(h) p(w | h'),
                   with p(w | h') (the (k-1)-gram w_2..w_k) read from the order below, which
                   streams in the same order; each line of the ARPA file written as it is
                   computed, in suffix order (lmplz's order; :mod:`.arpa`)

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

import gc
import itertools
from contextlib import contextmanager
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from ...errors import ConfigError, DataError
from .corpus import BOS_ID, EOS_ID, SPECIALS, UNK, UNK_ID, _assemble
from .model import warn_inner_whitespace
from .kneser_ney import (DiscountFallbackWarning, discounts, final_chain_grams,
                         prune_thresholds, raw_in_final_flush)
from .spill import (ExternalSorter, Join, MemoryAccount, Table, TempSpace, bits_for,
                    context_key, grouped, record_dtype, reuse_freed_memory,
                    capped, row_cost, stream_share, trim_heap,
                    suffix_key)

SPOOL_LINES = 8192  # sentences encoded per step of the reading pass

# Bytes per row of what the passes compute from a chunk (the chunk itself included), from which
# they size their chunks to their share of the budget (spill.MemoryAccount). Counted generously:
# every temporary numpy array of the step, for k-gram records of ``isz`` bytes.
VOCAB_ROW = 208     # V-sized arrays: counts, remap, a(w), p(w), log p, backoff, unigram lines,
                    # the ARPA formatter's word table (16 bytes a word)
BLOCK_ROW = 128     # a block of the token stream: ids, copies, positions, where k-grams end


def _count_row(k: int, isz: int) -> int:
    return BLOCK_ROW + 8 * k + isz          # + the k gathered columns, their stack, the records


def _norm_row(k: int, isz: int) -> int:
    return 2 * isz + 136 + 10 * k           # grouped's carry and copy, run ids, sums, u, gamma


def _interp_row(k: int, isz: int, key: int) -> int:
    return 2 * key + 2 * isz + 80           # query words and lookup (<= 2 keys), p, log p, copies


def _join_row(isz: int, k: int) -> int:
    return isz + 3 * (4 * k + 8)            # chunk; words and values: the rest, new, joined


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
    temp_peak_bytes: int = 0         # temporary files on disk, at most at once
    temp_memory_peak_bytes: int = 0  # temporary files held in memory (blocks), at most at once
    memory_high_water: int = 0  # the most bytes held at once on the --memory account


# ----------------------------------------------------------------------------------- reading
def _spool(sentences: Iterable[Sequence[str]], space: TempSpace,
           on_lines: Callable[[int], None] | None = None):
    """Number the words (first appearance; <unk> <s> </s> = 0 1 2) and spool the padded id
    stream to disk: (Table of int32 tokens, vocab, word counts, sentences). A corpus the
    compiled reader can number (:attr:`.corpora.TextCorpus.can_number`: the ``spaces``
    tokenizer) is numbered by it, the same ids without a Python string per token;
    ``on_lines`` is then told the lines read, a block at a time."""
    vocab = list(SPECIALS)
    if getattr(sentences, "can_number", False):
        blocks = _numbered_blocks(sentences, vocab, on_lines)
    else:
        blocks = _python_blocks(sentences, vocab)
    spool = Table(space, np.dtype("<i4"), "tokens")
    counts = np.zeros(1024, dtype=np.int64)
    n_sent = 0
    for ids, lens in blocks:  # the block's new words are in vocab now
        enc = _assemble(vocab, ids, lens)
        V = len(vocab)
        if V > len(counts):
            counts = np.concatenate([counts, np.zeros(max(V, 2 * len(counts)) - len(counts),
                                                      dtype=np.int64)])
        counts[:V] += np.bincount(enc.tokens, minlength=V)
        spool.append(enc.tokens)
        n_sent += enc.n_sentences
    return spool, vocab, counts[:len(vocab)], n_sent


def _python_blocks(sentences: Iterable[Sequence[str]], vocab: list[str]):
    """(word ids, words per line) of :data:`SPOOL_LINES` token lists at a time, new words
    appended to ``vocab``."""
    index = {w: i for i, w in enumerate(vocab)}
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
        yield np.fromiter(map(index.__getitem__, flat), dtype=np.int32, count=len(flat)), lens


def _numbered_blocks(corpus, vocab: list[str], on_lines: Callable[[int], None] | None):
    """The same from the compiled numbering (:mod:`groundup.data.fastwords`), a block of the
    reader at a time."""
    from ...data.fastwords import WordNumbering

    numbering = WordNumbering(vocab)
    for ids, lens in corpus.numbered_lines(numbering):
        vocab.extend(numbering.words[len(vocab):])
        yield ids, lens
        if on_lines is not None:
            on_lines(len(lens))


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


# ---------------------------------------------------------------------------------- counting
def _arena_need(T: int, N: int, bits: int, pruning: bool) -> int:
    """The bytes of sort arena that sort every pass's records in one buffer, for a stream of
    ``T`` tokens (no sort has more records): the largest of the counting sort, the sorts to
    context order, and the sorts to suffix order with the context-order records of the same
    order resident beside them (:class:`.spill.SortArena`)."""
    def cost(dt):
        lanes = -(-dt["w"].shape[0] // (64 // bits))
        return row_cost(dt, 8 * lanes)

    need = cost(record_dtype(N, c="<i8"))
    for k in range(2, N + 1):
        ctx = record_dtype(k, c="<i8", **({"a": "<i8"} if k < N else {}))
        suf = record_dtype(k, u="<f8", g="<f8", **({"bo": "<f8"} if k < N else {}),
                           **({"keep": "?"} if pruning else {}))
        need = max(need, cost(ctx), ctx.itemsize + cost(suf))
    return T * need


def _count(spool: Table, remap: np.ndarray, N: int, bits: int, space: TempSpace, budget: int,
           acct: MemoryAccount, stats: StreamStats, pruning: bool = False) -> ExternalSorter:
    """The padded N-grams' raw counts in suffix order: a sort of (w (N,), c), one N-gram
    ending at every word and </s>, with <s> standing in for the words before a sentence (as
    lmplz counts). Budget: the sort arena (only as big as the corpus needs: the rest holds
    temporary files in memory), a stream's share for the blocks cut into N-grams."""
    dt = record_dtype(N, c="<i8")
    arena = acct.sort_arena(budget, _arena_need(spool.rows, N, bits, pruning), space)
    sorter = ExternalSorter(space, dt, suffix_key(bits), account=acct, combine=True,
                            stem=f"count{N}", arena=arena)
    with acct.hold(stream_share(budget)) as share:
        row = _count_row(N, dt.itemsize)
        for tok, pos in _blocks(spool, remap, capped(share // row, row)):
            at = np.flatnonzero(pos >= 1)  # where an N-gram ends
            rec = np.empty(len(at), dtype=dt)
            for j in range(N):  # word j of N, N - 1 - j before the end
                back = N - 1 - j
                rec["w"][:, j] = np.where(pos[at] >= back, tok[np.maximum(at - back, 0)], BOS_ID)
            rec["c"] = 1
            sorter.add(rec)
    sorter.finish()
    stats.runs[f"counting {N}"] = sorter.n_runs
    return sorter


# --------------------------------------------------------------------------------- adjusting
def _adjust(counts: ExternalSorter, N: int, V: int, space: TempSpace, share: int):
    """Every order's n-grams with raw and adjusted counts from one pass over the padded
    N-grams in suffix order (:func:`.build_kernels.adjust_chunk`): (c1, a1) (V,) for the
    unigrams, {k: Table of (w (k,), c, a)} in suffix order for 2 <= k < N and of (w, c) at
    N, the count-of-counts (N, 5), and the (raw, adjusted) counts of the last padded
    N-gram's suffixes and its words (lmplz's final flush): {k: (c, a)}, (w_1, .., w_N)."""
    from .build_kernels import adjust_chunk

    c1 = np.zeros(V, dtype=np.int64)
    a1 = np.zeros(V, dtype=np.int64)
    n = np.zeros((N, 5), dtype=np.int64)
    tables = {k: Table(space, record_dtype(k, c="<i8", **({"a": "<i8"} if k < N else {})),
                       f"adjusted{k}") for k in range(2, N + 1)}
    prev = np.zeros(N, dtype=np.int64)
    has_prev = np.zeros(1, dtype=np.bool_)
    grp_c = np.zeros(N + 1, dtype=np.int64)
    grp_d = np.zeros(N + 1, dtype=np.int64)
    last: dict[int, tuple[int, int]] = {}
    row = N * (4 * N + 16)  # every order's groups that may end in a chunk's rows
    chunks = counts.sorted_chunks(counts.chunk_rows(share, row))
    rec = next(chunks, None)
    while rec is not None:
        nxt = next(chunks, None)
        m = len(rec) + 1
        out_w = np.empty((N, m, N), dtype=np.uint32)
        out_c = np.empty((N, m), dtype=np.int64)
        out_a = np.empty((N, m), dtype=np.int64)
        out_n = np.zeros(N, dtype=np.int64)
        adjust_chunk(np.ascontiguousarray(rec["w"]), rec["c"], prev, has_prev, grp_c, grp_d,
                     out_w, out_c, out_a, out_n, nxt is None)
        for k in range(1, N + 1):
            r = int(out_n[k - 1])
            if r == 0:
                continue
            w, c, a = out_w[k - 1, :r, N - k:], out_c[k - 1, :r], out_a[k - 1, :r]
            n[k - 1] += np.bincount(np.minimum(a, 5), minlength=6)[:5]
            last[k] = (int(c[-1]), int(a[-1]))
            if k == 1:
                c1[w[:, 0]], a1[w[:, 0]] = c, a
                continue
            out = np.empty(r, dtype=tables[k].dtype)
            out["w"], out["c"] = w, c
            if k < N:
                out["a"] = a
            tables[k].append(out)
        rec = nxt
    full = tuple(int(x) for x in prev) if has_prev[0] else ()  # the last padded N-gram
    return c1, a1, n, tables, last, full


# ------------------------------------------------------------------------------- the seam
ContextStream = Callable[[int], Iterable[np.ndarray]]  # share (bytes) -> record chunks


@dataclass
class Adjusted:
    """What counting and adjusting hand on to the rest of the estimation: the seam between an
    engine that counts (this module's passes, or the Spark job of :mod:`.spark`) and the
    passes from the discounts on, which stream the same way whichever engine counted.

    ``by_context(k)`` (k = 2..N, called once per order, from N down to 2) prepares order k and
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
        row = _norm_row(rec["w"].shape[1], rec.dtype.itemsize)
        rows = capped(share // row, row)
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


@contextmanager
def no_cyclic_gc():
    """The cyclic garbage collector off for a build: reading makes a list per line and the
    passes numpy arrays, none in cycles, and the collector's passes over them cost ~5% of
    the time (reference counting still frees everything)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# ----------------------------------------------------------------------------- the pipeline
def build_streaming(sentences: Iterable[Sequence[str]], order: int, path, *,
                    memory: int, temp_dir=None, modified: bool = True, text=None,
                    prune=(), on_lines: Callable[[int], None] | None = None) -> StreamStats:
    """Estimate an interpolated (modified) Kneser-Ney model of ``order`` from token lists and
    write it as an ARPA file at ``path`` (atomically), holding at most about ``memory`` bytes
    of n-gram data in memory at any time (module docstring). ``text``: the text options, whose
    ``min_count``/``max_vocab`` map words to <unk> and which the file records; ``prune``:
    lmplz's count-pruning thresholds (:func:`.kneser_ney.prune_thresholds`); ``on_lines``: told
    the lines read as they are, where a corpus is numbered in blocks (:func:`_spool`)."""
    check_order(order)
    prune_thresholds(prune, order)
    stats = StreamStats()
    acct = MemoryAccount(memory)
    reuse_freed_memory()
    with TempSpace(temp_dir) as space, no_cyclic_gc():
        adjusted, B = _count_and_adjust(sentences, order, space, memory, acct, text, stats,
                                        any(t > 0 for t in prune_thresholds(prune, order)),
                                        on_lines)
        estimate_streaming(adjusted, order, path, space=space, budget=B, acct=acct,
                           modified=modified, text=text, prune=prune, stats=stats)
    return stats


def _count_and_adjust(sentences: Iterable[Sequence[str]], N: int, space: TempSpace, memory: int,
                      acct: MemoryAccount, text, stats: StreamStats,
                      pruning: bool = False,
                      on_lines: Callable[[int], None] | None = None) -> tuple[Adjusted, int]:
    """The single-machine engine: reading, counting and adjusting over sorted files; returns
    what it hands on and the budget B of each later pass."""
    # reading
    spool, vocab, word_counts, n_sent = _spool(sentences, space, on_lines)
    trim_heap()
    stats.n_sentences, stats.n_words = n_sent, spool.rows - 2 * n_sent
    check_size(stats, N)
    vocab, remap = restrict(vocab, word_counts, text)
    V = len(vocab)
    bits = bits_for(V)
    B = vocab_budget(memory, V, acct)

    # counting: the padded N-grams, sorted on disk in suffix order
    counts = _count(spool, remap, N, bits, space, B, acct, stats, pruning)
    spool.drop()

    # adjusting: every order from the N-grams, in one pass; count-of-counts
    with acct.hold(stream_share(B)) as share:
        c1, a1, n, adjusted, last, full = _adjust(counts, N, V, space, share)
    stats.ngrams = [V] + [adjusted[k].rows for k in range(2, N + 1)]
    n[:, 0] = 0
    chain_grams = final_chain_grams(full) if N > 1 and full else []
    if chain_grams:
        # the chain's n-grams are the last padded N-gram's suffixes: each order's last group
        apply_final_flush(n, chain_grams, {len(g): last.get(len(g)) for g in chain_grams})

    def by_context(k: int) -> ContextStream:
        """Normalization's sort to context order. Budget, filling: the sort arena and a
        stream's share for the chunks read; then the caller's share for its merge (with what
        a chunk computes)."""
        table = adjusted.pop(k)
        isz = table.dtype.itemsize
        to_ctx = ExternalSorter(space, table.dtype, context_key(bits), account=acct,
                                stem=f"ctx{k}", arena=acct.sort_arena(B))
        with acct.hold(stream_share(B)) as share:
            for rec in table.chunks(capped(share // isz, isz)):
                to_ctx.add(rec)
        to_ctx.finish()
        table.drop()
        stats.runs[f"normalization {k}"] = to_ctx.n_runs
        return lambda share: to_ctx.sorted_chunks(to_ctx.chunk_rows(share, _norm_row(k, isz)))

    return Adjusted(vocab, c1, a1, n, by_context), B


def estimate_streaming(adj: Adjusted, N: int, path, *, space: TempSpace, budget: int,
                       acct: MemoryAccount, modified: bool, text, prune,
                       stats: StreamStats) -> None:
    """From the adjusted counts on: discounts, normalization, interpolation and the ARPA file
    at ``path``, each pass in ``budget`` bytes held on ``acct`` (the temporary files in
    ``space``); ``stats.ngrams`` holds the sizes per order on entry (the kept ones on return)."""
    t = prune_thresholds(prune, N)
    vocab, a1, n = adj.vocab, adj.a1, adj.n
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

    # normalization in context order, from the top order down: order k's n-grams get their
    # backoffs as contexts from order k + 1's (the same order of the same words), and go to
    # their sort to suffix order
    sorters = {}  # k -> ExternalSorter of (w, u, g[, bo][, keep]) to suffix order
    above = None  # Table of (w (k,), b) of the contexts of order k + 1, context order
    for k in range(N, 1, -1):
        norm = _normalize(adj.by_context(k), k, N, D[k - 1], t[k - 1], bits, space, B, acct,
                          above)
        stats.ngrams[k - 1] = norm.kept
        sorters[k] = norm.sorter
        stats.runs[f"interpolation {k}"] = norm.sorter.n_runs
        if above is not None:
            above.drop()
        above = norm.backoff
    bo1 = np.zeros(V)
    if N > 1:
        with acct.hold(stream_share(B)) as share:
            for rec in above.chunks(share // above.dtype.itemsize):
                bo1[rec["w"][:, 0]] = rec["b"]
        above.drop()

    # interpolation in suffix order, each order's ARPA lines written as they are computed
    from .arpa import LineFormatter, write_arpa_sections

    fmt = LineFormatter(vocab)
    lp1 = np.minimum(np.log10(p1), 0.0)
    below: list[Table | None] = [None]  # (w, p) of the order below in suffix order (k >= 3)

    def section(k):
        if k == 1:
            yield fmt.format(np.arange(V, dtype=np.int64).reshape(V, 1), lp1, bo1, N > 1)
            return
        lower = below[0]
        yield from _interpolate(sorters.pop(k), k, N, p1, lower, bits, space, B, acct, fmt, below)
        if lower is not None:
            lower.drop()

    write_arpa_sections(path, text.record() if text is not None else None, stats.ngrams,
                        (section(k) for k in range(1, N + 1)))
    stats.temp_peak_bytes = space.peak_bytes
    stats.temp_memory_peak_bytes = space.mem_peak_bytes
    stats.memory_high_water = acct.high_water


@dataclass
class _Normalized:
    sorter: ExternalSorter   # (w, u, g[, bo][, keep]) of order k, to suffix order
    backoff: Table           # (w (k-1,), b = log10 gamma) of the contexts, context order
    kept: int                # n-grams not pruned


def _normalize(stream: ContextStream, k: int, N: int, Dk: np.ndarray, tk: int, bits: int,
               space: TempSpace, budget: int, acct: MemoryAccount,
               above: Table | None) -> _Normalized:
    """u and gamma of the order-k records, which ``stream`` yields in context order, each
    joined to its backoff log10 gamma as a context of order k + 1 (``above``, in the same
    order; 0 for an n-gram that is no context), sorted to suffix order. Budget: the sort
    arena, a stream's share each for the records (with what a chunk computes) and ``above``."""
    from .build_kernels import normalize_runs

    pruning = tk > 0
    # ``keep`` only when pruning (records of 4k + 16 bytes copy as machine words)
    dt = record_dtype(k, u="<f8", g="<f8", **({"bo": "<f8"} if k < N else {}),
                      **({"keep": "?"} if pruning else {}))
    sorter = ExternalSorter(space, dt, suffix_key(bits), account=acct, stem=f"suf{k}",
                            arena=acct.sort_arena(budget))
    bdt = record_dtype(k - 1, b="<f8")
    backoff = Table(space, bdt, f"backoff{k - 1}")
    kept = 0
    S = stream_share(budget)
    with acct.hold(2 * S):
        bo = None
        if above is not None:
            jrow = _join_row(above.dtype.itemsize, k)
            bo = Join(above.chunks(capped(S // jrow, jrow)), "b", reverse=False, default=0.0)
        for rec in grouped(stream(S), k - 1):
            w = rec["w"]
            a = rec["a"] if "a" in rec.dtype.names else rec["c"]  # order N: a = c
            out = np.empty(len(rec), dtype=dt)
            out["w"] = w
            keep = out["keep"] if pruning else np.empty(len(rec), dtype=np.bool_)
            first = np.empty(len(rec), dtype=np.int64)
            gamma = np.empty(len(rec))
            runs = normalize_runs(w, k - 1, a, rec["c"], Dk, tk if pruning else 0, out["u"],
                                  out["g"], keep, first, gamma)
            kept += int(keep.sum())
            if bo is not None:
                out["bo"] = bo.lookup(w)
            sorter.add(out)
            b = np.empty(runs, dtype=bdt)
            b["w"], b["b"] = w[first[:runs], :k - 1], np.log10(gamma[:runs])
            backoff.append(b)
    sorter.finish()
    return _Normalized(sorter, backoff, kept)


def _interpolate(norm: ExternalSorter, k: int, N: int, p1: np.ndarray, below: Table | None,
                 bits: int, space: TempSpace, budget: int, acct: MemoryAccount, fmt,
                 p_out: list) -> Iterator[memoryview]:
    """p_k = u + gamma * p_{k-1}(suffix) in suffix order, yielding the ARPA lines of the kept
    n-grams (``lp<TAB>w<TAB>bo``, in suffix order as lmplz writes them); the (w, p) of every
    order-k n-gram go to a table for the next order, left in ``p_out[0]`` (None at N).
    Budget: a stream's share each for the merge to suffix order (with what a chunk computes),
    the stream of the order below and the formatted text."""
    pdt = record_dtype(k, p="<f8")
    p_table = Table(space, pdt, f"p{k}") if k < N else None
    line = k * int(fmt.lens.max()) + k + 26  # the longest line of order k
    S = stream_share(budget)
    with acct.hold(3 * S):
        crow = _join_row(below.dtype.itemsize, k - 1) if below is not None else 1
        lower = None if k == 2 else Join(below.chunks(capped(S // crow, crow)), "p",
                                         reverse=True)
        work = _interp_row(k, pdt.itemsize, norm.key_bytes)
        for rec in norm.sorted_chunks(norm.chunk_rows(S, work)):
            w = rec["w"]
            if lower is None:
                plow = p1[w[:, 1]]
            else:
                plow = lower.lookup(w[:, 1:])  # w_2..w_k, in suffix order
            pk = rec["u"] + rec["g"] * plow
            if p_table is not None:
                pr = np.empty(len(rec), dtype=pdt)
                pr["w"], pr["p"] = w, pk
                p_table.append(pr)
            bo = rec["bo"] if k < N else pk  # (unused at N)
            if "keep" in rec.dtype.names:
                keep = rec["keep"]
                w, pk, bo = w[keep], pk[keep], bo[keep]
            lp = np.minimum(np.log10(pk), 0.0)
            W = np.ascontiguousarray(w)
            step = capped(S // line, line)
            for i in range(0, len(W), step):
                yield fmt.format(W[i:i + step], lp[i:i + step], bo[i:i + step], k < N)
    p_out[0] = p_table
