"""torchrun + DistributedDataParallel on CPU (gloo): 2 ranks == 1 process with the same global batch."""
import json
import os
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist

from groundup.train.state_io import load_state

ARGS = ["lm", "train", "--model", "lstm", "--emb-size", "16", "--hidden-size", "16",
        "--num-layers", "2", "--batch-size", "4", "--bptt", "8", "--epochs", "2",
        "--schedule", "step", "--decay-after", "1", "--threads", "1", "--checkpoint-every", "10"]


def _toy(folder):
    import random

    r = random.Random(1)
    words = "the cat a dog sees likes eats fish ball apple bread red my friend".split()
    folder.mkdir()
    for name, n in [("train.txt", 120), ("valid.txt", 30), ("test.txt", 30)]:
        (folder / name).write_text("\n".join(" ".join(r.choices(words, k=6)) for _ in range(n)) + "\n")
    return folder


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo")
def test_two_ranks_equal_one_process(tmp_path):
    data = _toy(tmp_path / "data")
    env = dict(os.environ, GROUNDUP_PROGRESS="0")
    args = ARGS + ["--data", str(data)]
    ddp = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone",
                            "--nproc_per_node", "2", "-m", "groundup.cli", *args,
                            "--out", str(tmp_path / "ddp")],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    one = subprocess.run([sys.executable, "-m", "groundup.cli", *args, "--out", str(tmp_path / "one")],
                         env=env, capture_output=True, text=True, timeout=300)
    out, err = ddp.communicate(timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    assert ddp.returncode == 0, err[-3000:]
    assert out.count("valid perplexity") == 1            # rank 0 speaks for the run

    fa = json.loads((tmp_path / "one" / "final.json").read_text())
    fb = json.loads((tmp_path / "ddp" / "final.json").read_text())
    assert fb["world_size"] == 2 and fa["steps"] == fb["steps"]
    a = load_state(tmp_path / "one" / "checkpoint.pt")["model"]
    b = load_state(tmp_path / "ddp" / "checkpoint.pt")["model"]
    # Same maths, different float32 summation order (each rank averages its half of the rows,
    # then DDP averages the two): measured max difference ~1e-7 after ~40 steps; 1e-5 leaves
    # room while still catching any sharding error (wrong rows or a missing 1/W give >1e-2).
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=1e-5, msg=k)
    assert fb["valid_perplexity"] == pytest.approx(fa["valid_perplexity"], rel=1e-5)
    # a 2-rank checkpoint holds both ranks' hidden states and RNG states
    assert len(load_state(tmp_path / "ddp" / "checkpoint.pt")["ranks"]) == 2
