"""Checkpoints: one self-checking file, written atomically, loaded without executing code.

File layout (``.pt``)::

    GROUNDUP-CHECKPOINT 1 <payload bytes> <sha256 of payload>\\n
    <payload: torch.save() of a dict of tensors, numbers, strings, lists and dicts>

* Atomic: the file is written to a temporary name beside the target, fsync'ed and renamed
  (:func:`groundup.io.atomic_write`), so a run killed with SIGKILL at any instant leaves either
  the previous checkpoint or the new one, never a torn file.
* Checked: the header's length and SHA-256 are verified before anything is unpickled; a
  truncated or corrupted file raises :class:`ModelFormatError` naming it.
* Safe: the payload is read with ``torch.load(weights_only=True)``, whose unpickler only
  rebuilds tensors and plain containers and never calls arbitrary code. Nothing that needs the
  full pickler goes in (numpy's RNG state is stored as a tensor, configs as plain dicts).
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ModelFormatError
from ..io import atomic_write
from ..io_read import open_regular

MAGIC = b"GROUNDUP-CHECKPOINT"
VERSION = 1


@dataclass
class TrainState:
    """Where a run is and what it has recorded: with the model, optimizer, schedule, RNG and
    carried hidden states, what a resumed run needs to continue as if never stopped."""

    epoch: int = 0                    # epochs finished
    batch: int = 0                    # batches finished in the current epoch
    step: int = 0                     # optimizer steps taken
    best_valid: float = math.inf      # best validation loss (nats per token) so far
    best_epoch: int = 0
    bad_epochs: int = 0               # epochs since the best (early stopping)
    done: bool = False
    stop_reason: str = ""
    train_seconds: float = 0.0        # seconds of training steps (evaluation not counted)
    train_tokens: int = 0
    epoch_loss_sum: float = 0.0
    epoch_loss_n: int = 0
    history: list = field(default_factory=list)  # one record per finished epoch
    metrics_lines: int = 0            # lines of metrics.jsonl that belong to this state

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def save_state(path: str | os.PathLike, payload: dict[str, Any]) -> str:
    """Write ``payload`` to ``path`` atomically; return the payload's SHA-256 (hex)."""
    buf = io.BytesIO()
    torch.save(payload, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    header = MAGIC + f" {VERSION} {len(data)} {digest}\n".encode("ascii")
    with atomic_write(path, "wb") as f:
        f.write(header)
        f.write(data)
    return digest


def load_state(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Verify and read a checkpoint written by :func:`save_state`."""
    p = Path(path)
    with open_regular(p, "checkpoint") as f:
        header = f.readline(256)
        data = f.read()
    parts = header.rstrip(b"\n").split(b" ")
    if len(parts) != 4 or parts[0] != MAGIC or not header.endswith(b"\n"):
        raise ModelFormatError(f"{p}: not a groundup checkpoint (bad header)")
    try:
        version, size, digest = int(parts[1]), int(parts[2]), parts[3].decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise ModelFormatError(f"{p}: not a groundup checkpoint (bad header)") from None
    if version != VERSION:
        raise ModelFormatError(f"{p}: checkpoint format version {version}, expected {VERSION}")
    if len(data) != size:
        raise ModelFormatError(f"{p}: truncated checkpoint ({len(data)} of {size} payload bytes)")
    if hashlib.sha256(data).hexdigest() != digest:
        raise ModelFormatError(f"{p}: checkpoint is corrupted (SHA-256 mismatch)")
    try:
        return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as e:  # the unpickler's many error types, all meaning "bad file"
        raise ModelFormatError(f"{p}: cannot read checkpoint payload ({type(e).__name__}: {e})") from None


# --- random number generator states as plain data ------------------------------------------
def rng_state() -> dict[str, Any]:
    """Python, numpy and torch (CPU and CUDA) generator states, as weights_only-safe values."""
    version, internal, gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state = {
        "python": [version, list(internal), gauss],
        "numpy": [np_name, torch.from_numpy(np_keys.astype(np.int64)), int(np_pos),
                  int(np_has_gauss), float(np_gauss)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = state["numpy"]
    np.random.set_state((np_name, np_keys.numpy().astype(np.uint32), np_pos, np_has_gauss, np_gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
