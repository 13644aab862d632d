"""Tokenizers on English, Chinese and mixed text; hand-written expected outputs; the registry."""
from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundup.data import tokenize as tk
from groundup.data.tokenize import (
    WORD_WHITESPACE, char_tokens, codepoint_tokens, get_tokenizer, has_cjk, is_cjk, text8_normalize,
    text8_tokens, word_tokens)
from groundup.errors import ConfigError


def test_word_keeps_ptb_and_wikitext_conventions():
    # a PTB line starts with a space; <unk> and N stay literal tokens
    assert word_tokens(" the <unk> rose N %") == ["the", "<unk>", "rose", "N", "%"]
    # WikiText's split separators and heading marks are tokens of their own
    line = " = Valkyria Chronicles III = \n"
    assert word_tokens(line) == ["=", "Valkyria", "Chronicles", "III", "="]
    assert word_tokens(" 1 @,@ 000 well @-@ known 3 @.@ 5 ") == ["1", "@,@", "000", "well", "@-@", "known", "3", "@.@", "5"]
    assert word_tokens(" ") == []
    assert word_tokens("a b") == ["a", "b"]


def test_word_whitespace_is_exactly_str_split():
    """The documented set is what str.split() splits on (all of Unicode checked)."""
    assert WORD_WHITESPACE == "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert word_tokens("a\u00a0b\u3000c\x0cd\u2009e") == list("abcde")


def test_codepoint_tokens():
    assert codepoint_tokens("ab c") == ["a", "b", " ", "c"]
    assert codepoint_tokens("") == []


@pytest.mark.parametrize("line,expected", [
    ("我爱北京天安门", ["我", "爱", "北", "京", "天", "安", "门"]),
    ("深度学习 is fun，对吧？", ["深", "度", "学", "习", "is", "fun", "，", "对", "吧", "？"]),
    ("我用GPT4写了3.5个N-gram模型。", ["我", "用", "GPT4", "写", "了", "3.5", "个", "N", "-", "gram", "模", "型", "。"]),
    ("Second LINE, here! don't 1,000", ["Second", "LINE", ",", "here", "!", "don", "'", "t", "1,000"]),
    ("café_au lait", ["café", "_", "au", "lait"]),
    ("<unk> 的 <eos>", ["<unk>", "的", "<eos>"]),
    ("東京タワー", ["東", "京", "タ", "ワ", "ー"]),          # kanji and katakana, one token each
    ("ideographic\u3000space", ["ideographic", "space"]),  # U+3000 separates like a space
    ("𠀀字", ["𠀀", "字"]),                                  # Extension B (outside the BMP)
])
def test_char_tokens(line, expected):
    assert char_tokens(line) == expected


def test_char_equals_word_on_tokenised_english():
    line = " the <unk> company shares @ rose 3.5 % , analysts said ."
    assert char_tokens(line) == word_tokens(line)


@given(st.lists(st.sampled_from(list("ab 中文，。x\t<>-.,1") + ["unk", "𠀀", "<eos>"]), max_size=40).map("".join))
def test_char_invariants(line):
    toks = char_tokens(line)
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
    assert text8_tokens("") == []


def test_registry():
    assert get_tokenizer("char")("ab 中") == ["ab", "中"]
    assert get_tokenizer("word", lowercase=True)("A B") == ["a", "b"]
    assert get_tokenizer("codepoint").eos == "\n" and get_tokenizer("text8").eos is None
    assert get_tokenizer("char").joiner == "" and get_tokenizer("word").joiner == " "
    with pytest.raises(ConfigError, match="unknown tokenizer 'bpe'"):
        get_tokenizer("bpe")
    # a reserved name is listed and a clear error until a tokenizer registers under it
    tk.RESERVED["seg"] = "not available yet; use --tokenizer char"
    try:
        assert "seg" in tk.names()
        with pytest.raises(ConfigError, match="tokenizer 'seg': not available yet; use --tokenizer char"):
            get_tokenizer("seg")
        seg = tk.FunctionTokenizer("seg", lambda line: ["我", "爱", "北京"], "", "<eos>")
        tk.register(seg)
        assert get_tokenizer("seg")("我爱北京") == ["我", "爱", "北京"]
        with pytest.raises(ValueError, match="already registered"):
            tk.register(seg)
    finally:
        del tk.RESERVED["seg"]
        tk.TOKENIZERS.pop("seg", None)
    # zh is registered (Chinese word segmentation, tests/test_data_zh.py)
    assert "zh" in tk.TOKENIZERS and "zh" not in tk.RESERVED


def test_text8_is_ascii_only():
    # Python's lower() maps 'İ' (U+0130) to 'i' + a combining dot and the Kelvin sign to 'k';
    # text8 works on bytes, so every non-ASCII character is a separator, whatever it lowercases to
    assert text8_tokens("\u0130 \u212a ok") == ["ok"]


def test_spaces_splits_like_lmplz():
    """lm/builder/corpus_count.cc: delimiters are NUL, tab, LF, CR and space, nothing else."""
    from groundup.data.tokenize import get_tokenizer

    tok = get_tokenizer("spaces")
    line = " a\u00a0b  c\td\x0ce\u3000f\rg\x0b \t"
    assert tok(line) == ["a\u00a0b", "c", "d\x0ce\u3000f", "g\x0b"]
    assert tok("") == [] and tok(" \t ") == []
    assert tok("the cat sat") == get_tokenizer("word")("the cat sat")
