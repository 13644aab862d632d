"""Fuzzing every loader with malformed files: each must load or raise GroundupError, in time.

Inputs are mutations of small valid files (truncation, byte flips, inserted bytes, changed
header numbers, deleted or duplicated lines) and, for the structured formats (n-gram ``.npz``,
checkpoints), payloads with a valid checksum but a wrong structure (missing fields, wrong
types and shapes, NaN, absurd sizes). A loader that accepts a file must also answer a query on
it without any other exception (a scorer, a neighbour search, restoring a run's state).

Profiles: the default run keeps the whole file near half a minute; ``GROUNDUP_FUZZ=long``
(run by ``.ci/run`` after the suite) multiplies the examples. Both are derandomized (the same
examples every run), so a red CI is a regression, never the luck of a draw; set
``GROUNDUP_FUZZ_RANDOM=1`` to explore fresh examples (and pin what it finds as a test). Every
example runs under a wall-clock alarm, so a loader that blocks (a FIFO read) fails instead of
hanging the suite.
"""
from __future__ import annotations

import contextlib
import io
import os
import signal
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundup.errors import GroundupError

LONG = os.environ.get("GROUNDUP_FUZZ", "") == "long"
EXAMPLES = int(os.environ.get("GROUNDUP_FUZZ_EXAMPLES", 200 if LONG else 40))
LIMIT_S = 10  # per example, wall clock: a hang is a failure, not a stuck suite
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("GROUNDUP_FUZZ_RANDOM") != "1", database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DATA = Path(__file__).parent / "data"
WORK = Path(tempfile.mkdtemp(prefix="groundup-fuzz-"))


@contextlib.contextmanager
def time_limit(seconds: float = LIMIT_S):
    def alarm(signum, frame):
        raise TimeoutError(f"loader still running after {seconds} s (a hang?)")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def only_groundup_errors(load, path: Path):
    """Call ``load(path)``: a result, or GroundupError; anything else fails the test."""
    with time_limit():
        try:
            return load(path)
        except GroundupError as e:
            assert "\n" not in str(e), f"error spans lines: {e}"
            return None


# --- byte-level mutations of a valid file --------------------------------------------------
@st.composite
def mutated(draw, good: bytes, header_numbers: bool = False) -> bytes:
    data = bytearray(good)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete_line", "dup_line", "header"]
                                  if header_numbers else ["truncate", "flip", "insert", "delete_line",
                                                          "dup_line"]))
        n = len(data)
        if op == "truncate":
            data = data[:draw(st.integers(0, n))]
        elif op == "flip" and n:
            i = draw(st.integers(0, n - 1))
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            i = draw(st.integers(0, n))
            data[i:i] = draw(st.sampled_from([b"\x00", b"\xff", b"\xe9", b" ", b"\n", b"\t", b"nan", b"inf",
                                              b"-inf", b"1e309", b"-99", b"  ", b"\\end\\", b"\r\n"]))
        elif op in ("delete_line", "dup_line"):
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i:i + 1] = [] if op == "delete_line" else [lines[i], lines[i]]
            data = bytearray(b"\n".join(lines))
        elif op == "header":
            nl = data.find(b"\n")
            a = draw(st.sampled_from([0, 1, 2, 3, 5, 7, 10**9, 10**18, 10**30, -1]))
            b = draw(st.sampled_from([0, 1, 4, 5, 10**9, 10**30, -3]))
            data[:max(nl, 0)] = f"{a} {b}".encode()
    return bytes(data)


def write(data: bytes, name: str) -> Path:
    path = WORK / name
    path.write_bytes(data)
    return path


# --- the loaders and what a loaded result must survive --------------------------------------
def load_ngram(path: Path):
    from groundup.text.ngram import NgramModel

    m = NgramModel.load(path, verify=True)
    m.perplexity([["the", "cat"], ["zzz"]])
    m.score("the cat sat")
    return m


def load_segmenter(path: Path):
    from groundup.text.ngram.segment import Segmenter

    seg = Segmenter.load(path)
    seg.segment_many(["研究生命的起源", "", "the cat 3.5 猫"])
    seg.segment_reference("研究生命的起源")
    return seg


def load_vectors(path: Path):
    from groundup.text.word2vec.formats import load_word2vec

    wv = load_word2vec(path)
    if len(wv) >= 2:
        wv.most_similar([wv.words[0]], topn=3)
    return wv


def load_lm(path: Path):
    from groundup.train.engine import load_model

    model, cfg, vocab = load_model(path)
    with torch.no_grad():
        logits, _ = model(torch.zeros(1, 2, dtype=torch.long), None)
    assert torch.isfinite(logits).all()
    return model


def load_config(path: Path):
    from groundup.train.config import make_config
    from groundup.train.payload_check import check_model_fits

    cfg = make_config("quick", str(path))
    check_model_fits(cfg, 1000, training=True)
    return cfg


def load_metrics(path: Path):
    from groundup.train.plot import load_metrics

    return load_metrics(path)


# --- valid small files --------------------------------------------------------------------
def _vectors():
    from groundup.text.word2vec.vectors import WordVectors

    rng = np.random.default_rng(0)
    return WordVectors(["the", "cat", "Köln", "a", "sat"], rng.normal(size=(5, 4)).astype(np.float32))


@pytest.fixture(scope="module")
def w2v_files():
    from groundup.text.word2vec.formats import save_word2vec

    wv = _vectors()
    return (save_word2vec(WORK / "good.txt", wv).read_bytes(),
            save_word2vec(WORK / "good.bin", wv, binary=True).read_bytes())


TINY_LM = dict(model="lstm", emb_size=4, hidden_size=4, num_layers=1, epochs=1, batch_size=2, bptt=3,
               eval_batch_size=1, progress=False)
VOCAB = ["<unk>", "<eos>", "the", "cat"]


def lm_payload(resume: bool) -> dict:
    from groundup.train.state_io import rng_state
    from groundup.train.config import make_config
    from groundup.train.engine import make_optimizer
    from groundup.train.families import build_model
    from groundup.train.schedule import LRSchedule

    cfg = make_config(None, overrides=TINY_LM)
    torch.manual_seed(0)
    model = build_model(cfg.model, len(VOCAB))
    payload = {"format": "groundup-lm-weights", "config": cfg.to_dict(), "vocab": list(VOCAB),
               "model": model.state_dict(), "epoch": 1, "valid_loss": 1.5}
    if resume:
        opt = make_optimizer(cfg, model)
        sched = LRSchedule.from_config(cfg)
        payload.update(format="groundup-lm-checkpoint", optimizer=opt.state_dict(),
                       schedule=sched.state_dict(), world_size=1,
                       position={"epoch": 0, "batch": 1, "step": 1, "best_valid": float("inf"),
                                 "best_epoch": 0, "bad_epochs": 0, "done": False,
                                 "train_seconds": 0.1, "train_tokens": 6, "epoch_loss_sum": 1.4,
                                 "epoch_loss_n": 1, "history": [], "metrics_lines": 1,
                                 "stop_reason": ""},
                       ranks=[{"rng": rng_state(), "hidden": None}])
    return payload


def restore_run(path: Path):
    """What ``lm train`` does with a checkpoint it resumes from, on a model built from it."""
    from groundup.train.state_io import load_state as load_checkpoint, rng_state, set_rng_state
    from groundup.train.engine import make_optimizer
    from groundup.train.families import build_model
    from groundup.train.payload_check import check_payload
    from groundup.train.schedule import LRSchedule

    ck = load_checkpoint(path)
    cfg = check_payload(ck, path, resume=True)
    model = build_model(cfg.model, len(ck["vocab"]))
    opt = make_optimizer(cfg, model)
    sched = LRSchedule.from_config(cfg)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["schedule"])
    saved = rng_state()
    try:
        set_rng_state(ck["ranks"][0]["rng"])
    finally:
        set_rng_state(saved)
    return model


# --- the properties ------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_fuzz_arpa(data):
    good = (DATA / "ngram_toy.o2.arpa").read_bytes()
    only_groundup_errors(load_ngram, write(data.draw(mutated(good)), "m.arpa"))


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(["text", "binary"]))
def test_fuzz_word2vec(w2v_files, data, fmt):
    good = w2v_files[0 if fmt == "text" else 1]
    path = write(data.draw(mutated(good, header_numbers=True)), "v.txt" if fmt == "text" else "v.bin")
    only_groundup_errors(load_vectors, path)


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.sampled_from([10**8, 10**30, -1]),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                   st.lists(st.integers(-3, 5), max_size=3), st.just({"a": 1}),
                   st.just(torch.zeros(2)), st.just(torch.full((3,), float("nan"))))


@st.composite
def mutated_payload(draw, payload: dict):
    p = dict(payload)
    op = draw(st.sampled_from(["whole", "drop", "set", "config", "vocab", "tensor", "tensor", "resume"]))
    if op == "whole":
        return draw(st.sampled_from([{}, [], torch.zeros(3), "x", 7, None, [payload]]))
    if op == "drop":
        p.pop(draw(st.sampled_from(sorted(p))))
    elif op == "set":
        p[draw(st.sampled_from(sorted(p)))] = draw(VALUES)
    elif op == "config":
        cfg = dict(p["config"])
        key = draw(st.sampled_from(sorted(cfg) + ["no_such_field"]))
        if draw(st.booleans()):
            cfg[key] = draw(VALUES)
        else:
            cfg.pop(key, None)
        p["config"] = cfg
    elif op == "vocab":
        v = list(p["vocab"])
        what = draw(st.sampled_from(["cut", "int", "empty", "dup", "extra"]))
        if what == "cut":
            v = v[:draw(st.integers(0, len(v) - 1))]
        elif what == "extra":
            v.append("zzz")
        else:
            v[draw(st.integers(0, len(v) - 1))] = {"int": 3, "empty": "", "dup": v[0]}[what]
        p["vocab"] = v
    elif op == "tensor":
        m = dict(p["model"])
        key = draw(st.sampled_from(sorted(m)))
        t = m[key]
        what = draw(st.sampled_from(["nan", "inf", "shape", "int", "drop", "extra", "scalar"]))
        if what in ("nan", "inf"):
            t = t.clone()
            t.view(-1)[0] = float(what)
            m[key] = t
        elif what == "shape":
            m[key] = torch.zeros(*[s + 1 for s in t.shape])
        elif what == "int":
            m[key] = t.long()
        elif what == "drop":
            del m[key]
        elif what == "extra":
            m["extra.weight"] = torch.zeros(2)
        else:
            m[key] = torch.tensor(1.0)
        p["model"] = m
    elif op == "resume" and "position" in p:
        part = draw(st.sampled_from(["position", "ranks", "optimizer", "schedule"]))
        if part == "position":
            pos = dict(p["position"])
            pos[draw(st.sampled_from(sorted(pos)))] = draw(VALUES)
            p["position"] = pos
        elif part == "ranks":
            r = draw(st.sampled_from([[], [{}], [{"rng": {}, "hidden": None}], [{"rng": 1, "hidden": None}],
                                      [{"rng": p["ranks"][0]["rng"], "hidden": torch.full((2,), float("nan"))}],
                                      [p["ranks"][0], p["ranks"][0]]]))
            p["ranks"] = r
        elif part == "optimizer":
            opt = {"state": dict(p["optimizer"]["state"]), "param_groups": [dict(g) for g in p["optimizer"]["param_groups"]]}
            what = draw(st.sampled_from(["groups", "params", "state", "bad_state"]))
            if what == "groups":
                opt["param_groups"] = draw(st.sampled_from([[], [{}], "x"]))
            elif what == "params":
                opt["param_groups"][0]["params"] = draw(st.sampled_from([[], [0], [99], list(range(50))]))
            elif what == "state":
                opt["state"] = {0: {"momentum_buffer": torch.zeros(7, 7)}}
            else:
                opt["state"] = {"x": 1}
            p["optimizer"] = opt
        else:
            p["schedule"] = draw(st.sampled_from([{}, {"kind": "other", "factor": 1.0, "best": 0.0},
                                                  {"kind": "step", "factor": "a", "best": 0.0}, []]))
    return p


@FUZZ
@given(data=st.data(), resume=st.booleans())
def test_fuzz_checkpoint_payloads(data, resume):
    """Payloads with a valid header and checksum but the wrong structure (ModelFormatError)."""
    from groundup.train.state_io import save_state as save_checkpoint

    p = data.draw(mutated_payload(lm_payload(resume)))
    path = WORK / "ck.pt"
    save_checkpoint(path, p)
    only_groundup_errors(restore_run if resume else load_lm, path)


@FUZZ
@given(data=st.data())
def test_fuzz_checkpoint_bytes(data):
    from groundup.train.state_io import save_state as save_checkpoint

    save_checkpoint(WORK / "good.pt", lm_payload(False))
    good = (WORK / "good.pt").read_bytes()
    only_groundup_errors(load_lm, write(data.draw(mutated(good)), "b.pt"))


def _good_npz(kind: str) -> Path:
    good = WORK / f"good-{kind}.npz"
    if not good.exists():
        import warnings

        from groundup.text.ngram import NgramModel
        from groundup.text.ngram.segment import Segmenter

        lines = (DATA / "ngram_toy.txt").read_text().splitlines()
        with warnings.catch_warnings():  # a 3-sentence corpus: Katz falls back, says so
            warnings.simplefilter("ignore")
            if kind == "ngram":
                NgramModel.build_from_text(lines, 2, "katz").save(good)
            else:  # the segmenter: a lexicon, its counts, a header, the bigram tables
                Segmenter.build({"研究": 3, "生命": 2}, [s.split() for s in lines] + [["研究", "生命"]]).save(good)
                load_segmenter(good)  # compile its kernels here, not under the time limit
    return good


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("kind", ["ngram", "segmenter"])
def test_fuzz_ngram_npz(data, kind):
    """The binary n-gram model and the segmenter: arrays of the wrong shape, type, range or value."""
    good = _good_npz(kind)
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    key = data.draw(st.sampled_from(sorted(arrays)))
    a = arrays[key]
    what = data.draw(st.sampled_from(["2d", "float", "nan", "inf", "big", "neg", "drop", "empty", "bytes"]))
    if what == "2d":
        arrays[key] = np.stack([a, a]) if a.ndim else a.reshape(1, 1)
    elif what == "float":
        arrays[key] = a.astype(np.float64)
    elif what in ("nan", "inf") and a.size and a.dtype.kind == "f":
        arrays[key] = a.copy()
        arrays[key].reshape(-1)[data.draw(st.integers(0, a.size - 1))] = float(what)
    elif what in ("big", "neg") and a.size and a.dtype.kind in "iu":
        arrays[key] = a.copy()
        arrays[key].reshape(-1)[data.draw(st.integers(0, a.size - 1))] = (np.iinfo(a.dtype).max if what == "big"
                                                                          else np.iinfo(a.dtype).min)
    elif what == "drop":
        del arrays[key]
    elif what == "empty":
        arrays[key] = a.reshape(-1)[:0]
    elif what == "bytes":
        arrays[key] = np.frombuffer(data.draw(st.binary(max_size=12)), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    only_groundup_errors(load_ngram if kind == "ngram" else load_segmenter, write(buf.getvalue(), "m.npz"))


def _good_ngram_bin() -> bytes:
    from groundup.text.ngram import NgramModel

    good = WORK / "good-ngram.bin"
    if not good.exists():
        NgramModel.build_from_text((DATA / "ngram_toy.txt").read_text().splitlines(), 3).save(good)
        load_ngram(good)  # compiles (or loads) the kernels outside the per-example time limit
    return good.read_bytes()


def load_ngram_unverified(path: Path):
    from groundup.text.ngram import NgramModel

    m = NgramModel.load(path, verify=False)  # structure checked only: scoring must not crash
    m.perplexity([["the", "cat"], ["zzz"]])
    m.score("the cat sat")


@FUZZ
@given(data=st.data(), verify=st.booleans())
def test_fuzz_ngram_bin(data, verify):
    """The memory-mapped binary model: byte mutations, and header integers (order, sizes,
    section offsets and lengths) set to hostile values."""
    good = bytearray(_good_ngram_bin())
    if data.draw(st.booleans()):
        bad = data.draw(mutated(bytes(good)))
    else:
        n_fields = (len(good) >= 32) and 4 + 2 * int(np.frombuffer(good[24:32], "<i8")[0]) + 1 + 16
        for _ in range(data.draw(st.integers(1, 3))):
            i = data.draw(st.integers(0, n_fields - 1))
            v = data.draw(st.sampled_from([0, 1, -1, 2, 7, 8, 64, 2**31, 2**62, -2**63, len(good),
                                           len(good) - 8, len(good) + 8]))
            good[16 + 8 * i:24 + 8 * i] = np.array([v], "<i8").tobytes()
        bad = bytes(good)
    only_groundup_errors(load_ngram if verify else load_ngram_unverified, write(bad, "m.bin"))


CONFIG = b'hidden_size = 16\nemb_size = 16\nlr = 0.5\nmodel = "lstm"\nepochs = 1\n'


@FUZZ
@given(data=st.data(), extra=st.sampled_from([b"", b"hidden_size = 100000000\n", b"num_layers = 1e9\n",
                                              b"lr = nan\n", b"[table]\nx = 1\n", b"bptt = -1\n",
                                              b"emb_size = 100000000\ntie_weights = true\n",
                                              b"model = \"transformer\"\nn_heads = 3\n"]))
def test_fuzz_config(data, extra):
    path = write(data.draw(mutated(CONFIG + extra)), "c.toml")
    only_groundup_errors(load_config, path)


METRICS = (b'{"kind": "step", "step": 1, "epoch": 1, "loss": 5.1, "lr": 1.0}\n'
           b'{"kind": "step", "step": 2, "epoch": 1, "loss": 4.9, "lr": 1.0}\n'
           b'{"kind": "epoch", "epoch": 1, "step": 2, "train_perplexity": 140.0, "valid_perplexity": 150.0}\n')


@FUZZ
@given(data=st.data(), extra=st.sampled_from([b"", b"[1, 2]\n", b'{"kind": "step", "step": 3}\n',
                                              b'{"kind": "step", "step": 3, "loss": "x"}\n', b"\xe9\n",
                                              b'{"kind": "epoch", "epoch": 2}\n', b"null\n"]))
def test_fuzz_metrics(data, extra):
    path = write(data.draw(mutated(METRICS + extra)), "metrics.jsonl")
    only_groundup_errors(load_metrics, path)


# --- not a regular file: one error, never a hang --------------------------------------------
def _checkpoint_file(path: Path) -> Path:
    from groundup.train.state_io import save_state as save_checkpoint

    save_checkpoint(path, lm_payload(False))
    return path


LOADERS = {"ngram": load_ngram, "vectors": load_vectors, "checkpoint": load_lm, "config": load_config,
           "metrics": load_metrics, "segmenter": load_segmenter}


@pytest.mark.parametrize("kind", ["fifo", "folder", "device", "socket"])
@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_special_files_are_refused_without_blocking(tmp_path, kind, loader):
    import socket

    path = tmp_path / "thing"
    sock = None
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "device":
        path = Path("/dev/null")
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    try:
        # a folder given as a checkpoint is a run folder: its best.pt / checkpoint.pt is missing
        want = "no such checkpoint" if (kind, loader) == ("folder", "checkpoint") else "is a|expected a"
        with time_limit(5), pytest.raises(GroundupError, match=want):
            LOADERS[loader](path)
    finally:
        if sock is not None:
            sock.close()
    if kind == "fifo":
        assert stat.S_ISFIFO(os.stat(path).st_mode)  # untouched


def test_the_valid_files_load(w2v_files, tmp_path):
    """The mutations start from files every loader accepts (else the fuzzing proves nothing)."""
    assert len(load_vectors(write(w2v_files[0], "ok.txt"))) == 5
    assert len(load_vectors(write(w2v_files[1], "ok.bin"))) == 5
    assert load_ngram(DATA / "ngram_toy.o2.arpa").order == 2
    assert load_segmenter(_good_npz("segmenter")).cfg.order == 2
    load_ngram(write(_good_ngram_bin(), "ok-ngram.bin"))
    load_ngram_unverified(write(_good_ngram_bin(), "ok-ngram.bin"))
    load_lm(_checkpoint_file(tmp_path / "ok.pt"))
    from groundup.train.state_io import save_state as save_checkpoint

    save_checkpoint(tmp_path / "run.pt", lm_payload(True))
    restore_run(tmp_path / "run.pt")
    assert load_config(write(CONFIG, "ok.toml")).model.hidden_size == 16
    steps, epochs = load_metrics(write(METRICS, "ok.jsonl"))
    assert len(steps) == 2 and len(epochs) == 1
