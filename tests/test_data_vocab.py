"""Vocab: id order, unk handling, encode/decode, save/load round trips and bad files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from groundup.data.vocab import Vocab
from groundup.errors import DataError

CORPUS = [["b", "a", "c", "a"], ["d", "c", "a", "b"], ["e"]]
# counts: a=3, b=2, c=2, d=1, e=1; first occurrences: b, a, c, d, e


def test_order_specials_then_count_then_first_occurrence():
    v = Vocab.build(CORPUS)
    # <unk> (special) first; then a (3); b and c tie at 2 -> b first seen before c; d, e tie at 1
    assert v.itos == ["<unk>", "a", "b", "c", "d", "e"]
    assert v.counts.tolist() == [0, 3, 2, 2, 1, 1]
    assert v.unk_id == 0
    v2 = Vocab.build(CORPUS, specials=("<pad>", "<eos>"), unk="<unk>")
    assert v2.itos[:3] == ["<unk>", "<pad>", "<eos>"]


def test_min_count_and_max_size():
    v = Vocab.build(CORPUS, min_count=2)
    assert v.itos == ["<unk>", "a", "b", "c"]
    v = Vocab.build(CORPUS, max_size=3)  # max_size counts the specials
    assert v.itos == ["<unk>", "a", "b"]
    with pytest.raises(DataError, match="min_count must be an integer >= 1, got 0"):
        Vocab.build(CORPUS, min_count=0)
    with pytest.raises(DataError, match="max_size=1 is smaller than the 2 special tokens"):
        Vocab.build(CORPUS, specials=("<unk>", "<eos>"), max_size=1)


def test_ids_stable_and_mapping_input():
    # the same counts given as a mapping give the same ids; a sorted mapping breaks ties
    # alphabetically (what a sort-based counter such as np.unique produces)
    a = Vocab.build(CORPUS)
    b = Vocab.build({"b": 2, "a": 3, "c": 2, "d": 1, "e": 1})
    assert a.itos == b.itos
    c = Vocab.build(dict(sorted({"z": 1, "y": 1, "x": 2}.items())))
    assert c.itos == ["<unk>", "x", "y", "z"]


def test_tie_break_rules():
    assert Vocab.build(CORPUS, tie_break="last", specials=(), unk=None).itos == ["a", "c", "b", "e", "d"]
    assert Vocab.build([["z", "y", "x", "x"]], tie_break="alpha", specials=(), unk=None).itos == ["x", "y", "z"]
    with pytest.raises(DataError, match="tie_break must be"):
        Vocab.build(CORPUS, tie_break="random")


def test_tie_break_last_matches_gensim_id_order():
    # gensim 4 is the oracle: Word2Vec.build_vocab keeps the same words, counts and ids
    gensim = pytest.importorskip("gensim")
    import random

    rng = random.Random(0)
    words = [f"w{i}" for i in range(60)]
    sents = [[rng.choice(words[: rng.randint(5, 60)]) for _ in range(rng.randint(1, 12))] for _ in range(300)]
    for min_count in (1, 3):
        m = gensim.models.Word2Vec(vector_size=4, min_count=min_count, sample=0, workers=1)
        m.build_vocab(corpus_iterable=sents)
        v = Vocab.build(sents, min_count=min_count, specials=(), unk=None, tie_break="last")
        assert v.itos == list(m.wv.index_to_key)
        assert v.counts.tolist() == [m.wv.get_vecattr(w, "count") for w in v.itos]


def test_unk_in_corpus_keeps_its_count():
    # PTB and WikiText contain <unk> literally; it stays id 0 and keeps its count
    v = Vocab.build([["the", "<unk>", "<unk>", "cat", "<eos>"]])
    assert v.itos[0] == "<unk>" and v.counts[0] == 2


def test_encode_decode():
    v = Vocab.build(CORPUS)
    ids = v.encode(["a", "zzz", "e"])
    assert ids.dtype == np.int64 and ids.tolist() == [1, 0, 5]
    assert v.decode(ids) == ["a", "<unk>", "e"]
    assert v.encode(iter(["b"])).tolist() == [2]  # generators too
    assert v["zzz"] == 0 and "zzz" not in v and "a" in v
    assert v.oov_rate(["a", "zzz", "<unk>", "b"]) == 0.5
    with pytest.raises(DataError, match="id 6 is out of range for a vocabulary of 6"):
        v.decode([6])


def test_strings_instead_of_token_lists_are_refused():
    # Counter.update("a b") would silently count characters
    with pytest.raises(DataError, match="expects token lists"):
        Vocab.build(["a b", "c"])
    with pytest.raises(DataError, match="expects a sequence of tokens"):
        Vocab.build(CORPUS).encode("abc")


def test_no_unk_raises_on_oov():
    v = Vocab.build(CORPUS, specials=(), unk=None)
    assert v.itos == ["a", "b", "c", "d", "e"]
    with pytest.raises(DataError, match="token 'q' is not in the vocabulary"):
        v.encode(["a", "q"])
    with pytest.raises(DataError, match="unknown-word token '<unk>' is not in the vocabulary"):
        Vocab(["a", "b"])


@pytest.mark.parametrize("suffix", [".txt", ".json"])
def test_save_load_round_trip(tmp_path, suffix):
    # a char-level vocabulary holds tab, newline, backslash and space: all must survive
    corpus = [list("ab\tc\\ d\n中"), ["<eos>", "#groundup-vocab", "x y"]]
    v = Vocab.build(corpus, specials=("<unk>", "<pad>"))
    p = v.save(tmp_path / f"v{suffix}")
    w = Vocab.load(p)
    assert w == v and w.itos == v.itos and w.unk == "<unk>" and w.specials == ("<unk>", "<pad>")
    assert w.encode(["中", "\t"]).tolist() == v.encode(["中", "\t"]).tolist()
    if suffix == ".json":
        assert json.loads(p.read_text(encoding="utf-8"))["format"] == "groundup-vocab"


def test_load_word2vec_save_vocab_format(tmp_path):
    # word2vec's -save-vocab writes "token count" per line, no header
    p = tmp_path / "w2v.vocab"
    p.write_text("</s> 0\nthe 1061396\nof 593677\n", encoding="utf-8")
    v = Vocab.load(p)
    assert v.itos == ["</s>", "the", "of"] and v.counts.tolist() == [0, 1061396, 593677] and v.unk is None


@pytest.mark.parametrize("content,match", [
    ("a\t1\nb\tmany\n", r"v\.txt:2: count 'many' is not an integer"),
    ("a\t1\nnocount\n", r"v\.txt:2: expected 'token<TAB>count'"),
    ("a\t1\nb\t2\na\t3\n", r"v\.txt:3: duplicate token 'a' \(first on line 1\)"),
    ("a\t-1\n", r"v\.txt:1: negative count -1"),
    ('#groundup-vocab {"version": 2}\na\t1\n', r"v\.txt:1: unsupported vocab header"),
    ('#groundup-vocab {"version": 1}\na\\q\t1\n', r"v\.txt:2: bad escape"),
    ('#groundup-vocab {"version": 1, "unk": "<unk>"}\na\t1\n', r"'<unk>' is not in the vocabulary"),
])
def test_load_bad_text_files(tmp_path, content, match):
    p = tmp_path / "v.txt"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=match):
        Vocab.load(p)


@pytest.mark.parametrize("content,match", [
    ("{not json", r"v\.json:1: not valid JSON"),
    ('{"tokens": []}', "not a groundup vocab"),
    ('{"format": "groundup-vocab", "version": 1, "tokens": ["a"], "counts": [1, 2]}', "same length"),
    ('{"format": "groundup-vocab", "version": 1, "unk": null, "tokens": ["a", "a"], "counts": [1, 2]}',
     "duplicate token 'a'"),
])
def test_load_bad_json_files(tmp_path, content, match):
    p = tmp_path / "v.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=match):
        Vocab.load(p)


def test_load_missing_and_empty(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        Vocab.load(tmp_path / "nope.txt")
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(DataError, match="file is empty"):
        Vocab.load(tmp_path / "e.txt")


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# any token a tokenizer can produce from valid text: non-empty, no NUL (iter_lines refuses NUL)
_tok = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_tok, st.integers(0, 10**12)), max_size=25, unique_by=lambda tc: tc[0]))
def test_save_load_round_trip_any_tokens(tmp_path_factory, items):
    d = tmp_path_factory.mktemp("v")
    tokens = ["<unk>"] + [t for t, _ in items if t != "<unk>"]
    counts = [0] + [c for t, c in items if t != "<unk>"]
    v = Vocab(tokens, counts)
    for suffix in (".txt", ".json"):
        w = Vocab.load(v.save(d / f"v{suffix}"))
        assert w.itos == v.itos and w.counts.tolist() == v.counts.tolist() and w.unk == "<unk>"
