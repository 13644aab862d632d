"""The model registry the engine trains from, and the recurrent word-level language model.

Notation: B batch, T time steps, V vocabulary, E embedding width, H hidden width.

A model family plugs into :mod:`groundup.train.engine` by registering a factory
``factory(cfg, vocab_size) -> nn.Module``; the engine never names a model class. A registered
module must provide

    forward(x: (B, T) long, state) -> (logits (B, T, V), new_state)

where ``state`` is ``None`` at the start of a stream and otherwise whatever the model returned
(a tensor, a tuple of tensors, or ``None`` for stateless models such as a Transformer). The
engine detaches the state between truncated-BPTT segments and stores it in checkpoints.

The recurrent LM is the one of Zaremba, Sutskever & Vinyals (2014), "Recurrent Neural Network
Regularization", Section 3 / PyTorch's word_language_model example:

    e_t = dropout(E[x_t])                          (B, T, E)
    h_t = RNN/LSTM/GRU(e_t, h_{t-1})               (B, T, H), dropout between layers
    logits_t = W dropout(h_t) + b                  (B, T, V), W = E when weights are tied

with every parameter initialised from U(-init_range, init_range), as in Zaremba's code.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from .config import LMConfig

ModelFactory = Callable[["LMConfig", int], nn.Module]
MODELS: dict[str, ModelFactory] = {}


def register_model(name: str) -> Callable[[ModelFactory], ModelFactory]:
    """Decorator: make ``factory(cfg, vocab_size)`` trainable as ``--model name``."""

    def deco(factory: ModelFactory) -> ModelFactory:
        MODELS[name] = factory
        return factory

    return deco


def build_model(cfg: "LMConfig", vocab_size: int) -> nn.Module:
    from ..errors import ConfigError

    if cfg.model not in MODELS:
        raise ConfigError(f"unknown model {cfg.model!r} (known: {', '.join(sorted(MODELS))})")
    return MODELS[cfg.model](cfg, vocab_size)


def _recurrent_layer(kind: str) -> type[nn.Module]:
    """groundup's own RNN/LSTM/GRU (torch.nn-compatible signatures, written from the equations)."""
    from .. import nn as gnn

    return {"rnn": gnn.RNN, "rnn_relu": gnn.RNN, "lstm": gnn.LSTM, "gru": gnn.GRU}[kind]


class RNNLanguageModel(nn.Module):
    """Embedding -> multi-layer RNN/LSTM/GRU -> linear decoder over the vocabulary."""

    def __init__(self, kind: str, vocab_size: int, emb_size: int, hidden_size: int,
                 num_layers: int, dropout: float = 0.0, tie_weights: bool = False,
                 init_range: float = 0.1, rnn_class: type[nn.Module] | None = None) -> None:
        super().__init__()
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
        if tie_weights and emb_size != hidden_size:
            raise ValueError(f"tied weights need emb_size == hidden_size, got {emb_size} and {hidden_size}")
        self.kind = kind
        cls = rnn_class or _recurrent_layer(kind)
        extra: dict[str, Any] = {"nonlinearity": "relu"} if kind == "rnn_relu" else {}
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab_size, emb_size)
        self.rnn = cls(emb_size, hidden_size, num_layers, dropout=dropout if num_layers > 1 else 0.0,
                       batch_first=True, **extra)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if init_range > 0:
            for p in self.parameters():
                nn.init.uniform_(p, -init_range, init_range)
        if tie_weights:  # Press & Wolf (2017): the output embedding is the input embedding
            self.decoder.weight = self.encoder.weight

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        e = self.drop(self.encoder(x))                  # (B, T, E)
        h, state = self.rnn(e, state)                   # (B, T, H)
        return self.decoder(self.drop(h)), state        # (B, T, V)


def _rnn_factory(kind: str) -> ModelFactory:
    def factory(cfg: "LMConfig", vocab_size: int) -> nn.Module:
        return RNNLanguageModel(kind, vocab_size, cfg.emb_size, cfg.hidden_size, cfg.num_layers,
                                cfg.dropout, cfg.tie_weights, cfg.init_range)

    factory.__doc__ = f"Word-level {kind.upper()} language model (Zaremba et al. 2014)."
    return factory


for _kind in ("rnn", "rnn_relu", "lstm", "gru"):
    register_model(_kind)(_rnn_factory(_kind))


def detach_state(state: Any) -> Any:
    """Cut the graph between truncated-BPTT segments (tensors, tuples/lists of them, None)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"cannot detach a model state of type {type(state).__name__}")


def state_to(state: Any, device: torch.device | str) -> Any:
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.to(device)
    return type(state)(state_to(s, device) for s in state)


from . import models_transformer  # noqa: E402,F401  (registers "transformer")
from . import models_ssm  # noqa: E402,F401  (registers "mamba", "s4", "lru", "rwkv")
