"""Training: the shared engine, checkpoints and metric losses.

The language-model engine (``engine.train(cfg, out_dir)``) knows models only through the one LM
contract (``Model(config, vocab_size)``, ``forward(tokens, state) -> (logits, state)``); a model
family plugs in with ``register_family(name, ConfigClass, constructor)`` (:mod:`.families`).
Names are resolved lazily so that ``import groundup.train`` does not import torch.
"""
from importlib import import_module as _import_module

_EXPORTS = {
    "LMConfig": "config",
    "DataConfig": "config",
    "PRESETS": "config",
    "make_config": "config",
    "train": "engine",
    "evaluate": "engine",
    "evaluate_checkpoint": "engine",
    "generate": "engine",
    "load_model": "engine",
    "FAMILIES": "families",
    "register_family": "families",
    "build_model": "families",
    "TrainState": "state_io",
    "save_state": "state_io",
    "load_state": "state_io",
    "param_groups": "decay_groups",
    "grad_checkpoint": "grad_checkpoint",   # the technique: recompute activations in backward
    "grad_checkpoint_sequential": "grad_checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        # torch.utils.checkpoint's names inside the module; prefixed here, where "checkpoint"
        # alone would read as the saved training state (save_state / load_state)
        return getattr(_import_module(f"groundup.train.{_EXPORTS[name]}"),
                       name.removeprefix("grad_") if name.startswith("grad_checkpoint") else name)
    raise AttributeError(f"module 'groundup.train' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
