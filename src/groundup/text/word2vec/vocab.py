"""Word2Vec's vocabulary: counts, ``max_vocab_size`` pruning, ``min_count``, frequency order.

Follows word2vec.c's ``LearnVocabFromTrainFile``/``ReduceVocab`` as gensim re-implements it
(``Word2Vec.scan_vocab`` / ``utils.prune_vocab``): while counting, whenever the number of
distinct words exceeds ``max_vocab_size``, every word seen at most ``min_reduce`` times is
dropped and ``min_reduce`` grows by one. Then words below ``min_count`` go, and the rest are
sorted by descending count, and words with equal counts in *reverse* first-seen order, as
gensim 4's ``sort_by_descending_frequency`` orders them (``lexsort((-index, -count))``).
Index 0 is therefore the most frequent word; the vector files list words in this order. The tie
order matters beyond cosmetics: ``restrict_vocab=30000`` in the analogy evaluation takes the
first 30,000 words, and on novels98 (rank 30,000 has count 8, shared by 1,446 words) the two
tie orders select 307 different words and evaluate 7,851 or 8,046 questions.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ...errors import ConfigError, TrainingError


@dataclass
class Vocab:
    words: list[str]          # index -> word, most frequent first
    counts: np.ndarray        # (V,) int64, corpus count of each word
    raw_words: int            # tokens in the corpus, OOV included (for the lr schedule)
    n_sentences: int

    def __post_init__(self) -> None:
        self.key_to_index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    @property
    def retained_words(self) -> int:
        """Tokens of in-vocabulary words, what training sees before subsampling."""
        return int(self.counts.sum())


def count_words(sentences: Iterable[list[str]], max_vocab_size: int | None = None,
                ) -> tuple[dict[str, int], int, int]:
    """Count tokens, pruning like word2vec.c when ``max_vocab_size`` is exceeded."""
    if max_vocab_size is not None and max_vocab_size < 1:
        raise ConfigError(f"max_vocab_size must be >= 1 or None, got {max_vocab_size}")
    counts: Counter = Counter()
    total = 0
    n_sent = 0
    min_reduce = 1
    for s in sentences:
        counts.update(s)          # Counter.update runs the counting loop in C
        total += len(s)
        n_sent += 1
        if max_vocab_size is not None and len(counts) > max_vocab_size:
            for w in [w for w, c in counts.items() if c <= min_reduce]:
                del counts[w]
            min_reduce += 1
    return dict(counts), total, n_sent


def build_vocab(sentences: Iterable[list[str]], *, min_count: int = 5,
                max_vocab_size: int | None = None) -> Vocab:
    if min_count < 1:
        raise ConfigError(f"min_count must be >= 1, got {min_count}")
    counts, total, n_sent = count_words(sentences, max_vocab_size)
    kept = [(w, c) for w, c in counts.items() if c >= min_count]
    kept.reverse()                                    # ties: last seen first, as gensim
    kept.sort(key=lambda wc: wc[1], reverse=True)     # stable, so the reversal decides ties
    if not kept:
        raise TrainingError(f"no word occurs at least min_count={min_count} times "
                            f"({total} tokens, {len(counts)} distinct words)")
    words = [w for w, _ in kept]
    return Vocab(words, np.array([c for _, c in kept], dtype=np.int64), total, n_sent)
