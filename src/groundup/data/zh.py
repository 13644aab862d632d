r"""Chinese text: word segmentation (jieba) and Simplified/Traditional conversion (OpenCC).

The one module that imports Chinese-specific third-party libraries; they are the optional
extra ``groundup[zh]`` (``pip install 'groundup[zh]'``) and are imported only when first
used, so ``import groundup`` never needs them. Without them a call is one
:class:`~groundup.errors.ConfigError` naming the install command (the CLI prints it as one
line and exits 2).

:func:`cut` is the ``zh`` tokenizer of :mod:`groundup.data.tokenize`: jieba's default mode
(its dictionary's maximum-probability path over the word DAG, with the HMM for words not in the
dictionary), through ``rjieba``, the Rust port (jieba-rs, MIT), when it is installed, else
through ``jieba`` (Sun Junyi's pure-Python original, MIT), so a model's tokens do not depend on
which one is installed. The two differ in one rule: for a run of Latin letters, digits and
``-.%`` outside the dictionary, jieba-rs keeps ``N-gram``, ``3-2``, ``tatoeba.org`` whole where
jieba's HMM step (``finalseg``) cuts them at its ``[a-zA-Z0-9]+(?:\.\d+)?%?`` pattern
(``N - gram``); :func:`cut` applies jieba's cut to such a token of rjieba's. With that, the two
agree on every line of UD GSDSimp dev+test and of 20,000 CMRC 2017 lines, and on all but 3 of
Tatoeba's 78,512 (a Han pair outside the Basic Multilingual Plane, and one HMM decision:
``常在`` vs ``常 在``); tests/test_data_zh.py checks it. Whitespace separates, as for the
``word`` tokenizer: the line is split on whitespace first and each piece segmented, so no token
holds a space.

:func:`convert_script` converts between Simplified and Traditional characters with OpenCC's
``t2s`` / ``s2t`` configurations (character and phrase tables; Apache-2.0).

:func:`jieba_dictionary_path` is jieba's ``dict.txt`` (word, count, part of speech per line;
MIT, shipped in the ``jieba`` wheel) for code that builds its own lexicon from it.
"""
from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ..errors import ConfigError

INSTALL = "pip install 'groundup[zh]'"
SCRIPTS = ("simplified", "traditional")
_OPENCC_CONFIG = {"simplified": "t2s.json", "traditional": "s2t.json"}


# a token of Latin letters/digits and jieba's joining symbols (jieba's re_han_default without
# the Han range), one of only letters/digits, and jieba finalseg's re_skip
_ASCII_RUN = re.compile(r"[a-zA-Z0-9+#&._%\-]+\Z")
_ALNUM = re.compile(r"[a-zA-Z0-9]+\Z")
_FINALSEG_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")


def _missing(what: str) -> ConfigError:
    return ConfigError(f"{what} needs the zh extra: {INSTALL}")


@lru_cache(maxsize=None)
def _segmenter() -> tuple[str, Callable[[str], list[str]]]:
    """(library name, cut function): rjieba if importable, else jieba."""
    try:
        import rjieba
    except ImportError:
        pass
    else:
        def cut_like_jieba(text: str) -> list[str]:
            out = []
            for t in rjieba.cut(text):
                if _ASCII_RUN.match(t) and not _ALNUM.match(t) and not rjieba.has_word(t):
                    out += [x for x in _FINALSEG_SKIP.split(t) if x]   # N-gram -> N - gram
                else:
                    out.append(t)
            return out

        return "rjieba", cut_like_jieba
    try:
        import jieba
    except ImportError:
        raise _missing("Chinese word segmentation") from None
    import logging

    jieba.setLogLevel(logging.WARNING)  # jieba logs "Building prefix dict ..." at first use
    return "jieba", jieba.lcut


def backend() -> str:
    """``"rjieba"`` or ``"jieba"``: the library :func:`cut` uses (ConfigError if neither)."""
    return _segmenter()[0]


def cut(line: str) -> list[str]:
    """jieba's segmentation of ``line`` (default mode, HMM on), whitespace dropped:
    ``cut("我爱北京天安门 ok")`` -> ``["我", "爱", "北京", "天安门", "ok"]``. Deterministic."""
    seg = _segmenter()[1]
    return [t for piece in line.split() for t in seg(piece)]


def jieba_dictionary_path() -> Path | None:
    """The ``dict.txt`` of the installed ``jieba`` package (``word count tag`` per line), or
    None when jieba is not installed. Found without importing jieba."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return None
    p = Path(spec.origin).parent / "dict.txt"
    return p if p.is_file() else None


@lru_cache(maxsize=None)
def _converter(to: str) -> Callable[[str], str]:
    try:
        import opencc
    except ImportError:
        raise _missing("Simplified/Traditional conversion") from None
    return opencc.OpenCC(_OPENCC_CONFIG[to]).convert


def convert_script(text: str, to: str = "simplified") -> str:
    """``text`` with its Chinese characters converted to ``to`` (``"simplified"`` or
    ``"traditional"``; OpenCC t2s / s2t): ``convert_script("漢字") == "汉字"``. Other
    characters are kept."""
    if to not in SCRIPTS:
        raise ConfigError(f"script must be one of {', '.join(SCRIPTS)}, got {to!r}")
    return _converter(to)(text)
