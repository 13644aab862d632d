"""The pieces of the activations lab: bundled digits, the seed-ensemble MLP (copies that never
interact), LSUV, the dead-unit census and a short training run."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from groundup.lab import activations as lab
from groundup.nn import activations as A


def test_bundled_digits_load():
    X, y = lab.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 1  # counts 0..16 scaled by 1/16
    assert sorted(set(y.tolist())) == list(range(10))
    assert (torch.bincount(torch.from_numpy(y)) >= 170).all()  # ~180 per class


def _copy_forward(model, s, x, activation):
    """Copy s of the ensemble as an ordinary MLP with F.linear and a fresh unit module."""
    unit = A.get(activation)
    h = x
    for i in range(len(model.weights) - 1):
        if len(model.acts[i]) > 1:
            unit = model.acts[i][s]
        h = unit(F.linear(h, model.weights[i][s].T, model.biases[i][s, 0]))
    return F.linear(h, model.weights[-1][s].T, model.biases[-1][s, 0])


def test_ensemble_copies_are_independent_mlps():
    x = torch.rand(5, 64)
    for activation in ("gelu", "swiglu", "prelu"):
        model = lab.make_mlp(activation, seeds=[0, 1, 2])
        y = model(x)                                           # (S, B, 10)
        assert y.shape == (3, 5, 10)
        for s in range(3):
            torch.testing.assert_close(y[s], _copy_forward(model, s, x, activation))
        assert not torch.equal(model.weights[0][0], model.weights[0][1])  # seeds differ
    # the same seed gives the same copy whatever its neighbours
    a = lab.make_mlp("relu", seeds=[7, 8])
    b = lab.make_mlp("relu", seeds=[9, 7])
    torch.testing.assert_close(a.weights[0][0], b.weights[0][1])


def test_comparable_size_for_every_activation():
    def size(name):
        m = lab.make_mlp(name, seeds=[0])
        return sum(p.numel() for p in m.parameters())
    plain = size("relu")
    for name in ("gelu", "swiglu", "prelu", "step"):
        assert abs(size(name) - plain) / plain < 0.1, name


def test_clipping_is_per_copy():
    model = lab.make_mlp("relu", seeds=[0, 1])
    for p in model.parameters():
        p.grad = torch.ones_like(p)
        p.grad[0] *= 100.0                                     # copy 0 has a huge gradient
    small_before = [p.grad[1].clone() for p in model.parameters()]
    norm1 = torch.sqrt(sum(g.pow(2).sum() for g in small_before))
    lab._clip_per_copy(model, max_norm=float(norm1) * 2)       # above copy 1's norm
    for p, g in zip(model.parameters(), small_before):
        assert torch.equal(p.grad[1], g)                       # copy 1 untouched
    norm0 = torch.sqrt(sum(p.grad[0].pow(2).sum() for p in model.parameters()))
    assert abs(norm0.item() - 2 * norm1.item()) < 1e-3 * norm1.item()


def test_lsuv_gives_unit_variance_and_dead_census_counts_units():
    torch.manual_seed(0)
    x = torch.rand(256, 64)
    model = lab.make_mlp("swiglu", seeds=[0, 1])
    lab.lsuv_(model, x)
    zs: list = []
    out = model(x, record=zs)
    for z in zs + [out]:
        torch.testing.assert_close(z.flatten(1).std(1), torch.ones(2), atol=1e-3, rtol=0)
    relu_net = lab.make_mlp("relu", seeds=[0, 1])
    before = lab.dead_fraction(relu_net, x)
    with torch.no_grad():  # kill 5 of the 64 units of copy 1's first layer: bias -100
        relu_net.biases[0][1, 0, :5] = -100.0
    after = lab.dead_fraction(relu_net, x)
    assert after[0] == before[0]                               # copy 0 is unaffected
    assert after[1] >= before[1] + 5 / (3 * 64) - 1e-6 and after[1] < 0.5


def test_one_short_training_run_learns():
    X, y = lab.load_digits()
    data = (torch.from_numpy(X[:1200]), torch.from_numpy(y[:1200]),
            torch.from_numpy(X[1200:]), torch.from_numpy(y[1200:]))
    torch.set_num_threads(1)
    runs = lab.train_seeds("relu", data, seeds=[0, 1], epochs=5)
    for r in runs:
        assert r["finite"] and len(r["losses"]) == 5 and r["losses"][-1] < r["losses"][0]
        assert r["test_acc"] > 0.75  # chance is 0.1; seeds 0 and 1 reach ~0.9
        assert len(r["dead"]) == 6   # ReLU is censused before training and after each epoch
