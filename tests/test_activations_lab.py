"""The pieces of the activations lab: bundled digits, the seed-ensemble MLP (copies that never
interact), LSUV, the dead-unit census and a short training run."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from groundup.lab import activations as lab
from groundup.nn import activations as A

torch.set_num_threads(1)  # small matrices; a second OpenMP thread spin-waits on a busy machine


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


# --- the redesigned parts: gradient through depth, dead units, the FFN comparison -------------

import pytest  # noqa: E402


def test_true_step_passes_exactly_zero_gradient_below_the_top_layer():
    torch.manual_seed(0)
    x, y = torch.rand(32, 64), torch.randint(0, 10, (32,))
    norms = lab.grad_norms_through_depth("step", x, y, seeds=[0], depth=4)     # (5,)
    assert (norms[:4] == 0).all() and norms[4] > 0


def test_sigmoid_gradient_vanishes_through_depth_and_relu_does_not():
    # backprop multiplies by W^T diag(f'(z)) per layer: sigmoid' <= 1/4, so after LSUV (which
    # only rescales W) 8 layers shrink the gradient by orders of magnitude; ReLU keeps its scale
    torch.manual_seed(0)
    x, y = torch.rand(256, 64), torch.randint(0, 10, (256,))
    sig = lab.grad_norms_through_depth("sigmoid", x, y, seeds=[0, 1], depth=8)
    relu = lab.grad_norms_through_depth("relu", x, y, seeds=[0, 1], depth=8)
    assert sig[0] / sig[7] < 1e-3
    assert 0.1 < relu[0] / relu[7] < 10


def test_dead_census_by_derivative():
    x = torch.rand(128, 64)
    for name, can_die in (("leaky_relu", False), ("gelu", True), ("silu", True)):
        net = lab.make_mlp(name, seeds=[0])
        before = lab.dead_fraction(net, x)[0]
        with torch.no_grad():
            net.biases[0][0, 0, :6] = -100.0        # 6 of the 192 hidden units far below 0
        after = lab.dead_fraction(net, x)[0]
        assert after == pytest.approx(before + (6 / 192 if can_die else 0)), name


@pytest.mark.parametrize("preset", ["quick", "full"])
def test_ffn_variants_have_equal_parameter_counts(preset):
    cfg = lab.PRESETS[preset]
    counts = {a: lab.ffn_params(lab.make_lm(a, 100, cfg)) for a in lab.FFN_UNITS}
    ref = counts["relu"]
    assert all(abs(c - ref) / ref < 0.01 for c in counts.values()), counts
    assert lab.ffn_hidden("swiglu", cfg) < lab.ffn_hidden("relu", cfg)   # 2/3 of the width


def test_one_tiny_lm_run_gives_a_finite_perplexity():
    cfg = lab.ActivationsLabConfig(d_model=16, n_heads=2, n_layers=1, d_ff=64, lm_T=8,
                                   lm_batch=4, lm_steps=3)
    stream = torch.randint(0, 20, (400,), generator=torch.Generator().manual_seed(0))
    r = lab.train_lm("swiglu", (stream, stream[:100], 20), cfg, seed=0)
    assert 1 < r["ppl"] < 100 and r["ffn_params"] == lab.ffn_params(lab.make_lm("swiglu", 20, cfg))


def test_kendall_tau_by_hand():
    assert lab.kendall_tau([1, 2, 3], [10, 20, 30]) == 1.0
    assert lab.kendall_tau([1, 2, 3], [30, 20, 10]) == -1.0
    assert lab.kendall_tau([1, 2, 3], [10, 30, 20]) == pytest.approx(1 / 3)


def _figures(sig=1e-6, tanh=1e-3, relu=1.0, dead_relu=0.2, gated=90.0, sd=1.0):
    return {
        "grad_ratio_first_over_last": {"sigmoid": sig, "tanh": tanh, "relu": relu, "gelu": 1.0,
                                       "silu": 1.0},
        "step_grad_below_top": 0.0,
        "dead_fraction_high_lr": {"relu": dead_relu, "leaky_relu": 0.0, "gelu": 0.01, "silu": 0.0},
        "dead_fraction_relu_normal_lr": 0.05,
        "ffn_val_ppl": {"relu": 100.0, "gelu": 99.0, "silu": 99.5, "geglu": gated, "swiglu": gated},
        "ffn_val_ppl_sd": {a: sd for a in lab.FFN_UNITS},
        "ffn_order_tau_vs_shazeer": 0.8,
    }


def test_verdict_held_and_not_held():
    held, sentence = lab.verdict(_figures())
    assert held is True and sentence.startswith("Held")
    for bad in (dict(tanh=0.5), dict(relu=0.01), dict(dead_relu=0.01), dict(gated=98.5),
                dict(sd=20.0)):
        held, sentence = lab.verdict(_figures(**bad))
        assert held is False and sentence.startswith("Did not hold"), bad


def test_full_preset_is_larger_than_quick_where_the_claims_need_it():
    quick, full = lab.PRESETS["quick"], lab.PRESETS["full"]
    assert full.lm_seeds >= 5 > quick.lm_seeds and full.depth_seeds > quick.depth_seeds
    assert full.dead_seeds > quick.dead_seeds and full.dead_epochs > quick.dead_epochs
    tokens = lambda c: c.lm_steps * c.lm_batch * c.lm_T  # noqa: E731
    assert tokens(full) >= 4 * tokens(quick) and full.lm_T > quick.lm_T
    # the same model: the comparison is of FFN activations, not of sizes
    assert (full.d_model, full.n_layers, full.d_ff) == (quick.d_model, quick.n_layers, quick.d_ff)
    assert full.lm_train_tokens == 0 and full.lm_eval_tokens > quick.lm_eval_tokens
