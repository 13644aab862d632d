"""Corpus statistics and checksum verification (what ``groundup data info|verify`` print)."""
from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

from ..errors import DataError
from .corpora import Corpus, TextCorpus, locate_file
from .tokenize import UNK


def corpus_stats(corpus: TextCorpus) -> dict:
    """Lines, tokens (end-of-line tokens included when the corpus appends them), types, the
    number of literal ``<unk>`` tokens and the bytes on disk. Streams the files once.
    A ``"lines"`` corpus (raw lines, e.g. an evaluation set) is counted in whitespace tokens."""
    counts: Counter = Counter()
    lines = 0
    raw = corpus.tokenizer == "lines"
    for toks in corpus:
        lines += 1
        counts.update(toks.split() if raw else toks)
    if lines == 0:
        raise DataError(f"{corpus.name}: no lines")
    tokens = sum(counts.values())
    if tokens == 0:
        raise DataError(f"{corpus.name}: holds no tokens")
    return {"lines": lines, "tokens": tokens, "types": len(counts), "unk": counts.get(UNK, 0),
            "bytes": sum(Path(f).stat().st_size for f in corpus.files)}


def oov_stats(corpus: TextCorpus, reference: TextCorpus) -> dict:
    """Tokens and types of ``corpus`` never seen in ``reference`` (e.g. test against train).

    A literal ``<unk>`` counts as seen when the reference has it too (PTB and WikiText mark
    their rare words that way, so their valid and test sets have no OOV at all)."""
    raw = reference.tokenizer == "lines"
    seen: set = set()
    for toks in reference:
        seen.update(toks.split() if raw else toks)
    oov_tokens = total = 0
    new: set = set()
    for toks in corpus:
        for t in (toks.split() if raw else toks):
            total += 1
            if t not in seen:
                oov_tokens += 1
                new.add(t)
    return {"oov_tokens": oov_tokens, "oov_types": len(new),
            "oov_rate": oov_tokens / total if total else 0.0}


def file_sha256(path: Path) -> str:
    """sha256 of the file's content, decompressing ``.xz``/``.gz`` (bundled copies are xz)."""
    import gzip
    import lzma

    path = Path(path)
    opener = lzma.open if path.suffix == ".xz" else gzip.open if path.suffix == ".gz" else open
    h = hashlib.sha256()
    with opener(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def verify_corpus(c: Corpus) -> list[dict]:
    """For each registered file: ``ok``, ``mismatch``, ``missing`` or ``unknown`` (no checksum)."""
    out = []
    for f in c.files:
        p = locate_file(c, f)
        if p is None:
            out.append({"file": f.name, "status": "missing", "path": None})
            continue
        if f.sha256 is None:
            out.append({"file": f.name, "status": "unknown", "path": str(p)})
            continue
        actual = file_sha256(p)
        rec = {"file": f.name, "status": "ok" if actual == f.sha256 else "mismatch", "path": str(p)}
        if actual != f.sha256:
            rec.update(expected=f.sha256, actual=actual)
        out.append(rec)
    return out
