"""Run experiments, time them, and hand their results to the report."""
from __future__ import annotations

import inspect
import time
import traceback
from pathlib import Path

from ..errors import GroundupError
from ..utils import seed_everything
from . import registry
from .base import Result


def run_experiment(name: str, out: Path, *, full: bool = False, seed: int = 0, lang: str = "en") -> Result:
    """Run one experiment into ``out/name``. Its title and claim are the catalogue's in ``lang``
    (:mod:`groundup.lab.catalogue`); an experiment whose ``run`` takes ``lang`` (the Chinese text
    experiments) writes the rest of its words in that language too."""
    from .catalogue import title_claim

    mod = registry.load(name)
    title, claim = title_claim(name, lang)
    exp_out = out / name
    exp_out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)
    kwargs = {"lang": lang} if "lang" in inspect.signature(mod.run).parameters else {}
    t0 = time.perf_counter()
    try:
        result = mod.run(exp_out, full=full, seed=seed, **kwargs)
    except GroundupError as e:
        result = Result(name=name, title=title, ok=False, error=str(e))
    except Exception as e:  # an experiment's bug must not take the whole report down
        result = Result(name=name, title=title, ok=False,
                        error=f"{type(e).__name__}: {e}",
                        notes=["```\n" + traceback.format_exc() + "```"])
    result.seconds = time.perf_counter() - t0
    result.mode = "full" if full else "quick"
    result.title, result.claim = title, claim
    return result


def run_lab(names: list[str] | None, out: Path, *, full: bool = False, seed: int = 0,
            lang: str = "en", log=print) -> list[Result]:
    """Run ``names`` (default: :func:`registry.names` of ``lang``) and write the report in ``lang``."""
    from .messages import messages, verdict_key
    from .report import held_of, write_report

    m = messages(lang)  # an unknown language fails here, before any work
    names = names or registry.names(lang)
    for n in names:
        registry.load(n)  # fail fast on an unknown name, before any work
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for i, n in enumerate(names, 1):
        log(f"[{i}/{len(names)}] {n} ({'full' if full else 'quick'}) ...")
        r = run_experiment(n, out, full=full, seed=seed, lang=lang)
        status = f"ok, {m['verdict_' + verdict_key(held_of(r))]}" if r.ok else f"FAILED: {r.error}"
        log(f"[{i}/{len(names)}] {n}: {status} in {r.seconds:.1f} s")
        results.append(r)
        write_report(results, out, lang)  # a partial report survives an interrupted lab
    return results
