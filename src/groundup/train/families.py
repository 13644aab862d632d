"""The language-model families the engine trains: name -> (config class, constructor).

Every family follows the one LM contract (:mod:`groundup.nn.lm_configs`):

    model = constructor(config, vocab_size)                 an nn.Module
    logits, state = model(tokens (B, T), state=None)        logits (B, T, V)

A new family is one registration; the loop, checkpoints, resume, DDP, evaluation and the
command line (``--model NAME`` and the family's options, generated from the config's fields)
need no change::

    register_family("rwkv", RWKVConfig, "groundup.nn.ssm.rwkv:RWKVLM")   # RWKVLM(cfg, vocab_size)

The config class must be a frozen dataclass importable without torch (``groundup --help``
lists its options); the constructor is a callable or ``"module:attribute"``, imported when a
model is first built. Each config class belongs to one family, so a config names its family.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Callable

from ..errors import ConfigError
from ..nn import lm_configs as c


@dataclass(frozen=True)
class Family:
    name: str
    config: type
    constructor: Callable[[Any, int], Any] | str

    def build(self, cfg: Any, vocab_size: int):
        make = self.constructor
        if isinstance(make, str):
            module, _, attr = make.partition(":")
            make = getattr(import_module(module), attr)
        return make(cfg, vocab_size)


FAMILIES: dict[str, Family] = {}


def register_family(name: str, config: type, constructor: Callable[[Any, int], Any] | str) -> Family:
    """Make ``constructor(config(...), vocab_size)`` trainable as ``--model name``."""
    if not (dataclasses.is_dataclass(config) and config.__dataclass_params__.frozen):
        raise TypeError(f"family {name!r}: the config must be a frozen dataclass, got {config!r}")
    taken = [f.name for f in FAMILIES.values() if f.config is config and f.name != name]
    if taken:
        raise ValueError(f"family {name!r}: config class {config.__name__} already belongs to "
                         f"{taken[0]!r}; give each family its own class (a subclass will do)")
    FAMILIES[name] = Family(name, config, constructor)
    return FAMILIES[name]


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise ConfigError(f"unknown model {name!r} (known: {', '.join(sorted(FAMILIES))})")
    return FAMILIES[name]


def family_of(cfg: Any) -> str:
    """The family a model config belongs to."""
    for f in FAMILIES.values():
        if type(cfg) is f.config:
            return f.name
    raise ConfigError(f"{type(cfg).__name__} is not the config of a registered model family")


def build_model(cfg: Any, vocab_size: int):
    """The model of config ``cfg`` over ``vocab_size`` tokens (its family's constructor)."""
    try:
        return family(family_of(cfg)).build(cfg, vocab_size)
    except ValueError as e:  # a constructor's own check, e.g. an unknown activation name
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"{family_of(cfg)}: {e}") from None


register_family("rnn", c.RNNConfig, "groundup.nn.rnn_lm:RNNLanguageModel")
register_family("rnn_relu", c.RNNReluConfig, "groundup.nn.rnn_lm:RNNLanguageModel")
register_family("lstm", c.LSTMConfig, "groundup.nn.rnn_lm:RNNLanguageModel")
register_family("gru", c.GRUConfig, "groundup.nn.rnn_lm:RNNLanguageModel")
register_family("transformer", c.TransformerLMConfig, "groundup.nn.transformer_lm:TransformerLM")
register_family("mamba", c.MambaConfig, "groundup.nn.ssm.mamba:MambaLM")
register_family("s4", c.S4LMConfig, "groundup.nn.ssm.s4:S4LM")
register_family("lru", c.LRULMConfig, "groundup.nn.ssm.linear:LRULM")
register_family("rwkv", c.RWKVConfig, "groundup.nn.ssm.rwkv:RWKVLM")
register_family("retnet", c.RetNetLMConfig, "groundup.nn.ssm.retnet:RetNetLM")
