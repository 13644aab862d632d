"""ARPA back-off model files: write (atomic) and read (ours or KenLM's / SRILM's).

The format (Doug Paul's ARPA format, as written by lmplz, lm/common/print.cc):

    \\data\\
    ngram 1=n_1
    ...
    \\1-grams:
    log10 p <TAB> w <TAB> log10 b          (every order below N has the backoff column)
    ...
    \\N-grams:
    log10 p <TAB> w_1 .. w_N
    \\end\\

Each section lists its n-grams in *suffix order* (compared from the last word back, by word
id), the order lmplz writes and the one the streaming builder produces without a last sort
(:mod:`.streaming`); unigrams are in vocabulary order. Readers do not depend on the order.

Before ``\\data\\`` groundup writes one comment line, ``# groundup-text {"tokenizer": ...}``:
the text options the model was built with (:class:`groundup.data.pipeline.TextOptions`).
KenLM skips lines that start with ``#`` before ``\\data\\`` (lm/read_arpa.cc,
``ReadARPACounts``), so the kenlm module and KenLM's tools still read the file (tested);
:func:`read_arpa` returns it as ``info["text"]``.

A probability or backoff of 0 (log10 -inf, e.g. MLE's "never after this context") is written
as -99, the customary ARPA stand-in; lmplz's convention of log10 p(<s>) = 0 is kept. A file
without ``<unk>`` gets it with log10 p = -100, as KenLM does when it loads such a file.
"""
from __future__ import annotations

import io
import itertools
import json
import os
from pathlib import Path

import numpy as np

from ...errors import ModelFormatError
from ...io import atomic_write
from ...io_read import open_regular
from .corpus import SPECIALS, UNK
from .counts import ngram_words
from .tables import BackoffTables

NEG_INF_ARPA = -99.0
MISSING_UNK = -100.0
TEXT_HEADER = "# groundup-text "
CHUNK = 1 << 19  # n-gram lines parsed at a time (a chunk's strings take ~0.2 GB at order 5)


def _header(t: BackoffTables) -> str:
    """The comment line recording the text options (empty when the model has none)."""
    return text_header(t.info.get("text"))


def text_header(rec: dict | None) -> str:
    return "" if rec is None else TEXT_HEADER + json.dumps(rec) + "\n"


def _fmt(x: np.ndarray) -> list[str]:
    """The reference formatter: six decimals, trailing zeros dropped, -inf as -99."""
    x = np.where(np.isfinite(x), x, NEG_INF_ARPA)
    return [_fmt1(v) for v in x.tolist()]


def _fmt1(v: float) -> str:
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


class LineFormatter:
    """ARPA lines of n-gram rows, formatted in one compiled pass (same text as the :func:`_fmt`
    reference): ``format(W, lp, bo, with_bo)`` with W (n, k) word ids."""

    def __init__(self, vocab: list[str]):
        enc = [w.encode("utf-8") for w in vocab]
        self.lens = np.fromiter((len(b) for b in enc), dtype=np.int64, count=len(enc))
        self.offs = np.zeros(len(enc) + 1, dtype=np.int64)
        np.cumsum(self.lens, out=self.offs[1:])
        self.chars = np.frombuffer(b"".join(enc), dtype=np.uint8)
        from .build_kernels import PAD

        self.pad = np.zeros((len(enc), PAD), dtype=np.uint8)  # the words of <= PAD bytes
        short = np.flatnonzero(self.lens <= PAD)
        rows = np.repeat(short, self.lens[short])
        cols = np.arange(len(rows)) - np.repeat(np.cumsum(self.lens[short]) - self.lens[short],
                                                self.lens[short])
        self.pad[rows, cols] = self.chars[np.repeat(self.offs[short], self.lens[short]) + cols]

    def format(self, W: np.ndarray, lp: np.ndarray, bo: np.ndarray, with_bo: bool) -> memoryview:
        from .build_kernels import format_lines, line_bytes

        W = np.ascontiguousarray(W)
        if W.dtype not in (np.uint32, np.int64):
            W = W.astype(np.int64)
        out = np.empty(line_bytes(W, self.lens), dtype=np.uint8)
        n = format_lines(W, np.ascontiguousarray(lp, dtype=np.float64),
                         np.ascontiguousarray(bo, dtype=np.float64), with_bo, self.chars,
                         self.offs, self.pad, out)
        return memoryview(out[:n])  # written without another copy


def suffix_order(W: np.ndarray) -> np.ndarray:
    """The permutation that sorts n-gram rows ``W`` (n, k) by their last word, then the one
    before it, ..., then the first (ids compared as numbers)."""
    return np.lexsort(W.T)  # the last row of W.T, the last word, is the primary key


def format_section(t: BackoffTables, k: int) -> memoryview:
    """The lines of the order-k section, in suffix order."""
    W = ngram_words(t.keys, t.V, k)  # (n_k, k)
    o = suffix_order(W)
    return LineFormatter(t.vocab).format(W[o], t.logprob[k - 1][o], t.backoff[k - 1][o],
                                         k < t.order)


def write_arpa(t: BackoffTables, path: str | os.PathLike) -> None:
    """Write ``t`` as an ARPA file, atomically (a reader never sees half a file)."""
    write_arpa_sections(path, t.info.get("text"), [len(k) for k in t.keys],
                        ([format_section(t, k)] for k in range(1, t.order + 1)))


def write_arpa_sections(path: str | os.PathLike, text: dict | None, sizes: list[int],
                        sections) -> None:
    """The ARPA file from its parts: ``sections`` yields, per order, an iterable of blocks of
    formatted lines (so a streaming builder writes one block at a time), atomically."""
    with atomic_write(path, "wb") as f:
        f.write(text_header(text).encode("ascii"))
        f.write(b"\\data\\\n")
        for k, n in enumerate(sizes, start=1):
            f.write(f"ngram {k}={n}\n".encode())
        for k, blocks in enumerate(sections, start=1):
            f.write(f"\n\\{k}-grams:\n".encode())
            for block in blocks:
                f.write(block)
        f.write(b"\n\\end\\\n")


def write_arpa_reference(t: BackoffTables, path: str | os.PathLike) -> None:
    """Slow pure-Python twin of :func:`write_arpa` (the tests check they write the same bytes)."""
    N, V = t.order, t.V
    with atomic_write(path, "w") as f:
        f.write(_header(t))
        f.write("\\data\\\n")
        for k in range(1, N + 1):
            f.write(f"ngram {k}={len(t.keys[k - 1])}\n")
        for k in range(1, N + 1):
            f.write(f"\n\\{k}-grams:\n")
            W = ngram_words(t.keys, V, k).tolist()
            lp, bo = _fmt(t.logprob[k - 1]), _fmt(t.backoff[k - 1])
            for i in sorted(range(len(W)), key=lambda i: W[i][::-1]):  # suffix order
                row = W[i]
                gram = " ".join(t.vocab[w] for w in row)
                f.write(f"{lp[i]}\t{gram}\t{bo[i]}\n" if k < N else f"{lp[i]}\t{gram}\n")
        f.write("\n\\end\\\n")


def read_arpa(path: str | os.PathLike) -> BackoffTables:
    """Load an ARPA file (from lmplz, SRILM or :func:`write_arpa`) into backoff tables."""
    path = Path(path)
    f = io.TextIOWrapper(open_regular(path, "file"), encoding="utf-8")
    with f:
        try:
            return _parse(f, path)
        except UnicodeDecodeError as e:
            raise ModelFormatError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def _parse(f, path: Path) -> BackoffTables:
    def bad(msg: str, lineno: int | None = None) -> ModelFormatError:
        where = f" line {lineno}" if lineno else ""
        return ModelFormatError(f"{path}:{where} {msg}")

    lineno = 0
    line = ""
    text = None
    for line in f:  # skip anything before \data\ (ARPA allows a free-text header)
        lineno += 1
        if line.startswith(TEXT_HEADER):
            try:
                text = json.loads(line[len(TEXT_HEADER):])
            except ValueError as e:
                raise bad(f"bad {TEXT_HEADER.strip()} line ({e})", lineno) from None
        if line.strip() == "\\data\\":
            break
    else:
        raise bad("not an ARPA file (no \\data\\ section)")
    sizes: list[int] = []
    for line in f:
        lineno += 1
        s = line.strip()
        if not s:
            if sizes:
                break
            continue
        if not s.startswith("ngram ") or "=" not in s:
            raise bad(f"expected 'ngram K=COUNT', got {s[:60]!r}", lineno)
        k, n = s[6:].split("=", 1)
        try:
            k, n = int(k), int(n)
        except ValueError:
            raise bad(f"expected 'ngram K=COUNT', got {s[:60]!r}", lineno) from None
        if k != len(sizes) + 1 or n < 0:
            raise bad(f"ngram counts out of sequence at {s!r}", lineno)
        sizes.append(n)
    N = len(sizes)
    if N == 0:
        raise bad("no 'ngram K=COUNT' lines in \\data\\")
    build = _Builder(path, N)
    for k in range(1, N + 1):
        for line in f:
            lineno += 1
            if line.strip():
                break
        if line.strip() != f"\\{k}-grams:":
            raise bad(f"expected \\{k}-grams:, got {line.strip()[:60]!r}", lineno)
        left = sizes[k - 1]
        chunk = left if k == 1 else CHUNK  # the vocabulary is read whole
        while True:  # chunk lines at a time: arrays now, the strings of one chunk alive at most
            lines = list(itertools.islice(f, min(left, chunk)))
            if len(lines) < min(left, chunk):
                done = sizes[k - 1] - left + len(lines)
                raise bad(f"the file ends inside the {k}-grams ({done} of {sizes[k - 1]} lines)")
            if k == 1 or not build.add_lines(k, lines, k < N):  # compiled, else the general path
                build.add(k, *_section(lines, k, k < N, lineno, bad))
            lineno += len(lines)
            left -= len(lines)
            del lines
            if left == 0:
                break
        build.end_section(k)
    rest = f.read().split()
    if rest[:1] != ["\\end\\"]:
        raise bad(f"expected \\end\\ after the {N}-grams, got {' '.join(rest[:3])[:60]!r}")
    tables = build.finish()
    if text is not None:
        tables.info["text"] = text
    return tables


def _fields(text: str) -> list[str]:
    """Split on tab, space, CR and LF only: a word may hold other whitespace (lmplz keeps a
    no-break space or U+3000 inside a word, and so does ``--tokenizer spaces``). A doubled
    separator leaves an empty field, which sends :func:`_section` to its line-by-line path."""
    toks = text.replace("\t", " ").replace("\r", " ").replace("\n", " ").split(" ")
    if toks and toks[-1] == "":
        toks.pop()
    return toks


def _section(lines: list[str], k: int, lower: bool, lineno: int, bad):
    """(probabilities, k word columns, backoffs) of one section, as lists of strings.

    Fast path: when every line has all its fields, one :func:`_fields` of the whole block gives a
    fixed-width token list that is sliced column by column. Otherwise (e.g. SRILM omits a zero
    backoff) the lines are parsed one by one."""
    width = k + 1 + (1 if lower else 0)
    toks = _fields("".join(lines))
    if len(toks) == width * len(lines) and all(line.count("\t") == width - k for line in lines[:100]):
        cols = [toks[j::width] for j in range(width)]
        return cols[0], cols[1:k + 1], (cols[k + 1] if lower else None)
    probs, words, backs = [], [[] for _ in range(k)], []
    for i, line in enumerate(lines):
        parts = [p for p in _fields(line) if p]
        if len(parts) not in (k + 1, k + 2) or (len(parts) == k + 2 and not lower):
            raise bad(f"expected a {k}-gram line, got {line.strip()[:60]!r}", lineno + i + 1)
        probs.append(parts[0])
        for j in range(k):
            words[j].append(parts[1 + j])
        backs.append(parts[k + 1] if len(parts) == k + 2 else "0")
    return probs, words, (backs if lower else None)


def _floats(values: list[str], what: str, path: Path, *, prob: bool = True) -> np.ndarray:
    """Parse log10 values; -99 (or less) is the ARPA stand-in for log10 0."""
    try:
        x = np.fromiter(map(float, values), dtype=np.float64, count=len(values))
    except ValueError:
        raise ModelFormatError(f"{path}: a {what} is not a number") from None
    return _checked(x, what, path, prob=prob)


def _checked(x: np.ndarray, what: str, path: Path, *, prob: bool = True) -> np.ndarray:
    """Parsed log10 values checked, -99 (or less) as -inf (in place)."""
    if np.isnan(x).any() or (prob and (x > 1e-6).any()):
        raise ModelFormatError(f"{path}: a {what} is NaN or above 0 (a probability above 1)")
    if np.isposinf(x).any():  # log10 b = inf: a weight no probability can carry
        raise ModelFormatError(f"{path}: a {what} is +inf")
    x[x <= NEG_INF_ARPA] = -np.inf
    return x


class _Builder:
    """Turns each parsed chunk of a section into arrays as soon as it is read (the strings of
    one chunk at a time are alive, not a section's or the file's); :meth:`end_section` sorts
    the section's keys once all its chunks are in."""

    def __init__(self, path: Path, N: int):
        self.path, self.N = path, N
        self.keys: list[np.ndarray] = []
        self.logprob: list[np.ndarray] = []
        self.backoff: list[np.ndarray] = []
        self.warnings: list[str] = []
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._tables: dict[int, tuple[int, np.ndarray]] = {}  # order -> its keys' positions

    def add(self, k: int, probs: list[str], words: list[list[str]], backs: list[str] | None):
        path = self.path
        if k == 1:
            self._unigrams(probs, words[0], backs)
            return
        n = len(probs)
        try:
            W = [np.fromiter(map(self.index.__getitem__, col), dtype=np.int64, count=n) for col in words]
        except KeyError as e:
            raise ModelFormatError(f"{path}: a {k}-gram uses {e.args[0]!r}, which is no unigram") from None
        self._rows(k, W, _floats(probs, f"{k}-gram log-probability", path),
                   _floats(backs, f"{k}-gram backoff", path, prob=False)
                   if backs is not None else np.zeros(n), words)

    def add_lines(self, k: int, lines: list[str], lower: bool) -> bool:
        """The compiled path (:mod:`.arpa_kernels`) for a chunk of order-k lines; False (and
        nothing added) when the general path must read it: another layout, an unusual number,
        a word that is no unigram, a context that is not listed (it says which)."""
        from .arpa_kernels import parse_lines
        from .packed import word_table

        if not hasattr(self, "_vtable"):
            self._chars, self._offs, self._vbits, self._vtable = word_table(self.vocab)
        n = len(lines)
        W = np.empty((n, k), dtype=np.int64)
        lp, bo = np.empty(n), np.zeros(n)
        buf = np.frombuffer("".join(lines).encode("utf-8"), dtype=np.uint8)
        if parse_lines(buf, k, lower, self._chars, self._offs, self._vtable, self._vbits, self.V,
                       W, lp, bo) != n:
            return False
        lp = _checked(lp, f"{k}-gram log-probability", self.path)
        if lower:
            bo = _checked(bo, f"{k}-gram backoff", self.path, prob=False)
        return self._rows(k, [W[:, j] for j in range(k)], lp, bo, None)

    def _rows(self, k: int, W: list[np.ndarray], lp: np.ndarray, bo: np.ndarray,
              words: list[list[str]] | None) -> bool:
        """Add order-k rows of word ids (one array per position): their keys from their
        contexts' rows in the orders below. A context that is not listed is an error naming
        it (``words``), or False without the words (the general path reads the chunk again)."""
        from .arpa_kernels import find_keys

        path, V, keys = self.path, self.V, self.keys
        prefix = W[0]
        for j in range(2, k):  # the id of w_1..w_{k-1}, found order by order
            key = prefix * V + W[j - 1]
            pos = np.empty(len(key), dtype=np.int64)
            i = find_keys(keys[j - 1], *self._index(j), key, pos)
            if i >= 0:
                if words is None:
                    return False
                ctx = " ".join(words[m][i] for m in range(j))
                raise ModelFormatError(f"{path}: {k}-gram context {ctx!r} is not listed as a {j}-gram")
            prefix = pos
        self._chunks.append((prefix * V + W[-1], lp, bo))
        return True

    def _index(self, j: int) -> tuple[int, np.ndarray]:
        """The order-j keys' position table (:func:`.arpa_kernels.index_keys`), built once."""
        from .arpa_kernels import index_keys
        from .packed import table_bits

        if j not in self._tables:
            bits = table_bits(len(self.keys[j - 1]))
            table = np.full(1 << bits, -1, dtype=np.int64)
            index_keys(self.keys[j - 1], bits, table)
            self._tables[j] = bits, table
        return self._tables[j]

    def end_section(self, k: int) -> None:
        """The order-k arrays in key order (the trie order :mod:`.tables` searches)."""
        if k == 1:
            return
        parts, self._chunks = self._chunks, []
        key, lp, bo = (np.concatenate([c[j] for c in parts]) if parts else np.zeros(0, dtype)
                       for j, dtype in enumerate((np.int64, np.float64, np.float64)))
        del parts
        order = np.argsort(key, kind="stable")
        key = key[order]
        if len(key) > 1 and not (np.diff(key) > 0).all():
            raise ModelFormatError(f"{self.path}: duplicate {k}-grams")
        self.keys.append(key)
        self.logprob.append(lp[order])
        self.backoff.append(bo[order])

    def _unigrams(self, probs: list[str], unigrams: list[str], backs: list[str] | None):
        path = self.path
        if len(set(unigrams)) != len(unigrams):
            raise ModelFormatError(f"{path}: duplicate unigrams")
        for w in SPECIALS[1:]:
            if w not in unigrams:
                raise ModelFormatError(f"{path}: the unigrams lack {w}")
        self.vocab = list(SPECIALS) + [w for w in unigrams if w not in SPECIALS]
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.V = V = len(self.vocab)
        lp1 = np.full(V, MISSING_UNK)
        bo1 = np.zeros(V)
        ids1 = np.fromiter(map(self.index.__getitem__, unigrams), dtype=np.int64, count=len(unigrams))
        lp1[ids1] = _floats(probs, "1-gram log-probability", path)
        if backs is not None:
            bo1[ids1] = _floats(backs, "1-gram backoff", path, prob=False)
        if UNK not in unigrams:
            self.warnings.append(f"{path}: no <unk> unigram; using log10 p(<unk>) = {MISSING_UNK}")
        self.keys.append(np.arange(V, dtype=np.int64))
        self.logprob.append(lp1)
        self.backoff.append(bo1)

    def finish(self) -> BackoffTables:
        self._tables = {}
        self.backoff[-1] = np.zeros(len(self.keys[-1]))
        info = {"method": "arpa", "source": str(self.path), "warnings": self.warnings}
        return BackoffTables(self.vocab, self.keys, self.logprob, self.backoff, info)
