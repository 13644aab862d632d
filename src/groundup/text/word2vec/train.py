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

:func:`train` runs these steps, each a function below:
  1. ``build_vocab``    count words, prune, order by frequency (unless a vocabulary is given);
  2. ``encode_corpus``  the corpus as the kernel reads it: int ids in RAM, or re-read per epoch;
  3. ``build_kernel``   the sub-sampling and noise tables and the Huffman codes;
  4. ``init_weights`` and ``fresh_state`` (or ``load_checkpoint``: a killed run continues);
  5. ``_Loop.run``      the epochs: threads take jobs (runs of sentences) and call the kernel;
                        between jobs the state may be checkpointed (``Checkpointing``).
The slow, readable twin of the kernel's updates is :mod:`.reference`.
"""
from __future__ import annotations

import functools
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Literal

import numpy as np

from ...config import option
from ...data.batching import encode_sentences
from ...data.pipeline import TextOptions
from ...data.vocab import Vocab
from ...errors import ConfigError, TrainingError
from .checkpoint import Checkpointing, TrainState, load_checkpoint, save_checkpoint
from .jobs import EncodedCorpus, Job, JobQueue, StreamingCorpus
from .kernels import Kernel, Weights
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


def encode_corpus(corpus: Iterable[list[str]], vocab: Vocab,
                  cfg: Word2VecConfig) -> EncodedCorpus | StreamingCorpus:
    """Step 2: the corpus as integer ids, held in RAM (uint16 when V <= 65,536) or re-read and
    encoded job by job every epoch (``in_memory=False``)."""
    id_dtype = np.uint16 if len(vocab) <= 1 << 16 else np.int32
    if not cfg.in_memory:
        return StreamingCorpus(corpus, vocab.stoi, id_dtype)
    N = int(vocab.counts.sum())
    ids, starts, raw = encode_sentences(corpus, vocab.stoi, N, id_dtype)
    if raw != N:
        raise TrainingError(f"the corpus changed between passes ({N} then {raw} in-vocabulary tokens)")
    return EncodedCorpus(ids, starts)


def build_kernel(vocab: Vocab, cfg: Word2VecConfig) -> Kernel:
    """Step 3: what the kernel samples from: keep probabilities (sub-sampling), the alias table
    of P_n(w) ~ count^0.75 (noise words) and, for HS, the Huffman codes."""
    from .huffman import build_huffman
    from .sampling import alias_table, keep_probabilities, noise_distribution

    hs = cfg.loss == "hs"
    if hs:
        codes, points, lens = build_huffman(vocab.counts)
    else:   # placeholders of the right types (the kernel never reads them)
        codes, points, lens = np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32), np.zeros(1, np.int32)
    a_prob, a_idx = alias_table(noise_distribution(vocab.counts, cfg.ns_exponent))
    return Kernel(keep_probabilities(vocab.counts, cfg.sample), a_prob, a_idx, codes, points, lens,
                  sg=cfg.sg, hs=hs, negative=cfg.negative if cfg.loss == "ns" else 0, window=cfg.window,
                  cbow_mean=cfg.cbow_mean, want_loss=cfg.compute_loss,
                  skip_saturated=cfg.saturated == "skip")


def init_weights(V: int, cfg: Word2VecConfig) -> Weights:
    """Step 4: input vectors uniform in [-r/D, r/D) (word2vec.c: r = 0.5; gensim 4: r = 1),
    output vectors zero; a matrix the loss does not use is a (1, D) placeholder.

    The range matters on a small corpus: on 0.74M Chinese tokens (5 epochs) CBOW ends at a
    training objective (:func:`objective`) about 0.024 higher with r = 0.5 than with r = 1
    (skip-gram about 0.008), and with r = 1 and gensim's saturated rule it ends where gensim
    does (docs/word2vec.md, "Chinese")."""
    D = cfg.dim
    rng = np.random.default_rng(cfg.seed)
    syn0 = rng.random((V, D), dtype=np.float32)          # in place: no (V, D) temporaries
    syn0 -= np.float32(0.5)
    syn0 /= np.float32(D / (2 * INIT_RANGE[cfg.init]))
    syn1neg = np.zeros((V if cfg.loss == "ns" else 1, D), np.float32)
    syn1 = np.zeros((V - 1 if cfg.loss == "hs" else 1, D), np.float32)
    return Weights(syn0, syn1neg, syn1)


def fresh_state(cfg: Word2VecConfig) -> TrainState:
    """Step 4: epoch 0, one xorshift64* stream per thread seeded by splitmix64(seed, thread)."""
    T = cfg.threads
    rngs = np.array([[_splitmix64(cfg.seed * 7919 + t)] for t in range(T)], dtype=np.uint64)
    return TrainState(0, 0, rngs, np.zeros((T, 4), np.float64), np.zeros(4, np.float64), [])


@dataclass(frozen=True)
class LinearDecay:
    """alpha(pos) = alpha - (alpha - min_alpha) * pos / total, pos = tokens trained so far."""

    alpha: float
    min_alpha: float
    total: int

    def __call__(self, pos: int) -> float:
        return self.alpha - (self.alpha - self.min_alpha) * min(pos / self.total, 1.0)


def objective(corpus: Iterable[list[str]], vocab: Vocab, syn0: np.ndarray, syn1neg: np.ndarray,
              config: Word2VecConfig = Word2VecConfig(), seed: int = 0) -> float:
    """The training objective of given NS weights: the mean loss per prediction over one pass of
    ``corpus``, made as ``config``'s training pass makes it (sub-sampling, shrunk windows, K
    noise words each, ``-log s(v'.h)`` exact) with the learning rate at 0, so nothing moves.

    ``syn0`` and ``syn1neg`` (V, D) must be in ``vocab``'s word order (gensim's ``wv.vectors``
    and ``syn1neg`` are, for the same tokens and min_count). Every call with the same ``seed``
    makes the same draws, so two trainers' weights are compared on the very same predictions:
    a paired measure far less noisy than an accuracy over a few hundred analogy questions
    (benchmarks/bench_word2vec_zh.py, tests/test_word2vec_peer.py)."""
    cfg = config
    if cfg.loss != "ns":
        raise ConfigError("objective() evaluates negative-sampling weights (loss='ns')")
    if syn0.shape != syn1neg.shape or syn0.shape[0] != len(vocab):
        raise ConfigError(f"syn0 {syn0.shape} and syn1neg {syn1neg.shape} must both be (V, D) with "
                          f"V = {len(vocab)}")
    kernel = build_kernel(vocab, replace(cfg, compute_loss=True))
    w = Weights(np.array(syn0, np.float32), np.array(syn1neg, np.float32), np.zeros((1, syn0.shape[1]), np.float32))
    rng, stats = np.array([_splitmix64(seed)], np.uint64), np.zeros(4)
    for job in encode_corpus(corpus, vocab, cfg).jobs(cfg.job_words):
        kernel.train(job, w, 0.0, 0.0, rng, stats)          # alpha 0: every g = 0, the weights stay
    return float(stats[1] / max(stats[2], 1))


def train(corpus: Iterable[list[str]], config: Word2VecConfig = Word2VecConfig(), *,
          vocab: Vocab | None = None, show_progress: bool = True, log=None,
          checkpoint: Checkpointing | None = None) -> Word2Vec:
    """Train word vectors on ``corpus``, a restartable iterable of token lists
    (e.g. :class:`~groundup.data.corpora.TextCorpus`, from :func:`groundup.data.pipeline.read_corpus`).

    With ``checkpoint``, the run continues from ``checkpoint.path`` when that file exists (it
    must come from the same settings and corpus) and saves its state there as it goes."""
    cfg = config
    t_start = time.perf_counter()
    if vocab is None:
        vocab = build_vocab(corpus, min_count=cfg.min_count, max_vocab_size=cfg.max_vocab_size,
                            max_vocab=cfg.max_vocab)
    data = encode_corpus(corpus, vocab, cfg)
    kernel = build_kernel(vocab, cfg)
    weights, state = init_weights(len(vocab), cfg), fresh_state(cfg)
    if checkpoint is not None and checkpoint.path.exists():
        arrays, state = load_checkpoint(checkpoint.path, cfg, vocab,
                                        {k: a.shape for k, a in vars(weights).items()})
        weights = Weights(**arrays)
        if log:
            log(f"resuming from {checkpoint.path}: epoch {state.epoch + 1}/{cfg.epochs}, "
                f"{state.raw_words_done:,} words trained")
    t_prep = time.perf_counter() - t_start
    loop = _Loop(cfg, vocab, data, kernel, weights, state, checkpoint, log, show_progress)
    loop.run()
    tot = state.stats.sum(axis=0)
    negative, hs = kernel.negative, kernel.hs
    return Word2Vec(cfg, vocab, weights.syn0, weights.syn1neg if negative else None, weights.syn1 if hs else None,
                    state.epoch_loss, {
                        "vocab_size": len(vocab), "corpus_tokens": vocab.total,
                        "retained_tokens": int(vocab.counts.sum()),
                        "effective_words": int(tot[0]), "predictions": int(tot[2]),
                        "prepare_seconds": t_prep, "train_seconds": loop.train_seconds,
                        "train_cpu_seconds": loop.train_cpu_seconds,
                        "effective_words_per_s": tot[0] / max(loop.train_seconds, 1e-9),
                        "epoch_seconds": loop.epoch_seconds, "epoch_loss": state.epoch_loss,
                    })


class _Loop:
    """Step 5: the epochs. Jobs go to threads (Hogwild, or deterministic rounds); between jobs
    the loop may pause every thread and save the state."""

    def __init__(self, cfg: Word2VecConfig, vocab: Vocab, data, kernel: Kernel, weights: Weights,
                 state: TrainState, checkpoint: Checkpointing | None, log: Callable[[str], None] | None,
                 show_progress: bool):
        self.cfg, self.vocab, self.data, self.kernel = cfg, vocab, data, kernel
        self.weights, self.state = weights, state
        self.N = int(vocab.counts.sum())                # tokens per epoch that training sees
        self.lr = LinearDecay(cfg.alpha, cfg.min_alpha, max(self.N * cfg.epochs, 1))
        self.det = cfg.deterministic and cfg.threads > 1
        self.every = checkpoint.every_seconds if checkpoint is not None else None
        self.ckpt_path = checkpoint.path if checkpoint is not None else None
        self.log, self.show_progress = log, show_progress
        self.epoch_seconds: list[float] = []
        self.train_seconds = self.train_cpu_seconds = 0.0

    def train_job(self, job: Job, t: int, w: Weights, epoch: int) -> None:
        """Thread ``t`` trains ``job`` of ``epoch`` on ``w``; alpha from the job's place in the run."""
        base = epoch * self.N + job.offset
        self.kernel.train(job, w, self.lr(base), self.lr(base + job.n_words), self.state.rngs[t],
                          self.state.stats[t])

    def run(self) -> None:
        from ...utils import progress

        cfg, st = self.cfg, self.state
        # compile the kernel (or load it from numba's disk cache) before the clock starts: an
        # empty job with the real argument types trains nothing
        self.kernel.train(Job.empty(self.data.id_dtype), self.weights, cfg.alpha, cfg.alpha,
                          st.rngs[0].copy(), np.zeros(4))
        if self.det:    # replicas (T, ...) of every trained matrix
            self.reps = Weights(*(np.repeat(m[None], cfg.threads, axis=0) for m in self.weights.arrays()))
        self.bar = progress(total=self.lr.total, desc=f"word2vec {cfg.arch}/{cfg.loss}", unit="w",
                            disable=None if self.show_progress else True)
        self.next_save = time.monotonic() + (self.every or 0.0)
        t_train, c_train = time.perf_counter(), time.process_time()
        try:
            for epoch in range(st.epoch, cfg.epochs):
                self.epoch(epoch)
        finally:
            self.bar.close()     # clears its line: an error message starts on a clean one
            self.train_seconds = time.perf_counter() - t_train
            self.train_cpu_seconds = time.process_time() - c_train

    def epoch(self, epoch: int) -> None:
        cfg, st = self.cfg, self.state
        t_ep = time.perf_counter()
        queue = JobQueue(self.data.jobs(cfg.sync_words if self.det else cfg.job_words), skip=st.jobs_done)
        while True:
            if self.det:
                self.deterministic_rounds(queue, epoch)
            else:
                self.hogwild(queue, epoch)
            if queue.done():
                break
            st.jobs_done = queue.taken            # every thread stopped at a job boundary
            self.save(epoch)
            queue.resume()
        done = st.stats.sum(axis=0) - st.epoch_start
        mean_loss = done[1] / max(done[2], 1)
        self.check_finite(mean_loss, epoch)
        st.epoch_loss.append(float(mean_loss))
        st.epoch, st.jobs_done, st.epoch_start = epoch + 1, 0, st.stats.sum(axis=0).copy()
        self.epoch_seconds.append(time.perf_counter() - t_ep)
        self.write_log(f"epoch {epoch + 1}/{cfg.epochs}: loss {mean_loss:.4f}, "
                       f"{done[0] / self.epoch_seconds[-1]:,.0f} effective words/s")
        if self.due():
            self.save(epoch)

    def hogwild(self, queue: JobQueue, epoch: int) -> None:
        """Every thread takes the next job until none is left (or a checkpoint is due: the
        queue then pauses and the threads stop after their current job)."""
        if self.every is not None:
            queue.pause_at(self.next_save)
        errors: list[BaseException] = []

        def worker(t):
            try:
                while (job := queue.next()) is not None:
                    self.train_job(job, t, self.weights, epoch)
            except BaseException as e:  # noqa: BLE001 — re-raised in the main thread
                errors.append(e)

        ths = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(self.cfg.threads)]
        for th in ths:
            th.start()
        while alive := [th for th in ths if th.is_alive()]:
            alive[0].join(0.5)  # wait on a live thread: joining a finished one returns at once
            self.tick(epoch)
        if errors:
            raise errors[0]

    def deterministic_rounds(self, queue: JobQueue, epoch: int) -> None:
        """Rounds of T jobs, job k to thread k on its own replica, then the ordered merge; stops
        at the end of the epoch or after the round in which a checkpoint fell due."""
        T, reps, errors = self.cfg.threads, self.reps, []

        def worker(t, job):
            try:
                self.train_job(job, t, Weights(reps.syn0[t], reps.syn1neg[t], reps.syn1[t]), epoch)
            except BaseException as e:  # noqa: BLE001 — re-raised in the main thread
                errors.append(e)

        while True:
            round_jobs = [j for j in (queue.next() for _ in range(T)) if j is not None]
            if not round_jobs:
                return
            ths = [threading.Thread(target=worker, args=(t, j)) for t, j in enumerate(round_jobs)]
            for th in ths:
                th.start()
            for th in ths:
                th.join()
            if errors:
                raise errors[0]
            from . import kernels

            for m, r in zip(self.weights.arrays(), reps.arrays()):
                kernels.merge_replicas(m.reshape(-1), r.reshape(T, -1))
            self.tick(epoch)
            if self.due():
                queue.pause()
                return

    def due(self) -> bool:
        return self.every is not None and time.monotonic() >= self.next_save

    def save(self, epoch: int) -> None:
        """Checkpoint at a job boundary (``state.jobs_done`` jobs of ``state.epoch`` done),
        unless the run has gone non-finite: then stop, and the last good checkpoint stays."""
        st = self.state
        if self.every is None:
            return
        done = st.stats.sum(axis=0) - st.epoch_start
        self.check_finite(done[1] / max(done[2], 1), epoch)
        if not all(np.isfinite(m).all() for m in self.weights.arrays()):
            self.check_finite(float("nan"), epoch)
        save_checkpoint(self.ckpt_path, self.cfg, self.vocab, self.weights, st)
        self.next_save = time.monotonic() + self.every

    def check_finite(self, mean_loss: float, epoch: int) -> None:
        if not np.isfinite(mean_loss):
            raise TrainingError(f"loss became {mean_loss} in epoch {epoch + 1}; "
                                f"lower alpha (now {self.cfg.alpha})")

    def write_log(self, msg: str) -> None:
        if self.log:
            with self.bar.external_write_mode(file=sys.stderr):   # clear the bar, print, redraw
                self.log(msg)

    def tick(self, epoch: int) -> None:
        stats, bar = self.state.stats, self.bar
        done = int(stats[:, 3].sum())
        bar.n = done
        el = bar.format_dict.get("elapsed") or 1e-9
        bar.set_postfix_str(f"epoch {epoch + 1}, lr {self.lr(done):.5f}, {stats[:, 0].sum() / el:,.0f} eff w/s",
                            refresh=False)
        bar.refresh()
