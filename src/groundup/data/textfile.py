"""The one reader of text: files (plain, ``.gz``, ``.xz``) and standard input (``-``), streamed.

Everything that reads a user's text goes through :func:`iter_lines` (or :func:`iter_pieces`
for lines too long to hold, such as text8's single 100 MB line). There is one decode loop: bytes
are read in blocks and decoded strictly, as UTF-8 unless another ``encoding`` is given (every
text command's ``--encoding``, e.g. ``gb18030`` for GBK/GB2312/GB18030 Chinese files); a
byte-order mark at the start is dropped, a ``\\r`` before the ``\\n`` is dropped. Every way the
input can be wrong is one :class:`~groundup.errors.DataError` that names the file and, for a bad
encoding, the line and byte offset of the first offending byte, suggesting ``--encoding
gb18030`` when the bytes read as GB18030 Chinese; the CLI prints it as one line.

``span=(start, end)`` reads only the lines that start at a byte offset in ``[start, end)`` of
an uncompressed file (the line under way at ``start`` belongs to the span before, the one under
way at ``end`` is read to its end), so the spans of a file read it whole, each line once: how
a distributed job splits one file among its tasks, Hadoop's convention for text input. It
holds for an encoding in which the byte ``\n`` is only ever a newline (:func:`splits_at_newlines`).

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


def splits_at_newlines(encoding: str) -> bool:
    """Can a file in ``encoding`` be cut into spans at ``\n`` bytes? Yes for UTF-8 and the
    other ASCII-compatible encodings without shift states (GB18030, Big5, Latin-1, ...); no
    for UTF-16/32 (a ``\n`` byte inside other characters) and the stateful ISO-2022, HZ and
    UTF-7 (a line's meaning depends on the escapes before it)."""
    name = codecs.lookup(encoding).name
    return "\n".encode(name) == b"\n" and not name.startswith(("iso2022", "hz", "utf-7"))


class _Span:
    """``read`` over the bytes of the lines that start in ``[start, end)`` of a seekable file."""

    def __init__(self, raw: BinaryIO, start: int, end: int):
        if start > 0:
            raw.seek(start - 1)
            raw.readline()  # the line under way at start belongs to the span before
        self.raw, self.end, self.at_line_start = raw, end, True

    def read(self, n: int) -> bytes:
        pos = self.raw.tell()
        if pos < self.end:
            block = self.raw.read(min(n, self.end - pos))
        elif not self.at_line_start:
            block = self.raw.readline()  # the line under way at end is this span's last
        else:
            block = b""
        if block:
            self.at_line_start = block.endswith(b"\n")
        return block


def _open(path: str | os.PathLike) -> tuple[BinaryIO, str]:
    if is_stdin(path):
        return sys.stdin.buffer, "<stdin>"
    p = check_text_file(path)
    if p.suffix in (".xz", ".gz"):
        import gzip
        import lzma

        return (lzma.open(p, "rb") if p.suffix == ".xz" else gzip.open(p, "rb")), str(p)
    return open(p, "rb"), str(p)


_HINT_WINDOW = 1 << 16   # bytes around a decoding error that are tried as GB18030


def _gb18030_hint(data: bytes) -> bool:
    """Do ``data`` (bytes around a UTF-8 error, starting at a line start) read as GB18030
    Chinese? The test behind the ``--encoding gb18030`` suggestion: strict decoding (a
    multi-byte character cut at the end is allowed), at least one CJK character, and most
    non-ASCII characters in GB2312 (both bytes >= 0xA1: the common Simplified characters).
    The last condition keeps Latin-1 text out: its accented letter plus the next ASCII letter
    (``\\xef v`` of "naïve") decode as rare GBK characters, never as GB2312 ones."""
    from .tokenize import has_cjk

    try:
        text = codecs.getincrementaldecoder("gb18030")("strict").decode(data, final=False)
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 0x7f]
    in_gb2312 = 0
    for c in wide:
        try:
            c.encode("gb2312")
            in_gb2312 += 1
        except UnicodeEncodeError:
            pass
    return has_cjk(text) and 2 * in_gb2312 > len(wide)


def iter_blocks(path: str | os.PathLike, block_size: int = 1 << 20, *,
                encoding: str = "utf-8", span: tuple[int, int] | None = None) -> Iterator[str]:
    """Decoded text of ``path`` (or of its ``span``, module docstring) in blocks (a block may
    end inside a line)."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r} (e.g. utf-8, gb18030)") from None
    if span is not None and (is_stdin(path) or Path(path).suffix in (".xz", ".gz")):
        raise ValueError(f"a span needs an uncompressed file, not {path}")
    raw, name = _open(path)
    label = "UTF-8" if codecs.lookup(encoding).name == "utf-8" else encoding
    read = raw.read if span is None else _Span(raw, *span).read
    offset = raw.tell() if span else 0  # bytes of the file before the current block
    lines = 0           # newlines in the bytes read (the line number is known from offset 0)
    recent = b""        # the last of them (at most _HINT_WINDOW), for the GB18030 hint
    first = offset == 0
    try:
        while True:
            try:
                block = read(block_size)
            except (OSError, EOFError) as e:
                raise DataError(f"{name}: cannot read compressed data ({e})") from None
            final = not block
            try:
                text = decoder.decode(block, final=final)
            except UnicodeDecodeError as e:
                # e.start is relative to the bytes the decoder saw: its buffered tail + block
                seen = e.object
                start = offset - (len(seen) - len(block))   # file offset of seen[0]
                pos = max(start + e.start, 0)
                line = lines - seen[:len(seen) - len(block)].count(b"\n") + seen[:e.start].count(b"\n") + 1
                hint = f"; give its encoding with --encoding NAME, or convert it first, e.g. iconv -f GB18030 -t UTF-8"
                if label == "UTF-8":
                    before = (recent + block)[:pos - offset + len(recent)]
                    cut = before.rfind(b"\n") + 1 if b"\n" in before else 0
                    if cut == 0 and offset - len(recent) > 0:   # the window starts mid-line: skip it
                        cut = len(before)
                    try:
                        after = raw.read(_HINT_WINDOW)
                    except (OSError, EOFError):
                        after = b""
                    if _gb18030_hint((recent + block)[cut:] + after):
                        hint = "; if it is GB18030/GBK Chinese, read it with --encoding gb18030"
                where = f" on line {line}" if not span or span[0] == 0 else ""
                raise DataError(f"{name}: not valid {label} (byte 0x{seen[e.start]:02x} at offset "
                                f"{pos}){where}{hint}") from None
            if "\x00" in text:
                raise DataError(f"{name}: looks binary (NUL byte near offset {offset}); expected text")
            if first and text.startswith("\ufeff"):
                text = text[1:]
            first = first and not text
            offset += len(block)
            lines += block.count(b"\n")
            recent = (recent + block)[-_HINT_WINDOW:]
            if text:
                yield text
            if final:
                return
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def iter_pieces(path: str | os.PathLike, max_chars: int | None = None, *,
                chunk_size: int = 1 << 20, encoding: str = "utf-8",
                span: tuple[int, int] | None = None) -> Iterator[tuple[str, bool]]:
    """Yield ``(text, line_ends)``: whole lines (``line_ends`` True), except that a line longer
    than ``max_chars`` comes in pieces cut after a space or tab (so no whitespace-separated
    token is split), each but the last with ``line_ends`` False. Line endings are removed."""
    pending = ""
    for block in iter_blocks(path, chunk_size, encoding=encoding, span=span):
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


def iter_lines(path: str | os.PathLike, *, chunk_size: int = 1 << 20,
               encoding: str = "utf-8", span: tuple[int, int] | None = None) -> Iterator[str]:
    """Yield the lines of a text file (or ``-``; UTF-8 unless ``encoding`` says otherwise; only
    those of ``span``, module docstring) without their line endings, streaming."""
    for line, _ in iter_pieces(path, None, chunk_size=chunk_size, encoding=encoding, span=span):
        yield line
