"""Tokenizers: line in, list of tokens out. Streaming and regex/bytes based, so 14M words take
seconds, not minutes.

Conventions (the same as PTB, WikiText and the word-level language-model literature):

* ``<unk>`` — the unknown word. PTB and WikiText already contain it literally; it is kept as an
  ordinary token here and :class:`groundup.data.vocab.Vocab` treats it as the unknown id.
* ``<eos>`` — end of line, appended once per line (blank lines included) for language-model
  streams: Zaremba et al. and pytorch/examples count 929,589 PTB and 2,088,628 WikiText-2 train
  tokens this way. N-gram models instead wrap each sentence in ``<s> ... </s>`` as KenLM does
  (:data:`BOS`, :data:`EOS_SENT`); that is the n-gram code's job, not the tokenizer's.
* WikiText's split separators `` @-@ ``, `` @,@ ``, `` @.@ `` stay tokens of their own.

Tokenizers (:data:`TOKENIZERS`):

``word``  whitespace split (``str.split``), what PTB and WikiText are made for.
``char``  every character a token (spaces included); the end-of-line token is ``"\\n"``.
``cjk``   whitespace split, then every Han ideograph, kana or CJK punctuation mark becomes a
          token of its own while runs of anything else (Latin letters, digits, ``<unk>``) stay
          whole: ``"我爱NLP。"`` -> ``我 爱 NLP 。``. On text without CJK it equals ``word``.
``text8`` Mahoney's text8 normalisation: ASCII letters lowercased, every other byte (digits,
          punctuation, any non-ASCII character) a space, then whitespace split. (His
          ``wikifil.pl`` also spells digits out; we do not, so the same text gives fewer words.)
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Iterator

UNK = "<unk>"
EOS = "<eos>"
BOS = "<s>"          # KenLM / ARPA sentence start
EOS_SENT = "</s>"    # KenLM / ARPA sentence end

# Han ideographs (CJK Unified + Extensions A-H, Compatibility), Hiragana, Katakana, Bopomofo,
# CJK symbols and punctuation (without U+3000, the ideographic space: that one separates), and
# the full-width punctuation of the Halfwidth/Fullwidth Forms block.
_CJK_CLASS = (
    "\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    "\U00020000-\U0003fffd"
)
_CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")
_CJK_TOKEN = re.compile(f"[{_CJK_CLASS}]|[^{_CJK_CLASS}\\s]+")

# text8: a 256-entry byte table (A-Z -> a-z, a-z kept, everything else -> space).
_TEXT8_TABLE = bytes((c + 32) if 65 <= c <= 90 else c if 97 <= c <= 122 else 32 for c in range(256))


def is_cjk(ch: str) -> bool:
    """True for a Han ideograph, kana, bopomofo or CJK punctuation character."""
    return _CJK_CHAR.match(ch) is not None


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def word_tokens(line: str, eos: str | None = None) -> list[str]:
    """Whitespace tokens; ``eos`` (e.g. ``"<eos>"``) appended when given."""
    toks = line.split()
    if eos is not None:
        toks.append(eos)
    return toks


def char_tokens(line: str, eos: str | None = None) -> list[str]:
    """One token per Unicode code point, spaces included; ``eos`` (e.g. ``"\\n"``) appended."""
    toks = list(line)
    if eos is not None:
        toks.append(eos)
    return toks


def cjk_tokens(line: str, eos: str | None = None) -> list[str]:
    """Whitespace split with every CJK character split off as its own token.

    ``"深度学习 is fun，对吧？"`` -> ``深 度 学 习 is fun ， 对 吧 ？``.
    """
    toks = _CJK_TOKEN.findall(line) if _CJK_CHAR.search(line) else line.split()
    if eos is not None:
        toks.append(eos)
    return toks


def text8_normalize(text: str) -> str:
    """Lowercase ASCII letters and turn every other character into a space (length may change:
    a non-ASCII character becomes one space per UTF-8 byte)."""
    return text.encode("utf-8").translate(_TEXT8_TABLE).decode("ascii")


def text8_tokens(line: str, eos: str | None = None) -> list[str]:
    toks = line.encode("utf-8").translate(_TEXT8_TABLE).split()
    out = [t.decode("ascii") for t in toks]
    if eos is not None:
        out.append(eos)
    return out


TOKENIZERS: dict[str, Callable[..., list[str]]] = {
    "word": word_tokens,
    "char": char_tokens,
    "cjk": cjk_tokens,
    "text8": text8_tokens,
}

# The end-of-line token each tokenizer appends by default in language-model streams.
DEFAULT_EOS: dict[str, str | None] = {"word": EOS, "cjk": EOS, "char": "\n", "text8": None, "lines": None}


def get_tokenizer(name: str, eos: str | None = None) -> Callable[[str], list[str]]:
    """The tokenizer called ``name`` as a one-argument function, with ``eos`` bound."""
    try:
        fn = TOKENIZERS[name]
    except KeyError:
        from ..errors import ConfigError

        raise ConfigError(f"unknown tokenizer {name!r}; use one of {', '.join(TOKENIZERS)}") from None
    if eos is None:
        return fn
    return lambda line: fn(line, eos)


def tokenize(text: str, tokenizer: str = "word", eos: str | None = None) -> list[str]:
    """Tokenize a whole text line by line into one flat list (``eos`` after every line)."""
    tok = get_tokenizer(tokenizer, eos)
    out: list[str] = []
    for line in text.splitlines():
        out.extend(tok(line))
    return out


def tokenize_lines(lines: Iterable[str], tokenizer: str = "word", eos: str | None = None) -> Iterator[list[str]]:
    """Stream token lists, one per input line."""
    tok = get_tokenizer(tokenizer, eos)
    for line in lines:
        yield tok(line)
