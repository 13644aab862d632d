"""engine.generate hands decoding to a model's own ``generate`` (the Transformer's cached
sampler) instead of feeding it one token at a time with a state it does not keep."""
from __future__ import annotations

from groundup.train.config import make_config
from groundup.train.engine import generate, train

from test_train_engine import RUN, toy_corpus


def test_transformer_generation_goes_through_its_cached_sampler(tmp_path, monkeypatch):
    from groundup.nn.transformer_lm import TransformerLM

    cfg = make_config(None, overrides={"model": "transformer", **RUN, "d_model": 16, "d_ff": 32,
                                       "max_len": 8, "n_heads": 2, "optimizer": "adamw", "lr": 3e-3,
                                       "epochs": 1})
    train(cfg, tmp_path, corpus=toy_corpus())
    calls = []
    real = TransformerLM.generate

    def spy(self, prompt, n, **kw):
        calls.append((tuple(prompt.shape), n))
        return real(self, prompt, n, **kw)

    monkeypatch.setattr(TransformerLM, "generate", spy)
    text = generate(tmp_path / "best.pt", 7, seed=0, prompt="the cat")
    assert calls == [((1, 2), 7)]
    assert 1 <= len(text.split()) <= 7  # end-of-sentence tokens become newlines
