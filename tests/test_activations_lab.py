"""The pieces of the activations lab: bundled digits, the shared MLP, LSUV, the dead-unit census."""
from __future__ import annotations

import torch

from groundup.lab import activations as lab


def test_bundled_digits_load():
    X, y = lab.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 1  # counts 0..16 scaled by 1/16
    assert sorted(set(y.tolist())) == list(range(10))
    assert (torch.bincount(torch.from_numpy(y)) >= 170).all()  # ~180 per class


def test_same_network_for_every_activation_and_comparable_size():
    plain = sum(p.numel() for p in lab.make_mlp("relu").parameters())
    for name in ("gelu", "swiglu", "prelu", "step"):
        n = sum(p.numel() for p in lab.make_mlp(name).parameters())
        assert abs(n - plain) / plain < 0.1, (name, n, plain)


def test_lsuv_gives_unit_variance_and_dead_census_counts_units():
    torch.manual_seed(0)
    x = torch.rand(256, 64)
    model = lab.make_mlp("swiglu")
    lab.lsuv_(model, x)
    for i, m in enumerate(model):
        if isinstance(m, torch.nn.Linear):
            assert abs(model[:i + 1](x).std().item() - 1) < 1e-3
    relu_net = lab.make_mlp("relu")
    with torch.no_grad():  # kill 5 of the 64 units of the first layer: bias -100
        relu_net[0].bias[:5] = -100.0
    frac = lab._dead_fraction(relu_net, x, gated=False)
    assert frac >= 5 / (3 * 64) and frac < 0.5


def test_one_short_training_run_learns():
    X, y = lab.load_digits()
    data = (torch.from_numpy(X[:1200]), torch.from_numpy(y[:1200]),
            torch.from_numpy(X[1200:]), torch.from_numpy(y[1200:]))
    torch.set_num_threads(1)
    r = lab.train_one("relu", data, seed=0, epochs=5)
    assert r["finite"] and len(r["losses"]) == 5 and r["losses"][-1] < r["losses"][0]
    assert r["test_acc"] > 0.75  # chance is 0.1; seeds 0, 1, 2 reach 0.84, 0.91, 0.89
