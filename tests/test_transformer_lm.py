"""The decoder-only Transformer LM: KV cache = recomputation, sampling rules, engine training."""
import random

import pytest
import torch

from groundup.errors import ConfigError
from groundup.nn.attention import KVCache
from groundup.nn.lm_configs import TransformerLMConfig
from groundup.nn.transformer_lm import TransformerLM, generate, sample_next
from groundup.train.config import make_config
from groundup.train.corpus import Corpus
from groundup.train.engine import train
from groundup.train.families import build_model

torch.set_num_threads(1)


def _lm(positional="learned", **kw):
    torch.manual_seed(0)
    cfg = TransformerLMConfig(d_model=16, n_heads=4, num_layers=2, d_ff=32, max_len=12,
                              positional=positional, **kw)
    return TransformerLM(cfg, 23).double().eval()


@pytest.mark.parametrize("positional", ["learned", "sinusoidal", "rope", "alibi"])
def test_cache_equals_full_recomputation_and_reference(positional):
    lm = _lm(positional, n_kv_heads=2, activation="swiglu", norm="rmsnorm")
    x = torch.randint(0, 23, (3, 10))
    full, state = lm(x)
    assert state is None
    ref, _ = lm(x, fast=False)
    assert torch.allclose(full, ref, atol=1e-12)
    cache = KVCache(2)
    steps = [lm(x[:, :4], cache)[0]] + [lm(x[:, t:t + 1], cache)[0] for t in range(4, 10)]
    assert torch.allclose(torch.cat(steps, 1), full, atol=1e-12)


def test_causality_future_tokens_do_not_change_past_logits():
    lm = _lm()
    x = torch.randint(0, 23, (2, 8))
    y = x.clone()
    y[:, 5:] = (y[:, 5:] + 1) % 23
    assert torch.allclose(lm(x)[0][:, :5], lm(y)[0][:, :5], atol=1e-12)
    assert not torch.allclose(lm(x)[0][:, 5:], lm(y)[0][:, 5:])


def test_generate_with_cache_equals_without_past_max_len():
    lm = _lm("rope")
    prompt = torch.randint(0, 23, (2, 3))
    a = generate(lm, prompt, 15, top_k=10, top_p=0.9, generator=torch.Generator().manual_seed(1))
    b = generate(lm, prompt, 15, top_k=10, top_p=0.9, generator=torch.Generator().manual_seed(1),
                 use_cache=False)
    assert a.shape == (2, 18) and torch.equal(a, b)          # 18 > max_len 12: window rebuilt
    c = lm.generate(prompt, 15, top_k=10, top_p=0.9, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, c)


def test_sample_next_rules_by_hand():
    # probs [0.5, 0.3, 0.15, 0.05]: top_p 0.7 keeps {0.5, 0.3} (mass before token 2 is 0.8)
    logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_next(logits, 1.0, top_p=0.7, generator=g) for _ in range(4000)])
    assert set(draws.unique().tolist()) == {0, 1}
    # renormalised 0.5/0.8 = 0.625; binomial std over 4000 draws is 0.0077, 0.04 is > 5 sigma
    assert abs((draws == 0).float().mean().item() - 0.625) < 0.04
    draws = torch.stack([sample_next(logits, 1.0, top_k=3, generator=g) for _ in range(2000)])
    assert set(draws.unique().tolist()) == {0, 1, 2}
    assert sample_next(logits, 0.0).item() == 0               # temperature 0: greedy
    assert sample_next(logits, 1.0, top_k=1, generator=g).item() == 0
    with pytest.raises(ValueError, match="top_p"):
        sample_next(logits, 1.0, top_p=0.0)


def _toy_corpus(n=500, seed=0):
    r = random.Random(seed)

    def lines(k):
        out = []
        for _ in range(k):
            out += f"{r.choice(['the cat', 'a dog', 'she'])} {r.choice(['sees', 'eats'])} " \
                   f"{r.choice(['the fish', 'a ball'])}".split() + ["<eos>"]
        return out

    tr, va, te = lines(n), lines(60), lines(60)
    return Corpus.from_tokens(tr, va, te, name="toy")


def test_engine_trains_the_registered_transformer(tmp_path):
    cfg = make_config(None, overrides=dict(
        model="transformer", data="toy", d_model=16, d_ff=32, max_len=8, num_layers=1, n_heads=2,
        batch_size=4, bptt=8, eval_batch_size=4, epochs=2, schedule="constant", optimizer="adamw",
        lr=0.01, threads=1, progress=False, positional="rope"))
    final = train(cfg, tmp_path, corpus=_toy_corpus())
    v = [e["valid_perplexity"] for e in final["history"]]
    # ~13 word types; the grammar leaves 2-3 choices per slot, so a learned model is far below V
    assert v[-1] < v[0] and final["valid_perplexity"] < 6


def test_bad_transformer_configs_are_config_errors():
    with pytest.raises(ConfigError, match="divisible by n_heads"):
        make_config(None, overrides=dict(model="transformer", d_model=30, n_heads=4))
    with pytest.raises(ConfigError, match="positional"):
        make_config(None, overrides=dict(model="transformer", positional="xyz"))
    with pytest.raises(ConfigError, match="bptt 300 exceeds the transformer model's max_len 256"):
        make_config(None, overrides=dict(model="transformer", bptt=300))
    cfg = make_config(None, overrides=dict(model="transformer", activation="nope"))
    with pytest.raises(ConfigError, match="transformer: "):   # the constructor's own check
        build_model(cfg.model, 100)
