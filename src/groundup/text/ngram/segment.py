"""Maximum-probability word segmentation: the n-gram article's idea applied to Chinese.

Notation: c_1..c_n the atoms of a line (below), W a segmentation of them into words
w_1..w_m, w_0 = ``<s>``, w_{m+1} = ``</s>``, L the lexicon (|L| words), V the bigram model's
vocabulary, b the per-word bonus (``word_bonus``, log10).

Chinese is written without spaces, so "which words?" is itself a question a language model
answers: of all the ways to cut the line into lexicon words, take the one the model finds most
probable (the article's plausibility ranking, over segmentations instead of word orders):

    unigram:  W* = argmax_W  sum_i log10 P(w_i)                + b m        (1)
    bigram:   W* = argmax_W  sum_i log10 P(w_i | w_{i-1})      + b m        (2)
                                (i = 1..m+1 in (2): P(</s> | w_m) ends the line)

Both are shortest paths in the *word lattice*: nodes are the positions 0..n between atoms, an
edge (i, j) is a word c_{i+1}..c_j of the lexicon; every single atom is an edge too (the
fallback for text outside the lexicon, scored as a word seen once, as jieba does). Viterbi
(dynamic programming) finds the best path left to right: the best score of a path to node j is

    unigram:  best[j]    = max_{(i,j)} best[i] + log10 P(c_{i+1..j}) + b
    bigram:   best[j][w] = max_{(i,j) = w, v} best[i][v] + log10 P(w | v) + b

where in (2) the state is the last word v (only its bigram-model id matters, so words the
model does not know share one state).

Atoms are the ``char`` tokenizer's tokens (:mod:`groundup.data.tokenize`): one CJK character, a
run of Latin letters or digits (``GPT4``, ``3.14``: never cut inside), one punctuation mark.
Whitespace separates: no word spans it. A lexicon word made of several atoms (``T恤``,
``AT&T``, ``卡拉OK``) is an edge like any other.

P(w) (1) is the lexicon's relative frequency c(w) / sum c: jieba's dictionary counts
(``dict.txt``: ``word count [tag]`` per line) and/or a segmented corpus's word counts.
P(w | v) (2) is a bigram model from :mod:`groundup.text.ngram` (Kneser-Ney by default)
estimated on a segmented corpus, with words seen fewer than ``min_count`` times mapped to
``<unk>`` so that ``<unk>`` has bigram statistics; a lexicon word the bigram model does not
know is ``<unk>`` spelled out by the lexicon's unigram distribution over such words:

    P(w | v) = P_bigram(<unk> | v) * c(w) / sum_{u in L, u not in V} c(u)       (w not in V)

The lattice for ``研究生命`` (atoms 研 究 生 命) with a lexicon holding 研究, 研究生, 生命:

    0 --研--> 1 --究--> 2 --生--> 3 --命--> 4
    0 -----研究-----> 2 -----生命-----> 4
    0 --------研究生--------> 3

Model file: ``.npz`` without pickle (:meth:`Segmenter.save`).
"""
from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator, Literal, Mapping, Sequence

import numpy as np

from ...config import option
from ...data.tokenize import char_tokens
from ...errors import ConfigError, DataError, ModelFormatError
from .corpus import BOS_ID, EOS_ID, UNK_ID

FORMAT = "groundup-segmenter"
MAX_WORD = 64  # characters; jieba's longest word has 16. Longer corpus tokens are not words
MAX_COUNT = 10**15  # a count per word; sums of 10^6 of them stay exact in float64
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SegmenterConfig:
    """How a segmenter scores a path; every field is an option of ``groundup segment``."""

    order: int = option(2, "1 = unigram, eq. (1): P(w) from the lexicon counts; 2 = bigram, eq. (2): "
                           "P(w | v) from an n-gram model of the segmented corpus (without a "
                           "corpus there is none, and the segmenter is the unigram one)",
                        choices=(1, 2))
    smoothing: Literal["kn", "mkn", "katz"] = option(
        "kn", "the bigram model's smoothing (groundup.text.ngram): kn = Kneser-Ney, "
              "mkn = modified Kneser-Ney, katz = Katz backoff")
    min_count: int = option(2, "corpus words seen fewer times are <unk> in the bigram model "
                               "(so <unk> has statistics; the lexicon still spells them)")
    word_bonus: float = option(0.0, "log10 added per word: > 0 favours more, shorter words; "
                                    "< 0 fewer, longer ones (tune on held-out gold, never test)")
    dedup: bool = option(True, "count each distinct corpus line once (CMRC 2017 repeats its "
                               "stories in overlapping windows)")

    def __post_init__(self) -> None:
        if isinstance(self.order, bool) or self.order not in (1, 2):
            raise ConfigError(f"order must be 1 (unigram) or 2 (bigram), got {self.order!r}")
        if self.smoothing not in ("kn", "mkn", "katz"):
            raise ConfigError(f"smoothing must be kn, mkn or katz, got {self.smoothing!r}")
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int) or self.min_count < 1:
            raise ConfigError(f"min_count must be an integer >= 1, got {self.min_count!r}")
        if not math.isfinite(self.word_bonus):
            raise ConfigError(f"word_bonus must be finite, got {self.word_bonus}")


# ----------------------------------------------------------------------------------- inputs
def read_dictionary(path: str | Path) -> dict[str, int]:
    """A jieba-style dictionary: ``word count [tag]`` per line -> {word: count}.

    A repeated word keeps its last count (as jieba does); a count that is not a non-negative
    integer is a DataError naming the line."""
    from ...data.textfile import iter_lines

    out: dict[str, int] = {}
    for n, line in enumerate(iter_lines(path), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2 or not parts[1].isdigit():
            raise DataError(f"{path}: line {n}: expected 'word count [tag]', got {line[:60]!r}")
        out[parts[0]] = int(parts[1])
    if not out:
        raise DataError(f"{path}: no dictionary entries")
    return out


_CMRC_PREFIX = re.compile(r"^\d+ \|\|\| ")


def read_segmented(path: str | Path, *, dedup: bool = True, encoding: str = "utf-8") -> list[list[str]]:
    """Word lists of a segmented corpus: one sentence per line, words separated by spaces.

    CMRC 2017's layout is understood: ``N ||| words`` counts as ``words`` and its query lines
    (``<qid_K> ||| ...``) are skipped. ``dedup``: each distinct line once. ``encoding``: the
    file's (e.g. gb18030); a dictionary is always UTF-8, as jieba's are."""
    from ...data.textfile import iter_lines

    seen: set[str] = set()
    out = []
    for line in iter_lines(path, encoding=encoding):
        if line.startswith("<qid_"):
            continue
        line = _CMRC_PREFIX.sub("", line).strip()
        if not line or (dedup and line in seen):
            continue
        seen.add(line)
        out.append(line.split())
    if not out:
        raise DataError(f"{path}: no segmented lines")
    return out


def atoms_of(line: str) -> tuple[list[str], list[int]]:
    """The atoms of a line and, for each, the end of its whitespace-separated chunk
    (``limit[i]``: no word starting at atom i may end after it)."""
    atoms: list[str] = []
    limit: list[int] = []
    for chunk in line.split():
        a = char_tokens(chunk)
        atoms += a
        limit += [len(atoms)] * len(a)
    return atoms, limit


# -------------------------------------------------------------------------------- segmenter
class Segmenter:
    """Word lattice + Viterbi over a unigram (1) or bigram (2) model (module docstring).

    ``words``/``counts``: the lexicon and its counts (the unigram model); ``bigram``: an order-2
    :class:`~groundup.text.ngram.NgramModel` over segmented text, needed for ``cfg.order ==
    2``. Build with :meth:`build`; :meth:`segment` cuts one line."""

    def __init__(self, words: Sequence[str], counts: Sequence[int] | np.ndarray,
                 cfg: SegmenterConfig = SegmenterConfig(), bigram=None, *, sources: Mapping | None = None):
        counts = np.asarray(counts, dtype=np.int64)
        if len(words) != len(counts) or not len(words):
            raise ConfigError(f"need one count per word and at least one word, got {len(words)} "
                              f"words and {len(counts)} counts")
        if counts.ndim != 1 or (counts < 0).any() or (counts > MAX_COUNT).any():
            raise ConfigError(f"lexicon counts must be integers in [0, {MAX_COUNT:.0e}]")
        if cfg.order == 2 and bigram is None:
            raise ConfigError("a bigram segmenter needs a bigram model (build it from a segmented "
                              "corpus), or use order 1 (unigram)")
        if bigram is not None and bigram.order != 2:
            raise ConfigError(f"the bigram model must have order 2, got {bigram.order}")
        self.words = list(words)
        self.counts = counts
        self.cfg = cfg
        self.bigram = bigram
        self.sources = dict(sources or {})
        W = len(self.words)
        if len(set(self.words)) != W:
            raise ConfigError("lexicon words must be distinct")
        # the lexicon as a dict: word -> id, and every proper prefix -> -1 (a prefix dict,
        # as jieba's: the lattice stops extending c_i..c_j at the first non-prefix)
        if len("\n".join(self.words).split()) != W or max(map(len, self.words)) > MAX_WORD:
            # (one C-speed check: W non-empty words without whitespace split into W pieces)
            i = next(i for i, w in enumerate(self.words) if not w or len(w) > MAX_WORD or re.search(r"\s", w))
            raise ConfigError(f"lexicon word {i} ({self.words[i][:20]!r}) is empty, holds "
                              f"whitespace or is longer than {MAX_WORD} characters")
        lex = dict.fromkeys({w[:k] for w in self.words for k in range(1, len(w))}, -1)
        lex.update(zip(self.words, range(W)))
        self._lex = lex
        self._max_len = int(max(len(w) for w in self.words))
        total = max(float(counts.sum(dtype=np.float64)), 1.0)
        # per-word log10 P(w) = log10 c(w) / sum c, ids 0..W-1; id W = an atom outside the
        # lexicon, scored as a count of 1, and so is a listed count of 0 (both as jieba does)
        lp = np.log10(np.maximum(counts, 1) / total)
        self._unigram = lp.tolist() + [math.log10(1.0 / total)]
        self._unigram_np = lp.astype(np.float64)
        self.UNKNOWN = W
        self._trie = None  # the compiled path's trie, built at its first use
        if bigram is not None:
            self._init_bigram(bigram)

    def _init_bigram(self, model) -> None:
        """Per-word bigram ids and the <unk> spelling term of eq. (2), as plain lists (the
        Viterbi loop indexes them per edge; list indexing is what Python does fastest)."""
        W = len(self.words)
        bid = np.fromiter((model.index.get(w, UNK_ID) for w in self.words), dtype=np.int64, count=W)
        outside = bid == UNK_ID
        mass = float(np.maximum(self.counts[outside], 1).sum(dtype=np.float64)) + 1.0
        spell = np.where(outside, np.log10(np.maximum(self.counts, 1) / mass), 0.0)
        self._bid = bid.tolist() + [UNK_ID]
        self._spell = spell.tolist() + [math.log10(1.0 / mass)]
        t = model.tables
        self._V = int(model.V)
        self._lp1 = t.logprob[0].tolist()
        self._bo1 = t.backoff[0].tolist()
        self._lp2 = dict(zip(t.keys[1].tolist(), t.logprob[1].tolist()))  # v * V + w -> log10 p
        self._fast_bigram = {"bid": bid, "spell": spell, "lp1": t.logprob[0], "bo1": t.backoff[0],
                             "keys2": t.keys[1].astype(np.int64), "lp2": t.logprob[1]}

    def with_config(self, **changes) -> "Segmenter":
        """The same lexicon and models with other scoring options (e.g. ``word_bonus``)."""
        import copy

        from ...config import apply_overrides

        cfg = apply_overrides(self.cfg, changes)
        if cfg.order == 2 and self.bigram is None:
            raise ConfigError("order 2 needs a bigram model: build the segmenter with a corpus")
        out = copy.copy(self)  # the lexicon, tables and trie are shared, never changed
        out.cfg = cfg
        return out

    # ----------------------------------------------------------------------------- building
    @classmethod
    def build(cls, dictionary: str | Path | Mapping[str, int] | None = None,
              corpus: str | Path | Sequence[str | Path] | Iterable[Sequence[str]] | None = None,
              cfg: SegmenterConfig = SegmenterConfig(), *, encoding: str = "utf-8") -> "Segmenter":
        """A segmenter from a dictionary (a jieba-style file or {word: count}) and/or a
        segmented corpus (files for :func:`read_segmented`, read in ``encoding``, or word lists).

        Lexicon = dictionary words + corpus words (up to ``MAX_WORD`` characters);
        c(w) = dictionary count + corpus count.
        The bigram model (cfg.order == 2) is estimated on the corpus; without a corpus
        the model is the unigram one."""
        import warnings

        if dictionary is None and corpus is None:
            raise ConfigError("give a dictionary, a segmented corpus, or both")
        sources = {}
        counts: Counter = Counter()
        if dictionary is not None:
            if not isinstance(dictionary, Mapping):
                sources["dictionary"] = str(dictionary)
                dictionary = read_dictionary(dictionary)
            counts.update(dictionary)
        sents = None
        if corpus is not None:
            if isinstance(corpus, (str, Path)):
                corpus = [corpus]
            if isinstance(corpus, (list, tuple)) and corpus and all(
                    isinstance(c, (str, Path)) for c in corpus):  # file names
                sources["corpus"] = [str(c) for c in corpus]
                sents = [s for c in corpus for s in read_segmented(c, dedup=cfg.dedup, encoding=encoding)]
            else:
                sents = [list(s) for s in corpus]
            if cfg.dedup:  # across files too (CMRC's two files share lines)
                sents = [list(s) for s in dict.fromkeys(tuple(s) for s in sents)]
            for s in sents:
                counts.update(s)
        words = [w for w in counts if len(w) <= MAX_WORD]
        bigram = None
        if sents is not None and cfg.order == 2:
            from ...data.pipeline import TextOptions
            from .model import NgramModel

            with warnings.catch_warnings():  # a tiny corpus: lmplz's fallback discounts
                warnings.simplefilter("ignore")
                bigram = NgramModel.build(sents, 2, cfg.smoothing,
                                          text=TextOptions(min_count=cfg.min_count))
        elif cfg.order == 2:
            cfg = replace(cfg, order=1)
        return cls(words, [counts[w] for w in words], cfg, bigram, sources=sources)

    @classmethod
    def from_jieba_dictionary(cls, corpus: str | Path | Sequence[str | Path] | Iterable[Sequence[str]] | None = None,
                              cfg: SegmenterConfig = SegmenterConfig(), *,
                              encoding: str = "utf-8") -> "Segmenter":
        """:meth:`build` over jieba's ``dict.txt`` (the zh extra; a one-line ConfigError naming
        the install command without it), plus ``corpus`` (read in ``encoding``) for the bigram
        model."""
        from ...data.zh import INSTALL, jieba_dictionary_path

        path = jieba_dictionary_path()
        if path is None:
            raise ConfigError(f"jieba's dictionary needs the zh extra: {INSTALL}")
        return cls.build(path, corpus, cfg, encoding=encoding)

    # -------------------------------------------------------------------------- segmenting
    def lattice(self, atoms: Sequence[str], limit: Sequence[int]) -> list[list[tuple[int, int]]]:
        """edges[i] = [(j, word id)]: the words c_{i+1}..c_j that start at node i (shortest
        first); the single atom is always there (id ``UNKNOWN`` when outside the lexicon)."""
        lex = self._lex
        edges = []
        for i in range(len(atoms)):
            word = atoms[i]
            wid = lex.get(word)  # None: no lexicon word starts with this
            out = [(i + 1, wid if wid is not None and wid >= 0 else self.UNKNOWN)]
            j = i + 1
            while wid is not None and j < limit[i] and len(word) < self._max_len:
                word += atoms[j]
                j += 1
                wid = lex.get(word)
                if wid is not None and wid >= 0:
                    out.append((j, wid))
            edges.append(out)
        return edges

    def segment(self, line: str) -> list[str]:
        """The most probable segmentation of ``line`` (eq. 1 or 2); whitespace is dropped."""
        return self.segment_many([line])[0]

    __call__ = segment

    def segment_lines(self, lines: Iterable[str], batch: int = 2048) -> Iterator[list[str]]:
        """:meth:`segment` of each line, streamed, ``batch`` lines per compiled call."""
        it = iter(lines)
        while chunk := list(itertools.islice(it, batch)):
            yield from self.segment_many(chunk)

    def segment_many(self, lines: Sequence[str]) -> list[list[str]]:
        """:meth:`segment` of every line in one compiled pass (:mod:`.segment_kernels`);
        :meth:`segment_reference` is its Python twin."""
        from . import segment_kernels as K

        if self._trie is None:
            self._trie = K.build_trie(self._lex)
        trie_keys, trie_child, word = self._trie
        text, cps, flag, line = K.encode_lines(list(lines))
        cut = np.zeros(len(cps) + 1, dtype=np.uint8)
        unigram, bigram = K.kernels()
        if self.cfg.order == 2:
            f = self._fast_bigram
            bigram(cps, flag, line, trie_keys, trie_child, word, self._max_len, f["bid"],
                   f["spell"], float(self._spell[-1]), float(self.cfg.word_bonus), self._V,
                   f["lp1"], f["bo1"], f["keys2"], f["lp2"], cut)
        else:
            unigram(cps, flag, line, trie_keys, trie_child, word, self._max_len,
                    self._unigram_np, float(self._unigram[-1]), float(self.cfg.word_bonus), cut)
        return K.split_words(text, line, cut)

    def segment_reference(self, line: str) -> list[str]:
        """The slow, obviously correct twin of :meth:`segment`: the lattice as Python lists
        (:meth:`lattice`), then Viterbi over them."""
        atoms, limit = atoms_of(line)
        if not atoms:
            return []
        edges = self.lattice(atoms, limit)
        cuts = self._viterbi_bigram(edges) if self.cfg.order == 2 else self._viterbi_unigram(edges)
        return ["".join(atoms[i:j]) for i, j in zip(cuts, cuts[1:])]

    def _viterbi_unigram(self, edges: list[list[tuple[int, int]]]) -> list[int]:
        """Eq. (1): best[j] = max_i best[i] + log10 P(c_{i+1..j}) + b; the node list of the path."""
        n = len(edges)
        lp, b = self._unigram, self.cfg.word_bonus
        best = [0.0] + [-math.inf] * n  # (n+1,) best log10 score of a path to node j
        back = [0] * (n + 1)            # back[j]: the node before j on that path
        for i in range(n):
            s = best[i] + b
            for j, w in edges[i]:
                cand = s + lp[w]
                if cand > best[j]:  # strict: of equal paths the first found stays
                    best[j] = cand
                    back[j] = i
        return _backtrack(back, n)

    def _viterbi_bigram(self, edges: list[list[tuple[int, int]]]) -> list[int]:
        """Eq. (2): best[j][u] = max best[i][v] + log10 P(w | v) + b over the edges w = (i, j)
        whose bigram id is u; the state v is the last word's bigram id."""
        n = len(edges)
        V, lp1, bo1, lp2 = self._V, self._lp1, self._bo1, self._lp2
        bid, spell, b = self._bid, self._spell, self.cfg.word_bonus
        best: list[dict[int, tuple[float, int, int]]] = [{} for _ in range(n + 1)]
        best[0][BOS_ID] = (0.0, -1, -1)  # state -> (score, previous node, previous state)
        for i in range(n):
            states = best[i]
            for j, w in edges[i]:
                u = bid[w]
                add = spell[w] + b
                row = lp1[u]
                target = best[j]
                for v, (s, _, _) in states.items():
                    p = lp2.get(v * V + u)
                    cand = s + add + (p if p is not None else bo1[v] + row)
                    old = target.get(u)
                    if old is None or cand > old[0]:
                        target[u] = (cand, i, v)
        # close the line with P(</s> | v)
        end_v, end_s = -1, -math.inf
        for v, (s, _, _) in best[n].items():
            p = lp2.get(v * V + EOS_ID)
            cand = s + (p if p is not None else bo1[v] + lp1[EOS_ID])
            if cand > end_s:
                end_v, end_s = v, cand
        cuts = [n]
        j, v = n, end_v
        while j > 0:
            _, i, pv = best[j][v]
            cuts.append(i)
            j, v = i, pv
        return cuts[::-1]

    def path_log10(self, words: Sequence[str]) -> float:
        """The score (1) or (2) of one given segmentation (each word a lexicon word or one
        atom): the Viterbi maximum is this at the best path (tests compare the two)."""
        ids = [self._lex.get(w, -1) for w in words]
        ids = [i if i >= 0 else self.UNKNOWN for i in ids]
        b = self.cfg.word_bonus * len(ids)
        if self.cfg.order == 1:
            return sum(self._unigram[i] for i in ids) + b
        V, prev, total = self._V, BOS_ID, b
        for i in ids + [None]:
            u = EOS_ID if i is None else self._bid[i]
            p = self._lp2.get(prev * V + u)
            total += (p if p is not None else self._bo1[prev] + self._lp1[u])
            total += 0.0 if i is None else self._spell[i]
            prev = u
        return total

    # ------------------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """One ``.npz`` (no pickle): the lexicon and counts, the config and sources (JSON), and
        the bigram model's tables when there is one. Written atomically."""
        from ...io import atomic_write

        def text(s: str) -> np.ndarray:
            return np.frombuffer(s.encode("utf-8"), dtype=np.uint8)

        header = {"format": FORMAT, "version": FORMAT_VERSION, "config": asdict(self.cfg),
                  "sources": self.sources}
        arrays = {"header": text(json.dumps(header)), "words": text("\n".join(self.words)),
                  "counts": self.counts}
        if self.bigram is not None:
            t = self.bigram.tables
            arrays["bigram_vocab"] = text("\n".join(t.vocab))
            arrays["bigram_info"] = text(json.dumps(_jsonable(t.info)))
            arrays.update({f"bigram_{name}{k}": getattr(t, name)[k - 1]
                           for name in ("keys", "logprob", "backoff") for k in (1, 2)})
        with atomic_write(path, "wb") as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Segmenter":
        """Read a file written by :meth:`save`; ModelFormatError naming the file otherwise."""
        import zipfile

        from ...config import apply_overrides
        from ...io_read import open_regular
        from .model import NgramModel, _check_npz_sizes
        from .tables import BackoffTables

        path = Path(path)
        try:
            with open_regular(path, "segmenter model") as f, np.load(f, allow_pickle=False) as z:
                _check_npz_sizes(z.zip, path, f)
                header = json.loads(bytes(z["header"]).decode("utf-8"))
                if not isinstance(header, dict) or header.get("format") != FORMAT:
                    raise ModelFormatError(f"{path}: not a groundup segmenter model")
                if header.get("version") != FORMAT_VERSION:
                    raise ModelFormatError(f"{path}: segmenter format {header.get('version')}, "
                                           f"expected {FORMAT_VERSION}")
                words = bytes(z["words"]).decode("utf-8").split("\n")
                counts = z["counts"]
                bigram = None
                if "bigram_vocab" in z.files:
                    vocab = bytes(z["bigram_vocab"]).decode("utf-8").split("\n")
                    info = json.loads(bytes(z["bigram_info"]).decode("utf-8"))
                    tables = BackoffTables(vocab, *([z[f"bigram_{name}{k}"] for k in (1, 2)]
                                                    for name in ("keys", "logprob", "backoff")),
                                           info if isinstance(info, dict) else {})
                    bigram = NgramModel(tables)
        except ModelFormatError:
            raise
        except (KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile, OSError) as e:
            raise ModelFormatError(f"{path}: not a valid groundup segmenter model ({e})") from None
        try:
            cfg = apply_overrides(SegmenterConfig(), header.get("config") or {})
            if counts.dtype.kind not in "iu" or counts.ndim != 1:
                raise ConfigError(f"counts must be a 1-D integer array, got {counts.dtype} {counts.shape}")
            return cls(words, counts, cfg, bigram, sources=header.get("sources") or {})
        except ConfigError as e:
            raise ModelFormatError(f"{path}: {e}") from None

    def describe(self) -> str:
        """One line: what the segmenter was built from."""
        what = f"{'bigram' if self.cfg.order == 2 else 'unigram'} model, {len(self.words):,} lexicon words"
        if self.bigram is not None and self.cfg.order == 2:
            what += f", bigram {self.cfg.smoothing} over {self.bigram.V:,} words / " \
                    f"{len(self.bigram.tables.keys[1]):,} bigrams"
        return what


def _backtrack(back: list[int], n: int) -> list[int]:
    cuts = [n]
    while cuts[-1] > 0:
        cuts.append(back[cuts[-1]])
    return cuts[::-1]


def _jsonable(obj):
    from ...utils import to_jsonable

    return to_jsonable(obj)


__all__ = ["Segmenter", "SegmenterConfig", "read_dictionary", "read_segmented", "atoms_of"]
