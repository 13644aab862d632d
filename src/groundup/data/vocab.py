"""A vocabulary: token <-> id, with counts, stable ids and a plain-text or JSON file format.

Order of ids (so that the same corpus always gives the same ids):

1. the special tokens, in the order given (``specials``, default ``("<unk>",)``);
2. every other token with ``count >= min_count``, by descending count; ties (``tie_break``):
   ``"first"`` (default) keeps the order in which the tokens were first counted (for a corpus:
   first occurrence; Python's sort is stable), ``"last"`` reverses it, which is gensim 4's
   order (``KeyedVectors.sort_by_descending_frequency`` lexsorts on (-count, -index)) and so
   word2vec's, and ``"alpha"`` sorts tied tokens alphabetically (torchtext's choice);
3. ``max_size`` (specials included) cuts the tail of that order.

``specials_first=False`` places the specials by their count among the words instead (never cut
by ``min_count`` or ``max_size``): the language models' order since their first checkpoints.
``prune_at`` bounds the memory of counting as word2vec.c's ``ReduceVocab`` does (gensim's
``max_vocab_size``): whenever more than ``prune_at`` distinct tokens have been seen, every token
seen at most ``r`` times is forgotten and ``r`` grows by one. ``total`` is the number of tokens
counted, those left out included (word2vec's learning-rate schedule counts them).

``encode`` maps a token not in the vocabulary to the ``unk`` id (``<unk>`` by default, which
is how PTB and WikiText mark rare words) or, with ``unk=None``, raises DataError naming it.

File formats (chosen by the suffix on save, sniffed on load):

* text: an optional first line ``#groundup-vocab {"version": 1, "unk": ..., "specials": [...]}``
  then one ``token<TAB>count`` per line, id = line order. Tab, newline, carriage return and
  backslash inside a token are escaped as ``\\t``, ``\\n``, ``\\r``, ``\\\\`` (character-level
  vocabularies contain them). Files without the header, such as word2vec's ``-save-vocab``
  output (``token count``, one space), load too.
* JSON (``.json``): ``{"format": "groundup-vocab", "version": 1, "unk", "specials",
  "tokens": [...], "counts": [...]}``.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..errors import DataError
from .tokenize import UNK

_HEADER = "#groundup-vocab "
_ESC = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESC = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _escape(tok: str) -> str:
    if not any(c in tok for c in _ESC):
        return tok
    return "".join(_ESC.get(c, c) for c in tok)


def _unescape(s: str, where: str) -> str:
    if "\\" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in _UNESC:
                raise DataError(f"{where}: bad escape in token {s!r} (use \\\\, \\t, \\n or \\r)")
            out.append(_UNESC[s[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def count_tokens(token_lists: Iterable[Iterable[str]], prune_at: int | None = None
                 ) -> tuple[dict[str, int], int]:
    """Token counts in first-seen order and the number of tokens, pruning like word2vec.c's
    ``ReduceVocab`` when more than ``prune_at`` distinct tokens are held (see the module doc)."""
    counts: Counter = Counter()
    total = 0
    min_reduce = 1
    for toks in token_lists:
        if isinstance(toks, str):
            raise DataError("Vocab.build expects token lists (or a token->count mapping), got a "
                            f"string {toks[:30]!r}: tokenize the lines first")
        if not isinstance(toks, (list, tuple)):
            toks = list(toks)
        counts.update(toks)          # Counter.update runs the counting loop in C
        total += len(toks)
        if prune_at is not None and len(counts) > prune_at:
            for t in [t for t, c in counts.items() if c <= min_reduce]:
                del counts[t]
            min_reduce += 1
    return dict(counts), total


class Vocab:
    """Token <-> id mapping. Build with :meth:`build` (from a corpus or counts) or construct
    directly from an ordered token list (id = position)."""

    def __init__(self, tokens: Sequence[str], counts: Sequence[int] | None = None, *,
                 unk: str | None = UNK, specials: Sequence[str] = (), total: int | None = None):
        tokens = list(tokens)
        if counts is None:
            counts = [0] * len(tokens)
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape != (len(tokens),):
            raise DataError(f"vocab: {len(tokens)} tokens but {counts.size} counts")
        if counts.size and counts.min() < 0:
            raise DataError(f"vocab: negative count {int(counts.min())}")
        stoi: dict[str, int] = {}
        for i, t in enumerate(tokens):
            if not isinstance(t, str) or t == "":
                raise DataError(f"vocab: token {i} is {t!r}, expected a non-empty string")
            if t in stoi:
                raise DataError(f"vocab: duplicate token {t!r} (ids {stoi[t]} and {i})")
            stoi[t] = i
        if unk is not None and unk not in stoi:
            raise DataError(f"vocab: unknown-word token {unk!r} is not in the vocabulary "
                            f"(add it to specials, or pass unk=None)")
        for s in specials:
            if s not in stoi:
                raise DataError(f"vocab: special token {s!r} is not in the vocabulary")
        self.itos: list[str] = tokens
        self.stoi: dict[str, int] = stoi
        self.counts: np.ndarray = counts          # (V,) int64
        self.unk: str | None = unk
        self.unk_id: int | None = None if unk is None else stoi[unk]
        self.specials: tuple[str, ...] = tuple(specials)
        self.total: int = int(counts.sum()) if total is None else int(total)  # tokens counted

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(cls, data: Mapping[str, int] | Iterable[Iterable[str]], *, min_count: int = 1,
              max_size: int | None = None, specials: Sequence[str] = (UNK,),
              unk: str | None = UNK, tie_break: str = "first", specials_first: bool = True,
              prune_at: int | None = None) -> "Vocab":
        """Build from token counts (a mapping) or from an iterable of token lists (a corpus).

        ``unk``, when not None and not already in ``specials``, is added as the first special.
        """
        for name, v, lo in (("min_count", min_count, 1), ("max_size", max_size, 1), ("prune_at", prune_at, 1)):
            if (v is not None or name == "min_count") and (isinstance(v, bool) or not isinstance(v, int) or v < lo):
                raise DataError(f"{name} must be an integer >= {lo}{'' if name == 'min_count' else ' or None'}, "
                                f"got {v!r}")
        if tie_break not in ("first", "last", "alpha"):
            raise DataError(f"tie_break must be 'first', 'last' or 'alpha', got {tie_break!r}")
        specials = list(dict.fromkeys(specials))
        if unk is not None and unk not in specials:
            specials.insert(0, unk)
        if max_size is not None and max_size < len(specials):
            raise DataError(f"max_size={max_size} is smaller than the {len(specials)} special tokens")
        counts, total = (data, sum(data.values())) if isinstance(data, Mapping) else count_tokens(data, prune_at)
        spec = set(specials)
        rest = [(t, c) for t, c in counts.items() if t not in spec and c >= min_count]
        if tie_break == "last":
            rest.reverse()
        by_count = (lambda tc: (-tc[1], tc[0])) if tie_break == "alpha" else (lambda tc: -tc[1])
        rest.sort(key=by_count)
        if max_size is not None:  # cuts words only, so the rule is the same in either placement
            rest = rest[: max_size - len(specials)]
        if specials_first:
            kept = [(t, int(counts.get(t, 0))) for t in specials] + rest
        else:  # specials where their count (first-seen order among equals) puts them
            allc = dict(counts)
            for t in specials:
                allc.setdefault(t, 0)
            keep = set(t for t, _ in rest) | spec
            kept = [(t, c) for t, c in allc.items() if t in keep]
            if tie_break == "last":
                kept.reverse()
            kept.sort(key=by_count)
        return cls([t for t, _ in kept], [int(c) for _, c in kept], unk=unk, specials=specials,
                   total=total)
    # -- lookups -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __iter__(self):
        return iter(self.itos)

    def __getitem__(self, token: str) -> int:
        """The id of ``token`` (the unk id when unknown and ``unk`` is set)."""
        i = self.stoi.get(token, self.unk_id)
        if i is None:
            raise DataError(f"token {token!r} is not in the vocabulary and it has no unknown-word token")
        return i

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Vocab) and self.itos == other.itos and self.unk == other.unk
                and self.specials == other.specials and np.array_equal(self.counts, other.counts))

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, unk={self.unk!r}, specials={list(self.specials)})"

    def token(self, i: int) -> str:
        return self.itos[i]

    def encode(self, tokens: Sequence[str] | Iterable[str]) -> np.ndarray:
        """Token ids as an int64 array (L,). Unknown tokens map to the unk id."""
        if isinstance(tokens, str):
            raise DataError(f"encode expects a sequence of tokens, got the string {tokens[:30]!r}")
        get = self.stoi.get
        unk = self.unk_id
        if unk is None:
            ids = []
            for t in tokens:
                i = get(t)
                if i is None:
                    raise DataError(f"token {t!r} is not in the vocabulary and it has no unknown-word token")
                ids.append(i)
            return np.asarray(ids, dtype=np.int64)
        if isinstance(tokens, (list, tuple)):
            return np.fromiter((get(t, unk) for t in tokens), dtype=np.int64, count=len(tokens))
        return np.fromiter((get(t, unk) for t in tokens), dtype=np.int64)

    def map_unknown(self, tokens: Sequence[str]) -> list[str]:
        """``tokens`` with every token outside the vocabulary replaced by the unk token."""
        if self.unk is None:
            raise DataError("map_unknown needs a vocabulary with an unknown-word token")
        stoi, unk = self.stoi, self.unk
        return [t if t in stoi else unk for t in tokens]

    def decode(self, ids: Iterable[int] | np.ndarray) -> list[str]:
        itos = self.itos
        arr = np.asarray(ids, dtype=np.int64).ravel()
        if arr.size and (arr.min() < 0 or arr.max() >= len(itos)):
            bad = arr[(arr < 0) | (arr >= len(itos))][0]
            raise DataError(f"id {int(bad)} is out of range for a vocabulary of {len(itos)}")
        return [itos[i] for i in arr.tolist()]

    def oov_rate(self, tokens: Sequence[str]) -> float:
        """Fraction of ``tokens`` not in the vocabulary (an ``unk`` token itself counts as OOV)."""
        if not tokens:
            return 0.0
        n = sum(1 for t in tokens if t not in self.stoi or t == self.unk)
        return n / len(tokens)

    # -- files ---------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": "groundup-vocab", "version": 1, "unk": self.unk, "specials": list(self.specials),
                "tokens": list(self.itos), "counts": self.counts.tolist()}

    def save(self, path: str | os.PathLike) -> Path:
        """Write as JSON (``.json``) or plain text (anything else), atomically."""
        from ..io import atomic_write

        path = Path(path)
        with atomic_write(path, "w") as f:
            if path.suffix == ".json":
                json.dump(self.to_dict(), f, ensure_ascii=False)
                f.write("\n")
            else:
                meta = {"version": 1, "unk": self.unk, "specials": list(self.specials)}
                f.write(_HEADER + json.dumps(meta, ensure_ascii=False) + "\n")
                for t, c in zip(self.itos, self.counts.tolist()):
                    f.write(f"{_escape(t)}\t{c}\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Vocab":
        """Read a vocabulary written by :meth:`save` (or a word2vec ``-save-vocab`` file).

        A malformed file raises DataError naming the file and the line.
        """
        from .textfile import check_text_file, iter_lines

        p = check_text_file(path)
        if p.suffix == ".json":
            return cls._load_json(p)
        tokens, counts = [], []
        meta: dict = {}
        has_header = False
        for n, line in enumerate(iter_lines(p), start=1):
            where = f"{p}:{n}"
            if n == 1 and line.startswith(_HEADER):
                try:
                    meta = json.loads(line[len(_HEADER):])
                except json.JSONDecodeError as e:
                    raise DataError(f"{where}: bad vocab header ({e.msg})") from None
                if not isinstance(meta, dict) or meta.get("version") != 1:
                    raise DataError(f"{where}: unsupported vocab header {line[len(_HEADER):]!r}")
                has_header = True
                continue
            sep = "\t" if "\t" in line else " "
            tok, found, cnt = line.rpartition(sep)
            if not found or tok == "":
                raise DataError(f"{where}: expected 'token<TAB>count', got {line[:60]!r}")
            try:
                c = int(cnt)
            except ValueError:
                raise DataError(f"{where}: count {cnt[:30]!r} is not an integer") from None
            if c < 0:
                raise DataError(f"{where}: negative count {c}")
            tokens.append(_unescape(tok, where) if has_header else tok)
            counts.append(c)
        if not tokens:
            raise DataError(f"{p}: vocab file has no tokens")
        seen: dict[str, int] = {}
        for i, t in enumerate(tokens):
            if t in seen:
                raise DataError(f"{p}:{i + 1 + has_header}: duplicate token {t!r} (first on line "
                                f"{seen[t] + 1 + has_header})")
            seen[t] = i
        if has_header:
            unk = meta.get("unk")
            specials = meta.get("specials") or []
        else:
            unk = UNK if UNK in seen else None
            specials = []
        return cls(tokens, counts, unk=unk, specials=specials)

    @classmethod
    def _load_json(cls, p: Path) -> "Vocab":
        try:
            with open(p, encoding="utf-8") as f:
                d = json.load(f)
        except UnicodeDecodeError as e:
            raise DataError(f"{p}: not valid UTF-8 (offset {e.start})") from None
        except json.JSONDecodeError as e:
            raise DataError(f"{p}:{e.lineno}: not valid JSON ({e.msg})") from None
        if not isinstance(d, dict) or d.get("format") != "groundup-vocab":
            raise DataError(f"{p}: not a groundup vocab (missing \"format\": \"groundup-vocab\")")
        if d.get("version") != 1:
            raise DataError(f"{p}: unsupported vocab version {d.get('version')!r}")
        tokens, counts = d.get("tokens"), d.get("counts")
        if not isinstance(tokens, list) or not isinstance(counts, list) or len(tokens) != len(counts):
            raise DataError(f"{p}: 'tokens' and 'counts' must be lists of the same length")
        if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
            raise DataError(f"{p}: 'counts' must hold integers")
        try:
            return cls(tokens, counts, unk=d.get("unk"), specials=d.get("specials") or [])
        except DataError as e:
            raise DataError(f"{p}: {e}") from None
