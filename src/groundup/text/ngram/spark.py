"""Counting and adjusting as a Spark job: ``groundup ngram build --engine spark``.

Where a corpus outgrows one machine, the two passes whose work grows with the corpus, counting
and adjusting, run on Apache Spark (PySpark RDDs). The job hands back what the single-machine
passes hand on (:class:`.streaming.Adjusted`), and the rest of the estimation (discounts,
normalization, interpolation, the ARPA file) streams on this machine exactly as ``build
--memory`` does; so the model is the same bytes as the single-machine builder's (tested on a
two-worker local cluster). Notation as in :mod:`.streaming`: N order, P shards, suffix order
compares from the last word back, context order from the first.

    reading      each corpus file cut into byte spans at line starts, one task per span, read
                 and tokenized by the builder's own reader and tokenizer
                 (:func:`groundup.data.textfile.iter_lines`, ``TextOptions.get_tokenizer``)
    vocabulary   per span, each word's count and rank of first appearance; reduced by word. The
                 driver numbers the words in order of first appearance (span, rank): the ids the
                 single-machine builder gives, which fix the order of the ARPA file
    counting     per span, the k-grams (k = 2..N) of its padded sentences, counted; shuffled to
                 P shards by their *suffix* (last two words) and summed           [shuffle 1]
    adjusting    each shard sorted in suffix order, in place (it is already sharded by suffix:
                 the n-grams v g that extend g to the left end in g's last two words, so they
                 are in g's shard). In that order g comes right before its extensions, a
                 depth-first walk of the suffix trie, so with a stack of the open n-grams
                     a(g) = N1+(. g) = the number of children of g      (lmplz's adjust pass)
                 and a(g) = c(g) at order N and where g starts with <s>
    statistics   count-of-counts, sizes, N1+(. w) for the unigrams, lmplz's final-flush chain
    to context   sorted by (order, context) into range partitions, which the driver streams one
                 at a time into normalization: adjusted counts go by *context*      [shuffle 2]

PySpark is imported only here (``pip install 'groundup[spark]'``, and Java: Debian's
``default-jre-headless``); the workers need groundup importable and the corpus at the same path
(a shared file system): a ``local[N]`` or ``local-cluster`` master has both.
"""
from __future__ import annotations

import operator
import os
import re
import shutil
import sys
from collections import Counter
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from ...data.textfile import iter_lines, splits_at_newlines
from ...errors import ConfigError, DataError
from .corpus import BOS, BOS_ID, EOS, EOS_ID, SPECIALS
from .kneser_ney import final_chain_grams
from .kneser_ney import prune_thresholds
from .spill import MemoryAccount, Table, TempSpace, record_dtype
from .streaming import (Adjusted, StreamStats, apply_final_flush, check_order, check_size,
                        context_chunks, estimate_streaming, restrict, vocab_budget)

INSTALL = "pip install 'groundup[spark]'"
SPAN_MAX = 64 << 20   # bytes of text one reading task reads at most
FLUSH = 1 << 20       # distinct n-grams a counting task holds before it hands them on
CHUNK = 1 << 16       # records per array streamed to the driver
ROW_BYTES = 64        # about what one record of a sorted partition costs in the driver
# log4j at errors only; the classes that set logging up when PySpark starts its JVM (as a
# shell) get a level of their own, else Spark resets the root level to WARN and says so; a
# failed task's traceback is not logged (it comes back in the exception that the job raises)
_QUIET = "".join(f"{k} = {v}\n" for k, v in (
    ("rootLogger.level", "error"), ("rootLogger.appenderRef.stderr.ref", "console"),
    ("appender.console.type", "Console"), ("appender.console.name", "console"),
    ("appender.console.target", "SYSTEM_ERR"), ("appender.console.layout.type", "PatternLayout"),
    ("appender.console.layout.pattern", "%d{HH:mm:ss} %p %c{1}: %m%n"),
    ("logger.submit.name", "org.apache.spark.deploy.SparkSubmit"), ("logger.submit.level", "error"),
    ("logger.gateway.name", "org.apache.spark.api.python.PythonGatewayServer"),
    ("logger.gateway.level", "error"),
    ("logger.context.name", "org.apache.spark.SparkContext"), ("logger.context.level", "error"),
    ("logger.task.name", "org.apache.spark.scheduler.TaskSetManager"), ("logger.task.level", "off"),
    ("logger.executor.name", "org.apache.spark.executor.Executor"), ("logger.executor.level", "off")))


def build_spark(files: Sequence[str | os.PathLike], order: int, path, *, text, memory: int,
                master: str | None = None, partitions: int = 0, temp_dir=None,
                modified: bool = True, prune=()) -> StreamStats:
    """:func:`.streaming.build_streaming` with counting and adjusting on Spark: the text
    ``files`` (each readable at the same path on every worker), ``text`` the text options,
    ``master`` a Spark master URL (default: the running SparkContext's, else ``local[*]``),
    ``partitions`` the shards P (default: twice the cluster's cores). The estimation streams
    here in ``memory`` bytes, its temporary files (and a local Spark's) under ``temp_dir``."""
    check_order(order)
    prune_thresholds(prune, order)
    if partitions < 0:
        raise ConfigError(f"partitions must be >= 0 (0 = twice the cores), got {partitions}")
    stats = StreamStats()
    acct = MemoryAccount(memory)
    with TempSpace(temp_dir) as space, session(master, space.dir / "spark") as sc, task_errors():
        P = partitions or 2 * sc.defaultParallelism
        spans = _spans([Path(f).resolve() for f in files], text.encoding, P)
        lines = sc.parallelize(spans, len(spans))
        adjusted = _count_and_adjust(sc, lines, order, P, memory, text, stats, space)
        B = vocab_budget(memory, len(adjusted.vocab), acct)
        estimate_streaming(adjusted, order, path, space=space, budget=B, acct=acct,
                           modified=modified, text=text, prune=prune, stats=stats)
    return stats


# ---------------------------------------------------------------------------------- the job
def _count_and_adjust(sc, spans, N: int, P: int, memory: int, text, stats: StreamStats,
                      space: TempSpace) -> Adjusted:
    from pyspark import StorageLevel

    # vocabulary: numbered in order of first appearance, as the single-machine builder does
    seen = spans.mapPartitions(partial(_words, text)).reduceByKey(_first_and_sum).collect()
    vocab, counts = _number(seen)
    stats.n_sentences = int(counts[EOS_ID])
    stats.n_words = int(counts.sum()) - stats.n_sentences
    check_size(stats, N)
    kept, remap = restrict(vocab, counts, text)
    V = len(kept)
    c1 = np.zeros(V, dtype=np.int64)
    np.add.at(c1, remap, counts)  # words left out pool their counts in <unk>; c(<s>) = 0
    stats.ngrams = [V] + [0] * (N - 1)
    if N == 1:
        return Adjusted(kept, c1, c1, _count_of_counts(np.zeros((1, 5), np.int64), c1), None)
    ids = sc.broadcast({w: int(i) for w, i in zip(vocab, remap) if w not in (BOS, EOS)})

    # counting, sharded by suffix [shuffle 1]; adjusting within the shards (no shuffle: the
    # same partitioner, so partitionBy keeps the shards and only sorts them)
    grams = spans.mapPartitions(partial(_grams, text, ids, N))
    counted = grams.reduceByKey(operator.add, P, suffix_shard)
    adjusted = (counted.repartitionAndSortWithinPartitions(P, suffix_shard, keyfunc=_suffix_order)
                .mapPartitions(partial(_adjust, N), preservesPartitioning=True)
                .persist(StorageLevel.MEMORY_AND_DISK))

    # statistics: count-of-counts, sizes, unigram continuations, the final-flush chain
    n, sizes, left, top = adjusted.mapPartitions(partial(_statistics, N, V)).reduce(_merge)
    stats.ngrams[1:] = sizes[2:].tolist()
    a1 = np.where(np.arange(V) == BOS_ID, c1, left)  # a(w) = N1+(. w); a(<s>) = c(<s>)
    n = _count_of_counts(n, a1)
    chain = final_chain_grams(top[N][0][::-1])  # lmplz's last padded N-gram (suffix order)
    found = {1: (int(c1[chain[0][0]]), int(a1[chain[0][0]]))} if chain else {}
    for gram in chain[1:]:
        rev, c, a = top[len(gram)]
        assert rev == gram[::-1], "the final-flush chain is out of step"
        found[len(gram)] = (c, a)
    apply_final_flush(n, chain, found)

    # to context order, by range partitions the driver streams one at a time [shuffle 2]
    Q = max(P, -(-int(sizes.sum()) * ROW_BYTES // max(memory // 4, 1)))
    ordered = adjusted.map(_by_order_and_context).sortByKey(numPartitions=Q).mapPartitions(_arrays)
    return Adjusted(kept, c1, a1, n, _ByOrder(ordered.toLocalIterator(), space))


def _count_of_counts(n: np.ndarray, a1: np.ndarray) -> np.ndarray:
    """n with its order-1 row from the unigram adjusted counts; n[:, 0] = 0 (unused)."""
    n[0] = np.bincount(np.minimum(a1, 5), minlength=6)[:5]
    n[:, 0] = 0
    return n


# ----------------------------------------------------------------------- reading, per span
def _spans(files: list[Path], encoding: str, P: int) -> list[tuple[int, str, int, int | None]]:
    """(index, path, start, end) of the reading tasks: the files cut into about P spans (of
    SPAN_MAX bytes at most), in file order; a compressed file, or one in an encoding that
    cannot be cut at ``\\n`` bytes, is one task (end None: the whole file)."""
    step = max(1, min(SPAN_MAX, -(-sum(f.stat().st_size for f in files) // P)))
    out: list[tuple[int, str, int, int | None]] = []
    for f in files:
        size = f.stat().st_size
        if f.suffix in (".gz", ".xz") or not splits_at_newlines(encoding):
            out.append((len(out), str(f), 0, None))
            continue
        for start in range(0, size, step):
            out.append((len(out), str(f), start, min(start + step, size)))
    return out


def _sentences(text, span) -> Iterator[list[str]]:
    """The token lists of one span's lines, as the builder's reader gives them (TextCorpus)."""
    _, path, start, end = span
    tok = text.get_tokenizer()
    for line in iter_lines(path, encoding=text.encoding, span=None if end is None else (start, end)):
        yield tok(line)


def _words(text, spans) -> Iterator[tuple[str, tuple[tuple[int, int], int]]]:
    """Vocabulary, per span: (word, ((span, rank of first appearance), count)); </s> counts the
    sentences. Literal <s> and </s> are dropped (the lines give the boundaries)."""
    for span in spans:
        count: Counter = Counter()  # keys in order of first appearance
        lines = 0
        for toks in _sentences(text, span):
            lines += 1
            count.update(_words_only(toks))
        for rank, (w, c) in enumerate(count.items()):
            yield w, ((span[0], rank), c)
        yield EOS, ((span[0], -1), lines)


def _words_only(toks: list[str]) -> list[str]:
    return [w for w in toks if w != BOS and w != EOS] if BOS in toks or EOS in toks else toks


def _first_and_sum(x, y):
    return min(x[0], y[0]), x[1] + y[1]


def _number(seen) -> tuple[list[str], np.ndarray]:
    """(vocab, counts (V,)): <unk> <s> </s>, then the words by first appearance."""
    vocab, counts = list(SPECIALS), [0, 0, 0]
    for w, (_, c) in sorted(seen, key=lambda r: r[1][0]):
        if w in SPECIALS:
            counts[SPECIALS.index(w)] += c  # a literal <unk>; </s> = the sentences
        else:
            vocab.append(w)
            counts.append(c)
    return vocab, np.asarray(counts, dtype=np.int64)


def _grams(text, ids, N: int, spans) -> Iterator[tuple[tuple[int, ...], int]]:
    """Counting, per span: (k-gram, count) for k = 2..N of ``<s> w_1 .. w_m </s>``, counted
    in a Counter that is handed on whenever it holds FLUSH n-grams (Spark sums the rest)."""
    index = ids.value
    counter: Counter = Counter()
    for span in spans:
        for toks in _sentences(text, span):
            s = [BOS_ID, *map(index.__getitem__, _words_only(toks)), EOS_ID]
            for k in range(2, N + 1):
                counter.update(zip(*(s[j:] for j in range(k))))  # the k-grams of s
            if len(counter) >= FLUSH:
                yield from counter.items()
                counter.clear()
    yield from counter.items()


# -------------------------------------------------------------------------------- the shards
def suffix_shard(gram: tuple[int, ...]) -> int:
    """The shard of an n-gram (k >= 2): by its last two words, which its left extensions
    share. Arithmetic on the ids, so every worker's Python computes the same shard (Spark
    takes it modulo P)."""
    return (gram[-2] * 0x9E3779B1 + gram[-1]) & 0x7FFFFFFF


def _suffix_order(gram: tuple[int, ...]) -> tuple[int, ...]:
    return gram[::-1]


def _by_order_and_context(record):
    """(g, v) -> ((k, g), v): sorted by this key, the orders come one after the other, each
    in context order. (A key, not sortByKey's keyfunc: PySpark compares its range bounds,
    which are keys, with keyfunc's values.)"""
    g, v = record
    return (len(g), g), v


def _adjust(N: int, shard) -> Iterator[tuple[tuple[int, ...], tuple[int, int]]]:
    """One shard of (g, c) in suffix order -> (g, (c, a)). In suffix order every n-gram
    follows its suffix g[1:] (same shard: same last two words) and the other extensions of
    that suffix, so the open n-grams form a stack, each the suffix of the next; an n-gram is
    closed when one arrives that it is not a suffix of, and its children counted."""
    stack: list[list] = []  # [g, c, children]
    for g, c in shard:
        while stack and not _is_suffix(stack[-1][0], g):
            yield _closed(stack.pop(), N)
        if stack:  # the top is g[1:]: g is one more left word before it
            stack[-1][2] += 1
        stack.append([g, c, 0])
    while stack:
        yield _closed(stack.pop(), N)


def _is_suffix(s: tuple[int, ...], g: tuple[int, ...]) -> bool:
    return len(s) < len(g) and g[len(g) - len(s):] == s


def _closed(node: list, N: int) -> tuple[tuple[int, ...], tuple[int, int]]:
    g, c, children = node
    return g, (c, c if len(g) == N or g[0] == BOS_ID else children)


def _statistics(N: int, V: int, records):
    """One partition's (n (N, 5) count-of-counts of orders >= 2, sizes (N+1,), left (V,) the
    distinct left words of each word, top): top[k] = (reversed padded k-gram, c, a), the
    maximum in suffix order of the k-grams <s>-padded on the left, as lmplz pads each
    sentence (:func:`.counts._last_padded_ngram`); c and a of a padded one are None."""
    n = np.zeros((N, 5), dtype=np.int64)
    sizes = np.zeros(N + 1, dtype=np.int64)
    left = np.zeros(V, dtype=np.int64)
    top: list = [None] * (N + 1)
    for g, (c, a) in records:
        k = len(g)
        sizes[k] += 1
        if a < 5:
            n[k - 1, a] += 1
        if k == 2:  # <s> is a left word too
            left[g[1]] += 1
        padded = range(k, N + 1) if g[0] == BOS_ID else (k,)  # <s> g stands for longer ones too
        for m in padded:
            rev = g[::-1] + (BOS_ID,) * (m - k)
            if top[m] is None or rev > top[m][0]:
                top[m] = (rev, c, a) if m == k else (rev, None, None)
    yield n, sizes, left, top


def _merge(x, y):
    top = [a if b is None or (a is not None and a[0] >= b[0]) else b for a, b in zip(x[3], y[3])]
    return x[0] + y[0], x[1] + y[1], x[2] + y[2], top


def _arrays(records) -> Iterator[np.ndarray]:
    """((k, g), (c, a)) in (order, context) order -> record arrays (w, c, a) of one order each."""
    batch: list = []
    k = 0
    for (_, g), (c, a) in records:
        if len(g) != k or len(batch) == CHUNK:
            if batch:
                yield _array(batch, k)
            batch, k = [], len(g)
        batch.append((g, c, a))
    if batch:
        yield _array(batch, k)


def _array(batch: list, k: int) -> np.ndarray:
    rec = np.empty(len(batch), dtype=record_dtype(k, c="<i8", a="<i8"))
    rec["w"] = np.array([g for g, _, _ in batch], dtype=np.uint32)
    rec["c"] = [c for _, c, _ in batch]
    rec["a"] = [a for _, _, a in batch]
    return rec


class _ByOrder:
    """``by_context`` of :class:`.streaming.Adjusted` over one stream sorted by (order,
    context): the chunks of order k; the orders passed on the way (the estimation asks for
    them from the top down) wait in temporary tables of ``space`` until asked for."""

    def __init__(self, chunks: Iterable[np.ndarray], space: TempSpace):
        self.it, self.space = iter(chunks), space
        self.passed: dict[int, Table] = {}

    def __call__(self, k: int):
        return lambda share: context_chunks(self._order(k), share)

    def _order(self, k: int) -> Iterator[np.ndarray]:
        if k in self.passed:
            table = self.passed.pop(k)
            yield from table.chunks(CHUNK)
            table.drop()
            return
        for chunk in self.it:
            j = chunk["w"].shape[1]
            if j == k:
                yield chunk
            elif j > k:  # order k was empty
                self._keep(chunk)
                return
            else:
                self._keep(chunk)

    def _keep(self, chunk: np.ndarray) -> None:
        j = chunk["w"].shape[1]
        if j not in self.passed:
            self.passed[j] = Table(self.space, chunk.dtype, f"spark{j}")
        self.passed[j].append(chunk)


# ----------------------------------------------------------------------------- the session
@contextmanager
def session(master: str | None, work: Path):
    """The running SparkContext (a notebook's, a test's), else one started for this build:
    logging errors only, scratch space under ``work``, stopped at the end."""
    try:
        from pyspark import SparkConf, SparkContext
    except ImportError:
        raise ConfigError(f"--engine spark needs PySpark: {INSTALL}") from None
    active = SparkContext._active_spark_context
    if active is not None:
        if master is not None and master != active.master:
            raise ConfigError(f"--spark-master {master}: a SparkContext for {active.master} "
                              "is already running in this process")
        yield active
        return
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ConfigError("--engine spark needs Java (e.g. apt-get install default-jre-headless)")
    master = master or "local[*]"
    conf = quiet_conf(SparkConf(), master, work)
    # a local-cluster's workers (threads of this JVM) keep their folders in SPARK_HOME/work
    home = _private_home(work) if master.startswith("local-cluster") else None
    before = os.environ.get("SPARK_HOME")
    try:
        if home is not None:
            os.environ["SPARK_HOME"] = str(home)
        sc = SparkContext(conf=conf)
    finally:
        if home is not None and before is None:
            del os.environ["SPARK_HOME"]
        elif home is not None:
            os.environ["SPARK_HOME"] = before
    try:
        sc.setLogLevel("ERROR")
        yield sc
    finally:
        sc.stop()


def _private_home(work: Path) -> Path:
    """A SPARK_HOME of links to PySpark's own, with a work/ folder of its own under ``work``."""
    from pyspark.find_spark_home import _find_spark_home

    home = work / "spark-home"
    home.mkdir()
    for entry in Path(_find_spark_home()).iterdir():
        if entry.name != "work":
            (home / entry.name).symlink_to(entry)
    return home


def quiet_conf(conf, master: str, work: Path):
    """``conf`` for a build: ``master``, no web UI or progress bar, log4j at errors only,
    scratch files under ``work``; a local master's workers run this interpreter and import
    this groundup."""
    work.mkdir(parents=True, exist_ok=True)
    log = work / "log4j2.properties"
    log.write_text(_QUIET)
    java = f"-Dlog4j2.configurationFile={log.as_uri()} -Djava.io.tmpdir={work}"
    conf = (conf.setMaster(master).setAppName("groundup ngram build")
            .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
            .set("spark.local.dir", str(work))
            .set("spark.driver.extraJavaOptions", java).set("spark.executor.extraJavaOptions", java))
    if master.startswith("local"):
        here = str(Path(__file__).resolve().parents[3])  # the folder that holds groundup/
        path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
        conf = conf.set("spark.pyspark.python", sys.executable).setExecutorEnv("PYTHONPATH", path)
    return conf


@contextmanager
def task_errors():
    """A DataError raised in a task (a byte that is not UTF-8, say) reaches the driver inside
    Spark's exception, with the task's traceback: raise it here as itself, one line."""
    try:
        yield
    except ConfigError:
        raise
    except Exception as e:
        found = re.search(r"groundup\.errors\.DataError: (.*)", str(e))
        if found and type(e).__module__.startswith(("py4j", "pyspark")):
            raise DataError(found.group(1).strip()) from None
        raise
