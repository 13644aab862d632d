"""Neural-network building blocks written from their equations.

Names are resolved lazily (PEP 562) so that ``import groundup.nn`` does not import torch or
every model; add a line to ``_EXPORTS`` to export a new block.
"""
from importlib import import_module as _import_module

_EXPORTS = {
    # recurrent layers, torch.nn-compatible (nn/rnn.py, nn/rnn_cells.py)
    "RNN": "rnn",
    "LSTM": "rnn",
    "GRU": "rnn",
    "RNNCell": "rnn_cells",
    "LSTMCell": "rnn_cells",
    "GRUCell": "rnn_cells",
    # recurrent variants beyond torch
    "PaperGRU": "rnn",
    "PaperGRUCell": "rnn_cells",
    "LayerNormLSTM": "layernorm_lstm",
    "LayerNormLSTMCell": "layernorm_lstm",
    # attention and the Transformer, torch.nn-compatible (nn/attention.py, nn/transformer.py)
    "MultiheadAttention": "attention",
    "TransformerEncoderLayer": "transformer",
    "TransformerDecoderLayer": "transformer",
    "TransformerEncoder": "transformer",
    "TransformerDecoder": "transformer",
    "Transformer": "transformer",
    "LayerNorm": "norm",
    "RMSNorm": "norm",
}

__all__ = sorted([*_EXPORTS, "safe_globals"])


def safe_globals() -> list[type]:
    """groundup's torch.nn-compatible classes, for ``torch.load(..., weights_only=True)`` of a
    whole pickled model (a state_dict needs nothing):

        with torch.serialization.safe_globals(groundup.nn.safe_globals() + [...]):
            model = torch.load(path, weights_only=True)

    or ``torch.serialization.add_safe_globals(groundup.nn.safe_globals())`` once. Only classes
    are listed: loading still executes no code from the file."""
    return [__getattr__(name) for name in _EXPORTS]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(_import_module(f"groundup.nn.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'groundup.nn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
