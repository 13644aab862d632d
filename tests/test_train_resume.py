"""A real training process killed with SIGKILL, twice, resumes to the same result bit for bit."""
import json
import os
import random
import signal
import subprocess
import sys
import time

import torch

from groundup.train.state_io import load_state


def write_toy_folder(folder, seed=0):
    r = random.Random(seed)
    subj = ["the cat", "a dog", "my friend", "she", "he"]
    verb = ["sees", "likes", "eats", "finds"]
    obj = ["the fish", "a ball", "the red apple", "some bread"]
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in [("train.txt", 300), ("valid.txt", 60), ("test.txt", 60)]:
        text = "\n".join(f"{r.choice(subj)} {r.choice(verb)} {r.choice(obj)}" for _ in range(n))
        (folder / name).write_text(text + "\n")
    return folder


def _cmd(data, out):
    # dropout > 0 makes the run depend on the torch RNG, which the checkpoint must restore
    return [sys.executable, "-m", "groundup.cli", "lm", "train", "--data", str(data),
            "--model", "lstm", "--emb-size", "16", "--hidden-size", "16", "--num-layers", "2",
            "--dropout", "0.2", "--batch-size", "4", "--bptt", "8", "--epochs", "2",
            "--schedule", "step", "--decay-after", "1", "--threads", "1",
            "--checkpoint-every", "7", "--out", str(out)]


def _lines(path):
    try:
        return path.read_text().count("\n")
    except FileNotFoundError:
        return 0


def _steps(out):
    recs = [json.loads(s) for s in (out / "metrics.jsonl").read_text().splitlines()]
    return [(r["kind"], r["step"], r.get("loss"), r.get("valid_loss")) for r in recs]


def test_sigkill_then_resume_gives_the_same_model(tmp_path):
    data = write_toy_folder(tmp_path / "data")
    env = dict(os.environ, GROUNDUP_PROGRESS="0")
    a_out, b_out = tmp_path / "uninterrupted", tmp_path / "killed"
    a = subprocess.Popen(_cmd(data, a_out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # ~63 steps per epoch: kill once mid-epoch 1 and once in epoch 2 (after the epoch record)
    for kill_at in (25, 95):
        b = subprocess.Popen(_cmd(data, b_out), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while _lines(b_out / "metrics.jsonl") < kill_at and b.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert b.poll() is None, "the run ended before it could be killed"
        b.send_signal(signal.SIGKILL)
        b.wait()
        assert not (b_out / "final.json").exists()
    done = subprocess.run(_cmd(data, b_out), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resuming" in done.stderr
    assert a.wait(timeout=300) == 0, a.stderr.read().decode()[-2000:]

    ca, cb = load_state(a_out / "checkpoint.pt"), load_state(b_out / "checkpoint.pt")
    assert ca["position"]["step"] == cb["position"]["step"] > 95
    for k in ca["model"]:
        assert torch.equal(ca["model"][k], cb["model"][k]), k
    for k in ("valid_perplexity", "test_perplexity", "epochs", "steps"):
        assert json.loads((a_out / "final.json").read_text())[k] == \
            json.loads((b_out / "final.json").read_text())[k]
    # the log was cut back to the checkpoint on each resume: no duplicated or missing records
    assert _steps(a_out) == _steps(b_out)


def test_resume_accepts_a_checkpoint_from_before_a_config_field_existed(tmp_path):
    """A field added to the configs later reads as its default; a changed setting is still refused."""
    from pathlib import Path

    import pytest

    from groundup.errors import ConfigError
    from groundup.train import distributed
    from groundup.train.config import make_config
    from groundup.train.engine import _check_resumable

    cfg = make_config("quick", overrides={"threads": 1})
    info = distributed.DistInfo(rank=0, world_size=1, local_rank=0)
    old = cfg.to_dict()
    del old["decay_embeddings"], old["model"]["init_range"]   # written before they existed
    _check_resumable(cfg, {"config": old, "world_size": 1}, info, Path("ck.pt"))
    changed = make_config("quick", overrides={"threads": 1, "decay_embeddings": False})
    with pytest.raises(ConfigError, match="decay_embeddings=True"):
        _check_resumable(changed, {"config": old, "world_size": 1}, info, Path("ck.pt"))
    other = dict(old, model=dict(old["model"], hidden_size=cfg.model.hidden_size + 1))
    with pytest.raises(ConfigError, match="model.hidden_size"):
        _check_resumable(cfg, {"config": other, "world_size": 1}, info, Path("ck.pt"))
