"""Decay / no-decay parameter groups: weight decay on the weight matrices only.

Weight decay (L2, or AdamW's decoupled form, Loshchilov & Hutter 2019) pulls a weight towards
zero, which is a prior on the *weights that mix features*. It is wrong for

* biases and norm gains (LayerNorm / RMSNorm / GroupNorm): shrinking a gain towards 0 is not
  "simpler", it rescales the activations -- every 1-D parameter;
* the dynamics of a state-space model (Mamba's A_log and D, S4D's dt and A, the LRU's
  eigenvalues): decaying A_log towards 0 pushes every state towards the same decay rate. The
  modules mark these with ``p._no_weight_decay = True``, the reference Mamba's convention;
* optionally the embeddings (``decay_embeddings``): nanoGPT decays them, many recipes do not.

This is the split of GPT-2/nanoGPT (``configure_optimizers``: decay the parameters with 2 or
more dimensions), the Mamba and S4 repositories (``_no_weight_decay``) and most LLM recipes. A
tied output layer is the embedding matrix (one tensor) and is grouped as an embedding.
"""
from __future__ import annotations

from typing import Any

from torch import nn


def decays(p: nn.Parameter, embeddings: set[int], decay_embeddings: bool) -> bool:
    """Whether weight decay applies to parameter ``p`` (see the module doc)."""
    if p.ndim < 2 or getattr(p, "_no_weight_decay", False):
        return False
    return decay_embeddings or id(p) not in embeddings


def param_groups(model: nn.Module, weight_decay: float,
                 decay_embeddings: bool = True) -> list[dict[str, Any]]:
    """``[{"params": decayed, "weight_decay": weight_decay}, {"params": the rest,
    "weight_decay": 0.0}]`` (an empty group is left out), each parameter once, in
    ``model.parameters()`` order."""
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decay, keep = [], []
    for p in model.parameters():  # a shared (tied) tensor is listed once
        (decay if decays(p, embeddings, decay_embeddings) else keep).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": keep, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]
