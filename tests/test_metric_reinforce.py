"""REINFORCE is unbiased on toy problems with a known gradient; MRT raises BLEU on a toy."""
import itertools

import pytest
import torch

from groundup.train.bleu import sentence_bleu
from groundup.train.metric_losses import (MovingAverageBaseline, hard_fbeta, minimum_risk_loss,
                                          reinforce_loss)

N = 20_000  # samples per estimate


def _check_unbiased(estimate, per_sample, exact, n_se=4.5):
    """|mean - exact| <= n_se standard errors for every component.

    With ~12-20 components and n_se = 4.5 the chance of a false alarm is below 1e-4 (normal
    tails, CLT at N = 20 000); a biased estimator with a bias of even 2 % of the gradient fails.
    """
    se = per_sample.std(0) / per_sample.shape[0] ** 0.5
    z = (estimate - exact).abs() / se.clamp_min(1e-12)
    assert float(z.max()) < n_se, (estimate, exact, z)
    torch.testing.assert_close(per_sample.mean(0), estimate, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("baseline", ["none", "mean", "greedy", 0.5, "moving"])
def test_sample_level_reinforce_is_unbiased(baseline):
    # Three examples, four classes, reward table r[i, a] in [1, 2]; J = mean_i sum_a p_ia r_ia.
    g = torch.Generator().manual_seed(0)
    theta = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    r = 1 + torch.rand(3, 4, generator=g, dtype=torch.float64)
    reward_fn = lambda a: r[torch.arange(3), a]  # noqa: E731
    exact, = torch.autograd.grad((torch.softmax(theta, -1) * r).sum(-1).mean(), theta)
    if baseline == "moving":
        baseline = MovingAverageBaseline(0.9)
        baseline.value = 1.4  # as after warm-up; the value used never sees the current samples
    loss, d = reinforce_loss(theta, reward_fn, baseline=baseline, num_samples=N,
                             generator=torch.Generator().manual_seed(1), return_details=True)
    est = -torch.autograd.grad(loss, theta)[0]
    # per-sample estimates: (R - b) (onehot(a) - p) / B for each row (score function of softmax)
    p = torch.softmax(theta.detach(), -1)
    onehot = torch.nn.functional.one_hot(d["actions"], 4).double()  # (S, B, C)
    per = ((d["rewards"] - d["baseline"])[..., None] * (onehot - p)) / 3  # (S, B, C)
    _check_unbiased(est, per, exact)


def test_batch_level_reinforce_with_f1_reward_is_unbiased():
    # Bernoulli policy on 4 examples, reward = F1 of the whole sampled labelling. The exact
    # expected F1 is a sum over the 16 labellings, so its gradient is known exactly.
    g = torch.Generator().manual_seed(2)
    theta = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1, 0, 1, 0])
    yd = y.double()

    def f1(a):  # 2 TP / (#predicted + #positive), fast form of the hard F1
        a = a.double()
        return 2 * (a * yd).sum() / (a.sum() + yd.sum())

    assert all(abs(float(f1(torch.tensor(a))) - hard_fbeta(torch.tensor(a), y, 2)) < 1e-12
               for a in itertools.product([0, 1], repeat=4))
    q = torch.sigmoid(theta)
    expected = sum(torch.prod(torch.where(torch.tensor(a) == 1, q, 1 - q)) * f1(torch.tensor(a))
                   for a in itertools.product([0, 1], repeat=4))
    exact, = torch.autograd.grad(expected, theta)
    for baseline in ("none", "greedy", "mean"):
        loss, d = reinforce_loss(theta, f1, baseline=baseline, num_samples=N, level="batch",
                                 generator=torch.Generator().manual_seed(3), return_details=True)
        est = -torch.autograd.grad(loss, theta)[0]
        # d/dtheta log Bernoulli(a; sigmoid(theta)) = a - q, per example
        per = (d["rewards"] - d["baseline"])[:, None] * (d["actions"].double() - q.detach())
        _check_unbiased(est, per, exact)


def test_a_baseline_reduces_variance():
    g = torch.Generator().manual_seed(4)
    theta = torch.randn(3, 4, generator=g, dtype=torch.float64)
    r = 1 + torch.rand(3, 4, generator=g, dtype=torch.float64)
    p = torch.softmax(theta, -1)
    var = {}
    for baseline in ("none", "mean"):
        _, d = reinforce_loss(theta, lambda a: r[torch.arange(3), a], baseline=baseline,
                              num_samples=4000, generator=torch.Generator().manual_seed(5),
                              return_details=True)
        onehot = torch.nn.functional.one_hot(d["actions"], 4).double()
        per = (d["rewards"] - d["baseline"])[..., None] * (onehot - p)
        var[baseline] = float(per.var(0).sum())
    assert var["mean"] < 0.2 * var["none"]  # rewards ~1.5 +- 0.3: the baseline removes most


def test_moving_average_baseline_uses_the_previous_value():
    b = MovingAverageBaseline(0.5)
    assert b(torch.tensor([2.0])) == 0.0 and b.value == 2.0
    assert b(torch.tensor([4.0])) == 2.0 and b.value == 3.0


def test_reinforce_validation():
    logits = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="num_samples >= 2"):
        reinforce_loss(logits, lambda a: a.float(), baseline="mean")
    with pytest.raises(ValueError, match="shape"):
        reinforce_loss(logits, lambda a: a.float().sum(), level="sample")
    with pytest.raises(ValueError, match="level"):
        reinforce_loss(logits, lambda a: a.float(), level="token")
    with pytest.raises(ValueError, match="baseline"):
        reinforce_loss(logits, lambda a: a.float(), baseline="critic")


def test_minimum_risk_training_raises_bleu_on_a_toy_sequence_model():
    # A "model" of independent per-position logits (L = 6 positions, V = 8 words) learns to say
    # the reference by minimum-risk training with a smoothed sentence-BLEU reward.
    torch.manual_seed(0)
    ref = [3, 1, 4, 1, 5, 2]
    logits = torch.zeros(6, 8, requires_grad=True)
    opt = torch.optim.Adam([logits], lr=0.1)
    g = torch.Generator().manual_seed(6)

    def expected_bleu(n=200):
        s = torch.multinomial(torch.softmax(logits.detach(), -1), n, replacement=True, generator=g).T
        return sum(sentence_bleu(c.tolist(), ref, smooth="method1") for c in s) / n

    before = expected_bleu()
    for _ in range(60):
        k = 16
        cand = torch.multinomial(torch.softmax(logits.detach(), -1), k, replacement=True, generator=g).T
        logp = torch.log_softmax(logits, -1).gather(1, cand.T).T.sum(-1)  # (K,)
        rewards = torch.tensor([sentence_bleu(c.tolist(), ref, smooth="method1") for c in cand])
        loss = minimum_risk_loss(logp[None], rewards[None], alpha=0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = expected_bleu()
    assert before < 0.1 and after > 0.6, (before, after)


@pytest.mark.parametrize("baseline", ["none", "greedy"])
def test_sample_level_bernoulli_reinforce_is_unbiased(baseline):
    # (B,) logits: a Bernoulli policy per example; reward r[i, a_i]; J = mean_i E[r[i, a_i]].
    g = torch.Generator().manual_seed(7)
    theta = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)
    r = torch.rand(4, 2, generator=g, dtype=torch.float64)
    q = torch.sigmoid(theta)
    exact, = torch.autograd.grad(((1 - q) * r[:, 0] + q * r[:, 1]).mean(), theta)
    loss, d = reinforce_loss(theta, lambda a: r[torch.arange(4), a], baseline=baseline,
                             num_samples=N, generator=torch.Generator().manual_seed(8),
                             return_details=True)
    est = -torch.autograd.grad(loss, theta)[0]
    per = (d["rewards"] - d["baseline"]) * (d["actions"].double() - q.detach()) / 4  # (S, B)
    _check_unbiased(est, per, exact)
