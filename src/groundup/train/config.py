"""Language-model training configs: the run (data, optimisation, schedule) and one model config.

``LMConfig`` holds what a run needs besides the model: a :class:`DataConfig`, the optimiser,
the schedule, batching and running options, and ``model``, the config of one family
(:mod:`groundup.nn.lm_configs`, registered in :mod:`groundup.train.families`). Each field is a
command-line option; a model option the chosen family does not have is an error.

Presets follow the papers they reproduce:

* ``ptb-small``  -- Zaremba, Sutskever & Vinyals (2014), "Recurrent Neural Network
  Regularization", the non-regularised 'small' LSTM: 2 x 200, no dropout, SGD lr 1, clip 5,
  13 epochs, batch 20, 35 unrolled steps, init U(-0.1, 0.1), lr halved after every epoch past
  the 4th. Published test perplexity 114.5.
* ``ptb-medium`` -- the same paper's 'medium' LSTM: 2 x 650, dropout 0.5, 39 epochs, init
  U(-0.05, 0.05), lr divided by 1.2 after every epoch past the 6th. Published 82.7.
* ``quick``      -- a tiny model on a slice of the corpus, for tests and the lab's quick mode.

Overrides are flat (``{"hidden_size": 650, "lr": 0.5, "corpus": "ptb"}``, as on the command
line) or nested as :meth:`LMConfig.to_dict` writes them (``{"model": {"family": "lstm", ...},
"data": {...}}``). Choosing another family starts from that family's defaults, except between
families with the same options (rnn, rnn_relu, lstm, gru), which keep the values.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from ..config import apply_overrides, check_at_least, load_config_file, option
from ..data.pipeline import TextOptions
from ..errors import ConfigError
from ..nn.lm_configs import LSTMConfig
from .families import FAMILIES, family, family_of
from .grad_checkpoint_plan import parse_spec

Optimizer = Literal["sgd", "adam", "adamw"]
Schedule = Literal["constant", "step", "plateau", "cosine"]
LossReduction = Literal["mean", "sum_over_time"]

# Fields that may change when a run resumes from its checkpoint (they do not change the maths
# of the steps already taken). Everything else must match the checkpoint's config.
RESUMABLE_FIELDS = ("epochs", "device", "threads", "checkpoint_every", "patience", "progress")


@dataclass(frozen=True)
class DataConfig(TextOptions):
    """What the model is trained and evaluated on: a named corpus or the user's own files, and
    the text options (tokenizer, lowercase, min_count, max_vocab of
    :class:`~groundup.data.pipeline.TextOptions`), saved with the model."""

    corpus: str = option("wikitext2", "ptb | wikitext2 | a folder with one file each whose name "
                                      "contains train, valid and test", metavar="NAME")
    # or the user's own text (corpus then empty; given --train, the corpus empties itself)
    train: str = option("", "your own training text (file or -); then --valid is needed too",
                        metavar="FILE")
    valid: str = option("", "your own validation text, with --train", metavar="FILE")
    test: str = option("", "your own test text, with --train (optional)", metavar="FILE")
    train_tokens: int = option(0, "use only the first N training tokens (0 = all)")
    eval_tokens: int = option(0, "use only the first N valid/test tokens (0 = all)")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_at_least(self, 0, "train_tokens", "eval_tokens")
        if self.train and self.corpus:
            raise ConfigError(f"data={self.corpus!r} and train={self.train!r} are two sources: give "
                              f"--data NAME or --train FILE --valid FILE, not both")
        if not self.train and (self.valid or self.test):
            raise ConfigError("--valid and --test go with --train FILE (your own text)")
        if self.train and not self.valid:
            raise ConfigError("--train FILE needs --valid FILE too")
        if not self.train and not self.corpus:
            raise ConfigError("no data: give --data NAME or --train FILE --valid FILE")

    @property
    def files(self) -> dict[str, str] | None:
        """The user's own split files (None when ``corpus`` names the corpus)."""
        return {"train": self.train, "valid": self.valid, "test": self.test} if self.train else None


@dataclass(frozen=True)
class LMConfig:
    """Everything a language-model run needs. Every field is a command-line option."""

    model: Any = field(default_factory=LSTMConfig,
                       metadata={"help": "the model: one family's config (--model NAME)"})
    data: DataConfig = field(default_factory=DataConfig, metadata={"help": "the data"})
    # optimisation
    optimizer: Optimizer = option("sgd", "sgd | adam | adamw")
    lr: float = option(1.0, "peak learning rate")
    momentum: float = option(0.0, "SGD momentum")
    weight_decay: float = option(0.0, "weight decay (AdamW: decoupled), applied to the weight "
                                      "matrices only: never to biases, norm gains or SSM "
                                      "dynamics (A_log, D, dt)")
    decay_embeddings: bool = option(True, "apply weight_decay to the embedding matrices too")
    clip: float = option(5.0, "max global gradient norm (0 = no clipping)")
    # What the gradient is taken of: the mean per token, or (Zaremba's code, TF ptb_word_lm:
    # cost = sum(loss) / batch_size) the sum over the T steps of the batch mean, a T-times larger
    # gradient -- so 'lr 1, clip 5' there equals 'lr T, clip 5/T' on the mean.
    loss_reduction: LossReduction = option("mean", "mean (per token) | sum_over_time (Zaremba's "
                                                   "T-times larger gradient)")
    # schedule (train/schedule.py owns the learning rate of every step)
    schedule: Schedule = option("step", "constant | step | plateau | cosine")
    lr_decay: float = option(0.5, "multiply the lr by this after every epoch past decay_after "
                                  "(step) or on a plateau (plateau)")
    decay_after: int = option(4, "epochs at full lr (step); patience in epochs (plateau)")
    warmup_steps: int = option(0, "linear warm-up: the lr times min(1, step / warmup_steps)")
    epochs: int = option(13, "passes over the training data")
    # With schedule 'cosine' the decay runs over the time budget instead of the epochs.
    max_train_seconds: float = option(0.0, "stop after this many seconds of training steps "
                                           "(0 = off; evaluation not counted)")
    # batches
    batch_size: int = option(20, "rows B of the batch (parallel streams)")
    bptt: int = option(35, "truncated backpropagation-through-time length T")
    eval_batch_size: int = option(10, "rows when evaluating")
    patience: int = option(0, "early stopping: epochs without a better valid ppl (0 = off)")
    # running
    seed: int = option(0, "seed of every random number generator")
    device: str = option("cpu", "cpu | cuda | cuda:N")
    threads: int = option(0, "torch threads while training (0 = leave torch's default)")
    checkpoint_every: int = option(0, "also save the run's state every N steps (0 = at epoch "
                                      "ends only)")
    grad_checkpoint: str = option("", "gradient checkpointing: off | sqrt | k time chunks | a "
                                      "memory budget like 64MB (recurrent models)")
    progress: bool = option(True, "progress bar and log lines on stderr")

    def __post_init__(self) -> None:
        family_of(self.model)  # a registered family's config
        if not isinstance(self.data, DataConfig):
            raise ConfigError(f"data must be a DataConfig, got {type(self.data).__name__}")
        check_at_least(self, 1, "epochs", "batch_size", "bptt", "eval_batch_size")
        check_at_least(self, 0, "patience", "checkpoint_every", "threads", "decay_after",
                       "warmup_steps", "momentum", "weight_decay")
        if not self.lr > 0.0 or self.lr == math.inf:
            raise ConfigError(f"lr must be a positive finite number, got {self.lr}")
        if not self.clip >= 0:
            raise ConfigError(f"clip must be >= 0 (0 = off), got {self.clip}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ConfigError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if not 0.0 <= self.max_train_seconds < math.inf:
            raise ConfigError(f"max_train_seconds must be a finite number >= 0 (0 = off), got "
                              f"{self.max_train_seconds}")
        if self.momentum and self.optimizer != "sgd":
            raise ConfigError(f"momentum is an option of sgd; {self.optimizer} has its own "
                              f"moment estimates (got momentum {self.momentum})")
        if not re.fullmatch(r"cpu|cuda(:\d+)?", self.device):
            raise ConfigError(f"device must be cpu, cuda or cuda:N, got {self.device!r}")
        max_len = getattr(self.model, "max_len", None)
        if max_len is not None and self.bptt > max_len:
            raise ConfigError(f"bptt {self.bptt} exceeds the {self.family} model's max_len "
                              f"{max_len}; raise --max-len or lower --bptt")
        parse_spec(self.grad_checkpoint)

    @property
    def family(self) -> str:
        return family_of(self.model)

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.bptt

    def to_dict(self) -> dict[str, Any]:
        """Plain data (checkpoints, final.json); :func:`config_from_dict` reads it back."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["model"] = {"family": self.family, **dataclasses.asdict(self.model)}
        d["data"] = dataclasses.asdict(self.data)
        return d


RUN_FIELDS = frozenset(f.name for f in dataclasses.fields(LMConfig)) - {"model", "data"}
DATA_FIELDS = frozenset(f.name for f in dataclasses.fields(DataConfig))


def model_option_names() -> set[str]:
    """Every option of every registered family."""
    return {f.name for fam in FAMILIES.values() for f in dataclasses.fields(fam.config)}


def switch_family(model: Any, name: str) -> Any:
    """The config of family ``name``: its defaults, or ``model``'s values when the two families
    have the same options (rnn, rnn_relu, lstm, gru)."""
    new = family(name).config
    old = dataclasses.asdict(model)
    return new(**old) if {f.name for f in dataclasses.fields(new)} == set(old) else new()


def apply_lm_overrides(cfg: LMConfig, overrides: Mapping[str, Any]) -> LMConfig:
    """``cfg`` with flat or nested overrides routed to the run, the data and the model."""
    run, data, model_over = {}, {}, {}
    name = None
    for key, value in overrides.items():
        k = str(key).replace("-", "_")
        if k == "model" and isinstance(value, Mapping):
            model_over.update(value)
            name = model_over.pop("family", name)
        elif k == "model":
            name = value
        elif k == "data" and isinstance(value, Mapping):
            data.update(value)
            if value.get("train") and "corpus" not in value:
                data["corpus"] = ""  # your own text replaces the preset's corpus
        elif k == "data":       # --data ptb: the corpus
            data["corpus"] = value
        elif k in RUN_FIELDS:
            run[k] = value
        elif k in DATA_FIELDS:
            data[k] = value
            if k == "train" and value and "corpus" not in data and "data" not in overrides:
                data["corpus"] = ""  # your own text replaces the preset's corpus
        else:
            model_over[k] = value
    model = cfg.model
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"model must be the name of a family, got {name!r}")
    if name is not None and name != family_of(model):
        model = switch_family(model, name)
    fam = family_of(model)
    names = [f.name for f in dataclasses.fields(model)]
    for k in model_over:
        if str(k).replace("-", "_") in names:
            continue
        if str(k).replace("-", "_") not in model_option_names():
            raise ConfigError(f"unknown config key {k!r} (known: the run's "
                              f"{', '.join(sorted(RUN_FIELDS | DATA_FIELDS))}; the models': "
                              f"{', '.join(sorted(model_option_names()))})")
        raise ConfigError(f"{k!r} is not an option of the {fam} model (its options: "
                          f"{', '.join(names)})")
    try:
        model = apply_overrides(model, model_over)
        return apply_overrides(cfg, run, model=model, data=apply_overrides(cfg.data, data))
    except TypeError as e:  # a dataclass refusing its arguments
        raise ConfigError(str(e)) from None


PRESETS: dict[str, LMConfig] = {
    "ptb-small": LMConfig(
        model=LSTMConfig(emb_size=200, hidden_size=200, num_layers=2, dropout=0.0, init_range=0.1),
        data=DataConfig(corpus="ptb"), optimizer="sgd", lr=1.0, schedule="step", lr_decay=0.5,
        decay_after=4, clip=5.0, loss_reduction="sum_over_time", epochs=13, batch_size=20, bptt=35),
    "ptb-medium": LMConfig(
        model=LSTMConfig(emb_size=650, hidden_size=650, num_layers=2, dropout=0.5, init_range=0.05),
        data=DataConfig(corpus="ptb"), optimizer="sgd", lr=1.0, schedule="step",
        lr_decay=1 / 1.2, decay_after=6, clip=5.0, loss_reduction="sum_over_time", epochs=39,
        batch_size=20, bptt=35),
    "quick": LMConfig(
        model=LSTMConfig(emb_size=32, hidden_size=32, num_layers=1, init_range=0.1),
        data=DataConfig(corpus="wikitext2", train_tokens=20_000, eval_tokens=4_000), lr=1.0,
        schedule="constant", clip=5.0, epochs=2, batch_size=8, bptt=16, eval_batch_size=8),
}


def make_config(preset: str | None = None, config_file: str | None = None,
                overrides: Mapping[str, Any] | None = None) -> LMConfig:
    """Preset, then the config file, then command-line overrides: later ones win."""
    if preset is None:
        cfg = LMConfig()
    elif preset in PRESETS:
        cfg = PRESETS[preset]
    else:
        raise ConfigError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    if config_file:
        cfg = apply_lm_overrides(cfg, load_config_file(config_file))
    return apply_lm_overrides(cfg, dict(overrides or {}))


def is_flat_config(d: Mapping[str, Any]) -> bool:
    """A config saved before the model became a sub-config (groundup < the LM contract)."""
    return isinstance(d.get("model"), str)


def flat_config_message(path) -> str:
    """One line for a file of the flat-config era, naming the conversion."""
    return (f"written by an older groundup (one flat LMConfig for every model); convert it "
            f"with: groundup lm convert {path} NEW.pt")


def config_from_dict(d: Mapping[str, Any]) -> LMConfig:
    """Rebuild a config saved in a checkpoint (strict: unknown keys are errors)."""
    if is_flat_config(d):
        raise ConfigError("a config of the old flat format; convert the file with "
                          "`groundup lm convert OLD NEW`")
    return apply_lm_overrides(LMConfig(), d)


def flat_view(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"d_model": 8}}`` -> ``{"model.d_model": 8}``: configs compared key by key."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(flat_view(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out

