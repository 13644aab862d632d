"""The experiments ``groundup lab`` knows, in the order it runs them.

Adding an experiment is one line here plus its module in ``groundup/lab/``, and its Chinese title
and claim in :mod:`groundup.lab.catalogue`.

``groundup lab --lang zh`` runs the Chinese text experiments (:data:`ZH_EXPERIMENTS`) in place
of the English text ones they stand for (:data:`ZH_REPLACES`) and the others as in English.
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
# the Chinese text experiments: run by default under --lang zh, by name in either language
ZH_EXPERIMENTS: dict[str, str] = {
    "ngram-zh": "groundup.lab.ngram_zh",
    "word2vec-zh": "groundup.lab.word2vec_zh",
    "segment-zh": "groundup.lab.segment_zh",
    "charlm-zh": "groundup.lab.charlm_zh",
}
ZH_REPLACES = ("ngram", "word2vec")


def names(lang: str = "en") -> list[str]:
    """What ``groundup lab`` runs by default in ``lang``; ``"all"``: every experiment."""
    if lang == "all":
        return list(EXPERIMENTS) + list(ZH_EXPERIMENTS)
    if lang == "zh":
        return list(ZH_EXPERIMENTS) + [n for n in EXPERIMENTS if n not in ZH_REPLACES]
    return list(EXPERIMENTS)


def load(name: str) -> ModuleType:
    from ..errors import ConfigError

    path = EXPERIMENTS.get(name) or ZH_EXPERIMENTS.get(name)
    if path is None:
        raise ConfigError(f"unknown experiment {name!r} (known: {', '.join(names('all'))})")
    return importlib.import_module(path)
