"""groundup.nn.RNN/LSTM/GRU against torch.nn with copied weights: outputs, final states and
gradients (parameters, input, initial state) to 1e-5 in float32, for every option.

Tolerance: both sides compute the same float32 sums in a different order (oneDNN vs our
matmuls); over L <= 7 steps the differences measured ~1e-7, so 1e-5 leaves room without hiding
a wrong equation (a wrong gate or bias is off by > 1e-2 here)."""
from __future__ import annotations

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import groundup.nn as gnn


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)     # tiny tensors: threads only add contention (conftest restores)

TOL = dict(atol=1e-5, rtol=1e-5)
MODES = {
    "rnn_tanh": (gnn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (gnn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (gnn.LSTM, torch.nn.LSTM, {}),
    "gru": (gnn.GRU, torch.nn.GRU, {}),
}


def make_pair(mode, *, fused=True, seed=0, **kw):
    ours_cls, torch_cls, extra = MODES[mode]
    torch.manual_seed(seed)
    ours = ours_cls(4, 6, **extra, **kw)
    ours.fused = fused
    ref = torch_cls(4, 6, **extra, **kw)
    ref.load_state_dict(ours.state_dict())          # strict: same names and shapes
    return ours, ref


def initial_state(mode, n, B, P=6, H=6, gen=None):
    h = torch.randn(n, B, P, generator=gen, requires_grad=True)
    if mode == "lstm":
        return (h, torch.randn(n, B, H, generator=gen, requires_grad=True))
    return h


def flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def run_and_grads(model, x, hx, weights):
    out, final = model(x, hx)
    out_t = out.data if isinstance(out, torch.nn.utils.rnn.PackedSequence) else out
    loss = (out_t * weights[0][: out_t.numel()].view_as(out_t)).sum()
    for s, w in zip(flat(final), weights[1:]):
        loss = loss + (s * w[: s.numel()].view_as(s)).sum()
    x_t = x.data if isinstance(x, torch.nn.utils.rnn.PackedSequence) else x
    inputs = [x_t] + (flat(hx) if hx is not None else []) + list(model.parameters())
    grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    return out_t, flat(final), grads


def assert_same(ours, ref, x, hx):
    gen = torch.Generator().manual_seed(7)
    weights = [torch.randn(10_000, generator=gen) for _ in range(3)]
    o1, f1, g1 = run_and_grads(ours, x, hx, weights)
    o2, f2, g2 = run_and_grads(ref, x, hx, weights)
    torch.testing.assert_close(o1, o2, **TOL)
    for a, b in zip(f1, f2):
        torch.testing.assert_close(a, b, **TOL)
    names = ["input"] + [f"hx{i}" for i in range(len(flat(hx)) if hx is not None else 0)] + \
        [n for n, _ in ours.named_parameters()]
    for name, a, b in zip(names, g1, g2):
        assert (a is None) == (b is None), name
        if a is not None:
            torch.testing.assert_close(a, b, **TOL, msg=lambda m, name=name: f"grad {name}: {m}")


OPTIONS = list(itertools.product(MODES, [1, 2], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("mode,num_layers,bidirectional,batch_first,with_hx", OPTIONS)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "reference"])
def test_matches_torch(mode, num_layers, bidirectional, batch_first, with_hx, fused):
    ours, ref = make_pair(mode, fused=fused, num_layers=num_layers,
                          bidirectional=bidirectional, batch_first=batch_first)
    gen = torch.Generator().manual_seed(1)
    L, B = 7, 3
    x = torch.randn(*((B, L, 4) if batch_first else (L, B, 4)), generator=gen, requires_grad=True)
    D = 2 if bidirectional else 1
    hx = initial_state(mode, D * num_layers, B, gen=gen) if with_hx else None
    assert_same(ours, ref, x, hx)


@pytest.mark.parametrize("mode", list(MODES))
def test_no_bias_and_unbatched(mode):
    ours, ref = make_pair(mode, bias=False, num_layers=2)
    assert "bias_ih_l0" not in dict(ours.named_parameters())
    x = torch.randn(5, 4, requires_grad=True)       # unbatched (L, I)
    assert_same(ours, ref, x, None)
    hx = initial_state(mode, 2, 1)
    hx = tuple(h.detach()[:, 0].requires_grad_() for h in flat(hx))
    assert_same(ours, ref, x, hx if mode == "lstm" else hx[0])


@pytest.mark.filterwarnings("ignore:LSTM with projections")
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_lstm_proj_size(num_layers, bidirectional):
    ours, ref = make_pair("lstm", proj_size=3, num_layers=num_layers, bidirectional=bidirectional)
    assert ours.weight_hr_l0.shape == (3, 6)
    D = 2 if bidirectional else 1
    x = torch.randn(6, 2, 4, requires_grad=True)
    hx = (torch.randn(D * num_layers, 2, 3, requires_grad=True),
          torch.randn(D * num_layers, 2, 6, requires_grad=True))
    assert_same(ours, ref, x, hx)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "reference"])
@pytest.mark.parametrize("mode,bidirectional,num_layers",
                         list(itertools.product(MODES, [False, True], [1, 2])))
def test_variable_length_packed(mode, bidirectional, num_layers, fused):
    ours, ref = make_pair(mode, fused=fused, bidirectional=bidirectional, num_layers=num_layers)
    lengths = torch.tensor([3, 7, 1, 5])            # unsorted on purpose
    x = torch.randn(7, 4, 4, requires_grad=True)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    D = 2 if bidirectional else 1
    hx = initial_state(mode, D * num_layers, 4)
    assert_same(ours, ref, packed, hx)
    out, _ = ours(packed, hx)
    assert isinstance(out, torch.nn.utils.rnn.PackedSequence)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "reference"])
@pytest.mark.parametrize("mode,bidirectional,batch_first",
                         list(itertools.product(MODES, [False, True], [False, True])))
def test_lengths_argument_equals_torch_packed(mode, bidirectional, batch_first, fused):
    """Beyond torch: padded input + lengths= gives what torch gives for the packed batch, with
    zeros at the padding, and the padding values never matter."""
    ours, ref = make_pair(mode, fused=fused, bidirectional=bidirectional, num_layers=2,
                          batch_first=batch_first)
    lengths = torch.tensor([2, 6, 4])
    x = torch.randn(6, 3, 4)
    if batch_first:
        x = x.transpose(0, 1).contiguous()
    out, final = ours(x, lengths=lengths)
    ref_out, ref_final = ref(pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False))
    ref_out, _ = pad_packed_sequence(ref_out, batch_first=batch_first, total_length=6)
    torch.testing.assert_close(out, ref_out, **TOL)
    for a, b in zip(flat(final), flat(ref_final)):
        torch.testing.assert_close(a, b, **TOL)
    # garbage in the padding changes nothing
    pad = (torch.arange(6).unsqueeze(1) >= lengths.unsqueeze(0))          # (L, B)
    if batch_first:
        pad = pad.t()
    x2 = x.masked_fill(pad.unsqueeze(-1), 1e3)
    out2, final2 = ours(x2, lengths=lengths)
    torch.testing.assert_close(out2, out, rtol=0, atol=0)
    for a, b in zip(flat(final2), flat(final)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("mode", list(MODES))
def test_dropout_between_layers_matches_torch_rng(mode):
    """Dropout draws from the global generator at the same points as torch (after each
    non-final layer), so with the same seed the training-mode outputs agree."""
    ours, ref = make_pair(mode, num_layers=3, dropout=0.5, bidirectional=True)
    x = torch.randn(5, 2, 4)
    torch.manual_seed(123)
    out1, _ = ours(x)
    torch.manual_seed(123)
    out2, _ = ref(x)
    torch.testing.assert_close(out1, out2, **TOL)
    ours.eval()
    ref.eval()
    torch.testing.assert_close(ours(x)[0], ref(x)[0], **TOL)
    ours.train()
    assert not torch.allclose(ours(x)[0], ours.eval()(x)[0])


@pytest.mark.parametrize("mode", list(MODES))
def test_state_dict_both_ways_and_init(mode):
    _, torch_cls, extra = MODES[mode]
    ours_cls = MODES[mode][0]
    ours = ours_cls(5, 8, num_layers=2, bidirectional=True, **extra)
    ref = torch_cls(5, 8, num_layers=2, bidirectional=True, **extra)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
        [(n, p.shape) for n, p in ref.named_parameters()]
    ours.load_state_dict(ref.state_dict())
    ref.load_state_dict(ours.state_dict())
    bound = 1 / 8 ** 0.5
    big = ours_cls(5, 400, **extra)
    for p in big.parameters():            # U(-1/sqrt(H), 1/sqrt(H)) as torch
        assert p.abs().max() <= bound * (8 / 400) ** 0.5 + 1e-7
        assert p.abs().max() > 0.9 * (1 / 400 ** 0.5)


CELLS = [(gnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
         (gnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
         (gnn.LSTMCell, torch.nn.LSTMCell, {}),
         (gnn.GRUCell, torch.nn.GRUCell, {})]


@pytest.mark.parametrize("ours_cls,torch_cls,extra", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
def test_cells_match_torch(ours_cls, torch_cls, extra, batched, with_hx):
    ours = ours_cls(4, 5, **extra)
    ref = torch_cls(4, 5, **extra)
    ref.load_state_dict(ours.state_dict())
    shape = (3, 4) if batched else (4,)
    x = torch.randn(*shape, requires_grad=True)
    hshape = (3, 5) if batched else (5,)
    hx = None
    if with_hx:
        hx = torch.randn(*hshape, requires_grad=True)
        if ours_cls is gnn.LSTMCell:
            hx = (hx, torch.randn(*hshape, requires_grad=True))
    a, b = ours(x, hx), ref(x, hx)
    for u, v in zip(flat(a), flat(b)):
        torch.testing.assert_close(u, v, **TOL)
    ga = torch.autograd.grad(sum(t.sum() * (k + 1) for k, t in enumerate(flat(a))), [x, *ours.parameters()])
    gb = torch.autograd.grad(sum(t.sum() * (k + 1) for k, t in enumerate(flat(b))), [x, *ref.parameters()])
    for u, v in zip(ga, gb):
        torch.testing.assert_close(u, v, **TOL)


@pytest.mark.parametrize("bad,match", [
    (dict(input_size=0, hidden_size=3), "input_size"),
    (dict(input_size=2, hidden_size=-1), "hidden_size"),
    (dict(input_size=2, hidden_size=3, num_layers=0), "num_layers"),
    (dict(input_size=2, hidden_size=3, dropout=1.5), "dropout"),
    (dict(input_size=2, hidden_size=3, proj_size=3), "proj_size"),
])
def test_validation_names_the_value(bad, match):
    with pytest.raises(ValueError, match=match):
        gnn.LSTM(**bad)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        gnn.GRU(2, 3, dropout=0.2)


def test_bad_forward_inputs():
    m = gnn.GRU(4, 6, num_layers=2)
    with pytest.raises(ValueError, match="input size 3"):
        m(torch.randn(5, 2, 3))
    with pytest.raises(ValueError, match=r"\(2, 2, 6\)"):
        m(torch.randn(5, 2, 4), torch.randn(1, 2, 6))
    with pytest.raises(ValueError, match="lengths"):
        m(torch.randn(5, 2, 4), lengths=[6, 1])
    with pytest.raises(ValueError, match="nonlinearity"):
        gnn.RNN(2, 3, nonlinearity="sigmoid")
