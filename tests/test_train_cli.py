"""`groundup lm ...`: the interface other tools rely on, and one-line errors for bad input."""
import json

import pytest

from groundup.cli import main
from groundup.train.config import PRESETS, make_config


def _toy(folder):
    import random

    r = random.Random(2)
    words = "the cat a dog sees likes eats fish ball apple bread red".split()
    folder.mkdir(exist_ok=True)
    for name, n in [("train.txt", 80), ("valid.txt", 20), ("test.txt", 20)]:
        (folder / name).write_text("\n".join(" ".join(r.choices(words, k=5)) for _ in range(n)) + "\n")
    return folder


SMALL = ["--model", "gru", "--emb-size", "8", "--hidden-size", "8", "--num-layers", "1",
         "--batch-size", "4", "--bptt", "6", "--epochs", "1", "--threads", "1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lmcli")
    data = _toy(tmp / "data")
    out = tmp / "run"
    assert main(["lm", "train", "--data", str(data), *SMALL, "--out", str(out)]) == 0
    return data, out


def test_train_writes_the_promised_files(trained, capsys, tmp_path):
    data, out = trained
    final = json.loads((out / "final.json").read_text())
    for key in ("valid_perplexity", "test_perplexity", "tokens_per_second", "epochs"):
        assert key in final
    assert (out / "metrics.jsonl").exists() and (out / "checkpoint.pt").exists()
    capsys.readouterr()
    assert main(["lm", "train", "--data", str(data), *SMALL, "--out", str(tmp_path / "r"), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)                 # exactly one JSON object
    assert obj["epochs"] == 1 and obj["config"]["model"]["family"] == "gru"


def test_eval_reproduces_the_final_perplexities(trained, capsys):
    data, out = trained
    capsys.readouterr()
    assert main(["lm", "eval", str(out / "best.pt"), "--data", str(data), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    final = json.loads((out / "final.json").read_text())
    assert got["valid_perplexity"] == pytest.approx(final["valid_perplexity"], rel=1e-9)
    assert got["test_perplexity"] == pytest.approx(final["test_perplexity"], rel=1e-9)


def test_generate_and_plot(trained, capsys):
    _, out = trained
    capsys.readouterr()
    assert main(["lm", "generate", str(out), "--tokens", "7", "--temperature", "0.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 7
    assert main(["lm", "plot", str(out)]) == 0
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv,message", [
    (["lm", "train", "--bptt", "0", "--out", "{tmp}/x"], "bptt must be >= 1, got 0"),
    (["lm", "train", "--data", "{tmp}/nowhere", "--out", "{tmp}/x"], "no such file, and not a registered corpus"),
    (["lm", "train", "--preset", "huge", "--out", "{tmp}/x"], "unknown preset 'huge'"),
    (["lm", "train", "--epochs", "two", "--out", "{tmp}/x"], "epochs must be an integer"),
    (["lm", "train", "--model", "mamba", "--dropout", "0.1", "--out", "{tmp}/x"],
     "'dropout' is not an option of the mamba model"),
    (["lm", "eval", "{tmp}/nothing.pt"], "no such checkpoint"),
    (["lm", "eval", "{tmp}/bad.pt"], "not a groundup checkpoint"),
    (["lm", "plot", "{tmp}"], "metrics.jsonl: no such file"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    (tmp_path / "bad.pt").write_bytes(b"garbage\n")
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr()
    assert code == 2 and err.out == ""
    lines = err.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("groundup: error:") and message in lines[0]


def test_unknown_options_are_errors(capsys):
    with pytest.raises(SystemExit) as e:
        main(["lm", "train", "--hiden-size", "3", "--out", "x"])
    assert e.value.code == 2
    assert "--hiden-size" in capsys.readouterr().err


def test_command_line_overrides_file_which_overrides_preset(tmp_path):
    cfg = make_config("ptb-small", overrides={"epochs": "1"})
    assert cfg.epochs == 1 and cfg.model.hidden_size == 200 and cfg.lr_decay == 0.5
    f = tmp_path / "c.toml"
    f.write_text('epochs = 3\ndropout = 0.25\n')
    cfg = make_config("ptb-medium", str(f), {"dropout": "0.1"})
    assert (cfg.epochs, cfg.model.dropout, cfg.model.hidden_size) == (3, 0.1, 650)
    assert PRESETS["ptb-small"].tokens_per_step == 700
    # the nested form LMConfig.to_dict writes reads back the same
    f.write_text('epochs = 3\n[data]\ncorpus = "ptb"\n[model]\nfamily = "gru"\ndropout = 0.25\n')
    cfg = make_config("ptb-medium", str(f))
    assert (cfg.family, cfg.model.dropout, cfg.model.hidden_size, cfg.data.corpus) == ("gru", 0.25, 650, "ptb")


def test_help_lists_every_familys_options_under_its_name(capsys):
    import dataclasses

    from groundup.config import help_of
    from groundup.train.families import FAMILIES

    with pytest.raises(SystemExit):
        main(["lm", "train", "--help"])
    sections = {}                        # family name -> the text under its "--model a | b:" line
    for part in ("\n" + capsys.readouterr().out).split("\n--model ")[1:]:
        head, _, body = part.partition(":\n")
        sections.update({name.strip(): body for name in head.split("|")})
    assert set(sections) == set(FAMILIES)
    for name, fam in FAMILIES.items():
        for f in dataclasses.fields(fam.config):
            assert help_of(f), f"{name}.{f.name} has no help text"
            assert f"--{f.name.replace('_', '-')} " in sections[name], (name, f.name)


def test_train_on_your_own_chinese_text(tmp_path, capsys):
    """lm train --tokenizer char --max-vocab --min-count --train --valid [--test]: the checkpoint
    saves the text options, eval reads text its way, and another tokenizer is an error."""
    import random

    r = random.Random(0)
    chars = "我爱北京天安门猫吃鱼狗在跑学而时习之不亦说乎"
    for name, n in [("tr.txt", 120), ("va.txt", 20)]:
        (tmp_path / name).write_text("\n".join("".join(r.choices(chars, k=8)) + " GPT4 很好。"
                                               for _ in range(n)) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    args = ["lm", "train", "--tokenizer", "char", "--max-vocab", "20", "--min-count", "2",
            "--train", str(tmp_path / "tr.txt"), "--valid", str(tmp_path / "va.txt"), *SMALL,
            "--out", str(out), "--json"]
    capsys.readouterr()
    assert main(args) == 0
    final = json.loads(capsys.readouterr().out)
    assert final["test_perplexity"] is None and final["vocab_size"] == 20   # the cap, <unk>/<eos> in
    cfg = final["config"]
    data = cfg["data"]
    assert (data["tokenizer"], data["max_vocab"], data["min_count"], data["corpus"]) == ("char", 20, 2, "")
    from groundup.train.engine import load_model

    _, saved, vocab = load_model(out / "best.pt")
    assert saved.data.tokenizer == "char" and "GPT4" in vocab.stoi and "<unk>" in vocab.stoi
    assert main(["lm", "eval", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid_perplexity"] == pytest.approx(
        final["valid_perplexity"], rel=1e-9)
    assert main(["lm", "eval", str(out), "--tokenizer", "word"]) == 2
    assert "built with --tokenizer char, not word" in capsys.readouterr().err
    assert main(["lm", "generate", str(out), "--tokens", "5", "--prompt", "我爱"]) == 0


@pytest.mark.parametrize("args, message", [
    (["--train", "x.txt"], "--train FILE needs --valid FILE too"),
    (["--valid", "x.txt"], "--valid and --test go with --train"),
    (["--train", "x.txt", "--valid", "y.txt", "--data", "ptb"], "two sources"),
    (["--tokenizer", "bpe"], "unknown tokenizer 'bpe'"),
])
def test_own_text_options_bad_input(args, message, tmp_path, capsys):
    assert main(["lm", "train", *args, "--out", str(tmp_path / "r")]) == 2
    assert message in capsys.readouterr().err
