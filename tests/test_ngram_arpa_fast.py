"""The ARPA reader's compiled path (text.ngram.arpa_kernels) gives what the general path gives:
the same tables for the files it reads, and for everything else it hands the chunk back, so
the general path reads it or names the line that is wrong."""
import warnings

import numpy as np
import pytest

from groundup.errors import ModelFormatError
from groundup.text.ngram import NgramModel
from groundup.text.ngram import arpa
from groundup.text.ngram.arpa import read_arpa


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)] + ["长词", "x" * 30]
    sents = [[words[j] for j in rng.zipf(1.4, size=rng.integers(1, 12)) % len(words)]
             for _ in range(2000)]
    sents[3] = ["<unk>", "w1", "w2"]
    path = tmp_path_factory.mktemp("arpa") / "m.arpa"
    with warnings.catch_warnings():  # a discount fallback of this small vocabulary
        warnings.simplefilter("ignore")
        NgramModel.build(sents, 4).save(path)
    return path.read_text(encoding="utf-8")


def general(monkeypatch):
    monkeypatch.setattr(arpa._Builder, "add_lines", lambda self, k, lines, lower: False)


def load(tmp_path, body: str, name="x.arpa"):
    path = tmp_path / name
    path.write_bytes(body.encode("utf-8"))
    return read_arpa(path)


def same(a, b):
    assert a.vocab == b.vocab
    for name in ("keys", "logprob", "backoff"):
        for x, y in zip(getattr(a, name), getattr(b, name)):
            assert x.dtype == y.dtype and np.array_equal(x, y)
            if x.dtype.kind == "f":
                assert np.array_equal(np.signbit(x), np.signbit(y))


def with_lines(text, edit):
    """``text`` with ``edit(k, fields)`` applied to the n-gram lines of orders >= 2."""
    out, k = [], 0
    for line in text.split("\n"):
        if line.startswith("\\") and line.endswith("-grams:"):
            k = int(line[1:-7])
        elif k >= 2 and line and not line.startswith("\\"):
            line = edit(k, line)
        out.append(line)
    return "\n".join(out)


EDITS = {
    "as written": lambda k, l: l,
    "crlf": lambda k, l: l + "\r",
    "spaces for tabs": lambda k, l: l.replace("\t", " "),
    "exponents": lambda k, l: "\t".join(f"{float(f):e}" if i in (0, k + 1) else f
                                        for i, f in enumerate(l.split("\t"))),
    "17 digits": lambda k, l: "\t".join(repr(float(f) + 1e-13) if i == 0 and float(f) < -1
                                        else f for i, f in enumerate(l.split("\t"))),
    "plain forms": lambda k, l: "\t".join({0: "-.5", 2: "0."}.get(i, f) if len(l) % 3 == 0
                                          else f for i, f in enumerate(l.split("\t"))),
    "zero backoffs left out": lambda k, l: l[:-2] if l.endswith("\t0") else l,
    "-99 and -inf": lambda k, l: ("-99" + l[l.index("\t"):]) if len(l) % 5 == 0 else
                                 ("-inf" + l[l.index("\t"):]) if len(l) % 5 == 1 else l,
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_the_compiled_path_reads_what_the_general_path_reads(text, tmp_path, monkeypatch, edit):
    body = with_lines(text, EDITS[edit])
    fast = load(tmp_path, body)
    general(monkeypatch)
    same(fast, load(tmp_path, body))


def test_a_canonical_file_never_reaches_the_general_path(text, tmp_path, monkeypatch):
    ref = load(tmp_path, text)
    real = arpa._Builder.add

    def only_unigrams(self, k, *a):
        assert k == 1, "an n-gram chunk went to the general path"
        return real(self, k, *a)
    monkeypatch.setattr(arpa._Builder, "add", only_unigrams)
    same(load(tmp_path, text), ref)


@pytest.mark.parametrize("edit,msg", [
    (lambda k, l: l.rsplit(" ", 1)[0] + " nope\t" + l.rsplit("\t", 1)[1] if k == 3 else l,
     "which is no unigram"),
    (lambda k, l: l.replace("\t", "\tw1 ", 1) if k == 2 else l, "a 2-gram line"),
    (lambda k, l: "0.5" + l[l.index("\t"):] if k == 2 else l, "above 0"),
    (lambda k, l: "abc" + l[l.index("\t"):] if k == 2 else l, "not a number"),
    (lambda k, l: "-1\t" + l if k == 3 else l, "a 3-gram line"),
])
def test_errors_are_the_general_paths(text, tmp_path, monkeypatch, edit, msg):
    body = with_lines(text, edit)
    with pytest.raises(ModelFormatError) as fast:
        load(tmp_path, body)
    general(monkeypatch)
    with pytest.raises(ModelFormatError) as slow:
        load(tmp_path, body)
    assert msg in str(fast.value) and str(fast.value) == str(slow.value)


def test_an_unlisted_context_is_named(text, tmp_path):
    """A 4-gram whose context is not listed: the compiled path finds it and hands the chunk to
    the general path, which names it."""
    lines = text.split("\n")
    i = lines.index("\\4-grams:") + 1
    lp, words = lines[i].split("\t")[:2]
    lines[i] = f"{lp}\t</s> </s> </s> {words.split()[-1]}"
    with pytest.raises(ModelFormatError, match="context '</s> </s>' is not listed as a 2-gram"):
        load(tmp_path, "\n".join(lines))
