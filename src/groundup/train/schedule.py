"""Learning-rate schedules, as pure functions of the run's position plus a small state.

* ``constant`` -- lr.
* ``step``     -- the classic PTB recipe (Zaremba et al. 2014, Section 4.1): full lr for the
  first ``decay_after`` epochs, then multiplied by ``lr_decay`` after every further epoch:
  ``lr_e = lr * lr_decay ** max(0, e - decay_after)`` for epoch e = 1, 2, ... ('small':
  decay 0.5 after 4 epochs; 'medium': 1/1.2 after 6).
* ``plateau``  -- multiply by ``lr_decay`` whenever the validation loss fails to improve
  (PyTorch's word_language_model example divides by 4).
* ``cosine``   -- ``lr * (1 + cos(pi * progress)) / 2`` over the whole run, updated every step
  (progress in epochs, or in seconds of a time budget: ``lr_at_fraction``).
* a linear warm-up (``warmup_steps``) multiplies any of them by ``min(1, step / warmup_steps)``.

The state (for ``plateau``) is saved in checkpoints so a resumed run continues identically.
"""
from __future__ import annotations

import math
from typing import Any


class LRSchedule:
    def __init__(self, kind: str, lr: float, *, epochs: int, lr_decay: float = 1.0,
                 decay_after: int = 0) -> None:
        if kind not in ("constant", "step", "plateau", "cosine"):
            raise ValueError(f"unknown schedule {kind!r}")
        self.kind, self.base_lr, self.epochs = kind, lr, epochs
        self.lr_decay, self.decay_after = lr_decay, decay_after
        self.factor = 1.0                  # plateau: product of the decays applied so far
        self.best = math.inf               # plateau: best validation loss seen

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
