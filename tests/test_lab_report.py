"""The lab report without a browser: verdict badges from ``held``, results.json fields, escaping,
figure formats, the message catalogues (see test_report_browser.py for the rendered page)."""
from __future__ import annotations

import json

import pytest

from groundup.lab.base import Plot, Result, Table
from groundup.lab.messages import CATALOGUES, EN, messages
from groundup.lab.report import is_numeric_cell, report_html, summary_markdown, write_report


def _results():
    return [Result(name="a", title="A <b>bold</b> & co", claim="c", verdict="Held.", held=True,
                   criterion="held iff x > 1", summary={"x": 2.0, "n": 3}, seconds=1.25,
                   tables=[Table("t", ["h"], [[1.5]])], plots=[Plot("f.png", "what to look for")]),
            Result(name="b", title="B", verdict="Did not hold.", held=False, criterion="held iff y"),
            Result(name="c", title="C", held=None),
            Result(name="d", title="D", ok=False, error="RuntimeError: <boom>", plots=["gone.png"])]


def _figures(out):
    from PIL import Image

    (out / "a").mkdir(parents=True)
    Image.new("RGB", (40, 30), "white").save(out / "a" / "f.png")


def test_every_catalogue_has_the_english_keys():
    for lang, cat in CATALOGUES.items():
        assert set(cat) == set(EN), lang
        assert all(isinstance(v, str) and v for v in cat.values()), lang


def test_unknown_language_is_a_config_error():
    from groundup.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown report language 'xx'"):
        messages("xx")


def test_results_json_carries_the_verdict_as_data(tmp_path):
    _figures(tmp_path)
    write_report(_results(), tmp_path)
    exps = json.loads((tmp_path / "results.json").read_text())["experiments"]
    a = exps["a"]
    for key in ("name", "claim", "verdict", "held", "criterion", "seconds", "figures", "status"):
        assert key in a, key
    assert a["held"] is True and a["criterion"] == "held iff x > 1" and a["figures"] == {"x": 2.0, "n": 3}
    assert a["plots"] == [{"file": "f.png", "caption": "what to look for"}]
    assert [exps[k]["held"] for k in "bcd"] == [False, None, None]
    assert [exps[k]["status"] for k in "abcd"] == ["ok", "ok", "ok", "error"]
    assert exps["d"]["plots"] == [{"file": "gone.png", "caption": ""}]


def test_html_badges_status_escaping_and_figures(tmp_path):
    _figures(tmp_path)
    html = report_html(_results(), tmp_path, {"cpu": "cpu <x>", "cores": 2})
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    # one badge in the summary table and one in the section, per experiment
    assert html.count('class="badge v-held"') == 2 and html.count('class="badge v-not_held"') == 2
    assert html.count('class="badge v-inconclusive"') == 4
    assert html.count('class="status s-error"') == 2 and html.count('class="status s-ok"') == 6
    assert "\u2713 held</span>" in html and "\u2717 did not hold</span>" in html
    assert "A &lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "<b>bold</b>" not in html
    assert "RuntimeError: &lt;boom&gt;" in html and "cpu &lt;x&gt;" in html
    assert html.count("data:image/png;base64,") == 1 and 'width="40" height="30"' in html
    assert "<figcaption>what to look for</figcaption>" in html
    assert "Figure file missing" in html and "<code>gone.png</code>" in html
    assert "Criterion:</b> held iff x &gt; 1" in html


@pytest.mark.parametrize("cell", ["1.5", "-0.024", "−1.23", "3.6e31", "1,331", "12.0 %", "0.35x",
                                  "55.58 ± 0.34", "212.8 / 1,285", "4.2 s", "~0.9", "nan", "-"])
def test_numbers_are_right_aligned_cells(cell):
    assert is_numeric_cell(cell)


@pytest.mark.parametrize("cell", ["LSTM", "床前明月光，疑是地上霜。", "k=8", "held", "3 of 4 seeds",
                                  "the 5-gram", "x", "1.2.3", "v2"])
def test_words_and_poems_are_left_aligned_cells(cell):
    assert not is_numeric_cell(cell)


def test_table_cells_carry_their_alignment(tmp_path):
    r = Result(name="t", title="T", held=True,
               tables=[Table("poems", ["model", "ppl", "sample"], [["LSTM", 280.6, "春眠不觉晓"]])])
    html = report_html([r], tmp_path, {})
    assert '<td>LSTM</td><td class="num">280.6</td><td>春眠不觉晓</td>' in html


def test_the_chinese_catalogue_renders_the_same_page(tmp_path):
    html = report_html(_results(), tmp_path, {}, lang="zh")
    assert '<html lang="zh">' in html and "\u2713 成立</span>" in html and "不成立" in html
    assert "groundup 实验报告" in html and "Criterion" not in html


def test_summary_markdown_has_the_verdict_column():
    md = summary_markdown(_results(), {"cpu": "x"})
    assert "| experiment | verdict | run | mode | seconds |" in md
    assert "| a | \u2713 held | ok | quick | 1.2 |" in md
    assert "| d | ? inconclusive | error | quick | 0.0 |" in md
    assert "![what to look for](a/f.png)" in md


def test_plots_png_palette_photographs_jpeg(tmp_path):
    from PIL import Image

    from groundup.lab.plotting import plt, save

    def fig():
        f, ax = plt().subplots(figsize=(2, 2))
        ax.imshow([[0.0, 1.0], [0.5, 0.2]])
        return f

    assert save(fig(), tmp_path / "p.png") == "p.png"
    assert save(fig(), tmp_path / "q.jpg") == "q.jpg"
    with Image.open(tmp_path / "p.png") as im:
        assert im.format == "PNG" and im.mode == "P"
    with Image.open(tmp_path / "q.jpg") as im:
        assert im.format == "JPEG"
    with pytest.raises(ValueError, match="must end in .png, .jpg or .jpeg"):
        save(fig(), tmp_path / "r.gif")
    assert not (tmp_path / "r.gif").exists()


def test_jpeg_figures_are_inlined_as_jpeg(tmp_path):
    from PIL import Image

    (tmp_path / "a").mkdir()
    Image.new("RGB", (8, 8), "red").save(tmp_path / "a" / "f.jpg")
    r = Result(name="a", title="A", plots=[Plot("f.jpg", "photo")])
    html = report_html([r], tmp_path, {})
    assert html.count("data:image/jpeg;base64,") == 1 and "image/png" not in html
