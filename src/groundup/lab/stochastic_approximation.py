"""Lab: stochastic approximation -- the incremental mean, step-size schedules, Polyak averaging,
Robbins-Monro on a noisy root and Kiefer-Wolfowitz without gradients.

Every curve is the RMS error over many independent runs, vectorised: a stream item (or an
iterate) is a vector with one component per seed, and the problems are componentwise.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Plot, Result, Table

NAME = "stochastic-approximation"
TITLE = "Stochastic approximation: Robbins-Monro step sizes and Polyak averaging"
CLAIM = ("Iterating w <- w - a_k Y_k on noisy observations finds the mean or root; with steps "
         "meeting the Robbins-Monro conditions (a_k = 1/k) the error falls as O(1/sqrt(k)), a "
         "constant step stalls at a variance floor, and Polyak averaging restores the "
         "O(1/sqrt(k)) rate for slowly decaying steps.")
CRITERION = ("Held iff, with slopes of log RMS error against log k fitted for k >= 100: the 1/k step's "
             "slope is within 0.1 of -0.5; the constant step's is within 0.1 of 0 (a floor); the "
             "1/k^0.6 step alone is slower than -0.4 and with Polyak averaging within 0.1 of -0.5. "
             "Otherwise did not hold.")

MU, SIGMA = 5.0, 2.0  # the stream: x_k ~ N(5, 2^2)
# (steps, seeds, Kiefer-Wolfowitz steps) per mode
SIZES = {"quick": (10_000, 400, 2000), "full": (100_000, 2000, 20_000)}


def _curves(step_size, x, ks, burn_in):
    """RMS error over seeds at steps ks, for the raw iterate and its Polyak average (kept as a
    running mean, so memory stays O(seeds) however long the stream)."""
    from ..optim.stochastic_approximation import incremental_mean

    want = {int(k): i for i, k in enumerate(ks)}
    raw, avg = np.empty(len(ks)), np.empty(len(ks))
    w_bar = None
    for k, w in enumerate(incremental_mean(x, step_size=step_size), 1):
        if k > burn_in:
            w_bar = w.copy() if w_bar is None else w_bar + (w - w_bar) / (k - burn_in)
        if k in want:
            raw[want[k]] = np.sqrt(np.mean((w - MU) ** 2))
            avg[want[k]] = np.sqrt(np.mean(((w if w_bar is None else w_bar) - MU) ** 2))
    return raw, avg


def run(out: Path, *, full: bool, seed: int) -> Result:
    from ..optim.sa_schedules import ConstantStep, Harmonic, PowerStep
    from ..optim.stochastic_approximation import (error_decay_slope, incremental_mean,
                                                  kiefer_wolfowitz, robbins_monro)
    from .plotting import plt, save

    n_steps, n_seeds, kw_steps = SIZES["full" if full else "quick"]
    burn_in = 10
    rng = np.random.default_rng(seed)
    ks = np.unique(np.geomspace(1, n_steps, 60).astype(int))
    tail = ks >= 100  # fit slopes where the transient is over

    # 1. The article's example: the running mean of one stream, three ways.
    x1 = rng.normal(MU, SIGMA, size=2000)
    one = {name: np.array(list(incremental_mean(x1, step_size=s)))
           for name, s in (("a_k = 1/k (exact mean)", None), ("a_k = 0.05 (constant)", 0.05),
                           ("a_k = 1/k^0.6", PowerStep(1.0, 0.6)))}
    exact = np.cumsum(x1) / np.arange(1, len(x1) + 1)
    max_dev = float(np.max(np.abs(one["a_k = 1/k (exact mean)"] - exact)))

    fig, ax = plt().subplots(figsize=(7, 4))
    for name, w in one.items():
        ax.plot(np.arange(1, len(w) + 1), w, label=name, lw=1)
    ax.axhline(MU, color="k", ls=":", lw=1, label="true mean 5")
    ax.set(xscale="log", xlabel="k (observations)", ylabel="estimate w_k",
           title="Incremental mean of x ~ N(5, 2^2): w_(k+1) = w_k - a_k (w_k - x_k)")
    ax.legend(fontsize=8)
    plots = [Plot(save(fig, out / "mean_estimation.png"),
                  "One stream of x ~ N(5, 2^2) and three running estimates of its mean against the number "
                  "of observations (log axis). Look for: 1/k (the exact running mean) settling on 5, the "
                  "constant step 0.05 jittering around 5 for ever, 1/k^0.6 in between.")]

    # 2. Error decay for several schedules, with and without averaging (mean problem).
    stream_seed = int(rng.integers(2**32))

    def x():  # the same stream for every schedule, drawn in chunks (memory O(seeds))
        r = np.random.default_rng(stream_seed)
        for start in range(0, n_steps, 5000):
            yield from r.normal(MU, SIGMA, size=(min(5000, n_steps - start), n_seeds))

    schedules = [Harmonic(), PowerStep(1.0, 0.75), PowerStep(1.0, 0.6), ConstantStep(0.05)]
    rows, curves = [], {}
    for s in schedules:
        raw, avg = _curves(s, x(), ks, burn_in)
        curves[s.name] = (raw, avg)
        c = s.check()
        rows.append([s.name, "yes" if c.meets else "no (" + ("RM2" if c.sum_diverges else "RM1") + ")",
                     round(error_decay_slope(raw[tail], ks[tail]), 3),
                     round(error_decay_slope(avg[tail], ks[tail]), 3),
                     float(f"{raw[-1]:.4g}"), float(f"{avg[-1]:.4g}")])
    fig, axes = plt().subplots(1, 2, figsize=(11, 4), sharey=True)
    for name, (raw, avg) in curves.items():
        axes[0].plot(ks, raw, label=name)
        axes[1].plot(ks, avg, label=name)
    for a, t in zip(axes, ("last iterate w_k", f"Polyak average (burn-in {burn_in})")):
        a.plot(ks, SIGMA / np.sqrt(ks), "k:", label="sigma / sqrt(k)")
        a.set(xscale="log", yscale="log", xlabel="k", title=t)
        a.legend(fontsize=8)
    axes[0].set_ylabel(f"RMS error over {n_seeds} seeds")
    plots.append(Plot(save(fig, out / "convergence_loglog.png"),
                      "RMS error over all seeds against k on log-log axes: the last iterate (left) and its "
                      "Polyak average (right), with sigma/sqrt(k) dotted. Look for: lines parallel to the "
                      "dotted one have the O(1/sqrt(k)) rate; the constant step flattens into a floor; on "
                      "the right, averaging brings the slowly decaying steps down onto the dotted line."))

    # 3. Robbins-Monro on a noisy non-linear root, g(w) = w^3 + w - 10 (root 2), one run per seed.
    w_star = 2.0

    def observe(w, r):
        return w ** 3 + w - 10.0 + r.normal(0.0, 1.0, size=w.shape)

    rm_rows, rm_curves = [], {}
    for s, avg in ((Harmonic(0.1), False), (PowerStep(0.1, 0.6), False), (PowerStep(0.1, 0.6), True),
                   (ConstantStep(0.02), False)):
        err = np.empty(len(ks))
        want = {int(k): i for i, k in enumerate(ks)}

        def record(state, avg=avg):
            if state.k in want:
                w = state.w_bar if avg and state.w_bar is not None else state.w
                err[want[state.k]] = np.sqrt(np.mean((w - w_star) ** 2))

        robbins_monro(observe, np.zeros(n_seeds), n_steps, step_size=s, average=avg,
                      burn_in=burn_in, seed=rng, project=lambda w: np.clip(w, -10, 10),
                      callback=record, keep_trajectory=False)
        label = s.name + (" + averaging" if avg else "")
        rm_curves[label] = err
        rm_rows.append([label, round(error_decay_slope(err[tail], ks[tail]), 3), float(f"{err[-1]:.4g}")])
    fig, ax = plt().subplots(figsize=(6, 4))
    for label, err in rm_curves.items():
        ax.plot(ks, err, label=label)
    ax.set(xscale="log", yscale="log", xlabel="k", ylabel="RMS |w_k - w*|",
           title="Robbins-Monro on g(w) = w^3 + w - 10 + noise (root 2)")
    ax.legend(fontsize=8)
    plots.append(Plot(save(fig, out / "robbins_monro_root.png"),
                      "Robbins-Monro on the noisy equation w^3 + w - 10 = 0: RMS distance to the root 2 "
                      "against k (log-log), one line per step-size schedule. Look for: the decaying steps "
                      "falling steadily, the constant step stalling at a floor, and averaging helping "
                      "the 1/k^0.6 step."))

    # 4. Kiefer-Wolfowitz: a noisy 2-d quadratic, values only.
    kw = kiefer_wolfowitz(lambda w, r: (w[0] - 1) ** 2 + 2 * (w[1] + 0.5) ** 2 + r.normal(0, 0.1),
                          np.array([3.0, 2.0]), kw_steps, step_size=PowerStep(0.25, 1.0),
                          average=True, burn_in=100, seed=rng)
    kw_err = float(np.linalg.norm(kw.w - np.array([1.0, -0.5])))

    slope = {r[0]: r for r in rows}
    s_h = slope[Harmonic().name][2]
    s_c = slope[ConstantStep(0.05).name][2]
    s_06, s_06avg = slope[PowerStep(1.0, 0.6).name][2], slope[PowerStep(1.0, 0.6).name][3]
    held = abs(s_h + 0.5) <= 0.1 and abs(s_c) < 0.1 and abs(s_06avg + 0.5) <= 0.1 and s_06 > -0.4
    verdict = (f"{'Held' if held else 'Did not hold'}: 1/k error slope {s_h:+.3f} (target -0.5 +- 0.1); "
               f"constant step slope {s_c:+.3f} (a floor); 1/k^0.6 slope {s_06:+.3f} alone vs "
               f"{s_06avg:+.3f} with Polyak averaging.")
    return Result(
        name=NAME, title=TITLE, claim=CLAIM, verdict=verdict, held=bool(held), criterion=CRITERION,
        summary={"steps": n_steps, "seeds": n_seeds,
                 "mean_1_over_k_max_dev_from_numpy": max_dev,
                 "slope_1_over_k": s_h, "slope_constant": s_c, "slope_k^-0.6": s_06,
                 "slope_k^-0.6_averaged": s_06avg,
                 "constant_floor_predicted": float(SIGMA * np.sqrt(0.05 / 1.95)),
                 "constant_floor_measured": slope[ConstantStep(0.05).name][4],
                 "kiefer_wolfowitz_error": kw_err, "kiefer_wolfowitz_steps": kw_steps},
        tables=[Table(f"Mean of N(5, 2^2): RMS error over {n_seeds} seeds, slopes fitted on "
                      f"log-log for k >= 100 (O(1/sqrt(k)) is -0.5)",
                      ["schedule", "meets RM conditions", "slope (last iterate)",
                       "slope (averaged)", f"RMS error at k={n_steps}", "RMS error averaged"], rows),
                Table("Robbins-Monro on g(w) = w^3 + w - 10 + N(0, 1) (root 2), projected to [-10, 10]",
                      ["schedule", "slope", f"RMS error at k={n_steps}"], rm_rows)],
        plots=plots,
        notes=[f"Incremental mean with 1/k vs numpy's running mean: max deviation {max_dev:.2e}.",
               "A constant step a has the stationary error sigma * sqrt(a / (2 - a)) "
               f"= {SIGMA * np.sqrt(0.05 / 1.95):.3f} for a = 0.05 (an AR(1) process).",
               "Averaging a constant step also converges on this linear problem (the average of "
               "an AR(1) process; Bach & Moulines 2013), but not in general for non-linear g; "
               "averaging the 1/k iterates (already a running mean) overweights early samples and "
               "is slightly worse than the last iterate.",
               f"Kiefer-Wolfowitz (a_k = 0.25/k, c_k = k^(-1/6), averaged) on a noisy quadratic: "
               f"|w - w*| = {kw_err:.3f} after {kw_steps} steps (4 values per step)."],
    )
