"""groundup.data.zh: jieba segmentation (rjieba, else jieba), the ``zh`` tokenizer, the one-line
error without the zh extra, jieba's dictionary path, OpenCC script conversion."""
from __future__ import annotations

import sys

import pytest

from groundup.data import zh
from groundup.data.tokenize import get_tokenizer
from groundup.errors import ConfigError

INSTALL_LINE = "Chinese word segmentation needs the zh extra: pip install 'groundup[zh]'"


@pytest.fixture
def no_zh_libs(monkeypatch):
    """As if neither rjieba, jieba nor opencc were installed (None in sys.modules makes the
    import raise ImportError); the cached backends are dropped before and after."""
    for name in ("rjieba", "jieba", "opencc"):
        monkeypatch.setitem(sys.modules, name, None)
    zh._segmenter.cache_clear()
    zh._converter.cache_clear()
    yield
    zh._segmenter.cache_clear()
    zh._converter.cache_clear()


@pytest.fixture(params=["rjieba", "jieba"])
def backend(request, monkeypatch):
    """Run a test once with each library: rjieba, then jieba alone (rjieba hidden)."""
    pytest.importorskip(request.param)
    if request.param == "jieba":
        monkeypatch.setitem(sys.modules, "rjieba", None)
    zh._segmenter.cache_clear()
    yield request.param
    zh._segmenter.cache_clear()


def test_cut_hand_examples(backend):
    assert zh.backend() == backend
    # jieba's README sentence; whitespace (ASCII, tab, ideographic U+3000, no-break) separates
    # and is dropped
    assert zh.cut("我来到北京清华大学") == ["我", "来到", "北京", "清华大学"]
    assert zh.cut(" 我爱\u3000北京\t天安门\u00a0ok  ") == ["我", "爱", "北京", "天安门", "ok"]
    # a Latin run outside the dictionary is cut as jieba's HMM step cuts it (rjieba alone would
    # keep N-gram and 3-2 whole); a decimal number stays whole; C++ is a dictionary word
    # (我用 is the HMM's guess at a word outside the dictionary: jieba's output, kept)
    assert zh.cut("我用GPT4写了3.5个N-gram模型") == ["我用", "GPT4", "写", "了", "3.5", "个",
                                                 "N", "-", "gram", "模型"]
    assert zh.cut("比分3-2，学C++") == ["比分", "3", "-", "2", "，", "学", "C++"]
    assert zh.cut("") == [] and zh.cut(" \t ") == []
    # deterministic: the same line twice gives the same tokens
    line = "他说的确实在理，结婚的和尚未结婚的都来了"
    assert zh.cut(line) == zh.cut(line) == ["他", "说", "的", "确实", "在理", "，", "结婚", "的",
                                            "和", "尚未", "结婚", "的", "都", "来", "了"]


def test_registry_entry():
    tok = get_tokenizer("zh")
    assert (tok.name, tok.joiner, tok.eos) == ("zh", " ", "<eos>")
    pytest.importorskip("jieba")
    assert tok("我爱北京") == ["我", "爱", "北京"]
    assert get_tokenizer("zh", lowercase=True)("我爱NLP") == ["我", "爱", "nlp"]


def test_missing_extra_is_one_line(no_zh_libs, tmp_path, capsys):
    with pytest.raises(ConfigError) as e:
        zh.cut("我爱北京")
    assert str(e.value) == INSTALL_LINE
    # the registry entry is there all the same; calling it gives the same error
    tok = get_tokenizer("zh")
    with pytest.raises(ConfigError, match="pip install 'groundup\\[zh\\]'"):
        tok("我爱北京")
    with pytest.raises(ConfigError, match="Simplified/Traditional conversion needs the zh extra"):
        zh.convert_script("漢字")
    # from the command line: one line, exit 2
    from groundup.cli import main

    f = tmp_path / "zh.txt"
    f.write_text("我爱北京\n天安门\n", encoding="utf-8")
    code = main(["ngram", "build", str(f), "--order", "2", "--tokenizer", "zh",
                 "-o", str(tmp_path / "m.arpa")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"groundup: error: {INSTALL_LINE}"]
    assert not (tmp_path / "m.arpa").exists()


def test_jieba_dictionary_path(monkeypatch):
    pytest.importorskip("jieba")
    p = zh.jieba_dictionary_path()
    assert p is not None and p.name == "dict.txt"
    with open(p, encoding="utf-8") as f:
        word, count, tag = f.readline().split()   # "AT&T 3 nz"
    assert int(count) > 0 and word and tag
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert zh.jieba_dictionary_path() is None


def test_convert_script():
    pytest.importorskip("opencc")
    assert zh.convert_script("漢字簡體，我們") == "汉字简体，我们"
    assert zh.convert_script("汉字简体，我们", to="traditional") == "漢字簡體，我們"
    assert zh.convert_script("abc 123 汉字") == "abc 123 汉字"   # already Simplified: unchanged
    with pytest.raises(ConfigError, match="script must be one of simplified, traditional, got 'pinyin'"):
        zh.convert_script("汉字", to="pinyin")


def _lines(shared_data):
    root = shared_data / "zh"
    tat = root / "corpus" / "tatoeba-cmn" / "tatoeba_cmn_sentences.tsv"
    ud = root / "ud-gsdsimp" / "zh_gsdsimp-ud-test.conllu"
    cmrc = root / "corpus" / "cmrc2017" / "cloze.valid.doc_query"
    if not (tat.is_file() and ud.is_file() and cmrc.is_file()):
        pytest.skip("Chinese corpora not staged")
    out = {}
    with open(tat, encoding="utf-8") as f:
        out["tatoeba"] = [next(f).split("\t")[2].rstrip("\n") for _ in range(300)]
    with open(ud, encoding="utf-8") as f:
        out["ud"] = [l[len("# text = "):].rstrip("\n") for l in f if l.startswith("# text = ")]
    with open(cmrc, encoding="utf-8") as f:   # machine-segmented: the spaces taken out
        out["cmrc"] = [next(f).split(" ||| ", 1)[1].replace(" ", "").rstrip("\n") for _ in range(300)]
    return out


def test_rjieba_and_jieba_agree_on_staged_text(shared_data, monkeypatch):
    """rjieba (with jieba's cut of Latin runs) and jieba give the same tokens on 300 Tatoeba
    lines, UD GSDSimp test's 500 sentences and 300 CMRC 2017 lines (measured on all of Tatoeba:
    3 of 78,512 lines differ; see groundup.data.zh)."""
    pytest.importorskip("rjieba")
    pytest.importorskip("jieba")
    corpora = _lines(shared_data)
    zh._segmenter.cache_clear()
    fast = {k: [zh.cut(l) for l in v] for k, v in corpora.items()}
    monkeypatch.setitem(sys.modules, "rjieba", None)
    zh._segmenter.cache_clear()
    try:
        assert zh.backend() == "jieba"
        for k, lines in corpora.items():
            assert len(lines) >= 300
            differ = [(l, a, zh.cut(l)) for l, a in zip(lines, fast[k]) if a != zh.cut(l)]
            assert differ == [], k
    finally:
        zh._segmenter.cache_clear()


def test_every_training_command_takes_tokenizer_zh(tmp_path, capsys):
    """word2vec train and lm train with --tokenizer zh: jieba's words, recorded, no warning
    about unsegmented text (ngram build: tests/test_ngram_zh.py)."""
    pytest.importorskip("jieba")
    from groundup.cli import main
    from groundup.text.word2vec.formats import load_word2vec
    from groundup.train.engine import load_model

    text = tmp_path / "zh.txt"
    text.write_text("我来到北京清华大学\n我爱北京天安门\n北京的大学很多\n" * 4, encoding="utf-8")
    vec = tmp_path / "v.txt"
    assert main(["word2vec", "train", str(text), "--tokenizer", "zh", "--dim", "4", "--min-count", "1",
                 "--epochs", "1", "--threads", "1", "-o", str(vec)]) == 0
    wv = load_word2vec(vec)
    assert wv.text.tokenizer == "zh" and {"北京", "清华大学", "天安门"} <= set(wv.words)
    run = tmp_path / "run"
    assert main(["lm", "train", "--tokenizer", "zh", "--train", str(text), "--valid", str(text),
                 "--model", "gru", "--emb-size", "4", "--hidden-size", "4", "--batch-size", "2",
                 "--bptt", "3", "--epochs", "1", "--threads", "1", "--out", str(run)]) == 0
    _, cfg, vocab = load_model(run)
    assert cfg.data.tokenizer == "zh" and "清华大学" in vocab.stoi
    assert "warning" not in capsys.readouterr().err
