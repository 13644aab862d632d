"""The state-space LMs on the shared engine: they learn a toy grammar, carry their state across
truncated-BPTT segments (evaluating in segments equals one pass), and generate."""
from __future__ import annotations

import pytest
import torch

from groundup.train.config import make_config
from groundup.train.engine import generate, train
from groundup.train.families import build_model

from test_train_engine import RUN, toy_corpus  # the engine's own toy grammar


@pytest.mark.parametrize("model", ["mamba", "s4", "lru", "rwkv", "retnet"])
def test_ssm_lms_learn_on_the_engine_and_generate(tmp_path, model):
    cfg = make_config(None, overrides={"model": model, **RUN, "optimizer": "adamw", "lr": 3e-3,
                                       "epochs": 3, "d_model": 16})
    corpus = toy_corpus()
    final = train(cfg, tmp_path, corpus=corpus)
    v = [e["valid_perplexity"] for e in final["history"]]
    assert v[-1] < v[0] and final["valid_perplexity"] < 12 < len(corpus.vocab)  # as the LSTM test
    text = generate(tmp_path / "best.pt", 8, seed=0)
    assert len(text.split()) >= 4


@pytest.mark.parametrize("model", ["mamba", "s4", "lru", "rwkv", "retnet"])
def test_state_carried_across_segments_equals_one_pass(model):
    torch.manual_seed(0)
    cfg = make_config(None, overrides={"model": model, **RUN, "d_model": 16})
    net = build_model(cfg.model, 30).eval()
    x = torch.randint(0, 30, (2, 24))
    with torch.no_grad():
        whole, _ = net(x, None)
        a, st = net(x[:, :10], None)
        b, _ = net(x[:, 10:], st)
    torch.testing.assert_close(torch.cat([a, b], 1), whole, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["s4", "lru", "mamba", "rwkv", "retnet"])
def test_tie_weights_shares_the_embedding_with_the_head(name):
    def count(tie):
        cfg = make_config(None, overrides=dict(model=name, d_model=16, num_layers=1, tie_weights=tie))
        m = build_model(cfg.model, 50)
        return m, sum(p.numel() for p in m.parameters())

    (tied, n_tied), (_, n_free) = count(True), count(False)
    assert n_free - n_tied == 50 * 16                 # one V x d matrix fewer
    emb = [p for n, p in tied.named_parameters(remove_duplicate=False) if p.shape == (50, 16)]
    assert len(emb) == 2 and emb[0] is emb[1]
