"""Word2Vec training: the config, the vocabulary pass, and the threads that drive the kernel.

Mikolov et al. 2013a ("Efficient Estimation of Word Representations in Vector Space") and
2013b ("Distributed Representations of Words and Phrases and their Compositionality"); the
reference implementation matched is word2vec.c (and gensim 4.4's port of it).

Two ways to use both cores:
  * Hogwild (default, as word2vec.c and gensim): the corpus is cut into jobs of ``job_words``
    tokens; each thread takes the next job and runs :func:`kernels.train_chunk` (numba, GIL
    released) on the shared arrays without locks. Fast, but the result depends on timing.
  * ``deterministic=True``: jobs of ``sync_words`` tokens are dealt in rounds, job k of a
    round to thread k; each thread trains its own replica of the weights, then the replicas
    are merged in thread order (``shared += sum_t (replica_t - shared)``, local SGD). The same
    seed and thread count give bit-identical vectors; the cost is the merge and the barrier.

The learning rate falls linearly from ``alpha`` to ``min_alpha`` over all epochs' tokens
(word2vec.c updates it every 10k words; here every sentence, inside the kernel).
"""
from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Literal

import numpy as np

from ...config import option
from ...data.batching import encode_sentences
from ...data.pipeline import TextOptions
from ...data.vocab import Vocab
from ...errors import ConfigError, TrainingError
from .vocab import build_vocab


INIT_RANGE = {"word2vec.c": 0.5, "gensim": 1.0}   # syn0 ~ U[-r/D, r/D)


@dataclass(frozen=True)
class Word2VecConfig(TextOptions):
    """Everything a word2vec run needs; the text options (tokenizer, lowercase, min_count,
    max_vocab) come from :class:`~groundup.data.pipeline.TextOptions`. Every field is a
    ``groundup word2vec train`` option."""

    arch: Literal["sg", "cbow"] = option("sg", "skip-gram (predict the context from the word) or "
                                               "CBOW (the word from its context)")
    loss: Literal["ns", "hs"] = option("ns", "negative sampling or hierarchical softmax")
    dim: int = option(100, "vector dimension D")
    window: int = option(5, "maximum context distance (each centre draws its window from 1..this)")
    negative: int = option(5, "noise words per prediction (ns only; --loss hs sets it to 0)")
    ns_exponent: float = option(0.75, "noise distribution P_n(w) ~ count(w)^this")
    sample: float = option(1e-3, "sub-sampling threshold s of frequent words (0 = off)")
    min_count: int = option(5, "words seen fewer times are dropped from training")
    max_vocab_size: int | None = option(None, "bound the words held while counting, as word2vec.c's "
                                              "ReduceVocab (gensim's max_vocab_size)")
    epochs: int = option(5, "passes over the corpus")
    alpha: float = option(0.025, "initial learning rate")
    min_alpha: float = option(0.0001, "learning rate at the end (linear decay over all epochs)")
    cbow_mean: bool = option(True, "CBOW: mean (true) or sum (false) of the context vectors")
    threads: int = option(2, "training threads")
    seed: int = option(1, "random seed (initial vectors, windows, noise words, sub-sampling)")
    deterministic: bool = option(False, "reproducible multi-thread training: fixed sharding and a "
                                        "replica merge")
    job_words: int = option(10_000, "tokens per Hogwild job (gensim's batch size)")
    sync_words: int = option(200_000, "tokens per thread between replica merges (deterministic)")
    in_memory: bool = option(True, "hold the encoded corpus in RAM (false: re-read it each epoch, "
                                   "for corpora larger than RAM)")
    compute_loss: bool = option(True, "track the per-epoch loss in float64 (costs a log per term)")
    saturated: str = option("update", "negative sampling, a score |v'.h| >= 6: update with the "
                                      "saturated sigmoid (word2vec.c) or skip it (gensim)",
                            choices=("update", "skip"))
    init: str = option("word2vec.c", "initial input vectors uniform in [-r/D, r/D): r = 0.5 "
                                     "(word2vec.c) or 1 (gensim 4)", choices=("word2vec.c", "gensim"))

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.arch not in ("sg", "cbow"):
            raise ConfigError(f"arch must be 'sg' or 'cbow', got {self.arch!r}")
        if self.loss not in ("ns", "hs"):
            raise ConfigError(f"loss must be 'ns' or 'hs', got {self.loss!r}")
        for name in ("dim", "window", "min_count", "epochs", "threads", "job_words", "sync_words"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.loss == "ns" and self.negative < 1:
            raise ConfigError(f"negative must be >= 1 with loss='ns', got {self.negative}")
        if self.negative < 0:
            raise ConfigError(f"negative must be >= 0, got {self.negative}")
        if self.saturated not in ("update", "skip"):
            raise ConfigError(f"saturated must be 'update' or 'skip', got {self.saturated!r}")
        if self.init not in INIT_RANGE:
            raise ConfigError(f"init must be one of {sorted(INIT_RANGE)}, got {self.init!r}")
        if self.sample < 0:
            raise ConfigError(f"sample must be >= 0, got {self.sample}")
        if not (self.alpha > 0 and 0 <= self.min_alpha <= self.alpha):
            raise ConfigError(f"need 0 <= min_alpha <= alpha and alpha > 0, got alpha={self.alpha}, "
                              f"min_alpha={self.min_alpha}")
        if self.max_vocab_size is not None and self.max_vocab_size < 1:
            raise ConfigError(f"max_vocab_size must be >= 1, got {self.max_vocab_size}")

    @property
    def sg(self) -> bool:
        return self.arch == "sg"


PRESETS = {
    # gensim 4.4's Word2Vec defaults (also the benchmark settings)
    "sg-ns": Word2VecConfig(),
    "cbow-ns": Word2VecConfig(arch="cbow"),
    # word2vec.c's demo-word.sh: CBOW, window 8, 25 noise words, sample 1e-4, alpha 0.05
    "word2vec-c-demo": Word2VecConfig(arch="cbow", dim=200, window=8, negative=25, sample=1e-4,
                                      alpha=0.05, epochs=15),
    "sg-hs": Word2VecConfig(loss="hs", negative=0),
}


@dataclass
class Word2Vec:
    """A trained model: the vocabulary, the weights, and what training measured."""

    config: Word2VecConfig
    vocab: Vocab
    syn0: np.ndarray                        # (V, D) input vectors: the word vectors
    syn1neg: np.ndarray | None              # (V, D) NS output vectors
    syn1: np.ndarray | None                 # (V-1, D) HS inner-node vectors
    epoch_loss: list[float] = field(default_factory=list)   # mean loss per prediction, float64
    stats: dict = field(default_factory=dict)

    @functools.cached_property
    def wv(self):
        """The word vectors (shares ``syn0``; unit vectors computed once on first query)."""
        from .vectors import WordVectors

        return WordVectors(self.vocab.itos, self.syn0, counts=self.vocab.counts)


def _splitmix64(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) or 1


def _chunk_bounds(starts: np.ndarray, job_words: int) -> list[tuple[int, int]]:
    """Split sentences into consecutive ranges of about ``job_words`` tokens."""
    n = len(starts) - 1
    out, s = [], 0
    while s < n:
        e = int(np.searchsorted(starts, starts[s] + job_words, side="left"))
        e = min(max(e, s + 1), n)
        out.append((s, e))
        s = e
    return out


class _Jobs:
    """One epoch's jobs ``(ids, starts, s0, s1, token_offset)`` in corpus order, thread-safe."""

    def __init__(self, source, job_words: int, id_dtype):
        self.lock = threading.Lock()
        self.it = self._gen(source, job_words, id_dtype)

    @staticmethod
    def _gen(source, job_words, id_dtype) -> Iterator[tuple]:
        if source[0] == "memory":                # ("memory", ids, starts)
            _, ids, starts = source
            for s0, s1 in _chunk_bounds(starts, job_words):
                yield ids, starts, s0, s1, int(starts[s0])
            return
        _, corpus, key_to_index = source         # ("stream", ...): re-read and encode per job
        offset, batch, n = 0, [], 0
        for sent in corpus:
            batch.append(sent)
            n += len(sent)
            if n >= job_words:
                ids, starts, raw = encode_sentences(batch, key_to_index, dtype=id_dtype)
                if raw:
                    yield ids, starts, 0, len(starts) - 1, offset
                offset += raw
                batch, n = [], 0
        if batch:
            ids, starts, raw = encode_sentences(batch, key_to_index, dtype=id_dtype)
            if raw:
                yield ids, starts, 0, len(starts) - 1, offset

    def next(self):
        with self.lock:
            return next(self.it, None)


def train(corpus: Iterable[list[str]], config: Word2VecConfig = Word2VecConfig(), *,
          vocab: Vocab | None = None, show_progress: bool = True, log=None) -> Word2Vec:
    """Train word vectors on ``corpus``, a restartable iterable of token lists
    (e.g. :class:`~groundup.data.corpora.TextCorpus`, from :func:`groundup.data.pipeline.read_corpus`)."""
    from . import kernels
    from .huffman import build_huffman
    from .sampling import alias_table, keep_probabilities, noise_distribution

    cfg = config
    t_start = time.perf_counter()
    if vocab is None:
        vocab = build_vocab(corpus, min_count=cfg.min_count, max_vocab_size=cfg.max_vocab_size,
                            max_vocab=cfg.max_vocab)
    V, D = len(vocab), cfg.dim
    N = int(vocab.counts.sum())             # tokens per epoch that training sees
    id_dtype = np.uint16 if V <= 1 << 16 else np.int32
    if cfg.in_memory:
        ids, starts, raw = encode_sentences(corpus, vocab.stoi, N, id_dtype)
        if raw != N:
            raise TrainingError(f"the corpus changed between passes ({N} then {raw} in-vocabulary tokens)")
        source = ("memory", ids, starts)
    else:
        source = ("stream", corpus, vocab.stoi)
    t_prep = time.perf_counter() - t_start

    rng = np.random.default_rng(cfg.seed)
    # input vectors uniform in [-r/D, r/D) (word2vec.c: r = 0.5; gensim 4: r = 1), output vectors zero
    r = INIT_RANGE[cfg.init]
    syn0 = rng.random((V, D), dtype=np.float32)          # in place: no (V, D) temporaries
    syn0 -= np.float32(0.5)
    syn0 /= np.float32(D / (2 * r))
    hs, negative = cfg.loss == "hs", (cfg.negative if cfg.loss == "ns" else 0)
    syn1neg = np.zeros((V, D), np.float32) if negative else np.zeros((1, D), np.float32)
    if hs:
        codes, points, lens = build_huffman(vocab.counts)
        syn1 = np.zeros((V - 1, D), np.float32)
    else:
        codes, points, lens = np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32), np.zeros(1, np.int32)
        syn1 = np.zeros((1, D), np.float32)
    keep = keep_probabilities(vocab.counts, cfg.sample)
    a_prob, a_idx = alias_table(noise_distribution(vocab.counts, cfg.ns_exponent))

    T = cfg.threads
    det = cfg.deterministic and T > 1
    rngs = [np.array([_splitmix64(cfg.seed * 7919 + t)], dtype=np.uint64) for t in range(T)]
    stats = np.zeros((T, 4), np.float64)
    total = max(N * cfg.epochs, 1)

    def lr(pos: int) -> float:
        return cfg.alpha - (cfg.alpha - cfg.min_alpha) * min(pos / total, 1.0)

    def run_job(job, t, w0, w1n, w1):
        ids_, starts_, s0, s1, off = job
        base = epoch * N + off
        kernels.train_chunk(ids_, starts_, s0, s1, w0, w1n, w1, keep, a_prob, a_idx,
                            codes, points, lens, cfg.sg, hs, negative, cfg.window,
                            cfg.cbow_mean, lr(base), lr(base + int(starts_[s1] - starts_[s0])),
                            rngs[t], stats[t], cfg.compute_loss, cfg.saturated == "skip")

    if det:   # replicas (T, ...) of every trained matrix
        reps = [np.repeat(m[None], T, axis=0) for m in (syn0, syn1neg, syn1)]

    # compile the kernel (or load it from numba's disk cache) before the clock starts: an empty
    # range of sentences with the real argument types trains nothing
    kernels.train_chunk(np.zeros(1, id_dtype), np.zeros(2, np.int64), 0, 0, syn0, syn1neg, syn1, keep,
                        a_prob, a_idx, codes, points, lens, cfg.sg, hs, negative, cfg.window,
                        cfg.cbow_mean, cfg.alpha, cfg.alpha, rngs[0].copy(), np.zeros(4),
                        cfg.compute_loss, cfg.saturated == "skip")

    from ...utils import progress

    bar = progress(total=total, desc=f"word2vec {cfg.arch}/{cfg.loss}", unit="w",
                   disable=None if show_progress else True)
    epoch_loss, epoch_seconds = [], []
    t_train, c_train = time.perf_counter(), time.process_time()
    for epoch in range(cfg.epochs):
        t_ep = time.perf_counter()
        before = stats.sum(axis=0).copy()
        jobs = _Jobs(source, cfg.sync_words if det else cfg.job_words, id_dtype)
        errors: list[BaseException] = []

        if det:
            def det_worker(t, job):
                try:
                    run_job(job, t, reps[0][t], reps[1][t], reps[2][t])
                except BaseException as e:  # noqa: BLE001 — re-raised in the main thread
                    errors.append(e)

            while True:
                round_jobs = [j for j in (jobs.next() for _ in range(T)) if j is not None]
                if not round_jobs:
                    break
                ths = [threading.Thread(target=det_worker, args=(t, j)) for t, j in enumerate(round_jobs)]
                for th in ths:
                    th.start()
                for th in ths:
                    th.join()
                if errors:
                    raise errors[0]
                for m, r in zip((syn0, syn1neg, syn1), reps):
                    kernels.merge_replicas(m.reshape(-1), r.reshape(T, -1))
                _tick(bar, stats, cfg, epoch, N, lr)
        else:
            def worker(t):
                try:
                    while (job := jobs.next()) is not None:
                        run_job(job, t, syn0, syn1neg, syn1)
                except BaseException as e:  # noqa: BLE001
                    errors.append(e)

            ths = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(T)]
            for th in ths:
                th.start()
            while alive := [th for th in ths if th.is_alive()]:
                alive[0].join(0.5)  # wait on a live thread: joining a finished one returns at once
                _tick(bar, stats, cfg, epoch, N, lr)
            if errors:
                raise errors[0]
        done = stats.sum(axis=0) - before
        mean_loss = done[1] / max(done[2], 1)
        if not np.isfinite(mean_loss):
            raise TrainingError(f"loss became {mean_loss} in epoch {epoch + 1}; lower alpha (now {cfg.alpha})")
        epoch_loss.append(float(mean_loss))
        epoch_seconds.append(time.perf_counter() - t_ep)
        if log:
            log(f"epoch {epoch + 1}/{cfg.epochs}: loss {mean_loss:.4f}, "
                f"{done[0] / epoch_seconds[-1]:,.0f} effective words/s")
    bar.close()
    train_s, train_cpu = time.perf_counter() - t_train, time.process_time() - c_train
    tot = stats.sum(axis=0)
    return Word2Vec(cfg, vocab, syn0, syn1neg if negative else None, syn1 if hs else None,
                    epoch_loss, {
                        "vocab_size": V, "corpus_tokens": vocab.total, "retained_tokens": N,
                        "effective_words": int(tot[0]), "predictions": int(tot[2]),
                        "prepare_seconds": t_prep, "train_seconds": train_s, "train_cpu_seconds": train_cpu,
                        "effective_words_per_s": tot[0] / max(train_s, 1e-9),
                        "epoch_seconds": epoch_seconds, "epoch_loss": epoch_loss,
                    })


def _tick(bar, stats, cfg, epoch, N, lr) -> None:
    done = int(stats[:, 3].sum())
    bar.n = done
    el = bar.format_dict.get("elapsed") or 1e-9
    bar.set_postfix_str(f"epoch {epoch + 1}, lr {lr(done):.5f}, {stats[:, 0].sum() / el:,.0f} eff w/s",
                        refresh=False)
    bar.refresh()
