"""The word2vec C vector formats (word2vec.c ``-binary 0/1``; gensim ``save_word2vec_format``).

Both start with an ASCII header line ``"<V> <D>\\n"``. Then, per word in vocabulary order:
  * text:   ``word v_1 v_2 ... v_D\\n`` (decimal floats separated by single spaces);
  * binary: the UTF-8 word, one space, D little-endian float32 (4*D bytes), then ``\\n``
    (word2vec.c writes the newline; gensim omits it; both readers skip it before a word).

After the vectors, groundup writes one more line, ``#groundup-text {"tokenizer": ...}``: the
text options the vectors were trained with (:class:`groundup.data.pipeline.TextOptions`).
gensim's ``load_word2vec_format`` and word2vec.c's tools read exactly the ``<V>`` records the
header announces and never see it (tested with gensim); our reader returns it as
``WordVectors.text``.

Reading validates everything and never executes anything: a short header, a count that
disagrees with the file, a wrong number of fields, a non-number, or a truncated record raises
``ModelFormatError`` naming the line (text) or byte offset (binary).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ...errors import ModelFormatError
from ...io import atomic_write
from ...io_read import check_fits_file, read_regular
from .vectors import WordVectors


_SEPARATORS = frozenset(" \t\n\r\v\f")  # word2vec.c's ReadWord splits on space, tab, newline


def _bad_word(w: str) -> bool:
    """The one rule for a word in either format, on write and on read: non-empty and free of
    the ASCII whitespace that separates fields (so every file we accept we can also write)."""
    return not w or any(c in _SEPARATORS for c in w)


def _check_word(w: str) -> None:
    if _bad_word(w):
        raise ModelFormatError(f"cannot write word {w!r}: words must be non-empty with no whitespace")


TRAILER = b"#groundup-text "


def save_word2vec(path: str | os.PathLike, wv: WordVectors, binary: bool | None = None, *,
                  text=None) -> Path:
    """Write ``wv`` in word2vec C format; ``binary=None`` picks text for ``.txt``, else binary.
    ``text`` (default ``wv.text``): the TextOptions to record in the trailer line."""
    path = Path(path)
    if binary is None:
        binary = path.suffix.lower() != ".txt"
    V, D = wv.vectors.shape
    for w in wv.words:
        _check_word(w)
    vecs = np.ascontiguousarray(wv.vectors, dtype="<f4")
    with atomic_write(path, "wb") as f:
        f.write(f"{V} {D}\n".encode("ascii"))
        if binary:
            for w, v in zip(wv.words, vecs):
                f.write(w.encode("utf-8") + b" " + v.tobytes() + b"\n")
        else:
            for w, v in zip(wv.words, vecs):
                # repr-like shortest round-trip floats, as gensim writes them
                f.write((w + " " + " ".join(map(repr, v.tolist())) + "\n").encode("utf-8"))
        text = wv.text if text is None else text
        if text is not None:
            f.write(TRAILER + json.dumps(text.record()).encode("ascii") + b"\n")
    return path


def _trailer(rest: bytes, path: Path):
    """The TextOptions of a trailer line (``rest``: the bytes after the last vector), or None."""
    from ...data.pipeline import TextOptions
    from ...errors import ConfigError

    if not rest.startswith(TRAILER) or b"\n" in rest.strip(b"\r\n"):
        return None
    try:
        return TextOptions.from_record(json.loads(rest[len(TRAILER):].decode("utf-8")))
    except (ValueError, ConfigError) as e:
        raise ModelFormatError(f"{path}: bad #groundup-text line after the vectors ({e})") from None


def _header(data: bytes, path: Path) -> tuple[int, int, int]:
    nl = data.find(b"\n")
    if nl < 0:
        raise ModelFormatError(f"{path}: no header line '<vocab size> <dimension>' (file has no newline)")
    parts = data[:nl].split()
    try:
        V, D = (int(x) for x in parts)
    except ValueError:
        raise ModelFormatError(f"{path}: line 1: expected header '<vocab size> <dimension>', got "
                               f"{data[:min(nl, 60)]!r}") from None
    if V < 0 or D < 1:
        raise ModelFormatError(f"{path}: line 1: bad header: vocab size {V}, dimension {D}")
    return V, D, nl + 1


def load_word2vec(path: str | os.PathLike, binary: bool | None = None) -> WordVectors:
    """Read a word2vec C text or binary file (``binary=None``: sniff it)."""
    path = Path(path)
    data = read_regular(path, "file")
    if not data:
        raise ModelFormatError(f"{path}: file is empty")
    V, D, pos = _header(data, path)
    if binary is None:
        binary = _looks_binary(data, pos, D)
    # A header may claim anything (10^30 words): rows are allocated only for the records the
    # file can hold. The smallest record is a 1-byte word, a separator, D numbers (binary: 4
    # bytes each; text: a space and a digit each) and a newline, so a file with fewer bytes
    # fails on a short record (named by the readers) before it would need a row past ``rows``.
    check_fits_file(path, D, len(data), f"the header's dimension {D:,}")
    rows = min(V, (len(data) - pos + 1) // (2 + (4 * D if binary else 2 * D)))  # +1: last newline
    vecs = np.empty((rows, D), np.float32)
    return _read_binary(data, V, vecs, pos, path) if binary else _read_text(data, V, vecs, path)


def _looks_binary(data: bytes, pos: int, D: int) -> bool:
    """Binary iff the bytes after the first word do not decode as a text line."""
    sp = data.find(b" ", pos)
    if sp < 0:
        return False
    rec = data[sp + 1: sp + 1 + 4 * D]
    try:
        rec.decode("ascii")
    except UnicodeDecodeError:
        return True
    return not all(c in b"0123456789.-+eEinfaINFA \n\r" for c in rec)


def _truncated(path: Path, V: int, i: int) -> ModelFormatError:
    return ModelFormatError(f"{path}: truncated: header says {V:,} words, the file cannot hold "
                            f"more than {i:,}")


def _read_binary(data: bytes, V: int, vecs: np.ndarray, pos: int, path: Path) -> WordVectors:
    words: list[str] = []
    D = vecs.shape[1]
    nbytes = 4 * D
    n = len(data)
    for i in range(V):
        while pos < n and data[pos:pos + 1] in (b"\n", b"\r"):
            pos += 1
        sp = data.find(b" ", pos, pos + 10_000)
        if sp < 0:
            if pos >= n:
                raise ModelFormatError(f"{path}: truncated: header says {V} words, file ends after "
                                       f"{i} (byte offset {pos})")
            if n - pos < 10_000:
                raise ModelFormatError(f"{path}: truncated at byte offset {n}: word #{i + 1} starting at "
                                       f"offset {pos} has no terminating space")
            raise ModelFormatError(f"{path}: byte offset {pos}: word #{i + 1} has no terminating space")
        try:
            w = data[pos:sp].decode("utf-8")
        except UnicodeDecodeError as e:
            raise ModelFormatError(f"{path}: byte offset {pos + e.start}: word #{i + 1} is not valid UTF-8") from None
        if _bad_word(w):
            raise ModelFormatError(f"{path}: byte offset {pos}: word #{i + 1} {w!r} is empty or "
                                   f"holds whitespace")
        if sp + 1 + nbytes > n:
            raise ModelFormatError(f"{path}: truncated at byte offset {n}: vector of word #{i + 1} "
                                   f"{w!r} needs {nbytes} bytes from offset {sp + 1}, "
                                   f"{n - sp - 1} left")
        if i >= len(vecs):  # unreachable by the size argument in load_word2vec; kept as the guard
            raise _truncated(path, V, i)
        vecs[i] = np.frombuffer(data, dtype="<f4", count=D, offset=sp + 1)
        words.append(w)
        pos = sp + 1 + nbytes
    rest = data[pos:].strip(b"\r\n")
    opts = _trailer(rest, path)
    if rest and opts is None:
        raise ModelFormatError(f"{path}: byte offset {pos}: data after the {V} vectors the header "
                               f"announces (wrong header, or not a binary file?)")
    return _finish(words, vecs, path, opts)


def _read_text(data: bytes, V: int, vecs: np.ndarray, path: Path) -> WordVectors:
    D = vecs.shape[1]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ModelFormatError(f"{path}: line {line} (byte offset {e.start}): not valid UTF-8; "
                               f"a binary file? use the binary format") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    body = lines[1:]
    if len(body) < V:
        raise ModelFormatError(f"{path}: truncated: header says {V} words, found {len(body)} lines "
                               f"(ends at line {len(lines)})")
    extra = [x for x in body[V:] if x.strip()]
    opts = _trailer(extra[0].encode("utf-8"), path) if len(extra) == 1 else None
    if extra and opts is None:
        raise ModelFormatError(f"{path}: line {V + 2}: more lines than the {V} the header announces")
    words: list[str] = []
    for i, line in enumerate(body[:V]):
        parts = line.rstrip().split(" ")
        if len(parts) != D + 1:
            raise ModelFormatError(f"{path}: line {i + 2}: expected a word and {D} numbers, got "
                                   f"{len(parts) - 1} numbers")
        if i >= len(vecs):  # unreachable by the size argument above; kept as the guard
            raise _truncated(path, V, i)
        try:
            vecs[i] = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            bad = next(p for p in parts[1:] if not _is_float(p))
            raise ModelFormatError(f"{path}: line {i + 2}: {bad!r} is not a number") from None
        if _bad_word(parts[0]):
            raise ModelFormatError(f"{path}: line {i + 2}: word {parts[0]!r} is empty or holds "
                                   f"whitespace (a line must start with the word)")
        words.append(parts[0])
    return _finish(words, vecs, path, opts)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _finish(words: list[str], vecs: np.ndarray, path: Path, text=None) -> WordVectors:
    if len(set(words)) != len(words):
        seen: set[str] = set()
        dup = next(w for w in words if w in seen or seen.add(w))
        raise ModelFormatError(f"{path}: word {dup!r} appears twice")
    if not np.all(np.isfinite(vecs)):
        i = int(np.argwhere(~np.isfinite(vecs))[0, 0])
        raise ModelFormatError(f"{path}: vector of word {words[i]!r} has a NaN or infinite value")
    return WordVectors(words, vecs, text=text)
