"""Word-level corpora as token-id streams: the standard PTB language-modelling convention.

Each line is split on whitespace and followed by ``<eos>`` (Mikolov's PTB set-up, as in
Zaremba et al.'s code and PyTorch's word_language_model example; blank WikiText lines give a
lone ``<eos>``). The vocabulary comes from the training split only; a valid/test word it lacks
becomes ``<unk>`` (PTB and WikiText-2 are closed-vocabulary, so they have none).

Sources: ``ptb`` (the shared data folder), ``wikitext2`` (bundled with the package), or a
folder holding one file each whose name contains ``train``, ``valid`` and ``test``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import torch

from ..data.textfile import iter_lines
from ..data.tokenize import EOS, UNK, word_tokens
from ..data.vocab import Vocab
from ..errors import DataError

SPLITS = ("train", "valid", "test")


class WordVocab:
    """Word <-> id for the engine: ids ordered by training frequency (ties by first appearance),
    ``<eos>`` and ``<unk>`` taking their place by count like any word. The mapping itself is
    :class:`groundup.data.vocab.Vocab` (constructed from the ordered list); ``words`` is what
    checkpoints store."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words: tuple[str, ...] = tuple(words)
        self.vocab = Vocab(list(self.words), unk=UNK, specials=(EOS,))

    @classmethod
    def build(cls, tokens: Iterable[str]) -> "WordVocab":
        counts = Counter(tokens)
        counts.setdefault(EOS, 0)
        counts.setdefault(UNK, 0)
        # Counter keeps first-appearance order; sorted() is stable, so ties keep it too.
        return cls([w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1])])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.vocab

    def encode(self, tokens: Sequence[str]) -> torch.Tensor:
        return torch.from_numpy(self.vocab.encode(list(tokens)))   # (N,) int64

    def decode(self, ids: Iterable[int]) -> list[str]:
        return self.vocab.decode(list(ids))


def tokenize_file(path: Path, limit: int = 0) -> list[str]:
    """Words of a file with ``<eos>`` after each line; at most ``limit`` tokens (0 = all)."""
    out: list[str] = []
    for line in iter_lines(path):
        out.extend(word_tokens(line, eos=EOS))
        if limit and len(out) >= limit:
            return out[:limit]
    return out


def split_files(data: str) -> dict[str, Path]:
    """Resolve ``ptb`` / ``wikitext2`` / a folder to its train/valid/test files."""
    from ..data.locate import bundled_path, shared_file

    if data == "ptb":
        files = {s: shared_file("ptb", f"ptb.{s}.txt") for s in SPLITS}
        missing = [s for s, p in files.items() if p is None]
        if missing:
            raise DataError("Penn Treebank not found: put ptb.{train,valid,test}.txt under "
                            "$GROUNDUP_DATA/ptb (or ../shared/data/ptb)")
        return files  # type: ignore[return-value]
    if data in ("wikitext2", "wikitext-2"):
        return {s: bundled_path("wikitext-2", f"wiki.{s}.tokens.xz") for s in SPLITS}
    folder = Path(data)
    if not folder.exists():
        raise DataError(f"--data {data}: not ptb, wikitext2 or an existing folder")
    if not folder.is_dir():
        raise DataError(f"--data {data}: expected a folder with train, valid and test files")
    files = {}
    for s in SPLITS:
        hits = sorted(p for p in folder.iterdir() if s in p.name and p.is_file()
                      and not p.name.startswith("."))
        if len(hits) != 1:
            found = ", ".join(p.name for p in hits) or "none"
            raise DataError(f"--data {data}: need exactly one file with {s!r} in its name "
                            f"(found: {found})")
        files[s] = hits[0]
    return files


@dataclass
class Corpus:
    vocab: WordVocab
    train: torch.Tensor  # (N_train,)
    valid: torch.Tensor  # (N_valid,)
    test: torch.Tensor   # (N_test,)
    name: str = ""


def load_corpus(data: str, *, train_tokens: int = 0, eval_tokens: int = 0,
                vocab: WordVocab | None = None) -> Corpus:
    """Read and numericalise a corpus; the vocabulary is built from (the used part of) train
    unless one is given (evaluating a checkpoint with its own vocabulary)."""
    files = split_files(data)
    train = tokenize_file(files["train"], train_tokens) if vocab is None else []
    if vocab is None:
        vocab = WordVocab.build(train)
    splits = {"train": vocab.encode(train) if train else torch.zeros(0, dtype=torch.long)}
    for s in ("valid", "test"):
        toks = tokenize_file(files[s], eval_tokens)
        if not toks:
            raise DataError(f"{files[s]}: no tokens")
        splits[s] = vocab.encode(toks)
    return Corpus(vocab, splits["train"], splits["valid"], splits["test"], name=data)
