"""Registers the decoder-only Transformer LM (:mod:`groundup.nn.transformer_lm`) as
``--model transformer``.

Config mapping: ``emb_size`` is the model width E, ``hidden_size`` the feed-forward width F,
``num_layers`` the number of blocks, ``bptt`` the context length (max_len), plus the
Transformer's own fields ``n_heads``, ``n_kv_heads`` (0 = n_heads), ``positional``,
``activation`` and ``norm``. ``init_range`` is not used: the model has GPT-2's N(0, 0.02) init.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from ..errors import ConfigError
from .models import register_model

if TYPE_CHECKING:
    from .config import LMConfig


@register_model("transformer")
def transformer_factory(cfg: "LMConfig", vocab_size: int) -> nn.Module:
    """Decoder-only pre-LN Transformer LM (GPT-2 layout)."""
    from ..nn.transformer_lm import TransformerLM

    try:
        return TransformerLM(vocab_size, cfg.emb_size, cfg.n_heads, cfg.num_layers, cfg.hidden_size,
                             max_len=cfg.bptt, dropout=cfg.dropout, positional=cfg.positional,
                             activation=cfg.activation, norm=cfg.norm,
                             n_kv_heads=cfg.n_kv_heads or None, tie_weights=cfg.tie_weights)
    except ValueError as e:
        raise ConfigError(f"transformer: {e}") from e
