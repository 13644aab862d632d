"""The one path text takes, and the options every text command shares.

    file or - --(textfile: UTF-8, streamed)--> lines --(tokenize: a registered Tokenizer)-->
    token lists (corpora.TextCorpus) --(vocab.Vocab.build: counts, min_count, max_size)--> ids

:class:`TextOptions` is that path's configuration: the tokenizer, lowercasing, Simplified/
Traditional normalisation, the two vocabulary options, and the encoding files are read in.
Every text command takes them as ``--tokenizer``, ``--lowercase``, ``--script``,
``--min-count``, ``--max-vocab``, ``--encoding`` (each technique's config dataclass derives from
it, so the options are generated like every other config field), and every model file records
all but the encoding (:meth:`TextOptions.record`; the encoding is how one file was stored, not
how the model reads text): an n-gram ARPA file in a ``#`` comment line before ``\\data\\``,
word2vec vectors in a trailer line after the vectors, a language-model checkpoint in its saved
config. Evaluating a model with options other than its own is an error, not a number
(:func:`check_same_text`).

What ``min_count`` and ``max_vocab`` do differs by technique only in what happens to the words
they leave out: the language models and the n-gram models map them to ``<unk>`` (which then
has statistics of its own, as PTB's rare words do); word2vec drops them from the training
stream, as word2vec.c does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..config import option
from ..errors import ConfigError
from . import tokenize

RECORD_KEYS = ("tokenizer", "lowercase", "script", "min_count", "max_vocab")
# options of reading a file, not of the model: not recorded, not checked against a model's
READ_KEYS = ("encoding",)
SCRIPTS = ("keep", "simplified", "traditional")


@dataclass(frozen=True)
class TextOptions:
    """How a line of text becomes tokens and which tokens get their own id."""

    tokenizer: str = option("word", "how a line becomes tokens: word = split on whitespace; spaces "
                                     "= on space, tab, CR only (as lmplz); char = "
                                     "one token per CJK character, Latin words and numbers whole, "
                                     "punctuation apart; zh = Chinese word segmentation (jieba; "
                                     "the zh extra); codepoint = every character; text8 = "
                                     "lowercase a-z, all else a space", choices=tokenize.names)
    lowercase: bool = option(False, "lowercase the text before tokenizing")
    script: str = option("keep", "convert Chinese characters before tokenizing: keep = as they "
                                 "are; simplified / traditional = to that script (OpenCC t2s / "
                                 "s2t; the zh extra)", choices=SCRIPTS)
    min_count: int = option(1, "words seen fewer times in the training text are left out of the "
                               "vocabulary")
    max_vocab: int = option(0, "keep at most this many vocabulary entries, the most frequent "
                               "(0 = no limit)")
    encoding: str = option("utf-8", "the encoding of the text files read (e.g. gb18030); not "
                                    "recorded in the model", metavar="NAME")

    def __post_init__(self) -> None:
        import codecs

        tokenize.get_tokenizer(self.tokenizer)  # ConfigError naming the choices
        if self.script not in SCRIPTS:
            raise ConfigError(f"script must be one of {', '.join(SCRIPTS)}, got {self.script!r}")
        try:
            codecs.lookup(self.encoding)
        except (LookupError, TypeError):
            raise ConfigError(f"unknown encoding {self.encoding!r} (e.g. utf-8, gb18030)") from None
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int) or self.min_count < 1:
            raise ConfigError(f"min_count must be an integer >= 1, got {self.min_count!r}")
        if isinstance(self.max_vocab, bool) or not isinstance(self.max_vocab, int) or self.max_vocab < 0:
            raise ConfigError(f"max_vocab must be an integer >= 0 (0 = no limit), got {self.max_vocab!r}")

    @property
    def max_size(self) -> int | None:
        """``max_vocab`` as :meth:`Vocab.build`'s ``max_size`` (None = no limit)."""
        return self.max_vocab or None

    def text_options(self) -> "TextOptions":
        """Only the text options of a config that derives from this class."""
        return TextOptions(**{k: getattr(self, k) for k in RECORD_KEYS + READ_KEYS})

    def get_tokenizer(self) -> tokenize.Tokenizer:
        return tokenize.get_tokenizer(self.tokenizer, lowercase=self.lowercase, script=self.script)

    def record(self) -> dict[str, Any]:
        """What a model file stores (a flat JSON object)."""
        return {k: getattr(self, k) for k in RECORD_KEYS}

    @classmethod
    def from_record(cls, d: Mapping[str, Any] | None) -> "TextOptions | None":
        """Rebuild from :meth:`record` (None for a model written before models recorded it)."""
        if d is None:
            return None
        from ..config import apply_overrides

        return apply_overrides(TextOptions(), {k: v for k, v in d.items() if k in RECORD_KEYS})

    def describe(self) -> str:
        """The options as the command line spells them."""
        return " ".join(f"--{k.replace('_', '-')} {str(v).lower() if isinstance(v, bool) else v}"
                        for k, v in self.record().items())


def check_same_text(model: TextOptions | None, given: Mapping[str, Any], what: str) -> TextOptions:
    """The options to read evaluation text with: the model's own. ``given`` holds the text
    options the user typed (field -> value); one that differs from the model's is an error, so
    a model is never scored on text tokenized another way. A model without a record (written
    before models recorded their options, or before one of them existed) takes what is given,
    else the defaults. The reading options (``encoding``) are the user's, whatever the model."""
    from ..config import apply_overrides

    reading = {k: v for k, v in given.items() if k in READ_KEYS}
    given = {k: v for k, v in given.items() if k in RECORD_KEYS}
    if model is None:
        return apply_overrides(TextOptions(), {**given, **reading})
    model = model.text_options()
    asked = apply_overrides(model, given)
    for k in given:
        if getattr(asked, k) != getattr(model, k):
            raise ConfigError(f"{what} was built with --{k.replace('_', '-')} {getattr(model, k)}, "
                              f"not {getattr(asked, k)}: evaluate it with its own text options "
                              f"({model.describe()}), or leave the option out")
    return apply_overrides(model, reading)


def read_corpus(path, opts: TextOptions, *, eos: str | None = None, max_len: int | None = None,
                training: bool = False):
    """A :class:`~groundup.data.corpora.TextCorpus` of a file, folder, registered corpus or ``-``,
    tokenized as ``opts`` say. ``training=True``: text a model is built from, so under
    ``--tokenizer word`` text that looks like unsegmented Chinese warns once (``check_spacing``)."""
    from .corpora import load_corpus

    return load_corpus(path, tokenizer=opts.tokenizer, lowercase=opts.lowercase, eos=eos or False,
                       max_len=max_len or False, script=opts.script, encoding=opts.encoding,
                       check_spacing=training)


def build_vocab(token_lists: Iterable[Iterable[str]], opts: TextOptions, **order):
    """:meth:`Vocab.build` with ``opts``' ``min_count`` and ``max_vocab``; ``order`` passes the
    ordering and specials (``tie_break``, ``specials``, ``unk``, ``specials_first``, ``prune_at``)."""
    from .vocab import Vocab

    return Vocab.build(token_lists, min_count=opts.min_count, max_size=opts.max_size, **order)

