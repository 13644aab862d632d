"""Sentences -> one flat array of word ids, padded the way KenLM's ``lmplz`` pads them.

Sentences arrive as token lists from the one text pipeline (:mod:`groundup.data`: reader,
tokenizer registry); this module only numbers them.

Notation: T tokens in the flat stream (every sentence contributes ``<s> w_1 .. w_m </s>``),
V vocabulary size (special words included).

Word ids follow lmplz: ``<unk>`` = 0, ``<s>`` = 1, ``</s>`` = 2, then words in order of first
appearance. Keeping lmplz's numbering is not needed for the probabilities, but it lets us
reproduce one detail of its discount estimate (see :mod:`.kneser_ney`).

Special words in the text:

* a literal ``<unk>`` is the unknown word itself (id 0): it is counted like any other word, so
  PTB-style text, where rare words were already replaced by ``<unk>``, trains a model whose
  ``<unk>`` has real n-gram statistics (KenLM refuses such text; SRILM's ``-unk`` accepts it);
* literal ``<s>`` and ``</s>`` inside a line are dropped (lmplz ``--skip_symbols`` does the same:
  the sentence boundaries come from the line structure only).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
SPECIALS = (UNK, BOS, EOS)


@dataclass
class EncodedCorpus:
    """The flat, padded token stream.

    tokens: (T,) int32 word ids; pos: (T,) int32 position in the sentence (``<s>`` is 0), so an
    n-gram of order k may end at t exactly when ``pos[t] >= k - 1``.
    """

    vocab: list[str]
    tokens: np.ndarray
    pos: np.ndarray
    n_sentences: int

    @property
    def n_words(self) -> int:
        """Words, not counting ``<s>`` or ``</s>``."""
        return int(len(self.tokens) - 2 * self.n_sentences)


def encode(sentences: Iterable[Sequence[str]], vocab: list[str] | None = None) -> EncodedCorpus:
    """Map token lists to ids, adding ``<s>``/``</s>`` around each sentence; new words extend
    ``vocab`` (in place) in order of first appearance. An empty line is the sentence
    ``<s> </s>``, as in lmplz and KenLM's ``query``."""
    if vocab is None:
        vocab = list(SPECIALS)
    elif list(vocab[:3]) != list(SPECIALS):
        raise ValueError(f"vocab must start with {SPECIALS}, got {vocab[:3]}")
    index = {w: i for i, w in enumerate(vocab)}
    parts, lengths = [], []
    for chunk in _chunks(sentences):  # the strings of one chunk at a time are alive
        flat, lens = _flatten(chunk)
        for w in dict.fromkeys(flat):  # new words in order of first appearance
            if w not in index:
                index[w] = len(vocab)
                vocab.append(w)
        parts.append(np.fromiter(map(index.__getitem__, flat), dtype=np.int32, count=len(flat)))
        lengths += lens
    words = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    return _assemble(vocab, words, lengths)


def _chunks(sentences: Iterable[Sequence[str]], size: int = 8192):
    it = iter(sentences)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def encode_fixed(sentences: Iterable[Sequence[str]], vocab: list[str],
                 index: dict[str, int]) -> EncodedCorpus:
    """Encode with a trained model's vocabulary: unknown words become ``<unk>`` (id 0)."""
    flat, lengths = _flatten(sentences)
    words = np.fromiter(map(index.get, flat, itertools.repeat(UNK_ID)), dtype=np.int32,
                        count=len(flat))
    return _assemble(vocab, words, lengths)


def _flatten(sentences: Iterable[Sequence[str]]) -> tuple[list[str], list[int]]:
    flat: list[str] = []
    lengths: list[int] = []
    for sent in sentences:  # per sentence in Python, per word in C (extend)
        if isinstance(sent, str):
            raise TypeError("sentences must be token lists, not strings (split them first)")
        flat.extend(sent)
        lengths.append(len(sent))
    return flat, lengths


def _assemble(vocab: list[str], words: np.ndarray, lengths: list[int]) -> EncodedCorpus:
    """Place the word ids between ``<s>`` and ``</s>`` of each sentence; drop literal ones."""
    lens = np.asarray(lengths, dtype=np.int64)
    if len(words) and ((words == BOS_ID) | (words == EOS_ID)).any():
        keep = (words != BOS_ID) & (words != EOS_ID)  # boundaries come from the lines only
        sid = np.repeat(np.arange(len(lens)), lens)  # sentence of each word
        lens = np.bincount(sid[keep], minlength=len(lens)).astype(np.int64)
        words = words[keep]
    lens = lens + 2  # <s> and </s>
    tokens = np.empty(int(lens.sum()), dtype=np.int32)
    ends = np.cumsum(lens)
    starts = ends - lens
    is_word = np.ones(len(tokens), dtype=bool)
    is_word[starts] = False
    is_word[ends - 1] = False
    tokens[starts] = BOS_ID
    tokens[ends - 1] = EOS_ID
    tokens[is_word] = words
    # position within the sentence: arange minus the start offset of its sentence
    pos = (np.arange(len(tokens), dtype=np.int64) - np.repeat(starts, lens)).astype(np.int32)
    return EncodedCorpus(vocab, tokens, pos, len(lens))
