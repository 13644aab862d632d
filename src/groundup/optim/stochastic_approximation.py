"""Stochastic approximation: noisy root finding and optimisation without a closed form.

Notation: k = 1, 2, ... the iteration; w_k the iterate (a scalar, a numpy array or a torch
tensor); a_k the step size (:mod:`groundup.optim.sa_schedules`); Y_k a noisy observation with
E[Y_k | w_k] = g(w_k); c_k a finite-difference width; w_bar_k the Polyak-Ruppert average.

* Incremental mean (the article's example): w_(k+1) = w_k - a_k (w_k - x_k). With a_k = 1/k it
  is exactly the running mean of x_1..x_k; it is Robbins-Monro on g(w) = w - E[x].
* Robbins & Monro (1951): w_(k+1) = w_k - a_k Y_k finds the root of an increasing g
  (decreasing g: pass -Y). Converges when sum a_k = inf and sum a_k^2 < inf.
* Kiefer & Wolfowitz (1952): minimise f from noisy values F only, with the central difference
  Y_k,i = (F(w_k + c_k e_i) - F(w_k - c_k e_i)) / (2 c_k) as the observation of grad f.
* SGD is Robbins-Monro on g = grad f with Y_k a stochastic gradient (:func:`sgd`).
* Polyak & Juditsky (1992), Ruppert (1988): the average w_bar_k of the iterates after a burn-in
  reaches the optimal O(1/sqrt(k)) rate even with slowly decaying steps (1/2 < p < 1); here it is
  a running mean over any schedule, so it composes with every step size.

``observe(w, rng)`` gets the current iterate and a ``numpy.random.Generator`` (seeded from
``seed``) and returns Y (same shape as w; numpy, torch or a float). Stopping rules are callables
``rule(state) -> bool`` (:class:`SmallSteps`, :class:`StableAverage`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .sa_schedules import PowerStep, StepSize, as_schedule


# --- numpy / torch neutral helpers ------------------------------------------------------------

def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def _as_float(x, like=None):
    """x as a float64 numpy array, or as a floating torch tensor (matching ``like`` if given)."""
    if like is not None and _is_torch(like):
        import torch

        return torch.as_tensor(x, dtype=like.dtype, device=like.device)
    if _is_torch(x):
        return x.detach().clone() if x.is_floating_point() else x.detach().double()
    return np.array(x, dtype=np.float64)


def _norm(x) -> float:
    if _is_torch(x):
        import torch

        return float(torch.linalg.vector_norm(x))
    return float(np.linalg.norm(np.ravel(x)))


def _stack(xs: list):
    if xs and _is_torch(xs[0]):
        import torch

        return torch.stack(xs)
    return np.stack(xs)


def _finish(w, scalar_input: bool):
    return float(w) if scalar_input else w


# --- the incremental mean ---------------------------------------------------------------------

def incremental_mean(stream: Iterable, step_size=None, w0=None) -> Iterator:
    """Yield w_k after each x_k of ``stream``: w_(k+1) = w_k - a_k (w_k - x_k).

    ``step_size=None`` is a_k = 1/k, which gives exactly the running mean (a_1 = 1 forgets w0);
    a constant a gives an exponential moving average. Items may be floats, numpy arrays (a
    vector of independent streams, e.g. one per seed) or torch tensors.
    """
    schedule = as_schedule(step_size)
    w = None
    for k, x in enumerate(stream, 1):
        x = _as_float(x)
        if w is None:
            w = x * 0.0 if w0 is None else _as_float(w0, like=x) + x * 0.0
        a_k = schedule(k)
        w = w - a_k * (w - x)  # w_(k+1) = w_k - a_k (w_k - x_k)
        yield float(w) if np.ndim(w) == 0 and not _is_torch(w) else w


# --- the iteration ----------------------------------------------------------------------------

@dataclass
class SAState:
    """One step of a stochastic-approximation run (what stopping rules and callbacks see)."""

    k: int              # steps taken so far (w is w_k after k updates)
    w: Any              # current iterate
    a: float            # the step size used for this update
    y: Any              # the observation Y used for this update
    step_norm: float    # ||w_k - w_(k-1)||
    w_bar: Any = None   # Polyak-Ruppert average of w_(burn_in+1) .. w_k, None before
    n_avg: int = 0      # how many iterates the average holds


def sa_iterates(observe: Callable, w0, *, step_size=None, seed=None, burn_in: int = 0,
                project: Callable | None = None, _observe_k: bool = False) -> Iterator[SAState]:
    """An endless iterator of Robbins-Monro states: w_(k+1) = w_k - a_k Y_k.

    The Polyak-Ruppert average (over the iterates after the first ``burn_in``) is kept alongside
    at the cost of one running mean. ``project`` (optional) maps each iterate back into a
    feasible set (the projected Robbins-Monro of Kushner & Yin).
    """
    if not isinstance(burn_in, int) or isinstance(burn_in, bool) or burn_in < 0:
        raise ValueError(f"burn_in must be an int >= 0, got {burn_in!r}")
    schedule: StepSize = as_schedule(step_size)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    w = _as_float(w0)
    w_bar, n_avg = None, 0
    k = 0
    while True:
        k += 1
        y = observe(w, rng, k) if _observe_k else observe(w, rng)
        y = _as_float(y, like=w)
        if y.shape != w.shape:
            raise ValueError(f"observe returned shape {tuple(y.shape)}, the iterate has "
                             f"shape {tuple(w.shape)}")
        a_k = schedule(k)
        w_new = w - a_k * y  # w_(k+1) = w_k - a_k Y_k
        if project is not None:
            w_new = _as_float(project(w_new), like=w)
        step_norm = _norm(w_new - w)
        w = w_new
        if k > burn_in:
            n_avg += 1
            w_bar = w * 1.0 if w_bar is None else w_bar + (w - w_bar) / n_avg  # running mean
        yield SAState(k=k, w=w, a=float(a_k), y=y, step_norm=step_norm, w_bar=w_bar, n_avg=n_avg)


@dataclass
class SAResult:
    """What :func:`robbins_monro` returns. Unpacks as ``w, trajectory = result``.

    ``w`` is the final iterate, or the Polyak-Ruppert average when ``average=True``;
    ``trajectory`` holds w_0 .. w_K (shape (K+1, *w.shape)); ``average_trajectory`` the running
    averages (row k = w_bar_k, equal to w_k before the burn-in ends) when ``average=True``.
    """

    w: Any
    trajectory: Any
    average_trajectory: Any = None
    steps: int = 0
    stopped_by: str | None = None  # name of the stopping rule that fired, None if it ran out

    def __iter__(self):
        return iter((self.w, self.trajectory))


def _run(observe, w0, steps, *, step_size, average, seed, burn_in, stop, project, callback,
         keep_trajectory=True, observe_k=False) -> SAResult:
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if average and burn_in >= steps:
        raise ValueError(f"burn_in ({burn_in}) must be smaller than steps ({steps})")
    rules = [] if stop is None else list(stop) if isinstance(stop, (list, tuple)) else [stop]
    scalar_input = np.ndim(w0) == 0 and not _is_torch(w0)
    start = _as_float(w0)
    traj, avg_traj = [start], [start]
    state, stopped_by = None, None
    for state in sa_iterates(observe, w0, step_size=step_size, seed=seed, burn_in=burn_in,
                             project=project, _observe_k=observe_k):
        if keep_trajectory:
            traj.append(state.w)
            if average:
                avg_traj.append(state.w if state.w_bar is None else state.w_bar)
        if callback is not None:
            callback(state)
        fired = [r for r in rules if r(state)]
        if fired:
            stopped_by = getattr(fired[0], "name", type(fired[0]).__name__)
            break
        if state.k >= steps:
            break
    w = state.w_bar if average and state.w_bar is not None else state.w
    return SAResult(w=_finish(w, scalar_input),
                    trajectory=_stack(traj) if keep_trajectory else None,
                    average_trajectory=_stack(avg_traj) if average and keep_trajectory else None,
                    steps=state.k, stopped_by=stopped_by)


def robbins_monro(observe: Callable, w0, steps: int, step_size=None, average: bool = False,
                  seed=None, *, burn_in: int = 0, stop=None, project: Callable | None = None,
                  callback: Callable | None = None, keep_trajectory: bool = True) -> SAResult:
    """Find the root of g(w) = E[observe(w, rng)] by w_(k+1) = w_k - a_k Y_k (Robbins & Monro
    1951, eq. 3 with M(x) - alpha as g).

    Args:
        observe: ``observe(w, rng) -> Y``, a noisy g(w); g must increase through its root
            (for a decreasing g return -Y).
        w0: start, float / numpy array / torch tensor; the result has the same kind.
        steps: maximum number of updates.
        step_size: None (1/k), a number (constant), a callable k -> a_k or a StepSize.
        average: return the Polyak-Ruppert average of the iterates after ``burn_in``.
        seed: int, None or a numpy Generator, handed to ``observe`` as ``rng``.
        stop: a stopping rule or a list of them (``rule(state) -> bool``).
        project: optional map back into the feasible set after each step.
        callback: called with each :class:`SAState`.
        keep_trajectory: False stores no trajectory (long runs; record what you need in
            ``callback``), and ``trajectory`` is None.
    """
    return _run(observe, w0, steps, step_size=step_size, average=average, seed=seed,
                burn_in=burn_in, stop=stop, project=project, callback=callback,
                keep_trajectory=keep_trajectory)


def sgd(stochastic_gradient: Callable, w0, steps: int, step_size=None, average: bool = False,
        seed=None, **kwargs) -> SAResult:
    """Stochastic gradient descent as Robbins-Monro on g(w) = grad f(w).

    ``stochastic_gradient(w, rng)`` returns an unbiased estimate of grad f(w) (one sample or a
    minibatch); the update w_(k+1) = w_k - a_k grad f(w_k; xi_k) is then literally the
    Robbins-Monro step, so the same step-size conditions and averaging apply.
    """
    return robbins_monro(stochastic_gradient, w0, steps, step_size=step_size, average=average,
                         seed=seed, **kwargs)


def kiefer_wolfowitz(observe: Callable, w0, steps: int, step_size=None, width=None,
                     average: bool = False, seed=None, *, burn_in: int = 0, stop=None,
                     project: Callable | None = None, callback: Callable | None = None,
                     keep_trajectory: bool = True) -> SAResult:
    """Minimise f from noisy values only (Kiefer & Wolfowitz 1952), gradient-free.

    ``observe(w, rng)`` returns a noisy f(w). Each step spends 2d observations on the central
    difference Y_k,i = (F(w + c_k e_i) - F(w - c_k e_i)) / (2 c_k) and moves w_(k+1) = w_k - a_k Y_k.
    Defaults: a_k = 1/k and c_k = k^(-1/6), which meet the Kiefer-Wolfowitz conditions
    (:func:`groundup.optim.sa_schedules.check_kiefer_wolfowitz`).
    """
    widths: StepSize = PowerStep(1.0, 1.0 / 6.0) if width is None else as_schedule(width)

    def observe_gradient(w, rng, k):
        c_k = widths(k)
        flat = w.reshape(-1)
        grad = flat * 0.0
        for i in range(flat.shape[0]):
            e = flat * 0.0
            e[i] = c_k
            up = float(observe((flat + e).reshape(w.shape), rng))
            down = float(observe((flat - e).reshape(w.shape), rng))
            grad[i] = (up - down) / (2.0 * c_k)
        return grad.reshape(w.shape)

    return _run(observe_gradient, w0, steps, step_size=step_size, average=average, seed=seed,
                burn_in=burn_in, stop=stop, project=project, callback=callback,
                keep_trajectory=keep_trajectory, observe_k=True)


# --- averaging and stopping -------------------------------------------------------------------

def polyak_average(trajectory, burn_in: int = 0):
    """Running Polyak-Ruppert averages of a trajectory w_0 .. w_K (rows).

    Row k of the result is the mean of w_(burn_in+1) .. w_k for k > burn_in and w_k itself
    before; it works on any trajectory, whatever schedule produced it (numpy or torch).
    """
    if not isinstance(burn_in, int) or isinstance(burn_in, bool) or burn_in < 0:
        raise ValueError(f"burn_in must be an int >= 0, got {burn_in!r}")
    if burn_in + 1 >= len(trajectory):
        raise ValueError(f"burn_in ({burn_in}) leaves nothing to average in a trajectory of "
                         f"{len(trajectory)} rows")
    if _is_torch(trajectory):
        import torch

        t = trajectory.clone()
        tail = trajectory[burn_in + 1:]
        n = torch.arange(1, len(tail) + 1, dtype=t.dtype).reshape(-1, *([1] * (t.dim() - 1)))
        t[burn_in + 1:] = torch.cumsum(tail, 0) / n
        return t
    t = np.array(trajectory, dtype=np.float64)
    tail = t[burn_in + 1:]
    n = np.arange(1, len(tail) + 1, dtype=np.float64).reshape(-1, *([1] * (t.ndim - 1)))
    t[burn_in + 1:] = np.cumsum(tail, axis=0) / n
    return t


class SmallSteps:
    """Stop when ||w_k - w_(k-1)|| < tol for ``patience`` consecutive steps.

    With a decaying step this always fires eventually, so it bounds the work rather than
    certifying accuracy: the remaining error is of order sigma * sqrt(a_k), not tol.
    """

    name = "small_steps"

    def __init__(self, tol: float, patience: int = 10):
        if not tol > 0:
            raise ValueError(f"tol must be > 0, got {tol!r}")
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an int >= 1, got {patience!r}")
        self.tol, self.patience, self._run = float(tol), patience, 0

    def __call__(self, state: SAState) -> bool:
        self._run = self._run + 1 if state.step_norm < self.tol else 0
        return self._run >= self.patience


class StableAverage:
    """Stop when the Polyak average moved less than ``tol`` over the last ``window`` steps."""

    name = "stable_average"

    def __init__(self, tol: float, window: int = 100):
        if not tol > 0:
            raise ValueError(f"tol must be > 0, got {tol!r}")
        if not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an int >= 1, got {window!r}")
        self.tol, self.window = float(tol), window
        self._mark: tuple[int, Any] | None = None

    def __call__(self, state: SAState) -> bool:
        if state.w_bar is None:
            return False
        if self._mark is None:
            self._mark = (state.k, state.w_bar * 1.0)
            return False
        k0, mark = self._mark
        if state.k - k0 < self.window:
            return False
        moved = _norm(state.w_bar - mark)
        self._mark = (state.k, state.w_bar * 1.0)
        return moved < self.tol


def error_decay_slope(errors: np.ndarray, ks: Sequence[int]) -> float:
    """Least-squares slope of log(error) on log(k): -0.5 for an O(1/sqrt(k)) estimator."""
    errors = np.asarray(errors, dtype=np.float64)
    ks = np.asarray(ks, dtype=np.float64)
    if errors.shape != ks.shape or np.any(errors <= 0):
        raise ValueError("errors must be positive and match ks in shape")
    return float(np.polyfit(np.log(ks), np.log(errors), 1)[0])
