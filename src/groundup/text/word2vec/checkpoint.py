"""Saved training state of a word2vec run, so a killed run continues where it stopped.

The kernel's whole state is small: the weights (syn0, syn1neg, syn1), the position in the
learning-rate schedule (epoch and jobs done in it: a job is a fixed run of sentences, see
:mod:`.jobs`) and each thread's random state, plus the counters the per-epoch loss is computed
from. Restored exactly, the continued run performs the very same floating-point operations as
an uninterrupted one, so with one thread (or ``deterministic=True``) the vectors are
bit-identical.

The file is a NumPy ``.npz`` written atomically (a SIGKILL leaves the previous checkpoint or the
new one, never half of one) and read with ``allow_pickle=False``: nothing in it can execute.
Every array is checked (sizes in the archive before reading, then dtype, shape, finiteness)
against what this run expects, and the run's settings and vocabulary must be the ones that wrote
it; anything else is one :class:`~groundup.errors.ModelFormatError` naming the file and field.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ConfigError, ModelFormatError, TrainingError
from ...io import atomic_write

FORMAT = "groundup-word2vec-checkpoint"
VERSION = 1


@dataclass
class TrainState:
    """Where a run is: what, with the weights, a checkpoint saves."""

    epoch: int                   # epochs completed
    jobs_done: int               # jobs completed in epoch ``epoch``
    rngs: np.ndarray             # (T, 1) uint64 xorshift64* state of each thread
    stats: np.ndarray            # (T, 4) float64 counters per thread (kernels.train_chunk)
    epoch_start: np.ndarray      # (4,) float64 the counters summed when the epoch began
    epoch_loss: list[float]      # mean loss per prediction of each completed epoch

    @property
    def raw_words_done(self) -> int:
        return int(self.stats[:, 3].sum())


@dataclass(frozen=True)
class Checkpointing:
    """Save the state to ``path`` at the first job boundary every ``every_seconds`` (0: after
    every job; None: never save, only resume from ``path`` if it exists)."""

    path: Path
    every_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.every_seconds is not None and not (self.every_seconds >= 0 and np.isfinite(self.every_seconds)):
            raise ConfigError(f"checkpoint interval must be a finite number of seconds >= 0, "
                                f"got {self.every_seconds}")


def vocab_fingerprint(vocab) -> str:
    """sha256 of the vocabulary's words, counts and token total: a resumed run's corpus must
    give the same vocabulary."""
    h = hashlib.sha256()
    h.update("\n".join(vocab.itos).encode("utf-8"))
    h.update(np.asarray(vocab.counts, np.int64).tobytes())
    h.update(str(vocab.total).encode())
    return h.hexdigest()


def _meta(config, vocab) -> dict:
    return {"format": FORMAT, "version": VERSION, "config": dataclasses.asdict(config),
            "vocab_sha256": vocab_fingerprint(vocab), "vocab_size": len(vocab)}


def save_checkpoint(path: str | os.PathLike, config, vocab, weights, state: TrainState) -> None:
    meta = {**_meta(config, vocab), "epoch": state.epoch, "jobs_done": state.jobs_done,
            "epoch_loss": state.epoch_loss}
    arrays = {"syn0": weights.syn0, "syn1neg": weights.syn1neg, "syn1": weights.syn1,
              "rngs": state.rngs, "stats": state.stats, "epoch_start": state.epoch_start,
              "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)}
    with atomic_write(path, "wb") as f:
        np.savez(f, **arrays)


def load_checkpoint(path: str | os.PathLike, config, vocab, expected_shapes: dict[str, tuple]):
    """(weights arrays dict, TrainState) from ``path``, validated against this run."""
    p = Path(path)
    try:
        st = os.stat(p)
    except OSError as e:
        raise ModelFormatError(f"{p}: cannot read checkpoint ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise ModelFormatError(f"{p}: checkpoint is not a regular file")
    T = config.threads
    shapes = {**expected_shapes, "rngs": (T, 1), "stats": (T, 4), "epoch_start": (4,)}
    dtypes = {"syn0": np.float32, "syn1neg": np.float32, "syn1": np.float32, "rngs": np.uint64,
              "stats": np.float64, "epoch_start": np.float64, "meta": np.uint8}
    try:
        with zipfile.ZipFile(p) as z:           # sizes before anything is read into memory
            sizes = {i.filename.removesuffix(".npy"): i.file_size for i in z.infolist()}
        if not 0 < sizes.get("meta", 0) <= 1 << 24:
            raise ModelFormatError(f"{p}: not a word2vec checkpoint (no readable 'meta' field)")
        with np.load(p, allow_pickle=False) as z:
            meta_bytes = z["meta"]
        _check_meta(p, meta_bytes, config, vocab)
        for k, shp in shapes.items():
            need = int(np.prod(shp)) * np.dtype(dtypes[k]).itemsize
            if k not in sizes:
                raise ModelFormatError(f"{p}: checkpoint has no {k!r}")
            if not need <= sizes[k] <= need + 4096:
                raise ModelFormatError(f"{p}: checkpoint field {k!r} holds {sizes[k]} bytes, "
                                       f"this run needs {need}")
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in shapes}
    except (ModelFormatError, TrainingError):
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
        raise ModelFormatError(f"{p}: not a readable word2vec checkpoint ({e})") from None
    for k, shp in shapes.items():
        a = arrays[k]
        if a.dtype != dtypes[k] or a.shape != shp:
            raise ModelFormatError(f"{p}: checkpoint field {k!r} is {a.dtype}{list(a.shape)}, "
                                   f"expected {np.dtype(dtypes[k])}{list(shp)}")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ModelFormatError(f"{p}: checkpoint field {k!r} holds non-finite values")
    meta = json.loads(meta_bytes.tobytes().decode("utf-8"))
    state = TrainState(meta["epoch"], meta["jobs_done"], arrays.pop("rngs"), arrays.pop("stats"),
                       arrays.pop("epoch_start"), meta["epoch_loss"])
    return arrays, state


def _check_meta(p: Path, meta_bytes: np.ndarray, config, vocab) -> None:
    """The checkpoint's own description: format, version, the run's settings and vocabulary,
    a position inside the run."""
    try:
        if meta_bytes.dtype != np.uint8 or meta_bytes.ndim != 1:
            raise ValueError
        meta = json.loads(meta_bytes.tobytes().decode("utf-8"))
        if not (isinstance(meta, dict) and meta.get("format") == FORMAT):
            raise ValueError
    except ValueError:
        raise ModelFormatError(f"{p}: not a word2vec checkpoint (no valid 'meta' field)") from None
    if meta.get("version") != VERSION:
        raise ModelFormatError(f"{p}: checkpoint version {meta.get('version')!r}, this groundup reads {VERSION}")
    want = _meta(config, vocab)
    theirs = meta.get("config")
    if theirs != json.loads(json.dumps(want["config"])):
        theirs = theirs if isinstance(theirs, dict) else {}
        diff = [f"{k}: {theirs.get(k)!r} there, {v!r} here" for k, v in want["config"].items()
                if theirs.get(k) != v]
        raise TrainingError(f"{p}: checkpoint of a run with other settings ({'; '.join(diff[:3]) or 'unreadable'}); "
                            f"rerun with the same settings or delete it")
    if meta.get("vocab_sha256") != want["vocab_sha256"]:
        raise TrainingError(f"{p}: checkpoint of a run on another corpus (vocabulary differs); "
                            f"rerun on the same corpus or delete it")
    epoch, jobs_done, losses = meta.get("epoch"), meta.get("jobs_done"), meta.get("epoch_loss")
    if not (isinstance(epoch, int) and 0 <= epoch <= config.epochs and isinstance(jobs_done, int)
            and jobs_done >= 0 and isinstance(losses, list) and len(losses) == epoch
            and all(isinstance(x, float) and np.isfinite(x) for x in losses)):
        raise ModelFormatError(f"{p}: checkpoint position is invalid (epoch {epoch!r}, jobs {jobs_done!r})")
