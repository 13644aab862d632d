"""The experiments ``groundup lab`` knows, in the order it runs them.

Adding an experiment is one line here plus its module in ``groundup/lab/``.
"""
from __future__ import annotations

import importlib
from types import ModuleType

EXPERIMENTS: dict[str, str] = {
    "ngram": "groundup.lab.ngram",
    "word2vec": "groundup.lab.word2vec",
    "activations": "groundup.lab.activations",
    "upsampling": "groundup.lab.upsampling",
    "stochastic-approximation": "groundup.lab.stochastic_approximation",
    "metric-loss": "groundup.lab.metric_loss",
    "receptive-field": "groundup.lab.receptive_field",
    "rnn": "groundup.lab.rnn",
    "adamw": "groundup.lab.adamw",
    "hippo": "groundup.lab.hippo",
    "ssm": "groundup.lab.ssm",
    "transformer": "groundup.lab.transformer",
    "checkpointing": "groundup.lab.checkpointing",
}


def names() -> list[str]:
    return list(EXPERIMENTS)


def load(name: str) -> ModuleType:
    from ..errors import ConfigError

    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r} (known: {', '.join(EXPERIMENTS)})")
    return importlib.import_module(EXPERIMENTS[name])
