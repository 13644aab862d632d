"""The n-gram language model: build, query, perplexity, ranking, sampling, save/load.

Notation: N order, V vocabulary size, T tokens of a padded stream (``<s> w.. </s>`` per
sentence), S sentences.

Scoring follows KenLM's ``query`` exactly (lm/ngram_query.hh):

* each sentence is scored with ``<s>`` as its first context word; ``<s>`` itself is never
  scored; ``</s>`` is scored and counted as a token;
* a word outside the vocabulary is scored as ``<unk>`` and counted as an OOV; a literal
  ``<unk>`` in the text is the same word (so it counts as an OOV too, as in ``query``);
* ``perplexity`` = 10^(-sum log10 p / tokens) over every token, OOVs included;
  ``perplexity_excl_oov`` drops the OOV tokens from both the sum and the count.

Lookup is vectorised over the whole stream: the id of the k-gram ending at t is the position
of ``id_{k-1}(t-1) * V + w_t`` among the order-k keys, found by binary search, one order at a
time (:meth:`NgramModel.token_log10_reference`) or by hashing in one compiled pass
(:mod:`.packed`, which is also the binary file's layout, :mod:`.binary`); the score of w_t is the log-prob of the longest listed n-gram ending at t plus
the log10 backoffs of the contexts it skipped (the ARPA backoff rule, see :mod:`.tables`).
"""
from __future__ import annotations

import functools
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np

from ...config import option
from ...data.pipeline import TextOptions
from ...data.tokenize import names as tokenize_names
from ...errors import ConfigError, ModelFormatError
from .corpus import BOS, BOS_ID, EOS, EOS_ID, UNK, UNK_ID, EncodedCorpus, encode, encode_fixed
from .counts import NgramCounts, count_encoded
from .tables import BackoffTables

SMOOTHING = ("mkn", "kn", "katz", "addk", "mle")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class NgramConfig(TextOptions):
    """What ``groundup ngram build`` builds; every field is an option. The vocabulary options
    decide the unknown words: a word seen fewer than ``min_count`` times in the training text,
    or outside its ``max_vocab`` most frequent entries, is replaced by ``<unk>`` before
    counting, so ``<unk>`` gets n-gram statistics of its own (as PTB's rare words have). The
    defaults keep every word, as lmplz does."""

    tokenizer: str = option("spaces", "how a line becomes tokens: spaces = split on space, tab, CR "
                                       "only, as KenLM's lmplz (the same model as lmplz); word = "
                                       "split on every Unicode whitespace (no-break space, U+3000, "
                                       "...); char, zh, codepoint, text8 as for every text command",
                            choices=tokenize_names)
    order: int = option(3, "model order N (>= 1)")
    smoothing: Literal["mkn", "kn", "katz", "addk", "mle"] = option(
        "mkn", "mkn = interpolated modified Kneser-Ney (as lmplz), kn = Kneser-Ney, katz = Katz "
               "backoff, addk = add-k, mle = maximum likelihood")
    k: float = option(1.0, "the k of add-k (1 = Laplace)")
    min_count: int = option(1, "words seen fewer times become <unk> before counting (1 = keep all)")
    max_vocab: int = option(0, "keep the most frequent words, <unk> included; the rest become <unk> "
                               "(0 = no limit)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.order, bool) or not isinstance(self.order, int) or self.order < 1:
            raise ConfigError(f"order must be an integer >= 1, got {self.order!r}")
        if self.smoothing == "addk" and not self.k > 0:
            raise ConfigError(f"k must be > 0, got {self.k}")


class InnerWhitespaceWarning(UserWarning):
    """Words of an lmplz-split model hold other Unicode whitespace (kept inside, as lmplz does)."""


def warn_inner_whitespace(vocab: Sequence[str], text: TextOptions | None) -> None:
    """With the ``spaces`` tokenizer (lmplz's split), say so when words hold whitespace that
    only the Unicode split separates: U+3000 in Chinese text, no-break spaces, form feeds."""
    if text is None or text.tokenizer != "spaces":
        return
    odd = [w for w in vocab if not w.isprintable() and any(c.isspace() for c in w)]
    if odd:
        chars = sorted({c for w in odd for c in w if c.isspace()})
        names = ", ".join(f"U+{ord(c):04X}" for c in chars)
        warnings.warn(f"{len(odd):,} word types hold whitespace that lmplz's split (--tokenizer "
                      f"spaces: space, tab, CR) keeps inside words ({names}"
                      + ("; U+3000 is the ideographic space of Chinese text" if "\u3000" in chars else "")
                      + "); --tokenizer word splits on every Unicode whitespace",
                      InnerWhitespaceWarning, stacklevel=3)


def restrict_vocabulary(sentences: list[list[str]], text: TextOptions) -> list[list[str]]:
    """Replace the words ``text``'s ``min_count``/``max_vocab`` leave out by ``<unk>``."""
    if text.min_count == 1 and not text.max_vocab:
        return sentences
    from ...data.pipeline import build_vocab

    # literal <s> </s> are dropped (the lines make the boundaries), never counted or mapped
    sentences = [[t for t in s if t != BOS and t != EOS] for s in sentences]
    vocab = build_vocab(sentences, text, specials=(UNK,))
    return [vocab.map_unknown(s) for s in sentences]


@dataclass
class Evaluation:
    """What KenLM's ``query`` reports, plus per-sentence log10 probabilities."""

    perplexity: float
    perplexity_excl_oov: float
    tokens: int  # scored tokens: words + one </s> per sentence
    oov: int
    sentences: int
    log10_prob: float
    sentence_log10: np.ndarray  # (S,)

    def as_dict(self) -> dict:
        return {"perplexity": self.perplexity, "perplexity_excl_oov": self.perplexity_excl_oov,
                "tokens": self.tokens, "oov": self.oov, "sentences": self.sentences,
                "log10_prob": self.log10_prob}


def estimate(counts: NgramCounts, smoothing: str = "mkn", *, k: float = 1.0,
             prune=()) -> BackoffTables:
    """Backoff tables from counts with the named smoothing method (``prune``: lmplz's count
    pruning thresholds, Kneser-Ney only)."""
    if prune and any(prune) and smoothing not in ("mkn", "kn"):
        raise ConfigError(f"--prune applies to mkn and kn, not {smoothing}")
    if smoothing == "mkn" or smoothing == "kn":
        from . import kneser_ney
        return kneser_ney.estimate(counts, modified=smoothing == "mkn", prune=prune)
    if smoothing == "katz":
        from . import katz
        return katz.estimate(counts)
    if smoothing == "addk":
        from . import simple
        return simple.estimate_addk(counts, k)
    if smoothing == "mle":
        from . import simple
        return simple.estimate_mle(counts)
    raise ConfigError(f"smoothing must be one of {', '.join(SMOOTHING)}, got {smoothing!r}")


class NgramModel:
    """A backoff n-gram model (any smoothing) with KenLM-compatible scoring.

    Build from Python with :meth:`build` (token lists) or :meth:`build_from_text` (lines,
    tokenized by the one pipeline); ``text`` records the text options it was built with; save with :meth:`save` (ARPA if the name ends in ``.arpa``, else a numpy ``.npz`` that is
    loaded without pickle) and load with :meth:`load`.
    """

    def __init__(self, tables: BackoffTables, *, packed=None):
        """``packed``: the hash tables of a binary file (:mod:`.binary`), whose loader has
        checked them; otherwise ``tables`` are validated here."""
        if packed is None:
            tables.validate()
        self.tables = tables
        self.vocab = tables.vocab
        self.order = tables.order
        self.V = tables.V
        self.info = tables.info
        self._packed = packed  # hash tables for fast scoring (built on the second scoring call)
        self._calls = 0
        self._score_calls = 0
        self._tokenizer = None
        self._kargs = None
        self._nat = None  # the C scorer (:mod:`.native`); False: not available for this model
        self._nat_str = False  # it splits a str itself (the model's tokenizer is native)

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """word -> id (built on first use: a binary model's scoring never needs it)."""
        return {w: i for i, w in enumerate(self.vocab)}

    @property
    def packed(self):
        """The hash tables of :mod:`.packed` (built once from the tables if not loaded)."""
        if self._packed is None:
            from .packed import pack
            self._packed = pack(self.tables)
            self._kargs = None
        return self._packed

    # ----------------------------------------------------------------------------- building
    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], order: int, smoothing: str = "mkn", *,
              k: float = 1.0, text: TextOptions | None = None, prune=()) -> "NgramModel":
        """Count and smooth. ``sentences`` are token lists, one per sentence; ``text`` (the
        options that tokenized them) is recorded in the model, and its ``min_count`` /
        ``max_vocab`` turn the words they leave out into ``<unk>`` (:class:`NgramConfig`)."""
        if not isinstance(order, int) or order < 1:
            raise ConfigError(f"order must be an integer >= 1, got {order!r}")
        if smoothing not in SMOOTHING:
            raise ConfigError(f"smoothing must be one of {', '.join(SMOOTHING)}, got {smoothing!r}")
        if smoothing == "addk" and not (isinstance(k, (int, float)) and 0 < k < math.inf):
            raise ConfigError(f"add-k needs a finite k > 0, got {k}")
        if text is not None:
            text = text.text_options()
            sentences = restrict_vocabulary([list(s) for s in sentences], text)
        corpus = encode(sentences)
        if corpus.n_sentences == 0:
            raise ConfigError("cannot build a model from an empty corpus")
        counts = count_encoded(corpus, order)
        if smoothing == "addk" and not math.isfinite(k * counts.V + corpus.n_sentences):
            # the add-k denominator c(h) + k |V| would be inf: every probability 0 (log -inf)
            raise ConfigError(f"add-k with k={k:g}: k x V ({counts.V:,} words) overflows; "
                              f"use a smaller k")
        tables = estimate(counts, smoothing, k=k, prune=prune)
        try:
            model = cls(tables)
        except ValueError as e:  # e.g. k * V overflowing to inf: probabilities inf / inf = NaN
            raise ConfigError(f"smoothing {smoothing!r}"
                              + (f" with k={k}" if smoothing == "addk" else "")
                              + f" gives no valid model ({e})") from None
        if text is not None:
            model.info["text"] = text.record()
            warn_inner_whitespace(model.vocab, text)
        return model

    @classmethod
    def build_from_text(cls, lines: Iterable[str], order: int, smoothing: str = "mkn", *,
                        text: TextOptions | None = None, k: float = 1.0) -> "NgramModel":
        """Build from raw lines, tokenized as ``text`` says; by default as ``groundup ngram
        build`` does: the ``spaces`` tokenizer, lmplz's split (space, tab, CR), so the model is
        lmplz's on the same lines. ``TextOptions(tokenizer="word")`` splits on every Unicode
        whitespace instead."""
        text = TextOptions(tokenizer=NgramConfig.tokenizer) if text is None else text
        tok = text.get_tokenizer()
        return cls.build((tok(line) for line in lines), order, smoothing, k=k, text=text)

    @property
    def text(self) -> TextOptions | None:
        """The text options the model was built with (None: not recorded, e.g. lmplz's ARPA)."""
        rec = self.info.get("text")
        if rec is None and self.info.get("tokens") in ("words", "chars"):  # before the record
            rec = {"tokenizer": "char" if self.info["tokens"] == "chars" else "word"}
        return TextOptions.from_record(rec)

    def _tokens(self, sentence: Sequence[str] | str) -> list[str]:
        """A string is tokenized with the model's own tokenizer (whitespace when unrecorded)."""
        if not isinstance(sentence, str):
            return list(sentence)
        if self._tokenizer is None:
            self._tokenizer = (self.text or TextOptions()).get_tokenizer()
        return self._tokenizer(sentence)

    # ------------------------------------------------------------------------------ lookup
    def encode(self, sentences: Iterable[Sequence[str]]) -> EncodedCorpus:
        """Token lists -> padded ids with this model's vocabulary (unknown words -> <unk>)."""
        return encode_fixed(sentences, self.vocab, self.index)

    def token_log10(self, corpus: EncodedCorpus, *, fast: bool | None = None) -> np.ndarray:
        """(T,) log10 p(w_t | context) at every position; 0 at the ``<s>`` positions.

        Compiled hash-table pass (:mod:`.lookup`); :meth:`token_log10_reference` is its twin.
        By default the first call uses the twin (building the hash tables costs more than one
        binary-search pass) and later calls build and use the tables."""
        if fast is None:
            fast = self._packed is not None or (self._calls > 0 and len(corpus.tokens) >= 64)
        self._calls += 1
        if not fast:
            return self.token_log10_reference(corpus)
        from .packed import kernels

        p = self.packed
        out = np.empty(len(corpus.tokens), dtype=np.float64)
        meta, _, _, _, lp, bo, table, tf = self._kernel_args()
        return kernels().score_ids(corpus.tokens.astype(np.int64), corpus.pos.astype(np.int64),
                                   meta, lp, bo, table, tf, out)

    def _kernel_args(self) -> tuple:
        """(meta, chars, offsets, word table, logprob, backoff, table, the table's float64
        view) of the packed model."""
        if self._kargs is None:
            p = self.packed
            self._kargs = (p.meta(), p.chars, p.vocab_offsets, p.vocab_table, p.logprob,
                           p.backoff, p.table, p.table.view(np.float64))
        return self._kargs

    def _native(self):
        """The C scorer over the packed tables (building them if need be), or None when the
        extension is absent or switched off (:mod:`.native`)."""
        if self._nat is None:
            from . import native

            self._nat = native.scorer(self.packed, self.text) or False
            self._nat_str = bool(self._nat) and native.split_mode(self.text) != 0
        return self._nat or None

    def score_tokens(self, sentence: Sequence[str] | str, *, eos: bool = True
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per scored token of one sentence (literal ``<s>``/``</s>`` dropped, then ``</s>`` if
        ``eos``): (m,) log10 p, (m,) order of the n-gram matched (KenLM query's ``ngram_length``),
        (m,) word ids (0 = OOV). One compiled pass (:mod:`.native`, else :mod:`.packed`)."""
        toks = self._tokens(sentence)
        n = len(toks) + 1
        out = (np.empty(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64))
        nat = self._native()
        try:
            m = nat.score_words(toks, eos, *out) if nat else self._score_bytes(toks, eos, out)[0]
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 bytes, the reference route
            m = -1
        if m < 0:  # a token the compiled pass cannot carry: the reference route
            ids = self.encode([toks])
            s = self.token_log10_reference(ids)[1:]
            w = ids.tokens[1:].astype(np.int64)
            if not eos:
                s, w = s[:-1], w[:-1]
            return s, self._matched_order(ids)[1:len(s) + 1], w
        return out[0][:m], out[1][:m], out[2][:m]

    def _score_bytes(self, toks: list[str], eos: bool, out) -> tuple[int, float]:
        """The compiled per-sentence pass over the tokens joined by '\n' (m = -1: not
        possible, because a token holds '\n' or is empty)."""
        from .packed import kernels

        b = "\n".join(toks).encode("utf-8")
        if b.count(b"\n") != len(toks) - 1 or b"\n\n" in b or (toks and not toks[0]) \
                or (toks and not toks[-1]):
            return -1, 0.0
        return kernels().score_bytes(np.frombuffer(b, dtype=np.uint8), eos, *self._kernel_args(),
                                     *out)

    def _matched_order(self, corpus: EncodedCorpus) -> np.ndarray:
        """(T,) order of the longest listed n-gram ending at each token (reference route)."""
        T = len(corpus.tokens)
        out = np.ones(T, dtype=np.int64)
        tok = corpus.tokens.tolist()
        pos = corpus.pos.tolist()
        for t in range(T):
            k = 1
            while k < self.order and pos[t] - k >= 0 and \
                    self._find(tok[t - k:t + 1]) >= 0:
                k += 1
            out[t] = k
        return out

    def token_log10_reference(self, corpus: EncodedCorpus) -> np.ndarray:
        """Vectorised numpy twin: binary search of each order over the whole stream."""
        tok = corpus.tokens.astype(np.int64)
        pos = corpus.pos
        T, N, V = len(tok), self.order, self.V
        keys, lp, bo = self.tables.keys, self.tables.logprob, self.tables.backoff
        ids = tok.copy()  # order-1 ids are word ids (every word is a listed unigram)
        score = lp[0][tok].copy()  # (T,) best listed log-prob so far
        longest = np.ones(T, dtype=np.int64)  # order of the longest listed n-gram ending at t
        ctx_bo = []  # ctx_bo[j-1]: (T,) log10 b of the j-gram ending at t-1 (0 if unlisted)
        prev = np.full(T, -1, dtype=np.int64)
        prev[1:] = ids[:-1]
        prev[pos == 0] = -1
        for k in range(2, N + 1):
            # backoff of the (k-1)-gram context ending at t-1
            b = np.zeros(T)
            has = prev >= 0
            b[has] = bo[k - 2][prev[has]]
            ctx_bo.append(b)
            # k-gram ending at t = (k-1)-gram ending at t-1 (listed) + w_t, looked up only
            # where the (k-1)-gram ending at t was found: like KenLM, the search stops at the
            # first miss (in a model whose n-grams are suffix-closed nothing longer is listed)
            at = np.flatnonzero(has & (pos >= k - 1) & (longest == k - 1))
            key = prev[at] * V + tok[at]
            j = np.searchsorted(keys[k - 1], key)
            j_ok = np.minimum(j, len(keys[k - 1]) - 1)
            found = keys[k - 1][j_ok] == key
            new = np.full(T, -1, dtype=np.int64)
            ext = at[found]
            new[ext] = j[found]
            longest[ext] = k
            score[ext] = lp[k - 1][new[ext]]
            ids = new
            prev = np.full(T, -1, dtype=np.int64)
            prev[1:] = ids[:-1]
            prev[pos == 0] = -1
        # charge the backoffs of the contexts longer than the match: orders longest..N-1
        for j in range(1, N):
            charge = longest <= j
            score[charge] += ctx_bo[j - 1][charge]
        score[pos == 0] = 0.0
        return score

    # ----------------------------------------------------------------------------- scoring
    def evaluate(self, sentences: Iterable[Sequence[str]]) -> Evaluation:
        """Perplexity with KenLM ``query``'s conventions (module docstring)."""
        corpus = self.encode(sentences)
        return self.evaluate_encoded(corpus)

    def evaluate_encoded(self, corpus: EncodedCorpus, *, fast: bool | None = None) -> Evaluation:
        """:meth:`evaluate` on an already encoded corpus (``fast``: see :meth:`token_log10`)."""
        s = self.token_log10(corpus, fast=fast)
        scored = corpus.pos >= 1
        oov_mask = scored & (corpus.tokens == UNK_ID)
        tokens = int(scored.sum())
        oov = int(oov_mask.sum())
        total = float(s[scored].sum())
        total_in = total - float(s[oov_mask].sum())
        sent_id = np.cumsum(corpus.pos == 0) - 1
        per_sent = np.bincount(sent_id, weights=s, minlength=corpus.n_sentences)
        return Evaluation(
            perplexity=_ppl(total, tokens), perplexity_excl_oov=_ppl(total_in, tokens - oov),
            tokens=tokens, oov=oov, sentences=corpus.n_sentences, log10_prob=total,
            sentence_log10=per_sent)

    def perplexity(self, sentences: Iterable[Sequence[str]]) -> float:
        return self.evaluate(sentences).perplexity

    def score(self, sentence: Sequence[str] | str, *, eos: bool = True) -> float:
        """log10 p(sentence) with ``<s>`` context (like ``kenlm.Model.score(s, bos=True)``):
        one compiled pass over the sentence (:meth:`score_tokens` keeps the details): the C
        scorer, which splits a str itself for the ``word`` and ``spaces`` tokenizers
        (:mod:`.native`), else the numba pass over the tokens' bytes."""
        nat = self._nat
        if nat and (self._nat_str or not isinstance(sentence, str)):
            try:
                return nat.score(sentence, eos)
            except UnicodeEncodeError:  # a lone surrogate: the reference route below
                pass
        toks = self._tokens(sentence)
        self._score_calls += 1
        # the hash tables cost a pass over the model: built once a few sentences ask for them
        ready = self._packed is not None or self._score_calls > 8
        try:
            if ready and self._native():
                return self._nat.score(toks, eos)
            m, total = self._score_bytes(toks, eos, _NO_OUT) if ready else (-1, 0.0)
        except UnicodeEncodeError:
            m = -1
        if m < 0:
            corpus = self.encode([toks])
            s = self.token_log10_reference(corpus)
            return float(s.sum() if eos else s[:-1].sum())
        return total

    def score_sentences(self, sentences: Iterable[Sequence[str] | str]) -> np.ndarray:
        """(S,) log10 p of each sentence (token lists, or strs tokenized as :meth:`score`
        does), ``</s>`` included: one call of the C scorer over the list (:mod:`.native`),
        else one vectorised pass over the encoded batch."""
        sents = sentences if isinstance(sentences, (list, tuple)) else list(sentences)
        nat = self._native() if self._packed is not None or self._calls > 0 else None
        if nat and not self._nat_str:
            sents = [self._tokens(s) if isinstance(s, str) else s for s in sents]
        if nat:
            out = np.empty(len(sents))
            try:
                nat.score_many(sents, True, out)
                return out
            except UnicodeEncodeError:  # a lone surrogate: the vectorised pass below
                pass
        return self.evaluate([self._tokens(s) if isinstance(s, str) else s
                              for s in sents]).sentence_log10

    def rank(self, candidates: Sequence[Sequence[str] | str], *, per_token: bool = False
             ) -> list[tuple[float, str]]:
        """Candidates sorted from most to least plausible: [(log10 p, text)].

        The article's use case: of several orderings of the same words, the language model
        prefers the grammatical one. ``per_token`` divides by the token count (for candidates
        of different lengths)."""
        toks = [self._tokens(c) for c in candidates]
        scores = self.score_sentences(toks)
        if per_token:
            scores = scores / np.array([len(t) + 1 for t in toks])
        joiner = (self.text or TextOptions()).get_tokenizer().joiner
        out = [(float(s), joiner.join(t)) for s, t in zip(scores, toks)]
        return sorted(out, key=lambda x: -x[0])

    # ---------------------------------------------------------------------------- sampling
    def next_log10(self, context: Sequence[str]) -> np.ndarray:
        """(V,) log10 p(w | context) for every word (``<s>`` gets -inf), from the backoff rule
        applied bottom-up: q_1 = unigram, q_{j+1}(w) = listed(h_j w) or b(h_j) q_j(w)."""
        ids = [self.index.get(w, UNK_ID) for w in context][-(self.order - 1):] if self.order > 1 else []
        keys, lp, bo = self.tables.keys, self.tables.logprob, self.tables.backoff
        q = lp[0].copy()
        q[BOS_ID] = -np.inf
        for j in range(1, len(ids) + 1):
            h = self._find(ids[-j:])
            if h < 0:
                break
            q += bo[j - 1][h]
            lo = np.searchsorted(keys[j], h * self.V)
            hi = np.searchsorted(keys[j], (h + 1) * self.V)
            q[keys[j][lo:hi] % self.V] = lp[j][lo:hi]
        return q

    def _find(self, gram: Sequence[int]) -> int:
        gid = gram[0]
        for k in range(2, len(gram) + 1):
            key = gid * self.V + gram[k - 1]
            keys = self.tables.keys[k - 1]
            j = int(np.searchsorted(keys, key))
            if j >= len(keys) or keys[j] != key:
                return -1
            gid = j
        return int(gid)

    def generate(self, n: int = 1, *, max_words: int = 50, seed: int = 0,
                 prefix: Sequence[str] = (), allow_unk: bool = False) -> list[list[str]]:
        """Sample ``n`` sentences word by word from p(w | last N-1 words), starting after
        ``<s>`` (and ``prefix``), stopping at ``</s>`` or after ``max_words``."""
        if n < 0 or max_words < 1:
            raise ConfigError(f"need n >= 0 and max_words >= 1, got n={n}, max_words={max_words}")
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            words = list(prefix)
            while len(words) < max_words:
                q = self.next_log10(["<s>"] + words)
                if not allow_unk:
                    q[UNK_ID] = -np.inf
                if not np.isfinite(q.max()):  # nothing possible here (e.g. MLE): end the sentence
                    break
                p = 10.0 ** (q - q.max())
                w = int(rng.choice(self.V, p=p / p.sum()))
                if w == EOS_ID:
                    break
                words.append(self.vocab[w])
            out.append(words)
        return out

    # ------------------------------------------------------------------------- persistence
    def save(self, path: str | Path, *, format: str | None = None) -> None:
        """Atomic write: ``.arpa`` -> ARPA text, ``.bin`` -> the memory-mapped binary file
        (:mod:`.binary`), anything else -> numpy ``.npz`` (no pickle); ``format`` ("arpa",
        "bin", "npz") overrides the name."""
        path = Path(path)
        format = format or model_format(path)
        if format == "arpa":
            from .arpa import write_arpa
            write_arpa(self.tables, path)
            return
        if format == "bin":
            from .binary import write_binary
            write_binary(self.packed, path)
            return
        import json

        from ...io import atomic_write
        from ...utils import to_jsonable

        t = self.tables
        arrays = {"vocab": np.frombuffer("\n".join(t.vocab).encode("utf-8"), dtype=np.uint8),
                  "format_version": np.array(FORMAT_VERSION),
                  "info": np.frombuffer(json.dumps(to_jsonable(t.info)).encode(), dtype=np.uint8)}
        for k in range(1, t.order + 1):
            arrays[f"keys{k}"] = t.keys[k - 1]
            arrays[f"logprob{k}"] = t.logprob[k - 1]
            arrays[f"backoff{k}"] = t.backoff[k - 1]
        with atomic_write(path, "wb") as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | Path, *, verify: bool = False) -> "NgramModel":
        """Load an ARPA file, a ``.npz`` or a binary file written by :meth:`save` (told apart
        by their first bytes); ModelFormatError naming the file and the field for anything
        malformed (regular files only: never blocks). A binary file is memory-mapped, its
        header and sections checked; ``verify=True`` adds the O(size) check of every value
        (:mod:`.binary`)."""
        from ...io_read import open_regular

        path = Path(path)
        with open_regular(path, "file") as f:
            magic = f.read(16)
        from .binary import is_binary

        if is_binary(magic) or path.suffix == ".bin":
            from .binary import read_binary

            packed, vocab = read_binary(path, verify=verify)
            return cls(packed.tables(vocab), packed=packed)
        if magic[:4] != b"PK\x03\x04":
            from .arpa import read_arpa
            return cls(read_arpa(path))
        import json
        import zipfile

        try:
            with open_regular(path, "file") as f, np.load(f, allow_pickle=False) as z:
                _check_npz_sizes(z.zip, path, f)
                version = int(z["format_version"])
                if version != FORMAT_VERSION:
                    raise ModelFormatError(f"{path}: model format {version}, expected {FORMAT_VERSION}")
                vocab = bytes(z["vocab"]).decode("utf-8").split("\n")
                info = json.loads(bytes(z["info"]).decode())
                order = sum(1 for name in z.files if name.startswith("keys"))
                keys = [z[f"keys{k}"] for k in range(1, order + 1)]
                lp = [z[f"logprob{k}"] for k in range(1, order + 1)]
                bo = [z[f"backoff{k}"] for k in range(1, order + 1)]
        except (KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile, OSError) as e:
            raise ModelFormatError(f"{path}: not a valid groundup n-gram model ({e})") from None
        if not isinstance(info, dict):
            raise ModelFormatError(f"{path}: 'info' must be a JSON object")
        try:
            return cls(BackoffTables(vocab, keys, lp, bo, info))
        except ValueError as e:
            raise ModelFormatError(f"{path}: {e}") from None


def _check_npz_sizes(zf, path: Path, f) -> None:
    """Every member's array header against the bytes the archive holds, before allocating."""
    from ...io_read import check_fits_file

    size = os.fstat(f.fileno()).st_size
    total = 0
    for info in zf.infolist():
        total += info.file_size
        # deflate expands at most ~1032:1; a member claiming more is lying
        check_fits_file(path, info.file_size, 1100 * max(info.compress_size, 1) + 1024,
                        f"member {info.filename!r} (declared size)")
        with zf.open(info) as m:
            try:
                version = np.lib.format.read_magic(m)
                shape, _, dtype = (np.lib.format.read_array_header_1_0(m) if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0(m))
            except ValueError as e:
                raise ModelFormatError(f"{path}: member {info.filename!r}: {e}") from None
        need = int(np.prod(shape, dtype=object)) * dtype.itemsize
        check_fits_file(path, need, info.file_size, f"array {info.filename!r} of shape {shape}")
    check_fits_file(path, total, 1100 * size + 1024 * len(zf.infolist()), "the archive's members")


def model_format(path: str | Path) -> str:
    """The format a model file name asks for: arpa, bin or npz."""
    suffix = Path(path).suffix
    return {".arpa": "arpa", ".bin": "bin"}.get(suffix, "npz")


_NO_OUT = (np.empty(0), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))


def _ppl(total_log10: float, n: int) -> float:
    if n <= 0:
        return float("nan")
    return float(10.0 ** (-total_log10 / n)) if math.isfinite(total_log10) else float("inf")


__all__ = ["NgramModel", "NgramConfig", "Evaluation", "SMOOTHING", "estimate", "model_format"]
