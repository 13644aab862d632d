"""Tokenizers: one line of text in, a list of tokens out, and the one registry every text
command and the Python API look them up in (``--tokenizer NAME``).

A tokenizer is anything with the :class:`Tokenizer` protocol: a ``name`` (what model files
record), a ``joiner`` (the string that puts tokens back into readable text: ``" "`` or ``""``),
``eos`` (the end-of-line token a language-model stream of it uses: ``<eos>``, ``"\\n"`` for
``codepoint``, None for ``text8``, which has no lines) and ``__call__(line) -> list[str]``. A line never holds a newline (the reader,
:mod:`groundup.data.textfile`, splits on ``\\n`` and drops a trailing ``\\r``). Tokenizers do not
add sentence or line markers; :class:`groundup.data.corpora.TextCorpus` appends the end-of-line
token (``<eos>``) a language-model stream needs, and the n-gram code wraps sentences in
``<s> ... </s>`` as KenLM does.

The registry (:data:`TOKENIZERS`):

``word``       whitespace split (``str.split()``): the text is already tokenised, as PTB, WikiText
               and word-segmented Chinese are. *Whitespace* is exactly Python's Unicode
               whitespace, :data:`WORD_WHITESPACE`: space, ``\\t \\n \\v \\f \\r``, the file/group/
               record/unit separators U+001C-U+001F, NEL U+0085, no-break space U+00A0, U+1680,
               the en/em/thin spaces U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and the
               ideographic space U+3000.
``spaces``     KenLM ``lmplz``'s split: only space, tab and ``\r`` separate
               (:data:`LMPLZ_WHITESPACE`, from lm/builder/corpus_count.cc); a no-break space, a
               form feed or an ideographic space U+3000 stays inside its word, as in lmplz. The
               n-gram builder's default, so its models are lmplz's on the same file; it warns
               when a word holds other Unicode whitespace (U+3000 in Chinese text separated by
               ideographic spaces: use ``word`` there, or ``zh``/``char``).
``char``       for Chinese and Japanese text and for mixed text: every CJK character (Han
               ideographs, kana, bopomofo, CJK and full-width punctuation) is a token, a run of
               other letters or digits is one token (``NLP``, ``GPT4``, ``café``), a number keeps
               its inner ``.``/``,`` (``3.14``, ``1,000``), the literal markers ``<unk>``,
               ``<eos>``, ``<s>``, ``</s>`` stay whole, every other non-space character
               (punctuation, symbols) is a token of its own, whitespace separates and is dropped:
               ``"我用GPT4写了3.5个N-gram模型。"`` -> ``我 用 GPT4 写 了 3.5 个 N - gram 模 型 。``.
``codepoint``  every Unicode code point a token, spaces included (char-rnn's convention, Tiny
               Shakespeare); the end-of-line token of such a stream is ``"\\n"``.
``text8``      Mahoney's text8 normalisation: ASCII letters lowercased, every other byte
               (digits, punctuation, any non-ASCII character) a space, then whitespace split.
               (His ``wikifil.pl`` also spells digits out; we do not.)

``zh``         Chinese word segmentation: jieba's (through ``rjieba``, else ``jieba``; the
               optional extra ``groundup[zh]``), :func:`groundup.data.zh.cut`. Whitespace
               separates as for ``word``; tokens are joined back with a space. The entry is
               there without the extra; calling it is then a one-line error naming the
               install command.

A name can be kept in :data:`RESERVED` for a tokenizer that registers later (asking for it is a
one-line error until then); a tokenizer registers itself with :func:`register`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

from .zh import cut as zh_cut

UNK = "<unk>"
EOS = "<eos>"
BOS = "<s>"          # KenLM / ARPA sentence start
EOS_SENT = "</s>"    # KenLM / ARPA sentence end

# Exactly the characters str.split() / str.isspace() treat as whitespace (tested against
# str.isspace over all of Unicode).
WORD_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
                   "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

# Han ideographs (CJK Unified + Extensions A-H, Compatibility), Hiragana, Katakana, Bopomofo,
# CJK symbols and punctuation (without U+3000, the ideographic space: that one separates), and
# the full-width punctuation of the Halfwidth/Fullwidth Forms block.
_CJK_CLASS = (
    "\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    "\U00020000-\U0003fffd"
)
_CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")
# char: a marker | one CJK character | a number | a run of non-CJK letters/digits | one other
# non-space character. [^\W_{cjk}] is "a word character that is neither _ nor CJK".
_CHAR_TOKEN = re.compile(
    r"<unk>|<eos>|</?s>"
    f"|[{_CJK_CLASS}]"
    r"|\d+(?:[.,]\d+)+"
    f"|[^\\W_{_CJK_CLASS}]+"
    r"|\S")

# text8: a 256-entry byte table (A-Z -> a-z, a-z kept, everything else -> space).
_TEXT8_TABLE = bytes((c + 32) if 65 <= c <= 90 else c if 97 <= c <= 122 else 32 for c in range(256))


@runtime_checkable
class Tokenizer(Protocol):
    """What the registry holds: ``tok(line) -> list[str]``, with the name model files record and
    the joiner that turns tokens back into text."""

    name: str
    joiner: str
    eos: str | None

    def __call__(self, line: str) -> list[str]: ...


@dataclass(frozen=True)
class FunctionTokenizer:
    """A tokenizer made from a plain function ``line -> tokens``."""

    name: str
    split: Callable[[str], list[str]]
    joiner: str = " "
    eos: str | None = EOS
    help: str = ""

    def __call__(self, line: str) -> list[str]:
        return self.split(line)


def is_cjk(ch: str) -> bool:
    """True for a Han ideograph, kana, bopomofo or CJK punctuation character."""
    return _CJK_CHAR.match(ch) is not None


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def word_tokens(line: str) -> list[str]:
    """Split on :data:`WORD_WHITESPACE`."""
    return line.split()


LMPLZ_WHITESPACE = " \t\r"
_TO_SPACE = str.maketrans("\t\r", "  ")


def spaces_tokens(line: str) -> list[str]:
    """Split on :data:`LMPLZ_WHITESPACE` only (lmplz's words); ``str.translate`` (slow) only
    when a tab or CR is there."""
    if "\t" in line or "\r" in line:
        line = line.translate(_TO_SPACE)
    return list(filter(None, line.split(" ")))


def char_tokens(line: str) -> list[str]:
    """CJK characters one by one, other letters/digits in runs, punctuation alone."""
    return _CHAR_TOKEN.findall(line)


def codepoint_tokens(line: str) -> list[str]:
    """One token per Unicode code point, spaces included."""
    return list(line)


def text8_normalize(text: str) -> str:
    """Lowercase ASCII letters and turn every other character into a space (length may change:
    a non-ASCII character becomes one space per UTF-8 byte)."""
    return text.encode("utf-8").translate(_TEXT8_TABLE).decode("ascii")


def text8_tokens(line: str) -> list[str]:
    return [t.decode("ascii") for t in line.encode("utf-8").translate(_TEXT8_TABLE).split()]


class SpacingCheck:
    """Does whitespace-split text look like Chinese or Japanese written without spaces, which
    ``--tokenizer word`` would turn into one "word" per line or clause?

    The rule, fixed: over the first :attr:`LINES` lines (token lists of the ``word``
    tokenizer), at least 10 CJK characters (:func:`is_cjk`), more than half of all non-space
    characters CJK, and fewer than one space between tokens per 20 CJK characters. Word-
    segmented Chinese (CMRC 2017: a space per 1.5 characters) and English pass; Tatoeba's
    unsegmented sentences (no spaces) do not. :meth:`wrap` observes a tokenizer's output."""

    LINES = 1000
    MIN_CJK = 10
    CJK_PER_SPACE = 20

    def __init__(self) -> None:
        self.lines = self.cjk = self.chars = self.gaps = 0

    def add(self, tokens: list[str]) -> None:
        if self.lines >= self.LINES:
            return
        self.lines += 1
        self.gaps += max(len(tokens) - 1, 0)
        for t in tokens:
            self.chars += len(t)
            self.cjk += len(_CJK_CHAR.findall(t))

    @property
    def unsegmented(self) -> bool:
        return (self.cjk >= self.MIN_CJK and 2 * self.cjk > self.chars
                and self.CJK_PER_SPACE * self.gaps < self.cjk)

    def message(self, source: str) -> str:
        return (f"{source} looks like Chinese/Japanese without spaces between words (first "
                f"{self.lines:,} lines: {self.cjk / max(self.chars, 1):.0%} of the characters CJK, "
                f"{self.gaps:,} spaces for {self.cjk:,} CJK characters), so --tokenizer word makes "
                f"each line or clause one 'word'; use --tokenizer char (a token per character) or "
                f"--tokenizer zh (word segmentation)")

    def wrap(self, tok: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
        def observed(line: str) -> list[str]:
            toks = tok(line)
            self.add(toks)
            return toks
        return observed


TOKENIZERS: dict[str, Tokenizer] = {}
# names kept for tokenizers that register later, with what to do meanwhile
RESERVED: dict[str, str] = {}


def register(tok: Tokenizer, *, replace: bool = False) -> Tokenizer:
    """Add ``tok`` to the registry under ``tok.name`` (``replace=True`` to swap one)."""
    if not isinstance(tok, Tokenizer):
        raise TypeError(f"{tok!r} does not have the Tokenizer protocol (name, joiner, __call__)")
    if tok.name in TOKENIZERS and not replace:
        raise ValueError(f"tokenizer {tok.name!r} is already registered")
    TOKENIZERS[tok.name] = tok
    return tok


for _tok in (
        FunctionTokenizer("word", word_tokens, " ", EOS, "whitespace split (text already tokenised)"),
        FunctionTokenizer("spaces", spaces_tokens, " ", EOS, "split on space, tab, CR only (as lmplz)"),
        FunctionTokenizer("char", char_tokens, "", EOS,
                          "one token per CJK character; Latin words, numbers whole; punctuation alone"),
        FunctionTokenizer("codepoint", codepoint_tokens, "", "\n", "every character a token, spaces included"),
        FunctionTokenizer("text8", text8_tokens, " ", None, "text8 normalisation: lowercase a-z, rest a space"),
        FunctionTokenizer("zh", zh_cut, " ", EOS, "Chinese word segmentation (jieba; the zh extra)")):
    register(_tok)


def names() -> list[str]:
    """Registered tokenizer names (what ``--tokenizer`` accepts), reserved ones included."""
    return list(TOKENIZERS) + [n for n in RESERVED if n not in TOKENIZERS]


def get_tokenizer(name: str | Tokenizer, *, lowercase: bool = False, script: str = "keep") -> Tokenizer:
    """The tokenizer called ``name`` (a Tokenizer passes through). ``script`` (``simplified`` /
    ``traditional``) converts Chinese characters first (:func:`groundup.data.zh.convert_script`),
    ``lowercase`` lowercases then."""
    from ..errors import ConfigError

    if isinstance(name, str):
        tok = TOKENIZERS.get(name)
        if tok is None:
            if name in RESERVED:
                raise ConfigError(f"tokenizer {name!r}: {RESERVED[name]}")
            raise ConfigError(f"unknown tokenizer {name!r}; use one of {', '.join(names())}")
    else:
        tok = name
    if not lowercase and script == "keep":
        return tok
    split = tok
    if script == "keep":
        prepare = str.lower
    else:
        from .zh import convert_script

        prepare = ((lambda line: convert_script(line, script).lower()) if lowercase else
                   (lambda line: convert_script(line, script)))
    return FunctionTokenizer(tok.name, lambda line: split(prepare(line)), tok.joiner, tok.eos)
