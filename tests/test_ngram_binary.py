"""The binary n-gram file (text/ngram/binary.py, packed.py): same scores as the ARPA model,
memory-mapped loading whose time does not grow with the n-grams, and every damaged file refused
with one line (exit 2 from the CLI), never a traceback or a crash."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from groundup.errors import ModelFormatError
from groundup.text.ngram import NgramModel
from groundup.text.ngram.binary import MAGIC, SECTIONS
from groundup.text.ngram.tables import BackoffTables

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def arpa_model():
    return NgramModel.load(DATA / "ngram_shakespeare.o3.arpa")


@pytest.fixture(scope="module")
def binfile(arpa_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("bin") / "m.bin"
    arpa_model.save(path)
    return path


def sentences():
    lines = (DATA / "ngram_shakespeare60.txt").read_text().splitlines()
    return [l.split() for l in lines] + [["zzz", "unknown", "<unk>", "the"], [], ["<s>", "to", "</s>"]]


def test_scores_equal_the_arpa_model(arpa_model, binfile):
    b = NgramModel.load(binfile)
    assert b.vocab == arpa_model.vocab and b.info.get("text") == arpa_model.info.get("text")
    for s in sentences():
        ref = arpa_model.token_log10_reference(arpa_model.encode([s]))[1:]
        lp, length, ids = b.score_tokens(s)
        np.testing.assert_allclose(lp, ref, atol=1e-9, rtol=0)  # the same float64 values
        assert abs(b.score(" ".join(s)) - ref.sum()) < 1e-9
        assert abs(b.score(s, eos=False) - ref[:-1].sum()) < 1e-9
    ev_a, ev_b = arpa_model.evaluate(sentences()), b.evaluate(sentences())
    assert ev_a.as_dict() == pytest.approx(ev_b.as_dict(), abs=1e-9)
    # the tables are views of the mapping, equal to the ARPA model's arrays
    for k in range(3):
        assert np.array_equal(b.tables.keys[k], arpa_model.tables.keys[k])
        assert not b.tables.logprob[k].flags.owndata and not b.tables.logprob[k].flags.writeable


def test_matched_length_is_kenlms(arpa_model):
    """ngram_length (KenLM query's third field): the order of the longest n-gram found; here
    checked against the reference route's brute-force search."""
    for s in sentences():
        lp, length, ids = arpa_model.score_tokens(s)
        corpus = arpa_model.encode([s])
        assert length.tolist() == arpa_model._matched_order(corpus)[1:].tolist()
        assert ids.tolist() == corpus.tokens[1:].tolist()


def test_ngram_length_by_hand(tmp_path):
    """A 2-gram model over {a, b}: 'a b' is listed, 'b a' is not. Scoring 'a b a':
    a after <s>: <s> a listed -> length 2; b after a: listed -> 2; a after b: unlisted -> 1
    (plus b's backoff); </s> after a: <s>-less, 'a </s>' listed -> 2."""
    arpa = ("\\data\\\nngram 1=5\nngram 2=3\n\n\\1-grams:\n-1.0\t<unk>\t0\n-99\t<s>\t-0.3\n"
            "-0.5\t</s>\t0\n-0.6\ta\t-0.2\n-0.7\tb\t-0.1\n\n\\2-grams:\n-0.1\t<s> a\n-0.2\ta b\n"
            "-0.4\ta </s>\n\n\\end\\\n")
    (tmp_path / "m.arpa").write_text(arpa)
    m = NgramModel.load(tmp_path / "m.arpa")
    m.save(tmp_path / "m.bin")
    b = NgramModel.load(tmp_path / "m.bin")
    lp, length, ids = b.score_tokens("a b a")
    assert length.tolist() == [2, 2, 1, 2]
    # a|b unlisted: b(b) + p(a) = -0.1 + -0.6
    np.testing.assert_allclose(lp, [-0.1, -0.2, -0.7, -0.4], atol=1e-12)


def synthetic(n_big: int, V: int = 50, seed: int = 0) -> BackoffTables:
    """A 2-gram model with n_big bigrams (random values; what matters is the size)."""
    rng = np.random.default_rng(seed)
    vocab = ["<unk>", "<s>", "</s>"] + [f"w{i}" for i in range(V - 3)]
    keys2 = np.unique(rng.integers(0, V * V, size=n_big))
    lp1 = np.log10(np.full(V, 1.0 / V))
    return BackoffTables(vocab, [np.arange(V), keys2],
                         [lp1, -rng.random(len(keys2))], [-rng.random(V), np.zeros(len(keys2))],
                         {"method": "synthetic"})


def _rss_kb() -> tuple[int, int]:
    """(VmRSS, RssAnon) of this process in kB."""
    fields = dict(l.split(":", 1) for l in Path("/proc/self/status").read_text().splitlines() if ":" in l)
    return int(fields["VmRSS"].split()[0]), int(fields["RssAnon"].split()[0])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_load_maps_the_file_and_does_not_grow_with_it(tmp_path):
    """A 2,500-bigram and a 1.2M-bigram model (V = 2,000 for both, so the vocabulary costs the
    same): the unverified load maps the file, so its time and resident memory stay those of the
    small one. Tolerance: 50 ms on top of 3x the small load (a loaded machine) while the
    large file is 400x bigger; RSS may grow by a tenth of the file at most."""
    small, large = tmp_path / "s.bin", tmp_path / "l.bin"
    NgramModel(synthetic(2500, V=2000)).save(small)
    NgramModel(synthetic(1_500_000, V=2000, seed=1)).save(large)
    size = os.path.getsize(large)
    assert size > 100 * os.path.getsize(small) and size > 40e6

    def load_time(path):
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            NgramModel.load(path, verify=False)
            best = min(best, time.perf_counter() - t0)
        return best

    t_small, t_large = load_time(small), load_time(large)
    assert t_large < 3 * t_small + 0.05, (t_small, t_large)
    NgramModel.load(small).score("w1 w2 w3")  # the compiled kernels loaded before measuring
    rss0, anon0 = _rss_kb()
    m = NgramModel.load(large, verify=False)
    rss1, _ = _rss_kb()
    assert (rss1 - rss0) * 1024 < size / 10, (rss1 - rss0, size)  # nothing read but the header
    m.score("w1 w2 w3")  # maps the pages it touches (a page-cache folio can be 2 MB): not a copy
    _, anon1 = _rss_kb()
    assert (anon1 - anon0) * 1024 < size / 10, (anon1 - anon0, size)
    # the verified load reads every page, but through the page cache: no private copy
    m2 = NgramModel.load(large, verify=True)
    _, anon2 = _rss_kb()
    assert (anon2 - anon0) * 1024 < size / 10, (anon2 - anon0, size)
    assert m2.score("w1 w2") == m.score("w1 w2")


# --- damaged files --------------------------------------------------------------------------
def _header(data: bytes) -> tuple[int, int]:
    N = int(np.frombuffer(data[24:32], "<i8")[0])
    return N, 48 + 8 * (2 * N + 1)  # order, start of the section table


def _set_i8(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + np.array([value], "<i8").tobytes() + data[at + 8:]


def _section(data: bytes, name: str) -> tuple[int, int]:
    _, st = _header(data)
    i = SECTIONS.index(name)
    off, n = np.frombuffer(data[st + 16 * i:st + 16 * i + 16], "<i8")
    return int(off), int(n)


def _set_f8(data: bytes, section: str, index: int, value: float) -> bytes:
    off, _ = _section(data, section)
    at = off + 8 * index
    return data[:at] + np.array([value], "<f8").tobytes() + data[at + 8:]


def damaged(good: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, a piece of the expected error)."""
    N, st = _header(good)
    keys_at = st + 16 * SECTIONS.index("keys")
    V = int(np.frombuffer(good[32:40], "<i8")[0])
    return {
        "empty": (b"", "needs at least"),
        "truncated header": (good[:30], "needs at least"),
        "truncated data": (good[:len(good) // 2], "section"),
        "wrong magic": (b"\x89NOTGRAM" + good[8:], "wrong magic"),
        "text-mode copy": (good.replace(b"\r\n", b"\n", 1), "wrong magic"),
        "future version": (_set_i8(good, 16, 2), "version 2"),
        "order 0": (_set_i8(good, 24, 0), "order 0"),
        "huge order": (_set_i8(good, 24, 10**12), "order"),
        "counts disagree": (_set_i8(good, 48 + 8, int(np.frombuffer(good[56:64], "<i8")[0]) + 1), "section"),
        "V disagrees": (_set_i8(good, 32, V + 1), "vocabulary size"),
        "section outside the file": (_set_i8(good, keys_at, len(good) // 8 * 8 + 64), "needs at least"),
        "negative offset": (_set_i8(good, keys_at, -64), "offset"),
        "sections overlap": (_set_i8(good, keys_at, _section(good, "logprob")[0]), "overlap"),
        "unaligned section": (_set_i8(good, keys_at, _section(good, "keys")[0] + 1), "multiple of 8"),
        "NaN log-probability": (_set_f8(good, "logprob", V + 1, np.nan), "NaN"),
        "log-probability above 0": (_set_f8(good, "logprob", 3, 0.5), "above 0"),
        "backoff +inf": (_set_f8(good, "backoff", 4, np.inf), "+inf"),
        "unsorted keys": (_set_i8(good, _section(good, "keys")[0] + 8 * (V + 1), 0), "order 2"),
        "hash table id": (_corrupt_table(good), "hash table"),
        "info not JSON": (_corrupt_info(good), "info"),
    }


def _corrupt_table(good: bytes) -> bytes:
    """A log-probability in the order-2 hash table (rows of key, log10 p, log10 b) that
    disagrees with the sorted arrays."""
    off, n = _section(good, "table")
    words = np.frombuffer(good[off:off + n], "<i8").copy()
    r = int(np.flatnonzero(words[0::3] >= 0)[0])  # the first filled order-2 row
    words[3 * r + 1] = np.array([-0.123456]).view("<i8")[0]
    return good[:off] + words.tobytes() + good[off + n:]


def _corrupt_info(good: bytes) -> bytes:
    off, n = _section(good, "info")
    return good[:off] + b"{" * n + good[off + n:]


def test_damaged_files_are_refused(binfile, tmp_path):
    good = binfile.read_bytes()
    for name, (data, want) in damaged(good).items():
        p = tmp_path / "bad.bin"
        p.write_bytes(data)
        with pytest.raises(ModelFormatError) as e:
            NgramModel.load(p, verify=True)
        msg = str(e.value)
        assert "\n" not in msg and str(p) in msg and want in msg, (name, msg)


def test_unverified_damaged_files_never_crash(binfile, tmp_path):
    """Without the value check, a damaged file loads or is refused, and scoring it returns
    (wrong) numbers: the kernels bounds-check every index they read."""
    good = binfile.read_bytes()
    for name, (data, _) in damaged(good).items():
        p = tmp_path / "bad.bin"
        p.write_bytes(data)
        try:
            m = NgramModel.load(p, verify=False)
        except ModelFormatError:
            continue
        m.score("the king is dead zzz")
        m.evaluate([["the", "king"], ["zzz"]])


def test_query_trusts_values_by_default_and_checks_them_with_verify(binfile, tmp_path, capsys):
    """The default load checks the header and sections only (its time does not grow with the
    file); ``--verify`` reads every value first and refuses a NaN with one line."""
    from groundup.cli import main

    bad = tmp_path / "nan.bin"
    data, want = damaged(binfile.read_bytes())["NaN log-probability"]
    bad.write_bytes(data)
    sents = tmp_path / "s.txt"
    sents.write_text("the king is dead\n")
    capsys.readouterr()
    assert main(["ngram", "query", str(bad), str(sents), "--no-sentences"]) == 0
    capsys.readouterr()
    assert main(["ngram", "query", str(bad), str(sents), "--verify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and want in err[0] and str(bad) in err[0]
    assert main(["ngram", "query", str(binfile), str(sents), "--verify", "--no-sentences"]) == 0


def test_cli_binarize_build_and_refusals(binfile, tmp_path, capsys):
    from groundup.cli import main

    out = tmp_path / "b.bin"
    assert main(["ngram", "binarize", str(DATA / "ngram_shakespeare.o3.arpa"), str(out)]) == 0
    assert out.read_bytes() == binfile.read_bytes()  # deterministic bytes
    assert main(["ngram", "build", str(DATA / "ngram_toy.txt"), "--order", "2", "--format", "bin",
                 "-o", str(tmp_path / "toy.model")]) == 0
    assert (tmp_path / "toy.model").read_bytes()[:16] == MAGIC
    (tmp_path / "notes.bin").write_text("my notes")
    capsys.readouterr()
    assert main(["ngram", "binarize", str(binfile), str(tmp_path / "notes.bin")]) == 2
    assert (tmp_path / "notes.bin").read_text() == "my notes"
    capsys.readouterr()
    bad = tmp_path / "bad.bin"
    bad.write_bytes(_set_i8(binfile.read_bytes(), 16, 7))
    assert main(["ngram", "query", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("groundup: error:") and "version 7" in err[0]


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_arpa_read_in_chunks_gives_the_same_tables(monkeypatch, arpa_model, chunk, tmp_path):
    """The reader parses a section CHUNK lines at a time (bounded memory on big files); the
    tables must not depend on where the chunks fall, and an error keeps its line number."""
    from groundup.text.ngram import arpa

    monkeypatch.setattr(arpa, "CHUNK", chunk)
    t = arpa.read_arpa(DATA / "ngram_shakespeare.o3.arpa")
    ref = arpa_model.tables
    assert t.vocab == ref.vocab
    for k in range(3):
        assert np.array_equal(t.keys[k], ref.keys[k])
        assert np.array_equal(t.logprob[k], ref.logprob[k]) and np.array_equal(t.backoff[k], ref.backoff[k])
    lines = (DATA / "ngram_shakespeare.o3.arpa").read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(j for j, l in enumerate(lines) if l.startswith("\\3-grams:")) + 10
    bad = tmp_path / "bad.arpa"
    bad.write_text("".join(lines[:i] + ["-1.0 only two\n"] + lines[i + 1:]), encoding="utf-8")
    with pytest.raises(ModelFormatError, match=f"line {i + 1} expected a 3-gram line"):
        arpa.read_arpa(bad)
