"""Pieces of the `transformer` lab: the reversal task and the two seq2seq models' decoders."""
import torch

from groundup.lab.transformer import BOS, LSTMSeq2Seq, TransformerSeq2Seq, batch, train_model

torch.set_num_threads(1)


def test_reversal_batches():
    src, tin, tout = batch(3, 5, torch.Generator().manual_seed(0))
    assert torch.equal(tout, src.flip(1))
    assert (tin[:, 0] == BOS).all() and torch.equal(tin[:, 1:], tout[:, :-1])
    assert src.min() >= 2


def test_greedy_decoding_equals_teacher_forcing_on_its_own_output():
    # two routes: step-by-step greedy decoding vs one parallel pass fed the greedy output
    torch.manual_seed(0)
    src, _, _ = batch(4, 6, torch.Generator().manual_seed(1))
    for m in (TransformerSeq2Seq(16, 2, 1, 8), LSTMSeq2Seq(16, 1)):
        m.eval()
        y = m.greedy(src)
        tin = torch.cat([torch.full((4, 1), BOS), y[:, :-1]], 1)
        with torch.no_grad():
            assert torch.equal(m(src, tin).argmax(-1), y)


def test_a_few_steps_lower_the_loss():
    torch.manual_seed(0)
    m = TransformerSeq2Seq(16, 2, 1, 8)
    tr = train_model(m, 30, 4, 16, 3e-3, seed=0)
    assert sum(tr["losses"][-5:]) / 5 < sum(tr["losses"][:5]) / 5
