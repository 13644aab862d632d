"""The corpus as the kernel reads it: integer-encoded sentences cut into jobs.

A :class:`Job` is a run of consecutive sentences (``ids[starts[s]:starts[s+1]]`` for
``s0 <= s < s1``) and where its first token sits in the epoch (``offset``, which fixes the
learning rate). A corpus hands out one epoch's jobs in order, always the same jobs for the same
``job_words``, which is what makes a run resumable: the position in an epoch is the number of
jobs done.

Two corpora give jobs:
  * :class:`EncodedCorpus` — every in-vocabulary token held in RAM (2 or 4 bytes each), jobs
    are slices of it;
  * :class:`StreamingCorpus` — the sentences are re-read and encoded job by job every epoch
    (corpora larger than RAM).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from ...data.batching import encode_sentences


@dataclass(frozen=True)
class Job:
    """Sentences ``s0 .. s1-1`` of ``(ids, starts)``; ``offset`` = tokens of the epoch before it."""

    ids: np.ndarray          # (n,) uint16 or int32 word ids
    starts: np.ndarray       # (sentences + 1,) int64 sentence boundaries into ids
    s0: int
    s1: int
    offset: int

    @property
    def n_words(self) -> int:
        return int(self.starts[self.s1] - self.starts[self.s0])

    @staticmethod
    def empty(id_dtype) -> "Job":
        """No sentences (the kernel's argument types, nothing to train: compiles the kernel)."""
        return Job(np.zeros(1, id_dtype), np.zeros(2, np.int64), 0, 0, 0)


def chunk_bounds(starts: np.ndarray, job_words: int) -> list[tuple[int, int]]:
    """Split sentences into consecutive ranges of about ``job_words`` tokens (at least one
    sentence each; a range stops before the sentence that would take it past ``job_words``)."""
    n = len(starts) - 1
    out, s = [], 0
    while s < n:
        e = int(np.searchsorted(starts, starts[s] + job_words, side="left"))
        e = min(max(e, s + 1), n)
        out.append((s, e))
        s = e
    return out


@dataclass(frozen=True)
class EncodedCorpus:
    """The whole corpus encoded once: ``ids`` (N,) and sentence ``starts``."""

    ids: np.ndarray
    starts: np.ndarray

    @property
    def id_dtype(self):
        return self.ids.dtype

    def jobs(self, job_words: int) -> Iterator[Job]:
        for s0, s1 in chunk_bounds(self.starts, job_words):
            yield Job(self.ids, self.starts, s0, s1, int(self.starts[s0]))


@dataclass(frozen=True)
class StreamingCorpus:
    """Sentences re-read every epoch and encoded a job at a time (a job closes at the sentence
    that reaches ``job_words`` tokens)."""

    sentences: Iterable[list[str]]
    key_to_index: dict[str, int]
    id_dtype: type

    def jobs(self, job_words: int) -> Iterator[Job]:
        offset, batch, n = 0, [], 0
        for sent in self.sentences:
            batch.append(sent)
            n += len(sent)
            if n >= job_words:
                job, raw = self._encode(batch, offset)
                if job is not None:
                    yield job
                offset += raw
                batch, n = [], 0
        if batch:
            job, _ = self._encode(batch, offset)
            if job is not None:
                yield job

    def _encode(self, batch, offset) -> tuple[Job | None, int]:
        ids, starts, raw = encode_sentences(batch, self.key_to_index, dtype=self.id_dtype)
        return (Job(ids, starts, 0, len(starts) - 1, offset) if raw else None), raw


class JobQueue:
    """One epoch's jobs in corpus order, handed to threads one at a time.

    ``skip`` jobs are passed over first (a resumed epoch). :meth:`pause` (now) or
    :meth:`pause_at` (a ``time.monotonic()`` deadline, after at least one more job) makes every
    later :meth:`next` return None until :meth:`resume`, so the threads stop at job boundaries
    and the weights can be saved; ``taken`` counts the jobs handed out (all done once every
    thread has stopped).
    """

    def __init__(self, jobs: Iterator[Job], skip: int = 0):
        self._lock = threading.Lock()
        self._it = jobs
        self._paused = False
        self._deadline: float | None = None
        self._min_taken = 0
        self._peeked: Job | None = None
        self.taken = 0
        self.exhausted = False
        for _ in range(skip):
            if self._pull() is None:
                break
            self.taken += 1

    def _pull(self) -> Job | None:
        if self._peeked is not None:
            job, self._peeked = self._peeked, None
            return job
        job = next(self._it, None)
        if job is None:
            self.exhausted = True
        return job

    def next(self) -> Job | None:
        with self._lock:
            if self._deadline is not None and self.taken >= self._min_taken \
                    and time.monotonic() >= self._deadline:
                self._paused = True
            if self._paused:
                return None
            job = self._pull()
            if job is not None:
                self.taken += 1
            return job

    def pause(self) -> None:
        with self._lock:
            self._paused = True

    def pause_at(self, deadline: float) -> None:
        with self._lock:
            self._deadline, self._min_taken = deadline, self.taken + 1

    def resume(self) -> None:
        with self._lock:
            self._paused, self._deadline = False, None

    def done(self) -> bool:
        """True when no job is left (looks one job ahead, so an epoch that ends exactly at a
        pause is known to be over)."""
        with self._lock:
            if self._peeked is None and not self.exhausted:
                self._peeked = next(self._it, None)
                if self._peeked is None:
                    self.exhausted = True
            return self._peeked is None and self.exhausted
