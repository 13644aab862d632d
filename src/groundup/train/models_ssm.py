"""Registers the state-space language models as ``--model mamba``, ``s4``, ``lru`` and ``rwkv``.

Config mapping: ``hidden_size`` is the model width (the embedding has the same width;
``emb_size`` is not used), ``num_layers`` the number of blocks, ``dropout`` as usual. The state
the engine carries between truncated-BPTT segments is each model's recurrent state (Mamba: the
conv window and SSM state per layer; S4D and LRU: the SSM state per layer; RWKV: the last token
and the WKV numerator, denominator and exponent per layer), so, as with the
LSTM, the model sees the whole stream and gradients stop at segment boundaries.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from .models import register_model

if TYPE_CHECKING:
    from .config import LMConfig


class _MambaForEngine(nn.Module):
    def __init__(self, cfg: "LMConfig", vocab_size: int):
        super().__init__()
        from ..nn.ssm.mamba import MambaConfig, MambaLM

        self.lm = MambaLM(MambaConfig(d_model=cfg.hidden_size, n_layer=cfg.num_layers, vocab_size=vocab_size,
                                      tie_embeddings=cfg.tie_weights))

    def forward(self, x, state=None):
        return self.lm.forward_with_cache(x, state)


@register_model("mamba")
def mamba_factory(cfg: "LMConfig", vocab_size: int) -> nn.Module:
    """Mamba LM (Gu & Dao 2023): selective SSM blocks, RMSNorm, optional tied head."""
    return _MambaForEngine(cfg, vocab_size)


@register_model("s4")
def s4_factory(cfg: "LMConfig", vocab_size: int) -> nn.Module:
    """S4D LM: S4 blocks (S4D-Inv kernel, GELU, GLU output gating, pre-LayerNorm)."""
    from ..nn.ssm.s4 import S4LM

    return S4LM(vocab_size, cfg.hidden_size, cfg.num_layers, dropout=cfg.dropout,
                tie_embeddings=cfg.tie_weights)


@register_model("lru")
def lru_factory(cfg: "LMConfig", vocab_size: int) -> nn.Module:
    """LRU LM (Orvieto et al. 2023): LRU + MLP blocks."""
    from ..nn.ssm.linear import LRULM

    return LRULM(vocab_size, cfg.hidden_size, cfg.num_layers, dropout=cfg.dropout,
                 tie_embeddings=cfg.tie_weights)


@register_model("rwkv")
def rwkv_factory(cfg: "LMConfig", vocab_size: int) -> nn.Module:
    """RWKV-4 LM (Peng et al. 2023): time mixing (WKV) + channel mixing blocks, no dropout."""
    from ..errors import ConfigError
    from ..nn.ssm.rwkv import RWKVConfig, RWKVLM

    if cfg.dropout > 0:
        raise ConfigError(f"model rwkv has no dropout (RWKV-4 trains without it), got --dropout {cfg.dropout}")
    return RWKVLM(RWKVConfig(vocab_size=vocab_size, d_model=cfg.hidden_size, n_layer=cfg.num_layers,
                             tie_embeddings=cfg.tie_weights))
