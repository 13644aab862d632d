"""The training loop in-process: learning, schedules, evaluation, NaN stop, early stop, config checks."""
import dataclasses
import json
import math
import random

import pytest
import torch
from torch import nn

from groundup.errors import ConfigError, TrainingError
from groundup.train.state_io import load_state
from groundup.train.config import LMConfig, make_config
from groundup.train.corpus import Corpus
from groundup.train.engine import evaluate, generate, train
from groundup.nn.lm_configs import GRUConfig, LSTMConfig
from groundup.nn.rnn_lm import RNNLanguageModel
from groundup.train.families import FAMILIES, register_family
from groundup.train.schedule import LRSchedule


def toy_corpus(n_train=600, n_eval=80, seed=0) -> Corpus:
    """Sentences from a tiny grammar: learnable structure, ~25 word types."""
    r = random.Random(seed)
    subj = ["the cat", "a dog", "my friend", "she", "he"]
    verb = ["sees", "likes", "eats", "finds"]
    obj = ["the fish", "a ball", "the red apple", "some bread"]

    def lines(n):
        out = []
        for _ in range(n):
            out += f"{r.choice(subj)} {r.choice(verb)} {r.choice(obj)}".split() + ["<eos>"]
        return out

    tr, va, te = lines(n_train), lines(n_eval), lines(n_eval)
    return Corpus.from_tokens(tr, va, te, name="toy")


TINY = dict(model="lstm", data="toy", emb_size=16, hidden_size=16, num_layers=1, batch_size=4,
            bptt=8, eval_batch_size=4, epochs=2, schedule="constant", lr=1.0, threads=1,
            progress=False)


# the run's part of TINY, for the families whose options differ from the LSTM's
RUN = {k: v for k, v in TINY.items() if k not in ("model", "emb_size", "hidden_size")}


def tiny(**kw) -> LMConfig:
    return make_config(None, overrides={**TINY, **kw})


def rnn_lm(kind, V, E, H, layers, **kw) -> RNNLanguageModel:
    """The recurrent LM of family ``kind`` (rnn, rnn_relu, lstm, gru)."""
    return RNNLanguageModel(FAMILIES[kind].config(emb_size=E, hidden_size=H, num_layers=layers, **kw), V)


def custom_family(name, build):
    """Register ``build(cfg, V)`` as family ``name``, with a config class of its own (no options)."""
    register_family(name, dataclasses.dataclass(frozen=True)(type(f"Config_{name}", (), {})), build)
    return FAMILIES[name].config()


def test_tiny_run_learns(tmp_path):
    corpus = toy_corpus()
    final = train(tiny(epochs=3), tmp_path, corpus=corpus)
    v = [e["valid_perplexity"] for e in final["history"]]
    assert v[-1] < v[0]
    # A uniform guess has perplexity V; the grammar allows ~5 choices per slot, so a model that
    # learned it is far below V (here ~27) -- 10 is a loose bound it must clear.
    assert final["valid_perplexity"] < 10 < len(corpus.vocab)
    assert final["epochs"] == 3 and final["tokens_per_second"] > 0
    assert "groundup.nn" in final["recurrent_impl"] and "groundup.optim" in final["optimizer_impl"]
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in lines if r["kind"] == "step"]
    assert [r["step"] for r in steps] == list(range(1, final["steps"] + 1))
    assert json.loads((tmp_path / "final.json").read_text())["test_perplexity"] == final["test_perplexity"]


def test_zaremba_step_decay():
    # 'small': lr 1 for epochs 1-4, then halved after each epoch (Zaremba et al. 2014, Sec. 4.1)
    s = LRSchedule("step", 1.0, epochs=13, lr_decay=0.5, decay_after=4)
    assert [s.lr(e) for e in range(7)] == [1, 1, 1, 1, 0.5, 0.25, 0.125]
    p = LRSchedule("plateau", 1.0, epochs=5, lr_decay=0.25)
    p.on_validation(5.0), p.on_validation(4.0), p.on_validation(4.5)
    assert p.lr(3) == 0.25


def test_the_schedule_owns_each_steps_lr_warmup_and_time_budget_included():
    # warm-up multiplies whatever the schedule gives: step 0 of 4 -> 1/4 of cosine(0) = 2
    s = LRSchedule("cosine", 2.0, epochs=4, warmup_steps=4, time_budget=10.0)
    assert s.step_lr(0, 0, 0.0, 0.0) == 0.5
    # with a time budget the cosine runs over seconds (half of it: 2 (1 + cos pi/2) / 2 = 1)
    assert s.step_lr(3, 0, 0.0, 5.0) == pytest.approx(1.0)
    assert s.step_lr(9, 3, 0.9, 20.0) == 0.0
    # without one, over epochs: epoch 2 of 4 -> 1.0, whatever the seconds
    assert LRSchedule("cosine", 2.0, epochs=4).step_lr(5, 2, 0.0, 99.0) == pytest.approx(1.0)
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=123.0)
    assert s.apply(opt, 1, 0, 0.0, 0.0) == 1.0 == opt.param_groups[0]["lr"]


def test_engine_applies_the_schedule_each_epoch(tmp_path):
    final = train(tiny(epochs=3, schedule="step", lr_decay=0.5, decay_after=1), tmp_path,
                  corpus=toy_corpus(n_train=150))
    assert [e["lr"] for e in final["history"]] == [1.0, 0.5, 0.25]


def test_zaremba_sum_over_time_equals_mean_with_lr_times_T(tmp_path):
    # Zaremba's code differentiates sum_t mean_b loss: T times the per-token mean's gradient.
    # So (sum_over_time, lr, clip) == (mean, lr*T, clip/T). With T = 8 and no clipping the
    # scaling is exact in floating point: bit-identical parameters. With clipping, torch's
    # clip coefficient max_norm / (norm + 1e-6) breaks exactness at the 1e-6 level only.
    corpus = toy_corpus(n_train=120)

    def params(name, **kw):
        train(tiny(epochs=1, **kw), tmp_path / name, corpus=corpus)
        return load_state(tmp_path / name / "checkpoint.pt")["model"]

    a = params("a", loss_reduction="sum_over_time", lr=0.5, clip=0.0)
    b = params("b", loss_reduction="mean", lr=4.0, clip=0.0)
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = params("c", loss_reduction="sum_over_time", lr=0.5, clip=1.0)
    d = params("d", loss_reduction="mean", lr=4.0, clip=0.125)
    assert not torch.equal(a["decoder.weight"], c["decoder.weight"])   # clipping was active
    for k in c:
        torch.testing.assert_close(c[k], d[k], rtol=1e-4, atol=1e-5)


def test_evaluate_equals_one_pass_over_each_row():
    # Two routes: BPTT segments with the state carried == the whole row in one forward pass.
    torch.manual_seed(0)
    m = RNNLanguageModel(GRUConfig(emb_size=8, hidden_size=8, num_layers=2), 30)
    stream = torch.randint(0, 30, (203,))
    rows = stream[: 203 // 4 * 4].view(4, -1)
    with torch.no_grad():
        logits, _ = m(rows[:, :-1])
        ref = nn.functional.cross_entropy(logits.reshape(-1, 30), rows[:, 1:].reshape(-1)).item()
    assert evaluate(m, stream, 4, 7) == pytest.approx(ref, rel=1e-5)


def test_lm_matches_a_torch_lstm_with_the_same_weights():
    torch.manual_seed(0)
    cfg = LSTMConfig(emb_size=12, hidden_size=12, num_layers=2, tie_weights=True)
    ours = RNNLanguageModel(cfg, 50)
    peer = RNNLanguageModel(cfg, 50, rnn_class=nn.LSTM)
    peer.load_state_dict(ours.state_dict())
    assert peer.decoder.weight is peer.encoder.weight           # tying survives the load
    x = torch.randint(0, 50, (3, 9))
    a, (ha, ca) = ours(x)
    b, (hb, cb) = peer(x)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ca, cb, rtol=1e-5, atol=1e-5)
    n_tied = sum(p.numel() for p in ours.parameters())
    n_untied = sum(p.numel() for p in RNNLanguageModel(
        dataclasses.replace(cfg, tie_weights=False), 50).parameters())
    assert n_untied - n_tied == 50 * 12


class _NaNAfter(nn.Module):
    """A test model whose output turns NaN at forward call k (the engine must stop cleanly)."""

    def __init__(self, vocab_size, k):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, vocab_size)
        self.calls, self.k = 0, k

    def forward(self, x, state=None):
        self.calls += 1
        out = self.emb(x)
        return (out * float("nan") if self.calls >= self.k and self.training else out), None


def test_nan_loss_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path):
    model = custom_family("test-nan-after-5", lambda cfg, V: _NaNAfter(V, 5))
    try:
        with pytest.raises(TrainingError) as e:
            train(dataclasses.replace(tiny(checkpoint_every=2), model=model), tmp_path,
                  corpus=toy_corpus())
    finally:
        FAMILIES.pop("test-nan-after-5")
    msg = str(e.value)
    assert "\n" not in msg and "loss became nan at epoch 1, step 5" in msg and "(step 4)" in msg
    ck = load_state(tmp_path / "checkpoint.pt")
    assert ck["position"]["step"] == 4
    assert all(torch.isfinite(t).all() for t in ck["model"].values())


class _Unigram(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, x, state=None):
        return self.logits.expand(*x.shape, -1), None


def test_early_stopping_on_validation(tmp_path):
    # lr so small that the update is below float32 resolution: valid loss never improves after
    # epoch 1, so patience 2 stops after epoch 3 of 10.
    model = custom_family("test-unigram", lambda cfg, V: _Unigram(V))
    try:
        final = train(dataclasses.replace(tiny(lr=1e-30, epochs=10, patience=2), model=model),
                      tmp_path, corpus=toy_corpus(n_train=100))
    finally:
        FAMILIES.pop("test-unigram")
    assert final["stopped_early"] and final["epochs"] == 3 and final["best_epoch"] == 1


@pytest.mark.parametrize("override,match", [
    ({"bptt": 0}, "bptt must be >= 1, got 0"),
    ({"batch_size": -2}, "batch_size must be >= 1, got -2"),
    ({"dropout": 1.0}, "dropout must be in"),
    ({"tie_weights": True, "emb_size": 8}, "tie_weights needs emb_size == hidden_size"),
    ({"model": "nope"}, "unknown model 'nope'"),
    ({"model": "mamba", "dropout": 0.1}, "is not an option of the mamba model"),
    ({"optimizer": "adamw", "momentum": 0.9}, "momentum is an option of sgd"),
    ({"hiden_size": 3}, "unknown config key 'hiden_size'"),
    ({"lr": "fast"}, "lr must be a number"),
    ({"device": "tpu"}, "device must be cpu"),
    ({"max_train_seconds": -1.0}, "max_train_seconds must be a finite number >= 0"),
    ({"warmup_steps": -3}, "warmup_steps must be >= 0, got -3"),
])
def test_bad_configs_are_refused_by_name(override, match):
    with pytest.raises(ConfigError, match=match):
        tiny(**override)


def test_configs_that_cannot_fit_the_data_are_refused_up_front(tmp_path):
    small = toy_corpus(n_train=20, n_eval=20)                  # ~90 training tokens
    with pytest.raises(ConfigError, match=r"batch_size 20 x \(bptt 35 \+ 1\) needs at least 720"):
        train(tiny(batch_size=20, bptt=35), tmp_path, corpus=small)
    with pytest.raises(ConfigError, match="eval_batch_size 64 is too large"):
        train(tiny(eval_batch_size=64), tmp_path, corpus=small)
    assert not (tmp_path / "metrics.jsonl").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="CUDA is not available"):
        train(tiny(device="cuda"), tmp_path, corpus=toy_corpus(n_train=50))


def test_resume_refuses_a_different_config(tmp_path):
    corpus = toy_corpus(n_train=100)
    train(tiny(epochs=1), tmp_path, corpus=corpus)
    with pytest.raises(ConfigError, match="bptt=8 but this run has bptt=4"):
        train(tiny(epochs=1, bptt=4), tmp_path, corpus=corpus)
    with pytest.raises(ConfigError, match="vocabulary differs"):
        train(tiny(epochs=2), tmp_path, corpus=toy_corpus(n_train=100, seed=5))
    more = train(tiny(epochs=2), tmp_path, corpus=corpus)      # epochs may grow: continues
    assert more["epochs"] == 2 and len(more["history"]) == 2


def test_generate_is_seeded_and_uses_the_vocabulary(tmp_path):
    corpus = toy_corpus(n_train=200)
    train(tiny(epochs=1), tmp_path, corpus=corpus)
    a = generate(tmp_path / "best.pt", 20, temperature=0.8, seed=3)
    assert a == generate(tmp_path, 20, temperature=0.8, seed=3)
    words = a.split()
    assert words and set(words) <= set(corpus.vocab.itos)
    with pytest.raises(ConfigError, match="temperature must be > 0"):
        generate(tmp_path, 5, temperature=0)


class _Slow(nn.Module):
    """An LSTM LM whose every forward takes at least 50 ms: a time budget in steps we can count."""

    def __init__(self, V):
        super().__init__()
        self.inner = RNNLanguageModel(LSTMConfig(emb_size=8, hidden_size=8, num_layers=1), V)

    def forward(self, x, hidden=None):
        import time
        time.sleep(0.05)
        return self.inner(x, hidden)


def test_time_budget_stops_mid_epoch_then_validates_and_tests(tmp_path):
    model = custom_family("test-slow", lambda cfg, V: _Slow(V))
    try:
        final = train(dataclasses.replace(tiny(epochs=10, max_train_seconds=0.2, schedule="cosine",
                                               warmup_steps=2), model=model),
                      tmp_path, corpus=toy_corpus())
    finally:
        FAMILIES.pop("test-slow")
    # >= 50 ms a step: the budget of 0.2 s is spent after at most 4 steps, inside epoch 1
    assert final["stop_reason"] == "time budget" and final["epochs"] == 1
    assert 1 <= final["steps"] <= 4 and final["train_seconds"] >= 0.2
    (ep,) = final["history"]
    assert ep["batches"] == final["steps"] and math.isfinite(final["test_perplexity"])
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    lrs = [r["lr"] for r in lines if r["kind"] == "step"]
    assert lrs[0] == pytest.approx(0.5)          # warm-up: step 1 of 2, cosine still at its top
    assert all(b < a for a, b in zip(lrs[1:], lrs[2:]))   # then cosine decay over the seconds
    assert lrs[-1] < 1.0


def test_cosine_over_a_fraction_of_a_budget():
    s = LRSchedule("cosine", 2.0, epochs=1)
    assert s.lr_at_fraction(0.0) == 2.0 and s.lr_at_fraction(0.5) == pytest.approx(1.0)
    assert s.lr_at_fraction(1.0) == pytest.approx(0.0, abs=1e-12) and s.lr_at_fraction(3.0) == s.lr_at_fraction(1.0)
