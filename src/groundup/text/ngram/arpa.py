"""ARPA back-off model files: write (atomic) and read (ours or KenLM's / SRILM's).

The format (Doug Paul's ARPA format, as written by lmplz, lm/common/print.cc):

    \\data\\
    ngram 1=n_1
    ...
    \\1-grams:
    log10 p <TAB> w <TAB> log10 b          (every order below N has the backoff column)
    ...
    \\N-grams:
    log10 p <TAB> w_1 .. w_N
    \\end\\

A probability or backoff of 0 (log10 -inf, e.g. MLE's "never after this context") is written
as -99, the customary ARPA stand-in; lmplz's convention of log10 p(<s>) = 0 is kept. A file
without ``<unk>`` gets it with log10 p = -100, as KenLM does when it loads such a file.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...errors import ModelFormatError
from ...io import atomic_write
from .corpus import SPECIALS, UNK
from .counts import ngram_words
from .tables import BackoffTables

NEG_INF_ARPA = -99.0
MISSING_UNK = -100.0


def _fmt(x: np.ndarray) -> list[str]:
    """Seven significant digits (lmplz prints float32 values), -inf as -99."""
    x = np.where(np.isfinite(x), x, NEG_INF_ARPA)
    return [f"{v:.7g}" for v in x.tolist()]


def write_arpa(t: BackoffTables, path: str | os.PathLike, *, progress: bool = False) -> None:
    """Write ``t`` as an ARPA file, atomically (a reader never sees half a file)."""
    N, V = t.order, t.V
    vocab = np.asarray(t.vocab, dtype=object)
    with atomic_write(path, "w") as f:
        f.write("\\data\\\n")
        for k in range(1, N + 1):
            f.write(f"ngram {k}={len(t.keys[k - 1])}\n")
        strings = None
        for k in range(1, N + 1):
            f.write(f"\n\\{k}-grams:\n")
            if k == 1:
                strings = vocab[t.keys[0]].tolist()
            else:
                ctx = (t.keys[k - 1] // V).tolist()
                last = vocab[t.keys[k - 1] % V].tolist()
                strings = [f"{strings[c]} {w}" for c, w in zip(ctx, last)]
            lp = _fmt(t.logprob[k - 1])
            if k < N:
                bo = _fmt(t.backoff[k - 1])
                f.writelines(f"{p}\t{g}\t{b}\n" for p, g, b in zip(lp, strings, bo))
            else:
                f.writelines(f"{p}\t{g}\n" for p, g in zip(lp, strings))
        f.write("\n\\end\\\n")


def read_arpa(path: str | os.PathLike) -> BackoffTables:
    """Load an ARPA file (from lmplz, SRILM or :func:`write_arpa`) into backoff tables."""
    path = Path(path)
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise ModelFormatError(f"{path}: cannot open ({e.strerror})") from None
    with f:
        try:
            return _parse(f, path)
        except UnicodeDecodeError as e:
            raise ModelFormatError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def _parse(f, path: Path) -> BackoffTables:
    def bad(msg: str, lineno: int | None = None) -> ModelFormatError:
        where = f" line {lineno}" if lineno else ""
        return ModelFormatError(f"{path}:{where} {msg}")

    lineno = 0
    line = ""
    for line in f:  # skip anything before \data\ (ARPA allows a free-text header)
        lineno += 1
        if line.strip() == "\\data\\":
            break
    else:
        raise bad("not an ARPA file (no \\data\\ section)")
    sizes: list[int] = []
    for line in f:
        lineno += 1
        s = line.strip()
        if not s:
            if sizes:
                break
            continue
        if not s.startswith("ngram ") or "=" not in s:
            raise bad(f"expected 'ngram K=COUNT', got {s[:60]!r}", lineno)
        k, n = s[6:].split("=", 1)
        try:
            k, n = int(k), int(n)
        except ValueError:
            raise bad(f"expected 'ngram K=COUNT', got {s[:60]!r}", lineno) from None
        if k != len(sizes) + 1 or n < 0:
            raise bad(f"ngram counts out of sequence at {s!r}", lineno)
        sizes.append(n)
    N = len(sizes)
    if N == 0:
        raise bad("no 'ngram K=COUNT' lines in \\data\\")
    grams: list[list[str]] = []
    probs: list[list[str]] = []
    backs: list[list[str]] = []
    for k in range(1, N + 1):
        for line in f:
            lineno += 1
            s = line.strip()
            if s:
                break
        if line.strip() != f"\\{k}-grams:":
            raise bad(f"expected \\{k}-grams:, got {line.strip()[:60]!r}", lineno)
        g, p, b = [], [], []
        for _ in range(sizes[k - 1]):
            line = f.readline()
            lineno += 1
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 1:  # some writers use spaces: "p w1 .. wk [b]"
                sp = line.split()
                parts = [sp[0], " ".join(sp[1:k + 1])] + sp[k + 1:]
            if len(parts) < 2 or len(parts[1].split()) != k or len(parts) > 3:
                raise bad(f"expected a {k}-gram line, got {line.strip()[:60]!r}", lineno)
            p.append(parts[0])
            g.append(parts[1])
            b.append(parts[2] if len(parts) == 3 else "0")
        grams.append(g)
        probs.append(p)
        backs.append(b)
    rest = f.read().split()
    if rest[:1] != ["\\end\\"]:
        raise bad(f"expected \\end\\ after the {N}-grams, got {' '.join(rest[:3])[:60]!r}")
    return _tables(grams, probs, backs, path)


def _floats(values: list[str], what: str, path: Path, *, prob: bool = True) -> np.ndarray:
    """Parse log10 values; -99 (or less) is the ARPA stand-in for log10 0."""
    try:
        x = np.array(values, dtype=np.float64)
    except ValueError:
        raise ModelFormatError(f"{path}: a {what} is not a number") from None
    if np.isnan(x).any() or (prob and (x > 1e-6).any()):
        raise ModelFormatError(f"{path}: a {what} is NaN or above 0 (a probability above 1)")
    x[x <= NEG_INF_ARPA] = -np.inf
    return x


def _tables(grams, probs, backs, path: Path) -> BackoffTables:
    N = len(grams)
    unigrams = grams[0]
    if len(set(unigrams)) != len(unigrams):
        raise ModelFormatError(f"{path}: duplicate unigrams")
    for w in SPECIALS[1:]:
        if w not in unigrams:
            raise ModelFormatError(f"{path}: the unigrams lack {w}")
    vocab = list(SPECIALS) + [w for w in unigrams if w not in SPECIALS]
    index = {w: i for i, w in enumerate(vocab)}
    V = len(vocab)
    lp1 = np.full(V, MISSING_UNK)
    bo1 = np.zeros(V)
    ids1 = np.fromiter((index[w] for w in unigrams), dtype=np.int64, count=len(unigrams))
    lp1[ids1] = _floats(probs[0], "1-gram log-probability", path)
    bo1[ids1] = _floats(backs[0], "1-gram backoff", path, prob=False)
    keys = [np.arange(V, dtype=np.int64)]
    logprob, backoff = [lp1], [bo1]
    for k in range(2, N + 1):
        try:
            W = np.array([[index[w] for w in g.split()] for g in grams[k - 1]],
                         dtype=np.int64).reshape(-1, k)  # (n_k, k)
        except KeyError as e:
            raise ModelFormatError(f"{path}: {k}-gram uses {e.args[0]!r}, which is no unigram") from None
        prefix = W[:, 0]
        for j in range(2, k):  # the id of w_1..w_{k-1}, found order by order
            key = prefix * V + W[:, j - 1]
            pos = np.searchsorted(keys[j - 1], key)
            ok = (pos < len(keys[j - 1])) & (keys[j - 1][np.minimum(pos, len(keys[j - 1]) - 1)] == key)
            if not ok.all():
                bad = " ".join(grams[k - 1][int(np.flatnonzero(~ok)[0])].split()[:j])
                raise ModelFormatError(f"{path}: {k}-gram context {bad!r} is not listed as a {j}-gram")
            prefix = pos
        key = prefix * V + W[:, -1]
        order = np.argsort(key, kind="stable")
        key = key[order]
        if len(key) > 1 and not (np.diff(key) > 0).all():
            raise ModelFormatError(f"{path}: duplicate {k}-grams")
        keys.append(key)
        logprob.append(_floats(probs[k - 1], f"{k}-gram log-probability", path)[order])
        backoff.append(_floats(backs[k - 1], f"{k}-gram backoff", path, prob=False)[order])
    backoff[-1] = np.zeros(len(keys[-1]))
    info = {"method": "arpa", "source": str(path), "warnings": []}
    if UNK not in unigrams:
        info["warnings"].append(f"{path}: no <unk> unigram; using log10 p(<unk>) = {MISSING_UNK}")
    return BackoffTables(vocab, keys, logprob, backoff, info)
