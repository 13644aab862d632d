"""Issue 15's input cases, one by one: each malformed file or hopeless setting is one clear line
(exit 2) naming the file and the field, never a traceback, a hang or a silent wrong answer.
The broad mutations are in test_fuzz_loaders.py; these pin the cases the issue names."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from groundup.cli import main
from groundup.errors import ConfigError, DataError, ModelFormatError, TrainingError
from groundup.text.ngram import NgramModel

DATA = Path(__file__).parent / "data"


def cli(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err.strip()
    return code, err


def one_line_error(capsys, *args, match: str) -> None:
    """Exit 2, no traceback, and exactly one error line (progress lines may precede it)."""
    import re

    code, err = cli(capsys, *args)
    lines = err.splitlines()
    assert code == 2 and "Traceback" not in err and lines[-1].startswith("groundup: error:"), err
    assert sum(line.startswith("groundup: error:") for line in lines) == 1, err
    assert re.search(match, lines[-1]), err


# --- n-gram models -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy_npz(tmp_path_factory) -> tuple[Path, dict]:
    import warnings

    path = tmp_path_factory.mktemp("ng") / "toy.npz"
    with warnings.catch_warnings():  # a 3-sentence corpus: Katz falls back, says so
        warnings.simplefilter("ignore")
        NgramModel.build_from_text((DATA / "ngram_toy.txt").read_text().splitlines(), 2, "katz").save(path)
    with np.load(path) as z:
        return path, {k: z[k] for k in z.files}


def _npz(tmp_path: Path, arrays: dict, **changes) -> Path:
    out = tmp_path / "bad.npz"
    np.savez(out, **dict(arrays, **changes))
    return out


def test_binary_ngram_model_structure_is_checked(tmp_path, toy_npz):
    _, a = toy_npz
    V = len(a["keys1"])
    out_of_range = a["keys2"].copy()
    out_of_range[-1] += V * V * 5  # past n_1 * V: it used to score as another bigram (exit 0)
    nan = a["logprob2"].copy()
    nan[0] = np.nan
    cases = {"keys2 must be a 1-D array": dict(keys2=np.stack([a["keys2"], a["keys2"]])),
             "keys2 out of range": dict(keys2=out_of_range),
             "logprob2 holds NaN": dict(logprob2=nan),
             "keys2 must be integers": dict(keys2=a["keys2"].astype(float)),
             "not a valid groundup n-gram model": dict(format_version=np.array([1, 2]))}
    for msg, change in cases.items():
        with pytest.raises(ModelFormatError, match=msg):
            NgramModel.load(_npz(tmp_path, a, **change))
    assert NgramModel.load(_npz(tmp_path, a)).order == 2  # the unchanged arrays load


def test_npz_array_header_checked_against_the_archive(tmp_path, toy_npz):
    """An array header claiming 10^12 elements is refused before anything is allocated."""
    import zipfile

    _, a = toy_npz
    good = _npz(tmp_path, a).read_bytes()
    header = np.lib.format.header_data_from_array_1_0(a["keys2"])
    old = repr(header["shape"]).encode()
    new = f"({10**12},)".encode()
    assert old in good
    bad = tmp_path / "huge.npz"
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "keys2.npy":
                data = data.replace(old, new.ljust(len(old)) if len(new) <= len(old) else new, 1)
            zout.writestr(info.filename, data)
    with pytest.raises(ModelFormatError, match="keys2|not a valid"):
        NgramModel.load(bad)


def test_arpa_backoff_inf_is_refused(tmp_path):
    text = (DATA / "ngram_toy.o2.arpa").read_text().splitlines()
    i = next(i for i, line in enumerate(text) if line.count("\t") == 2 and "<s>" not in line)
    parts = text[i].split("\t")
    text[i] = "\t".join(parts[:2] + ["inf"])
    bad = tmp_path / "inf.arpa"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(ModelFormatError, match=r"1-gram backoff is \+inf"):
        NgramModel.load(bad)


@pytest.mark.parametrize("k", ["inf", "1e308", "nan", "0", "-1"])
def test_addk_with_a_k_that_cannot_give_a_model(tmp_path, capsys, k):
    one_line_error(capsys, "ngram", "build", DATA / "ngram_toy.txt", "--order", 2, "--smoothing", "addk",
                   "--k", k, "-o", tmp_path / "m.arpa",
                   match=r"k must be > 0|finite k > 0|k x V")
    assert not (tmp_path / "m.arpa").exists()


# --- word vectors --------------------------------------------------------------------------
def _vectors(tmp_path: Path) -> tuple[Path, Path]:
    from groundup.text.word2vec.formats import save_word2vec
    from groundup.text.word2vec.vectors import WordVectors

    wv = WordVectors(["man", "woman", "king", "queen"], np.random.default_rng(0).normal(size=(4, 3)))
    return save_word2vec(tmp_path / "v.txt", wv), save_word2vec(tmp_path / "v.bin", wv, binary=True)


@pytest.mark.parametrize("header", [b"%d 3" % 10**30, b"4 %d" % 10**30, b"%d %d" % (10**9, 10**4)])
@pytest.mark.parametrize("fmt", ["txt", "bin"])
def test_word2vec_absurd_header_is_refused_before_allocating(tmp_path, header, fmt):
    from groundup.text.word2vec.formats import load_word2vec

    txt, binv = _vectors(tmp_path)
    good = (txt if fmt == "txt" else binv).read_bytes()
    bad = tmp_path / f"bad.{fmt}"
    bad.write_bytes(header + good[good.index(b"\n"):])
    with pytest.raises(ModelFormatError, match="truncated|needs at least|more than"):
        load_word2vec(bad)


@pytest.mark.parametrize("cmd", ["similar", "analogy", "evaluate", "export"])
def test_word2vec_empty_word_refused_by_every_command(tmp_path, capsys, cmd):
    txt, _ = _vectors(tmp_path)
    lines = txt.read_text().splitlines()
    lines[2] = " " + lines[2].split(" ", 1)[1]  # the word 'woman' gone: the line starts with a space
    txt.write_text("\n".join(lines) + "\n")
    (tmp_path / "q.txt").write_text(": x\nman woman king queen\n")
    args = {"similar": ["man"], "analogy": ["man", "woman", "king"],
            "evaluate": ["--analogies", tmp_path / "q.txt"], "export": ["-o", tmp_path / "o.bin"]}[cmd]
    one_line_error(capsys, "word2vec", cmd, txt, *args, match="line 3: word '' is empty")
    assert not (tmp_path / "o.bin").exists()


# --- language-model checkpoints, configs, metrics --------------------------------------------
def _lm_payload():
    from groundup.train.config import make_config
    from groundup.train.families import build_model

    cfg = make_config(None, overrides=dict(model="lstm", emb_size=4, hidden_size=4, num_layers=1,
                                           progress=False))
    vocab = ["<unk>", "<eos>", "a", "b"]
    return {"config": cfg.to_dict(), "vocab": vocab, "model": build_model(cfg.model, 4).state_dict()}


def _crafted(best: dict) -> dict:
    nan = {k: t.clone().fill_(float("nan")) for k, t in best["model"].items()}
    return {"payload is a list, expected a dict": [],
            "payload is a Tensor": torch.zeros(3),
            "(no config, vocab, model)": {},
            "'vocab' must be a list": dict(best, vocab=7),
            "(no model)": {k: v for k, v in best.items() if k != "model"},
            "'config' is not a dict": dict(best, config=None),           # found by the long fuzz
            "'config' is not a|'config' is not a dict": dict(best, config=[1, 2]),
            "training it needs at least|holding it needs at least": dict(best, config=dict(best["config"], model=dict(best["config"]["model"], hidden_size=10**8))),
            "holds NaN or infinite values": dict(best, model=nan),
            "has shape (2, 2), the config's model needs": dict(best, model={**best["model"], "encoder.weight": torch.zeros(2, 2)})}


@pytest.mark.parametrize("cmd", ["eval", "generate"])
def test_crafted_checkpoints_are_one_line(tmp_path, capsys, cmd):
    from groundup.train.state_io import save_state as save_checkpoint

    for i, (msg, payload) in enumerate(_crafted(_lm_payload()).items()):
        path = tmp_path / f"c{i}.pt"
        save_checkpoint(path, payload)
        code, err = cli(capsys, "lm", cmd, path, *(["--data", tmp_path] if cmd == "eval" else []))
        assert code == 2 and err.count("\n") == 0 and str(path) in err, err
        assert any(m in err for m in msg.split("|")), (msg, err)


def test_resume_from_a_crafted_checkpoint_is_refused(tmp_path):
    from groundup.train.state_io import save_state as save_checkpoint
    from groundup.train.config import make_config
    from groundup.train.engine import train

    best = _lm_payload()
    cfg = make_config("quick", overrides={"progress": False})
    for payload, msg in (({}, "not a resumable"), (dict(best, world_size=None), "no optimizer"),
                         ([1], "payload is a list")):
        out = tmp_path / "run"
        out.mkdir(exist_ok=True)
        save_checkpoint(out / "checkpoint.pt", payload)
        with pytest.raises(ModelFormatError, match=msg):
            train(cfg, out)


def test_config_with_an_absurd_model_size_is_bounded_by_memory(tmp_path):
    from groundup.train.config import make_config
    from groundup.train.payload_check import check_model_fits

    (tmp_path / "c.toml").write_text("hidden_size = 100000000\n")
    cfg = make_config("quick", str(tmp_path / "c.toml"))
    with pytest.raises(ConfigError, match=r"hidden_size=100000000, .* parameters; training it needs at least"):
        check_model_fits(cfg, 10_000, training=True)
    check_model_fits(make_config("quick"), 10_000, training=True)  # the preset fits
    huge = make_config("quick", overrides=dict(emb_size=10**9, hidden_size=10**9, tie_weights=True))
    with pytest.raises(ConfigError, match="overflows 64 bits|beyond this machine"):  # 4e9 x 1e9 LSTM weights
        check_model_fits(huge, 20, training=True)
    deep = make_config("quick", overrides=dict(num_layers=10**9, hidden_size=1, emb_size=1))
    with pytest.raises(ConfigError, match="at most 10,000 layers"):  # refused at once, not built
        check_model_fits(deep, 20, training=True)


def test_config_that_is_not_a_regular_file(tmp_path):
    from groundup.config import load_config_file

    os.mkfifo(tmp_path / "fifo.toml")
    with pytest.raises(ConfigError, match="is a FIFO"):
        load_config_file(tmp_path / "fifo.toml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_config_file(tmp_path)


@pytest.mark.parametrize("extra,msg", [(b"\xe9\n", "line 2: not UTF-8"), (b"[1, 2]\n", "a JSON list"),
                                       (b'{"kind": "step", "step": 2}\n', "'loss' is missing"),
                                       (b'{"kind": "step", "step": 2, "loss": "x"}\n', "'loss' is 'x'")])
def test_lm_plot_on_malformed_metrics(tmp_path, capsys, extra, msg):
    good = b'{"kind": "step", "step": 1, "loss": 5.0}\n'
    (tmp_path / "metrics.jsonl").write_bytes(good + extra + good)
    one_line_error(capsys, "lm", "plot", tmp_path, "--out", tmp_path / "c.png", match=re.escape(msg))
    assert not (tmp_path / "c.png").exists()


def test_lm_plot_skips_a_last_line_cut_by_a_kill(tmp_path):
    from groundup.train.plot import load_metrics

    (tmp_path / "m.jsonl").write_bytes(b'{"kind": "step", "step": 1, "loss": 5.0}\n{"kind": "st')
    steps, epochs = load_metrics(tmp_path / "m.jsonl")
    assert [s["step"] for s in steps] == [1] and epochs == []


def test_lr_that_overflows_stops_keeping_the_last_good_checkpoint(tmp_path):
    """lr 1e20 without clipping: the loss runs to ~1e20 nats (perplexity inf) at step 2. The
    run stops with TrainingError; the epoch-1 checkpoint of a sane first run stays as it was."""
    from groundup.train.config import make_config
    from groundup.train.engine import train

    data = tmp_path / "d"
    data.mkdir()
    rng = np.random.default_rng(0)
    words = np.array("a b c d e f g h".split())
    for split, n in (("train", 200), ("valid", 40), ("test", 40)):
        (data / f"{split}.txt").write_text("\n".join(" ".join(rng.choice(words, 6)) for _ in range(n)) + "\n")
    base = dict(data=str(data), train_tokens=0, eval_tokens=0, progress=False, threads=1)
    with pytest.raises(TrainingError, match=r"loss became .* step 2 .*stopped; the last good checkpoint"):
        train(make_config("quick", overrides=dict(base, lr=1e20, clip=0.0, epochs=1)), tmp_path / "r1")
    assert not (tmp_path / "r1" / "checkpoint.pt").exists()


def test_lm_eval_on_nan_weights_is_an_error_not_nan(tmp_path):
    from groundup.train.state_io import save_state as save_checkpoint
    from groundup.train.engine import load_model

    best = _lm_payload()
    best["model"]["decoder.bias"] = torch.full_like(best["model"]["decoder.bias"], float("nan"))
    save_checkpoint(tmp_path / "n.pt", best)
    with pytest.raises(ModelFormatError, match=r"model.decoder.bias holds NaN"):
        load_model(tmp_path / "n.pt")


def test_metrics_fifo_never_blocks(tmp_path):
    from groundup.train.plot import load_metrics

    os.mkfifo(tmp_path / "metrics.jsonl")
    with pytest.raises(DataError, match="is a FIFO"):
        load_metrics(tmp_path / "metrics.jsonl")
