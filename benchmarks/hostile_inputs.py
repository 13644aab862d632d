"""Malformed inputs through every command that reads a model, vector, checkpoint, config or
metrics file, classified as a hostile user would see them (issue 15's before/after table).

    python benchmarks/hostile_inputs.py [--groundup SRC] [--work DIR] [--timeout 10] [--json OUT]

``--groundup SRC`` is the ``src`` folder of the checkout under test (default: this one), so the
same harness runs against an older commit (``git worktree add /tmp/before COMMIT``). Valid
files are first made with that checkout's own CLI (an n-gram model, word vectors, a tiny LM
run); each case then damages one of them and runs one command. Classes:

* ``clean``     exit 2 and exactly one stderr line ``groundup: error: ...``
* ``traceback`` a Python traceback on stderr
* ``silent``    exit 0 on an input the case knows is invalid (a wrong answer, or nonsense accepted)
* ``hang``      still running after ``--timeout`` s and blocked on a FIFO or pipe (the kernel's
                wait channel says so), or still running after 30x the timeout
* ``ok``        exit 0 where that is right (the controls: the valid files)
* ``other``     any other exit (killed, a non-one-line error)

Prints a Markdown table per category and writes every case (command, exit, stderr's last line)
as JSON.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("clean", "traceback", "silent", "hang", "ok", "other")


# --- running one command -------------------------------------------------------------------
def _blocked(pid: int) -> bool:
    """Asleep in the kernel waiting for a FIFO's other end or a pipe's data (/proc/PID/wchan:
    wait_for_partner, pipe_read, ...): a process that can never go on by itself."""
    try:
        where = Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False
    return any(k in where for k in ("partner", "pipe", "fifo"))


def run(args: list[str], env: dict, cwd: Path, timeout: float) -> tuple[int | None, str, str, float]:
    """(exit code or None for a hang, stdout, stderr, seconds)."""
    import tempfile

    t0 = time.perf_counter()
    # files, not pipes: a child blocked writing to a full pipe would look like a hang
    fout, ferr = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    p = subprocess.Popen([sys.executable, "-m", "groundup", *args], env=env, cwd=cwd,
                         stdin=subprocess.DEVNULL, stdout=fout, stderr=ferr)

    def done():
        p.wait()
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read().decode(errors="replace"), ferr.read().decode(errors="replace")
        fout.close()
        ferr.close()
        return p.returncode, out, err, time.perf_counter() - t0

    try:
        p.wait(timeout=timeout)
        return done()
    except subprocess.TimeoutExpired:
        pass
    # Past the timeout: a process blocked on a FIFO is a hang at once; one that is merely slow
    # (a loaded machine: CPU pressure starves every process) gets up to 30x the timeout.
    while time.perf_counter() < t0 + 30 * timeout:
        if _blocked(p.pid):
            break
        try:
            p.wait(timeout=1)
            return done()
        except subprocess.TimeoutExpired:
            pass
    p.kill()
    _, out, err, secs = done()
    return None, out, err, secs


def classify(code: int | None, err: str, expect: str) -> str:
    if code is None:
        return "hang"
    if "Traceback (most recent call last)" in err:
        return "traceback"
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if code == 2 and len(lines) >= 1 and lines[-1].startswith("groundup: error:") and sum(
            line.startswith("groundup: error:") for line in lines) == 1:
        return "clean"
    if code == 0:
        return "ok" if expect == "ok" else "silent"
    return "other"


# --- valid files, then damaged ones --------------------------------------------------------
def _sentences(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    words = "the cat sat on a mat dog ran to park and big red ball king queen man woman".split()
    return "\n".join(" ".join(rng.choice(words, rng.integers(4, 12))) for _ in range(n)) + "\n"


def checkpoint_bytes(payload) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(payload, buf)
    data = buf.getvalue()
    return b"GROUNDUP-CHECKPOINT 1 %d %s\n" % (len(data), hashlib.sha256(data).hexdigest().encode()) + data


def read_checkpoint(path: Path):
    import torch

    raw = path.read_bytes()
    return torch.load(io.BytesIO(raw[raw.index(b"\n") + 1:]), weights_only=True)


class Cases:
    def __init__(self, work: Path, env: dict, timeout: float):
        self.work, self.env, self.timeout = work, env, timeout
        self.items: list[dict] = []

    def file(self, name: str, data: bytes | str) -> Path:
        p = self.work / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return p

    def fifo(self, name: str) -> Path:
        p = self.work / name
        os.mkfifo(p)
        return p

    def add(self, category: str, name: str, args: list, expect: str = "error") -> None:
        self.items.append({"category": category, "case": name, "args": [str(a) for a in args],
                           "expect": expect})

    def run_all(self, jobs: int) -> list[dict]:
        from concurrent.futures import ThreadPoolExecutor

        def one(c: dict) -> None:
            code, out, err, secs = run(c["args"], self.env, self.work, self.timeout)
            c.update(exit=code, seconds=round(secs, 1), result=classify(code, err, c["expect"]),
                     stderr_tail=(err.strip().splitlines() or [""])[-1][:300],
                     stdout_head=out.strip()[:120])
            print(f"{c['category']:10s} {c['result']:9s} {c['case']}", file=sys.stderr)

        with ThreadPoolExecutor(jobs) as pool:  # a blocked case costs a slot, not the whole run
            list(pool.map(one, self.items))
        return self.items


def build_valid(c: Cases) -> dict:
    w = c.work
    (w / "lmdata").mkdir()
    for split, n, seed in (("train", 300, 1), ("valid", 40, 2), ("test", 40, 3)):
        (w / "lmdata" / f"{split}.txt").write_text(_sentences(n, seed))
    c.file("corpus.txt", _sentences(400, 4))
    c.file("test.txt", _sentences(20, 5))
    c.file("analogies.txt", ": family\nking queen man woman\nman woman king queen\n")
    steps = [
        ["ngram", "build", "corpus.txt", "--order", "3", "-o", "model.arpa"],
        ["ngram", "build", "corpus.txt", "--order", "2", "-o", "model.npz"],
        ["ngram", "binarize", "model.arpa", "model.bin"],
        ["word2vec", "train", "corpus.txt", "-o", "vec.txt", "--dim", "8", "--epochs", "1", "--min-count", "1",
         "--threads", "1"],
        ["word2vec", "export", "vec.txt", "-o", "vec.bin"],
        ["lm", "train", "--preset", "quick", "--data", "lmdata", "--train-tokens", "0", "--eval-tokens", "0",
         "--epochs", "1", "--emb-size", "8", "--hidden-size", "8", "--progress", "false", "--out", "run"],
    ]
    for args in steps:
        code, out, err, _ = run(args, c.env, w, 600)
        if code != 0:
            raise SystemExit(f"setup failed: groundup {' '.join(args)}\n{err}")
    return {"arpa": (w / "model.arpa").read_bytes(), "npz": w / "model.npz", "bin": (w / "model.bin").read_bytes(),
            "vec_txt": (w / "vec.txt").read_bytes(), "vec_bin": (w / "vec.bin").read_bytes(),
            "best": read_checkpoint(w / "run" / "best.pt"), "ckpt": read_checkpoint(w / "run" / "checkpoint.pt"),
            "metrics": (w / "run" / "metrics.jsonl").read_bytes()}


def _damaged_bins(good: bytes) -> dict[str, tuple[bytes, str]]:
    """The memory-mapped model (text/ngram/binary.py) damaged in its header and values."""
    def i8(data: bytes, at: int, value: int) -> bytes:
        return data[:at] + np.array([value], "<i8").tobytes() + data[at + 8:]

    N = int(np.frombuffer(good[24:32], "<i8")[0])
    table = 48 + 8 * (2 * N + 1)  # (offset, length) of: chars, vocab_offsets, vocab_table, keys, logprob, ..
    logprob_at = int(np.frombuffer(good[table + 64:table + 72], "<i8")[0])
    nan = good[:logprob_at + 8 * 5] + np.array([np.nan]).tobytes() + good[logprob_at + 8 * 6:]
    return {"valid (control)": (good, "ok"), "truncated": (good[: len(good) // 2], "error"),
            "wrong magic": (b"\x89NOTGRAM" + good[8:], "error"), "future version": (i8(good, 16, 99), "error"),
            "order 10^12": (i8(good, 24, 10**12), "error"), "n-gram count +1": (i8(good, 56, 10**6), "error"),
            "keys offset outside the file": (i8(good, table + 48, len(good) // 8 * 8 + 64), "error"),
            "sections overlap": (i8(good, table + 48, logprob_at), "error"), "NaN log-probability": (nan, "error"),
            "empty": (b"", "error")}


def ngram_cases(c: Cases, v: dict) -> None:
    cmds = {"eval": lambda m: ["ngram", "eval", m, "test.txt"],
            "score": lambda m: ["ngram", "score", m, "-s", "the cat sat"],
            "generate": lambda m: ["ngram", "generate", m, "-n", "2"]}
    arpa = v["arpa"].decode()
    bad = {
        "valid ARPA (control)": (v["arpa"], "ok"),
        "truncated mid-section": (v["arpa"][: len(v["arpa"]) // 2], "error"),
        "backoff inf": (_set_first_backoff(arpa, "inf"), "error"),
        "log-probability nan": (_set_first_logprob(arpa, "nan"), "error"),
        "log-probability +0.5": (_set_first_logprob(arpa, "0.5"), "error"),
        "count larger than the section": (arpa.replace("ngram 1=", "ngram 1=9", 1), "error"),
        "no \\end\\": (arpa.replace("\\end\\", ""), "error"),
        "latin-1 byte": (v["arpa"].replace(b"\\1-grams:\n", b"\\1-grams:\n-1.0\tcaf\xe9\t0\n", 1), "error"),
        "empty file": (b"", "error"),
        "binary garbage": (bytes(range(256)) * 4, "error"),
    }
    for name, (data, expect) in bad.items():
        p = c.file(f"ng/{len(c.items)}.arpa", data)
        for cmd, f in cmds.items():
            c.add("ngram", f"{cmd}: {name}", f(p), expect)
    # the binary model, structurally damaged with valid zip framing
    with np.load(v["npz"]) as z:
        arrays = {k: z[k] for k in z.files}
    base_ppl_case = dict(arrays)

    def npz(name: str, **changes) -> Path:
        a = dict(base_ppl_case)
        a.update(changes)
        buf = io.BytesIO()
        np.savez(buf, **a)
        return c.file(f"ng/{name}.npz", buf.getvalue())

    k2 = arrays["keys2"].copy()
    k2_out = k2.copy()
    k2_out[-1] = k2_out[-1] + len(arrays["keys1"]) ** 2 * 5  # past n_1 * V: another n-gram's slot
    lp2 = arrays["logprob2"].copy()
    lp2[0] = np.nan
    npzs = {
        "valid npz (control)": (npz("valid"), "ok"),
        "2-D key array": (npz("keys2d", keys2=np.stack([k2, k2])), "error"),
        "bigram keys out of range": (npz("keysout", keys2=k2_out), "error"),
        "NaN log-probability": (npz("nan", logprob2=lp2), "error"),
        "float keys": (npz("floatkeys", keys2=k2.astype(np.float64)), "error"),
        "format_version array": (npz("ver", format_version=np.array([1, 2])), "error"),
    }
    for name, (p, expect) in npzs.items():
        for cmd, f in cmds.items():
            c.add("ngram", f"{cmd}: npz {name}", f(p), expect)
    cmds["query"] = lambda m: ["ngram", "query", m, "test.txt"]
    for name, (data, expect) in _damaged_bins(v["bin"]).items():
        p = c.file(f"ng/{name.replace(' ', '-')}.bin", data)
        for cmd in ("query", "eval"):
            c.add("ngram", f"{cmd}: bin {name}", cmds[cmd](p), expect)
    for cmd, f in cmds.items():
        c.add("hang", f"ngram {cmd}: FIFO as the model", f(c.fifo(f"ng-fifo-{cmd}")))
        c.add("ngram", f"{cmd}: folder as the model", f(c.work / "lmdata"))
    for k in ("inf", "1e308", "nan", "0", "-1"):
        c.add("settings", f"ngram build --smoothing addk --k {k}",
              ["ngram", "build", "corpus.txt", "--order", "2", "--smoothing", "addk", "--k", k, "-o", f"addk{k}.arpa"])


def _set_first_logprob(arpa: str, value: str) -> str:
    head, rest = arpa.split("\\1-grams:\n", 1)
    first, tail = rest.split("\n", 1)
    return head + "\\1-grams:\n" + value + "\t" + first.split("\t", 1)[1] + "\n" + tail


def _set_first_backoff(section: str, value: str) -> str:
    head, rest = section.split("\\1-grams:\n", 1)
    lines = rest.split("\n")
    for i, line in enumerate(lines):
        parts = line.split("\t")
        if len(parts) == 3 and parts[1] not in ("<s>", "</s>"):
            parts[2] = value
            lines[i] = "\t".join(parts)
            break
    return head + "\\1-grams:\n" + "\n".join(lines)


def word2vec_cases(c: Cases, v: dict) -> None:
    cmds = {"similar": lambda p: ["word2vec", "similar", p, "the"],
            "analogy": lambda p: ["word2vec", "analogy", p, "man", "woman", "king"],
            "evaluate": lambda p: ["word2vec", "evaluate", p, "--analogies", "analogies.txt"],
            "export": lambda p: ["word2vec", "export", p, "-o", c.work / "w2v-out" / f"{len(c.items)}.txt"]}
    (c.work / "w2v-out").mkdir()
    txt, binv = v["vec_txt"], v["vec_bin"]
    V, D = (int(x) for x in txt.split(b"\n", 1)[0].split())
    body_t, body_b = txt.split(b"\n", 1)[1], binv.split(b"\n", 1)[1]
    lines = txt.split(b"\n")
    bad = {
        "valid text (control)": (txt, "txt", "ok"),
        "valid binary (control)": (binv, "bin", "ok"),
        "header 10^30 words (text)": (b"%d %d\n" % (10**30, D) + body_t, "txt", "error"),
        "header 10^30 dims (text)": (b"%d %d\n" % (V, 10**30) + body_t, "txt", "error"),
        "header 10^30 words (binary)": (b"%d %d\n" % (10**30, D) + body_b, "bin", "error"),
        "header 10^30 dims (binary)": (b"%d %d\n" % (V, 10**30) + body_b, "bin", "error"),
        "header 10^9 x 10^4 (binary)": (b"%d %d\n" % (10**9, 10**4) + body_b, "bin", "error"),
        "truncated text": (txt[: len(txt) // 2], "txt", "error"),
        "truncated binary": (binv[: len(binv) // 2], "bin", "error"),
        "empty word": (b"\n".join(lines[:2] + [b" " + lines[2].split(b" ", 1)[1]] + lines[3:]), "txt", "error"),
        "NaN value": (b"\n".join(lines[:2] + [lines[2].split(b" ")[0] + b" nan" + b" 0.1" * (D - 1)] + lines[3:]),
                      "txt", "error"),
        "duplicate word": (b"\n".join(lines[:2] + [lines[1]] + lines[3:]), "txt", "error"),
        "latin-1 byte in a word": (txt.replace(b"\nthe ", b"\nth\xe9 ", 1), "txt", "error"),
        "empty file": (b"", "txt", "error"),
    }
    for name, (data, ext, expect) in bad.items():
        p = c.file(f"w2v/{len(c.items)}.{ext}", data)
        for cmd, f in cmds.items():
            c.add("word2vec", f"{cmd}: {name}", f(p), expect)
    for cmd, f in cmds.items():
        c.add("hang", f"word2vec {cmd}: FIFO as the vectors", f(c.fifo(f"w2v-fifo-{cmd}")))
        c.add("word2vec", f"{cmd}: folder as the vectors", f(c.work / "lmdata"))


def lm_cases(c: Cases, v: dict) -> None:
    import torch

    best, ck = v["best"], v["ckpt"]
    nan_model = {k: (t.clone().fill_(float("nan")) if t.is_floating_point() else t) for k, t in best["model"].items()}
    payloads = {
        "empty dict": {},
        "a list": [1, 2, 3],
        "a bare tensor": torch.zeros(3),
        "vocab not a list": dict(best, vocab=7),
        "missing state_dict": {k: x for k, x in best.items() if k != "model"},
        "absurd hidden size": dict(best, config=dict(best["config"], hidden_size=100_000_000)),
        "NaN weights": dict(best, model=nan_model),
        "wrong tensor shape": dict(best, model={**best["model"], next(iter(best["model"])): torch.zeros(2, 2)}),
        "unknown config key": dict(best, config=dict(best["config"], warp_drive=1)),
    }
    raw = checkpoint_bytes(best)
    files = {"valid best.pt (control)": (raw, "ok"), "truncated": (raw[: len(raw) // 2], "error"),
             "checksum mismatch": (raw[:-1] + bytes([raw[-1] ^ 1]), "error"), "not a checkpoint": (b"hello\n", "error")}
    files.update({name: (checkpoint_bytes(p), "error") for name, p in payloads.items()})
    for name, (data, expect) in files.items():
        p = c.file(f"ck/{len(c.items)}.pt", data)
        c.add("lm", f"eval: {name}", ["lm", "eval", p, "--data", "lmdata"], expect)
        c.add("lm", f"generate: {name}", ["lm", "generate", p, "--tokens", "5"], expect)
    # resume: the crafted payload as the run folder's checkpoint.pt
    train = ["lm", "train", "--preset", "quick", "--data", "lmdata", "--train-tokens", "0", "--eval-tokens", "0",
             "--epochs", "2", "--emb-size", "8", "--hidden-size", "8", "--progress", "false"]
    resume = {"empty dict": {}, "a list": [1], "missing state_dict": {k: x for k, x in ck.items() if k != "model"},
              "NaN weights": dict(ck, model=nan_model), "no world_size": {k: x for k, x in ck.items() if k != "world_size"},
              "position not a dict": dict(ck, position=[1]), "ranks empty": dict(ck, ranks=[]),
              "optimizer state wrong shape": dict(ck, optimizer={**ck["optimizer"], "state": {0: {"momentum_buffer": torch.zeros(5)}}})}
    for i, (name, p) in enumerate(resume.items()):
        out = c.work / f"resume{i}"
        out.mkdir()
        (out / "checkpoint.pt").write_bytes(checkpoint_bytes(p))
        c.add("lm", f"train resume: {name}", train + ["--out", out])
    for cmd in ("eval", "generate"):
        args = ["lm", cmd, c.fifo(f"ck-fifo-{cmd}")] + (["--data", "lmdata"] if cmd == "eval" else [])
        c.add("hang", f"lm {cmd}: FIFO as the checkpoint", args)
    out = c.work / "resume-fifo"
    out.mkdir()
    os.mkfifo(out / "checkpoint.pt")
    c.add("hang", "lm train resume: FIFO as checkpoint.pt", train + ["--out", out])
    # config files
    cfgs = {"hidden_size = 100000000": (b"hidden_size = 100000000\n", "error"),
            "emb_size = 10^9, tied": (b"emb_size = 1000000000\nhidden_size = 1000000000\ntie_weights = true\n", "error"),
            "not TOML": (b"hidden_size = = 3\n", "error"), "latin-1 byte": (b"model = \"l\xe9\"\n", "error"),
            "a string for an int": (b'hidden_size = "big"\n', "error"), "unknown key": (b"warp = 9\n", "error")}
    # the sizes from the file, not overridden on the command line (command-line options win)
    cfg_train = [a for a in train if a not in ("--emb-size", "--hidden-size", "8")]
    for i, (name, (data, expect)) in enumerate(cfgs.items()):
        p = c.file(f"cfg/{i}.toml", data)
        c.add("config", f"lm train --config: {name}", cfg_train + ["--config", p, "--out", c.work / f"cfgrun{i}"], expect)
    c.add("hang", "lm train --config FIFO", train + ["--config", c.fifo("cfg-fifo.toml"), "--out", c.work / "cfgfifo"])
    c.add("config", "lm train --config folder", train + ["--config", c.work / "lmdata", "--out", c.work / "cfgdir"])
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(c.work / "cfg.sock"))
    c.sock = sock
    c.add("config", "lm train --config socket", train + ["--config", c.work / "cfg.sock", "--out", c.work / "cfgsock"])
    # training settings that cannot give a finite model
    c.add("settings", "lm train --lr 1e20 --clip 0", train[:-2] + ["--epochs", "1", "--lr", "1e20", "--clip", "0",
                                                                   "--out", c.work / "lr-overflow"])
    # metrics for lm plot
    m = v["metrics"]
    mets = {"valid metrics (control)": (m, "ok"), "latin-1 byte": (m.replace(b"\n", b"\n\xe9\n", 1), "error"),
            "JSON lists": (b"[1, 2]\n[3, 4]\n" + m, "error"),
            "a step without loss": (m.replace(b'"loss": ', b'"lost": ', 1), "error"),
            "string values": (m.replace(b'"loss": ', b'"loss": "x", "was": ', 1), "error")}
    for i, (name, (data, expect)) in enumerate(mets.items()):
        d = c.work / f"plot{i}"
        d.mkdir()
        (d / "metrics.jsonl").write_bytes(data)
        c.add("plot", f"lm plot: {name}", ["lm", "plot", d, "--out", c.work / f"plot{i}.png"], expect)
    d = c.work / "plotfifo"
    d.mkdir()
    os.mkfifo(d / "metrics.jsonl")
    c.add("hang", "lm plot: FIFO as metrics.jsonl", ["lm", "plot", d, "--out", c.work / "plotfifo.png"])


def table(rows: list[dict]) -> str:
    cats = sorted({r["category"] for r in rows})
    out = ["| category | cases | " + " | ".join(CLASSES) + " |", "|---|---:|" + "---:|" * len(CLASSES)]
    for cat in cats + ["all"]:
        rs = [r for r in rows if cat in ("all", r["category"])]
        counts = [sum(r["result"] == k for r in rs) for k in CLASSES]
        out.append(f"| {cat} | {len(rs)} | " + " | ".join(map(str, counts)) + " |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--groundup", default=str(ROOT / "src"), help="src folder of the checkout under test")
    ap.add_argument("--work", default=None, help="scratch folder (default: a new one in /tmp)")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--json", default=None, help="write the cases here (default WORK/hostile_inputs.json)")
    ap.add_argument("--label", default="")
    ap.add_argument("--jobs", type=int, default=4, help="cases run at once")
    ap.add_argument("--only", default=None, help="run only the cases of this category")
    a = ap.parse_args()
    import tempfile

    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="groundup-hostile-"))
    if work.exists() and any(work.iterdir()):
        raise SystemExit(f"{work}: not empty")
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=a.groundup, GROUNDUP_PROGRESS="0", OMP_NUM_THREADS="1")
    commit = subprocess.run(["git", "-C", a.groundup, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    c = Cases(work, env, a.timeout)
    t0 = time.perf_counter()
    v = build_valid(c)
    ngram_cases(c, v)
    word2vec_cases(c, v)
    lm_cases(c, v)
    if a.only:
        c.items = [i for i in c.items if i["category"] == a.only]
    rows = c.run_all(a.jobs)
    print(f"## hostile inputs: {a.label or a.groundup} (commit {commit}), {len(rows)} cases, "
          f"timeout {a.timeout:g} s, {time.perf_counter() - t0:.0f} s, load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print(table(rows))
    bad = [r for r in rows if r["result"] not in ("clean", "ok")]
    if bad:
        print("\nnot clean:\n")
        for r in bad:
            print(f"- {r['result']}: {r['category']}: {r['case']} -> {r['stderr_tail'][:140] or r['stdout_head'][:80]!r}")
    out = Path(a.json) if a.json else work / "hostile_inputs.json"
    out.write_text(json.dumps({"label": a.label, "groundup": a.groundup, "commit": commit, "timeout": a.timeout,
                               "summary": {k: sum(r["result"] == k for r in rows) for k in CLASSES},
                               "cases": rows}, indent=1))
    print(f"\n{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
