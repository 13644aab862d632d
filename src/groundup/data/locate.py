"""One way to find data.

* :func:`shared_data_dir` — the read-only public corpora used by tests and benchmarks:
  ``$GROUNDUP_DATA`` if set, else ``../shared/data`` relative to the repository (or the
  current folder). Returns ``None`` when absent so callers can skip cleanly.
* :func:`bundled_path` — files shipped inside the package (``groundup/data/bundled``), which
  is all the main job (``groundup lab``) needs.
* :func:`open_text` — open a bundled or user file as UTF-8 text, transparently decompressing
  ``.xz``/``.gz``.
"""
from __future__ import annotations

import gzip
import io
import lzma
import os
from pathlib import Path
from typing import IO

BUNDLED = Path(__file__).resolve().parent / "bundled"


def shared_data_dir() -> Path | None:
    env = os.environ.get("GROUNDUP_DATA")
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parents[3]  # src/groundup/data/locate.py -> repo root
    candidates += [repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    return None


def shared_file(*parts: str) -> Path | None:
    """Path of a file under the shared data folder, or None if the folder or file is absent."""
    root = shared_data_dir()
    if root is None:
        return None
    p = root.joinpath(*parts)
    return p if p.exists() else None


def bundled_path(*parts: str) -> Path:
    return BUNDLED.joinpath(*parts)


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open ``path`` (optionally ``.xz`` or ``.gz`` compressed) as strict UTF-8 text."""
    path = Path(path)
    if path.suffix == ".xz":
        return io.TextIOWrapper(lzma.open(path, "rb"), encoding="utf-8")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")
