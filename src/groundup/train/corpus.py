"""Language-model corpora: the one text pipeline of :mod:`groundup.data` as id streams.

Each line is tokenized (``--tokenizer``, word by default) and followed by the tokenizer's
end-of-line token (``<eos>``; ``"\\n"`` for ``codepoint``): Mikolov's PTB set-up, as in Zaremba
et al.'s code and PyTorch's word_language_model example (blank WikiText lines give a lone
``<eos>``). The vocabulary comes from the training split only (``--min-count``, ``--max-vocab``
decide which words get their own id); a valid/test word it lacks becomes ``<unk>`` (PTB and
WikiText-2 are closed-vocabulary, so they have none). Ids are ordered by training frequency,
ties by first appearance, ``<eos>`` and ``<unk>`` taking their place by count like any word
(``Vocab.build(..., specials_first=False)``): the order of every checkpoint so far.

Sources: a corpus of the registry (``ptb`` from the shared data folder, ``wikitext2`` bundled
with the package), a folder whose file names name the splits (``train``, ``valid``/``dev``,
``test``), both found by :func:`groundup.data.corpora.resolve_files`, or the user's own files
(``--train FILE --valid FILE [--test FILE]``, ``-`` for standard input).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from ..data.pipeline import TextOptions, build_vocab
from ..data.tokenize import EOS, UNK
from ..data.vocab import Vocab
from ..errors import DataError

SPLITS = ("train", "valid", "test")


def split_files(data: str, files: dict[str, str] | None = None) -> dict[str, list[Path]]:
    """The files of each split: the user's ``files`` (split -> path; train and valid required,
    test optional), else ``data`` resolved by the corpus registry
    (:func:`groundup.data.corpora.resolve_files`: a registered name such as ``ptb`` or
    ``wikitext2``, or a folder whose file names name the splits)."""
    from ..data.corpora import resolve_files

    if files and any(files.values()):
        missing = [s for s in ("train", "valid") if not files.get(s)]
        if missing:
            raise DataError(f"--train FILE needs --valid FILE too (missing: {', '.join(missing)})")
        return {s: [Path(p)] for s, p in files.items() if p}
    if not data:
        raise DataError("no data: give --data NAME|FOLDER or --train FILE --valid FILE")
    return {s: resolve_files(data, s) for s in SPLITS}


def read_tokens(paths: list[Path], text: TextOptions, limit: int = 0, *,
                training: bool = False) -> list[str]:
    """The tokens of the files, the end-of-line token after each line; at most ``limit`` (0 = all).
    ``training``: under ``--tokenizer word``, text that looks like unsegmented Chinese warns once."""
    from ..data.corpora import TextCorpus

    tok = text.get_tokenizer()
    out: list[str] = []
    for toks in TextCorpus(paths, text.tokenizer, tok.eos, lowercase=text.lowercase,
                           script=text.script, encoding=text.encoding, check_spacing=training):
        out.extend(toks)
        if limit and len(out) >= limit:
            return out[:limit]
    return out


def lm_vocab(tokens: Sequence[str] | None, text: TextOptions, *, words: Sequence[str] | None = None) -> Vocab:
    """The language model's vocabulary: built from the training ``tokens``, or rebuilt from a
    checkpoint's ordered ``words``."""
    eos = text.get_tokenizer().eos
    specials = (eos,) if eos is not None else ()
    if words is not None:
        return Vocab(list(words), unk=UNK, specials=specials)
    return build_vocab([tokens], text, specials=specials, unk=UNK, specials_first=False)


@dataclass
class Corpus:
    vocab: Vocab
    train: torch.Tensor  # (N_train,)
    valid: torch.Tensor  # (N_valid,)
    test: torch.Tensor   # (N_test,) empty when the user gave no test file
    name: str = ""
    text: TextOptions = field(default_factory=TextOptions)

    @classmethod
    def from_tokens(cls, train: Sequence[str], valid: Sequence[str], test: Sequence[str] = (), *,
                    text: TextOptions = TextOptions(), name: str = "") -> "Corpus":
        """A corpus of token lists already in memory (the vocabulary from ``train``)."""
        vocab = lm_vocab(train, text)
        enc = lambda toks: torch.from_numpy(vocab.encode(list(toks)))   # noqa: E731  (N,) int64
        return cls(vocab, enc(train), enc(valid), enc(test), name=name, text=text)


def load_lm_corpus(data: str, *, train_tokens: int = 0, eval_tokens: int = 0,
                vocab: Vocab | None = None, text: TextOptions = TextOptions(),
                files: dict[str, str] | None = None) -> Corpus:
    """Read and numericalise a corpus; the vocabulary is built from (the used part of) train
    unless one is given (evaluating a checkpoint with its own vocabulary)."""
    paths = split_files(data, files)
    train = read_tokens(paths["train"], text, train_tokens, training=True) if vocab is None else []
    if vocab is None:
        vocab = lm_vocab(train, text)
    enc = lambda toks: torch.from_numpy(vocab.encode(toks))     # noqa: E731  (N,) int64
    splits = {"train": enc(train) if train else torch.zeros(0, dtype=torch.long)}
    for s in ("valid", "test"):
        if s not in paths:
            splits[s] = torch.zeros(0, dtype=torch.long)
            continue
        toks = read_tokens(paths[s], text, eval_tokens)
        if not toks:
            raise DataError(f"{', '.join(map(str, paths[s]))}: no tokens")
        splits[s] = enc(toks)
    name = data or str(paths["train"][0])
    return Corpus(vocab, splits["train"], splits["valid"], splits["test"], name=name, text=text)


__all__ = ["Corpus", "load_lm_corpus", "lm_vocab", "split_files", "read_tokens", "EOS", "UNK"]
