"""--grad-checkpoint for the engine's recurrent LMs: time-chunked checkpointing."""
import math

import pytest
import torch

from groundup.errors import ConfigError
from groundup.train.grad_checkpoint_lm import TimeCheckpointed, parse_spec, wrap
from test_train_engine import rnn_lm

V = 50


class ChunkedPlain(TimeCheckpointed):
    """The same time chunks, none checkpointed: the reference a checkpointed run must equal."""

    def plan(self, x, state):
        return [(a, b, False) for a, b, _ in super().plan(x, state)]


def run(forward, model, x, y, seed=3):
    model.zero_grad()
    torch.manual_seed(seed)
    logits, state = forward(x, None)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()], state


@pytest.mark.parametrize("kind, spec", [("lstm", "sqrt"), ("lstm", "40"), ("gru", "12"),
                                        ("gru", "20kB")])
def test_checkpointed_chunks_equal_plain_chunks_bit_for_bit(kind, spec):
    torch.manual_seed(0)
    model = rnn_lm(kind, V, 16, 16, 2, dropout=0.3)
    x, y = torch.randint(0, V, (4, 12)), torch.randint(0, V, (4, 12))
    a = run(TimeCheckpointed(model, spec), model, x, y)
    b = run(ChunkedPlain(model, spec), model, x, y)
    assert torch.equal(a[0], b[0])
    assert all(torch.equal(p, q) for p, q in zip(a[1], b[1]))
    assert all(torch.equal(p, q) for p, q in zip(a[2], b[2]))  # final (h, c) state


def test_without_dropout_equals_the_unchunked_model():
    # Chunking changes only the matmul shapes (float32 rounding), not the maths: 1e-5 relative.
    torch.manual_seed(0)
    model = rnn_lm("lstm", V, 16, 16, 2)
    x, y = torch.randint(0, V, (4, 12)), torch.randint(0, V, (4, 12))
    a = run(wrap(model, "sqrt"), model, x, y)
    b = run(model, model, x, y)
    torch.testing.assert_close(a[0], b[0], rtol=1e-5, atol=1e-6)
    for p, q in zip(a[1], b[1]):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_budget_plan_fits_and_specs():
    torch.manual_seed(0)
    model = rnn_lm("lstm", V, 16, 16, 1)
    w = TimeCheckpointed(model, "20kB")
    plan = w.plan(torch.randint(0, V, (4, 12)), None)
    assert any(c for _, _, c in plan) and plan[-1][1] == 12
    assert wrap(model, "off") is model and wrap(model, "") is model
    assert parse_spec("sqrt") == ("segments", None) and parse_spec("4") == ("segments", 4)
    assert parse_spec("1KiB") == ("budget", 1024)
    with pytest.raises(ConfigError, match="'many'"):
        parse_spec("many")
    with torch.no_grad():  # evaluation runs the model directly
        logits, _ = w(torch.randint(0, V, (2, 5)))
    assert logits.shape == (2, 5, V)


def test_stateless_model_is_refused():
    def stateless(x, state=None):
        return torch.zeros(*x.shape, V, requires_grad=True), None

    stateless.parameters = lambda: iter(())
    with pytest.raises(ConfigError, match="carries a state"):
        TimeCheckpointed(stateless, "2")(torch.zeros(1, 4, dtype=torch.long))


def test_engine_option_trains_like_the_plain_run(tmp_path):
    # `--grad-checkpoint` in the shared engine: without dropout, the checkpointed run differs
    # from the plain one only by float32 rounding of differently shaped matmuls, so after two
    # tiny epochs the validation loss agrees to 1e-4 relative (observed ~1e-7).
    from test_train_engine import tiny, toy_corpus

    from groundup.train.engine import train

    corpus = toy_corpus()
    plain = train(tiny(), tmp_path / "plain", corpus=corpus)
    ckpt = train(tiny(grad_checkpoint="2"), tmp_path / "ckpt", corpus=corpus)
    assert math.isclose(plain["valid_loss"], ckpt["valid_loss"], rel_tol=1e-4)
    # this LSTM saves 2400 bytes per time step (19.2 kB per window of 8); 15 kB makes the
    # planner checkpoint the first two steps: [(0, 2, True), (2, 8, False)], peak 14.4 kB
    budget = train(tiny(grad_checkpoint="15kB", epochs=1), tmp_path / "budget", corpus=corpus)
    assert math.isfinite(budget["valid_loss"])
    with pytest.raises(ConfigError, match="grad_checkpoint"):
        tiny(grad_checkpoint="lots")
