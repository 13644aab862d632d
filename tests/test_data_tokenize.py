"""Tokenizers on English, Chinese and mixed text; hand-written expected outputs."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundup.data.tokenize import (
    char_tokens, cjk_tokens, get_tokenizer, has_cjk, is_cjk, text8_normalize, text8_tokens, tokenize,
    tokenize_lines, word_tokens)
from groundup.errors import ConfigError


def test_word_keeps_ptb_and_wikitext_conventions():
    # a PTB line starts with a space; <unk> and N stay literal tokens
    assert word_tokens(" the <unk> rose N %", eos="<eos>") == ["the", "<unk>", "rose", "N", "%", "<eos>"]
    # WikiText's split separators and heading marks are tokens of their own
    line = " = Valkyria Chronicles III = \n"
    assert word_tokens(line) == ["=", "Valkyria", "Chronicles", "III", "="]
    assert word_tokens(" 1 @,@ 000 well @-@ known 3 @.@ 5 ") == ["1", "@,@", "000", "well", "@-@", "known", "3", "@.@", "5"]
    # WikiText's blank separator lines (a single space) still end with <eos>: that is how the
    # published 2,088,628 train tokens are counted
    assert word_tokens(" ", eos="<eos>") == ["<eos>"]
    assert word_tokens("a b") == ["a", "b"]


def test_char_tokens():
    assert char_tokens("ab c") == ["a", "b", " ", "c"]
    assert char_tokens("中文", eos="\n") == ["中", "文", "\n"]
    assert char_tokens("") == []


@pytest.mark.parametrize("line,expected", [
    ("我爱北京天安门", ["我", "爱", "北", "京", "天", "安", "门"]),
    ("深度学习 is fun，对吧？", ["深", "度", "学", "习", "is", "fun", "，", "对", "吧", "？"]),
    ("我用GPT4写了3个N-gram模型。", ["我", "用", "GPT4", "写", "了", "3", "个", "N-gram", "模", "型", "。"]),
    ("<unk> 的 <eos>", ["<unk>", "的", "<eos>"]),
    ("東京タワー", ["東", "京", "タ", "ワ", "ー"]),          # kanji and katakana, one token each
    ("ideographic\u3000space", ["ideographic", "space"]),  # U+3000 separates like a space
    ("𠀀字", ["𠀀", "字"]),                                  # Extension B (outside the BMP)
])
def test_cjk_tokens(line, expected):
    assert cjk_tokens(line) == expected


def test_cjk_equals_word_on_text_without_cjk():
    line = " the <unk> company 's shares @-@ rose 3.5 % , analysts said ."
    assert cjk_tokens(line, eos="<eos>") == word_tokens(line, eos="<eos>")


@given(st.lists(st.sampled_from(list("ab 中文，。x\t<>") + ["unk", "𠀀"]), max_size=40).map("".join))
def test_cjk_invariants(line):
    toks = cjk_tokens(line)
    # nothing but whitespace is lost, and order is kept
    assert "".join(toks) == re.sub(r"\s", "", line)
    for t in toks:
        assert t and not any(c.isspace() for c in t)
        assert len(t) == 1 or not has_cjk(t)  # a CJK character is always alone


def test_is_cjk():
    assert is_cjk("中") and is_cjk("。") and is_cjk("ア")
    assert not is_cjk("a") and not is_cjk("1") and not is_cjk("é") and not is_cjk("한")


def test_text8_normalize():
    # wikifil.pl-style: lowercase, anything outside a-z a space (digits too; we do not spell them)
    assert text8_normalize("Hello, World! 42") == "hello  world    "
    assert text8_tokens("\ufeffIt's Café-au-lait, 1864.\r") == ["it", "s", "caf", "au", "lait"]
    assert text8_tokens("中文 only") == ["only"]
    assert text8_tokens("", eos=None) == []


def test_tokenize_and_lines():
    assert tokenize("a b\nc\n", "word", eos="<eos>") == ["a", "b", "<eos>", "c", "<eos>"]
    assert list(tokenize_lines(["x y", "天"], "cjk")) == [["x", "y"], ["天"]]
    assert get_tokenizer("char", eos="\n")("ab") == ["a", "b", "\n"]
    with pytest.raises(ConfigError, match="unknown tokenizer 'bpe'"):
        get_tokenizer("bpe")


# A slow, obviously correct twin of cjk_tokens: code-point ranges written out by hand, one
# character at a time. The fast version is one regex; they must agree on any text.
_CJK_RANGES = [(0x3001, 0x303F), (0x3040, 0x30FF), (0x3100, 0x312F), (0x31A0, 0x31BF), (0x31F0, 0x31FF),
               (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF01, 0xFF0F),
               (0xFF1A, 0xFF20), (0xFF3B, 0xFF40), (0xFF5B, 0xFF65), (0x20000, 0x3FFFD)]


def _cjk_reference(line: str) -> list[str]:
    out: list[str] = []
    run = ""
    for ch in line:
        if ch.isspace() or any(lo <= ord(ch) <= hi for lo, hi in _CJK_RANGES):
            if run:
                out.append(run)
                run = ""
            if not ch.isspace():
                out.append(ch)
        else:
            run += ch
    if run:
        out.append(run)
    return out


_MIXED = st.text(st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),         # ASCII
    st.characters(min_codepoint=0x2FF0, max_codepoint=0x4E10),     # around the CJK block edges
    st.characters(min_codepoint=0x9FF0, max_codepoint=0xFB00),
    st.characters(min_codepoint=0xFE20, max_codepoint=0xFF70),
    st.characters(min_codepoint=0x1FFF0, max_codepoint=0x20010),
    st.sampled_from(["\u3000", "\t", "\u00a0", "é", "한"])), max_size=30)


@given(_MIXED)
def test_cjk_tokens_match_slow_reference(line):
    assert cjk_tokens(line) == _cjk_reference(line)


def test_text8_is_ascii_only():
    # Python's lower() maps 'İ' (U+0130) to 'i' + a combining dot and the Kelvin sign to 'k';
    # text8 works on bytes, so every non-ASCII character is a separator, whatever it lowercases to
    assert text8_tokens("\u0130 \u212a ok") == ["ok"]
