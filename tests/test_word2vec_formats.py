"""word2vec C text/binary formats: round trips, gensim reads ours and we read gensim's, and
malformed files fail with the line or byte offset."""
import numpy as np
import pytest

from groundup.data.pipeline import TextOptions
from groundup.errors import ModelFormatError
from groundup.text.word2vec.formats import load_word2vec, save_word2vec
from groundup.text.word2vec.vectors import WordVectors

WORDS = ["the", "Köln", "北京", "x-ray", "a"]


@pytest.fixture
def wv():
    rng = np.random.default_rng(0)
    return WordVectors(WORDS, rng.normal(size=(5, 7)).astype(np.float32))


@pytest.mark.parametrize("name", ["v.bin", "v.txt"])
def test_round_trip_is_exact(tmp_path, wv, name):
    p = save_word2vec(tmp_path / name, wv)
    back = load_word2vec(p)
    assert back.words == WORDS
    np.testing.assert_array_equal(back.vectors, wv.vectors)   # repr floats round-trip exactly


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_reads_ours_and_we_read_gensims(tmp_path, wv, binary):
    """Our files carry a trailer line with the text options; gensim reads the vectors and
    never sees it."""
    KeyedVectors = pytest.importorskip("gensim.models").KeyedVectors
    text = TextOptions(tokenizer="char", lowercase=True, min_count=3, max_vocab=100)
    ours = save_word2vec(tmp_path / ("o.bin" if binary else "o.txt"), wv, text=text)
    assert load_word2vec(ours).text == text
    kv = KeyedVectors.load_word2vec_format(str(ours), binary=binary)
    assert kv.index_to_key == WORDS
    np.testing.assert_array_equal(kv.vectors, wv.vectors)
    theirs = tmp_path / ("g.bin" if binary else "g.txt")
    kv.save_word2vec_format(str(theirs), binary=binary)     # gensim's binary has no newline after a vector
    back = load_word2vec(theirs)
    assert back.words == WORDS
    np.testing.assert_allclose(back.vectors, wv.vectors, rtol=1e-6)


def _bin(tmp_path, data: bytes):
    p = tmp_path / "bad.bin"
    p.write_bytes(data)
    return p


def test_bad_binary_files_name_the_byte_offset(tmp_path, wv):
    good = save_word2vec(tmp_path / "g.bin", wv).read_bytes()
    # header "5 7\n" (4 bytes), "the " (4), 28 vector bytes from offset 8, "\n", "Köln " ...
    with pytest.raises(ModelFormatError, match=r"truncated at byte offset 20: vector of word #1 "
                                               r"'the' needs 28 bytes from offset 8, 12 left"):
        load_word2vec(_bin(tmp_path, good[:20]), binary=True)
    with pytest.raises(ModelFormatError, match=r"truncated at byte offset 40: word #2 starting at offset 37"):
        load_word2vec(_bin(tmp_path, good[:40]), binary=True)
    with pytest.raises(ModelFormatError, match="header says 5 words, file ends after 4"):
        load_word2vec(_bin(tmp_path, good[:good.rindex(b"\na ") + 1]), binary=True)
    with pytest.raises(ModelFormatError, match="line 1: expected header"):
        load_word2vec(_bin(tmp_path, b"five 7\n" + good[4:]))
    with pytest.raises(ModelFormatError, match="byte offset .*data after the 4 vectors"):
        load_word2vec(_bin(tmp_path, b"4 7\n" + good[4:]), binary=True)
    with pytest.raises(ModelFormatError, match="empty"):
        load_word2vec(_bin(tmp_path, b""))
    with pytest.raises(ModelFormatError, match="no such file"):
        load_word2vec(tmp_path / "nope.bin")


def test_bad_text_files_name_the_line(tmp_path, wv):
    good = save_word2vec(tmp_path / "g.txt", wv).read_text(encoding="utf-8").splitlines()
    cases = {
        "line 3: expected a word and 7 numbers, got 6": good[:2] + [good[2].rsplit(" ", 1)[0]] + good[3:],
        "line 4: 'abc' is not a number": good[:3] + [good[3].split(" ")[0] + " abc" + " 1" * 6] + good[4:],
        "truncated: header says 5 words, found 3 lines": good[:4],
        "line 7: more lines than the 5": good + ["extra 1 2 3 4 5 6 7"],
        "word 'the' appears twice": good[:2] + [good[1]] + good[3:],
        "NaN or infinite": good[:1] + [good[1].split(" ")[0] + " nan" + " 1" * 6] + good[2:],
    }
    for msg, lines in cases.items():
        p = tmp_path / "bad.txt"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(ModelFormatError, match=msg):
            load_word2vec(p, binary=False)


def test_refuses_to_write_words_with_spaces(tmp_path):
    with pytest.raises(ModelFormatError, match="whitespace"):
        save_word2vec(tmp_path / "x.bin", WordVectors(["new york"], np.zeros((1, 3))))


@pytest.mark.parametrize("name", ["v.bin", "v.txt"])
def test_text_trailer_round_trip_and_bad_trailer(tmp_path, wv, name):
    p = save_word2vec(tmp_path / name, wv)
    assert load_word2vec(p).text is None          # nothing recorded, nothing written
    p = save_word2vec(tmp_path / name, wv, text=TextOptions(tokenizer="text8"))
    assert load_word2vec(p).text.tokenizer == "text8"
    p.write_bytes(p.read_bytes().replace(b'"text8"', b'"nope!"'))
    with pytest.raises(ModelFormatError, match="groundup-text"):
        load_word2vec(p)
