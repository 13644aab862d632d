"""Transformer encoder and decoder layers and stacks (Vaswani et al. 2017, Section 3.1).

Notation: B batch, S source length, T target length, E = d_model, F = dim_feedforward.

Post-LN, the 2017 paper ("LayerNorm(x + Sublayer(x))"):
    x = LN1(x + Dropout(SelfAttn(x)))
    x = LN2(x + Dropout(FFN(x)))              FFN(x) = W2 Dropout(act(W1 x + b1)) + b2   (eq. 2)
Pre-LN (Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture"), which
trains without warm-up:
    x = x + Dropout(SelfAttn(LN1(x)))
    x = x + Dropout(FFN(LN2(x)))
The decoder layer has a cross-attention sublayer between the two, whose keys and values are the
encoder's output ("memory").

:class:`TransformerEncoderLayer` and :class:`TransformerDecoderLayer` take the constructor and
forward arguments of their torch.nn namesakes and have their parameter names (self_attn,
multihead_attn, linear1, linear2, norm1..3), so with copied weights they agree to 1e-5 in values
and gradients (tests/test_transformer.py). Beyond torch: ``activation`` may be any name of
:mod:`groundup.nn.activations`, the gated ones (GLU, ReGLU, GEGLU, SwiGLU; Shazeer 2020) included,
in which case ``linear1`` has 2F outputs (value and gate halves); ``norm='rmsnorm'``;
``num_kv_heads`` for grouped-query attention.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import Tensor, nn

from .attention import MultiheadAttention, _additive
from .norm import LayerNorm, make_norm

__all__ = ["resolve_activation", "TransformerEncoderLayer", "TransformerDecoderLayer",
           "TransformerEncoder", "TransformerDecoder", "Transformer"]


def resolve_activation(activation: str | Callable[[Tensor], Tensor]) -> tuple[Callable, bool]:
    """(activation, gated): a name from groundup.nn.activations or a callable. A gated
    activation halves its input's last dimension."""
    if callable(activation):
        from .glu import GLU

        return activation, isinstance(activation, GLU)
    from .activations import GATED, get

    return get(activation), activation in GATED


def _check(d_model: int, nhead: int, dim_feedforward: int, dropout: float) -> None:
    if d_model < 1 or nhead < 1 or dim_feedforward < 1:
        raise ValueError(f"d_model, nhead and dim_feedforward must be >= 1, got "
                         f"{d_model}, {nhead}, {dim_feedforward}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


class _FeedForwardMixin:
    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout_ff(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_FeedForwardMixin, nn.Module):
    """One encoder layer: self-attention, then the feed-forward block (post- or pre-LN)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None, *, norm: str = "layernorm",
                 num_kv_heads: int | None = None) -> None:
        super().__init__()
        _check(d_model, nhead, dim_feedforward, dropout)
        fk = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, num_kv_heads=num_kv_heads, **fk)
        self.activation, gated = resolve_activation(activation)
        self.linear1 = nn.Linear(d_model, dim_feedforward * (2 if gated else 1), bias=bias, **fk)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias, **fk)
        self.norm_first = norm_first
        self.norm1 = make_norm(norm, d_model, layer_norm_eps, bias, **fk)
        self.norm2 = make_norm(norm, d_model, layer_norm_eps, bias, **fk)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.batch_first = batch_first

    @property
    def dropout_ff(self) -> nn.Module:
        return self.dropout2

    def _sa_block(self, x: Tensor, mask, key_padding_mask, is_causal: bool) -> Tensor:
        y = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(y)

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        """src (S, B, E), or (B, S, E) with batch_first -> the same shape."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x


class TransformerDecoderLayer(_FeedForwardMixin, nn.Module):
    """One decoder layer: masked self-attention, cross-attention to the memory, feed-forward."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None, *, norm: str = "layernorm",
                 num_kv_heads: int | None = None) -> None:
        super().__init__()
        _check(d_model, nhead, dim_feedforward, dropout)
        fk = {"device": device, "dtype": dtype}
        kw = dict(dropout=dropout, bias=bias, batch_first=batch_first, num_kv_heads=num_kv_heads, **fk)
        self.self_attn = MultiheadAttention(d_model, nhead, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **kw)
        self.activation, gated = resolve_activation(activation)
        self.linear1 = nn.Linear(d_model, dim_feedforward * (2 if gated else 1), bias=bias, **fk)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias, **fk)
        self.norm_first = norm_first
        self.norm1 = make_norm(norm, d_model, layer_norm_eps, bias, **fk)
        self.norm2 = make_norm(norm, d_model, layer_norm_eps, bias, **fk)
        self.norm3 = make_norm(norm, d_model, layer_norm_eps, bias, **fk)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.batch_first = batch_first

    @property
    def dropout_ff(self) -> nn.Module:
        return self.dropout3

    def _sa_block(self, x, mask, key_padding_mask, is_causal) -> Tensor:
        return self.dropout1(self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=key_padding_mask,
                                            need_weights=False, is_causal=is_causal)[0])

    def _mha_block(self, x, mem, mask, key_padding_mask, is_causal) -> Tensor:
        return self.dropout2(self.multihead_attn(x, mem, mem, attn_mask=mask,
                                                 key_padding_mask=key_padding_mask,
                                                 need_weights=False, is_causal=is_causal)[0])

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """tgt (T, B, E), memory (S, B, E) (batch first with batch_first) -> like tgt."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x


def _detect_is_causal(mask: Tensor | None, is_causal: bool | None, size: int) -> bool:
    """torch's rule for the stacks: ``is_causal=None`` with a mask equal to the square causal
    mask means causal (the layers then take the fused causal route, as torch's do)."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    m = _additive(mask, torch.float32) if mask.dtype == torch.bool else mask
    causal = Transformer.generate_square_subsequent_mask(size, m.device, m.dtype)
    return m.shape == causal.shape and bool((m == causal).all())


def _seq_len(x: Tensor, batch_first: bool) -> int:
    return x.shape[1 if batch_first and x.dim() == 3 else 0]


class TransformerEncoder(nn.Module):
    """``num_layers`` copies of ``encoder_layer`` (parameter names layers.0..., norm), as
    torch.nn.TransformerEncoder; ``norm`` is the final norm a pre-LN stack needs.

    ``enable_nested_tensor`` and ``mask_check`` are accepted and kept for torch's programs: in
    torch they select an inference fast path over padded batches (nested tensors), which gives
    the same values; this stack always takes the plain path."""

    def __init__(self, encoder_layer: nn.Module, num_layers: int, norm: nn.Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.layers = nn.ModuleList(copy.deepcopy(encoder_layer) for _ in range(num_layers))
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool | None = None) -> Tensor:
        first = self.layers[0]
        is_causal = _detect_is_causal(mask, is_causal,
                                      _seq_len(src, getattr(first, "batch_first", False)))
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=is_causal)
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(nn.Module):
    """``num_layers`` copies of ``decoder_layer``, as torch.nn.TransformerDecoder."""

    def __init__(self, decoder_layer: nn.Module, num_layers: int, norm: nn.Module | None = None) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.layers = nn.ModuleList(copy.deepcopy(decoder_layer) for _ in range(num_layers))
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        first = self.layers[0]
        tgt_is_causal = _detect_is_causal(tgt_mask, tgt_is_causal,
                                          _seq_len(tgt, getattr(first, "batch_first", False)))
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(nn.Module):
    """The encoder-decoder of Vaswani et al. (2017, Figure 1), as torch.nn.Transformer: same
    arguments, parameter names (encoder.layers.i..., encoder.norm, decoder...), initialisation
    (Xavier-uniform on every matrix) and forward arguments."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = "relu",
                 custom_encoder: nn.Module | None = None, custom_decoder: nn.Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(TransformerEncoderLayer(*args, **fk), num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(TransformerDecoderLayer(*args, **fk), num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk))
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """src (S, B, E), tgt (T, B, E) (batch first with batch_first) -> (T, B, E)."""
        b = 0 if self.batch_first else 1
        if src.dim() == 3 and src.shape[b] != tgt.shape[b]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """(sz, sz) float mask: -inf above the diagonal (future positions), 0 elsewhere."""
        return torch.triu(torch.full((sz, sz), float("-inf"), dtype=dtype, device=device), diagonal=1)
