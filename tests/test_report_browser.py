"""report.html in a real browser: Chromium driven by Playwright, at a phone's and a desktop's width,
in English and (``groundup lab --lang zh``) in Chinese.

The report is built from fabricated Results (no experiment runs): one that held, one that did
not, one inconclusive, one that crashed, a wide table, a large PNG and a JPEG photograph. At
390 px and 1280 px the page must not scroll sideways, every image must decode, every experiment
must show its badge, and the console must stay clean. Screenshots go to the test's tmp folder.

Playwright's own browser download is not used: Debian's ``chromium`` is launched through
``executable_path``. ``.ci/run`` installs it when it is missing; elsewhere the test skips.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).is_file()),
                None)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
EXPECTED = {"demo-held": "held", "demo-not-held": "not_held", "demo-inconclusive": "inconclusive",
            "demo-error": "inconclusive"}


def _fabricated_report(out: Path) -> Path:
    import numpy as np
    from PIL import Image

    from groundup.lab.base import Plot, Result, Table
    from groundup.lab.report import write_report

    rng = np.random.default_rng(0)
    (out / "demo-held").mkdir(parents=True)
    # a large plot-like PNG (wider than any screen) and a noisy "photograph" as JPEG
    wide = np.full((500, 2600, 3), 255, np.uint8)
    wide[200:300, :, 0] = np.linspace(0, 255, 2600, dtype=np.uint8)
    Image.fromarray(wide).save(out / "demo-held" / "wide.png")
    photo = rng.integers(0, 256, (600, 900, 3), dtype=np.uint8)
    Image.fromarray(photo).save(out / "demo-held" / "photo.jpg", quality=85)
    wide_table = Table("A wide table: it scrolls inside its own box",
                       [f"a rather long column header {i}" for i in range(14)],
                       [[f"value {i}-{j}" for j in range(14)] for i in range(5)])
    results = [
        Result(name="demo-held", title="An experiment whose claim held", claim="The claim.",
               verdict="Held: 3 > 2.", held=True, criterion="held iff 3 > 2",
               summary={"x": 3.0, "long_key_" + "y" * 80: 1e-7}, tables=[wide_table],
               plots=[Plot("wide.png", "A 2600-px-wide plot. Look for: it fits the screen."),
                      Plot("photo.jpg", "A JPEG photograph. Look for: noise.")],
               seconds=1.5),
        Result(name="demo-not-held", title="One that did not hold <script>alert(1)</script>",
               claim="A & B", verdict="Did not hold.", held=False, criterion="held iff B",
               notes=["An unbroken word: " + "x" * 300], seconds=2.0),
        Result(name="demo-inconclusive", title="One that was inconclusive", verdict="Within noise.",
               held=None, criterion="held iff the gap exceeds the noise", seconds=0.5),
        Result(name="demo-error", title="One that crashed", ok=False, error="ValueError: boom",
               notes=["```\nTraceback (most recent call last):\n  " + "frame " * 120 + "\n```"]),
    ]
    write_report(results, out)
    return out / "report.html"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no Chromium found at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _open(browser, report: Path, width: int):
    """The report in a page ``width`` px wide, its images decoded, and the list that collects
    console errors and warnings, page errors and dialogs."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(report.as_uri())
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    return page, problems


def _assert_no_horizontal_overflow(page) -> None:
    sizes = page.evaluate("({scroll: document.documentElement.scrollWidth,"
                          "  client: document.documentElement.clientWidth,"
                          "  body: document.body.scrollWidth})")
    assert sizes["scroll"] <= sizes["client"] and sizes["body"] <= sizes["client"], sizes


@pytest.mark.parametrize("width", [390, 1280])
def test_report_reads_on_phone_and_desktop(browser, tmp_path, width):
    report = _fabricated_report(tmp_path / "lab")
    page, problems = _open(browser, report, width)

    # no page-level horizontal overflow
    _assert_no_horizontal_overflow(page)
    # every image decoded, none wider than the window
    images = page.evaluate("Array.from(document.images).map(i => ({w: i.naturalWidth,"
                           " right: i.getBoundingClientRect().right}))")
    assert len(images) == 2 and all(i["w"] > 0 for i in images), images
    assert all(i["right"] <= width for i in images), images
    # the wide table is really wider than its box at phone width, and scrolls inside it
    if width == 390:
        boxes = page.evaluate("Array.from(document.querySelectorAll('.scroll')).map("
                              "b => b.scrollWidth > b.clientWidth)")
        assert any(boxes)
    # every experiment has its badge, in the summary table and in its section, and it is the
    # verdict of its data; the run status is separate
    for name, key in EXPECTED.items():
        section = page.locator(f"section#exp-{name}")
        assert section.locator(f".badge.v-{key}").count() == 1
        assert section.get_attribute("data-status") == ("error" if name == "demo-error" else "ok")
    assert page.locator("table.summary tbody tr .badge").count() == len(EXPECTED)
    words = {k: page.locator(f"section .badge.v-{k}").first.inner_text() for k in
             ("held", "not_held", "inconclusive")}
    assert words == {"held": "\u2713 held", "not_held": "\u2717 did not hold", "inconclusive": "? inconclusive"}
    colours = {k: page.locator(f"section .badge.v-{k}").first.evaluate(
        "e => getComputedStyle(e).backgroundColor") for k in words}
    assert len(set(colours.values())) == 3, colours
    # captions are shown; the title with markup is text, not a script
    assert page.locator("figcaption").first.inner_text().startswith("A 2600-px-wide plot")
    assert "<script>" in page.locator("section#exp-demo-not-held h2").inner_text()
    page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
    assert (tmp_path / f"report-{width}.png").stat().st_size > 10_000
    assert not problems, problems
    page.close()


def _chinese_report(out: Path) -> Path:
    """A ``--lang zh`` report: the catalogue's Chinese titles and claims, Chinese verdicts, a wide
    table of Chinese headers and a long unbroken Chinese paragraph."""
    from PIL import Image

    from groundup.lab.base import Plot, Result, Table
    from groundup.lab.catalogue import text, title_claim
    from groundup.lab.report import write_report

    (out / "charlm-zh").mkdir(parents=True)
    Image.new("RGB", (1600, 500), "white").save(out / "charlm-zh" / "ppl.png")
    results = []
    for name, held in (("charlm-zh", True), ("ngram-zh", False), ("segment-zh", None), ("rnn", True)):
        title, claim = title_claim(name, "zh")
        results.append(Result(name=name, title=title, claim=claim, held=held,
                              verdict="成立：验证集每字困惑度 LSTM 301.2、Transformer 288.0，一元模型 481.0。",
                              criterion=text("zh", "charlm-zh.criterion"), seconds=12.5))
    results[0].tables = [Table(text("zh", "charlm-zh.table_ppl", poems=11715, valid=25000, V=2001),
                               text("zh", "charlm-zh.headers_ppl").split("|") * 2,
                               [["lstm", "939,378", 250, "256,000", "301.2", "0.63", "55%"] * 2]),
                         Table(text("zh", "charlm-zh.table_samples", temperature=0.8), ["模型", "诗"],
                               [["lstm", "秦川雄帝宅，函谷壮皇居。绮殿千寻起，离宫百雉余。" * 3]])]
    results[0].plots = [Plot("ppl.png", text("zh", "charlm-zh.caption_ppl"))]
    results[1].notes = ["长段落" * 200]
    write_report(results, out, lang="zh")
    return out / "report.html"


@pytest.mark.parametrize("width", [390, 1280])
def test_chinese_report_reads_on_phone_and_desktop(browser, tmp_path, width):
    report = _chinese_report(tmp_path / "lab-zh")
    page, problems = _open(browser, report, width)
    _assert_no_horizontal_overflow(page)
    assert page.evaluate("document.documentElement.lang") == "zh"
    assert page.locator("h1").inner_text() == "groundup 实验报告"
    assert page.locator("section#exp-charlm-zh h2").inner_text() == "字符级语言模型写唐诗：LSTM 与 Transformer"
    words = {k: page.locator(f"section .badge.v-{k}").first.inner_text() for k in
             ("held", "not_held", "inconclusive")}
    assert words == {"held": "\u2713 成立", "not_held": "\u2717 不成立", "inconclusive": "? 无定论"}
    # the Chinese is drawn with a CJK font: a line of 10 Han characters is about 10 ems wide
    em = page.evaluate("(() => { const s = document.createElement('span'); s.textContent = '诗'.repeat(10);"
                       " document.body.appendChild(s); const w = s.getBoundingClientRect().width;"
                       " const f = parseFloat(getComputedStyle(s).fontSize); s.remove(); return w / f; })()")
    assert 9.0 <= em <= 11.0, em
    images = page.evaluate("Array.from(document.images).map(i => i.getBoundingClientRect().right)")
    assert images and all(r <= width for r in images), images
    page.screenshot(path=str(tmp_path / f"report-zh-{width}.png"), full_page=True)
    assert not problems, problems
    page.close()
