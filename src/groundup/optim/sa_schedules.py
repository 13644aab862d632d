"""Step-size schedules for stochastic approximation, and the Robbins-Monro conditions.

Notation: k = 1, 2, ... the iteration, a_k the step size (gain) used at step k.

Robbins & Monro (1951, "A stochastic approximation method", Ann. Math. Stat. 22) prove that the
iteration w_(k+1) = w_k - a_k Y_k converges (in L2, and with probability one under mild extra
assumptions) to the root of g(w) = E[Y | w] when

    (RM1)  sum_k a_k   = infinity   -- the steps can travel any distance, and
    (RM2)  sum_k a_k^2 < infinity   -- the noise they inject has finite total variance.

For the power family a_k = c / (k + k0)^p (c > 0, k0 >= 0) the p-series test gives the answer
in closed form: RM1 holds iff p <= 1, RM2 holds iff p > 1/2, so exactly 1/2 < p <= 1 meets
both. A constant step (p = 0) meets RM1 only; it does not converge but hovers around the root
with a variance floor of order a. For any other callable the check is an *estimate*: the tail
exponent p is fitted on a log grid of k and the same p-series rule applied (and said so).

Kiefer & Wolfowitz (1952) need, with a finite-difference width c_k -> 0:
sum a_k = inf, sum a_k c_k < inf and sum a_k^2 / c_k^2 < inf; :func:`check_kiefer_wolfowitz`
tests that for two power schedules.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class ConditionCheck:
    """Which of the Robbins-Monro conditions a schedule meets, and how we know."""

    schedule: str
    sum_diverges: bool        # RM1: sum a_k = infinity
    sum_squares_converges: bool  # RM2: sum a_k^2 < infinity
    method: str               # "analytic" (closed form) or "estimated" (fitted tail exponent)
    explanation: str

    @property
    def meets(self) -> bool:
        return self.sum_diverges and self.sum_squares_converges

    def __str__(self) -> str:
        verdict = "meets both" if self.meets else "fails"
        return f"{self.schedule}: {verdict} Robbins-Monro conditions ({self.method}): {self.explanation}"


def _power_check(name: str, p: float, method: str) -> ConditionCheck:
    # p-series: sum k^-q converges iff q > 1; applied with q = p for RM1 and q = 2p for RM2.
    rm1 = p <= 1.0
    rm2 = 2.0 * p > 1.0
    parts = [
        f"sum a_k {'diverges' if rm1 else 'converges'} (p = {p:g} {'<=' if rm1 else '>'} 1)",
        f"sum a_k^2 {'converges' if rm2 else 'diverges'} (2p = {2 * p:g} {'>' if rm2 else '<='} 1)",
    ]
    return ConditionCheck(name, rm1, rm2, method, "; ".join(parts))


class StepSize:
    """A schedule k -> a_k (k >= 1). Call it with an int or an integer numpy array."""

    name = "step size"

    def __call__(self, k):
        raise NotImplementedError

    def check(self) -> ConditionCheck:
        """Which of the Robbins-Monro conditions (RM1, RM2) this schedule meets."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class PowerStep(StepSize):
    """a_k = c / (k + k0)^p: the family of Robbins & Monro (p = 1) and of Polyak & Juditsky
    (1/2 < p < 1, used with averaging). ``k0`` delays the decay without changing the tail."""

    def __init__(self, c: float = 1.0, p: float = 1.0, k0: float = 0.0):
        if not (isinstance(c, (int, float)) and c > 0 and math.isfinite(c)):
            raise ValueError(f"c must be a finite number > 0, got {c!r}")
        if not (isinstance(p, (int, float)) and p >= 0 and math.isfinite(p)):
            raise ValueError(f"p must be a finite number >= 0, got {p!r}")
        if not (isinstance(k0, (int, float)) and k0 >= 0 and math.isfinite(k0)):
            raise ValueError(f"k0 must be a finite number >= 0, got {k0!r}")
        self.c, self.p, self.k0 = float(c), float(p), float(k0)
        base = f"(k + {self.k0:g})" if self.k0 else "k"
        self.name = f"{self.c:g}/{base}" + ("" if self.p == 1 else f"^{self.p:g}")

    def __call__(self, k):
        if isinstance(k, np.ndarray):
            return self.c / (k.astype(np.float64) + self.k0) ** self.p
        return self.c / (float(k) + self.k0) ** self.p

    def check(self) -> ConditionCheck:
        return _power_check(self.name, self.p, "analytic")


class Harmonic(PowerStep):
    """a_k = c / k: with c = 1 the incremental mean is the exact running mean."""

    def __init__(self, c: float = 1.0, k0: float = 0.0):
        super().__init__(c=c, p=1.0, k0=k0)


class ConstantStep(StepSize):
    """a_k = a: tracks a moving target, but never converges to a fixed root (variance floor).

    For the mean of i.i.d. noise with variance s^2 the stationary error variance of
    w <- w - a (w - x) is a s^2 / (2 - a) (an AR(1) process), which does not shrink with k.
    """

    def __init__(self, a: float):
        if not (isinstance(a, (int, float)) and a > 0 and math.isfinite(a)):
            raise ValueError(f"constant step must be a finite number > 0, got {a!r}")
        self.a = float(a)
        self.name = f"constant {self.a:g}"

    def __call__(self, k):
        if isinstance(k, np.ndarray):
            return np.full(k.shape, self.a)
        return self.a

    def check(self) -> ConditionCheck:
        return ConditionCheck(self.name, True, False, "analytic",
                              "sum a_k diverges; sum a_k^2 diverges (constant terms)")


class CustomStep(StepSize):
    """Any callable k -> a_k > 0. Its condition check is an estimate from the tail exponent."""

    def __init__(self, fn: Callable[[int], float], name: str | None = None):
        if not callable(fn):
            raise ValueError(f"step size must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "custom")

    def __call__(self, k):
        if isinstance(k, np.ndarray):
            return np.array([float(self.fn(int(j))) for j in k.ravel()]).reshape(k.shape)
        return float(self.fn(int(k)))

    def check(self, k_lo: int = 10**4, k_hi: int = 10**8) -> ConditionCheck:
        """Fit log a_k = const - p log k on [k_lo, k_hi] and apply the p-series rule.

        A heuristic: a schedule whose tail is not a power law (say 1/(k log k), which fails RM1
        although p -> 1) can be misjudged near the boundaries p = 1/2 and p = 1.
        """
        ks = np.unique(np.geomspace(k_lo, k_hi, 41).astype(np.int64))
        a = np.array([float(self.fn(int(j))) for j in ks])
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"step size {self.name} must be finite and > 0 for large k")
        slope = np.polyfit(np.log(ks), np.log(a), 1)[0]
        p = max(0.0, -float(slope))
        c = _power_check(self.name, round(p, 3), "estimated")
        return ConditionCheck(c.schedule, c.sum_diverges, c.sum_squares_converges, c.method,
                              f"fitted tail a_k ~ k^-{p:.3f} on k in [{k_lo:g}, {k_hi:g}]; "
                              + c.explanation)


def as_schedule(step_size) -> StepSize:
    """None -> 1/k; a positive number -> constant; a callable -> CustomStep; a StepSize as is."""
    if step_size is None:
        return Harmonic()
    if isinstance(step_size, StepSize):
        return step_size
    if isinstance(step_size, bool):
        raise ValueError(f"step_size must be None, a number, a callable or a StepSize, got {step_size!r}")
    if isinstance(step_size, (int, float)):
        return ConstantStep(float(step_size))
    if callable(step_size):
        return CustomStep(step_size)
    raise ValueError(f"step_size must be None, a number, a callable or a StepSize, got {step_size!r}")


def check_robbins_monro(step_size) -> ConditionCheck:
    """Say which of sum a_k = inf and sum a_k^2 < inf ``step_size`` meets (see module doc)."""
    return as_schedule(step_size).check()


def check_kiefer_wolfowitz(step_size: PowerStep, width: PowerStep) -> dict[str, bool]:
    """Kiefer & Wolfowitz (1952) conditions for a_k = a/k^p and c_k = c/k^q (analytic).

    c_k -> 0 (q > 0); sum a_k = inf (p <= 1); sum a_k c_k < inf (p + q > 1);
    sum a_k^2 / c_k^2 < inf (2p - 2q > 1). The classic choice p = 1, q = 1/6 meets all four.
    """
    for name, s in (("step_size", step_size), ("width", width)):
        if not isinstance(s, PowerStep):
            raise ValueError(f"{name} must be a PowerStep for the analytic check, got {s!r}")
    p, q = step_size.p, width.p
    out = {"width_to_zero": q > 0, "sum_a_diverges": p <= 1, "sum_ac_converges": p + q > 1,
           "sum_a2_over_c2_converges": 2 * p - 2 * q > 1}
    out["meets"] = all(out.values())
    return out
