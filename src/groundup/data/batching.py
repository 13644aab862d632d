"""Token stream -> one id tensor. (BPTT batching belongs to the training engine.)

A language model reads a corpus as one long stream of ids (N,): every line's tokens followed by
its ``<eos>``. :func:`encode_stream` builds it in chunks, so a 14M-token corpus never becomes a
14M-element Python list.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..errors import DataError
from .vocab import Vocab

_CHUNK = 1 << 20  # tokens per encoded chunk


def encode_stream(token_lists: Iterable[Iterable[str]], vocab: Vocab, *, as_tensor: bool = True):
    """Concatenate the ids of every token list into one int64 array or torch tensor (N,).

    ``token_lists`` is anything yielding lists of tokens, e.g. a
    :class:`groundup.data.corpora.TextCorpus`. Unknown tokens map to ``vocab``'s unk id.
    """
    chunks: list[np.ndarray] = []
    buf: list[str] = []
    for toks in token_lists:
        if isinstance(toks, str):
            raise DataError(f"encode_stream expects token lists, got the string {toks[:30]!r}: tokenize first")
        buf.extend(toks)
        if len(buf) >= _CHUNK:
            chunks.append(vocab.encode(buf))
            buf = []
    if buf:
        chunks.append(vocab.encode(buf))
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    if ids.size == 0:
        raise DataError("the corpus holds no tokens")
    if not as_tensor:
        return ids
    import torch

    return torch.from_numpy(ids)


def corpus_ids(name_or_path, split: str | None = None, vocab: Vocab | None = None, *,
               tokenizer: str | None = None, min_count: int = 1, max_size: int | None = None):
    """Load ``split`` of a corpus as one id tensor, building the vocabulary from it if not given.

    Returns ``(ids, vocab)``. Build the vocabulary on train and pass it for valid/test::

        train, vocab = corpus_ids("ptb", "train")
        valid, _ = corpus_ids("ptb", "valid", vocab)
    """
    from .corpora import load_corpus

    corpus = load_corpus(name_or_path, split, tokenizer=tokenizer)
    if vocab is None:
        vocab = Vocab.build(corpus, min_count=min_count, max_size=max_size)
    return encode_stream(corpus, vocab), vocab
