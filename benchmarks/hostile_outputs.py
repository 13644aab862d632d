"""Hostile output paths, run through the CLI as a user would: what each command does when its
output is an input, a device, a symlink, a folder, a FIFO, another run's file, a busy folder, a
full disk, ... (issue 15, the output half).

    .venv/bin/python benchmarks/hostile_outputs.py                        # this checkout
    .venv/bin/python benchmarks/hostile_outputs.py --src before=/tmp/old/src --src after=src \\
        --json /tmp/hostile_outputs.json

Each case runs in a fresh temporary folder, once per ``--src`` tree (``PYTHONPATH`` points
there), and is classified from what is left on disk and what was printed:

* ``ok``: exit 0 and the right result (device still a device, link kept, umask's mode, ...);
* ``clean error``: non-zero exit, one ``groundup: error:`` line, nothing harmed;
* ``traceback``, ``hang`` (past the time limit), ``destroyed input`` (an input changed or
  gone), ``device replaced`` (a device node became a file), ``silent overwrite`` (a file,
  link, FIFO or earlier run that the command did not create was replaced or deleted, or two
  runs wrote one folder);
* and, for the smaller items: ``created folders`` (missing parents made silently),
  ``mode 0600`` (umask ignored), ``stray tmp`` (a killed writer's temporary file left after
  the next run), ``late error`` (refused only after the work), ``error without path`` (a
  disk-full or write error that does not name the file, or names a temporary file).

Device cases need root (mknod of a /dev/null or /dev/full twin in the temporary folder) and
the full-disk case a 32 KiB tmpfs (mount); they are skipped otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import load_average, markdown_table, write_json  # noqa: E402

TIMEOUT = 240
LM_SMALL = ["--model", "gru", "--emb-size", "8", "--hidden-size", "8", "--num-layers", "1",
            "--batch-size", "4", "--bptt", "6", "--threads", "1"]
W2V_SMALL = ["--dim", "8", "--min-count", "1", "--epochs", "1", "--threads", "1"]
KILL_IN_FSYNC = ("import os, signal, sys; os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL); "
                 "from groundup.cli import main; main(sys.argv[1:])")


# --- one run ----------------------------------------------------------------------------------
class Run:
    def __init__(self, src: str, d: Path):
        self.src, self.d = src, d
        self.env = {**os.environ, "PYTHONPATH": src, "GROUNDUP_PROGRESS": "0"}

    def argv(self, args) -> list[str]:
        return [sys.executable, "-m", "groundup", *map(str, args)]

    def __call__(self, *args, umask: int | None = None, code: str | None = None) -> dict:
        cmd = [sys.executable, "-c", code, *map(str, args)] if code else self.argv(args)
        pre = (lambda: os.umask(umask)) if umask is not None else None
        t0 = time.perf_counter()
        try:
            r = subprocess.run(cmd, cwd=self.d, env=self.env, capture_output=True, text=True,
                               timeout=TIMEOUT, preexec_fn=pre)
        except subprocess.TimeoutExpired:
            return {"rc": None, "err": "", "seconds": TIMEOUT}
        return {"rc": r.returncode, "err": r.stderr, "seconds": round(time.perf_counter() - t0, 2)}

    def popen(self, *args):
        return subprocess.Popen(self.argv(args), cwd=self.d, env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)


def last_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def judge(r: dict, *, harmed: str | None = None, ok: str | None = "ok",
          error_needs: tuple[str, ...] = (), error_label: str = "error without path") -> str:
    """The class of one run: ``harmed`` is the damage found on disk (a label) or None; ``ok``
    the label of a successful run (None when success itself is wrong: the case wanted an error,
    so exit 0 with nothing harmed is a silent overwrite)."""
    if r["rc"] is None:
        return "hang"
    if "Traceback" in r["err"]:
        return "traceback"
    if harmed:
        return harmed
    if r["rc"] == 0:
        return ok or "silent overwrite"
    line = last_line(r["err"])
    if not line.startswith("groundup: error:"):
        return "unclear error"
    return "clean error" if all(n in line for n in error_needs) else error_label


def changed(path: Path, before: bytes) -> bool:
    return not path.is_file() or path.read_bytes() != before


def is_chr(path: Path) -> bool:
    return stat.S_ISCHR(os.lstat(path).st_mode)


# --- fixtures in the case's folder ------------------------------------------------------------
def corpus(d: Path, name: str = "c.txt", words: int = 12, lines: int = 200) -> Path:
    import random

    r = random.Random(0)
    vocab = [f"w{i}" for i in range(words)]
    p = d / name
    p.write_text("".join(" ".join(r.choices(vocab, k=6)) + "\n" for _ in range(lines)))
    return p


def vectors(d: Path) -> Path:
    p = d / "v.txt"
    p.write_text("2 3\nx 0.125 -0.5 0.25\ny 1.5 2.0 -3.0\n")
    return p


def run_dir(d: Path) -> Path:
    run = d / "run"
    run.mkdir()
    recs = [{"kind": "step", "step": s, "epoch": 1, "loss": 3.0 - s / 10} for s in range(1, 6)]
    recs.append({"kind": "epoch", "epoch": 1, "train_perplexity": 9.0, "valid_perplexity": 10.0})
    (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in recs))
    return run


def lm_data(d: Path) -> Path:
    f = d / "data"
    f.mkdir()
    for name, n in [("train.txt", 200), ("valid.txt", 30), ("test.txt", 30)]:
        (f / name).write_text("".join(f"w{i % 7} w{i % 5} w{i % 3} w{i % 2}\n" for i in range(n)))
    return f


def device(d: Path, name: str, minor: int) -> Path | None:
    p = d / name
    try:
        os.mknod(p, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except (PermissionError, OSError):
        return None
    return p


# --- the cases --------------------------------------------------------------------------------
CASES: list[tuple[str, str, object]] = []   # (name, wanted, fn(run) -> label | None to skip)


def case(name: str, wanted: str):
    def deco(fn):
        CASES.append((name, wanted, fn))
        return fn
    return deco


def _input_is_output(run: Run, args_for, protect: Path) -> str:
    before = protect.read_bytes()
    r = run(*args_for())
    return judge(r, harmed="destroyed input" if changed(protect, before) else None, ok=None)


@case("ngram build c.txt -o c.txt", "clean error")
def _(run):
    c = corpus(run.d)
    return _input_is_output(run, lambda: ["ngram", "build", c, "--order", 2, "-o", c], c)


@case("ngram build c.txt -o LINK (symlink to c.txt)", "clean error")
def _(run):
    c = corpus(run.d)
    (run.d / "link").symlink_to(c)
    return _input_is_output(run, lambda: ["ngram", "build", c, "--order", 2, "-o", "link"], c)


@case("ngram build c.txt -o HARD (hard link to c.txt)", "clean error")
def _(run):
    c = corpus(run.d)
    os.link(c, run.d / "hard")
    return _input_is_output(run, lambda: ["ngram", "build", c, "--order", 2, "-o", "hard"], c)


@case("word2vec train c.txt -o c.txt", "clean error")
def _(run):
    c = corpus(run.d)
    return _input_is_output(run, lambda: ["word2vec", "train", c, *W2V_SMALL, "-o", c], c)


@case("word2vec export v.txt -o v.txt", "clean error")
def _(run):
    v = vectors(run.d)
    return _input_is_output(run, lambda: ["word2vec", "export", v, "-o", v], v)


@case("lm plot run --out run/metrics.jsonl", "clean error")
def _(run):
    m = run_dir(run.d) / "metrics.jsonl"
    return _input_is_output(run, lambda: ["lm", "plot", "run", "--out", m], m)


def _device_case(run: Run, minor: int, args_for) -> str | None:
    dev = device(run.d, "dev", minor)
    if dev is None:
        return None
    r = run(*args_for(dev))
    if not is_chr(dev):
        return "device replaced"
    return judge(r, error_needs=("dev", "No space left"))


@case("ngram build -o NULL (char device 1,3)", "ok")
def _(run):
    c = corpus(run.d)
    return _device_case(run, 3, lambda dev: ["ngram", "build", c, "--order", 2, "-o", dev])


@case("ngram build -o FULL (char device 1,7)", "clean error")
def _(run):
    c = corpus(run.d)
    return _device_case(run, 7, lambda dev: ["ngram", "build", c, "--order", 2, "-o", dev])


@case("word2vec train -o NULL", "ok")
def _(run):
    c = corpus(run.d)
    return _device_case(run, 3, lambda dev: ["word2vec", "train", c, *W2V_SMALL, "-o", dev])


@case("word2vec export -o NULL", "ok")
def _(run):
    v = vectors(run.d)
    return _device_case(run, 3, lambda dev: ["word2vec", "export", v, "-o", dev])


@case("word2vec export -o FULL", "clean error")
def _(run):
    v = vectors(run.d)
    return _device_case(run, 7, lambda dev: ["word2vec", "export", v, "-o", dev])


@case("lm plot --out NULL", "ok")
def _(run):
    run_dir(run.d)
    return _device_case(run, 3, lambda dev: ["lm", "plot", "run", "--out", dev])


@case("ngram build -o LINK (symlink to an older model)", "ok")
def _(run):
    c = corpus(run.d)
    (run.d / "real.npz").write_bytes(b"PK\x05\x06" + bytes(18))   # an (empty) zip: a model file
    (run.d / "m.npz").symlink_to("real.npz")
    r = run("ngram", "build", c, "--order", 2, "-o", "m.npz")
    kept = (run.d / "m.npz").is_symlink() and (run.d / "real.npz").stat().st_size > 22
    return judge(r, harmed=None if kept or r["rc"] else "silent overwrite")


@case("word2vec export -o LINK.txt (symlink to older vectors)", "ok")
def _(run):
    v = vectors(run.d)
    (run.d / "real.txt").write_text("1 3\nz 0 0 0\n")
    (run.d / "out.txt").symlink_to("real.txt")
    r = run("word2vec", "export", v, "-o", "out.txt")
    kept = (run.d / "out.txt").is_symlink() and (run.d / "real.txt").read_text().startswith("2 3")
    return judge(r, harmed=None if kept or r["rc"] else "silent overwrite")


@case("ngram build -o FOLDER", "clean error")
def _(run):
    c = corpus(run.d)
    (run.d / "d").mkdir()
    r = run("ngram", "build", c, "--order", 2, "-o", "d")
    return judge(r, harmed=None if (run.d / "d").is_dir() else "silent overwrite", ok=None)


@case("word2vec train -o FOLDER (refused before training?)", "clean error")
def _(run):
    c = corpus(run.d)
    (run.d / "d").mkdir()
    r = run("word2vec", "train", c, *W2V_SMALL, "-o", "d")
    label = judge(r, harmed=None if (run.d / "d").is_dir() else "silent overwrite", ok=None)
    return "late error" if label == "clean error" and "epoch" in r["err"] else label


@case("lm plot --out FOLDER (error names the user's path?)", "clean error")
def _(run):
    run_dir(run.d)
    (run.d / "d").mkdir()
    r = run("lm", "plot", "run", "--out", "d")
    label = judge(r, harmed=None if (run.d / "d").is_dir() else "silent overwrite", ok=None)
    return "error without path" if label == "clean error" and ".tmp" in last_line(r["err"]) else label


@case("ngram build -o FIFO", "clean error")
def _(run):
    c = corpus(run.d)
    os.mkfifo(run.d / "f")
    r = run("ngram", "build", c, "--order", 2, "-o", "f")
    return judge(r, harmed=None if stat.S_ISFIFO(os.lstat(run.d / "f").st_mode) else "silent overwrite",
                 ok=None)


@case("ngram build -o SOCKET", "clean error")
def _(run):
    c = corpus(run.d)
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(run.d / "s"))
        r = run("ngram", "build", c, "--order", 2, "-o", "s")
        kept = stat.S_ISSOCK(os.lstat(run.d / "s").st_mode)
    return judge(r, harmed=None if kept else "silent overwrite", ok=None)


@case("ngram build -o new/sub/m.npz (missing folders)", "clean error")
def _(run):
    c = corpus(run.d)
    r = run("ngram", "build", c, "--order", 2, "-o", "new/sub/m.npz")
    return judge(r, ok="created folders")


@case("ngram build -o notes.txt (an existing text file)", "clean error")
def _(run):
    c = corpus(run.d)
    notes = run.d / "notes.txt"
    notes.write_text("my notes\n")
    r = run("ngram", "build", c, "--order", 2, "-o", notes)
    return judge(r, harmed="silent overwrite" if changed(notes, b"my notes\n") else None, ok=None)


@case("lm plot --out other.jsonl (not a PNG)", "clean error")
def _(run):
    run_dir(run.d)
    other = run.d / "other.jsonl"
    other.write_text('{"kind": "step"}\n')
    r = run("lm", "plot", "run", "--out", other)
    return judge(r, harmed="silent overwrite" if changed(other, b'{"kind": "step"}\n') else None, ok=None)


def _foreign_metrics(run: Run, *extra) -> tuple[dict, bool]:
    data = lm_data(run.d)
    out = run.d / "out"
    out.mkdir()
    theirs = b'{"kind": "step", "step": 1, "epoch": 1, "loss": 1.0}\n'
    (out / "metrics.jsonl").write_bytes(theirs)
    r = run("lm", "train", "--data", data, *LM_SMALL, "--epochs", 1, "--out", out, *extra)
    return r, changed(out / "metrics.jsonl", theirs)


@case("lm train --out DIR (another run's metrics.jsonl, no checkpoint)", "clean error")
def _(run):
    r, lost = _foreign_metrics(run)
    return judge(r, harmed="silent overwrite" if lost else None, ok=None)


@case("lm train --out DIR --force (same, replacing them)", "ok")
def _(run):
    r, _ = _foreign_metrics(run, "--force")
    return judge(r)


@case("two lm train (seeds 1, 2) into one --out at once", "clean error")
def _(run):
    data = lm_data(run.d)
    args = ["lm", "train", "--data", data, *LM_SMALL, "--epochs", 25, "--out", "out"]
    procs = [run.popen(*args, "--seed", s) for s in (1, 2)]
    outs = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            return "hang"
        outs.append({"rc": p.returncode, "err": err})
    if all(o["rc"] == 0 for o in outs):
        return "silent overwrite"        # both claim the folder's results as their own
    loser = next((o for o in outs if o["rc"] != 0), outs[0])
    return judge(loser, error_needs=("pid",), error_label="error without pid")


def _mode_case(run: Run, mask: int, want: int) -> str:
    c = corpus(run.d)
    data = lm_data(run.d)
    rs = [run("ngram", "build", c, "--order", 2, "-o", "m.npz", umask=mask),
          run("word2vec", "train", c, *W2V_SMALL, "-o", "v.bin", umask=mask),
          run("lm", "train", "--data", data, *LM_SMALL, "--epochs", 1, "--out", "out", umask=mask)]
    bad = next((r for r in rs if r["rc"] != 0), None)
    if bad is not None:
        return judge(bad)
    files = [run.d / "m.npz", run.d / "v.bin", run.d / "out" / "final.json", run.d / "out" / "best.pt"]
    modes = {stat.S_IMODE(os.stat(f).st_mode) for f in files}
    return "ok" if modes == {want} else "mode " + "/".join(f"{m:04o}" for m in sorted(modes))


@case("files written under umask 022 (ngram, word2vec, lm train)", "ok")
def _(run):
    return _mode_case(run, 0o022, 0o644)


@case("files written under umask 077", "ok")
def _(run):
    return _mode_case(run, 0o077, 0o600)


def _stray_case(run: Run, args) -> str:
    killed = run(*args, code=KILL_IN_FSYNC)
    if killed["rc"] != -signal.SIGKILL:
        return judge(killed)
    r = run(*args)
    if r["rc"] != 0:
        return judge(r)
    left = [p.name for p in run.d.rglob(".*.tmp")]
    return f"stray tmp ({len(left)})" if left else "ok"


@case("ngram build killed mid-write, then run again: .tmp left?", "ok")
def _(run):
    c = corpus(run.d)
    return _stray_case(run, ["ngram", "build", c, "--order", 2, "-o", "m.npz"])


@case("word2vec train killed mid-write, then run again: .tmp left?", "ok")
def _(run):
    c = corpus(run.d)
    return _stray_case(run, ["word2vec", "train", c, *W2V_SMALL, "-o", "v.bin"])


@case("ngram build -o on a full disk (32 KiB tmpfs): path named?", "clean error")
def _(run):
    mnt = run.d / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        return None
    try:
        c = corpus(run.d, words=3000, lines=500)   # a 140 KB model
        r = run("ngram", "build", c, "--order", 2, "-o", mnt / "m.npz")
        return judge(r, error_needs=("m.npz",))
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


@case("lab rnn --quick into an --out holding an earlier run-lstm: kept?", "ok")
def _(run):
    marker = run.d / "lab" / "rnn" / "run-lstm" / "mine.txt"
    marker.parent.mkdir(parents=True)
    marker.write_text("an earlier run's file\n")
    r = run("lab", "rnn", "--quick", "--out", "lab")
    return judge(r, harmed=None if marker.exists() else "silent overwrite")


# --- driver -----------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", action="append", default=[], metavar="NAME=PATH",
                    help="a source tree to test (repeatable); default: this checkout's src")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    ap.add_argument("--skip", default="", help="skip cases whose name contains this (e.g. 'lab rnn')")
    ap.add_argument("--json", default="hostile_outputs.json")
    args = ap.parse_args(argv)
    srcs = [s.split("=", 1) for s in args.src] or [["this", str(ROOT / "src")]]
    results: dict[str, dict] = {}
    for name, wanted, fn in CASES:
        if args.only not in name or (args.skip and args.skip in name):
            continue
        results[name] = {"wanted": wanted}
        for label, src in srcs:
            with tempfile.TemporaryDirectory(prefix="hostile-") as d:
                t0 = time.perf_counter()
                got = fn(Run(str(Path(src).resolve()), Path(d)))
                results[name][label] = got or "skipped"
                print(f"{name} [{label}]: {got or 'skipped'} ({time.perf_counter() - t0:.1f} s)",
                      file=sys.stderr)
    labels = [lb for lb, _ in srcs]
    rows = [[n, r["wanted"], *(r[lb] for lb in labels)] for n, r in results.items()]
    print(markdown_table(["case", "wanted", *labels], rows))
    print()
    tally = {lb: {} for lb in labels}
    for r in results.values():
        for lb in labels:
            tally[lb][r[lb]] = tally[lb].get(r[lb], 0) + 1
    kinds = sorted({k for t in tally.values() for k in t})
    print(markdown_table(["outcome", *labels], [[k, *(tally[lb].get(k, 0) for lb in labels)] for k in kinds]
                         + [["as wanted", *(sum(r[lb] == r["wanted"] for r in results.values())
                                             for lb in labels)]]))
    print(f"\n{len(results)} cases; load average {load_average()}")
    write_json(args.json, {"cases": results, "tally": tally, "sources": dict(srcs),
                           "load_average": load_average()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
