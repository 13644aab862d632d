"""Streaming a text corpus into sentences of tokens, and sentences into integer ids.

A corpus is a text file or a folder of text files (read in sorted name order). Files are read
in 128 KiB blocks, so a text8-style file that is one 100 MB line never becomes one Python list:
a line longer than ``max_sentence_length`` tokens is cut into sentences of that length, as
gensim's ``Text8Corpus``/``LineSentence`` do (their ``MAX_WORDS_IN_BATCH`` is 10,000).

Tokenisers (``tokenizer=``; the data layer's :mod:`groundup.data.tokenize` does the work):
  * ``"whitespace"`` — split on whitespace: English, or Chinese already segmented into words;
  * ``"char"`` — every non-space character is a token: character-level Chinese/Japanese;
  * ``"cjk"`` — whitespace split, then every CJK character its own token (mixed text).
Normalisers: ``lowercase=True``; ``text8=True`` (lowercase, every character outside a-z
becomes a space — how Mahoney's text8 was made from Wikipedia).
"""
from __future__ import annotations

import codecs
import itertools
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ...data.textfile import check_text_file
from ...errors import DataError

MAX_SENTENCE_LENGTH = 10_000
TOKENIZERS = ("whitespace", "char", "cjk")
_SPACE = re.compile(r"\s+")


def text8_normalize(text: str) -> str:
    """text8's normaliser: ASCII letters lowercased, every other character a space."""
    from ...data.tokenize import text8_normalize as t8

    return t8(text)


def corpus_files(path: str | os.PathLike) -> list[Path]:
    """The files of a corpus: ``path`` itself, or the regular non-hidden files of a folder."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        if not files:
            raise DataError(f"{p}: folder has no files")
        return files
    return [check_text_file(p)]


def _iter_text_blocks(path: Path, block_size: int) -> Iterator[str]:
    """Decoded UTF-8 text of ``path`` in blocks; errors name the byte offset."""
    p = check_text_file(path)
    if p.suffix in (".xz", ".gz"):
        import gzip
        import lzma

        raw = lzma.open(p, "rb") if p.suffix == ".xz" else gzip.open(p, "rb")
    else:
        raw = open(p, "rb")
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    with raw:
        while True:
            try:
                block = raw.read(block_size)
            except (OSError, EOFError) as e:
                raise DataError(f"{p}: cannot read compressed data ({e})") from None
            final = not block
            try:
                text = dec.decode(block, final=final)
            except UnicodeDecodeError as e:
                buffered = 0 if final else len(dec.getstate()[0])
                pos = max(offset - buffered + e.start, 0)
                raise DataError(f"{p}: not valid UTF-8 (byte 0x{e.object[e.start]:02x} at offset {pos})") from None
            if "\x00" in text:
                raise DataError(f"{p}: looks binary (NUL byte near offset {offset}); expected UTF-8 text")
            if offset == 0 and text.startswith("\ufeff"):
                text = text[1:]
            offset += len(block)
            if text:
                yield text
            if final:
                return


def make_tokenizer(tokenizer: str = "whitespace", *, lowercase: bool = False,
                   text8: bool = False) -> Callable[[str], list[str]]:
    """A function from one line of text to its tokens (built on :mod:`groundup.data.tokenize`)."""
    from ...data import tokenize as tk

    if tokenizer not in TOKENIZERS:
        raise DataError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {tokenizer!r}")
    if text8:
        return tk.text8_tokens
    base = {"whitespace": tk.word_tokens, "cjk": tk.cjk_tokens,
            "char": lambda line: _SPACE.sub("", line)}[tokenizer]   # char: list() below
    if tokenizer == "char":
        return (lambda line: list(base(line.lower()))) if lowercase else (lambda line: list(base(line)))
    return (lambda line: base(line.lower())) if lowercase else base


class TextCorpus:
    """A restartable iterable of sentences (lists of str) read from a file or folder.

    Each line is a sentence (cut into pieces of at most ``max_sentence_length`` tokens); a line
    may be arbitrarily long: the reader holds one 128 KiB block and one partial line at a time
    (small blocks keep the tokenizer's transient string objects, and so the peak memory, small).
    """

    def __init__(self, path: str | os.PathLike, *, tokenizer: str = "whitespace",
                 lowercase: bool = False, text8: bool = False,
                 max_sentence_length: int = MAX_SENTENCE_LENGTH, block_size: int = 1 << 17):
        if max_sentence_length < 1:
            raise DataError(f"max_sentence_length must be >= 1, got {max_sentence_length}")
        self.files = corpus_files(path)
        self.tokenize = make_tokenizer(tokenizer, lowercase=lowercase, text8=text8)
        self.max_sentence_length = max_sentence_length
        self.block_size = block_size

    def __iter__(self) -> Iterator[list[str]]:
        n = self.max_sentence_length
        for f in self.files:
            carry: list[str] = []   # tokens of the current (unfinished) line
            tail = ""               # text after the last whitespace of the previous block
            for block in _iter_text_blocks(f, self.block_size):
                block = tail + block
                lines = block.split("\n")
                # the last piece may continue in the next block; keep its last partial token
                last = lines.pop()
                cut = max(last.rfind(" "), last.rfind("\t"), last.rfind("\r"))
                tail = last[cut + 1:]
                lines.append(last[:cut + 1])
                for k, line in enumerate(lines):
                    carry.extend(self.tokenize(line))
                    while len(carry) >= n:
                        yield carry[:n]
                        carry = carry[n:]
                    if k < len(lines) - 1 and carry:   # a real line end
                        yield carry
                        carry = []
            carry.extend(self.tokenize(tail))
            while carry:
                yield carry[:n]
                carry = carry[n:]


def encode_sentences(sentences: Iterable[list[str]], key_to_index: dict[str, int],
                     n_tokens: int | None = None, dtype=np.int32) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer-encode sentences, dropping out-of-vocabulary words (as word2vec.c and gensim do).

    Returns ``(ids, starts, n)``: ``ids`` (n,) of all kept tokens (``dtype``: uint16 halves the
    memory when the vocabulary has at most 65,536 words), ``starts`` int64
    sentence boundaries (``len = sentences + 1``; all-OOV sentences vanish). With ``n_tokens``
    known (from the vocabulary pass) the ids are written into one preallocated array, so the
    peak memory is the corpus once (4 bytes a token), not twice.
    """
    get = key_to_index.get
    ids = np.empty(n_tokens if n_tokens is not None else 1 << 16, dtype=dtype)
    lens: list[int] = []
    pos = 0
    for s in sentences:
        a = np.fromiter(map(get, s, itertools.repeat(-1)), dtype=np.int32, count=len(s))  # C loop
        a = a[a >= 0]                                                                 # drop OOV
        k = len(a)
        if not k:
            continue
        if pos + k > len(ids):
            if n_tokens is not None:
                raise DataError(f"the corpus changed between passes (more than {n_tokens} "
                                f"in-vocabulary tokens)")
            ids = np.resize(ids, max(2 * len(ids), pos + k))
        ids[pos:pos + k] = a
        pos += k
        lens.append(k)
    starts = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=starts[1:])
    return ids[:pos], starts, pos
