"""What a language-model run trusts after a checkpoint's checksum: the payload's structure.

The checksum (:mod:`.state_io`) proves the bytes are the ones written; it does not prove
they were written by groundup. A payload that passes it is checked here, before any of it is
used, and every refusal is one :class:`ModelFormatError` naming the file and the field:

* types: a dict with ``config`` (a dict that rebuilds an :class:`LMConfig`), ``vocab`` (a list
  of distinct non-empty strings), ``model`` (a dict of tensors); a resumable checkpoint also
  ``optimizer``, ``schedule``, ``position``, ``ranks`` and ``world_size``;
* shapes: the model is built on PyTorch's ``meta`` device (no memory) from the payload's config,
  and every tensor of ``model`` (and of the optimizer's per-parameter state) must have the
  shape and kind of the parameter it restores;
* sizes: the model that config describes must fit this machine's memory
  (:func:`check_model_fits`), so an absurd ``hidden_size`` is one line, not an allocator crash;
* values: every floating-point tensor is finite (NaN weights cannot evaluate to a perplexity).
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, GroundupError, ModelFormatError

# Bytes per parameter a run needs at least: the fp32 weights, and to train also their gradient
# and two optimizer moments (Adam); activations come on top and are not counted.
_BYTES_HOLD, _BYTES_TRAIN = 4, 16
MAX_LAYERS = 10_000  # deeper than any model here; also bounds the meta-device build's time


def memory_bytes(device: str = "cpu") -> int:
    """Physical memory of the machine (or the CUDA device's memory)."""
    if device.startswith("cuda") and torch.cuda.is_available():
        idx = int(device.split(":")[1]) if ":" in device else 0
        return torch.cuda.get_device_properties(idx).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 1 << 62


def meta_model(cfg, vocab_size: int) -> nn.Module | None:
    """The model ``cfg`` describes, built on the meta device (shapes only, no memory); None if a
    family cannot be built there (the size check is then skipped, never wrong)."""
    from .families import build_model

    try:
        with torch.device("meta"):
            return build_model(cfg.model, vocab_size)
    except (ValueError, TypeError) as e:  # a shape the family refuses
        if isinstance(e, GroundupError):
            raise
        raise ConfigError(f"model {cfg.family!r}: {e}") from None
    except RuntimeError as e:
        if "overflow" in str(e):  # a tensor of more than 2^63 bytes: no memory holds it
            raise ConfigError(f"model {_describe(cfg)}: a weight's size overflows 64 bits "
                              f"({e})") from None
        return None
    except Exception:  # an op the meta device lacks (NotImplementedError, ...)
        return None


def _describe(cfg) -> str:
    """``'lstm' with emb_size=..., hidden_size=..., num_layers=...``: the model's options."""
    import dataclasses

    opts = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(cfg.model).items())
    return f"{cfg.family!r} with {opts}"


def check_model_fits(cfg, vocab_size: int, *, training: bool, where: str = "config",
                     model: nn.Module | None = None) -> nn.Module | None:
    """ConfigError when the model ``cfg`` describes needs more memory than there is."""
    # before building even on the meta device (10^9 layers would take hours to describe):
    # every family has an embedding of V x its narrowest width and that many weights per layer
    import dataclasses

    opts = dataclasses.asdict(cfg.model)
    ints = {k: v for k, v in opts.items() if isinstance(v, int) and not isinstance(v, bool)}
    width = min([v for k, v in ints.items() if k.endswith(("_size", "dim", "d_model")) and v > 0] or [1])
    layers = ints.get("num_layers", ints.get("n_layers", 1))
    floor = vocab_size * width + layers * width
    if layers > MAX_LAYERS or floor * (_BYTES_TRAIN if training else _BYTES_HOLD) > memory_bytes(cfg.device):
        raise ConfigError(f"{where}: model {_describe(cfg)} and {vocab_size:,} words is beyond this "
                          f"machine (at least {floor:,} parameters; at most {MAX_LAYERS:,} layers)")
    model = model if model is not None else meta_model(cfg, vocab_size)
    if model is None:
        return None
    n = sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
    need = n * (_BYTES_TRAIN if training else _BYTES_HOLD)
    have = memory_bytes(cfg.device)
    if need > have:
        raise ConfigError(
            f"{where}: model {_describe(cfg)} and {vocab_size:,} words has {n:,} parameters; "
            f"{'training' if training else 'holding'} it needs at least {need / 2**30:,.1f} GiB, "
            f"this machine has {have / 2**30:,.1f} GiB")
    return model


def _need(cond: bool, path: Path, msg: str) -> None:
    if not cond:
        raise ModelFormatError(f"{path}: {msg}")


def _tensors_finite(obj: Any, path: Path, field: str) -> None:
    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point() and obj.numel() and not bool(torch.isfinite(obj).all()):
            raise ModelFormatError(f"{path}: {field} holds NaN or infinite values")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _tensors_finite(v, path, f"{field}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _tensors_finite(v, path, f"{field}[{i}]")


def check_payload(payload: Any, path: str | os.PathLike, *, resume: bool):
    """Validate a loaded checkpoint payload; return its :class:`LMConfig` (see module doc)."""
    from .config import config_from_dict, flat_config_message, is_flat_config

    path = Path(path)
    _need(isinstance(payload, dict), path,
          f"not a groundup language-model checkpoint (payload is a {type(payload).__name__}, "
          f"expected a dict)")
    fields = ("config", "vocab", "model") + (
        ("optimizer", "schedule", "position", "ranks", "world_size") if resume else ())
    missing = [k for k in fields if k not in payload]
    _need(not missing, path, f"not a {'resumable ' if resume else ''}groundup language-model "
                             f"checkpoint (no {', '.join(missing)})")
    _need(isinstance(payload["config"], dict), path, "'config' is not a dict")
    _need(not is_flat_config(payload["config"]), path, flat_config_message(path))
    try:
        cfg = config_from_dict(payload["config"])
    except ConfigError as e:
        raise ModelFormatError(f"{path}: config: {e}") from None
    vocab = payload["vocab"]
    _need(isinstance(vocab, (list, tuple)) and len(vocab) >= 2, path,
          "'vocab' must be a list of at least 2 words")
    _need(all(isinstance(w, str) and w for w in vocab), path, "'vocab' holds a non-string or empty word")
    _need(len(set(vocab)) == len(vocab), path, "'vocab' holds a word twice")
    state = payload["model"]
    _need(isinstance(state, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                          for k, v in state.items()), path,
          "'model' must be a dict of named tensors (a state_dict)")
    try:
        model = check_model_fits(cfg, len(vocab), training=resume, where=f"{path}: config")
    except ConfigError as e:
        raise ModelFormatError(str(e)) from None
    if model is not None:
        want = model.state_dict()
        _need(set(want) == set(state), path, "'model' does not match the config's model "
              f"(missing {sorted(set(want) - set(state))[:3]}, unexpected {sorted(set(state) - set(want))[:3]})")
        for k, t in want.items():
            _need(tuple(state[k].shape) == tuple(t.shape), path,
                  f"model.{k} has shape {tuple(state[k].shape)}, the config's model needs {tuple(t.shape)}")
            _need(state[k].is_floating_point() == t.is_floating_point(), path,
                  f"model.{k} has dtype {state[k].dtype}, expected {t.dtype}")
    _tensors_finite(state, path, "model")
    if resume:
        _check_resume_fields(payload, path, model, cfg)
    return cfg


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_rng_state(rng: Any) -> bool:
    """The shape :func:`.state_io.rng_state` writes: Python's, numpy's and torch's MT19937."""
    if not (isinstance(rng, dict) and all(k in rng for k in ("python", "numpy", "torch"))):
        return False
    py, npy, tt = rng["python"], rng["numpy"], rng["torch"]
    ok_py = (isinstance(py, (list, tuple)) and len(py) == 3 and py[0] == 3  # random.VERSION
             and isinstance(py[1], (list, tuple)) and len(py[1]) == 625 and all(_is_int(x) for x in py[1])
             and (py[2] is None or isinstance(py[2], float)))
    ok_np = (isinstance(npy, (list, tuple)) and len(npy) == 5 and npy[0] == "MT19937"
             and isinstance(npy[1], torch.Tensor) and tuple(npy[1].shape) == (624,)
             and not npy[1].is_floating_point() and all(_is_int(x) for x in npy[2:4])
             and isinstance(npy[4], (int, float)))
    ok_t = (isinstance(tt, torch.Tensor) and tt.dtype == torch.uint8
            and tt.shape == torch.get_rng_state().shape)
    return ok_py and ok_np and ok_t


def _check_resume_fields(payload: dict, path: Path, model: nn.Module | None, cfg) -> None:
    ws = payload["world_size"]
    _need(isinstance(ws, int) and not isinstance(ws, bool) and ws >= 1, path,
          f"'world_size' must be an integer >= 1, got {ws!r}")
    ranks = payload["ranks"]
    _need(isinstance(ranks, (list, tuple)) and len(ranks) == ws, path,
          f"'ranks' must be a list of {ws} per-process states")
    for i, r in enumerate(ranks):
        _need(isinstance(r, dict) and isinstance(r.get("rng"), dict) and "hidden" in r, path,
              f"ranks[{i}] must hold 'rng' and 'hidden'")
        _need(_is_rng_state(r["rng"]), path, f"ranks[{i}].rng is not a generator state")
        _tensors_finite(r["hidden"], path, f"ranks[{i}].hidden")
    pos = payload["position"]
    _need(isinstance(pos, dict), path, "'position' is not a dict")
    ints = ("epoch", "batch", "step", "best_epoch", "bad_epochs", "train_tokens", "epoch_loss_n",
            "metrics_lines")
    for k in ints:
        v = pos.get(k, 0)
        _need(isinstance(v, int) and not isinstance(v, bool) and v >= 0, path,
              f"position.{k} must be an integer >= 0, got {v!r}")
    for k in ("best_valid", "train_seconds", "epoch_loss_sum"):
        v = pos.get(k, 0.0)
        _need(isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v), path,
              f"position.{k} must be a number, got {v!r}")
    _need(isinstance(pos.get("history", []), list), path, "position.history must be a list")
    sched = payload["schedule"]
    _need(isinstance(sched, dict) and all(isinstance(sched.get(k), (int, float)) for k in ("factor", "best"))
          and sched.get("kind") == cfg.schedule, path,
          f"'schedule' must hold kind {cfg.schedule!r} and numbers 'factor' and 'best'")
    opt = payload["optimizer"]
    _need(isinstance(opt, dict) and isinstance(opt.get("state"), dict)
          and isinstance(opt.get("param_groups"), list)
          and all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in opt["param_groups"]),
          path, "'optimizer' is not an optimizer state (state, param_groups)")
    _tensors_finite(opt["state"], path, "optimizer.state")
    if model is not None:  # the optimizer's parameter ids count through the decay groups
        from .decay_groups import param_groups

        shapes = [tuple(p.shape) for g in param_groups(model, cfg.weight_decay, cfg.decay_embeddings)
                  for p in g["params"]]
        ids = [i for g in opt["param_groups"] for i in g["params"]]
        _need(sorted(ids) == list(range(len(shapes))), path,
              f"optimizer.param_groups name {len(ids)} parameters, the model has {len(shapes)}")
        for i, st in opt["state"].items():
            _need(isinstance(i, int) and 0 <= i < len(shapes) and isinstance(st, dict), path,
                  f"optimizer.state has an entry {i!r} for no parameter")
            for k, v in st.items():
                if isinstance(v, torch.Tensor) and v.dim() > 0:
                    _need(tuple(v.shape) == shapes[i], path,
                          f"optimizer.state[{i}].{k} has shape {tuple(v.shape)}, the parameter {shapes[i]}")
