"""``ngram build --engine spark``: counting and adjusting on Spark give the same ARPA bytes as
the single-machine builder. One Spark session for the module: a local cluster of two worker
JVMs (``local-cluster[2,1,1024]``), its folders under a temporary one; skipped where PySpark
or Java is missing. The stack walk that adjusts a shard is also checked without Spark, against
the in-memory continuation counts, and so are the errors of a machine without PySpark/Java."""
from __future__ import annotations

import gzip
import os
import shutil
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from groundup.data.pipeline import TextOptions, read_corpus
from groundup.errors import ConfigError, DataError
from groundup.text.ngram import spark as engine
from groundup.text.ngram.counts import count_ngrams
from groundup.text.ngram.kneser_ney import adjusted_counts
from groundup.text.ngram.streaming import build_streaming

MASTER = "local-cluster[2,1,1024]"  # two workers of one core and 1 GB each
MEMORY = 1 << 20
SPACES = TextOptions(tokenizer="spaces")  # the builder's default


def corpus_text(seed=0, n=400, V=40) -> str:
    """Zipf sentences with what the reader must treat as the builder does: empty lines, \\r\\n,
    non-ASCII words (and a no-break space inside one, a word under `spaces`), a literal <unk>,
    <s> and </s> inside a line, no newline at the end."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(V)] + ["naïve", "中文", "Ünï\u00a0cödé", "<unk>"]
    lines = [" ".join(words[j] for j in rng.zipf(1.4, size=rng.integers(0, 12)) % len(words))
             for _ in range(n)]
    lines[5] = "w1 <s> w2 </s> w3"
    return "\r\n".join(lines[:50]) + "\n" + "\n".join(lines[50:])


def local_bytes(path, order, out, text=SPACES, **kw) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate discounts on tiny corpora: both warn
        build_streaming(read_corpus(path, text), order, out, memory=MEMORY, text=text, **kw)
    return Path(out).read_bytes()


def spark_bytes(files, order, out, text=SPACES, **kw) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engine.build_spark(files, order, out, memory=MEMORY, text=text, **kw)
    return Path(out).read_bytes()


@pytest.fixture(scope="module")
def sc(tmp_path_factory):
    """A two-worker local cluster for the module (its folders under a temporary one)."""
    pytest.importorskip("pyspark", reason="--engine spark needs PySpark (the spark extra)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("--engine spark needs Java (apt-get install default-jre-headless)")
    work = tmp_path_factory.mktemp("spark")
    with engine.session(MASTER, work) as context:
        yield context
    shutil.rmtree(work)


@pytest.fixture
def cli(capsys):
    from groundup.cli import main

    def call(*args):
        code = main(["ngram", *map(str, args)])
        out = capsys.readouterr()
        return code, out.out, out.err
    return call


def one_error_line(err: str, msg: str) -> bool:
    lines = [line for line in err.splitlines() if line.startswith("groundup: error: ")]
    return len(lines) == 1 and msg in lines[0] and "Traceback" not in err


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    (d / "c.txt").write_bytes(corpus_text().encode())
    return d


# ------------------------------------------------------------------------- without Spark
def test_without_pyspark_one_line_names_the_extra(tmp_path, cli, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    f = tmp_path / "c.txt"
    f.write_text("a b c\n")
    code, _, err = cli("build", f, "--order", "2", "--engine", "spark", "-o", tmp_path / "m.arpa")
    assert code == 2 and one_error_line(err, "pip install 'groundup[spark]'"), err


def test_without_java_one_line(tmp_path, cli, monkeypatch):
    pytest.importorskip("pyspark", reason="PySpark is looked for first")
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        pytest.skip("a SparkContext is running in this process")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    f = tmp_path / "c.txt"
    f.write_text("a b c\n")
    code, _, err = cli("build", f, "--order", "2", "--engine", "spark", "-o", tmp_path / "m.arpa")
    assert code == 2 and one_error_line(err, "default-jre-headless"), err


@pytest.mark.parametrize("extra,msg", [
    (["-", "--engine", "spark"], "not standard input"),
    (["c.txt", "--spark-master", "local[2]"], "go with --engine spark"),
    (["c.txt", "--engine", "spark", "--smoothing", "katz"], "mkn or kn only"),
])
def test_what_the_spark_engine_refuses(tmp_path, cli, monkeypatch, extra, msg):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("a b c\n")
    code, _, err = cli("build", *extra, "--order", "2", "-o", "m.arpa")
    assert code == 2 and one_error_line(err, msg), err


def test_adjusting_a_shard_is_the_continuation_count():
    """The stack walk over a shard in suffix order gives a(g) = N1+(. g) (c at order N and
    after <s>): against kneser_ney.adjusted_counts, on every n-gram of a corpus as one shard
    and split into suffix shards."""
    rng = np.random.default_rng(3)
    sents = [[f"w{j}" for j in rng.zipf(1.3, size=rng.integers(0, 9)) % 12] for _ in range(200)]
    N = 4
    c = count_ngrams(sents, N)
    want = {}
    for k, a in enumerate(adjusted_counts(c), start=1):
        if k >= 2:
            for g, ck, ak in zip(map(tuple, c.words(k).tolist()), c.counts[k - 1], a):
                want[g] = (int(ck), int(ak))
    for P in (1, 3):
        got = {}
        for p in range(P):
            shard = sorted(((g, ca[0]) for g, ca in want.items() if engine.suffix_shard(g) % P == p),
                           key=lambda r: r[0][::-1])
            got.update(dict(engine._adjust(N, shard)))
        assert got == want
    assert Counter(len(g) for g in want)[N] > 100  # a corpus with a real trie


# ---------------------------------------------------------------------------- with Spark
def test_the_corpus_is_read_in_several_spans_and_shards(data):
    spans = engine._spans([data / "c.txt"], "utf-8", 3)
    assert len(spans) == 3 and spans[0][2] == 0 and spans[-1][3] == (data / "c.txt").stat().st_size


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_same_bytes_as_the_local_engine(sc, data, order, tmp_path):
    ref = local_bytes(data / "c.txt", order, tmp_path / "local.arpa")
    got = spark_bytes([data / "c.txt"], order, tmp_path / "spark.arpa", partitions=3)
    assert got == ref
    assert not list(tmp_path.glob("groundup-ngram-*"))


def test_same_bytes_pruned_with_a_vocabulary_limit(sc, data, tmp_path):
    text = TextOptions(tokenizer="spaces", min_count=2)
    ref = local_bytes(data / "c.txt", 4, tmp_path / "local.arpa", text, prune=(0, 1, 1))
    got = spark_bytes([data / "c.txt"], 4, tmp_path / "spark.arpa", text, prune=(0, 1, 1),
                      partitions=2)
    assert got == ref and b"<unk>" in got


def test_same_bytes_kn_from_a_folder_with_a_compressed_file(sc, tmp_path):
    """A folder corpus (files in name order), one of them .gz (read whole by one task); the
    word tokenizer (every Unicode space) with lowercasing."""
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "a.txt").write_text(corpus_text(1, 200), encoding="utf-8")
    (d / "b.txt.gz").write_bytes(gzip.compress(corpus_text(2, 200).encode()))
    text = TextOptions(tokenizer="word", lowercase=True)
    from groundup.data.corpora import resolve_files

    files = resolve_files(d)
    ref = local_bytes(d, 3, tmp_path / "local.arpa", text, modified=False)
    got = spark_bytes(files, 3, tmp_path / "spark.arpa", text, modified=False, partitions=2)
    assert got == ref


def test_cli_engine_spark_gives_the_local_bytes(sc, data, tmp_path, cli):
    base = ["build", data / "c.txt", "--order", "3"]
    assert cli(*base, "-o", tmp_path / "l.arpa")[0] == 0
    code, _, err = cli(*base, "--engine", "spark", "--spark-partitions", "3",
                       "--temp-dir", tmp_path, "-o", tmp_path / "s.arpa")
    assert code == 0, err
    assert (tmp_path / "s.arpa").read_bytes() == (tmp_path / "l.arpa").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.arpa", "s.arpa"]  # temp removed


def test_a_bad_byte_read_by_a_worker_is_one_line(sc, tmp_path):
    f = tmp_path / "bad.txt"
    f.write_bytes(b"good line\n" * 50 + b"ab\xffcd\n")  # 0xff at 502, in the second span
    with pytest.raises(DataError, match=r"^[^\n]*not valid UTF-8 \(byte 0xff at offset 502\)[^\n]*$"):
        engine.build_spark([f], 2, tmp_path / "m.arpa", memory=MEMORY, text=SPACES, partitions=2)
    assert not (tmp_path / "m.arpa").exists()
