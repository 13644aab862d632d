"""The output policy (groundup.io), through the commands a user runs: no command replaces an
input, a device, a symlink, a folder, a FIFO or another run's file; files get the umask's mode;
a folder in use is locked; a killed writer's temporary file is removed by the next write.

Commands run in-process (``groundup.cli.main``) except where a second process is the point
(a concurrent run, a writer killed mid-write). Device nodes are made with mknod in the test's
folder (as root), never the machine's /dev/null or /dev/full.
"""
from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

from groundup.cli import main
from groundup.errors import OutputError
from groundup import io as gio

ENV = {**os.environ, "GROUNDUP_PROGRESS": "0",
       "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(gio.__file__)),
                                      os.environ.get("PYTHONPATH", "")])}
LM_SMALL = ["--model", "gru", "--emb-size", "8", "--hidden-size", "8", "--num-layers", "1",
            "--batch-size", "4", "--bptt", "6", "--threads", "1"]


@pytest.fixture
def run(capsys):
    """Run the CLI in-process; return (exit code, stderr)."""
    def call(*args):
        code = main([str(a) for a in args])
        return code, capsys.readouterr().err
    return call


def _one_line_error(code, err, *needles):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("groundup: error:") and "Traceback" not in err, err
    for n in needles:
        assert str(n) in lines[-1], (n, err)


@pytest.fixture
def corpus(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("".join(f"a{i % 5} b{i % 3} a{i % 4} b{i % 2}\n" for i in range(60)))
    return p


@pytest.fixture
def vectors(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("2 3\nx 0.125 -0.5 0.25\ny 1.5 2.0 -3.0\n")
    return p


@pytest.fixture
def run_dir(tmp_path):
    """A training folder with a metrics.jsonl, as `lm plot` reads it (no training needed)."""
    d = tmp_path / "run"
    d.mkdir()
    (d / "metrics.jsonl").write_text('{"kind": "step", "step": 1, "epoch": 1, "loss": 3.0}\n'
                                     '{"kind": "step", "step": 2, "epoch": 1, "loss": 2.5}\n')
    return d


def _lm_data(folder):
    folder.mkdir()
    for name, n in [("train.txt", 80), ("valid.txt", 20), ("test.txt", 20)]:
        (folder / name).write_text("".join(f"w{i % 7} w{i % 5} w{i % 3} w{i % 2}\n" for i in range(n)))
    return folder


def _mknod(path, minor):
    """A character device like /dev/null (minor 3) or /dev/full (7), in a test folder."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("mknod needs root")
    return path


# --- an input is never an output --------------------------------------------------------------
def test_same_file_as_input_refused_by_every_command(run, tmp_path, corpus, vectors, run_dir):
    before = corpus.read_bytes()
    (tmp_path / "link").symlink_to(corpus)
    os.link(corpus, tmp_path / "hard")
    for out in (corpus, tmp_path / "link", tmp_path / "hard"):
        _one_line_error(*run("ngram", "build", corpus, "--order", "2", "-o", out), "is the input")
    _one_line_error(*run("word2vec", "train", corpus, "--min-count", "1", "-o", corpus), "is the input")
    assert corpus.read_bytes() == before
    v = vectors.read_bytes()
    _one_line_error(*run("word2vec", "export", vectors, "-o", vectors), "is the input")
    assert vectors.read_bytes() == v
    m = (run_dir / "metrics.jsonl").read_bytes()
    _one_line_error(*run("lm", "plot", run_dir, "--out", run_dir / "metrics.jsonl"), "is the input")
    assert (run_dir / "metrics.jsonl").read_bytes() == m
    folder = tmp_path / "corpus_dir"          # a folder input stands for the files in it
    folder.mkdir()
    (folder / "part.txt").write_bytes(before)
    _one_line_error(*run("ngram", "build", folder / "part.txt", "--order", "2", "-o",
                         folder / "part.txt"), "is the input")


# --- devices: written to, never replaced ------------------------------------------------------
def test_char_device_is_written_to_and_stays_a_device(run, tmp_path, corpus, vectors, run_dir):
    null = _mknod(tmp_path / "null", 3)
    for args in (["ngram", "build", corpus, "--order", "2", "-o", null],
                 ["word2vec", "export", vectors, "-o", null],
                 ["lm", "plot", run_dir, "--out", null]):
        code, err = run(*args)
        assert code == 0, err
        assert stat.S_ISCHR(os.stat(null).st_mode), args
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_full_device_is_one_line_naming_it(run, tmp_path, corpus):
    full = _mknod(tmp_path / "full", 7)
    _one_line_error(*run("ngram", "build", corpus, "--order", "2", "-o", full), full, "No space left")
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_full_disk_names_the_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(gio.os, "fsync", no_space)
    target = tmp_path / "model.arpa"
    with pytest.raises(OutputError, match=f"{target}: cannot write \\(No space left on device\\)"):
        gio.write_text(target, "x\n")
    assert list(tmp_path.iterdir()) == []


# --- symlinks: the link is kept, the file it points to replaced -------------------------------
def test_symlink_output_replaces_its_target_and_keeps_the_link(run, tmp_path, corpus, vectors):
    real = tmp_path / "real.npz"
    real.write_bytes(b"")
    link = tmp_path / "model.npz"
    link.symlink_to(real.name)
    assert run("ngram", "build", corpus, "--order", "2", "-o", link)[0] == 0
    assert link.is_symlink() and os.readlink(link) == real.name
    assert real.read_bytes()[:2] == b"PK"
    dangling = tmp_path / "out.txt"           # a link to a file yet to be written
    dangling.symlink_to(tmp_path / "made.txt")
    assert run("word2vec", "export", vectors, "-o", dangling)[0] == 0
    assert dangling.is_symlink() and (tmp_path / "made.txt").read_text().startswith("2 3\n")


# --- folders, FIFOs, sockets, missing folders: refused before any work ------------------------
def test_folder_fifo_socket_refused_before_work(run, tmp_path, corpus, run_dir):
    folder = tmp_path / "d"
    folder.mkdir()
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        for out, what in ((folder, "a folder"), (fifo, "a FIFO"), (sock_path, "a socket")):
            _one_line_error(*run("ngram", "build", corpus, "--order", "2", "-o", out), out, what)
    assert folder.is_dir() and stat.S_ISFIFO(os.stat(fifo).st_mode)
    t0 = time.perf_counter()
    code, err = run("word2vec", "train", corpus, "--min-count", "1", "--epochs", "50", "-o", folder)
    _one_line_error(code, err, "a folder")
    assert "epoch" not in err and time.perf_counter() - t0 < 5   # refused before training
    code, err = run("lm", "plot", run_dir, "--out", folder)
    _one_line_error(code, err, folder)
    assert ".tmp" not in err                    # the user's path, not a temporary file's


def test_missing_parent_folder_refused_not_created(run, tmp_path, corpus):
    out = tmp_path / "new" / "sub" / "m.arpa"
    _one_line_error(*run("ngram", "build", corpus, "--order", "2", "-o", out), out.parent,
                    "does not exist")
    assert not (tmp_path / "new").exists()


# --- modes follow the umask -------------------------------------------------------------------
@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_files_get_the_umask_mode(run, tmp_path, corpus, mask, mode):
    old = os.umask(mask)
    try:
        assert gio.umask() == mask
        assert run("ngram", "build", corpus, "--order", "2", "-o", tmp_path / "m.npz")[0] == 0
        gio.write_text(tmp_path / "t.txt", "x")
    finally:
        os.umask(old)
    for name in ("m.npz", "t.txt"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == mode, name


# --- files of another kind need --force -------------------------------------------------------
def test_another_kind_of_file_needs_force(run, tmp_path, corpus, run_dir):
    other = tmp_path / "other.jsonl"
    other.write_text('{"kind": "step"}\n')
    _one_line_error(*run("lm", "plot", run_dir, "--out", other), "not a PNG or JPEG", "--force")
    assert other.read_text() == '{"kind": "step"}\n'
    assert run("lm", "plot", run_dir, "--out", other, "--force")[0] == 0
    assert other.read_bytes().startswith(b"\x89PNG")
    text = tmp_path / "notes.txt"
    text.write_text("my notes\n")
    _one_line_error(*run("ngram", "build", corpus, "--order", "2", "-o", text), "--force")
    assert text.read_text() == "my notes\n"
    assert run("ngram", "build", corpus, "--order", "2", "-o", tmp_path / "m.npz")[0] == 0
    assert run("ngram", "build", corpus, "--order", "2", "-o", tmp_path / "m.npz")[0] == 0  # a model


def test_lm_train_refuses_another_runs_metrics_without_force(run, tmp_path):
    data = _lm_data(tmp_path / "data")
    out = tmp_path / "run"
    out.mkdir()
    theirs = '{"kind": "step", "step": 1, "loss": 1.0}\n'
    (out / "metrics.jsonl").write_text(theirs)
    _one_line_error(*run("lm", "train", "--data", data, *LM_SMALL, "--epochs", "1", "--out", out),
                    "metrics.jsonl", "--force")
    assert (out / "metrics.jsonl").read_text() == theirs
    assert run("lm", "train", "--data", data, *LM_SMALL, "--epochs", "1", "--out", out, "--force")[0] == 0
    assert (out / "metrics.jsonl").read_text() != theirs and (out / "checkpoint.pt").exists()
    assert not (out / gio.LOCK_NAME).exists()   # released, and the lock file removed


# --- locks ------------------------------------------------------------------------------------
def test_second_lm_train_into_a_busy_folder_names_the_holder(run, tmp_path):
    data = _lm_data(tmp_path / "data")
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "groundup", "lm", "train", "--data", str(data),
                              *LM_SMALL, "--epochs", "100000", "--out", str(out)],
                             env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = out / gio.LOCK_NAME
        deadline = time.monotonic() + 120
        while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
            assert first.poll() is None and time.monotonic() < deadline, "first run never locked"
            time.sleep(0.05)
        _one_line_error(*run("lm", "train", "--data", data, *LM_SMALL, "--epochs", "1",
                             "--out", out), f"pid {first.pid}")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    gio.check_output_folder(out)             # the killed holder's lock died with it
    gio.release_locks()


def test_lab_and_ngram_outputs_are_locked(run, tmp_path, corpus):
    mark = gio.held_locks()                  # as if another process held them
    gio.check_output_folder(tmp_path / "lab")
    gio.check_output(tmp_path / "m.npz")
    try:
        _one_line_error(*run("lab", "activations", "--out", tmp_path / "lab"), f"pid {os.getpid()}")
        _one_line_error(*run("ngram", "build", corpus, "--order", "2", "-o", tmp_path / "m.npz"),
                        f"pid {os.getpid()}")
    finally:
        gio.release_locks(mark)
    assert not (tmp_path / "m.npz").exists()


# --- killed writers' temporary files; earlier runs' folders ----------------------------------
def test_next_write_removes_a_killed_writers_temporary_file(run, tmp_path, corpus):
    kill_in_fsync = ("import os, signal, sys; os.fsync = lambda fd: os.kill(os.getpid(), "
                     "signal.SIGKILL); from groundup.cli import main; main(sys.argv[1:])")
    out = tmp_path / "m.npz"
    r = subprocess.run([sys.executable, "-c", kill_in_fsync, "ngram", "build", str(corpus), "--order",
                        "2", "-o", str(out)], env=ENV, capture_output=True, timeout=300)
    assert r.returncode == -signal.SIGKILL
    stray = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(stray) == 1 and stray[0].name.startswith(".m.npz.pid")
    live = tmp_path / f".other.pid{os.getppid()}.abcdefgh.tmp"   # a live writer's: kept
    live.write_text("")
    assert run("ngram", "build", corpus, "--order", "2", "-o", out)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == [live.name]


def test_new_folder_keeps_earlier_runs(tmp_path):
    first = gio.new_folder(tmp_path, "run-lstm")
    (first / "final.json").write_text("{}")
    second = gio.new_folder(tmp_path, "run-lstm")
    assert second.name == "run-lstm-2" and (first / "final.json").read_text() == "{}"
