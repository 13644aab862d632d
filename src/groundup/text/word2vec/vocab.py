"""What word2vec reads: sentences from the one text pipeline, and its vocabulary policy on the
one :class:`groundup.data.vocab.Vocab`.

Sentences are lines, cut into pieces of at most :data:`MAX_SENTENCE_LENGTH` tokens, as gensim's
``LineSentence``/``Text8Corpus`` cut them (their ``MAX_WORDS_IN_BATCH``), so text8's single
17M-word line is read a slice at a time (:func:`read_sentences`).

Follows word2vec.c's ``LearnVocabFromTrainFile``/``ReduceVocab`` as gensim re-implements it
(``Word2Vec.scan_vocab`` / ``utils.prune_vocab``): while counting, whenever the number of
distinct words exceeds ``max_vocab_size``, every word seen at most ``min_reduce`` times is
dropped and ``min_reduce`` grows by one (``Vocab.build``'s ``prune_at``). Then words below
``min_count`` go, and the rest are sorted by descending count, and words with equal counts in
*reverse* first-seen order, as gensim 4's ``sort_by_descending_frequency`` orders them
(``lexsort((-index, -count))``, ``tie_break="last"``). No specials, no unknown word: a word
outside the vocabulary is dropped from the training stream. Index 0 is the most frequent word;
the vector files list words in this order. The tie order matters beyond cosmetics:
``restrict_vocab=30000`` in the analogy evaluation takes the first 30,000 words, and on
novels98 (rank 30,000 has count 8, shared by 1,446 words) the two tie orders select 307
different words and evaluate 7,851 or 8,046 questions. ``max_vocab`` (the shared
``--max-vocab``) then keeps only the most frequent words of that order.
"""
from __future__ import annotations

from typing import Iterable

from ...data.pipeline import TextOptions, read_corpus
from ...data.vocab import Vocab
from ...errors import ConfigError, TrainingError

MAX_SENTENCE_LENGTH = 10_000


def read_sentences(path, opts: TextOptions, max_sentence_length: int = MAX_SENTENCE_LENGTH):
    """A re-iterable corpus of sentences (token lists, no end-of-line token) of a file, a folder
    of files, a registered corpus name or ``-``, tokenized as ``opts`` say (text that looks like
    unsegmented Chinese under ``--tokenizer word`` warns once)."""
    return read_corpus(path, opts, max_len=max_sentence_length, training=True)


def build_vocab(sentences: Iterable[list[str]], *, min_count: int = 5,
                max_vocab_size: int | None = None, max_vocab: int | None = None) -> Vocab:
    """The vocabulary word2vec trains: ``vocab.total`` counts every token read (the learning
    rate schedule's clock), ``vocab.counts.sum()`` the tokens training sees."""
    if min_count < 1:
        raise ConfigError(f"min_count must be >= 1, got {min_count}")
    if max_vocab_size is not None and max_vocab_size < 1:
        raise ConfigError(f"max_vocab_size must be >= 1 or None, got {max_vocab_size}")
    vocab = Vocab.build(sentences, min_count=min_count, max_size=max_vocab or None, specials=(),
                        unk=None, tie_break="last", prune_at=max_vocab_size)
    if not len(vocab):
        raise TrainingError(f"no word occurs at least min_count={min_count} times "
                            f"({vocab.total} tokens)")
    return vocab
