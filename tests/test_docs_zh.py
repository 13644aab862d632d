"""The Chinese docs (README.zh.md, docs/zh/) stay complete, linked, Chinese, and runnable.

- every English technique page docs/NAME.md has a Chinese page docs/zh/NAME.md (and docs/zh has
  no page without an English one, apart from index.md and chinese.md);
- every relative link in README.zh.md and docs/zh/*.md points to a file or folder that exists,
  and README.md and README.zh.md link to each other at the top;
- each Chinese page is mostly Chinese: more than 30% of its characters outside code (fenced
  blocks, inline code, link targets) and whitespace are CJK;
- every ``groundup ...`` command line in docs/zh/chinese.md parses with the real command-line
  parser (argparse, nothing executed), names a complete subcommand, and asks only for tokenizers
  that are available now (a reserved, not-yet-landed one such as ``zh`` fails the test).

The helpers take text, so the failure paths are tested on fabricated pages as well.
"""
from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ZH = DOCS / "zh"
# English pages that are not technique pages (developer reference), so they have no zh twin.
NOT_TECHNIQUE = {"architecture.md"}
ZH_ONLY = {"index.md", "chinese.md"}
MIN_CJK_SHARE = 0.30

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[(?:[^\]\n]|\][^(\n])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def english_technique_pages() -> list[str]:
    return sorted(p.name for p in DOCS.glob("*.md") if p.name not in NOT_TECHNIQUE)


def zh_pages() -> list[Path]:
    return sorted(ZH.glob("*.md"))


def strip_code(text: str) -> str:
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def cjk_share(text: str) -> float:
    """Share of CJK characters (ideographs, CJK punctuation, full-width forms) among the
    non-space characters outside code and link targets."""
    prose = re.sub(r"\]\([^)]*\)", "]", strip_code(text))
    chars = [c for c in prose if not c.isspace()]
    cjk = sum(1 for c in chars
              if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"
              or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")
    return cjk / len(chars) if chars else 0.0


def relative_links(text: str) -> list[str]:
    """Targets of Markdown links outside code that are paths (no scheme, not a bare #anchor)."""
    out = []
    for target in _LINK.findall(strip_code(text)):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
            continue
        out.append(target.split("#", 1)[0])
    return out


def broken_links(page: Path, text: str | None = None) -> list[str]:
    text = page.read_text(encoding="utf-8") if text is None else text
    return [t for t in relative_links(text) if not (page.parent / t).exists()]


def command_lines(text: str) -> list[str]:
    """Every ``groundup ...`` line inside fenced code blocks, continuation lines joined,
    a leading ``$ `` dropped (``groundup: error: ...`` output lines are not commands)."""
    lines = []
    for block in _FENCE.finditer(text):
        body = block.group(0).split("\n")[1:-1]
        joined, buf = [], ""
        for line in body:
            if line.rstrip().endswith("\\"):
                buf += line.strip()[:-1].rstrip() + " "
                continue
            joined.append(buf + line.strip())
            buf = ""
        for line in joined:
            s = line.strip()
            if s.startswith("$ "):
                s = s[2:].strip()
            if s.startswith("groundup "):
                lines.append(s)
    return lines


def command_problem(line: str) -> str | None:
    """None if ``line`` parses as a complete groundup command whose tokenizer is available,
    else what is wrong with it."""
    from groundup.cli import build_parser
    from groundup.data.tokenize import get_tokenizer
    from groundup.errors import GroundupError

    argv = shlex.split(line, comments=True)[1:]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return f"does not parse (exit {e.code})"
    # walk down the subcommands the line names: the last one must have none of its own
    # (`groundup ngram` parses, but only prints the area's help)
    node, words = parser, iter(argv)
    while True:
        subs = [a for a in node._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            break
        word = next((w for w in words if not w.startswith("-")), None)
        if word not in subs[0].choices:
            return "names no complete subcommand"
        node = subs[0].choices[word]
    if not getattr(args, "func", None):
        return "names no complete subcommand"
    tok = getattr(args, "tokenizer", None)
    if isinstance(tok, str):
        try:
            get_tokenizer(tok)
        except GroundupError as e:
            return f"tokenizer {tok!r} is not available: {e}"
    return None


# ---- the docs as they are ---------------------------------------------------------------

def test_every_english_technique_page_has_a_chinese_page():
    missing = [n for n in english_technique_pages() if not (ZH / n).is_file()]
    assert not missing, f"docs/zh lacks the Chinese page of: {missing}"
    extra = [p.name for p in zh_pages() if p.name not in ZH_ONLY and not (DOCS / p.name).is_file()]
    assert not extra, f"docs/zh pages without an English page: {extra}"
    for name in ZH_ONLY:
        assert (ZH / name).is_file(), f"docs/zh/{name} is missing"


def test_each_chinese_page_links_its_english_page_and_the_index_links_every_page():
    index = (ZH / "index.md").read_text(encoding="utf-8")
    for page in zh_pages():
        if page.name in ZH_ONLY:
            continue
        assert f"../{page.name}" in relative_links(page.read_text(encoding="utf-8")), \
            f"docs/zh/{page.name} does not link ../{page.name}"
    unlinked = [p.name for p in zh_pages() if p.name != "index.md" and p.name not in relative_links(index)]
    assert not unlinked, f"docs/zh/index.md does not link: {unlinked}"


@pytest.mark.parametrize("page", [ROOT / "README.zh.md", *zh_pages()], ids=lambda p: p.name)
def test_relative_links_resolve(page):
    assert relative_links(page.read_text(encoding="utf-8")), f"{page.name} has no relative link"
    assert not broken_links(page), f"{page.relative_to(ROOT)}: broken links {broken_links(page)}"


def test_readmes_link_each_other_at_the_top():
    en_top = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:5])
    zh_top = "\n".join((ROOT / "README.zh.md").read_text(encoding="utf-8").splitlines()[:5])
    assert "README.zh.md" in relative_links(en_top)
    assert "README.md" in relative_links(zh_top)


@pytest.mark.parametrize("page", [ROOT / "README.zh.md", *zh_pages()], ids=lambda p: p.name)
def test_page_is_mostly_chinese(page):
    share = cjk_share(page.read_text(encoding="utf-8"))
    assert share > MIN_CJK_SHARE, f"{page.name}: only {share:.0%} of its prose is CJK"


def test_readme_zh_opens_with_the_readme_commands():
    def first_block(text):
        return _FENCE.search(text).group(0)
    en = first_block((ROOT / "README.md").read_text(encoding="utf-8"))
    zh = first_block((ROOT / "README.zh.md").read_text(encoding="utf-8"))
    assert zh == en, "README.zh.md's first code block differs from README.md's"


def test_every_command_in_chinese_md_parses():
    lines = command_lines((ZH / "chinese.md").read_text(encoding="utf-8"))
    assert len(lines) >= 5, lines
    problems = {line: p for line in lines if (p := command_problem(line))}
    assert not problems, problems


# ---- the checks fail where they must (fabricated pages) ---------------------------------

def test_broken_link_and_english_page_are_caught(tmp_path):
    page = tmp_path / "x.md"
    (tmp_path / "there.md").write_text("ok", encoding="utf-8")
    text = "见 [有](there.md)、[没有](missing.md#a)、[网页](https://example.org) 和 `[代码](nope.md)`"
    page.write_text(text, encoding="utf-8")
    assert broken_links(page) == ["missing.md"]
    assert cjk_share("This page is an English page with 一点 Chinese.") < MIN_CJK_SHARE
    assert cjk_share("这一页是中文。\n```\nlots of english code here\n```\n") > 0.9


def test_bad_commands_are_caught():
    text = "```\ngroundup ngram build a.txt --order 3 \\\n    -o m.arpa\n$ groundup lab --list\n" \
           "groundup: error: not a command\n```\n"
    assert command_lines(text) == ["groundup ngram build a.txt --order 3 -o m.arpa",
                                   "groundup lab --list"]
    assert command_problem("groundup ngram build a.txt -o m.arpa") is None
    assert command_problem("groundup ngram build a.txt --no-such-option -o m.arpa")
    assert command_problem("groundup ngram build a.txt --tokenizer word|char -o m.arpa")
    assert command_problem("groundup ngram")
    assert command_problem("groundup no-such-command")
