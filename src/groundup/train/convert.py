"""``groundup lm convert OLD NEW``: a best.pt / checkpoint.pt of the flat-LMConfig era, rewritten
in the current format (the model a sub-config of its family, the data a DataConfig).

What changed, and what the conversion does:

* config: one flat dict whose fields meant different things per family -> the run, a
  ``data`` table and a ``model`` table with the family's own names. The Transformer's
  ``emb_size`` was its width (now ``d_model``), ``hidden_size`` its FFN width (``d_ff``) and
  ``bptt`` its context (``max_len``); Mamba, S4 and LRU took their width from ``hidden_size``
  (``d_model``) and ignored ``emb_size``; Mamba also ignored ``dropout`` (dropped here);
* weights: Mamba's were under an adapter (``lm.``), now the model itself;
* optimizer state (checkpoint.pt): one parameter group -> the decay / no-decay groups of
  :mod:`groundup.train.decay_groups`, each parameter's state carried to its new index.

A resumed run continues bit for bit when ``weight_decay`` is 0; with weight decay the new
groups exempt biases, norm gains and SSM dynamics from then on (the message says so).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelFormatError
from .config import DATA_FIELDS, RUN_FIELDS, config_from_dict, is_flat_config
from .decay_groups import param_groups
from .families import build_model
from .state_io import load_state, save_state

# the flat LMConfig's defaults for the fields a family read (older files lack the newer ones)
_OLD_DEFAULTS = {"emb_size": 200, "hidden_size": 200, "num_layers": 2, "dropout": 0.0,
                 "tie_weights": False, "init_range": 0.1, "n_heads": 4, "n_kv_heads": 0,
                 "positional": "learned", "activation": "gelu", "norm": "layernorm", "bptt": 35,
                 "data": "wikitext2"}
_RECURRENT = ("rnn", "rnn_relu", "lstm", "gru")


def convert_config(old: dict[str, Any]) -> dict[str, Any]:
    """The flat config dict of an old file -> the nested dict :func:`config_from_dict` reads."""
    o = {**_OLD_DEFAULTS, **old}
    fam = o["model"]
    if fam in _RECURRENT:
        model = {k: o[k] for k in ("emb_size", "hidden_size", "num_layers", "dropout",
                                   "tie_weights", "init_range")}
    elif fam == "transformer":
        model = {"d_model": o["emb_size"], "d_ff": o["hidden_size"], "max_len": o["bptt"],
                 **{k: o[k] for k in ("n_heads", "n_kv_heads", "num_layers", "dropout",
                                      "positional", "activation", "norm", "tie_weights")}}
    elif fam == "mamba":
        model = {"d_model": o["hidden_size"], "num_layers": o["num_layers"],
                 "tie_weights": o["tie_weights"]}
    elif fam == "rwkv":
        model = {"d_model": o["hidden_size"], "num_layers": o["num_layers"],
                 "tie_weights": o["tie_weights"]}
    elif fam in ("s4", "lru"):
        model = {"d_model": o["hidden_size"],
                 **{k: o[k] for k in ("num_layers", "dropout", "tie_weights")}}
    else:
        raise ConfigError(f"cannot convert a model of family {fam!r} (known: "
                          f"{', '.join(_RECURRENT + ('transformer', 'mamba', 's4', 'lru', 'rwkv'))})")
    data = {"corpus": o["data"], **{k: o[k] for k in DATA_FIELDS if k in o and k != "corpus"}}
    return {"model": {"family": fam, **model}, "data": data,
            **{k: v for k, v in old.items() if k in RUN_FIELDS}}


def _regroup_optimizer(state: dict[str, Any], model, cfg) -> dict[str, Any]:
    """One group over ``model.parameters()`` -> the decay / no-decay groups."""
    if len(state["param_groups"]) != 1:
        raise ModelFormatError(f"expected one optimizer parameter group in an old checkpoint, "
                               f"got {len(state['param_groups'])}")
    old_index = {id(p): i for i, p in enumerate(model.parameters())}
    hyper = {k: v for k, v in state["param_groups"][0].items() if k != "params"}
    groups, new_state, n = [], {}, 0
    for g in param_groups(model, cfg.weight_decay, cfg.decay_embeddings):
        ids = []
        for p in g["params"]:
            if old_index[id(p)] in state["state"]:
                new_state[n] = state["state"][old_index[id(p)]]
            ids.append(n)
            n += 1
        groups.append({**hyper, "weight_decay": g["weight_decay"], "params": ids})
    return {"state": new_state, "param_groups": groups}


def convert_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """An old checkpoint / weights payload in the current format."""
    new_cfg = convert_config(payload["config"])
    cfg = config_from_dict(new_cfg)
    out = dict(payload, config=cfg.to_dict())
    weights = payload["model"]
    if cfg.family == "mamba":
        weights = {k.removeprefix("lm."): v for k, v in weights.items()}
    model = build_model(cfg.model, len(payload["vocab"]))
    model.load_state_dict(weights)  # the check that the weights fit the converted config
    out["model"] = weights
    if "optimizer" in payload:
        out["optimizer"] = _regroup_optimizer(payload["optimizer"], model, cfg)
    return out


def convert_file(old: str | Path, new: str | Path) -> str:
    """Read OLD, write NEW (which must not exist); return a one-line summary."""
    old, new = Path(old), Path(new)
    if new.exists():
        raise ConfigError(f"{new}: exists; give a new file name (convert never overwrites)")
    payload = load_state(old)
    if not is_flat_config(payload.get("config", {})):
        raise ConfigError(f"{old}: already in the current format; nothing to convert")
    converted = convert_payload(payload)
    save_state(new, converted)
    cfg = converted["config"]
    note = ""
    if "optimizer" in payload and cfg["weight_decay"] > 0:
        note = ("; note: weight decay now skips biases, norm gains and SSM dynamics, so a "
                "resumed run differs from the old code from here on")
    return f"{new}: {cfg['model']['family']} model converted from {old}{note}"
