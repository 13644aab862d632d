"""Word2Vec from first principles: skip-gram and CBOW with negative sampling or hierarchical
softmax (Mikolov et al. 2013a, 2013b), matching word2vec.c and measured against gensim.

    corpus.py    reading and tokenising (file, folder, streaming, text8 normaliser, Chinese chars)
    vocab.py     counts, min_count, max_vocab_size pruning, frequency order
    huffman.py   the Huffman tree of hierarchical softmax
    sampling.py  sub-sampling probabilities and the unigram^0.75 alias sampler
    kernels.py   the compiled (numba, GIL-free) training loop
    train.py     Word2VecConfig and train(): threads, lr schedule, deterministic mode
    vectors.py   WordVectors: most_similar, analogies (3CosAdd, 3CosMul), doesnt_match
    evaluate.py  Google analogies and word-pair similarity, as gensim computes them
    formats.py   word2vec C text and binary formats
"""
from .corpus import TextCorpus
from .train import PRESETS, Word2Vec, Word2VecConfig, train

__all__ = ["TextCorpus", "Word2Vec", "Word2VecConfig", "PRESETS", "train"]
