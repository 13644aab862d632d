"""Reading a user's text file safely: one clear error for every way it can be wrong.

Large files are streamed line by line (never read whole twice). Errors name the file and, for
bad encodings, the byte offset of the first offending byte, so the user can find it.
"""
from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Iterator

from ..errors import DataError

_SNIFF = 8192


def check_text_file(path: str | os.PathLike) -> Path:
    """Raise DataError unless ``path`` is an existing, non-empty, non-binary regular file."""
    p = Path(path)
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


def iter_lines(path: str | os.PathLike, *, chunk_size: int = 1 << 20) -> Iterator[str]:
    """Yield the lines of a UTF-8 text file without their line endings, streaming.

    ``.xz``/``.gz`` files are decompressed on the fly. A byte sequence that is not UTF-8 raises
    DataError with its byte offset; a NUL byte anywhere raises DataError (binary data).
    """
    p = check_text_file(path)
    if p.suffix in (".xz", ".gz"):
        import gzip
        import lzma

        raw = lzma.open(p, "rb") if p.suffix == ".xz" else gzip.open(p, "rb")
    else:
        raw = open(p, "rb")
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0  # bytes consumed before the current chunk
    pending = ""
    first = True
    with raw:
        while True:
            try:
                block = raw.read(chunk_size)
            except (OSError, EOFError) as e:
                raise DataError(f"{p}: cannot read compressed data ({e})") from None
            final = not block
            try:
                text = decoder.decode(block, final=final)
            except UnicodeDecodeError as e:
                # e.start is relative to the bytes the decoder saw: its buffered tail + block
                buffered = len(decoder.getstate()[0]) if not final else 0
                pos = offset - buffered + e.start
                raise DataError(f"{p}: not valid UTF-8 (byte 0x{e.object[e.start]:02x} at offset {max(pos, 0)})") from None
            if "\x00" in text:
                raise DataError(f"{p}: looks binary (NUL byte near offset {offset}); expected UTF-8 text")
            if first and text.startswith("\ufeff"):
                text = text[1:]
            first = False
            offset += len(block)
            if text:
                pending += text
                lines = pending.split("\n")
                pending = lines.pop()
                for line in lines:
                    yield line.rstrip("\r")
            if final:
                break
    if pending:
        yield pending.rstrip("\r")
