"""Techniques with their own text pipelines: n-gram language models, word2vec."""
