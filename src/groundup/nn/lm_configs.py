"""The config of each language-model family: one small frozen dataclass per family.

Every language model in groundup follows one contract (docs/lm.md, "The language-model
contract"):

    model = Family(config, vocab_size)                      an nn.Module
    logits, state = model(tokens, state=None)               tokens (B, T) long -> logits (B, T, V)

``state`` is ``None`` at the start of a stream and otherwise whatever the model returned last
(recurrent and SSM models carry their hidden state across segments; a Transformer returns the
KV cache it was given, ``None`` in training). The training engine registers each family with
its config class in :mod:`groundup.train.families`.

This module imports no torch, so ``groundup lm train --help`` can list every family's options
(generated from these fields and their help text) without loading it. Names are shared where
the meaning is: ``num_layers`` (blocks or stacked layers), ``tie_weights`` (output layer = the
embedding matrix, Press & Wolf 2017), ``d_model`` (the residual width of the block models),
``dropout``. A family has only the options it implements: Mamba has no dropout.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..config import check_at_least, option
from ..errors import ConfigError


def _check_dropout(p: float) -> None:
    if not 0.0 <= p < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {p}")


@dataclass(frozen=True)
class RecurrentLMConfig:
    """Embedding -> stacked RNN (tanh or ReLU), LSTM or GRU -> decoder (Zaremba et al. 2014).

    The four families share these options; ``cell`` is fixed by each one's subclass."""

    emb_size: int = option(200, "embedding width E")
    hidden_size: int = option(200, "hidden width H of each recurrent layer")
    num_layers: int = option(2, "stacked recurrent layers")
    dropout: float = option(0.0, "dropout on the embeddings, between layers and before the decoder")
    tie_weights: bool = option(False, "decoder weight = embedding matrix; needs emb_size == hidden_size")
    init_range: float = option(0.1, "every parameter ~ U(-init_range, init_range), as Zaremba's "
                                    "code; 0 keeps the layers' own initialisation")
    cell: ClassVar[str] = "lstm"

    def __post_init__(self) -> None:
        check_at_least(self, 1, "emb_size", "hidden_size", "num_layers")
        _check_dropout(self.dropout)
        if self.init_range < 0:
            raise ConfigError(f"init_range must be >= 0, got {self.init_range}")
        if self.tie_weights and self.emb_size != self.hidden_size:
            raise ConfigError(f"tie_weights needs emb_size == hidden_size, got "
                              f"{self.emb_size} and {self.hidden_size}")


@dataclass(frozen=True)
class RNNConfig(RecurrentLMConfig):
    """Elman RNN, h_t = tanh(W x_t + U h_(t-1) + b)."""
    cell: ClassVar[str] = "rnn"


@dataclass(frozen=True)
class RNNReluConfig(RecurrentLMConfig):
    """Elman RNN with ReLU, h_t = relu(W x_t + U h_(t-1) + b)."""
    cell: ClassVar[str] = "rnn_relu"


@dataclass(frozen=True)
class LSTMConfig(RecurrentLMConfig):
    """LSTM (Hochreiter & Schmidhuber 1997; torch.nn.LSTM's gate layout)."""
    cell: ClassVar[str] = "lstm"


@dataclass(frozen=True)
class GRUConfig(RecurrentLMConfig):
    """GRU (Cho et al. 2014; torch.nn.GRU's placement of the reset gate)."""
    cell: ClassVar[str] = "gru"


@dataclass(frozen=True)
class TransformerLMConfig:
    """Decoder-only pre-LN Transformer (GPT-2 layout), N(0, 0.02) init."""

    d_model: int = option(128, "model width E")
    n_heads: int = option(4, "attention heads (d_model must be divisible by n_heads)")
    n_kv_heads: int = option(0, "key/value heads: 0 = n_heads, 1 = multi-query, else grouped-query")
    num_layers: int = option(2, "decoder blocks")
    d_ff: int = option(512, "feed-forward width F")
    max_len: int = option(256, "most positions the model sees (the run's bptt must fit)")
    dropout: float = option(0.0, "dropout on embeddings, attention weights and residual branches")
    positional: str = option("learned", "learned | sinusoidal | rope | alibi")
    activation: str = option("gelu", "feed-forward activation, a name in groundup.nn.activations "
                                     "(gelu, relu, swiglu, ...)")
    norm: str = option("layernorm", "layernorm | rmsnorm")
    tie_weights: bool = option(False, "output layer weight = token embedding matrix")

    def __post_init__(self) -> None:
        check_at_least(self, 1, "d_model", "n_heads", "num_layers", "d_ff", "max_len")
        check_at_least(self, 0, "n_kv_heads")
        _check_dropout(self.dropout)
        if self.d_model % self.n_heads:
            raise ConfigError(f"d_model {self.d_model} must be divisible by n_heads {self.n_heads}")
        for name, allowed in (("positional", ("learned", "sinusoidal", "rope", "alibi")),
                              ("norm", ("layernorm", "rmsnorm"))):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got "
                                  f"{getattr(self, name)!r}")


@dataclass(frozen=True)
class MambaConfig:
    """Mamba (Gu & Dao 2023): selective-SSM blocks, RMSNorm, residual stream of width d_model."""

    d_model: int = option(128, "model width D")
    num_layers: int = option(4, "Mamba blocks")
    d_state: int = option(16, "SSM state size N per channel")
    expand: int = option(2, "inner width E = expand * d_model")
    d_conv: int = option(4, "causal depthwise convolution width K")
    dt_rank: int = option(0, "rank R of the step-size projection; 0 = ceil(d_model / 16), the paper's")
    dt_min: float = option(1e-3, "smallest initial step size delta")
    dt_max: float = option(1e-1, "largest initial step size delta")
    tie_weights: bool = option(True, "output layer weight = embedding matrix")

    def __post_init__(self) -> None:
        check_at_least(self, 1, "d_model", "num_layers", "d_state", "expand", "d_conv")
        check_at_least(self, 0, "dt_rank")
        if not 0 < self.dt_min <= self.dt_max:
            raise ConfigError(f"need 0 < dt_min <= dt_max, got {self.dt_min} and {self.dt_max}")

    @property
    def d_inner(self) -> int:
        return self.expand * self.d_model

    @property
    def rank(self) -> int:
        return self.dt_rank or -(-self.d_model // 16)


@dataclass(frozen=True)
class S4LMConfig:
    """S4D blocks (S4D-Inv kernel, GELU, GLU output gating, pre-LayerNorm; Gu et al. 2022)."""

    d_model: int = option(128, "model width H (one SSM per channel)")
    num_layers: int = option(4, "S4 blocks")
    d_state: int = option(64, "SSM state size N (even: N/2 complex-conjugate pairs)")
    dropout: float = option(0.0, "dropout after the SSM activation and on the block output")
    tie_weights: bool = option(False, "output layer weight = embedding matrix")

    def __post_init__(self) -> None:
        check_at_least(self, 1, "d_model", "num_layers")
        if self.d_state < 2 or self.d_state % 2:
            raise ConfigError(f"d_state must be an even number >= 2, got {self.d_state}")
        _check_dropout(self.dropout)


@dataclass(frozen=True)
class LRULMConfig:
    """LRU + MLP blocks (Orvieto et al. 2023), pre-LayerNorm."""

    d_model: int = option(128, "model width H")
    num_layers: int = option(4, "LRU blocks")
    d_state: int = option(64, "complex state size N")
    dropout: float = option(0.0, "dropout inside each block's MLP")
    tie_weights: bool = option(False, "output layer weight = embedding matrix")

    def __post_init__(self) -> None:
        check_at_least(self, 1, "d_model", "num_layers", "d_state")
        _check_dropout(self.dropout)


@dataclass(frozen=True)
class RetNetLMConfig:
    """RetNet (Sun et al. 2023): multi-scale retention + FFN blocks, pre-LayerNorm, no xPos."""

    d_model: int = option(128, "model width D")
    n_heads: int = option(4, "retention heads, decays gamma_h = 1 - 2^(-5-h) (d_model divisible by it)")
    num_layers: int = option(2, "RetNet blocks")
    d_ff: int = option(256, "feed-forward width F")
    dropout: float = option(0.0, "dropout on the residual branches")
    tie_weights: bool = option(False, "output layer weight = embedding matrix")

    def __post_init__(self) -> None:
        check_at_least(self, 1, "d_model", "n_heads", "num_layers", "d_ff")
        _check_dropout(self.dropout)
        if self.d_model % self.n_heads:
            raise ConfigError(f"d_model {self.d_model} must be divisible by n_heads {self.n_heads}")


@dataclass(frozen=True)
class RWKVConfig:
    """RWKV-4 (Peng et al. 2023): time mixing (WKV) + channel mixing blocks, no dropout."""

    d_model: int = option(128, "model width C")
    num_layers: int = option(4, "RWKV blocks")
    ffn_mult: int = option(4, "channel-mixing width F = ffn_mult * d_model (the paper's 4)")
    chunk: int = option(32, "WKV chunk length in training (1 = the recurrence)")
    tie_weights: bool = option(True, "output layer weight = embedding matrix")

    def __post_init__(self) -> None:
        check_at_least(self, 1, "d_model", "num_layers", "ffn_mult", "chunk")
