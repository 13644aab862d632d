"""The token embedding and output layer shared by the SSM language models (S4LM, LRULM)."""
from __future__ import annotations

from torch import nn


def embedding_and_head(vocab: int, d_model: int, tie: bool) -> tuple[nn.Embedding, nn.Linear]:
    """Embedding (vocab, d) initialised N(0, 0.02), as GPT-2 and Mamba do: nn.Embedding's N(0, 1),
    once tied, gives initial logits of std ~sqrt(d) and a perplexity of ~1e40 (measured) before
    training starts. With ``tie`` the head reuses the embedding matrix (Press & Wolf 2017)."""
    embedding = nn.Embedding(vocab, d_model)
    nn.init.normal_(embedding.weight, std=0.02)
    head = nn.Linear(d_model, vocab)
    if tie:
        head.weight = embedding.weight
    return embedding, head
