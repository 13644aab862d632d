"""Downloading corpora: resumable, verified, atomic.

* The bytes go to ``DEST.part``. If a ``.part`` is already there (an interrupted run), the
  request asks for the rest with an HTTP ``Range: bytes=N-`` header and appends; a server that
  ignores the range (200 instead of 206) gets a fresh start.
* When the transfer ends, size and sha256 are checked against the registry. A mismatch deletes
  the ``.part`` and raises DataError naming the expected and actual values.
* Only a verified file is renamed onto ``DEST`` (``os.replace``, atomic on one filesystem), so
  ``DEST`` is either absent or complete and correct, never half written.
* A network failure is one line (DataError) and keeps the ``.part`` for the next try.
* The ``.part`` is ``flock``-ed while bytes flow: a second process fetching the same file is
  told so instead of interleaving its writes.
* Archives (zip, tar, tar.gz/bz2/xz) are unpacked all or nothing (into a temporary folder,
  moved into place at the end), refusing absolute paths, ``..`` components, links and devices
  (path traversal) and members that expand past a size and ratio cap (decompression bombs).
* Every registry entry carries a sha256; an entry without one is refused, never fetched
  unverified.

``file://`` URLs work too (the tests use them and a local HTTP server; there is no network).
"""
from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable

from .. import __version__
from ..errors import DataError
from .corpora import Corpus, CorpusFile, corpus_cache_dir, get

_BLOCK = 1 << 16


def _hash_prefix(path: Path) -> "hashlib._Hash":
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h


def _fmt_size(n: int | None) -> str:
    return "unknown size" if n is None else f"{n:,} bytes"


def download(url: str, dest: str | os.PathLike, *, sha256: str | None = None, size: int | None = None,
             progress: bool = True, timeout: float = 60.0, desc: str | None = None) -> Path:
    """Fetch ``url`` into ``dest``, resuming a ``dest.part`` left by an earlier attempt.

    Returns ``dest``. If ``dest`` already exists and matches ``sha256`` (or ``size`` when no
    checksum is known), nothing is fetched. Raises DataError on a network failure, a short
    transfer (``.part`` kept: run again to resume), a checksum/size mismatch (``.part``
    removed), or when another process is downloading into the same ``.part`` (it is locked).
    """
    dest = Path(dest)
    if dest.is_file() and _matches(dest, sha256, size):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    with open(part, "a+b") as f:  # a+: created if absent, never truncated by opening
        _lock(f, part)
        if dest.is_file() and _matches(dest, sha256, size):  # another process just finished it
            part.unlink()
            return dest
        have = os.fstat(f.fileno()).st_size
        if size is not None and have > size:  # a stale .part from another file: start over
            f.truncate(0)
            have = 0
        try:
            _fetch(url, f, part, have, size, progress, timeout, desc or dest.name)
        except DataError:
            if os.fstat(f.fileno()).st_size == 0:  # nothing to resume from: leave no trace
                part.unlink(missing_ok=True)
            raise
        return _finish(part, dest, url, sha256, size)


def _lock(f, part: Path) -> None:
    """An exclusive advisory lock on the open ``.part`` (POSIX; a no-op where fcntl is absent)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        return
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise DataError(f"{part}: another download into this file is in progress") from None


def _fetch(url: str, f, part: Path, have: int, size: int | None, progress: bool, timeout: float,
           desc: str) -> None:
    """Append the missing bytes of ``url`` to the open ``.part`` ``f`` (which holds ``have``)."""
    req = urllib.request.Request(url, headers={"User-Agent": f"groundup/{__version__}"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # nothing left to send: the .part may already be whole
            return
        raise DataError(f"download of {url} failed: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise DataError(f"download of {url} failed: {reason}") from None

    with resp:
        status = getattr(resp, "status", None) or 200  # file:// responses carry no status
        headers = resp.headers
        if have and status == 206:
            start = _content_range_start(headers.get("Content-Range"))
            if start != have:
                raise DataError(f"download of {url} failed: asked for bytes from {have}, "
                                f"server sent a range starting at {start}")
        else:
            f.truncate(0)  # no range support (200): restart from zero
            have = 0
        length = headers.get("Content-Length")
        expected_total = have + int(length) if length is not None and length.isdigit() else size
        bar = _progress_bar(progress, expected_total, have, desc)
        got = 0
        try:
            while True:
                try:
                    block = resp.read(_BLOCK)
                except (OSError, urllib.error.URLError, ValueError) as e:
                    raise DataError(f"download of {url} interrupted after {have + got:,} bytes ({e}); "
                                    f"partial file kept in {part}: run again to resume") from None
                if not block:
                    break
                f.write(block)  # "a+b": always at the end
                got += len(block)
                if bar is not None:
                    bar.update(len(block))
            f.flush()
            os.fsync(f.fileno())
        finally:
            if bar is not None:
                bar.close()
    if length is not None and length.isdigit() and got < int(length):
        raise DataError(f"download of {url} interrupted: got {have + got:,} of {expected_total:,} bytes; "
                        f"partial file kept in {part}: run again to resume")


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/200"
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None


def _progress_bar(enabled: bool, total: int | None, initial: int, desc: str):
    if not enabled:
        return None
    from ..utils import progress

    return progress(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, initial=initial)


def _matches(path: Path, sha256: str | None, size: int | None) -> bool:
    if size is not None and path.stat().st_size != size:
        return False
    if sha256 is not None:
        return _hash_prefix(path).hexdigest() == sha256
    return size is not None


def _finish(part: Path, dest: Path, url: str, sha256: str | None, size: int | None) -> Path:
    """Check size and sha256 of the finished ``.part``, then rename it onto ``dest``."""
    actual_size = part.stat().st_size
    if size is not None and actual_size != size:
        part.unlink()
        raise DataError(f"download of {url}: size mismatch: expected {_fmt_size(size)}, got "
                        f"{_fmt_size(actual_size)} (partial file removed)")
    if sha256 is not None:
        actual = _hash_prefix(part).hexdigest()
        if actual != sha256:
            part.unlink()
            raise DataError(f"download of {url}: sha256 mismatch: expected {sha256}, got {actual} "
                            f"(file removed)")
    os.replace(part, dest)
    return dest


# ---------------------------------------------------------------------------------------------
# Archives.

def _safe_member(name: str, archive: Path) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise DataError(f"{archive}: refusing archive member {name!r} (path escapes the target folder)")
    return p


# What an archive may expand to: the registry's largest (text8) is 100 MB from 31 MB (3.2x);
# plain text compresses 3-10x, so a member set growing past 100x (a 99 KB zip of 100 MB of
# zeros) or past 16 GiB is refused as a decompression bomb.
MAX_EXTRACT_BYTES = 16 << 30
MAX_EXTRACT_RATIO = 100


def extract(archive: str | os.PathLike, dest_dir: str | os.PathLike, *,
            members: dict[str, str] | None = None, max_bytes: int = MAX_EXTRACT_BYTES,
            max_ratio: float = MAX_EXTRACT_RATIO) -> list[Path]:
    """Unpack a zip or tar archive into ``dest_dir``, all or nothing; return the written paths.

    ``members`` maps member paths to output file names (others are skipped); without it every
    regular file is unpacked under its own relative path. Absolute paths, ``..``, symbolic or
    hard links and device files are refused with DataError (path traversal protection), as is
    an archive whose members expand past ``max_bytes`` or ``max_ratio`` times the archive's
    size (counted on the bytes actually produced, not on the headers' claims). Everything is
    unpacked into a temporary folder inside ``dest_dir`` first and moved into place only when
    the whole archive has passed, so a refused or broken archive leaves nothing behind.
    """
    import tempfile

    archive, dest_dir = Path(archive), Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    root = dest_dir.resolve()
    limit = min(max_bytes, int(max_ratio * max(archive.stat().st_size, 1)))
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=root))
    try:
        try:
            rels = _extract_into(archive, staging, members, limit, max_bytes, max_ratio)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as e:
            raise DataError(f"{archive}: broken archive ({type(e).__name__}: {e})") from None
        written = []
        for rel in rels:  # every member passed: move them into place
            out = (root / rel).resolve()
            out.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, out)
            written.append(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _extract_into(archive: Path, root: Path, members: dict[str, str] | None, limit: int,
                  max_bytes: int, max_ratio: float) -> list[PurePosixPath]:
    rels: list[PurePosixPath] = []
    total = 0

    def target(name: str) -> PurePosixPath | None:
        rel = _safe_member(name, archive)
        if members is not None:
            if name not in members:
                return None
            rel = _safe_member(members[name], archive)
        out = (root / rel).resolve()
        if root.resolve() not in out.parents:
            raise DataError(f"{archive}: refusing archive member {name!r} (path escapes the target folder)")
        return PurePosixPath(out.relative_to(root.resolve()).as_posix())

    def too_big(name: str) -> DataError:
        return DataError(f"{archive}: refusing to unpack: members expand past "
                         f"{limit:,} bytes (at most {max_ratio:g} times the archive's "
                         f"{archive.stat().st_size:,} bytes and {max_bytes:,} in all) at {name!r}")

    def copy(src: Callable, rel: PurePosixPath, name: str, declared: int) -> None:
        nonlocal total
        if total + declared > limit:
            raise too_big(name)
        out = root / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        with src() as fin, open(out, "wb") as fout:
            while block := fin.read(_BLOCK):
                total += len(block)
                if total > limit:
                    raise too_big(name)
                fout.write(block)
        if rel not in rels:  # a name listed twice: the last copy wins, as with unzip
            rels.append(rel)

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                rel = target(info.filename)
                if info.is_dir() or rel is None:
                    continue
                mode = info.external_attr >> 16
                if mode and (mode & 0o170000) not in (0, 0o100000):  # symlink or special file
                    raise DataError(f"{archive}: refusing archive member {info.filename!r} (not a regular file)")
                copy(lambda info=info: z.open(info), rel, info.filename, info.file_size)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            for m in t:
                rel = target(m.name)
                if m.isdir() or rel is None:
                    continue
                if not m.isfile():
                    raise DataError(f"{archive}: refusing archive member {m.name!r} (link or special file)")
                copy(lambda m=m: t.extractfile(m), rel, m.name, m.size)
    else:
        raise DataError(f"{archive}: not a zip or tar archive")
    if members is not None:
        got = set(rels)
        missing = sorted(n for n in members if PurePosixPath(_safe_member(members[n], archive)) not in got)
        if missing:
            raise DataError(f"{archive}: archive lacks the expected member(s) {', '.join(missing)}")
    return rels


# ---------------------------------------------------------------------------------------------
# Registered corpora.

def download_corpus(name: str | Corpus, dest: str | os.PathLike | None = None, *, progress: bool = True,
                    log: Callable[[str], None] | None = None) -> Path:
    """Download every file of a registered corpus into ``dest`` (default: the user cache).

    Files already present with the right checksum are skipped. Returns the folder, which
    :func:`groundup.data.corpora.resolve` then finds by name (cache) or as ``--data DEST``.
    """
    c = get(name) if isinstance(name, str) else name
    folder = Path(dest) if dest is not None else corpus_cache_dir(c)
    if dest is not None and folder.exists() and not folder.is_dir():
        raise DataError(f"--dest {folder}: exists and is not a folder")
    say = log or (lambda m: None)
    if c.archive is not None:
        a = c.archive
        if all(_present(folder / f.name, f) for f in c.files):
            say(f"{c.name}: already present in {folder}")
            return folder
        _require_sha256(c, a.url, a.sha256)
        arch = download(a.url, folder / a.filename, sha256=a.sha256, size=a.bytes, progress=progress)
        extract(arch, folder, members=a.members)
        arch.unlink()
        for f in c.files:
            _verify(folder / f.name, f, c)
        return folder
    if not all(f.url for f in c.files):
        raise DataError(f"corpus {c.name!r} has no download address")
    for f in c.files:
        _require_sha256(c, f.url, f.sha256)
    for f in c.files:
        out = folder / f.name
        if _present(out, f):
            say(f"{c.name}: {f.name} already present")
            continue
        download(f.url, out, sha256=f.sha256, size=f.bytes, progress=progress, desc=f.name)
    return folder


def _require_sha256(c: Corpus, url: str | None, sha256: str | None) -> None:
    """Nothing is downloaded unverified: a registry entry without a checksum is refused."""
    if not (isinstance(sha256, str) and len(sha256) == 64):
        raise DataError(f"corpus {c.name!r}: no sha256 is registered for {url}; refusing to "
                        f"download it unverified")


def _present(path: Path, f: CorpusFile) -> bool:
    return path.is_file() and _matches(path, f.sha256, f.bytes)


def _verify(path: Path, f: CorpusFile, c: Corpus) -> None:
    if f.bytes is not None and path.stat().st_size != f.bytes:
        raise DataError(f"{c.name}: {path} has {path.stat().st_size:,} bytes, expected {f.bytes:,}")
    if f.sha256 is not None:
        actual = _hash_prefix(path).hexdigest()
        if actual != f.sha256:
            raise DataError(f"{c.name}: {path}: sha256 mismatch: expected {f.sha256}, got {actual}")
