"""Run experiments, time them, and hand their results to the report."""
from __future__ import annotations

import time
import traceback
from pathlib import Path

from ..errors import GroundupError
from ..utils import seed_everything
from . import registry
from .base import Result


def run_experiment(name: str, out: Path, *, full: bool = False, seed: int = 0) -> Result:
    mod = registry.load(name)
    exp_out = out / name
    exp_out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)
    t0 = time.perf_counter()
    try:
        result = mod.run(exp_out, full=full, seed=seed)
    except GroundupError as e:
        result = Result(name=name, title=getattr(mod, "TITLE", name), ok=False, error=str(e))
    except Exception as e:  # an experiment's bug must not take the whole report down
        result = Result(name=name, title=getattr(mod, "TITLE", name), ok=False,
                        error=f"{type(e).__name__}: {e}",
                        notes=["```\n" + traceback.format_exc() + "```"])
    result.seconds = time.perf_counter() - t0
    result.mode = "full" if full else "quick"
    result.claim = result.claim or getattr(mod, "CLAIM", "")
    return result


def run_lab(names: list[str] | None, out: Path, *, full: bool = False, seed: int = 0,
            log=print) -> list[Result]:
    from .messages import EN, verdict_key
    from .report import held_of, write_report

    names = names or registry.names()
    for n in names:
        registry.load(n)  # fail fast on an unknown name, before any work
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for i, n in enumerate(names, 1):
        log(f"[{i}/{len(names)}] {n} ({'full' if full else 'quick'}) ...")
        r = run_experiment(n, out, full=full, seed=seed)
        status = f"ok, {EN['verdict_' + verdict_key(held_of(r))]}" if r.ok else f"FAILED: {r.error}"
        log(f"[{i}/{len(names)}] {n}: {status} in {r.seconds:.1f} s")
        results.append(r)
        write_report(results, out)  # a partial report survives an interrupted lab
    return results
