"""Sorting n-gram records in a fixed memory budget: sorted runs spilled to disk, k-way merged.

The machinery under :mod:`.streaming` (lmplz's sort, Heafield et al. 2013, section 3). A
*record* is a row of a numpy structured array: ``w`` (k,) uint32 word ids plus value fields
(``c`` a count, ``p`` a probability, ...). A *key* is one sortable number per record that
orders the rows the way a pass needs:

    context order  w_1, w_2, .., w_k   compared from the first word (a context's n-grams
                   are adjacent)
    suffix order   w_k, w_{k-1}, .., w_1 compared from the last word (n-grams that share a
                   suffix are adjacent, and suffixes come in the suffix order of order k-1;
                   the ARPA file's order, as lmplz writes it)

:func:`pack` writes the words of a key with ``bits`` bits each into one uint64 when they fit,
else into big-endian 64-bit lanes viewed as a fixed-width byte string (``S8L``), which numpy
sorts and searches by memcmp: the same lexicographic order either way.

:class:`ExternalSorter` collects records in a buffer (in the build's :class:`SortArena`), sorts
it in place (:meth:`Key.sort`, a bucket sort; combining equal keys by summing ``c`` when asked:
the counting pass), writes each full buffer as a sorted run in a :class:`TempSpace` (or leaves
a single run in the arena for the next pass), and merges the runs: all records up to the
smallest "last key read" of the runs that still have data on disk are safe to emit, one timsort
of the runs' concatenated keys per step. :class:`Join` looks sorted streams up by sorted
queries. Everything is written through :meth:`TempSpace.write`, so a full disk becomes one
:class:`~groundup.errors.OutputError` line, and the folder is removed on exit whatever happens;
a build whose sorts need less than its budget lends the rest to the space, which then holds
files in memory as long as they fit."""
from __future__ import annotations

import errno
import mmap
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ...errors import ConfigError, OutputError

# The most bytes of records a stream reads at once, whatever its share of the budget. Past glibc's
# largest mmap threshold (32 MiB) every array is a fresh mapping whose pages the kernel must zero
# on first touch (with numpy's huge pages, 2 MiB at a time); a chunk this small keeps each pass's
# temporaries under it, so they come from the heap and are reused (:func:`reuse_freed_memory`).
# Measured on 3M words at --memory 1G: 30.5 s with chunks of a quarter of the budget, 21-26 s
# with 8 MiB chunks; smaller chunks do no better (per-chunk Python overhead).
CHUNK_BYTES = 8 << 20
STREAM_BYTES = 2 * CHUNK_BYTES  # what one stream holds at most: a chunk, what a pass computes
# from it, a lookup's carried tail

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str | int) -> int:
    """'200M', '1G', '64K', '1048576' -> bytes (lmplz's -S spelling, binary units)."""
    if isinstance(text, int) and not isinstance(text, bool):
        n = text
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", str(text))
        if not m:
            raise ConfigError(f"memory size must look like 512M, 2G or a byte count, got {text!r}")
        n = int(float(m.group(1)) * _UNITS[m.group(2).upper()])
    if n < 1 << 16:
        raise ConfigError(f"memory budget must be at least 64K, got {text!r}")
    return n


def stream_share(budget: int) -> int:
    """The bytes one stream of a pass holds: :data:`STREAM_BYTES`, or an eighth of a small
    budget. A pass reads at most three streams beside the sort arena (:class:`SortArena`)."""
    return min(budget // 8, STREAM_BYTES)


def capped(rows: int, row_bytes: int) -> int:
    """``rows`` per chunk, at most :data:`CHUNK_BYTES` of rows of ``row_bytes`` each."""
    return max(min(rows, CHUNK_BYTES // max(row_bytes, 1)), 64)


def reuse_freed_memory() -> None:
    """Let glibc keep freed arrays up to 32 MiB (its largest mmap threshold) in the heap for
    the next chunk, instead of mapping fresh pages the kernel must zero each time, and hand
    freed space back past 32 MiB at the top of the heap. A fixed threshold also stops glibc
    from raising it after a large free (so sort buffers never linger in the heap as resident
    memory)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 32 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def trim_heap() -> None:
    """Hand the free pages inside glibc's heap back to the system (``malloc_trim``): after a
    pass that allocated and freed many mid-sized arrays (reading), a few live objects high in
    the heap would otherwise keep the freed space below them resident for the rest of the
    build."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def bits_for(V: int) -> int:
    """Bits per word id in a key."""
    return max(1, int(V - 1).bit_length())


def pack(cols: np.ndarray, bits: int, *, reverse: bool = False) -> np.ndarray:
    """(n, m) word ids, most significant first (last first when ``reverse``) -> (n,) uint64
    keys, or (n,) ``S{8L}`` keys when m * bits > 64 (L lanes of 64 // bits words each,
    big-endian so memcmp order = word order). One compiled pass (:mod:`.build_kernels`)."""
    from .build_kernels import lane_major

    n, m = cols.shape
    lanes = -(-m // (64 // bits))
    out = np.empty((n, lanes), dtype=np.uint64)
    lane_major(cols, bits, reverse, out.T)  # (n, L) native uint64
    if lanes == 1:
        return out.reshape(n)
    out.byteswap(inplace=True)  # now big-endian bytes
    return out.view(f"S{8 * lanes}").reshape(n)


def argsort_keys(key: np.ndarray, kind: str = "quicksort") -> np.ndarray:
    """The permutation that sorts ``key`` (not stable: the passes never sort equal keys apart
    from counting, which sums them). One uint64 lane: numpy's quicksort (vectorised); several
    lanes: quicksort by the first, then each run of equal first lanes by the rest (compiled),
    about 3x faster than numpy's comparison sort of byte strings. ``kind="stable"`` for keys
    that are sorted runs one after another (a merge): numpy's timsort merges the runs (6x
    faster than quicksort on 8 runs of 500k keys)."""
    if key.dtype == np.uint64:
        return np.argsort(key, kind=kind)
    from .build_kernels import break_ties

    n, L = len(key), key.dtype.itemsize // 8
    lanes = key.view(">u8").reshape(n, L).astype(np.uint64)
    return break_ties(np.argsort(lanes[:, 0], kind=kind), lanes.T)


def take(rec: np.ndarray, perm: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``rec[perm]`` for structured records, copied as rows of machine words (numpy's
    structured fancy indexing copies field by field, about 3x slower); into the first
    ``len(perm)`` rows of ``out`` when given."""
    from .build_kernels import gather_rows

    rec = np.ascontiguousarray(rec)
    if out is None:
        out = np.empty(len(perm), rec.dtype)
    out = out[:len(perm)]
    gather_rows(_words(rec), perm, _words(out))
    return out


def _words(rec: np.ndarray) -> np.ndarray:
    """Contiguous records viewed as (n, m) rows of the widest machine word that divides them."""
    size = rec.dtype.itemsize
    word = next(w for w in (8, 4, 1) if size % w == 0)
    return rec.view(np.dtype(f"u{word}")).reshape(len(rec), size // word)


def run_starts(w: np.ndarray, hi: int, lo: int = 0) -> np.ndarray:
    """(n,) bool: row i of the word columns ``w`` starts a run of equal ``w[:, lo:hi]``."""
    from .build_kernels import run_starts as kernel

    return kernel(w, lo, hi)


BIG_BUCKET = 1 << 14  # a bucket of more rows is split again by its next key bits


class Key:
    """The sort key of records by their words: ``key(rec)`` the packed keys (:func:`pack`), and
    ``key.sort(rec, ...)`` the records sorted by them in place, in the given working space
    (the sort arena): the same order as :func:`argsort_keys` of the keys."""

    def __init__(self, bits: int, reverse: bool):
        self.bits, self.reverse = bits, reverse

    def __call__(self, rec: np.ndarray) -> np.ndarray:
        return pack(rec["w"], self.bits, reverse=self.reverse)

    def sort(self, rec: np.ndarray, scratch: np.ndarray, spare: np.ndarray) -> None:
        """Sort the contiguous records ``rec`` in place (:func:`.build_kernels.bucket_sort`),
        with ``scratch`` (as many records) and ``spare`` (uint8, 16 bytes per lane and row)
        as working space."""
        from .build_kernels import bucket_sort, lane_major

        n, k = rec["w"].shape
        per = 64 // self.bits
        L = -(-k // per)
        lanes = spare[:8 * L * n].view(np.uint64).reshape(L, n)
        moved = spare[8 * L * n:16 * L * n].view(np.uint64).reshape(L, n)
        lane_major(rec["w"], self.bits, self.reverse, lanes)
        tops = np.array([min(k - lane * per, per) * self.bits for lane in range(L)], np.int64)
        bucket_sort(_words(rec), lanes, _words(scratch[:n]), moved, tops, BIG_BUCKET)


def context_key(bits: int) -> Key:
    return Key(bits, reverse=False)


def suffix_key(bits: int) -> Key:
    return Key(bits, reverse=True)


def record_dtype(k: int, **fields: str) -> np.dtype:
    """Records of order k: ``w`` (k,) uint32 and the named value fields."""
    return np.dtype([("w", "<u4", (k,))] + [(name, t) for name, t in fields.items()])


def _tofile(rec: np.ndarray, f) -> None:
    rec.tofile(f)  # one place to write spilled bytes (the tests inject a full disk here)


def check_temp_dir(parent: str | os.PathLike | None) -> Path:
    """The folder runs go under (default: the system's temporary folder); it must exist."""
    path = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    if not path.is_dir():
        raise ConfigError(f"--temp-dir {path}: not an existing folder")
    return path


def _terminated(signum, frame):
    print("groundup: terminated", file=sys.stderr)
    raise SystemExit(128 + signum)


# Temporary files held in memory grow by blocks of this many bytes, taken from one anonymous
# mapping of the memory lent (``mmap``: its pages go back to the system when the build ends,
# whatever glibc's heap looks like; huge pages where the kernel gives them, as numpy's arrays).
MEM_BLOCK = 4 << 20


class _Blocks:
    """The memory lent to a :class:`TempSpace`, as numbered blocks of :data:`MEM_BLOCK` bytes
    in one mapping, touched only when first used. A freed block is used again before a fresh
    one (its pages are resident already: no new page faults)."""

    def __init__(self, nbytes: int):
        self.size = MEM_BLOCK
        self.n = nbytes // self.size
        m = mmap.mmap(-1, max(self.n, 1) * self.size)
        try:
            m.madvise(mmap.MADV_HUGEPAGE)
        except (AttributeError, OSError):
            pass
        self.mem = np.frombuffer(m, dtype=np.uint8)
        self.free: list[int] = []
        self.fresh = 0  # blocks from here on were never used

    def available(self) -> int:
        return len(self.free) + self.n - self.fresh

    def take(self) -> int:
        if self.free:
            return self.free.pop()
        self.fresh += 1
        return self.fresh - 1

    def block(self, i: int) -> np.ndarray:
        return self.mem[i * self.size:(i + 1) * self.size]


class _MemFile:
    """The bytes of one temporary file held in memory: blocks of :class:`_Blocks`, in turn."""

    def __init__(self, pool: _Blocks):
        self.pool = pool
        self.blocks: list[int] = []
        self.size = 0

    def grow(self, nbytes: int) -> int:
        """The blocks that appending ``nbytes`` would take."""
        return -(-(self.size + nbytes) // self.pool.size) - len(self.blocks)

    def append(self, data: np.ndarray) -> None:
        """Copy the bytes ``data`` (uint8) in (the pool has the blocks: :meth:`grow`)."""
        B, i = self.pool.size, 0
        while i < len(data):
            at = self.size % B
            if self.size // B == len(self.blocks):
                self.blocks.append(self.pool.take())
            m = min(len(data) - i, B - at)
            self.pool.block(self.blocks[-1])[at:at + m] = data[i:i + m]
            self.size += m
            i += m

    def read(self, at: int, nbytes: int) -> np.ndarray:
        """A copy of ``nbytes`` bytes from offset ``at`` (fewer at the end)."""
        B = self.pool.size
        nbytes = max(min(nbytes, self.size - at), 0)
        out = np.empty(nbytes, dtype=np.uint8)
        i = 0
        while i < nbytes:
            b, o = divmod(at + i, B)
            m = min(nbytes - i, B - o)
            out[i:i + m] = self.pool.block(self.blocks[b])[o:o + m]
            i += m
        return out

    def release(self) -> int:
        """Give the blocks back; returns how many."""
        n = len(self.blocks)
        self.pool.free.extend(reversed(self.blocks))
        self.blocks = []
        return n


class Reader:
    """Records read in turn from one temporary file, on disk or held in memory."""

    def __init__(self, space: "TempSpace", path: Path):
        self.mem = space.mem.get(path)
        self.at = 0
        self.f = None if self.mem is not None else open(path, "rb")

    def seek(self, nbytes: int) -> None:
        if self.f is not None:
            self.f.seek(nbytes)
        self.at = nbytes

    def read(self, dtype: np.dtype, count: int) -> np.ndarray:
        """Up to ``count`` records of ``dtype`` (none at the end), a new array."""
        if self.f is not None:
            return np.fromfile(self.f, dtype=dtype, count=count)
        data = self.mem.read(self.at, count * dtype.itemsize)
        self.at += len(data)
        return data.view(dtype)

    def close(self) -> None:
        if self.f is not None:
            self.f.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class TempSpace:
    """A private folder under ``parent`` (default: the system's temporary folder) for the
    runs of one build; removed when the ``with`` block ends, by success, error, Ctrl-C or
    SIGTERM.

    A build that does not need its whole budget for sorting lends the rest here
    (:meth:`lend`): files are then held in memory, in blocks, as long as they fit in it, and a
    file that outgrows the room is written out to the folder and goes on there. Writing a
    file and reading it back costs the kernel a copy into and out of its page cache (and the
    file system its bookkeeping): on this machine's ext4 more than a second per GB, a third
    of a small build's time, for data that fitted in memory all along (lmplz likewise keeps
    its sorts in memory when they fit)."""

    def __init__(self, parent: str | os.PathLike | None = None):
        self.parent = check_temp_dir(parent)
        self.dir: Path | None = None
        self.n = 0
        self.peak_bytes = 0       # on disk
        self._bytes = 0
        self.mem: dict[Path, _MemFile] = {}
        self.pool: _Blocks | None = None  # the memory lent, if any
        self.mapped = 0           # bytes of blocks in use
        self.mem_peak_bytes = 0

    def __enter__(self) -> "TempSpace":
        try:
            self.dir = Path(tempfile.mkdtemp(prefix="groundup-ngram-", dir=self.parent))
        except OSError as e:
            raise OutputError(f"--temp-dir {self.parent}: cannot create a folder ({e.strerror})") from None
        # SIGTERM (kill, a job scheduler) unwinds like Ctrl-C, so this block's exit removes the
        # folder; only the main thread may set a handler
        self._sigterm = None
        if threading.current_thread() is threading.main_thread():
            self._sigterm = signal.signal(signal.SIGTERM, _terminated)
        return self

    def __exit__(self, *exc) -> None:
        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)
            self._sigterm = None
        self.mem.clear()
        self.pool, self.mapped = None, 0
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def lend(self, nbytes: int) -> None:
        """Let files take up to ``nbytes`` of memory (the caller holds them on its account)."""
        if nbytes >= MEM_BLOCK:
            self.pool = _Blocks(nbytes)

    def new(self, stem: str) -> Path:
        """The path of a new, empty file (held in memory while there is room)."""
        self.n += 1
        path = self.dir / f"{self.n:05d}-{stem}.bin"
        if self.pool is not None:
            self.mem[path] = _MemFile(self.pool)
        else:
            path.touch()
        return path

    def write(self, path: Path, rec: np.ndarray) -> None:
        """Append ``rec`` to ``path``, in memory while it fits, else on disk (a file held in
        memory that outgrows the room is written out first); a full disk is one line naming
        the folder."""
        f = self.mem.get(path)
        if f is not None:
            grow = f.grow(rec.nbytes)
            if grow <= self.pool.available():
                f.append(np.ascontiguousarray(rec).reshape(-1).view(np.uint8))
                self.mapped += grow * self.pool.size
                self.mem_peak_bytes = max(self.mem_peak_bytes, self.mapped)
                return
            self._write_out(path, f)
        self._to_disk(path, rec)

    def _write_out(self, path: Path, f: _MemFile) -> None:
        """Move a file held in memory to the folder."""
        del self.mem[path]
        path.touch()
        B = self.pool.size
        for b, i in enumerate(f.blocks):
            self._to_disk(path, self.pool.block(i)[:min(B, f.size - b * B)])
        self.mapped -= f.release() * B

    def _to_disk(self, path: Path, rec: np.ndarray) -> None:
        try:
            with open(path, "ab") as f:
                _tofile(rec, f)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise OutputError(f"temporary folder {self.parent}: {e.strerror} while spilling "
                                  f"sorted n-grams; free space there or pick another with "
                                  f"--temp-dir") from None
            raise
        self._bytes += rec.nbytes
        self.peak_bytes = max(self.peak_bytes, self._bytes)

    def size(self, path: Path) -> int:
        f = self.mem.get(path)
        return f.size if f is not None else path.stat().st_size

    def open(self, path: Path) -> Reader:
        return Reader(self, path)

    def remove(self, path: Path) -> None:
        f = self.mem.pop(path, None)
        if f is not None:
            self.mapped -= f.release() * self.pool.size
            return
        with_size = path.stat().st_size if path.exists() else 0
        path.unlink(missing_ok=True)
        self._bytes -= with_size


class Table:
    """Records of one dtype in a file, read back in chunks of ``rows``."""

    def __init__(self, space: TempSpace, dtype: np.dtype, stem: str, path: Path | None = None):
        self.space, self.dtype = space, dtype
        # a new file, or an existing one of these records (a sorted run)
        self.path = space.new(stem) if path is None else path
        self.rows = space.size(self.path) // dtype.itemsize

    def append(self, rec: np.ndarray) -> None:
        if len(rec):
            self.space.write(self.path, rec)
            self.rows += len(rec)

    def chunks(self, rows: int) -> Iterator[np.ndarray]:
        rows = capped(rows, self.dtype.itemsize)
        with self.space.open(self.path) as f:
            while len(rec := f.read(self.dtype, rows)):
                yield rec

    def drop(self) -> None:
        self.space.remove(self.path)


def _combine(rec: np.ndarray) -> np.ndarray:
    """Sorted records, equal words -> one record each with ``c`` summed, in place (one compiled
    pass over the words; the front of ``rec`` is returned)."""
    from .build_kernels import combine_equal

    return rec[:combine_equal(rec["w"], rec["c"])]


def row_cost(dtype: np.dtype, key_bytes: int) -> int:
    """Bytes per record while a buffer is sorted: the records and a working copy (2x); the key
    lanes and their moved copy (:meth:`Key.sort`), or the packed keys, their native lanes and
    a sorted lane (3x keys); the permutation and slack (16)."""
    return 2 * dtype.itemsize + 3 * key_bytes + 16


def merge_cost(dtype: np.dtype, key_bytes: int) -> int:
    """Bytes per record buffered by a merge: the runs' buffers (records and keys) and one
    step's concatenation, sorted copy and combined copy (:meth:`ExternalSorter._merge`)."""
    return 4 * dtype.itemsize + 4 * key_bytes + 16


class MemoryAccount:
    """The ``--memory`` budget as an account of the large buffers alive at once. Each pass
    splits its budget into shares (a sort buffer, the chunks of the streams it reads, the ARPA
    text) and sizes every buffer from its share by a stated cost per row; a share is *held* from
    the moment its buffers may exist until they are freed. ``high_water``, the most held at
    once, stays within ``total`` (tested on builds that spill many runs); the interpreter and
    the vocabulary's strings are the fixed overhead outside it."""

    def __init__(self, total: int):
        self.total, self.held, self.high_water = total, 0, 0
        self.arena: SortArena | None = None

    def sort_arena(self, budget: int, need: int | None = None,
                   space: "TempSpace | None" = None) -> "SortArena":
        """The build's one sort arena, held from the first call to the end of the build:
        ``budget`` less three streams' shares, or only ``need`` bytes when that is less (what
        the build's largest sort takes, known from the corpus' size); the rest is then lent
        to ``space`` for temporary files held in memory (:meth:`TempSpace.lend`)."""
        if self.arena is None:
            room = budget - 3 * stream_share(budget)
            size = room if need is None else min(room, -(-need // 64) * 64)
            self.arena = SortArena(size)
            self.reserve(size)
            if space is not None and room > size:
                space.lend(self.reserve(room - size))
        return self.arena

    def reserve(self, nbytes: int) -> int:
        self.held += nbytes
        self.high_water = max(self.high_water, self.held)
        return nbytes

    def release(self, nbytes: int) -> None:
        self.held -= nbytes

    @contextmanager
    def hold(self, nbytes: int):
        self.reserve(nbytes)
        try:
            yield nbytes
        finally:
            self.release(nbytes)


class SortArena:
    """One block of memory for the sort buffers of a whole build, allocated at the first sort
    and reused by each sort after it, one at a time (as lmplz allocates ``-S`` once): the pages
    of a fresh array cost the kernel a zeroing each on first touch, a reused one costs nothing.
    A sort takes as many rows as fit at ``row_cost`` each: the buffer, and once it is sorted a
    working copy of its records and the key lanes, all in the arena.

    A sort whose records fit one buffer and take at most a third of the arena may stay here
    sorted (:meth:`keep`) for the pass that reads it next, instead of going to disk and back;
    the next sort then fills the room after it, and a sort that needs the whole arena has it
    written out first (:meth:`ExternalSorter.spill_resident`)."""

    def __init__(self, nbytes: int):
        self.nbytes = nbytes
        self.mem: np.ndarray | None = None
        self.user = None       # the sort filling its buffer
        self.resident = None   # the sort whose records stay at the start, until read
        self.base = 0          # where the next buffer starts (past the resident records)

    def take(self, user, dtype: np.dtype, cost: int) -> tuple[np.ndarray, int]:
        """(a buffer of as many records as fit at ``cost`` bytes a row, its offset) for
        ``user`` until :meth:`give`; a sort works in the room after its first n records, so
        every sort touches the same pages."""
        if self.user is not None:
            raise RuntimeError("two sorts are filling the one sort arena")
        if self.resident is not None and self.base > self.nbytes // 3:
            self.resident.spill_resident()
        if self.mem is None:
            self.mem = np.empty(self.nbytes, dtype=np.uint8)  # touched pages only
        rows = (self.nbytes - self.base) // cost
        if rows < 256:  # (a tiny budget)
            if self.resident is not None:
                self.resident.spill_resident()
            rows = max(self.nbytes // cost, 256)
            if len(self.mem) < rows * cost:
                self.mem = np.empty(rows * cost, dtype=np.uint8)
        self.user = user
        off = self.base
        return self.mem[off:off + rows * dtype.itemsize].view(dtype), off

    def give(self, user) -> None:
        if self.user is user:
            self.user = None

    def keep(self, user, nbytes: int) -> bool:
        """May ``user``, whose sorted records are the first ``nbytes`` of the arena, leave
        them there? (Not when another sort's records are resident or it takes over a third.)"""
        if self.resident is not None or nbytes > self.nbytes // 3:
            return False
        self.resident, self.base = user, -(-nbytes // 64) * 64
        return True

    def release(self, user) -> None:
        """``user``'s resident records were read (or written out): the room is free."""
        if self.resident is user:
            self.resident, self.base = None, 0


class ExternalSorter:
    """Sort records by ``key`` in ``budget`` bytes (held on ``account`` from construction to
    :meth:`finish`), or in the build's ``arena`` (held for the whole build) when one is given;
    ``combine`` sums ``c`` over equal keys."""

    def __init__(self, space: TempSpace, dtype: np.dtype, key: Callable[[np.ndarray], np.ndarray],
                 budget: int = 0, *, account: MemoryAccount | None = None, combine: bool = False,
                 stem: str = "run", arena: SortArena | None = None):
        self.space, self.dtype, self.key, self.combine, self.stem = space, dtype, key, combine, stem
        self.key_bytes = key(np.zeros(1, dtype)).dtype.itemsize
        self.arena = arena
        if arena is not None:
            budget = arena.nbytes
        self.rows = max(budget // row_cost(dtype, self.key_bytes), 256)  # (arena: at take)
        # the sort buffer and the sorted copy, filled in place
        self.buf: np.ndarray | None = None
        self.out: np.ndarray | None = None
        self.off = 0  # the buffer's offset in the arena
        self.n_pending = 0
        self.runs: list[Path] = []
        self.resident: np.ndarray | None = None  # the sorted records, left in the arena
        self.account = account or MemoryAccount(budget)
        self.held = self.account.reserve(budget) if arena is None else 0

    def add(self, rec: np.ndarray) -> None:
        if self.buf is None:
            if self.arena is not None:
                self.buf, self.off = self.arena.take(self, self.dtype,
                                                     row_cost(self.dtype, self.key_bytes))
                self.rows = len(self.buf)
            else:
                self.buf = np.empty(self.rows, self.dtype)
        i = 0
        while i < len(rec):  # never more than one buffer (self.rows records) at a time
            m = min(len(rec) - i, self.rows - self.n_pending)
            self.buf[self.n_pending:self.n_pending + m] = rec[i:i + m]
            self.n_pending += m
            i += m
            if self.n_pending >= self.rows:
                self._full()

    def _sorted(self) -> np.ndarray:
        """The buffer's records sorted (equal keys combined when asked)."""
        rec = self.buf[:self.n_pending]
        self.n_pending = 0
        if isinstance(self.key, Key) and self.arena is not None:
            # in place; the working space (n records, then the lanes) right after the records
            n, isz, o = len(rec), self.dtype.itemsize, self.off
            self.key.sort(rec, self.arena.mem[o + n * isz:o + 2 * n * isz].view(self.dtype),
                          self.arena.mem[o + 2 * n * isz:])
        else:
            if self.out is None:
                self.out = np.empty(self.rows, self.dtype)
            rec = take(rec, argsort_keys(self.key(rec)), out=self.out)
        return _combine(rec) if self.combine else rec

    def _full(self) -> None:
        rec = self._sorted()
        if self.combine and len(rec) <= self.rows // 2:  # many repeats: keep counting in memory
            self.buf[:len(rec)] = rec
            self.n_pending = len(rec)
            return
        self._spill(rec)

    def _spill(self, rec: np.ndarray) -> None:
        path = self.space.new(self.stem)
        self.space.write(path, rec)
        self.runs.append(path)

    @property
    def n_runs(self) -> int:
        return len(self.runs) + (self.resident is not None)

    def finish(self) -> "ExternalSorter":
        """Write what is still in memory as a run (so no buffer outlives its pass), or leave
        it sorted in the arena when it is the only run and the arena lets it stay."""
        if self.n_pending:
            rec = self._sorted()
            if (self.arena is not None and not self.runs and self.off == 0
                    and self.arena.keep(self, rec.nbytes)):
                self.resident = rec
            else:
                self._spill(rec)
        self.buf = self.out = None
        if self.arena is not None:
            self.arena.give(self)
        self.account.release(self.held)
        self.held = 0
        return self

    def chunk_rows(self, share: int, work: int = 0) -> int:
        """Rows per chunk of :meth:`sorted_chunks` in ``share`` bytes, when the reader spends
        ``work`` bytes per row on what it computes from a chunk."""
        row = merge_cost(self.dtype, self.key_bytes) + work
        return capped(share // row, row)

    def spill_resident(self) -> None:
        """Write the records left in the arena as this sort's run (another sort needs the
        room); a reader of :meth:`sorted_chunks` goes on from the file."""
        if self.resident is not None:
            self._spill(self.resident)
            self.resident = None
            self.arena.release(self)

    def sorted_chunks(self, rows: int) -> Iterator[np.ndarray]:
        """The records in key order (combined), in chunks of about ``rows`` (from
        :meth:`chunk_rows`, whose share the reader holds); the runs are deleted as they end.
        Records left in the arena come as copies (another sort may take the room meanwhile:
        then the rest comes from the file it writes them to)."""
        self.finish()
        rows = capped(rows, self.dtype.itemsize)
        if self.resident is not None:
            i, n = 0, len(self.resident)
            while i < n and self.resident is not None:
                chunk = self.resident[i:i + rows].copy()
                i += len(chunk)
                yield chunk
            if self.resident is not None:
                self.resident = None
                self.arena.release(self)
                return
            if i == n:  # written out just after the last chunk
                self.space.remove(self.runs.pop())
                return
            with self.space.open(self.runs[0]) as f:  # written out meanwhile: the rest from there
                f.seek(i * self.dtype.itemsize)
                while len(rec := f.read(self.dtype, rows)):
                    yield rec
            self.space.remove(self.runs.pop())
            return
        if len(self.runs) == 1:
            path = self.runs[0]
            with self.space.open(path) as f:
                while len(rec := f.read(self.dtype, rows)):
                    yield rec
            self.space.remove(path)
            return
        yield from self._merge(rows)

    def to_table(self, stem: str, rows: int) -> "Table":
        """The sorted records as a :class:`Table`: a single run becomes the table as it is
        (no copy), several are merged into one."""
        self.finish()
        self.spill_resident()
        if len(self.runs) == 1:
            return Table(self.space, self.dtype, stem, path=self.runs.pop())
        table = Table(self.space, self.dtype, stem)
        for rec in self.sorted_chunks(rows):
            table.append(rec)
        return table

    def _merge(self, rows: int) -> Iterator[np.ndarray]:
        """k-way merge: from each run a buffer of ``per`` rows; every record <= the smallest
        last key among runs with more on disk can go out now (nothing later is smaller)."""
        R = len(self.runs)
        per = max(rows // (R + 1), 64)
        files = [self.space.open(p) for p in self.runs]
        try:
            bufs = [f.read(self.dtype, per) for f in files]
            keys = [self.key(b) for b in bufs]
            more = [len(b) == per for b in bufs]  # the run may have more on disk
            while any(len(b) for b in bufs):
                live = [i for i in range(R) if more[i]]
                upto = [len(b) for b in bufs]
                if live:
                    bound = min(keys[i][-1] for i in live)
                    upto = [int(np.searchsorted(keys[i], bound, side="right")) for i in range(R)]
                rec = np.concatenate([bufs[i][:upto[i]] for i in range(R)])
                key = np.concatenate([keys[i][:upto[i]] for i in range(R)])
                order = argsort_keys(key, kind="stable")  # R sorted runs, merged by timsort
                rec = take(rec, order)
                if self.combine:
                    rec = _combine(rec)
                if len(rec):
                    yield rec
                for i in range(R):
                    bufs[i], keys[i] = bufs[i][upto[i]:], keys[i][upto[i]:]
                    if more[i] and len(bufs[i]) == 0:
                        bufs[i] = files[i].read(self.dtype, per)
                        keys[i] = self.key(bufs[i])
                        more[i] = len(bufs[i]) == per
        finally:
            for f in files:
                f.close()
        for p in self.runs:
            self.space.remove(p)
        self.runs = []


class Join:
    """A sorted stream of records looked up by sorted queries (a merge join): for each chunk
    of query word rows (in the stream's order, non-decreasing from chunk to chunk) the
    ``field`` values of the equal rows of the stream, compared word by word in compiled code
    (:func:`.build_kernels.join_sorted`; from the last word back when ``reverse``: suffix
    order). ``default`` answers a row that is absent; without it an absent row is a bug (the
    passes only look up n-grams that exist)."""

    def __init__(self, chunks: Iterable[np.ndarray], field: str, *, reverse: bool,
                 default: float | None = None):
        self.it, self.field, self.reverse, self.default = iter(chunks), field, reverse, default
        self.W: np.ndarray | None = None  # (n, m) words of the stream's current stretch
        self.V: np.ndarray | None = None
        self.i = 0

    def _more(self) -> bool:
        rec = next(self.it, None)
        if rec is None:
            return False
        W, V = np.ascontiguousarray(rec["w"]), np.ascontiguousarray(rec[self.field])
        if self.W is not None and self.i < len(self.W):  # keep the part not yet passed
            W, V = np.concatenate([self.W[self.i:], W]), np.concatenate([self.V[self.i:], V])
        self.W, self.V, self.i = W, V, 0
        return True

    def lookup(self, Q: np.ndarray) -> np.ndarray:
        from .build_kernels import join_sorted

        Q = np.ascontiguousarray(Q)
        out = np.zeros(len(Q))
        found = np.zeros(len(Q), dtype=np.bool_)
        done = 0
        while done < len(Q):
            if self.W is not None:
                n, self.i = join_sorted(Q[done:], self.W, self.V, self.i, self.reverse,
                                        out[done:], found[done:])
                done += n
                if done == len(Q):
                    break
            if not self._more():
                break  # the stream ended: the rest are absent
        if self.default is None and not found.all():
            raise RuntimeError("n-gram stream out of step: a suffix or context is missing")
        if self.default is not None:
            out[~found] = self.default
        return out


def grouped(chunks: Iterable[np.ndarray], m: int) -> Iterator[np.ndarray]:
    """Re-cut record chunks so that no group of equal ``w[:, :m]`` spans two chunks."""
    carry = None
    for rec in chunks:
        rec = rec if carry is None else np.concatenate([carry, rec])
        starts = np.flatnonzero(run_starts(rec["w"], m))
        if len(starts) == 1:
            carry = rec
            continue
        cut = int(starts[-1])  # the last group starts here
        yield rec[:cut]
        carry = rec[cut:]
    if carry is not None and len(carry):
        yield carry
