"""Word2Vec from first principles: skip-gram and CBOW with negative sampling or hierarchical
softmax (Mikolov et al. 2013a, 2013b), matching word2vec.c and measured against gensim.

    vocab.py     word2vec's vocabulary policy (pruning, gensim's order) on groundup.data's Vocab
    huffman.py   the Huffman tree of hierarchical softmax
    sampling.py  sub-sampling probabilities and the unigram^0.75 alias sampler
    kernels.py   the compiled (numba, GIL-free) training loop, and Kernel: the one call into it
    reference.py the same updates, slow and readable (NumPy, equation beside code)
    jobs.py      the corpus as the kernel reads it: encoded sentences cut into jobs
    checkpoint.py  saved training state (weights, lr position, RNG): resume after a kill
    train.py     Word2VecConfig and train(): the steps, threads, lr schedule, deterministic mode;
                 objective(): the mean loss of given weights on one pass at learning rate 0
    vectors.py   WordVectors: most_similar, analogies (3CosAdd, 3CosMul), doesnt_match
    evaluate.py  Google analogies and word-pair similarity, as gensim computes them
    formats.py   word2vec C text and binary formats

Text reaches train() through the one pipeline of :mod:`groundup.data` (reader, tokenizer,
corpus): ``train(read_corpus(path, cfg, max_len=10_000), cfg)``.
"""
from .train import PRESETS, Word2Vec, Word2VecConfig, objective, train

__all__ = ["Word2Vec", "Word2VecConfig", "PRESETS", "objective", "train"]
