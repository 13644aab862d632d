"""The one input policy for files groundup loads: models, vectors, checkpoints, configs, metrics.

* Regular files only. A folder, FIFO, socket or device named as a model is one clear error, never
  a hang: the path is checked with ``os.stat`` before it is opened, and it is opened with
  ``O_NONBLOCK`` so that a FIFO swapped in between the check and the open cannot block either
  (``fstat`` on the open descriptor then refuses it). ``O_NONBLOCK`` has no effect on reads
  from a regular file.
* Sizes are known before anything is allocated: :func:`check_fits_file` compares what a header
  claims (V words of D floats, an array of N elements) with the bytes the file actually holds.
* Every refusal names the file and raises the caller's error type (a subclass of
  :class:`groundup.errors.GroundupError`), which the CLI prints as one line with exit code 2.

The write side (atomic replace, umask) is :mod:`groundup.io`.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from .errors import GroundupError, ModelFormatError

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _refuse_mode(p: Path, mode: int, what: str, error: type[GroundupError]) -> None:
    if stat.S_ISDIR(mode):
        raise error(f"{p}: is a folder, expected a {what}")
    if not stat.S_ISREG(mode):
        raise error(f"{p}: is {_kind(mode)}, expected a regular {what}")


def regular_file(path: str | os.PathLike, what: str = "file",
                 error: type[GroundupError] = ModelFormatError) -> os.stat_result:
    """``os.stat`` of ``path`` if it is a regular file; ``error`` naming it otherwise."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise error(f"{p}: no such {what}") from None
    except OSError as e:
        raise error(f"{p}: cannot read ({e.strerror or e})") from None
    _refuse_mode(p, st.st_mode, what, error)
    return st


def open_regular(path: str | os.PathLike, what: str = "file",
                 error: type[GroundupError] = ModelFormatError) -> IO[bytes]:
    """Open a regular file for binary reading (never blocks on a FIFO or device)."""
    p = Path(path)
    regular_file(p, what, error)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except OSError as e:
        raise error(f"{p}: cannot open ({e.strerror or e})") from None
    try:
        _refuse_mode(p, os.fstat(fd).st_mode, what, error)  # replaced since the stat?
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_regular(path: str | os.PathLike, what: str = "file",
                 error: type[GroundupError] = ModelFormatError, *,
                 max_bytes: int | None = None) -> bytes:
    """All bytes of a regular file (``max_bytes``: refuse a larger one before reading it)."""
    with open_regular(path, what, error) as f:
        size = os.fstat(f.fileno()).st_size
        if max_bytes is not None and size > max_bytes:
            raise error(f"{Path(path)}: {size:,} bytes; a {what} is at most {max_bytes:,}")
        try:
            return f.read()
        except OSError as e:
            raise error(f"{Path(path)}: cannot read ({e.strerror or e})") from None


def check_fits_file(path: str | os.PathLike, claimed: int, available: int, what: str,
                    error: type[GroundupError] = ModelFormatError) -> None:
    """Refuse a header whose claim needs more bytes than the file holds (before allocating)."""
    if claimed > available:
        raise error(f"{Path(path)}: {what} needs at least {claimed:,} bytes but the file holds "
                    f"{available:,} (a wrong header or a truncated file)")
