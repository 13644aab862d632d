"""The one text pipeline: standard input, the shared text options, the model-record check,
and the vocabulary orders each technique relies on."""
import io
import sys

import pytest

from groundup.data.corpora import load_corpus
from groundup.data.pipeline import TextOptions, build_vocab, check_same_text, read_corpus
from groundup.data.vocab import Vocab
from groundup.errors import ConfigError, DataError


def _stdin(monkeypatch, data: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_stdin_is_read_once(monkeypatch):
    _stdin(monkeypatch, "\ufeffA b\r\n中文\n".encode())
    c = read_corpus("-", TextOptions(tokenizer="char", lowercase=True), eos="<eos>")
    assert list(c) == [["a", "b", "<eos>"], ["中", "文", "<eos>"]]
    with pytest.raises(DataError, match="standard input can be read only once"):
        list(c)


def test_stdin_not_utf8_is_one_error(monkeypatch):
    _stdin(monkeypatch, "ok\n".encode() + "中文".encode("gb18030"))
    with pytest.raises(DataError, match=r"<stdin>: not valid UTF-8 \(byte 0xd6 at offset 3\) on line 2; "
                                        r"if it is GB18030/GBK Chinese, read it with --encoding gb18030"):
        list(load_corpus("-"))


def test_text_options_validate_and_round_trip():
    t = TextOptions(tokenizer="char", min_count=2, max_vocab=100)
    assert TextOptions.from_record(t.record()) == t and TextOptions.from_record(None) is None
    assert t.max_size == 100 and TextOptions().max_size is None
    for bad in (dict(tokenizer="bpe"), dict(min_count=0), dict(max_vocab=-1)):
        with pytest.raises(ConfigError):
            TextOptions(**bad)


def test_evaluating_with_other_text_options_is_an_error():
    built = TextOptions(tokenizer="char", min_count=2)
    assert check_same_text(built, {}, "m") == built                       # the model's own
    assert check_same_text(built, {"tokenizer": "char"}, "m") == built    # the same, spelled out
    with pytest.raises(ConfigError, match="m was built with --tokenizer char, not word"):
        check_same_text(built, {"tokenizer": "word"}, "m")
    with pytest.raises(ConfigError, match="--min-count 2, not 1"):
        check_same_text(built, {"min_count": "1"}, "m")
    # a model from before the record: what is given, else the defaults
    assert check_same_text(None, {"tokenizer": "char"}, "m").tokenizer == "char"


def test_language_model_order_specials_by_count():
    """specials_first=False: <eos> and <unk> take their place by count like any word (the order
    of the language models' checkpoints since the first one), ties in first-seen order."""
    lines = [["b", "a", "<eos>"], ["a", "c", "<eos>"], ["<unk>", "<eos>"]]
    v = Vocab.build(lines, specials=("<eos>",), specials_first=False)
    assert v.itos == ["<eos>", "a", "b", "c", "<unk>"] and v.unk == "<unk>"
    v = Vocab.build([["x", "x"]], specials=("<eos>",), specials_first=False)
    assert v.itos == ["x", "<unk>", "<eos>"]                              # absent specials last
    v = build_vocab(lines, TextOptions(min_count=2), specials=("<eos>",), specials_first=False)
    assert v.itos == ["<eos>", "a", "<unk>"] and v.encode(["b"]).tolist() == [2]
    assert v.total == 8 and v.map_unknown(["a", "zz"]) == ["a", "<unk>"]
