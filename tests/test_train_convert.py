"""Files of the flat-LMConfig era: refused with one line naming `groundup lm convert`, and
converted to files that load into the same model (same logits) and resume the same optimizer."""
from __future__ import annotations

import pytest
import torch

from groundup.cli import main
from groundup.nn.lm_configs import LSTMConfig, MambaConfig
from groundup.nn.rnn_lm import RNNLanguageModel
from groundup.nn.ssm.mamba import MambaLM
from groundup.train.engine import load_model, make_optimizer
from groundup.train.state_io import load_state, save_state

VOCAB = ["<unk>", "<eos>"] + [f"w{i}" for i in range(11)]
# the flat config an older groundup wrote (LMConfig.to_dict() of that version)
OLD_RUN = dict(data="wikitext2", train_tokens=0, eval_tokens=0, emb_size=200, hidden_size=16,
               num_layers=2, dropout=0.0, tie_weights=False, init_range=0.1, n_heads=4,
               n_kv_heads=0, positional="learned", activation="gelu", norm="layernorm",
               optimizer="sgd", lr=1.0, momentum=0.9, weight_decay=0.0, schedule="step",
               lr_decay=0.5, decay_after=4, clip=5.0, loss_reduction="mean", epochs=2,
               max_train_seconds=0.0, warmup_steps=0, batch_size=4, bptt=8, eval_batch_size=4,
               patience=0, seed=0, device="cpu", threads=0, checkpoint_every=0,
               grad_checkpoint="", progress=False)


def _old_mamba_file(path):
    torch.manual_seed(0)
    lm = MambaLM(MambaConfig(d_model=16, num_layers=2, tie_weights=False), len(VOCAB))
    weights = {f"lm.{k}": v for k, v in lm.state_dict().items()}   # under the old adapter
    save_state(path, {"format": "groundup-lm-weights", "config": dict(OLD_RUN, model="mamba"),
                      "vocab": VOCAB, "model": weights, "epoch": 1, "valid_loss": 3.0})
    return lm


def test_an_old_file_is_refused_with_one_line_naming_the_conversion(tmp_path, capsys):
    _old_mamba_file(tmp_path / "old.pt")
    assert main(["lm", "generate", str(tmp_path / "old.pt"), "--tokens", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "groundup lm convert" in err[0] and "older groundup" in err[0]


def test_converted_mamba_gives_the_same_logits(tmp_path, capsys):
    lm = _old_mamba_file(tmp_path / "old.pt")
    assert main(["lm", "convert", str(tmp_path / "old.pt"), str(tmp_path / "new.pt")]) == 0
    assert "mamba model converted" in capsys.readouterr().out
    model, cfg, vocab = load_model(tmp_path / "new.pt")
    assert (cfg.model.d_model, cfg.model.num_layers, cfg.model.tie_weights) == (16, 2, False)
    assert cfg.data.corpus == "wikitext2" and cfg.optimizer == "sgd" and list(vocab.itos) == VOCAB
    x = torch.randint(0, len(VOCAB), (2, 9))
    with torch.no_grad():
        torch.testing.assert_close(model(x)[0], lm.eval()(x)[0], rtol=0, atol=0)
    # convert never overwrites, and a current file has nothing to convert
    assert main(["lm", "convert", str(tmp_path / "old.pt"), str(tmp_path / "new.pt")]) == 2
    assert main(["lm", "convert", str(tmp_path / "new.pt"), str(tmp_path / "x.pt")]) == 2


def test_converted_checkpoint_carries_each_parameters_optimizer_state(tmp_path):
    torch.manual_seed(0)
    cfg = LSTMConfig(emb_size=8, hidden_size=8, num_layers=1)
    lm = RNNLanguageModel(cfg, len(VOCAB))
    opt = torch.optim.SGD(lm.parameters(), lr=1.0, momentum=0.9)     # the old single group
    for p in lm.parameters():
        p.grad = torch.randn_like(p)
    opt.step()
    old = dict(OLD_RUN, model="lstm", emb_size=8, hidden_size=8, num_layers=1)
    save_state(tmp_path / "old.pt", {"format": "groundup-lm-checkpoint", "config": old,
                                     "vocab": VOCAB, "model": lm.state_dict(),
                                     "optimizer": opt.state_dict()})
    assert main(["lm", "convert", str(tmp_path / "old.pt"), str(tmp_path / "new.pt")]) == 0
    new = load_state(tmp_path / "new.pt")
    model, cfg2, _ = load_model(tmp_path / "new.pt")
    opt2 = make_optimizer(cfg2, model)
    opt2.load_state_dict(new["optimizer"])
    assert len(opt2.param_groups) == 2                                   # decay / no-decay
    by_name = dict(model.named_parameters())
    for (n, p), q in zip(lm.named_parameters(), lm.parameters()):
        buf = opt2.state[by_name[n]]["momentum_buffer"]
        torch.testing.assert_close(buf, opt.state[q]["momentum_buffer"], rtol=0, atol=0)


def test_old_transformer_fields_map_to_their_meaning():
    from groundup.train.convert import convert_config

    new = convert_config(dict(OLD_RUN, model="transformer", emb_size=32, hidden_size=64, bptt=20))
    assert new["model"] == {"family": "transformer", "d_model": 32, "d_ff": 64, "max_len": 20,
                            "n_heads": 4, "n_kv_heads": 0, "num_layers": 2, "dropout": 0.0,
                            "positional": "learned", "activation": "gelu", "norm": "layernorm",
                            "tie_weights": False}
    with pytest.raises(Exception, match="cannot convert a model of family 'rwkv9'"):
        convert_config(dict(OLD_RUN, model="rwkv9"))
