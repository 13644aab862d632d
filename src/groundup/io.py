"""File helpers shared by every area: the output policy, atomic writes, folder locks, checksums.

The output policy lives here and only here. A command that writes a file names its output
once, before any work, and the library writes it at the end:

* :func:`check_output` (a file the user named, e.g. ``-o MODEL``) and
  :func:`check_output_folder` (a folder, e.g. ``--out DIR``) refuse, with one line
  (:class:`~groundup.errors.OutputError`, exit 2), an output that is the same file as an input
  (device and inode compared, so a link or another spelling of the name is caught), an
  existing folder where a file goes, a FIFO, a socket or a block device, a missing parent
  folder (only a folder option, whose help says so, creates folders), and an existing file of
  another kind (not an image where the plot goes, another run's metrics) unless ``force``.
  They also take the output's lock: a second process writing the same output gets one line
  naming the holder's pid. :func:`release_locks` (the CLI calls it when a command returns)
  lets go; a killed process's lock goes with it (``flock`` locks die with their holder).
* :func:`atomic_write` is the one way to write a file: the content lands in a temporary file
  in the same folder, is flushed and fsync'ed, then renamed over the target, so a reader (or a
  run killed with SIGKILL) sees either the old file or the complete new one, never half of it.
  A symlink is resolved (the file it points to is replaced, the link kept); a character
  device such as ``/dev/null`` is written to directly, never replaced; the file gets
  ``0o666 & ~umask`` as ``open()`` would give it; a write error names the path; the temporary
  file's name holds the writer's pid, so the next write into that folder removes the
  leftovers of writers that were killed.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import IO, Iterable, Iterator

from .errors import OutputError

LOCK_NAME = ".groundup.lock"
# write errors that are about the output, never an input: they get the output's path
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
_TEMP = re.compile(r"\..+\.pid(\d+)\.[A-Za-z0-9_]+\.tmp")   # .NAME.pid<PID>.<random>.tmp
_swept: set[str] = set()        # folders whose dead writers' temporary files this process removed


# --- what a path is ----------------------------------------------------------------------------
def _special(mode: int) -> str | None:
    """The name of a file type that must never be replaced by a written file, else None."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return None


def umask() -> int:
    """The process umask, read without changing it where Linux allows (/proc), else set back."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Kinds of file an output may replace without --force, told by their first bytes.
_KINDS = {
    "image": ("a PNG or JPEG image",
              lambda h: h.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"))),
    # groundup's own ARPA files open with '#' record lines before \data\ (KenLM skips them)
    "arpa": ("an ARPA model", lambda h: re.sub(rb"\A(\s*#[^\n]*\n)*", b"", h).lstrip().startswith(b"\\data\\")),
    "npz": ("a numpy .npz model", lambda h: h[:4] in (b"PK\x03\x04", b"PK\x05\x06")),
    "bin": ("a groundup binary n-gram model", lambda h: h.startswith(b"\x89GUNGRAM")),
    "word2vec": ("a word2vec vectors file",
                 lambda h: re.match(rb"[ \t]*\d+[ \t]+\d+[ \t]*\r?\n", h) is not None),
}


def _inputs(paths: Iterable) -> Iterator[tuple[str, os.stat_result]]:
    """(name, stat) of each input file; a folder stands for the files directly in it."""
    for p in paths:
        if p is None or str(p) == "-":
            continue
        try:
            st = os.stat(p)
        except OSError:
            continue  # a missing input is the loader's error to report
        if stat.S_ISDIR(st.st_mode):
            with contextlib.suppress(OSError), os.scandir(p) as it:
                for e in it:
                    with contextlib.suppress(OSError):
                        yield os.path.join(p, e.name), e.stat()
        else:
            yield str(p), st


# --- the checks a command makes before any work ------------------------------------------------
def check_output(path: str | os.PathLike, *, inputs: Iterable = (), kind: str | None = None,
                 force: bool = False, option: str = "-o", lock: bool = True) -> Path:
    """Refuse, before any work, an output file that the write would make a victim of.

    ``inputs``: the command's input files or folders (the output must not be one of them).
    ``kind``: a key of ``_KINDS``; an existing non-empty file not of that kind is replaced only
    with ``force``. A missing parent folder is an error (a file option never creates folders;
    :func:`check_output_folder` is for options whose help says they do). ``lock``: hold
    ``.NAME.lock`` beside the output until :func:`release_locks`. A character device passes
    (it is written to directly). Returns ``Path(path)``.
    """
    p = Path(path)
    where = f"{option} {path}"
    try:
        st = os.stat(p)          # follows a symlink: the file that would be replaced
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(f"{where}: cannot use as output ({e.strerror})") from None
    if st is None:
        parent = Path(os.path.realpath(p)).parent if p.is_symlink() else p.parent
        if not parent.is_dir():
            what = "is not a folder" if parent.exists() else "does not exist"
            raise OutputError(f"{where}: folder {parent} {what}")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(f"{where}: cannot write into folder {parent} (permission denied)")
    elif stat.S_ISCHR(st.st_mode):
        return p                 # /dev/null and the like: written to directly, never locked
    elif (special := _special(st.st_mode)) is not None:
        raise OutputError(f"{where}: is {special}; give the name of a file to write")
    else:
        for name, ist in _inputs(inputs):
            if (ist.st_dev, ist.st_ino) == (st.st_dev, st.st_ino):
                same = "" if os.path.abspath(name) == os.path.abspath(p) else f" {name}"
                raise OutputError(f"{where}: is the input{same}; refusing to overwrite an input "
                                  f"(choose another output name)")
        if kind is not None and not force and st.st_size > 0:
            desc, looks_like = _KINDS[kind]
            try:
                with open(p, "rb") as f:
                    head = f.read(4096)   # an ARPA file's record lines come before \data\
            except OSError as e:
                raise OutputError(f"{where}: cannot read the existing file ({e.strerror})") from None
            if not looks_like(head):
                raise OutputError(f"{where}: exists and is not {desc}; refusing to replace it "
                                  f"(--force replaces it)")
    if lock:
        real = Path(os.path.realpath(p))
        _lock(real.parent / f".{real.name}.lock", where)
    return p


def check_output_folder(path: str | os.PathLike, *, option: str = "--out", owned: Iterable[str] = (),
                        unless: str | None = None, force: bool = False, lock: bool = True) -> Path:
    """Create the output folder ``path`` (with missing parents), lock it, and refuse another
    run's files in it.

    ``owned``: file names the command writes in the folder; one of them present (non-empty)
    without the file ``unless`` (the proof that they belong to a run this command continues,
    e.g. ``checkpoint.pt``) is another run's, kept unless ``force``. ``lock``: hold
    ``DIR/.groundup.lock`` until :func:`release_locks`; a second holder gets the first's pid.
    """
    p = Path(path)
    where = f"{option} {path}"
    if p.exists() and not p.is_dir():
        raise OutputError(f"{where}: exists and is not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{where}: cannot create the folder ({e.strerror})") from None
    if lock:
        _lock(p / LOCK_NAME, where)
    if not force and unless is not None and not (p / unless).exists():
        theirs = [n for n in owned if (p / n).is_file() and (p / n).stat().st_size > 0]
        if theirs:
            raise OutputError(f"{where}: holds {', '.join(theirs)} but no {unless} (another run's, "
                              f"or one stopped before its first {unless}); refusing to overwrite "
                              f"(--force starts afresh there)")
    return p


def new_folder(parent: str | os.PathLike, stem: str) -> Path:
    """Create and return ``parent/stem``, or ``stem-2``, ``stem-3``, ...: a folder of its own for
    this run, leaving every earlier run's folder as it was."""
    for i in range(1, 1_000_000):
        p = Path(parent) / (stem if i == 1 else f"{stem}-{i}")
        try:
            p.mkdir(parents=True)
            return p
        except FileExistsError:
            continue
    raise OutputError(f"{parent}: no free folder name {stem}-N")


# --- locks -------------------------------------------------------------------------------------
_held: list[tuple[int, Path]] = []   # (fd, lock file) of the locks this process holds


def _lock(path: Path, where: str) -> None:
    """Take an exclusive ``flock`` on ``path`` (created if needed) and write our pid into it.

    The kernel drops the lock when its holder exits, SIGKILL included, so a stale lock file
    never blocks a later run. Released (and the file removed) by :func:`release_locks`.
    """
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
        except OSError as e:
            raise OutputError(f"{where}: cannot create the lock file {path} ({e.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder(fd)
            os.close(fd)
            raise OutputError(f"{where}: in use by another groundup process (pid {pid}); wait for "
                              f"it to finish or choose another output") from None
        except OSError:      # a file system without locks: go on unlocked
            os.close(fd)
            return
        try:                 # a releasing holder may have removed the file we opened: retry
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held.append((fd, path))


def _holder(fd: int) -> str:
    """The pid the lock's holder wrote (it writes it just after locking: wait a moment)."""
    for _ in range(20):
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return text
        time.sleep(0.025)
    return "unknown"


def held_locks() -> int:
    """How many locks this process holds: a mark for :func:`release_locks`."""
    return len(_held)


def release_locks(mark: int = 0) -> None:
    """Let go of the locks taken since ``mark`` (removing each lock file while still holding it,
    so that no waiting process locks a file that is gone)."""
    while len(_held) > mark:
        fd, path = _held.pop()
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


# --- writing -----------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    ``mode`` is ``"w"`` (text) or ``"wb"`` (binary). On an exception the temporary file is
    removed and ``path`` is left as it was. A symlink ``path`` is followed (its target is
    replaced, the link kept); a character device is written to directly; a folder, FIFO, socket
    or block device is refused with :class:`OutputError`.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    enc = None if "b" in mode else encoding
    target = Path(os.path.realpath(path))
    try:
        st = os.stat(target)
    except OSError:
        st = None
    if st is not None and stat.S_ISCHR(st.st_mode):
        # a device is written to, never replaced; through a seekable spool (zip writers seek)
        with tempfile.TemporaryFile(mode + "+", encoding=enc) as f:
            with _naming(path, body=True):
                yield f
            f.flush()
            raw = getattr(f, "buffer", f)
            raw.seek(0)
            with _naming(path), open(path, "wb") as dev:
                shutil.copyfileobj(raw, dev, 1 << 20)
        return
    if st is not None and (special := _special(st.st_mode)) is not None:
        raise OutputError(f"{path}: is {special}; refusing to replace it with a file")
    with _naming(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep(target.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.pid{os.getpid()}.", suffix=".tmp",
                                   dir=target.parent)
    try:
        with _naming(path):
            os.fchmod(fd, 0o666 & ~umask())      # what open() would give; mkstemp gives 0600
            f = os.fdopen(fd, mode, encoding=enc)
        with f:
            with _naming(path, body=True):
                yield f
            with _naming(path):
                f.flush()
                os.fsync(f.fileno())
        with _naming(path):
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _naming(path, body: bool = False) -> Iterator[None]:
    """Turn an error of writing ``path`` into one line naming it. In the caller's ``body`` only
    errors that can only be the output's (disk full, read-only, ...) are translated: an OSError
    there may be an input's, which names itself."""
    try:
        yield
    except OutputError:
        raise
    except OSError as e:
        if e.errno in _WRITE_ERRNOS or not body:
            err = OutputError(f"{path}: cannot write ({e.strerror or e})")
            err.errno = e.errno    # (not strerror: OSError's str() would drop our message)
            raise err from None
        raise


def _sweep(folder: Path) -> None:
    """Remove this folder's temporary files whose writer is dead (killed mid-write), once per
    folder per process. Only names of our pattern ``.NAME.pid<PID>.<random>.tmp`` are touched."""
    key = str(folder)
    if key in _swept:
        return
    _swept.add(key)
    with contextlib.suppress(OSError), os.scandir(folder) as it:
        for e in it:
            m = _TEMP.fullmatch(e.name)
            if m and not _alive(int(m[1])):
                with contextlib.suppress(OSError):
                    os.unlink(e.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True          # exists, owned by someone else
    return True


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_write(path, "w") as f:
        f.write(text)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_write(path, "wb") as f:
        f.write(data)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
