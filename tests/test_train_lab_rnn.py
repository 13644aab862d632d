"""The lab's gradient-through-time probe: checked against the layer and the Elman Jacobian."""
import torch

from groundup.lab.rnn import gradient_through_time
from test_train_engine import rnn_lm


def _grad_of_last_via_layer(model, x):
    e = model.encoder(x[:, :-1])
    h, _ = model.rnn(e)
    h.retain_grad()
    torch.nn.functional.cross_entropy(model.decoder(h[:, -1]), x[:, -1]).backward()
    return h, h.grad[:, -1]                                   # (B, T, H), (B, H)


def test_last_step_matches_the_layer_for_every_kind():
    x = torch.randint(0, 40, (5, 13))
    for kind in ("rnn", "lstm", "gru"):
        torch.manual_seed(0)
        m = rnn_lm(kind, 40, 6, 7, 1, init_range=0.3)
        g = gradient_through_time(m, x)
        _, gT = _grad_of_last_via_layer(m, x)
        torch.testing.assert_close(g[-1], gT.norm(dim=-1).mean(), rtol=1e-5, atol=1e-7)
        assert g.shape == (12,) and (g[:-1] > 0).all()


def test_one_step_back_is_the_elman_jacobian():
    # h_T = tanh(W_ih e_T + b_ih + W_hh h_{T-1} + b_hh)  =>  dL/dh_{T-1} = W_hh^T ((1 - h_T^2) * dL/dh_T)
    torch.manual_seed(1)
    m = rnn_lm("rnn", 30, 5, 4, 1, init_range=0.5)
    x = torch.randint(0, 30, (3, 9))
    h, gT = _grad_of_last_via_layer(m, x)
    hT = h[:, -1].detach()
    back = ((1 - hT ** 2) * gT) @ m.rnn.weight_hh_l0.detach()          # (B, H)
    g = gradient_through_time(m, x)
    torch.testing.assert_close(g[-2], back.norm(dim=-1).mean(), rtol=1e-5, atol=1e-7)
