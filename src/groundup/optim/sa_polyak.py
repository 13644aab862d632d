"""Polyak-Ruppert averaging as a wrapper around any torch optimizer (and any LR schedule).

Notation: theta_k the parameters after the k-th ``step()``, b the burn-in,
theta_bar_k = (1 / (k - b)) * sum_(j = b+1..k) theta_j for k > b (Polyak & Juditsky 1992).

``torch.optim.ASGD`` averages too, but its step size is fixed to eta_k = lr / (1 + lambd lr k)^alpha
and it is its own optimizer. Here averaging is independent of the update: wrap SGD, Adam or
anything else, attach the LR scheduler to the *inner* optimizer as usual, and the average is a
running mean of whatever iterates that produces. Matches ASGD's ``ax`` exactly for
SGD(lr) vs ASGD(lr, lambd=0, alpha=0, t0=t0) when burn_in = t0 + 1 (ASGD's first averaged
iterate is the one after step t0 + 2; tested in ``tests/test_sa_polyak.py``).
"""
from __future__ import annotations

import contextlib

import torch


class PolyakAveraging:
    """Wrap ``optimizer``; after each step update theta_bar <- theta_bar + (theta - theta_bar) / n.

    Duck-types the torch.optim interface (``step(closure)``, ``zero_grad``, ``param_groups``,
    ``state_dict``/``load_state_dict``). Use :meth:`averaged` to evaluate with theta_bar, and
    :meth:`copy_to_params` to keep it.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, burn_in: int = 0):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ValueError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        if not isinstance(burn_in, int) or isinstance(burn_in, bool) or burn_in < 0:
            raise ValueError(f"burn_in must be an int >= 0, got {burn_in!r}")
        self.optimizer = optimizer
        self.burn_in = burn_in
        self.steps = 0
        self.n_averaged = 0
        self._params = [p for g in optimizer.param_groups for p in g["params"]]
        self._avg: list[torch.Tensor] | None = None

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @property
    def state(self):
        return self.optimizer.state

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        loss = self.optimizer.step(closure)
        self.steps += 1
        if self.steps > self.burn_in:
            self.n_averaged += 1
            with torch.no_grad():
                if self._avg is None:
                    self._avg = [p.detach().clone() for p in self._params]
                else:
                    for a, p in zip(self._avg, self._params):
                        a.add_(p.detach() - a, alpha=1.0 / self.n_averaged)
        return loss

    def averaged_params(self) -> list[torch.Tensor]:
        """theta_bar (the current parameters while the burn-in lasts)."""
        if self._avg is None:
            return [p.detach().clone() for p in self._params]
        return [a.clone() for a in self._avg]

    @contextlib.contextmanager
    def averaged(self):
        """Temporarily load theta_bar into the parameters (e.g. to evaluate), then restore."""
        saved = [p.detach().clone() for p in self._params]
        self.copy_to_params()
        try:
            yield self
        finally:
            with torch.no_grad():
                for p, s in zip(self._params, saved):
                    p.copy_(s)

    def copy_to_params(self) -> None:
        with torch.no_grad():
            for p, a in zip(self._params, self.averaged_params()):
                p.copy_(a)

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "burn_in": self.burn_in,
                "steps": self.steps, "n_averaged": self.n_averaged,
                "averages": None if self._avg is None else [a.clone() for a in self._avg]}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.burn_in, self.steps, self.n_averaged = state["burn_in"], state["steps"], state["n_averaged"]
        avg = state["averages"]
        self._avg = None if avg is None else [a.clone().to(p) for a, p in zip(avg, self._params)]
