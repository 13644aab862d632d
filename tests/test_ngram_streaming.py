"""Bounded-memory estimation (``ngram build --memory``): the streaming passes against the
in-memory builder (same ARPA bytes, spilled or not), the external sort against numpy, and the
temporary files (removed on success, error and Ctrl-C; a full disk is one line)."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from groundup.data.pipeline import TextOptions
from groundup.text.ngram import NgramModel
from groundup.text.ngram import spill
from groundup.text.ngram.spill import (ExternalSorter, TempSpace, argsort_keys, pack, parse_size,
                                       record_dtype, take)
from groundup.text.ngram.streaming import build_streaming

DATA = Path(__file__).parent / "data"
TINY = 1 << 16  # the smallest budget: 256-row sort buffers, so every order spills


def corpus(seed=0, n=300, V=40):
    """Zipf-distributed sentences (empty ones included), a literal <unk>, <s> inside a line."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(V)]
    sents = [[words[j] for j in rng.zipf(1.5, size=rng.integers(0, 12)) % V] for _ in range(n)]
    sents[3] = ["<unk>", "w1", "<s>", "w2"]
    return sents


def both(tmp_path, sents, order, text=TextOptions(), smoothing="mkn", memory=TINY):
    ref, out = tmp_path / f"ref{order}.arpa", tmp_path / f"stream{order}.arpa"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate discounts on tiny corpora: both warn
        NgramModel.build(sents, order, smoothing, text=text).save(ref)
        st = build_streaming(sents, order, out, memory=memory, text=text,
                             modified=smoothing == "mkn", temp_dir=tmp_path)
    return ref.read_bytes(), out.read_bytes(), st


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_same_bytes_as_the_in_memory_builder_spilled_or_not(order, tmp_path):
    sents = corpus()
    ref, spilled, st = both(tmp_path, sents, order)
    assert spilled == ref
    if order >= 3:
        assert max(st.runs.values()) > 1, st.runs  # the tiny budget really spilled
    assert st.temp_memory_peak_bytes == 0  # no room to spare: every file on disk
    _, held, st_big = both(tmp_path, sents, order, memory=parse_size("256M"))
    assert held == ref
    assert set(st_big.runs.values()) <= {1}
    if order >= 2:  # the arena only as big as the corpus needs; the files held in the rest
        assert st_big.temp_memory_peak_bytes > 0
        assert st_big.temp_peak_bytes < st.temp_peak_bytes
    assert not list(tmp_path.glob("groundup-ngram-*"))  # temporary folder removed


def _sections(arpa: bytes) -> dict[int, list[list[str]]]:
    out, k = {}, 0
    for line in arpa.decode().splitlines():
        if line.endswith("-grams:"):
            k = int(line[1:line.index("-")])
            out[k] = []
        elif k and line and not line.startswith("\\"):
            out[k].append(line.split("\t")[1].split(" "))
    return out


@pytest.mark.parametrize("order", [3, 4])
def test_sections_are_in_suffix_order_as_lmplz_writes_them(order, tmp_path):
    """Each section lists its n-grams compared from the last word back by word id (the order
    of the unigram section), what lmplz writes."""
    sents = corpus(seed=5)
    ref, out, _ = both(tmp_path, sents, order)
    assert out == ref
    sec = _sections(out)
    ids = {w: i for i, w in enumerate(x[0] for x in sec[1])}
    assert list(ids)[:3] == ["<unk>", "<s>", "</s>"]
    for k in range(2, order + 1):
        keys = [[ids[w] for w in reversed(g)] for g in sec[k]]
        assert len(keys) > 20 and keys == sorted(keys), k


@pytest.mark.parametrize("text", [TextOptions(min_count=2), TextOptions(max_vocab=12),
                                  TextOptions(lowercase=True)])
def test_same_bytes_with_vocabulary_options(text, tmp_path):
    sents = corpus(seed=1) + [["W1", "W2", "w3"]]
    ref, out, _ = both(tmp_path, sents, 4, text=text)
    assert out == ref
    assert b'"min_count": %d' % text.min_count in out


@pytest.mark.parametrize("order, prune", [(3, (0, 1)), (4, (0, 1, 2)), (5, (0, 0, 1))])
def test_same_bytes_with_count_pruning(order, prune, tmp_path):
    sents = corpus(seed=3, n=400)
    ref, out = tmp_path / "ref.arpa", tmp_path / "out.arpa"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        NgramModel.build(sents, order, text=TextOptions(), prune=prune).save(ref)
        unpruned = NgramModel.build(sents, order, text=TextOptions()).tables
        st = build_streaming(sents, order, out, memory=TINY, text=TextOptions(), prune=prune,
                             temp_dir=tmp_path)
    assert out.read_bytes() == ref.read_bytes()
    assert st.ngrams[-1] < len(unpruned.keys[-1])


def test_same_bytes_kn_and_on_the_shakespeare_sample(tmp_path):
    sents = [line.split() for line in (DATA / "ngram_shakespeare.txt").read_text().splitlines()]
    ref, out, _ = both(tmp_path, sents, 3)
    assert out == ref
    ref, out, _ = both(tmp_path, corpus(seed=2), 3, smoothing="kn")
    assert out == ref


def test_external_sort_matches_numpy_with_multi_lane_keys(tmp_path):
    # 5 words of 21 bits = 105 bits: keys are 2-lane byte strings, compared by memcmp
    rng = np.random.default_rng(0)
    W = rng.integers(0, 3, size=(5000, 5)).astype(np.uint32) * (1 << 20)
    W[:, 2] = rng.integers(0, 1 << 21, size=5000)
    W[rng.random(5000) < 0.5] = W[0]  # many repeats: combining counts matters
    dt = record_dtype(5, c="<i8")
    rec = np.empty(5000, dtype=dt)
    rec["w"], rec["c"] = W, rng.integers(1, 4, size=5000)
    key = lambda r: pack(r["w"][:, ::-1], 21)  # suffix order
    assert key(rec).dtype == np.dtype("S16")
    with TempSpace(tmp_path) as space:
        s = ExternalSorter(space, dt, key, TINY, combine=True)
        for i in range(0, 5000, 700):
            s.add(rec[i:i + 700])
        s.finish()
        assert len(s.runs) > 3
        got = np.concatenate(list(s.sorted_chunks(300)))
        assert not list(space.dir.iterdir())  # runs deleted once merged
    rev = [tuple(r) for r in W[:, ::-1].tolist()]
    want = {}
    for t, c in zip(rev, rec["c"].tolist()):
        want[t] = want.get(t, 0) + c
    assert [tuple(r) for r in got["w"][:, ::-1].tolist()] == sorted(want)
    assert got["c"].tolist() == [want[t] for t in sorted(want)]


@pytest.mark.parametrize("bits,k,zipf", [(12, 2, False), (18, 5, False), (21, 4, False),
                                         (18, 5, True), (7, 5, True)])
def test_bucket_sort_orders_like_tuples_with_big_buckets(bits, k, zipf):
    """Key.sort (lanes, a radix sort by the top 16 bits, buckets of more than
    spill.BIG_BUCKET rows split again by their next bits, down the lanes, each small bucket
    sorted inside itself) puts records in suffix order, as sorting the reversed word tuples
    does: half the n-grams end in the same word, a quarter in the same two words and an
    eighth in the same three (lane 0 all equal at 18 bits: the split goes on in lane 1), or
    ids drawn from a Zipf law (frequent words share their top bits)."""
    from groundup.text.ngram.spill import BIG_BUCKET, suffix_key

    rng = np.random.default_rng(bits)
    n = 3 * BIG_BUCKET
    dt = record_dtype(k, c="<i8")
    rec = np.empty(n, dtype=dt)
    if zipf:
        rec["w"] = (rng.zipf(1.2, size=(n, k)) - 1) % (1 << bits)
    else:
        rec["w"] = rng.integers(0, 1 << bits, size=(n, k))
        rec["w"][: n // 2, k - 1] = 7
        rec["w"][: n // 4, k - 2] = 3
        if k > 2:
            rec["w"][: n // 8, k - 3] = (1 << bits) - 1
    rec["c"] = np.arange(n)
    want = sorted(zip(map(tuple, rec["w"][:, ::-1].tolist()), rec["c"].tolist()))
    got = rec.copy()
    suffix_key(bits).sort(got, np.empty(n, dtype=dt), np.empty(16 * n * k, dtype=np.uint8))
    keys = [tuple(r) for r in got["w"][:, ::-1].tolist()]
    assert keys == [w for w, _ in want]
    assert sorted(got["c"].tolist()) == list(range(n))  # every record once, whole


@pytest.mark.parametrize("spill_at", [None, 0, 3, "last"])
def test_arena_sort_stays_resident_and_spills_when_the_room_is_needed(tmp_path, spill_at):
    """A sort in the arena (bucket sort, suffix order, counts combined) gives the same records
    as numpy; its one run stays in the arena, and a reader goes on from disk when another
    sort takes the room in the middle of the stream (or just after its last chunk)."""
    from groundup.text.ngram.spill import MemoryAccount, suffix_key

    rng = np.random.default_rng(3)
    n = 6000
    dt = record_dtype(4, c="<i8")
    rec = np.empty(n, dtype=dt)
    rec["w"] = rng.zipf(1.3, size=(n, 4)) % 3000
    rec["c"] = rng.integers(1, 5, size=n)
    want: dict = {}
    for t, c in zip(map(tuple, rec["w"][:, ::-1].tolist()), rec["c"].tolist()):
        want[t] = want.get(t, 0) + c
    acct = MemoryAccount(parse_size("64M"))
    with TempSpace(tmp_path) as space:
        arena = acct.sort_arena(parse_size("64M"))
        s = ExternalSorter(space, dt, suffix_key(12), account=acct, combine=True, arena=arena)
        for i in range(0, n, 900):
            s.add(rec[i:i + 900])
        s.finish()
        assert s.runs == [] and s.n_runs == 1 and arena.resident is s
        parts = []
        if spill_at == "last":
            spill_at = -(-len(want) // 500) - 1
        for i, chunk in enumerate(s.sorted_chunks(500)):
            parts.append(chunk)
            if i == spill_at:  # another sort takes the arena's room
                s.spill_resident()
                assert len(s.runs) == 1 and arena.resident is None
        got = np.concatenate(parts)
        assert arena.resident is None and arena.base == 0
        assert not list(space.dir.iterdir())  # the written run was deleted once read
    assert [tuple(r) for r in got["w"][:, ::-1].tolist()] == sorted(want)
    assert got["c"].tolist() == [want[t] for t in sorted(want)]


@pytest.mark.parametrize("reverse", [False, True])
def test_join_looks_up_sorted_rows_across_chunks(reverse):
    """The merge join answers every query row from a stream cut into chunks anywhere: the equal
    row's value, the default where absent, an error without a default."""
    from groundup.text.ngram.spill import Join

    rng = np.random.default_rng(7)
    rows = {tuple(r) for r in rng.integers(0, 6, size=(400, 3)).tolist()}
    order = (lambda t: t[::-1]) if reverse else (lambda t: t)
    stream = sorted(rows, key=order)
    val = {r: float(i) for i, r in enumerate(stream)}
    rec = np.empty(len(stream), dtype=record_dtype(3, p="<f8"))
    rec["w"], rec["p"] = stream, [val[r] for r in stream]
    cuts = np.sort(rng.choice(np.arange(1, len(rec)), size=9, replace=False))
    queries = sorted({tuple(r) for r in rng.integers(0, 7, size=(500, 3)).tolist()}, key=order)
    j = Join(np.split(rec, cuts), "p", reverse=reverse, default=-1.0)
    got = np.concatenate([j.lookup(np.array(q, dtype=np.uint32))
                          for q in np.array_split(np.array(queries), 13)])
    assert got.tolist() == [val.get(q, -1.0) for q in queries]
    assert (got == -1.0).any() and (got >= 0).any()
    strict = Join(np.split(rec, cuts), "p", reverse=reverse)
    with pytest.raises(RuntimeError, match="out of step"):
        strict.lookup(np.array(queries, dtype=np.uint32))


def test_pack_orders_like_tuples():
    rng = np.random.default_rng(1)
    for bits, m in ((3, 4), (13, 5), (20, 5), (32, 3)):
        cols = rng.integers(0, 1 << bits, size=(400, m)).astype(np.uint32)
        order = np.argsort(pack(cols, bits), kind="stable")
        assert [tuple(r) for r in cols[order].tolist()] == sorted(tuple(r) for r in cols.tolist())
        rev = pack(cols, bits, reverse=True)
        assert (rev == pack(np.ascontiguousarray(cols[:, ::-1]), bits)).all()


@pytest.mark.parametrize("bits,m", [(13, 5), (20, 5), (7, 20), (32, 2)])
def test_argsort_keys_and_take_order_like_tuples(bits, m):
    # few distinct first words: long runs of equal first lanes (> 32) and short ones
    rng = np.random.default_rng(bits)
    cols = rng.integers(0, 1 << bits, size=(3000, m)).astype(np.uint32)
    cols[:, 0] = rng.integers(0, 3, size=3000)
    cols[:1000, :m - 1] = cols[0, :m - 1]
    cols[rng.random(3000) < 0.2] = cols[5]  # exact repeats
    rec = np.empty(3000, dtype=record_dtype(m, c="<i8", keep="?"))
    rec["w"], rec["c"], rec["keep"] = cols, np.arange(3000), rng.random(3000) < 0.5
    perm = argsort_keys(pack(cols, bits))
    assert [tuple(r) for r in cols[perm].tolist()] == sorted(tuple(r) for r in cols.tolist())
    assert take(rec, perm).tobytes() == rec[perm].tobytes()


@pytest.mark.parametrize("size,expect", [("64K", 1 << 16), ("1G", 1 << 30), ("1.5M", 3 << 19),
                                         ("200MB", 200 << 20), ("100000", 100000)])
def test_parse_size(size, expect):
    assert parse_size(size) == expect


@pytest.mark.parametrize("bad", ["", "1X", "-1G", "1K", "lots"])
def test_parse_size_rejects(bad):
    from groundup.errors import ConfigError

    with pytest.raises(ConfigError):
        parse_size(bad)


# ------------------------------------------------------------------------------- the command
@pytest.fixture
def cli(capsys):
    from groundup.cli import main

    def call(*args, stdin=None):
        code = main(["ngram", *map(str, args)])
        out = capsys.readouterr()
        return code, out.out, out.err
    return call


def write_corpus(path, sents):
    path.write_text("\n".join(" ".join(s) for s in sents) + "\n", encoding="utf-8")
    return path


def test_cli_memory_file_and_stdin_give_the_in_memory_bytes(tmp_path, cli, monkeypatch):
    import io

    src = write_corpus(tmp_path / "train.txt", corpus())
    code, _, err = cli("build", src, "--order", "3", "-o", tmp_path / "mem.arpa")
    assert code == 0, err
    code, _, err = cli("build", src, "--order", "3", "--memory", "64K", "--temp-dir", tmp_path,
                       "-o", tmp_path / "file.arpa")
    assert code == 0, err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(src.read_bytes())))
    code, _, err = cli("build", "-", "--order", "3", "--memory", "64K", "--temp-dir", tmp_path,
                       "-o", tmp_path / "stdin.arpa")
    assert code == 0, err
    ref = (tmp_path / "mem.arpa").read_bytes()
    assert (tmp_path / "file.arpa").read_bytes() == ref
    assert (tmp_path / "stdin.arpa").read_bytes() == ref
    assert not list(tmp_path.glob("groundup-ngram-*"))


def test_cli_memory_binary_model_is_the_binarized_arpa(tmp_path, cli):
    """build --memory -o OUT.bin: the model of build --memory -o OUT.arpa then binarize (the
    header's source the corpus), the ARPA file in between removed; a warning when binarizing
    is likely to pass --memory."""
    src = write_corpus(tmp_path / "train.txt", corpus())
    code, _, err = cli("build", src, "--order", "3", "--memory", "64K", "--temp-dir", tmp_path,
                       "-o", tmp_path / "m.arpa")
    assert code == 0, err
    code, _, err = cli("binarize", tmp_path / "m.arpa", tmp_path / "ref.bin")
    assert code == 0, err
    for budget, warned in (("64K", True), ("1G", False)):
        out = tmp_path / f"m-{budget}.bin"
        code, js, err = cli("build", src, "--order", "3", "--memory", budget, "--temp-dir",
                            tmp_path, "-o", out, "--json")
        assert code == 0, err
        got, ref = NgramModel.load(out), NgramModel.load(tmp_path / "ref.bin")
        assert got.tables.vocab == ref.tables.vocab
        for k in range(3):
            for name in ("keys", "logprob", "backoff"):
                assert np.array_equal(getattr(got.tables, name)[k], getattr(ref.tables, name)[k])
        # the header's source names the corpus (the ARPA file is gone)
        assert got.info.pop("source") == str(src)
        assert ref.info.pop("source") == str(tmp_path / "m.arpa")
        assert got.info == ref.info
        assert ("groundup: warning: binarizing holds the model in memory" in err) == warned
        assert json.loads(js)["model"] == str(out)
        assert not list(tmp_path.glob("groundup-ngram-*"))
    code, _, err = cli("query", tmp_path / "m-1G.bin", tmp_path / "train.txt")
    assert code == 0, err


def test_cli_prune_with_and_without_memory(tmp_path, cli):
    src = write_corpus(tmp_path / "train.txt", corpus())
    for extra, name in (((), "mem.arpa"), (("--memory", "64K", "--temp-dir", tmp_path), "s.arpa")):
        code, _, err = cli("build", src, "--order", "3", "--prune", "0", "1", *extra,
                           "-o", tmp_path / name)
        assert code == 0, err
    assert (tmp_path / "mem.arpa").read_bytes() == (tmp_path / "s.arpa").read_bytes()
    code, _, err = cli("build", src, "--order", "3", "--prune", "0", "2", "1", "-o", tmp_path / "x.arpa")
    assert code == 2 and "must not decrease" in err and not (tmp_path / "x.arpa").exists()
    code, _, err = cli("build", src, "--order", "3", "--prune", "0", "1", "--smoothing", "katz",
                       "-o", tmp_path / "x.arpa")
    assert code == 2 and "mkn and kn" in err


def test_cli_memory_refuses_what_it_cannot_do(tmp_path, cli):
    src = write_corpus(tmp_path / "train.txt", corpus())
    for args, msg in ((("--smoothing", "katz"), "mkn or kn"), ((), "ARPA"),
                      (("--memory", "lots"), "memory size"),
                      (("--temp-dir", tmp_path / "nope"), "not an existing folder")):
        out = tmp_path / ("m.arpa" if msg != "ARPA" else "m.npz")
        code, _, err = cli("build", src, "--order", "3", "--memory", "1M", *args, "-o", out)
        assert code == 2 and msg in err and err.count("\n") == 1, err
        assert not out.exists()


def test_full_disk_is_one_line_and_leaves_nothing(tmp_path, cli, monkeypatch):
    src = write_corpus(tmp_path / "train.txt", corpus())
    calls = []

    def full(rec, f):
        calls.append(1)
        if len(calls) > 3:  # a few runs fit, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        rec.tofile(f)
    monkeypatch.setattr(spill, "_tofile", full)
    out = tmp_path / "m.arpa"
    code, _, err = cli("build", src, "--order", "4", "--memory", "64K", "--temp-dir", tmp_path,
                       "-o", out)
    assert code == 2 and "Traceback" not in err
    [line] = [l for l in err.splitlines() if l.startswith("groundup: error:")]
    assert "No space left on device" in line and "--temp-dir" in line
    assert not out.exists() and not list(tmp_path.glob("groundup-ngram-*"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".m.arpa")]


@pytest.mark.parametrize("name", ["m.arpa", "m.bin"])
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_remove_the_temporary_files(tmp_path, sig, code, name):
    """A real process reading stdin from a pipe: interrupted (Ctrl-C) or terminated (kill) once
    its temporary folder exists (for a binary model, the folder of its ARPA file too)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "GROUNDUP_PROGRESS": "0"}
    p = subprocess.Popen([sys.executable, "-m", "groundup.cli", "ngram", "build", "-", "--order",
                          "3", "--memory", "1M", "--temp-dir", str(temp), "-o",
                          str(tmp_path / name)], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    p.stdin.write(b"a b c d\n" * 1000)
    p.stdin.flush()
    deadline = time.monotonic() + 60
    while not list(temp.glob("groundup-ngram-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(temp.glob("groundup-ngram-*")), "the build never started spilling"
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == code, err
    assert not list(temp.iterdir())
    assert not (tmp_path / name).exists()


def test_memory_account_holds_and_releases():
    acct = spill.MemoryAccount(100)
    acct.reserve(30)
    with acct.hold(50):
        assert acct.held == 80
    acct.release(30)
    assert (acct.held, acct.high_water) == (0, 80)


def test_many_runs_stay_within_the_accounted_budget(tmp_path):
    """Every large buffer of a build is counted against --memory: on a corpus that spills many
    runs per pass the most held at once stays within the budget, and the ARPA bytes are the
    in-memory builder's."""
    sents = corpus(seed=3, n=4000, V=400)
    memory = parse_size("1M")
    ref, out, st = both(tmp_path, sents, 5, memory=memory)
    assert out == ref
    assert st.runs["counting 5"] > 2, st.runs
    assert min(st.runs[f"{p} {k}"] for p in ("normalization", "interpolation") for k in (4, 5)) > 1, st.runs
    assert memory // 2 < st.memory_high_water <= memory


def test_temp_files_held_in_memory_read_back_and_move_to_disk(tmp_path, monkeypatch):
    """Files held in lent memory: appended across block boundaries, read back in chunks of any
    size; one that outgrows the room goes to disk whole and goes on there; removing a file
    gives its blocks back."""
    monkeypatch.setattr(spill, "MEM_BLOCK", 64)
    dt = record_dtype(3, c="<i8")  # 20 bytes: records straddle blocks
    rng = np.random.default_rng(0)
    rec = np.zeros(50, dt)
    rec["w"], rec["c"] = rng.integers(0, 1000, (50, 3)), rng.integers(0, 99, 50)
    with TempSpace(tmp_path) as space:
        space.lend(10 * 64)
        a, b = spill.Table(space, dt, "a"), spill.Table(space, dt, "b")
        for i in range(0, 20, 7):
            a.append(rec[i:min(i + 7, 20)])
        assert a.path in space.mem and not a.path.exists()
        assert space.mapped == 7 * 64  # 400 bytes in 7 blocks
        for rows in (1, 3, 20, 64):
            assert np.array_equal(np.concatenate(list(a.chunks(rows))), rec[:20])
        b.append(rec[:10])        # 200 bytes: 4 more blocks do not fit the 3 left
        assert b.path not in space.mem and b.path.stat().st_size == 200
        b.append(rec[10:])
        assert np.array_equal(np.concatenate(list(b.chunks(7))), rec)
        assert (space.mapped, space.mem_peak_bytes, space.peak_bytes) == (7 * 64, 7 * 64, 1000)
        a.append(rec[20:26])      # 120 bytes more: 2 blocks, still fits
        assert space.mapped == 9 * 64 and a.rows == 26
        a.append(rec[26:])        # outgrows: moves to disk, with what it held
        assert a.path not in space.mem and space.mapped == 0
        assert np.array_equal(np.concatenate(list(a.chunks(9))), rec)
        c = spill.Table(space, dt, "c")
        c.append(rec[:3])
        assert space.mapped == 64
        c.drop()
        assert space.mapped == 0 and not space.mem
        folder = space.dir
    assert not folder.exists()


def test_files_outgrowing_the_lent_memory_give_the_same_bytes(tmp_path, monkeypatch):
    """A build whose files only partly fit the memory its small arena leaves: the ones that
    outgrow it move to disk on the way, and the model is still the in-memory builder's."""
    from groundup.text.ngram import streaming

    monkeypatch.setattr(spill, "MEM_BLOCK", 4096)
    monkeypatch.setattr(streaming, "_arena_need", lambda *a: 1 << 20)
    sents = corpus(seed=3, n=4000, V=400)
    memory = parse_size("4M")
    ref, out, st = both(tmp_path, sents, 5, memory=memory)
    assert out == ref
    spool = sum(len(s) + 2 for s in sents) * 4
    assert st.temp_memory_peak_bytes > 0 and st.temp_peak_bytes > spool
    assert st.memory_high_water <= memory


def test_compiled_arpa_lines_equal_the_reference_formatter():
    """The compiled line formatter (digits two at a time, trailing zeros dropped) writes the
    text of arpa._fmt1 for log10 values of every magnitude, rounded to 0-6 decimals, -inf and
    values past -99 (as -99), integer parts of 1, 2 and 3+ digits, words of up to 16 bytes (a
    fixed-size copy from the padded table) and longer ones; values within 1e-9 of a
    rounding half are left out (the compiled rounding rounds the scaled value half up, Python
    the exact binary value)."""
    from groundup.text.ngram.arpa import LineFormatter, _fmt1

    rng = np.random.default_rng(0)
    n = 20000
    v = np.concatenate([
        -rng.exponential(2.0, n), rng.normal(0, 1, n) * 10.0 ** rng.integers(-8, 4, n),
        *[np.round(-rng.uniform(0, 99, n // 7), d) for d in range(7)],
        [-np.inf, -99.0, -99.5, -98.9999996, 0.0, -0.0, 1e-7, -4e-7, -6e-7, 123.25, -1234.5,
         99.9999996, 9.9999996, 1.5e-6, -0.0000015, 10.0, -100.000001]])
    frac = np.abs(np.where(np.isfinite(v), v, 0.0)) * 1e6 % 1.0
    v = v[~(np.abs(frac - 0.5) < 1e-9)]
    vocab = ["a", "bb", "ccc", "y" * 16, "长词" * 6, "z" * 17, "</s>"]  # <= 16 bytes, more
    W = rng.integers(0, len(vocab), size=(len(v), 3))
    bo = v[::-1].copy()
    got = bytes(LineFormatter(vocab).format(W, v, bo, True)).decode().splitlines()
    want = [f"{_fmt1(max(x, -99.0))}\t{' '.join(vocab[i] for i in w)}\t{_fmt1(max(y, -99.0))}"
            for x, y, w in zip(v.tolist(), bo.tolist(), W.tolist())]
    assert got == want
    plain = bytes(LineFormatter(["a"]).format(W[:3, :1] * 0, v[:3], v[:3], False)).decode()
    assert plain.splitlines() == [f"{_fmt1(max(x, -99.0))}\ta" for x in v[:3].tolist()]
