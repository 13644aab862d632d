"""Polyak averaging wrapper vs torch.optim.ASGD, and SGD == Robbins-Monro step for step."""
import numpy as np
import pytest
import torch

from groundup.optim.sa_polyak import PolyakAveraging
from groundup.optim.sa_schedules import PowerStep
from groundup.optim.stochastic_approximation import polyak_average, robbins_monro


def _noisy_quadratic_grads(n, d, seed):
    """Samples x_k; loss_k(w) = 0.5 ||w - x_k||^2 has gradient w - x_k."""
    return torch.from_numpy(np.random.default_rng(seed).normal(1.0, 1.0, size=(n, d)))


@pytest.mark.parametrize("t0", [0, 5])
def test_polyak_wrapper_matches_asgd_average(t0):
    x = _noisy_quadratic_grads(60, 3, seed=0)
    w1 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    w2 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    ours = PolyakAveraging(torch.optim.SGD([w1], lr=0.1), burn_in=t0 + 1)
    # ASGD keeps eta and mu as tensors of the default dtype; float64 makes them exact enough
    # for a 1e-12 comparison (float32 would put eta = 0.1 off by 1.5e-9).
    old_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        asgd = torch.optim.ASGD([w2], lr=0.1, lambd=0.0, alpha=0.0, t0=t0)
        for xk in x:
            for w, opt in ((w1, ours), (w2, asgd)):
                opt.zero_grad()
                (0.5 * ((w - xk) ** 2).sum()).backward()
                opt.step()
    finally:
        torch.set_default_dtype(old_dtype)
    torch.testing.assert_close(w1, w2, atol=1e-12, rtol=0)
    torch.testing.assert_close(ours.averaged_params()[0], asgd.state[w2]["ax"], atol=1e-12, rtol=0)


def test_polyak_wrapper_composes_with_an_lr_schedule_and_matches_robbins_monro():
    # SGD with lr_k = 0.5 / k^0.6 (a LambdaLR on the inner optimizer) + averaging after 20 steps
    # must equal robbins_monro(..., step_size=PowerStep(0.5, 0.6), average=True, burn_in=20)
    # fed the same samples: the torch update is literally the Robbins-Monro step on the gradient.
    n, burn = 200, 20
    x = _noisy_quadratic_grads(n, 2, seed=1)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    inner = torch.optim.SGD([w], lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(inner, lambda e: 0.5 / (e + 1) ** 0.6)
    opt = PolyakAveraging(inner, burn_in=burn)
    traj = [w.detach().clone()]
    for xk in x:
        opt.zero_grad()
        (0.5 * ((w - xk) ** 2).sum()).backward()
        opt.step()
        sched.step()
        traj.append(w.detach().clone())

    samples = iter(x.numpy())
    res = robbins_monro(lambda v, rng: v - next(samples), np.zeros(2), n,
                        step_size=PowerStep(0.5, 0.6), average=True, burn_in=burn)
    np.testing.assert_allclose(torch.stack(traj).numpy(), res.trajectory, atol=1e-12)
    np.testing.assert_allclose(opt.averaged_params()[0].numpy(), res.w, atol=1e-12)
    np.testing.assert_allclose(polyak_average(res.trajectory, burn)[-1], res.w, atol=1e-12)


def test_averaged_context_restores_params_and_state_dict_round_trip():
    w = torch.nn.Parameter(torch.zeros(2))
    opt = PolyakAveraging(torch.optim.SGD([w], lr=0.5))
    for target in (torch.tensor([2.0, 0.0]), torch.tensor([0.0, 2.0])):
        opt.zero_grad()
        (0.5 * ((w - target) ** 2).sum()).backward()
        opt.step()
    # w1 = (1, 0); w2 = w1 - 0.5 (w1 - (0, 2)) = (0.5, 1); average (0.75, 0.5)
    current = w.detach().clone()
    with opt.averaged():
        torch.testing.assert_close(w.detach(), torch.tensor([0.75, 0.5]))
    torch.testing.assert_close(w.detach(), current)
    w_b = torch.nn.Parameter(torch.zeros(2))
    other = PolyakAveraging(torch.optim.SGD([w_b], lr=0.5))
    other.load_state_dict(opt.state_dict())
    torch.testing.assert_close(other.averaged_params()[0], torch.tensor([0.75, 0.5]))
    assert other.n_averaged == 2
    with pytest.raises(ValueError, match="burn_in"):
        PolyakAveraging(torch.optim.SGD([w], lr=0.1), burn_in=-1)
