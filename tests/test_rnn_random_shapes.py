"""Random shapes and options (hypothesis) against torch.nn with copied weights, including the
edge cases L = 1, B = 1, H = 1 and variable lengths; both loops. Tolerance as in
test_rnn_torch_parity (1e-5, float32)."""
from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence

import groundup.nn as gnn

KINDS = {"rnn_tanh": ("RNN", {"nonlinearity": "tanh"}), "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
         "lstm": ("LSTM", {}), "gru": ("GRU", {})}


@st.composite
def cases(draw):
    L, B = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(1, L), min_size=B, max_size=B)) if draw(st.booleans()) else None
    return dict(kind=draw(st.sampled_from(sorted(KINDS))), L=L, B=B, I=draw(st.integers(1, 5)),
                H=draw(st.integers(1, 5)), layers=draw(st.integers(1, 3)), bi=draw(st.booleans()),
                bias=draw(st.booleans()), fused=draw(st.booleans()), lengths=lengths,
                seed=draw(st.integers(0, 2**16)))


@settings(max_examples=60, deadline=None)
@given(cases())
def test_random_configurations_match_torch(c):
    torch.set_num_threads(1)
    name, extra = KINDS[c["kind"]]
    torch.manual_seed(c["seed"])
    ours = getattr(gnn, name)(c["I"], c["H"], c["layers"], bias=c["bias"], bidirectional=c["bi"], **extra)
    ours.fused = c["fused"]
    ref = getattr(torch.nn, name)(c["I"], c["H"], c["layers"], bias=c["bias"], bidirectional=c["bi"], **extra)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(c["L"], c["B"], c["I"], requires_grad=True)
    if c["lengths"] is None:
        o1, f1 = ours(x)
        o2, f2 = ref(x)
    else:
        lens = torch.tensor(c["lengths"])
        o1, f1 = ours(pack_padded_sequence(x, lens, enforce_sorted=False))
        o2, f2 = ref(pack_padded_sequence(x, lens, enforce_sorted=False))
        o1, o2 = o1.data, o2.data
    f1 = f1 if isinstance(f1, tuple) else (f1,)
    f2 = f2 if isinstance(f2, tuple) else (f2,)
    torch.testing.assert_close(o1, o2, atol=1e-5, rtol=1e-5)
    for a, b in zip(f1, f2):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    w = torch.randn_like(o1)
    g1 = torch.autograd.grad((o1 * w).sum() + sum(s.sum() for s in f1), [x, *ours.parameters()])
    g2 = torch.autograd.grad((o2 * w).sum() + sum(s.sum() for s in f2), [x, *ref.parameters()])
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)

