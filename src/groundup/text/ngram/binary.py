"""The binary model file: the packed model (:mod:`.packed`) in one memory-mapped file.

Loading maps the file (``mmap``, read-only) and takes numpy views of its sections: nothing is
copied, the pages come from the page cache when a lookup touches them, and the load time does
not grow with the number of n-grams (only the vocabulary, O(V), is decoded into Python words).

Layout, version 1 (every integer int64 little-endian; sections start at multiples of 64 bytes):

=========  ========================  =====================================================
offset     field                     meaning
=========  ========================  =====================================================
0          magic (16 bytes)          ``\\x89GUNGRAM\\r\\n\\x1a\\n`` + 4 zero bytes (a file
                                     mangled by a text-mode copy is rejected, as PNG does)
16         version                   the layout version (1)
24         N                         order, 1..64
32         V                         vocabulary size (``<unk> <s> </s>`` are ids 0, 1, 2)
40         vocab_bits                the word table has 2^vocab_bits slots
48         counts[N]                 n_k, listed k-grams (n_1 = V)
48+8N      t_bits[N+1]               the order-k n-gram table has 2^t_bits[k] slots (k >= 2)
..         sections[8] x (off, len)  byte offset and length of: chars, vocab_offsets,
                                     vocab_table, keys, logprob, backoff, table, info
=========  ========================  =====================================================

Sections: ``chars`` uint8, the words' UTF-8 bytes joined by ``\\n``; ``vocab_offsets`` int64
(V+1,); ``vocab_table`` int64 (2^vocab_bits,); ``keys`` int64, ``logprob`` and ``backoff``
float64 (sum n_k,); ``table`` int64 (sum_k 2^t_bits[k] W_k; rows of W_k = 3 words, 2 at order N); ``info`` UTF-8 JSON (the
estimation record and the text options, ``info["text"]``).

Input policy (:mod:`groundup.io_read`): a regular file only; the header is checked against
the file's size before anything is mapped (wrong magic, a future version, sizes that disagree
with each other, a section outside the file or overlapping another), and the load is O(V)
whatever the size (0.24 s for a 1.6 GB model): the scoring kernel bounds-checks every index it
reads, so a file damaged past its header gives wrong scores, never a crash (as KenLM's binary
files are trusted). ``verify=True`` (``query --verify``) adds one compiled pass that checks
every value as :meth:`BackoffTables.validate` does (sorted keys in range, no NaN, hash tables
consistent with the keys): 3.3 s for the same model. Every refusal is one
:class:`ModelFormatError` naming the file.
"""
from __future__ import annotations

import json
import mmap
import os
from pathlib import Path

import numpy as np
from numba import njit

from ...errors import ModelFormatError
from .packed import Packed, find, word_id

MAGIC = b"\x89GUNGRAM\r\n\x1a\n\x00\x00\x00\x00"
VERSION = 1
MAX_ORDER = 64
SECTIONS = ("chars", "vocab_offsets", "vocab_table", "keys", "logprob", "backoff", "table", "info")
ALIGN = 64
MAX_COUNT = 1 << 31  # n_k and V: keeps context * V + word within int64


def header_size(N: int) -> int:
    return len(MAGIC) + 8 * (4 + N + (N + 1) + 2 * len(SECTIONS))


def is_binary(head: bytes) -> bool:
    return head[:8] == MAGIC[:8]


def _section_arrays(p: Packed, info: bytes) -> list[np.ndarray]:
    return [np.ascontiguousarray(p.chars, dtype=np.uint8), p.vocab_offsets.astype("<i8"),
            p.vocab_table.astype("<i8"), p.keys.astype("<i8"), p.logprob.astype("<f8"),
            p.backoff.astype("<f8"), np.ascontiguousarray(p.table, dtype="<i8"),
            np.frombuffer(info, dtype=np.uint8)]


def write_binary(p: Packed, path: str | os.PathLike) -> None:
    """Write the packed model atomically (a reader never sees half a file)."""
    from ...io import atomic_write
    from ...utils import to_jsonable

    info = json.dumps(to_jsonable(p.info)).encode("utf-8")
    arrays = _section_arrays(p, info)
    N = p.N
    pos = -(-header_size(N) // ALIGN) * ALIGN
    places = []
    for a in arrays:
        places += [pos, a.nbytes]
        pos += -(-a.nbytes // ALIGN) * ALIGN
    head = np.concatenate([[VERSION, N, p.V, p.vocab_bits], p.counts, p.t_bits, places]).astype("<i8")
    with atomic_write(path, "wb") as f:
        f.write(MAGIC)
        f.write(head.tobytes())
        at = len(MAGIC) + head.nbytes
        for (off, n), a in zip(zip(places[::2], places[1::2]), arrays):
            f.write(b"\0" * (off - at))
            f.write(memoryview(a).cast("B") if n else b"")
            at = off + n


def read_binary(path: str | os.PathLike, *, verify: bool = False) -> tuple[Packed, list[str]]:
    """Map ``path``; (packed views into the mapping, vocabulary). ModelFormatError otherwise."""
    from ...io_read import check_fits_file, open_regular

    path = Path(path)

    def bad(msg: str) -> ModelFormatError:
        return ModelFormatError(f"{path}: {msg}")

    with open_regular(path, "model file") as f:
        size = os.fstat(f.fileno()).st_size
        fixed = header_size(0)
        check_fits_file(path, fixed, size, "the binary model header")
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    mm = np.frombuffer(buf, dtype=np.uint8)  # (size,) the whole file, read-only, not copied
    if bytes(mm[:16]) != MAGIC:
        raise bad("not a groundup binary n-gram model (wrong magic bytes)")
    version, N, V, vocab_bits = (int(x) for x in mm[16:48].view("<i8"))
    if version != VERSION:
        raise bad(f"binary model layout version {version}; this groundup reads version {VERSION}")
    if not 1 <= N <= MAX_ORDER:
        raise bad(f"order {N} outside 1..{MAX_ORDER}")
    check_fits_file(path, header_size(N), size, f"the header of an order-{N} model")
    head = mm[48:header_size(N)].view("<i8")
    counts = head[:N].copy()
    t_bits = head[N:2 * N + 1].copy()
    places = head[2 * N + 1:].reshape(len(SECTIONS), 2)
    if not 3 <= V < MAX_COUNT or counts[0] != V:
        raise bad(f"vocabulary size {V} (unigrams {counts[0]}) must be equal and in 3..{MAX_COUNT - 1}")
    if (counts < 0).any() or (counts >= MAX_COUNT).any():
        raise bad(f"n-gram counts {counts.tolist()} outside 0..{MAX_COUNT - 1}")
    if (t_bits[:2] != 0).any() or (N > 1 and ((t_bits[2:] < 1) | (t_bits[2:] > 40)).any()):
        raise bad(f"hash table sizes {t_bits.tolist()} out of range")
    if N > 1 and ((1 << t_bits[2:]) <= counts[1:]).any():  # a probe must reach an empty row
        raise bad("an n-gram hash table has no free slot for its n-grams")
    if not 1 <= vocab_bits <= 40 or (1 << vocab_bits) <= V:
        raise bad(f"word table bits {vocab_bits} out of range for {V} words")
    n_all = int(counts.sum())
    from .packed import table_offsets

    words = max(int(table_offsets(t_bits)[-1]), 1)
    expect = {"vocab_offsets": 8 * (V + 1), "vocab_table": 8 << vocab_bits, "keys": 8 * n_all,
              "logprob": 8 * n_all, "backoff": 8 * n_all, "table": 8 * words}
    spans = []
    for name, (off, n) in zip(SECTIONS, places.tolist()):
        if name in expect and n != expect[name]:
            raise bad(f"section {name} holds {n:,} bytes; the header's sizes need {expect[name]:,}")
        if off % 8 or off < header_size(N) or n < 0:
            raise bad(f"section {name} at offset {off} (must be a multiple of 8 past the header)")
        check_fits_file(path, off + n, size, f"section {name} (offset {off:,}, {n:,} bytes)")
        spans.append((off, off + n, name))
    spans.sort()
    for (a0, a1, an), (b0, b1, bn) in zip(spans, spans[1:]):
        if b0 < a1:
            raise bad(f"sections {an} and {bn} overlap")
    sec = {name: mm[off:off + n] for name, (off, n) in zip(SECTIONS, places.tolist())}
    offs = sec["vocab_offsets"].view("<i8")
    chars = sec["chars"]
    if int(offs[-1]) != len(chars) + 1:
        raise bad(f"the vocabulary offsets end at {int(offs[-1])}, the words hold {len(chars)} bytes")
    try:
        vocab = bytes(chars).decode("utf-8").split("\n")
        info = json.loads(bytes(sec["info"]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"vocabulary or info record unreadable ({e})") from None
    if not isinstance(info, dict):
        raise bad("the info record must be a JSON object")
    lens = np.fromiter((len(w.encode("utf-8")) + 1 for w in vocab), dtype=np.int64, count=len(vocab))
    if len(vocab) != V or not np.array_equal(offs, np.concatenate([[0], np.cumsum(lens)])):
        raise bad(f"the vocabulary holds {len(vocab)} words that disagree with its offsets (V = {V})")
    if tuple(vocab[:3]) != ("<unk>", "<s>", "</s>"):
        raise bad(f"the vocabulary must start with <unk> <s> </s>, got {vocab[:3]}")
    if "" in vocab or len(set(vocab)) != V:
        raise bad("vocabulary words must be distinct and non-empty")
    p = Packed(V, counts, t_bits, vocab_bits, chars, offs, sec["vocab_table"].view("<i8"),
               sec["keys"].view("<i8"), sec["logprob"].view("<f8"), sec["backoff"].view("<f8"),
               sec["table"].view("<i8"), info)
    if verify:
        _verify(p, bad)
    return p, vocab


# what each code of the verify kernel means (the kernel returns (code, order, position))
_PROBLEMS = {
    1: "keys1 must be 0..V-1",
    2: "keys are not sorted and unique",
    3: "a key is out of range (context index * V + word)",
    4: "a log-probability is NaN or above 0 (a probability above 1)",
    5: "a backoff is NaN or +inf",
    6: "the n-gram hash table disagrees with the keys",
    7: "the word hash table disagrees with the vocabulary",
}


def _verify(p: Packed, bad) -> None:
    code, k, i = verify_values(p.meta(), p.keys, p.logprob, p.backoff, p.table,
                                  p.table.view(np.float64), p.chars, p.vocab_offsets,
                                  p.vocab_table)
    if code:
        raise bad(f"order {k}, entry {i}: {_PROBLEMS[code]}")


@njit(cache=True)
def verify_values(meta, keys, lp, bo, table, tf, chars, offs, vtable):  # pragma: no cover
    """One compiled pass over every value: the checks of BackoffTables.validate, then the hash
    tables, which must hold exactly the listed n-grams, each found from its context's row with
    the arrays' values, and every word. (code, order, entry)."""
    V, N, vbits = meta[0], meta[1], meta[2]
    o, t, tb = 3, 3 + N + 1, 3 + 2 * N + 3
    for k in range(1, N + 1):
        a, b = meta[o + k - 1], meta[o + k]
        hi = (meta[o + k - 1] - meta[o + k - 2]) * V if k > 1 else V
        for i in range(a, b):
            if k == 1 and keys[i] != i - a:
                return 1, k, i - a
            if keys[i] < 0 or keys[i] >= hi:
                return 3, k, i - a
            if i > a and keys[i] <= keys[i - 1]:
                return 2, k, i - a
            if not (lp[i] <= 1e-6):  # NaN fails too
                return 4, k, i - a
            if not (bo[i] < np.inf):
                return 5, k, i - a
    rows = np.arange(V)  # row of each (k-1)-gram in its table; word ids at order 1
    for k in range(2, N + 1):
        a, b = meta[o + k - 1], meta[o + k]
        width = 3 if k < N else 2
        base, bits = meta[t + k], meta[tb + k]
        nxt = np.empty(b - a, np.int64) if k < N else np.empty(0, np.int64)
        for i in range(a, b):
            key = rows[keys[i] // V] * V + keys[i] % V
            r = find(key, base, bits, width, table)
            if r < 0 or tf[base + r * width + 1] != lp[i] or (k < N and tf[base + r * width + 2] != bo[i]):
                return 6, k, i - a
            if k < N:
                nxt[i - a] = r
        filled = 0
        for r in range(1 << bits):
            filled += table[base + r * width] != -1
        if filled != b - a:
            return 6, k, filled
        rows = nxt
    filled = 0
    for s in range(len(vtable)):
        if vtable[s] == -1:
            continue
        i = vtable[s]
        if not (0 <= i < V) or word_id(chars, offs[i], offs[i + 1] - 1, chars, offs, vtable,
                                       vbits, V) != i:
            return 7, 1, s
        filled += 1
    if filled != V:
        return 7, 1, filled
    return 0, 0, 0
