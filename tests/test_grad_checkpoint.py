"""Gradient checkpointing: with and without checkpointing give the same bits; torch's agrees.

Everything runs on CPU in float32/float64 with fixed seeds, so the comparisons are exact
(``torch.equal``): a checkpointed segment reruns the same kernels on the same inputs with the same
random-number state, hence the same bits. torch.utils.checkpoint is a test-only oracle.
"""
import gc
import weakref

import pytest
import torch
import torch.utils.checkpoint as tcp

from groundup.errors import ConfigError, TrainingError
from groundup.train.grad_checkpoint import checkpoint, checkpoint_sequential
from groundup.train.grad_checkpoint import sequential_segments

MECHANISMS = [False, True]  # use_reentrant


def make_net(n_blocks=6, width=16, p=0.3):
    torch.manual_seed(0)
    layers = []
    for _ in range(n_blocks):
        layers += [torch.nn.Linear(width, width), torch.nn.ReLU(), torch.nn.Dropout(p),
                   torch.nn.LayerNorm(width)]
    return torch.nn.Sequential(*layers)


def run_step(net, x, forward, seed=1):
    """One forward/backward from a fixed RNG state; returns output, grads and the next draw."""
    net.zero_grad(set_to_none=True)
    x = x.detach().requires_grad_(True)
    torch.manual_seed(seed)
    y = forward(net, x)
    y.square().sum().backward()
    return y.detach(), x.grad, [p.grad for p in net.parameters()], torch.rand(4)


def assert_same(a, b):
    ya, gxa, gpa, ra = a
    yb, gxb, gpb, rb = b
    assert torch.equal(ya, yb)
    assert torch.equal(gxa, gxb)
    assert all(torch.equal(p, q) for p, q in zip(gpa, gpb))
    assert torch.equal(ra, rb), "backward must not move the caller's RNG stream"


X = torch.randn(5, 16, generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("reentrant", MECHANISMS)
@pytest.mark.parametrize("segments", [1, 2, 3, 5, 24, None])
def test_sequential_bit_exact_with_dropout(reentrant, segments):
    net = make_net()
    plain = run_step(net, X, lambda m, x: m(x))
    ours = run_step(net, X, lambda m, x: checkpoint_sequential(m, segments, x,
                                                              use_reentrant=reentrant))
    assert_same(plain, ours)


@pytest.mark.parametrize("reentrant", MECHANISMS)
def test_equals_torch_checkpoint(reentrant):
    net = make_net()

    def with_(cp):
        def forward(m, x):
            h = cp(m[:8], x, use_reentrant=reentrant)
            return cp(m[8:], h, use_reentrant=reentrant)
        return forward

    assert_same(run_step(net, X, with_(tcp.checkpoint)), run_step(net, X, with_(checkpoint)))
    assert_same(run_step(net, X, lambda m, x: tcp.checkpoint_sequential(m, 4, x, use_reentrant=reentrant)),
                run_step(net, X, lambda m, x: checkpoint_sequential(m, 4, x, use_reentrant=reentrant)))


def test_without_rng_preservation_dropout_masks_differ():
    # The control: without replaying the RNG state the recomputed mask is a fresh draw, so the
    # gradient differs (p=0.5 on 80 units: identical masks have probability 2^-80).
    net = make_net(n_blocks=1, p=0.5)
    plain = run_step(net, X, lambda m, x: m(x))
    ours = run_step(net, X, lambda m, x: checkpoint(m, x, preserve_rng_state=False))
    assert torch.equal(plain[0], ours[0])
    assert not torch.equal(plain[2][0], ours[2][0])


@pytest.mark.parametrize("reentrant", MECHANISMS)
def test_several_inputs_outputs_and_non_tensor_args(reentrant):
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 4).double()
    a = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    c = torch.randn(3, 4, dtype=torch.float64)  # does not require grad

    def f(a, scale, b, c, mode):
        h = torch.tanh(lin(a) * scale + b * c)
        return (h.sin(), h.exp()) if mode == "two" else h

    def grads(fn):
        for t in (a, b, lin.weight, lin.bias):
            t.grad = None
        u, v = fn(a, 0.5, b, c, "two")
        (u.sum() + (v * v).sum()).backward()
        return [t.grad.clone() for t in (a, b, lin.weight, lin.bias)]

    ref = grads(f)
    got = grads(lambda *args: checkpoint(f, *args, use_reentrant=reentrant))
    assert all(torch.equal(p, q) for p, q in zip(ref, got))


def test_parameters_get_gradients_when_no_input_requires_grad():
    # The hooks mechanism keeps the ordinary graph, so parameters are reached even when the
    # input is data (the reentrant Function cannot: torch warns, so do we).
    net = make_net(n_blocks=2, p=0.0)
    ref = run_step(net, X, lambda m, x: m(x.detach()))
    got = run_step(net, X, lambda m, x: checkpoint(m, x.detach()))
    assert all(torch.equal(p, q) for p, q in zip(ref[2], got[2]))
    with pytest.warns(UserWarning, match="no tensor input requires grad"):
        checkpoint(net, X, use_reentrant=True)


def test_keyword_arguments_and_autograd_grad():
    w = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
    x = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)

    def f(x, *, power):
        return (x @ w).pow(power).sum()

    ref = torch.autograd.grad(f(x, power=3), (x, w))
    got = torch.autograd.grad(checkpoint(f, x, power=3), (x, w))
    assert all(torch.equal(p, q) for p, q in zip(ref, got))
    with pytest.raises(ConfigError, match="power"):
        checkpoint(f, x, power=3, use_reentrant=True)


@pytest.mark.parametrize("reentrant", MECHANISMS)
@pytest.mark.parametrize("segments", [1, 2, 3, 4, 8])
def test_each_segment_recomputed_exactly_once(reentrant, segments):
    n = 8
    calls = [0] * n

    class Counted(torch.nn.Module):
        def __init__(self, i):
            super().__init__()
            self.i, self.lin = i, torch.nn.Linear(6, 6)

        def forward(self, x):
            calls[self.i] += 1
            return torch.relu(self.lin(x))

    net = torch.nn.Sequential(*[Counted(i) for i in range(n)])
    x = torch.randn(3, 6, requires_grad=True)
    y = checkpoint_sequential(net, segments, x, use_reentrant=reentrant)
    assert calls == [1] * n
    y.sum().backward()
    plan = sequential_segments(n, segments)
    expected = [1] * n
    for start, end, ckpt in plan:
        for i in range(start, end):
            expected[i] += int(ckpt)
    assert calls == expected, plan


def test_segment_activations_are_dropped_in_forward():
    kept = {}

    def f(x):
        h = x * 2.0  # saved by sin() below: the activation checkpointing must not keep
        kept["h"] = weakref.ref(h)
        return h.sin()

    x = torch.randn(100, requires_grad=True)
    y_plain = f(x)
    gc.collect()
    assert kept["h"]() is not None  # control: autograd keeps it without checkpointing
    del y_plain
    y = checkpoint(f, x)
    gc.collect()
    assert kept["h"]() is None
    y.sum().backward()
    assert torch.equal(x.grad, 2.0 * torch.cos(2.0 * x.detach()))


def test_retain_graph_recomputes_again_and_doubles_gradients():
    calls = []
    w = torch.randn(5, requires_grad=True)

    def f(x):
        calls.append(1)
        return (x * w).tanh()

    y = checkpoint(f, torch.randn(5)).sum()
    y.backward(retain_graph=True)
    g1 = w.grad.clone()
    y.backward()
    assert len(calls) == 3  # forward, first backward, second backward
    assert torch.equal(w.grad, g1 + g1)


def test_changed_control_flow_is_an_error():
    state = {"first": True}

    def f(x):
        if state.pop("first", False):
            return x.sin().cos()
        return x.sin()

    y = checkpoint(f, torch.randn(3, requires_grad=True))
    with pytest.raises(TrainingError, match="same ops"):
        y.sum().backward()


def test_no_grad_just_runs():
    with torch.no_grad():
        y = checkpoint(torch.sin, torch.ones(2, requires_grad=True))
    assert not y.requires_grad and torch.equal(y, torch.ones(2).sin())


@pytest.mark.parametrize("bad", [0, 9, -1])
def test_bad_segments_name_the_value(bad):
    net = make_net(n_blocks=2)  # 8 layers
    with pytest.raises(ConfigError, match=rf"1\.\.8.*got {bad}"):
        checkpoint_sequential(net, bad, X)


def test_segments_must_be_integer():
    with pytest.raises(ConfigError, match="2.5"):
        sequential_segments(8, 2.5)


def test_default_segments_is_sqrt_n():
    assert len(sequential_segments(64, None)) == 8
    assert len(sequential_segments(10, None)) == 3
    # torch's partition: 10 // 3 = 3 layers per checkpointed segment, the rest plain
    assert sequential_segments(10, 3) == [(0, 3, True), (3, 6, True), (6, 10, False)]


def test_double_backward_and_nested_checkpoints():
    torch.manual_seed(0)
    w = torch.randn(5, 5, dtype=torch.float64, requires_grad=True)
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)

    def f(v):
        return torch.tanh(v @ w).sin()

    # gradient of a gradient (create_graph): the recomputation runs inside a graph-building
    # backward, and the second derivative still matches
    g_ref = torch.autograd.grad(f(x).sum(), x, create_graph=True)[0]
    g = torch.autograd.grad(checkpoint(f, x).sum(), x, create_graph=True)[0]
    assert torch.equal(g, g_ref)
    assert torch.equal(torch.autograd.grad(g.pow(2).sum(), w)[0],
                       torch.autograd.grad(g_ref.pow(2).sum(), w)[0])
    # a checkpoint inside a checkpoint
    ref = torch.autograd.grad((f(x) * 2).cos().sum(), (x, w))
    got = torch.autograd.grad(checkpoint(lambda v: checkpoint(f, v) * 2, x).cos().sum(), (x, w))
    assert all(torch.equal(a, b) for a, b in zip(ref, got))
