"""Stochastic approximation: incremental mean, Robbins-Monro, Kiefer-Wolfowitz, schedules."""
import numpy as np
import pytest
import torch

from groundup.optim.sa_schedules import (ConstantStep, CustomStep, Harmonic, PowerStep,
                                         as_schedule, check_kiefer_wolfowitz,
                                         check_robbins_monro)
from groundup.optim.stochastic_approximation import (SmallSteps, StableAverage,
                                                     error_decay_slope, incremental_mean,
                                                     kiefer_wolfowitz, polyak_average,
                                                     robbins_monro, sa_iterates, sgd)


# --- schedules and the Robbins-Monro conditions ----------------------------------------------

@pytest.mark.parametrize("schedule, rm1, rm2", [
    (Harmonic(), True, True),              # 1/k: the textbook case
    (PowerStep(0.5, 0.75), True, True),    # Polyak-Juditsky range 1/2 < p <= 1
    (PowerStep(1.0, 0.5), True, False),    # sum 1/k diverges: RM2 fails at the boundary
    (PowerStep(1.0, 2.0), False, True),    # steps too small to travel
    (ConstantStep(0.1), True, False),
])
def test_power_family_conditions_are_analytic(schedule, rm1, rm2):
    c = schedule.check()
    assert (c.sum_diverges, c.sum_squares_converges, c.method) == (rm1, rm2, "analytic")
    assert c.meets == (rm1 and rm2)
    assert ("meets both" in str(c)) == c.meets


def test_custom_schedule_check_is_estimated_from_the_tail():
    c = CustomStep(lambda k: 3.0 / (k + 10) ** 0.7, name="3/(k+10)^0.7").check()
    assert c.method == "estimated" and c.meets
    assert not CustomStep(lambda k: 0.01).check().sum_squares_converges
    assert not CustomStep(lambda k: k ** -1.5).check().sum_diverges


def test_as_schedule_and_validation():
    assert as_schedule(None)(4) == 0.25
    assert as_schedule(0.3)(100) == 0.3
    assert as_schedule(lambda k: 1 / k ** 0.6)(32) == pytest.approx(32 ** -0.6)
    assert check_robbins_monro(None).meets
    np.testing.assert_allclose(PowerStep(2.0, 0.5, k0=3)(np.array([1, 6])), [1.0, 2 / 3])
    for bad in (lambda: PowerStep(c=0.0), lambda: PowerStep(p=-1), lambda: ConstantStep(0),
                lambda: as_schedule("1/k"), lambda: as_schedule(True)):
        with pytest.raises(ValueError):
            bad()


def test_kiefer_wolfowitz_conditions():
    assert check_kiefer_wolfowitz(Harmonic(), PowerStep(1.0, 1 / 6))["meets"]
    # c_k = 1/k^0.5 makes sum a_k^2 / c_k^2 = sum 1/k diverge
    assert not check_kiefer_wolfowitz(Harmonic(), PowerStep(1.0, 0.5))["sum_a2_over_c2_converges"]


# --- the incremental mean --------------------------------------------------------------------

def test_incremental_mean_equals_numpy_mean_to_1e12():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=5000)
    est = np.array(list(incremental_mean(x)))
    ref = np.cumsum(x) / np.arange(1, len(x) + 1)
    np.testing.assert_allclose(est, ref, rtol=0, atol=1e-12)
    assert abs(est[-1] - np.mean(x)) < 1e-12


def test_incremental_mean_vector_and_torch_streams():
    x = np.random.default_rng(1).normal(size=(300, 4))  # 4 independent streams
    est = list(incremental_mean(x))
    np.testing.assert_allclose(est[-1], x.mean(axis=0), atol=1e-12)
    xt = torch.from_numpy(x)
    last = list(incremental_mean(xt))[-1]
    assert isinstance(last, torch.Tensor)
    torch.testing.assert_close(last, xt.mean(0), atol=1e-12, rtol=0)


def test_constant_step_is_an_exponential_moving_average():
    # a = 0.5 from w0 = 0 on 2, 4: w1 = 1, w2 = 1 + 0.5 * (4 - 1) = 2.5
    assert list(incremental_mean([2.0, 4.0], step_size=0.5)) == [1.0, 2.5]


def _rms_error_of_mean(step_size, n_steps, n_seeds, seed=0, ks=None):
    """RMS error over seeds of the incremental-mean estimate of E[x] = 0 at steps ks.

    Seeds are vectorised: the stream item is a vector with one component per seed."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, size=(n_steps, n_seeds))
    ks = set(ks)
    out = {}
    for k, w in enumerate(incremental_mean(x, step_size=step_size), 1):
        if k in ks:
            out[k] = float(np.sqrt(np.mean(w ** 2)))
    return out


def test_mean_error_decays_as_one_over_sqrt_k():
    # 2000 seeds: the RMS error at each k has a relative standard error of about
    # 1/sqrt(2 * 2000) = 1.6 %, so the fitted slope over k = 10 .. 10^4 is within +-0.02
    # of its expectation; the tolerance is +-0.1 around -0.5.
    ks = np.unique(np.geomspace(10, 10_000, 13).astype(int))
    err = _rms_error_of_mean(None, 10_000, 2000, ks=ks)
    slope = error_decay_slope([err[k] for k in ks], ks)
    assert abs(slope + 0.5) < 0.1, slope
    assert abs(slope + 0.5) < 0.03, slope  # the stricter calibrated bound


def test_constant_step_has_a_variance_floor_while_harmonic_converges():
    # Constant a: w is AR(1) with stationary variance a/(2 - a) (unit noise), independent of k.
    a = 0.05
    err_c = _rms_error_of_mean(a, 8000, 1000, seed=1, ks=[4000, 8000])
    err_h = _rms_error_of_mean(None, 8000, 1000, seed=1, ks=[4000, 8000])
    floor = np.sqrt(a / (2 - a))
    for k in (4000, 8000):  # 1000 seeds: relative s.e. of an RMS about 2.2 %, so 10 % is safe
        assert abs(err_c[k] / floor - 1) < 0.1
    assert err_c[8000] > 0.9 * err_c[4000]  # no progress
    assert err_h[8000] == pytest.approx(err_h[4000] / np.sqrt(2), rel=0.1)  # 1/sqrt(k)
    assert err_h[8000] < floor / 10


# --- Robbins-Monro ---------------------------------------------------------------------------

def test_robbins_monro_noisy_linear_root():
    # g(w) = 2 (w - 3) + N(0, 1): root 3
    res = robbins_monro(lambda w, rng: 2 * (w - 3.0) + rng.normal(), 0.0, 20_000, seed=0)
    w, traj = res
    assert isinstance(w, float) and traj.shape == (20_001,)
    assert abs(w - 3.0) < 0.02  # asymptotic s.d. sigma/sqrt(k (2 g' - 1)) ~ 0.004 for a_k = 1/k


def test_robbins_monro_noisy_nonlinear_vector_root():
    # g(w) = w^3 + w - b, componentwise increasing, root w* with w*^3 + w* = b.
    w_star = np.array([-1.0, 0.5, 1.5])
    b = w_star ** 3 + w_star

    def observe(w, rng):
        return w ** 3 + w - b + rng.normal(0, 0.5, size=3)

    res = robbins_monro(observe, np.zeros(3), 20_000, step_size=PowerStep(0.5, 0.7),
                        average=True, burn_in=100, seed=1, project=lambda w: np.clip(w, -5, 5))
    np.testing.assert_allclose(res.w, w_star, atol=0.02)
    assert res.average_trajectory.shape == res.trajectory.shape == (20_001, 3)


def test_robbins_monro_torch_input_gives_torch_output():
    w0 = torch.zeros(2, dtype=torch.float64)
    target = torch.tensor([1.0, -2.0], dtype=torch.float64)

    def observe(w, rng):
        return w - target + torch.from_numpy(rng.normal(size=2))

    res = robbins_monro(observe, w0, 5000, seed=2)
    assert isinstance(res.w, torch.Tensor) and res.trajectory.shape == (5001, 2)
    torch.testing.assert_close(res.w, target, atol=0.05, rtol=0)
    assert torch.equal(w0, torch.zeros(2, dtype=torch.float64))  # the start is not mutated


def test_robbins_monro_is_seeded_and_validates():
    f = lambda w, rng: w - rng.normal()  # noqa: E731
    assert robbins_monro(f, 0.0, 50, seed=3).w == robbins_monro(f, 0.0, 50, seed=3).w
    with pytest.raises(ValueError, match="steps"):
        robbins_monro(f, 0.0, 0)
    with pytest.raises(ValueError, match="burn_in"):
        robbins_monro(f, 0.0, 10, average=True, burn_in=10)
    with pytest.raises(ValueError, match="shape"):
        robbins_monro(lambda w, rng: np.zeros(2), np.zeros(3), 5)


def test_average_equals_post_hoc_polyak_average_of_the_trajectory():
    f = lambda w, rng: 1.5 * w - 1.0 + rng.normal(size=2)  # noqa: E731
    res = robbins_monro(f, np.zeros(2), 500, step_size=PowerStep(1.0, 0.6), average=True,
                        burn_in=50, seed=4)
    post = polyak_average(res.trajectory, burn_in=50)
    np.testing.assert_allclose(res.average_trajectory, post, atol=1e-12)
    np.testing.assert_allclose(res.w, res.trajectory[51:].mean(axis=0), atol=1e-12)
    torch.testing.assert_close(polyak_average(torch.from_numpy(res.trajectory), burn_in=50),
                               torch.from_numpy(post), atol=1e-12, rtol=0)


@pytest.mark.parametrize("step_size, theory", [
    (Harmonic(1.0), 1.0 / 3.0),              # c^2 s^2 / (2 c g' - 1) with c = 1, g' = 2, s = 1
    (Harmonic(0.5), 0.25),                   # the optimal gain c = 1/g' reaches s^2 / g'^2
    (PowerStep(1.0, 0.6), 0.25),             # Polyak-Ruppert: s^2 / g'^2 whatever the step
])
def test_asymptotic_variance_matches_theory(step_size, theory):
    # Robbins-Monro on g(w) = 2 (w - 1) + N(0, 1): k Var(w_k) -> c^2 s^2 / (2 c g' - 1) for
    # a_k = c/k (Chung 1954; Fabian 1968), and k Var(w_bar_k) -> s^2 / g'^2 for the average
    # (Polyak & Juditsky 1992). 3000 independent runs as one vector iterate: the variance
    # estimate has a relative s.e. of sqrt(2/3000) = 2.6 %, so 10 % is about 4 s.e.
    average = step_size.p < 1
    n, burn = 3000, 50
    res = robbins_monro(lambda w, rng: 2.0 * (w - 1.0) + rng.normal(size=w.shape), np.zeros(3000),
                        n, step_size=step_size, average=average, burn_in=burn, seed=9,
                        keep_trajectory=False)
    k = n - burn if average else n
    assert res.trajectory is None
    assert k * np.var(res.w) == pytest.approx(theory, rel=0.10)
    assert abs(np.mean(res.w) - 1.0) < 4 * np.sqrt(theory / k / 3000)  # unbiased to 4 s.e.


def test_averaging_rescues_a_slowly_decaying_step():
    # a_k = 1/k^0.6 alone has error ~ k^-0.3; its average reaches ~ k^-0.5 (Polyak-Juditsky).
    errs_raw, errs_avg = [], []
    for seed in range(20):
        res = robbins_monro(lambda w, rng: w - 2.0 + rng.normal(), 0.0, 4000,
                            step_size=PowerStep(1.0, 0.6), average=True, burn_in=10, seed=seed)
        errs_raw.append(res.trajectory[-1] - 2.0)
        errs_avg.append(res.w - 2.0)
    rms_raw, rms_avg = np.sqrt(np.mean(np.square(errs_raw))), np.sqrt(np.mean(np.square(errs_avg)))
    assert rms_avg < 0.5 * rms_raw  # expected ratio about 0.016 / 0.06


def test_sgd_is_robbins_monro_on_the_gradient():
    # f(w) = E 0.5 ||w - x||^2, x ~ N(m, I): grad sample w - x; minimum at m.
    m = np.array([0.5, -1.0])
    res = sgd(lambda w, rng: w - (m + rng.normal(size=2)), np.zeros(2), 4000, seed=5)
    np.testing.assert_allclose(res.w, m, atol=0.05)


def test_kiefer_wolfowitz_minimises_a_noisy_quadratic_without_gradients():
    # f(w) = (w0 - 1)^2 + 2 (w1 + 0.5)^2, observed with N(0, 0.1^2) noise.
    opt = np.array([1.0, -0.5])

    def noisy_f(w, rng):
        return (w[0] - 1) ** 2 + 2 * (w[1] + 0.5) ** 2 + rng.normal(0, 0.1)

    res = kiefer_wolfowitz(noisy_f, np.array([3.0, 2.0]), 3000, step_size=PowerStep(0.25, 1.0),
                           average=True, burn_in=100, seed=6)
    np.testing.assert_allclose(res.w, opt, atol=0.05)


def test_stopping_rules_and_iterator():
    f = lambda w, rng: w - 1.0 + 0.1 * rng.normal()  # noqa: E731
    res = robbins_monro(f, 0.0, 100_000, stop=SmallSteps(1e-3, patience=5), seed=7)
    assert res.stopped_by == "small_steps" and res.steps < 100_000
    res = robbins_monro(f, 0.0, 100_000, average=True, stop=StableAverage(1e-4, 200), seed=7)
    assert res.stopped_by == "stable_average" and abs(res.w - 1.0) < 0.05
    it = sa_iterates(f, 0.0, seed=7)
    states = [next(it) for _ in range(3)]
    assert [s.k for s in states] == [1, 2, 3] and states[0].a == 1.0
    assert states[2].n_avg == 3 and states[2].w_bar == pytest.approx(
        np.mean([s.w for s in states]))


def test_kiefer_wolfowitz_with_a_torch_iterate():
    def noisy_f(w, rng):  # f(w) = ||w - (0.5, 0.5)||^2 + N(0, 0.05^2), torch in, float out
        return float(((w - 0.5) ** 2).sum()) + rng.normal(0, 0.05)

    res = kiefer_wolfowitz(noisy_f, torch.zeros(2, dtype=torch.float64), 1000,
                           step_size=PowerStep(0.5, 1.0), seed=8)
    assert isinstance(res.w, torch.Tensor)
    torch.testing.assert_close(res.w, torch.full((2,), 0.5, dtype=torch.float64), atol=0.05, rtol=0)
