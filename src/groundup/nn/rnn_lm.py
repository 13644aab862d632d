"""The recurrent word-level language model (Zaremba, Sutskever & Vinyals 2014, Section 3;
PyTorch's word_language_model example).

Notation: B batch, T time steps, V vocabulary, E embedding width, H hidden width.

    e_t = dropout(E[x_t])                          (B, T, E)
    h_t = RNN/LSTM/GRU(e_t, h_{t-1})               (B, T, H), dropout between layers
    logits_t = W dropout(h_t) + b                  (B, T, V), W = E when weights are tied

with every parameter initialised from U(-init_range, init_range), as in Zaremba's code.
"""
from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from .lm_configs import RecurrentLMConfig


def _recurrent_layer(cell: str) -> type[nn.Module]:
    """groundup's own RNN/LSTM/GRU (torch.nn-compatible signatures, written from the equations)."""
    from .rnn import GRU, LSTM, RNN

    return {"rnn": RNN, "rnn_relu": RNN, "lstm": LSTM, "gru": GRU}[cell]


class RNNLanguageModel(nn.Module):
    """Embedding -> multi-layer RNN/LSTM/GRU -> linear decoder over the vocabulary.

    ``rnn_class`` swaps the recurrent layer for another with torch.nn.LSTM's signature
    (torch.nn.LSTM itself, the peer of the tests and of bench_lm_ptb.py)."""

    def __init__(self, cfg: RecurrentLMConfig, vocab_size: int,
                 rnn_class: type[nn.Module] | None = None) -> None:
        super().__init__()
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
        self.cfg, self.kind = cfg, cfg.cell
        cls = rnn_class or _recurrent_layer(cfg.cell)
        extra: dict[str, Any] = {"nonlinearity": "relu"} if cfg.cell == "rnn_relu" else {}
        self.drop = nn.Dropout(cfg.dropout)
        self.encoder = nn.Embedding(vocab_size, cfg.emb_size)
        self.rnn = cls(cfg.emb_size, cfg.hidden_size, cfg.num_layers,
                       dropout=cfg.dropout if cfg.num_layers > 1 else 0.0, batch_first=True, **extra)
        self.decoder = nn.Linear(cfg.hidden_size, vocab_size)
        if cfg.init_range > 0:
            for p in self.parameters():
                nn.init.uniform_(p, -cfg.init_range, cfg.init_range)
        if cfg.tie_weights:  # Press & Wolf (2017): the output embedding is the input embedding
            self.decoder.weight = self.encoder.weight

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        e = self.drop(self.encoder(x))                  # (B, T, E)
        h, state = self.rnn(e, state)                   # (B, T, H)
        return self.decoder(self.drop(h)), state        # (B, T, V)
