"""Turn experiment results into ``report.html`` (self-contained: plots inlined as PNG data),
``results.json`` and ``summary.md``, all written atomically."""
from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
import platform
from pathlib import Path

from ..io import write_text
from ..utils import to_jsonable
from .base import Result


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
    if isinstance(v, float):
        if v != v:
            return "nan"
        if abs(v) >= 1e5 or (abs(v) < 1e-3 and v != 0):
            return f"{v:.4g}"
        return f"{v:.4g}" if abs(v) < 100 else f"{v:,.1f}"
    return str(v)


def _md_table(t) -> str:
    lines = [f"**{t.title}**", "", "| " + " | ".join(map(str, t.headers)) + " |",
             "|" + "---|" * len(t.headers)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in t.rows]
    return "\n".join(lines)


def summary_markdown(results: list[Result], machine: dict) -> str:
    out = ["# groundup lab report", "",
           f"Machine: {machine.get('cpu')} ({machine.get('cores')} cores), torch {machine.get('torch')}, "
           f"Python {machine.get('python')}", "",
           "| experiment | mode | status | seconds |", "|---|---|---|---|"]
    for r in results:
        out.append(f"| {r.name} | {r.mode} | {'ok' if r.ok else 'FAILED'} | {r.seconds:.1f} |")
    for r in results:
        out += ["", f"## {r.title} (`{r.name}`)", ""]
        if r.claim:
            out += [f"*Claim:* {r.claim}", ""]
        if r.verdict:
            out += [f"*In this run:* {r.verdict}", ""]
        if not r.ok:
            out += [f"**Failed:** {r.error}", ""]
        for t in r.tables:
            out += [_md_table(t), ""]
        for n in r.notes:
            out += [n, ""]
        for p in r.plots:
            out += [f"![{p}]({r.name}/{p})", ""]
    return "\n".join(out) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}
.claim{background:#f6f8ff;padding:.5em 1em;border-left:4px solid #57f}.fail{color:#b00}
pre{background:#f7f7f7;padding:.5em;overflow:auto}"""


def report_html(results: list[Result], out: Path, machine: dict) -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>groundup lab</title>"
             f"<style>{_CSS}</style></head><body><h1>groundup lab report</h1>",
             f"<p>{e(_dt.datetime.now().strftime('%Y-%m-%d %H:%M'))} &middot; machine: {e(str(machine.get('cpu')))}, "
             f"{machine.get('cores')} cores, torch {e(str(machine.get('torch')))}, Python {e(str(machine.get('python')))}</p>",
             "<table><tr><th>experiment</th><th>mode</th><th>status</th><th>seconds</th></tr>"]
    for r in results:
        st = "ok" if r.ok else "<span class='fail'>failed</span>"
        parts.append(f"<tr><td><a href='#{e(r.name)}'>{e(r.title)}</a></td><td>{r.mode}</td>"
                     f"<td>{st}</td><td>{r.seconds:.1f}</td></tr>")
    parts.append("</table>")
    for r in results:
        parts.append(f"<h2 id='{e(r.name)}'>{e(r.title)} <small>({e(r.name)}, {r.seconds:.1f} s)</small></h2>")
        if r.claim:
            parts.append(f"<p class='claim'><b>Claim:</b> {e(r.claim)}")
            if r.verdict:
                parts.append(f"<br><b>In this run:</b> {e(r.verdict)}")
            parts.append("</p>")
        if not r.ok:
            parts.append(f"<p class='fail'><b>Failed:</b> {e(r.error)}</p>")
        for t in r.tables:
            parts.append(f"<h4>{e(t.title)}</h4><table><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in t.headers) + "</tr>")
            for row in t.rows:
                parts.append("<tr>" + "".join(f"<td>{e(_fmt(v))}</td>" for v in row) + "</tr>")
            parts.append("</table>")
        for n in r.notes:
            if n.startswith("```"):
                parts.append(f"<pre>{e(n.strip('`'))}</pre>")
            else:
                parts.append(f"<p>{e(n)}</p>")
        for p in r.plots:
            f = out / r.name / p
            if f.exists():
                data = base64.b64encode(f.read_bytes()).decode("ascii")
                parts.append(f"<figure><img alt='{e(p)}' src='data:image/png;base64,{data}'>"
                             f"<figcaption>{e(p)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(results: list[Result], out: Path) -> None:
    machine = machine_info()
    payload = {"machine": machine, "experiments": {r.name: to_jsonable(r) for r in results}}
    write_text(out / "results.json", json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False) + "\n")
    write_text(out / "summary.md", summary_markdown(results, machine))
    write_text(out / "report.html", report_html(results, out, machine))
