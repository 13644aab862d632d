"""Learning-rate schedules: the one owner of the learning rate of every training step.

* ``constant`` -- lr.
* ``step``     -- the classic PTB recipe (Zaremba et al. 2014, Section 4.1): full lr for the
  first ``decay_after`` epochs, then multiplied by ``lr_decay`` after every further epoch:
  ``lr_e = lr * lr_decay ** max(0, e - decay_after)`` for epoch e = 1, 2, ... ('small':
  decay 0.5 after 4 epochs; 'medium': 1/1.2 after 6).
* ``plateau``  -- multiply by ``lr_decay`` whenever the validation loss fails to improve
  (PyTorch's word_language_model example divides by 4).
* ``cosine``   -- ``lr * (1 + cos(pi * progress)) / 2`` over the whole run, updated every step;
  progress in epochs, or, with a time budget, in seconds of training steps.
* a linear warm-up (``warmup_steps``) multiplies any of them by ``min(1, step / warmup_steps)``.

The engine asks :meth:`LRSchedule.apply` for step n's rate and never computes one itself. The
state (for ``plateau``) is saved with the run, so a resumed run continues identically.
"""
from __future__ import annotations

import math
from typing import Any


class LRSchedule:
    def __init__(self, kind: str, lr: float, *, epochs: int, lr_decay: float = 1.0,
                 decay_after: int = 0, warmup_steps: int = 0, time_budget: float = 0.0) -> None:
        if kind not in ("constant", "step", "plateau", "cosine"):
            raise ValueError(f"unknown schedule {kind!r}")
        self.kind, self.base_lr, self.epochs = kind, lr, epochs
        self.lr_decay, self.decay_after = lr_decay, decay_after
        self.warmup_steps, self.time_budget = warmup_steps, time_budget
        self.factor = 1.0                  # plateau: product of the decays applied so far
        self.best = math.inf               # plateau: best validation loss seen

    @classmethod
    def from_config(cls, cfg) -> "LRSchedule":
        """The schedule of an :class:`~groundup.train.config.LMConfig`."""
        return cls(cfg.schedule, cfg.lr, epochs=cfg.epochs, lr_decay=cfg.lr_decay,
                   decay_after=cfg.decay_after, warmup_steps=cfg.warmup_steps,
                   time_budget=cfg.max_train_seconds)

    def lr(self, epoch: int, progress: float = 0.0) -> float:
        """Learning rate in 0-based ``epoch``, ``progress`` in [0, 1) of the way through it."""
        if self.kind == "step":
            return self.base_lr * self.lr_decay ** max(0, epoch + 1 - self.decay_after)
        if self.kind == "plateau":
            return self.base_lr * self.factor
        if self.kind == "cosine":
            t = min(1.0, (epoch + progress) / self.epochs)
            return self.base_lr * 0.5 * (1.0 + math.cos(math.pi * t))
        return self.base_lr

    def lr_at_fraction(self, fraction: float) -> float:
        """Cosine over a budget measured in something other than epochs (e.g. seconds)."""
        t = min(1.0, max(0.0, fraction))
        return self.base_lr * 0.5 * (1.0 + math.cos(math.pi * t))

    def step_lr(self, step: int, epoch: int, progress: float, seconds: float) -> float:
        """The rate of 0-based training ``step``, in ``epoch`` at ``progress``, after ``seconds``
        of training steps: the schedule (over the time budget for cosine with one), then warm-up."""
        if self.time_budget and self.kind == "cosine":
            lr = self.lr_at_fraction(seconds / self.time_budget)
        else:
            lr = self.lr(epoch, progress)
        if self.warmup_steps:
            lr *= min(1.0, (step + 1) / self.warmup_steps)
        return lr

    def apply(self, optimizer, step: int, epoch: int, progress: float, seconds: float) -> float:
        """Set every parameter group of ``optimizer`` to :meth:`step_lr`; return the rate."""
        lr = self.step_lr(step, epoch, progress, seconds)
        for g in optimizer.param_groups:
            g["lr"] = lr
        return lr

    def on_validation(self, valid_loss: float) -> None:
        if self.kind == "plateau":
            if valid_loss < self.best:
                self.best = valid_loss
            else:
                self.factor *= self.lr_decay

    def state_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "factor": self.factor, "best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("kind") != self.kind:
            raise ValueError(f"schedule state is for {state.get('kind')!r}, not {self.kind!r}")
        self.factor, self.best = float(state["factor"]), float(state["best"])
