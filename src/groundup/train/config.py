"""Language-model training configs: one frozen dataclass, named presets, strict overrides.

Presets follow the papers they reproduce:

* ``ptb-small``  -- Zaremba, Sutskever & Vinyals (2014), "Recurrent Neural Network
  Regularization", the non-regularised 'small' LSTM: 2 x 200, no dropout, SGD lr 1, clip 5,
  13 epochs, batch 20, 35 unrolled steps, init U(-0.1, 0.1), lr halved after every epoch past
  the 4th. Published test perplexity 114.5.
* ``ptb-medium`` -- the same paper's 'medium' LSTM: 2 x 650, dropout 0.5, 39 epochs, init
  U(-0.05, 0.05), lr divided by 1.2 after every epoch past the 6th. Published 82.7.
* ``quick``      -- a tiny model on a slice of the corpus, for tests and the lab's quick mode.

Derived values are properties (``tokens_per_step``); validation that needs the data (a batch
larger than the corpus) lives in :func:`groundup.train.engine.check_fits`.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from ..config import apply_overrides, load_config_file, option
from ..data.pipeline import TextOptions
from ..errors import ConfigError

Optimizer = Literal["sgd", "adam", "adamw"]
Schedule = Literal["constant", "step", "plateau", "cosine"]
LossReduction = Literal["mean", "sum_over_time"]

# Fields that may change when a run resumes from its checkpoint (they do not change the maths
# of the steps already taken). Everything else must match the checkpoint's config.
RESUMABLE_FIELDS = ("epochs", "device", "threads", "checkpoint_every", "patience", "progress")


@dataclass(frozen=True)
class LMConfig(TextOptions):
    """Everything a word-level language-model run needs. Every field is a CLI option; the text
    options (tokenizer, lowercase, min_count, max_vocab) come from
    :class:`~groundup.data.pipeline.TextOptions` and are saved with the model."""

    # what to train on and what to train
    model: str = "lstm"               # a name in groundup.train.models.MODELS
    data: str = "wikitext2"           # ptb | wikitext2 | a folder with train/valid/test files
    # or the user's own text ('data' then empty; the CLI empties it when --train is given)
    train: str = option("", "your own training text (file or -); then --valid is needed too",
                        metavar="FILE")
    valid: str = option("", "your own validation text, with --train", metavar="FILE")
    test: str = option("", "your own test text, with --train (optional)", metavar="FILE")
    train_tokens: int = 0             # use only the first N training tokens (0 = all)
    eval_tokens: int = 0              # use only the first N valid/test tokens (0 = all)
    # model shape
    emb_size: int = 200
    hidden_size: int = 200
    num_layers: int = 2
    dropout: float = 0.0              # on embeddings, between layers, before the decoder
    tie_weights: bool = False         # Press & Wolf (2017) / Inan et al. (2017)
    init_range: float = 0.1           # every parameter ~ U(-init_range, init_range)
    # Transformer only (model=transformer: width emb_size, FFN width hidden_size, context bptt)
    n_heads: int = 4
    n_kv_heads: int = 0               # 0 = n_heads; 1 = multi-query; else grouped-query
    positional: str = "learned"       # learned | sinusoidal | rope | alibi
    activation: str = "gelu"          # a name in groundup.nn.activations (swiglu, ...)
    norm: str = "layernorm"           # layernorm | rmsnorm
    # optimisation
    optimizer: Optimizer = "sgd"
    lr: float = 1.0
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: Schedule = "step"
    lr_decay: float = 0.5             # multiply the lr by this ...
    decay_after: int = 4              # ... after every epoch past this one ('step'); patience ('plateau')
    clip: float = 5.0                 # max global gradient norm (0 = no clipping)
    # What the gradient is taken of: the mean per token, or (Zaremba's code, TF ptb_word_lm:
    # cost = sum(loss) / batch_size) the sum over the T steps of the batch mean, a T-times larger
    # gradient -- so 'lr 1, clip 5' there equals 'lr T, clip 5/T' on the mean.
    loss_reduction: LossReduction = "mean"
    epochs: int = 13
    # Stop once this many seconds of training steps have run (0 = off; evaluation time is not
    # counted): the equal-wall-clock comparisons. With schedule 'cosine' the decay then runs
    # over the time budget instead of the epochs.
    max_train_seconds: float = 0.0
    warmup_steps: int = 0             # linear lr warm-up from lr/warmup_steps over these steps
    batch_size: int = 20
    bptt: int = 35                    # truncated backpropagation-through-time length
    eval_batch_size: int = 10
    patience: int = 0                 # early stopping: epochs without a better valid ppl (0 = off)
    # running
    seed: int = 0
    device: str = "cpu"
    threads: int = 0                  # torch.set_num_threads (0 = leave torch's default)
    checkpoint_every: int = 0         # also checkpoint every N steps (0 = at epoch ends only)
    grad_checkpoint: str = ""         # off | sqrt | k time chunks | a budget like 64MB (recurrent)
    progress: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.train and self.data:
            raise ConfigError(f"data={self.data!r} and train={self.train!r} are two sources: give "
                              f"--data NAME or --train FILE --valid FILE, not both")
        if not self.train and (self.valid or self.test):
            raise ConfigError("--valid and --test go with --train FILE (your own text)")
        if self.train and not self.valid:
            raise ConfigError("--train FILE needs --valid FILE too")
        if not self.train and not self.data:
            raise ConfigError("no data: give --data NAME or --train FILE --valid FILE")
        positive = ("emb_size", "hidden_size", "num_layers", "epochs", "batch_size", "bptt",
                    "eval_batch_size")
        for name in positive:
            v = getattr(self, name)
            if v < 1:
                raise ConfigError(f"{name} must be >= 1, got {v}")
        for name in ("train_tokens", "eval_tokens", "patience", "checkpoint_every", "threads",
                     "decay_after", "warmup_steps"):
            v = getattr(self, name)
            if v < 0:
                raise ConfigError(f"{name} must be >= 0, got {v}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if not self.lr > 0.0 or self.lr != self.lr or self.lr == float("inf"):
            raise ConfigError(f"lr must be a positive finite number, got {self.lr}")
        if self.clip < 0 or self.clip != self.clip:
            raise ConfigError(f"clip must be >= 0 (0 = off), got {self.clip}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ConfigError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if not 0.0 <= self.max_train_seconds < math.inf:
            raise ConfigError(f"max_train_seconds must be a finite number >= 0 (0 = off), got "
                              f"{self.max_train_seconds}")
        if self.init_range < 0:
            raise ConfigError(f"init_range must be >= 0, got {self.init_range}")
        if self.momentum < 0 or self.weight_decay < 0:
            raise ConfigError(f"momentum and weight_decay must be >= 0, got "
                              f"{self.momentum} and {self.weight_decay}")
        # the recurrent LMs tie decoder to embedding, so the widths must agree; the Transformer
        # ties at width emb_size (hidden_size is its FFN width), the SSM LMs at hidden_size
        if self.tie_weights and self.emb_size != self.hidden_size and self.model in ("rnn", "lstm", "gru"):
            raise ConfigError(f"tie_weights needs emb_size == hidden_size, got "
                              f"{self.emb_size} and {self.hidden_size}")
        if not re.fullmatch(r"cpu|cuda(:\d+)?", self.device):
            raise ConfigError(f"device must be cpu, cuda or cuda:N, got {self.device!r}")
        from .grad_checkpoint_lm import parse_spec
        from .models import MODELS

        parse_spec(self.grad_checkpoint)

        if self.model not in MODELS:
            raise ConfigError(f"unknown model {self.model!r} (known: {', '.join(sorted(MODELS))})")

    @property
    def files(self) -> dict[str, str] | None:
        """The user's own split files (None when ``data`` names the corpus)."""
        return {"train": self.train, "valid": self.valid, "test": self.test} if self.train else None

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.bptt

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_PRESET_FIELDS: dict[str, dict[str, Any]] = {
    "ptb-small": dict(model="lstm", data="ptb", emb_size=200, hidden_size=200, num_layers=2,
                          dropout=0.0, init_range=0.1, optimizer="sgd", lr=1.0, schedule="step",
                          lr_decay=0.5, decay_after=4, clip=5.0, loss_reduction="sum_over_time",
                          epochs=13, batch_size=20, bptt=35),
    "ptb-medium": dict(model="lstm", data="ptb", emb_size=650, hidden_size=650, num_layers=2,
                           dropout=0.5, init_range=0.05, optimizer="sgd", lr=1.0,
                           schedule="step", lr_decay=1 / 1.2, decay_after=6, clip=5.0,
                           loss_reduction="sum_over_time",
                           epochs=39, batch_size=20, bptt=35),
    "quick": dict(model="lstm", data="wikitext2", train_tokens=20_000, eval_tokens=4_000,
                      emb_size=32, hidden_size=32, num_layers=1, init_range=0.1, lr=1.0,
                      schedule="constant", clip=5.0, epochs=2, batch_size=8, bptt=16,
                      eval_batch_size=8),
}


class _Presets(Mapping):
    """Named presets, built on first use: building an LMConfig validates its model name against
    the registry, which imports torch, and ``groundup --help`` must not pay for that."""

    def __init__(self, fields: dict[str, dict[str, Any]]):
        self._fields, self._built = fields, {}

    def __getitem__(self, name: str) -> LMConfig:
        if name not in self._built:
            self._built[name] = LMConfig(**self._fields[name])
        return self._built[name]

    def __iter__(self):
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)


PRESETS: Mapping[str, LMConfig] = _Presets(_PRESET_FIELDS)


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
        cfg = apply_overrides(cfg, load_config_file(config_file))
    overrides = dict(overrides or {})
    if overrides.get("train") and "data" not in overrides:
        overrides["data"] = ""  # your own text replaces the preset's corpus
    return apply_overrides(cfg, overrides)


def config_from_dict(d: Mapping[str, Any]) -> LMConfig:
    """Rebuild a config saved in a checkpoint (strict: unknown keys are errors)."""
    return apply_overrides(LMConfig(), dict(d))
