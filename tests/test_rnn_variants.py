"""The fused BPTT loops against autograd (gradcheck, float64), the paper's GRU (Cho et al. 2014)
and the layer-normalised LSTM (Ba et al. 2016): hand-checked values, invariants, and agreement
between the sequence layer and its cell."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import groundup.nn as gnn


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)     # tiny tensors: threads only add contention (conftest restores)
from groundup.nn import rnn_fused


# --- fused scans: hand-written BPTT vs autograd ---------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_fused_lstm_gradcheck(bias):
    g = torch.Generator().manual_seed(0)
    L, B, H = 4, 2, 3
    args = [torch.randn(L, B, 4 * H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(B, H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(B, H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(4 * H, H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(4 * H, generator=g, dtype=torch.float64, requires_grad=True) if bias else None]
    assert torch.autograd.gradcheck(rnn_fused._LSTMScan.apply, args)


@pytest.mark.parametrize("bias", [True, False])
def test_fused_gru_gradcheck(bias):
    g = torch.Generator().manual_seed(1)
    L, B, H = 4, 2, 3
    args = [torch.randn(L, B, 3 * H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(B, H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(3 * H, H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(3 * H, generator=g, dtype=torch.float64, requires_grad=True) if bias else None]
    assert torch.autograd.gradcheck(rnn_fused._GRUScan.apply, args)


@pytest.mark.parametrize("relu", [False, True])
def test_fused_elman_gradcheck(relu):
    g = torch.Generator().manual_seed(2)
    L, B, H = 4, 2, 3
    args = [torch.randn(L, B, H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(B, H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(H, H, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(H, generator=g, dtype=torch.float64, requires_grad=True), relu]
    assert torch.autograd.gradcheck(rnn_fused._ElmanScan.apply, args)


# mask (L=4, B=2, 1): row 0 has 3 real steps, row 1 all 4
MASK = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64).unsqueeze(-1)


def test_fused_masked_gradcheck():
    """The masked (variable-length) scans: gradients through kept states and zeroed outputs."""
    g = torch.Generator().manual_seed(4)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True)  # noqa: E731
    L, B, H = 4, 2, 3
    assert torch.autograd.gradcheck(rnn_fused._LSTMScan.apply,
                                    [r(L, B, 4 * H), r(B, H), r(B, H), r(4 * H, H), r(4 * H), MASK])
    assert torch.autograd.gradcheck(rnn_fused._GRUScan.apply,
                                    [r(L, B, 3 * H), r(B, H), r(3 * H, H), r(3 * H), MASK])
    for relu in (False, True):
        assert torch.autograd.gradcheck(rnn_fused._ElmanScan.apply,
                                        [r(L, B, H), r(B, H), r(H, H), r(H), relu, MASK])


@pytest.mark.parametrize("lengths", [None, [6, 2]], ids=["full", "lengths"])
@pytest.mark.parametrize("cls", [gnn.LSTM, gnn.GRU, gnn.RNN])
def test_fused_equals_reference_loop(cls, lengths):
    """Two routes to one answer: the fused loop and the plain autograd loop (float64)."""
    torch.manual_seed(0)
    m = cls(3, 5, num_layers=2, bidirectional=True, dtype=torch.float64)
    x = torch.randn(6, 2, 3, dtype=torch.float64, requires_grad=True)
    res = []
    for fused in (True, False):
        m.fused = fused
        out, _ = m(x, lengths=lengths)
        grads = torch.autograd.grad((out * out.detach().sin()).sum(), [x, *m.parameters()])
        res.append((out, grads))
    torch.testing.assert_close(res[0][0], res[1][0], rtol=1e-12, atol=1e-12)
    for a, b in zip(res[0][1], res[1][1]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


# --- the paper's GRU -------------------------------------------------------------------------
def _one_unit(cell):
    """Set a 1-input, 1-unit GRU: rows r, z, n of W_ih = [1, 2, 3], W_hh = [0.5, -1, 2],
    b_ih = [0, 0, 0.5], b_hh = [0.1, 0.2, -0.3]."""
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor([[1.0], [2.0], [3.0]]))
        cell.weight_hh.copy_(torch.tensor([[0.5], [-1.0], [2.0]]))
        cell.bias_ih.copy_(torch.tensor([0.0, 0.0, 0.5]))
        cell.bias_hh.copy_(torch.tensor([0.1, 0.2, -0.3]))
    return cell


def test_paper_gru_one_unit_by_hand():
    """x = 1, h = 0.5:
    r = sigma(1 + 0.5*0.5 + 0.1) = sigma(1.35) = 0.794130;  z = sigma(2 - 0.5 + 0.2) = sigma(1.7) = 0.845535
    paper: n = tanh(3 + 0.5 + 2*(r*0.5) - 0.3) = tanh(3.994130) = 0.999321
    torch: n = tanh(3 + 0.5 + r*(2*0.5 - 0.3))  = tanh(4.055891) = 0.999400
    h' = (1 - z) n + z h:  paper 0.577128,  torch 0.577140"""
    x, h = torch.tensor([[1.0]]), torch.tensor([[0.5]])
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    r, z = sig(1.35), sig(1.7)
    paper = (1 - z) * math.tanh(3.5 + 2 * r * 0.5 - 0.3) + z * 0.5
    cudnn = (1 - z) * math.tanh(3.5 + r * (2 * 0.5 - 0.3)) + z * 0.5
    assert paper == pytest.approx(0.577128, abs=1e-6) and cudnn == pytest.approx(0.577140, abs=1e-6)
    assert _one_unit(gnn.PaperGRUCell(1, 1))(x, h).item() == pytest.approx(paper, abs=1e-6)
    assert _one_unit(gnn.GRUCell(1, 1))(x, h).item() == pytest.approx(cudnn, abs=1e-6)


def test_paper_gru_equals_torch_gru_when_reset_gate_is_open():
    """With r = 1 the two placements coincide: r*(W h + b) = W (r*h) + b."""
    torch.manual_seed(0)
    ours = gnn.PaperGRU(3, 4, num_layers=2)
    with torch.no_grad():
        for name, p in ours.named_parameters():
            if name.startswith("bias_ih"):
                p[:4] = 60.0                     # sigma(60 + ...) = 1 in float32
    ref = torch.nn.GRU(3, 4, num_layers=2)
    ref.load_state_dict(ours.state_dict())      # same layout: loads unchanged
    x = torch.randn(5, 2, 3)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], rtol=1e-5, atol=1e-6)
    with torch.no_grad():                        # a reset gate that does gate: they differ
        ours.bias_ih_l0[:4] = 0.0
        ref.bias_ih_l0[:4] = 0.0
    assert (ours(x)[0] - ref(x)[0]).abs().max() > 1e-3


def test_paper_gru_layer_equals_its_cell_and_supports_options():
    torch.manual_seed(1)
    layer = gnn.PaperGRU(3, 4, batch_first=True)
    cell = gnn.PaperGRUCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = torch.randn(2, 6, 3)
    out, h = layer(x)
    hc = torch.zeros(2, 4)
    for t in range(6):
        hc = cell(x[:, t], hc)
        torch.testing.assert_close(out[:, t], hc)
    torch.testing.assert_close(h[0], hc)
    out, _ = gnn.PaperGRU(3, 4, bidirectional=True)(x.transpose(0, 1), lengths=[6, 3])
    assert out.shape == (6, 2, 8) and out[3:, 1].abs().max() == 0


# --- layer-normalised LSTM ------------------------------------------------------------------
def _ln_lstm_oracle(cell, x, h, c):
    """Eq. 20-22 written with torch.nn.LayerNorm modules (independent of the module's code)."""
    H = cell.hidden_size
    ln_x, ln_h = torch.nn.LayerNorm(4 * H, bias=False), torch.nn.LayerNorm(4 * H, bias=False)
    ln_c = torch.nn.LayerNorm(H)
    with torch.no_grad():
        ln_x.weight.copy_(cell.gain_ih)
        ln_h.weight.copy_(cell.gain_hh)
        ln_c.weight.copy_(cell.gain_c)
        ln_c.bias.copy_(cell.shift_c)
    a = ln_h(h @ cell.weight_hh.T) + ln_x(x @ cell.weight_ih.T) + cell.bias
    i, f, g, o = a.split(H, dim=-1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * ln_c(c).tanh(), c


def test_ln_lstm_cell_matches_equations():
    torch.manual_seed(0)
    cell = gnn.LayerNormLSTMCell(3, 5)
    with torch.no_grad():                        # non-trivial gains and shift
        for p in (cell.gain_ih, cell.gain_hh, cell.gain_c, cell.shift_c):
            p.uniform_(0.5, 1.5)
    x, h, c = torch.randn(4, 3), torch.randn(4, 5), torch.randn(4, 5)
    got = cell(x, (h, c))
    want = _ln_lstm_oracle(cell, x, h, c)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_ln_lstm_is_invariant_to_weight_scale_and_plain_lstm_is_not():
    torch.manual_seed(0)
    cell = gnn.LayerNormLSTMCell(3, 5, eps=1e-12)
    x, h, c = torch.randn(4, 3), torch.randn(4, 5), torch.randn(4, 5)
    before = cell(x, (h, c))
    plain = gnn.LSTMCell(3, 5)
    plain_before = plain(x, (h, c))
    with torch.no_grad():
        cell.weight_hh.mul_(7.0)
        cell.weight_ih.mul_(0.1)
        plain.weight_hh.mul_(7.0)
        plain.weight_ih.mul_(0.1)
    for a, b in zip(cell(x, (h, c)), before):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert (plain(x, (h, c))[0] - plain_before[0]).abs().max() > 1e-2


def test_ln_lstm_layer_equals_cell_loop_and_trains():
    torch.manual_seed(0)
    layer = gnn.LayerNormLSTM(3, 4, num_layers=2, batch_first=True)
    x = torch.randn(2, 5, 3)
    out, (hn, cn) = layer(x)
    assert out.shape == (2, 5, 4) and hn.shape == (2, 2, 4)
    # layer 0 by hand through its cell
    h = c = torch.zeros(2, 4)
    outs = []
    for t in range(5):
        h, c = layer.cells[0](x[:, t], (h, c))
        outs.append(h)
    h2 = c2 = torch.zeros(2, 4)
    for t in range(5):
        h2, c2 = layer.cells[1](outs[t], (h2, c2))
        torch.testing.assert_close(out[:, t], h2)
    torch.testing.assert_close(cn[1], c2)
    # it learns: 40 Adam steps reduce a regression loss
    target = torch.randn(2, 5, 4).tanh()
    opt = torch.optim.Adam(layer.parameters(), lr=3e-2)
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = F.mse_loss(layer(x)[0], target)
        first = first if first is not None else loss.item()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first
