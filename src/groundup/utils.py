"""Small shared helpers: one way to seed, one progress bar, one JSON writer, one way to set
the thread count for a while."""
from __future__ import annotations

import contextlib
import json
import os
import random
import sys
from typing import Any, Iterable, Iterator

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) from one integer."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    import torch

    torch.manual_seed(seed)


def numba_without_scipy() -> None:
    """Load numba's numpy support now, with scipy hidden from it, so that the first compiled
    kernel of a process does not import ``scipy.linalg`` (0.26 s, a twelfth of a 1M-word n-gram
    build). numba only looks for scipy's BLAS there to pick ``np.vdot``'s implementation (a
    plain loop without it); ``np.dot`` and ``np.linalg`` in a kernel still import scipy when they
    are compiled, and groundup's kernels use neither. Call it in a kernel module after
    importing numba; a no-op once numba's numpy support is loaded."""
    if "numba.np.arraymath" in sys.modules:
        return
    name = "scipy.linalg.cython_blas"
    hide = name not in sys.modules
    if hide:
        sys.modules[name] = None  # import fails: numba takes the loop
    try:
        import importlib

        importlib.import_module("numba.np.arraymath")
    finally:
        if hide:
            del sys.modules[name]


@contextlib.contextmanager
def torch_threads(n: int | None, *, numba: bool = False) -> Iterator[None]:
    """Run the body with ``n`` torch threads (and numba threads, with ``numba=True``), then put
    back the counts found on entry, also on an exception. ``n`` of 0 or None leaves them as they are.

    Small models on a shared machine run fastest at one thread: a second OpenMP pool beside
    another busy process spin-waits (measured 3-5x slower steps; docs/ssm.md).
    """
    import torch

    if not n:
        yield
        return
    saved = torch.get_num_threads()
    nb = None
    if numba:
        import numba as nb

        saved_nb = nb.get_num_threads()
        nb.set_num_threads(min(n, nb.config.NUMBA_NUM_THREADS))
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)
        if nb is not None:
            nb.set_num_threads(saved_nb)


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it", disable: bool | None = None, **kwargs: Any):
    """A tqdm progress bar on stderr (never stdout, which ``--json`` keeps for the result).

    Disabled when ``GROUNDUP_PROGRESS=0`` is set.
    """
    from tqdm.auto import tqdm

    if disable is None:
        disable = os.environ.get("GROUNDUP_PROGRESS", "1") == "0"
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr,
                dynamic_ncols=True, leave=False, **kwargs)


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/torch scalars and arrays, Paths and dataclasses into JSON-friendly values."""
    import dataclasses
    from pathlib import Path

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "detach") and hasattr(obj, "tolist"):
        return obj.detach().cpu().tolist()
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return str(obj)
    return obj


def dumps_json(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False)


def live_peak_bytes(fn) -> int:
    """Peak of live CPU-allocator bytes while ``fn()`` runs, from torch.profiler's raw
    allocation records (exact and allocator-independent; peak RSS hides freed tensors).

    The profiler's own start/stop log lines (written by its C++ side straight to file
    descriptor 2) are silenced for the duration.
    """
    import contextlib

    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    @contextlib.contextmanager
    def quiet_fd2():
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)

    with quiet_fd2():
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            fn()
    records = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                     if e.name() == "[memory]" and e.device_type() == DeviceType.CPU)
    live = peak = 0
    for _, delta in records:
        live += delta
        peak = max(peak, live)
    return peak
