"""The words of the lab report's shell, one catalogue per language.

The template (``assets/report.html.j2``) and the Markdown summary take every title, header,
badge and label from here, so a language is one more dict with the same keys, not a second
code path; a test checks that every catalogue has exactly the English keys. What an experiment
writes (its title, claim, verdict, tables, captions) is its own text and is not translated here.
"""
from __future__ import annotations

EN: dict[str, str] = {
    "title": "groundup lab report",
    "generated": "Generated",
    "machine": "Machine",
    "cores": "cores",
    "legend": ("Verdict: whether the article's claim held in this run, computed from the run's "
               "data by the criterion written in the experiment's code before it ran. "
               "Run: whether the experiment ran to the end (ok) or stopped with an error."),
    "col_experiment": "experiment",
    "col_verdict": "verdict",
    "col_status": "run",
    "col_mode": "mode",
    "col_seconds": "seconds",
    "col_title": "title",
    "col_key": "key",
    "col_value": "value",
    "verdict_held": "held",
    "verdict_not_held": "did not hold",
    "verdict_inconclusive": "inconclusive",
    "status_ok": "ok",
    "status_error": "error",
    "mode_quick": "quick",
    "mode_full": "full",
    "claim": "Claim",
    "in_this_run": "In this run",
    "criterion": "Criterion",
    "error": "Error",
    "key_figures": "Key figures (results.json)",
    "figure_missing": "Figure file missing",
    "seconds_unit": "s",
    "back_to_top": "top",
}

ZH: dict[str, str] = {
    "title": "groundup 实验报告",
    "generated": "生成于",
    "machine": "机器",
    "cores": "核",
    "legend": ("结论：本次运行中文章的论断是否成立，由实验代码在运行前写定的判据根据本次数据计算得出。"
               "运行：实验是否完整运行（正常）或因错误中止。"),
    "col_experiment": "实验",
    "col_verdict": "结论",
    "col_status": "运行",
    "col_mode": "模式",
    "col_seconds": "秒",
    "col_title": "标题",
    "col_key": "名称",
    "col_value": "数值",
    "verdict_held": "成立",
    "verdict_not_held": "不成立",
    "verdict_inconclusive": "无定论",
    "status_ok": "正常",
    "status_error": "错误",
    "mode_quick": "快速",
    "mode_full": "完整",
    "claim": "论断",
    "in_this_run": "本次运行",
    "criterion": "判据",
    "error": "错误",
    "key_figures": "关键数值（results.json）",
    "figure_missing": "图文件缺失",
    "seconds_unit": "秒",
    "back_to_top": "返回顶部",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


def messages(lang: str = "en") -> dict[str, str]:
    """The catalogue for ``lang``; an unknown language is a :class:`~groundup.errors.ConfigError`."""
    from ..errors import ConfigError

    if lang not in CATALOGUES:
        raise ConfigError(f"unknown report language {lang!r} (known: {', '.join(CATALOGUES)})")
    return CATALOGUES[lang]


def verdict_key(held: bool | None) -> str:
    """The catalogue key (and CSS class suffix) of a verdict: True, False or None."""
    return "inconclusive" if held is None else "held" if held else "not_held"
