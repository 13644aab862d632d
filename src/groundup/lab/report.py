"""Turn experiment results into ``report.html``, ``results.json`` and ``summary.md``, all
written atomically.

``report.html`` is one self-contained file rendered from the Jinja2 template
``assets/report.html.j2`` (autoescaped: every string an experiment returns is escaped) with the
words of :mod:`groundup.lab.messages`; figures are inlined as ``data:`` URIs in their own format
(PNG plots, JPEG photographs). Each experiment carries a verdict badge computed from
``Result.held`` and, separately, its run status (ok / error).
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import os
import platform
import re
from pathlib import Path

from ..io import write_text
from ..utils import to_jsonable
from .base import Plot, Result
from .messages import messages, verdict_key

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
_MARK = {"held": "\u2713", "not_held": "\u2717", "inconclusive": "?"}  # a shape as well as a colour


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    return info


def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        if v != v:
            return "nan"
        if abs(v) >= 1e5 or (abs(v) < 1e-3 and v != 0):
            return f"{v:.4g}"
        return f"{v:.4g}" if abs(v) < 100 else f"{v:,.1f}"
    if isinstance(v, (int, str)):
        return str(v)
    return json.dumps(to_jsonable(v), ensure_ascii=False)


# A table cell that reads as a number (optionally signed, with thousands separators, an exponent,
# a unit such as % x s MB, a "± spread", or a "a / b" pair of such): right-aligned in the
# report, so digits line up; words, sentences and poems stay left-aligned.
_NUM = r"[~≈<>≤≥]?\s?[-+−]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:e[-+]?\d+)?"
_UNIT = r"(?:\s?(?:%|x|×|s|ms|us|µs|MB|GB|KB|M|k|pt|points?))?"
_NUMERIC_CELL = re.compile(rf"^{_NUM}{_UNIT}(?:\s?±\s?{_NUM}{_UNIT})?(?:\s?/\s?{_NUM}{_UNIT})*$|^(?:nan|inf|-|—)$",
                           re.IGNORECASE)


def is_numeric_cell(text) -> bool:
    return bool(_NUMERIC_CELL.match(str(text).strip()))


def plots_of(r: Result) -> list[Plot]:
    """``r.plots`` as :class:`Plot` entries (a bare file name gets an empty caption)."""
    return [p if isinstance(p, Plot) else Plot(str(p)) for p in r.plots]


def held_of(r: Result) -> bool | None:
    """``r.held`` as a plain bool or None (experiments may compute it as a numpy bool)."""
    return None if r.held is None else bool(r.held)


def status_of(r: Result) -> str:
    return "ok" if r.ok else "error"


def experiment_json(r: Result) -> dict:
    """One experiment in results.json: every field of the Result, the verdict as data (``held``,
    ``criterion``), the run ``status`` and ``figures`` (= ``summary``, the key numbers)."""
    d = to_jsonable(r)
    d.update(held=held_of(r), status=status_of(r), seconds=round(r.seconds, 3),
             figures=to_jsonable(r.summary),
             plots=[{"file": p.file, "caption": p.caption} for p in plots_of(r)])
    return d


# ------------------------------------------------------------------------------- Markdown
def _md_cell(v) -> str:
    return _fmt(v).replace("|", "\\|").replace("\n", " ")


def _md_table(t) -> str:
    lines = [f"**{t.title}**", "", "| " + " | ".join(_md_cell(h) for h in t.headers) + " |",
             "|" + "---|" * len(t.headers)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in t.rows]
    return "\n".join(lines)


def summary_markdown(results: list[Result], machine: dict, lang: str = "en") -> str:
    m = messages(lang)
    out = [f"# {m['title']}", "",
           f"{m['machine']}: {machine.get('cpu')} ({machine.get('cores')} {m['cores']}), "
           f"torch {machine.get('torch')}, Python {machine.get('python')}", "",
           f"| {m['col_experiment']} | {m['col_verdict']} | {m['col_status']} | {m['col_mode']} "
           f"| {m['col_seconds']} |", "|---|---|---|---|---|"]
    for r in results:
        v = verdict_key(held_of(r))
        out.append(f"| {r.name} | {_MARK[v]} {m['verdict_' + v]} | {m['status_' + status_of(r)]} "
                   f"| {m['mode_' + r.mode]} | {r.seconds:.1f} |")
    for r in results:
        out += ["", f"## {r.title} (`{r.name}`)", ""]
        if r.claim:
            out += [f"*{m['claim']}:* {r.claim}", ""]
        if r.verdict:
            out += [f"*{m['in_this_run']}:* {r.verdict}", ""]
        if r.criterion:
            out += [f"*{m['criterion']}:* {r.criterion}", ""]
        if not r.ok:
            out += [f"**{m['error']}:** {r.error}", ""]
        for t in r.tables:
            out += [_md_table(t), ""]
        for n in r.notes:
            out += [n, ""]
        for p in plots_of(r):
            out += [f"![{p.caption or p.file}]({r.name}/{p.file})", ""]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------- HTML
def _figure(path: Path, plot: Plot) -> dict:
    """The template's view of one figure: a data: URI and the pixel size, or no src when the
    file is missing or not an image format the report inlines."""
    view = {"file": plot.file, "caption": plot.caption or plot.file, "alt": plot.caption or plot.file,
            "src": "", "width": 0, "height": 0}
    mime = _MIME.get(path.suffix.lower())
    if mime is None or not path.is_file():
        return view
    data = path.read_bytes()
    view["src"] = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    if mime != "image/svg+xml":
        try:
            from PIL import Image  # matplotlib's own dependency

            with Image.open(path) as im:
                view["width"], view["height"] = im.size
        except Exception:  # noqa: BLE001 - the size is a layout hint; the browser decodes the rest
            pass
    return view


def _experiment_view(r: Result, out: Path) -> dict:
    v = verdict_key(held_of(r))
    return {
        "name": r.name, "anchor": "exp-" + r.name, "title": r.title or r.name, "claim": r.claim,
        "verdict": r.verdict, "criterion": r.criterion, "verdict_key": v, "verdict_mark": _MARK[v],
        "status": status_of(r), "mode": r.mode, "seconds": f"{r.seconds:.1f}",
        "error": "" if r.ok else r.error,
        "tables": [{"title": t.title, "headers": [str(h) for h in t.headers],
                    "rows": [[_fmt(c) for c in row] for row in t.rows]} for t in r.tables],
        "notes": [{"pre": n.startswith("```"), "text": n.strip("`") if n.startswith("```") else n}
                  for n in r.notes],
        "figures": [_figure(out / r.name / p.file, p) for p in plots_of(r)],
        "summary": [[str(k), _fmt(v)] for k, v in r.summary.items()],
    }


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "assets"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False,
        keep_trailing_newline=True)
    env.tests["numeric"] = is_numeric_cell
    return env


def report_html(results: list[Result], out: Path, machine: dict, lang: str = "en") -> str:
    m = messages(lang)
    template = _environment().get_template("report.html.j2")
    return template.render(
        lang=lang, m=m, machine={k: machine.get(k, "") for k in ("cpu", "cores", "torch", "python")},
        generated=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        experiments=[_experiment_view(r, Path(out)) for r in results])


def write_report(results: list[Result], out: Path, lang: str = "en") -> None:
    machine = machine_info()
    payload = {"machine": machine, "experiments": {r.name: experiment_json(r) for r in results}}
    write_text(out / "results.json", json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False) + "\n")
    write_text(out / "summary.md", summary_markdown(results, machine, lang))
    write_text(out / "report.html", report_html(results, out, machine, lang))
