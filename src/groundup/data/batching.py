"""Token lists -> ids: one stream for a language model, sentences for word2vec.

A language model reads a corpus as one long stream of ids (N,): every line's tokens followed by
its ``<eos>``. :func:`encode_stream` builds it in chunks, so a 14M-token corpus never becomes a
14M-element Python list. Word2vec keeps the sentence boundaries and drops the words outside its
vocabulary (:func:`encode_sentences`). (BPTT batching belongs to the training engine.)
"""
from __future__ import annotations

import itertools
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
