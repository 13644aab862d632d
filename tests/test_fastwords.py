"""The compiled word numbering (:mod:`groundup.data.fastwords`) against the one reader and the
``spaces`` tokenizer it stands in for: the same words, ids and lines on text made to trip it."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from groundup.data import textfile
from groundup.data.fastwords import WordNumbering
from groundup.data.pipeline import TextOptions, read_corpus
from groundup.errors import DataError, GroundupWarning

SPECIALS = ("<unk>", "<s>", "</s>")

TEXTS = {
    "plain": "the cat sat\non the mat\n",
    "no final newline": "a b\nc d e",
    "empty lines and blanks": "\n\n  \t \na  b\t\tc \n\n",
    "crlf and lone cr": "a b\r\nc\rd e\r\n\r\n",
    "unicode spaces stay inside words": "a\u00a0b c\u3000d e\x0cf g\u2028h\n",
    "specials written in the text": "<s> a </s> <unk> b\n<unk>\n",
    "multibyte": "北京 欢迎 你\nnaïve café 北京\n🙂 🙂🙂\n",
    "byte order mark": "\ufeffstart here\nthen there\n",
    "final line only cr": "a b\n\r",
}


def python_ids(corpus):
    index = {w: i for i, w in enumerate(SPECIALS)}
    ids, lens = [], []
    for toks in corpus:
        ids.extend(index.setdefault(t, len(index)) for t in toks)
        lens.append(len(toks))
    return list(index), ids, lens


def fast_ids(corpus):
    nb = WordNumbering(SPECIALS)
    blocks = list(corpus.numbered_lines(nb))
    ids = np.concatenate([b[0] for b in blocks]).tolist() if blocks else []
    lens = np.concatenate([b[1] for b in blocks]).tolist() if blocks else []
    return nb.words, ids, lens


def spaces_corpus(*paths, **kw):
    return read_corpus(paths[0] if len(paths) == 1 else paths, TextOptions(tokenizer="spaces", **kw))


@pytest.mark.parametrize("name", list(TEXTS))
def test_same_words_ids_and_lines_as_the_spaces_tokenizer(name, tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(TEXTS[name].encode("utf-8"))
    corpus = spaces_corpus(path)
    assert corpus.can_number
    expect = python_ids(spaces_corpus(path))
    assert fast_ids(corpus) == expect
    assert len(expect[2]) == len(list(spaces_corpus(path)))


def test_lines_across_blocks_and_files_and_a_growing_table(tmp_path, monkeypatch):
    """Long lines cut by the reader's blocks, many new words (the table and the arena grow),
    two files (the last line of the first one ends there)."""
    rng = np.random.default_rng(0)
    words = [f"w{i}é" for i in range(60_000)]
    lines = [" ".join(words[j] for j in rng.integers(0, len(words), rng.integers(0, 3000)))
             for _ in range(60)]
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("\n".join(lines[:30]), encoding="utf-8")  # no final newline
    b.write_text("\n".join(lines[30:]) + "\n", encoding="utf-8")
    real = textfile.iter_blocks
    monkeypatch.setattr(textfile, "iter_blocks",
                        lambda path, block_size=1 << 20, **kw: real(path, 4096, **kw))
    from groundup.data.corpora import TextCorpus

    def corpus():
        return TextCorpus([a, b], tokenizer="spaces", eos=None)
    assert fast_ids(corpus()) == python_ids(corpus())


def test_another_encoding_reads_the_same_words(tmp_path):
    path = tmp_path / "gb.txt"
    path.write_bytes("北京 欢迎 你\n你 好\n".encode("gb18030"))
    corpus = spaces_corpus(path, encoding="gb18030")
    assert fast_ids(corpus) == python_ids(spaces_corpus(path, encoding="gb18030"))


def test_bad_bytes_are_the_readers_one_line_error(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine words\nbad \xff byte\n")
    with pytest.raises(DataError, match="not valid UTF-8.*line 2"):
        fast_ids(spaces_corpus(path))


def test_stdin_is_read_once(tmp_path):
    corpus = read_corpus("-", TextOptions(tokenizer="spaces"))
    corpus._passes = 1  # (as after a first pass)
    with pytest.raises(DataError, match="only once"):
        fast_ids(corpus)


def test_spacing_check_warns_as_the_reader_does(tmp_path):
    path = tmp_path / "zh.txt"
    path.write_text("我们今天去北京看看天安门广场\n" * 50, encoding="utf-8")
    with warnings.catch_warnings(record=True) as slow:
        warnings.simplefilter("always")
        list(read_corpus(path, TextOptions(tokenizer="spaces"), training=True))
    with warnings.catch_warnings(record=True) as fast:
        warnings.simplefilter("always")
        fast_ids(read_corpus(path, TextOptions(tokenizer="spaces"), training=True))
    assert [str(w.message) for w in fast] == [str(w.message) for w in slow]
    assert len(slow) == 1 and issubclass(slow[0].category, GroundupWarning)


@pytest.mark.parametrize("kw", [dict(tokenizer="word"), dict(tokenizer="spaces", lowercase=True)])
def test_only_the_spaces_tokenizer_as_written_is_numbered(kw, tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("A b\n", encoding="utf-8")
    assert not read_corpus(path, TextOptions(**kw)).can_number


def test_first_words_must_be_single_and_distinct():
    with pytest.raises(ValueError):
        WordNumbering(("a", "a"))
    with pytest.raises(ValueError):
        WordNumbering(("a b",))


def test_kernels_load_without_importing_scipy_linalg():
    """numba's numpy support is loaded with scipy hidden (utils.numba_without_scipy): the first
    kernel of a process does not import scipy.linalg, and scipy still imports afterwards."""
    import subprocess
    import sys

    code = ("import sys; from groundup.data.fastwords import WordNumbering; "
            "WordNumbering(('a',)).encode('b c\\n'); "
            "print('scipy.linalg' in sys.modules, 'scipy.linalg.cython_blas' in sys.modules)\n"
            "try:\n    import scipy.linalg.cython_blas\n    print('ok')\n"
            "except ImportError:\n    print('no scipy')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = out.stdout.split("\n")[:2]
    assert first == "False False", out.stdout
    assert second in ("ok", "no scipy")


def test_the_word_hash_is_fnv1a_64():
    """fnv1a (this numbering's hash and the binary model's word table's, part of its file
    format) gives FNV-1a's published 64-bit values."""
    from groundup.data.fastwords import fnv1a

    for text, want in [(b"", 0xCBF29CE484222325), (b"a", 0xAF63DC4C8601EC8C),
                       (b"foobar", 0x85944171F73967E8)]:
        buf = np.frombuffer(b"xx" + text + b"yy", dtype=np.uint8)
        assert int(fnv1a(buf, 2, 2 + len(text))) == want
