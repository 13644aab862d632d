"""The one reader of text: files (plain, ``.gz``, ``.xz``) and standard input (``-``), streamed.

Everything that reads a user's text goes through :func:`iter_lines` (or :func:`iter_pieces`
for lines too long to hold, such as text8's single 100 MB line). There is one decode loop: bytes
are read in blocks and decoded as strict UTF-8; a byte-order mark at the start is dropped, a
``\\r`` before the ``\\n`` is dropped. Every way the input can be wrong is one
:class:`~groundup.errors.DataError` that names the file and, for a bad encoding, the byte
offset of the first offending byte; the CLI prints it as one line.

``-`` is standard input. It can be read once: :class:`groundup.data.corpora.TextCorpus` refuses
a second pass over it, so a consumer that needs two (word2vec counts its vocabulary, then
trains) says to give a file.
"""
from __future__ import annotations

import codecs
import os
import sys
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import DataError

STDIN = "-"
_SNIFF = 8192


def is_stdin(path: str | os.PathLike) -> bool:
    return str(path) == STDIN


def check_text_file(path: str | os.PathLike) -> Path:
    """Raise DataError unless ``path`` is an existing, non-empty, non-binary regular file
    (``-``, standard input, passes unchecked)."""
    p = Path(path)
    if is_stdin(path):
        return p
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if p.is_dir():
        raise DataError(f"{p}: is a directory, expected a text file")
    if not p.is_file():
        raise DataError(f"{p}: not a regular file")
    try:
        with open(p, "rb") as f:
            head = f.read(_SNIFF)
    except OSError as e:
        raise DataError(f"{p}: cannot read ({e.strerror})") from None
    if not head:
        raise DataError(f"{p}: file is empty")
    if p.suffix not in (".xz", ".gz"):
        nul = head.find(b"\x00")
        if nul >= 0:
            raise DataError(f"{p}: looks binary (NUL byte at offset {nul}); expected UTF-8 text")
    return p


def _open(path: str | os.PathLike) -> tuple[BinaryIO, str]:
    if is_stdin(path):
        return sys.stdin.buffer, "<stdin>"
    p = check_text_file(path)
    if p.suffix in (".xz", ".gz"):
        import gzip
        import lzma

        return (lzma.open(p, "rb") if p.suffix == ".xz" else gzip.open(p, "rb")), str(p)
    return open(p, "rb"), str(p)


def iter_blocks(path: str | os.PathLike, block_size: int = 1 << 20) -> Iterator[str]:
    """Decoded UTF-8 text of ``path`` in blocks (a block may end inside a line)."""
    raw, name = _open(path)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0  # bytes consumed before the current block
    first = True
    try:
        while True:
            try:
                block = raw.read(block_size)
            except (OSError, EOFError) as e:
                raise DataError(f"{name}: cannot read compressed data ({e})") from None
            final = not block
            try:
                text = decoder.decode(block, final=final)
            except UnicodeDecodeError as e:
                # e.start is relative to the bytes the decoder saw: its buffered tail + block
                buffered = len(decoder.getstate()[0]) if not final else 0
                pos = max(offset - buffered + e.start, 0)
                raise DataError(f"{name}: not valid UTF-8 (byte 0x{e.object[e.start]:02x} at offset "
                                f"{pos}); convert it first, e.g. iconv -f GB18030 -t UTF-8") from None
            if "\x00" in text:
                raise DataError(f"{name}: looks binary (NUL byte near offset {offset}); expected UTF-8 text")
            if first and text.startswith("\ufeff"):
                text = text[1:]
            first = first and not text
            offset += len(block)
            if text:
                yield text
            if final:
                return
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def iter_pieces(path: str | os.PathLike, max_chars: int | None = None, *,
                chunk_size: int = 1 << 20) -> Iterator[tuple[str, bool]]:
    """Yield ``(text, line_ends)``: whole lines (``line_ends`` True), except that a line longer
    than ``max_chars`` comes in pieces cut after a space or tab (so no whitespace-separated
    token is split), each but the last with ``line_ends`` False. Line endings are removed."""
    pending = ""
    for block in iter_blocks(path, chunk_size):
        pending += block
        lines = pending.split("\n")
        pending = lines.pop()
        for line in lines:
            yield line.rstrip("\r"), True
        while max_chars is not None and len(pending) > max_chars:
            cut = max(pending.rfind(" ", 0, max_chars), pending.rfind("\t", 0, max_chars))
            if cut < 0:  # no space yet: cut after the first one, or wait for more text
                found = [i for i in (pending.find(" ", max_chars), pending.find("\t", max_chars)) if i >= 0]
                if not found:
                    break
                cut = min(found)
            yield pending[:cut + 1], False
            pending = pending[cut + 1:]
    if pending:
        yield pending.rstrip("\r"), True


def iter_lines(path: str | os.PathLike, *, chunk_size: int = 1 << 20) -> Iterator[str]:
    """Yield the lines of a UTF-8 text file (or ``-``) without their line endings, streaming."""
    for line, _ in iter_pieces(path, None, chunk_size=chunk_size):
        yield line
