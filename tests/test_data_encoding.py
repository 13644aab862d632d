"""Reading GB18030/GBK text (--encoding, a reading option the models do not record) and
Simplified/Traditional normalisation (--script, a text option they do record)."""
from __future__ import annotations

import json

import pytest

from groundup.cli import main
from groundup.data.pipeline import TextOptions, check_same_text
from groundup.data.textfile import iter_lines
from groundup.errors import ConfigError, DataError

LINES = ["学而时习之", "不亦说乎", "有朋自远方来", "不亦乐乎", "人不知而不愠"]


@pytest.fixture
def gbk(tmp_path):
    """The same Chinese lines, UTF-8 and GB18030 (which GBK and GB2312 files are subsets of)."""
    (tmp_path / "u8.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (tmp_path / "gb.txt").write_bytes(("\n".join(LINES) + "\n").encode("gb18030"))
    return tmp_path


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("groundup: error: "), err
    return err[0]


def test_reader_names_line_and_suggests_gb18030(gbk):
    # "ok\n" is line 1; in GB18030 学而 is d1 a7 b6 f8, and d1 a7 happens to be valid UTF-8
    # (U+0467), so the first bad byte is b6, at byte offset 5 on line 2
    p = gbk / "mixed.txt"
    p.write_bytes(b"ok\n" + "学而\n".encode("gb18030"))
    assert "学而".encode("gb18030") == b"\xd1\xa7\xb6\xf8"
    for chunk in (1, 2, 1 << 20):   # the position and the hint survive any block boundary
        with pytest.raises(DataError) as e:
            list(iter_lines(p, chunk_size=chunk))
        assert str(e.value) == (f"{p}: not valid UTF-8 (byte 0xb6 at offset 5) on line 2; if it is "
                                f"GB18030/GBK Chinese, read it with --encoding gb18030")
    assert list(iter_lines(gbk / "gb.txt", encoding="gb18030")) == LINES
    assert list(iter_lines(gbk / "gb.txt", encoding="gbk", chunk_size=3)) == LINES
    # Latin-1 text is not taken for GB18030 (its "\xef v" is a rare GBK character, not GB2312)
    latin = gbk / "latin1.txt"
    latin.write_bytes("naïve café\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"offset 2\) on line 1; give its encoding with --encoding NAME"):
        list(iter_lines(latin))
    # bytes that are not GB18030 Chinese either get no such suggestion
    bad = gbk / "ff.txt"
    bad.write_bytes(b"abc\n\xff\xff\n")
    with pytest.raises(DataError, match=r"on line 2; give its encoding with --encoding NAME") as e:
        list(iter_lines(bad))
    assert "gb18030" not in str(e.value).split(";")[1].split("iconv")[0]
    # and a file that is not valid in the encoding asked for says which encoding that was
    with pytest.raises(DataError, match=r"not valid ascii \(byte 0xd1 at offset 3\) on line 2"):
        list(iter_lines(p, encoding="ascii"))


def test_encoding_is_validated_and_not_recorded():
    with pytest.raises(ConfigError, match="unknown encoding 'klingon'"):
        TextOptions(encoding="klingon")
    t = TextOptions(tokenizer="char", encoding="gb18030")
    assert "encoding" not in t.record() and t.record()["script"] == "keep"
    assert TextOptions.from_record(t.record()).encoding == "utf-8"
    # evaluating: the user's encoding is used whatever the model was read with; not checked
    model = TextOptions(tokenizer="char")
    got = check_same_text(model, {"encoding": "gb18030"}, "model m")
    assert got.encoding == "gb18030" and got.tokenizer == "char"


def test_ngram_build_eval_gbk(gbk, tmp_path, capsys):
    m = tmp_path / "m.arpa"
    assert main(["ngram", "build", str(gbk / "gb.txt"), "--order", "2", "--tokenizer", "char",
                 "-o", str(m)]) == 2
    line = _one_error_line(capsys)
    assert "gb.txt: not valid UTF-8" in line and "line 1" in line and "--encoding gb18030" in line
    assert not m.exists()
    assert main(["ngram", "build", str(gbk / "gb.txt"), "--order", "2", "--tokenizer", "char",
                 "--encoding", "gb18030", "-o", str(m)]) == 0
    assert "encoding" not in m.read_text(encoding="utf-8").splitlines()[0]   # not recorded
    # the same text in either encoding gives the same perplexity
    capsys.readouterr()
    ppl = []
    for f, enc in (("gb.txt", ["--encoding", "gb18030"]), ("u8.txt", [])):
        assert main(["ngram", "eval", str(m), str(gbk / f), *enc, "--json"]) == 0
        ppl.append(json.loads(capsys.readouterr().out)["perplexity"])
    assert ppl[0] == ppl[1]
    assert main(["ngram", "score", str(m), str(gbk / "gb.txt"), "--encoding", "gb18030"]) == 0
    assert main(["ngram", "eval", str(m), str(gbk / "gb.txt")]) == 2
    assert "--encoding gb18030" in _one_error_line(capsys)


def test_word2vec_and_lm_train_read_gbk(gbk, tmp_path, capsys):
    from groundup.text.word2vec.formats import load_word2vec

    out = tmp_path / "v.txt"
    base = ["word2vec", "train", str(gbk / "gb.txt"), "--tokenizer", "char", "--dim", "4",
            "--min-count", "1", "--epochs", "1", "--threads", "1", "-o", str(out)]
    assert main(base) == 2 and "--encoding gb18030" in _one_error_line(capsys)
    assert main(base + ["--encoding", "gb18030"]) == 0
    capsys.readouterr()
    assert "学" in load_word2vec(out).key_to_index
    run = tmp_path / "run"
    lm = ["lm", "train", "--tokenizer", "char", "--train", str(gbk / "gb.txt"), "--valid",
          str(gbk / "gb.txt"), "--model", "gru", "--emb-size", "4", "--hidden-size", "4",
          "--batch-size", "2", "--bptt", "3", "--epochs", "1", "--threads", "1", "--out", str(run)]
    assert main(lm) == 2 and "--encoding gb18030" in _one_error_line(capsys)
    assert main(lm + ["--encoding", "gb18030"]) == 0
    capsys.readouterr()
    # the run's own files are read again with the encoding the run was given
    assert main(["lm", "eval", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid_perplexity"] > 1
    # a checkpoint of before --script/--encoding (its saved config lacks both) still loads
    from groundup.train.engine import load_model
    from groundup.train.state_io import load_state, save_state

    payload = load_state(run / "best.pt")
    for key in ("script", "encoding"):
        del payload["config"]["data"][key]
    save_state(tmp_path / "old.pt", payload)
    _, cfg, _ = load_model(tmp_path / "old.pt")
    assert (cfg.data.tokenizer, cfg.data.script, cfg.data.encoding) == ("char", "keep", "utf-8")


def test_script_normalisation(gbk, tmp_path, capsys):
    pytest.importorskip("opencc")
    t = TextOptions(tokenizer="char", script="simplified")
    assert t.get_tokenizer()("學而時習之") == list("学而时习之")
    assert TextOptions(tokenizer="char", script="traditional", lowercase=True).get_tokenizer()(
        "学习 NLP") == ["學", "習", "nlp"]
    with pytest.raises(ConfigError, match="script must be one of keep, simplified, traditional"):
        TextOptions(script="pinyin")
    assert TextOptions.from_record(t.record()) == t
    # a Traditional training file, normalised: the model's words are Simplified, and it records it
    trad = tmp_path / "trad.txt"
    trad.write_text("學而時習之\n不亦說乎\n有朋自遠方來\n不亦樂乎\n", encoding="utf-8")
    m = tmp_path / "m.arpa"
    assert main(["ngram", "build", str(trad), "--order", "2", "--tokenizer", "char", "--script",
                 "simplified", "-o", str(m)]) == 0
    text = m.read_text(encoding="utf-8")
    assert '"script": "simplified"' in text.splitlines()[0] and "\t习\t" in text and "\t習\t" not in text
    capsys.readouterr()
    # eval reads Traditional test text the model's way; another --script is an error
    assert main(["ngram", "eval", str(m), str(trad), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["oov"] == 0
    assert main(["ngram", "eval", str(m), str(trad), "--script", "keep"]) == 2
    assert "built with --script simplified, not keep" in _one_error_line(capsys)


def test_old_records_without_script_still_load(tmp_path):
    """Models written before --script existed: an ARPA record, a word2vec trailer and an LM
    checkpoint's config without the key load with script keep."""
    from groundup.text.ngram import NgramModel
    from groundup.text.word2vec.formats import load_word2vec

    old = '{"tokenizer": "char", "lowercase": false, "min_count": 1, "max_vocab": 0}'
    arpa = tmp_path / "old.arpa"
    arpa.write_text(f"# groundup-text {old}\n\n\\data\\\nngram 1=3\n\n\\1-grams:\n-0.5\t<s>\n"
                    f"-0.3\t</s>\n-0.3\t中\n\n\\end\\\n", encoding="utf-8")
    m = NgramModel.load(arpa)
    assert m.text == TextOptions(tokenizer="char") and m.text.script == "keep"
    vec = tmp_path / "old.txt"
    vec.write_text(f"1 2\n中 0.1 0.2\n#groundup-text {old}\n", encoding="utf-8")
    assert load_word2vec(vec).text.tokenizer == "char"
    assert TextOptions.from_record(json.loads(old)).script == "keep"


def test_segment_reads_gbk(gbk, tmp_path, capsys):
    pytest.importorskip("jieba")
    from groundup.data.zh import cut

    assert main(["segment", str(gbk / "gb.txt")]) == 2
    assert "--encoding gb18030" in _one_error_line(capsys)
    out = tmp_path / "seg.txt"
    assert main(["segment", str(gbk / "gb.txt"), "--encoding", "gb18030", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == [" ".join(cut(l)) for l in LINES]
    assert main(["segment", str(gbk / "gb.txt"), "--encoding", "klingon"]) == 2
    assert "unknown encoding 'klingon'" in _one_error_line(capsys)
