"""WikiText-2 (bundled) as the small language-modelling task of the lab experiments that train
LMs for a few seconds: a capped vocabulary, random training windows, validation perplexity.

The vocabulary keeps the ``vocab`` most frequent training words and maps every rarer word to
``<unk>`` (the text pipeline's ``max_vocab``). A capped
vocabulary keeps the output layer small enough for second-scale CPU runs; perplexities over it
are lower than full-vocabulary ones and are comparable only within one table.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F


def capped_wikitext(vocab: int, train_tokens: int = 0, eval_tokens: int = 0):
    """(train ids (N,), valid ids (M,), V): the first ``train_tokens`` / ``eval_tokens`` tokens
    (0 = all), read by the one text pipeline with ``max_vocab=vocab`` (rarer words are <unk>)."""
    from ..data.pipeline import TextOptions
    from ..train.corpus import load_lm_corpus

    c = load_lm_corpus("wikitext2", train_tokens=train_tokens, eval_tokens=eval_tokens,
                       text=TextOptions(max_vocab=vocab))
    return c.train, c.valid, len(c.vocab)


def windows(stream: torch.Tensor, n: int, T: int, g: torch.Generator) -> torch.Tensor:
    """n random windows of T + 1 consecutive tokens: (n, T+1)."""
    start = torch.randint(0, stream.numel() - T - 1, (n,), generator=g)
    return stream[start[:, None] + torch.arange(T + 1)]


@torch.no_grad()
def perplexity(logits_fn: Callable[[torch.Tensor], torch.Tensor], stream: torch.Tensor, T: int,
               batch: int = 32) -> float:
    """exp(mean next-token cross-entropy) over the stream cut into windows of T (each window
    starts fresh: no state carried across). logits_fn: (B, T) ids -> (B, T, V)."""
    n = (stream.numel() - 1) // T
    inp = stream[: n * T].view(n, T)                                      # (n, T)
    tgt = stream[1: n * T + 1].view(n, T)
    nll = sum(F.cross_entropy(logits_fn(inp[i:i + batch]).flatten(0, 1), tgt[i:i + batch].flatten(),
                              reduction="sum").item() for i in range(0, n, batch))
    return math.exp(nll / (n * T))
