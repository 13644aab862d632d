"""`word2vec train --checkpoint-every`: SIGKILL at random points, then the same command again,
gives the very vectors of an uninterrupted run (one thread), and leaves no temporary files.

Each run is a real subprocess (``python -m groundup``) killed with SIGKILL: the first kill at a
random moment of a run (start-up, training, writing), the others a random moment after a
checkpoint exists (so that resuming is exercised every time). The corpus is tiny; the epochs
are many so that training, not start-up, is most of a run.
"""
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import groundup

SRC = str(Path(groundup.__file__).resolve().parents[1])


def _env():
    env = dict(os.environ, GROUNDUP_PROGRESS="0")
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _corpus(path: Path) -> Path:
    rng = np.random.default_rng(0)
    groups = [[f"a{i}" for i in range(20)], [f"b{i}" for i in range(20)]]
    lines = [" ".join(groups[k % 2][i] for i in rng.integers(0, 20, 12)) for k in range(2500)]
    path.write_text("\n".join(lines) + "\n")        # 30,000 tokens: 3 jobs an epoch
    return path


def _cmd(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "groundup", "word2vec", "train", str(corpus), "-o", str(out), "--dim", "48",
            "--window", "4", "--min-count", "1", "--sample", "0.01", "--epochs", "12", "--threads", "1",
            "--seed", "3", *extra]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_sigkill_then_rerun_equals_an_uninterrupted_run(tmp_path):
    corpus = _corpus(tmp_path / "c.txt")
    ref_dir, run_dir = tmp_path / "ref", tmp_path / "run"
    ref_dir.mkdir(), run_dir.mkdir()
    t0 = time.monotonic()
    subprocess.run(_cmd(corpus, ref_dir / "v.bin"), env=_env(), check=True, capture_output=True)
    t_full = time.monotonic() - t0

    out, ckpt = run_dir / "v.bin", run_dir / "v.bin.ckpt"
    cmd = _cmd(corpus, out, "--checkpoint-every", "0")
    rnd = random.Random(1)
    resumed_from = 0
    mtime = lambda: ckpt.stat().st_mtime_ns if ckpt.exists() else 0
    for k in range(3):
        before = mtime()
        proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if k == 0:
            time.sleep(rnd.uniform(0.0, t_full))                  # anywhere in a run
        else:                                                       # soon after this run's first checkpoint
            while mtime() == before and proc.poll() is None:
                time.sleep(0.005)
            time.sleep(rnd.uniform(0.0, 0.2))
        proc.send_signal(signal.SIGKILL)
        err = proc.communicate()[1].decode()
        resumed_from += "resuming from" in err
        if proc.returncode == 0:                                    # it finished before the kill
            break
        if ckpt.exists():                                           # the last checkpoint loads
            with np.load(ckpt, allow_pickle=False) as z:
                assert {"syn0", "syn1neg", "rngs", "meta"} <= set(z.files)
    r = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    resumed_from += "resuming from" in r.stderr
    assert resumed_from >= 1                                        # resume really ran
    assert out.read_bytes() == (ref_dir / "v.bin").read_bytes()    # bit-identical vectors
    assert not ckpt.exists()                                        # finished: the checkpoint goes
    assert _leftovers(run_dir) == []                                # and no temporary file stays


def test_temporaries_of_a_killed_write_are_removed_by_the_next_run(tmp_path):
    """A kill inside an atomic write leaves `.NAME.pid<PID>.XXXX.tmp` (groundup.io's naming);
    the next run that writes into the folder removes those of dead writers, and nothing else."""
    corpus = _corpus(tmp_path / "c.txt")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()                 # a pid that has exited
    for name in (f".v.bin.pid{dead}.abcd_123.tmp", f".v.bin.ckpt.pid{dead}.zz9q8x1.tmp"):
        (tmp_path / name).write_bytes(b"half")
    (tmp_path / ".other.bin.tmp").write_bytes(b"not a temporary of ours")
    r = subprocess.run(_cmd(corpus, tmp_path / "v.bin", "--epochs", "1"), env=_env(), capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert _leftovers(tmp_path) == [".other.bin.tmp"]


def test_checkpoint_every_must_be_a_number_of_seconds(tmp_path, capsys):
    from groundup.cli import main

    corpus = _corpus(tmp_path / "c.txt")
    assert main(["word2vec", "train", str(corpus), "-o", str(tmp_path / "v.bin"), "--checkpoint-every", "-1"]) == 2
    assert "checkpoint interval must be a finite number of seconds >= 0, got -1" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a pseudo-terminal")
def test_nan_error_is_one_clean_line_after_the_progress_bar(tmp_path):
    """On a terminal the progress bar is drawn; a loss that overflows stops the run with exit 2
    and one error line that starts at the line's beginning (the bar cleared first)."""
    import fcntl
    import pty
    import struct
    import termios

    corpus = _corpus(tmp_path / "c.txt")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))   # a 100-column terminal
    env = dict(_env())
    env.pop("GROUNDUP_PROGRESS")
    proc = subprocess.Popen(_cmd(corpus, tmp_path / "v.bin", "--alpha", "1e30", "--min-alpha", "0"), env=env,
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 2
    text = b"".join(chunks).decode(errors="replace")
    errors = [m for m in re.finditer(r"groundup: error: [^\r\n]*", text)]
    assert len(errors) == 1, text
    assert re.search(r"loss became (nan|inf) in epoch 1", errors[0].group())
    before = text[:errors[0].start()]
    assert before == "" or before[-1] in "\r\n", repr(before[-80:])  # starts at column 0
    assert "word2vec sg/ns" in before                                  # the bar was there
