"""Text that looks like Chinese without spaces under --tokenizer word: one warning line naming
--tokenizer char and zh, from every command that builds a model (ngram build, word2vec train,
lm train), and none for segmented Chinese, English, or the char tokenizer."""
from __future__ import annotations

import warnings

import pytest

from groundup.cli import main
from groundup.data.pipeline import TextOptions, read_corpus
from groundup.data.tokenize import SpacingCheck, word_tokens
from groundup.errors import GroundupWarning

UNSEGMENTED = ["我们试试看！", "我该去睡觉了。", "你在干什么啊？", "这是什么啊？", "今天是六月十八号，也是我的生日！",
               "学而时习之，不亦说乎？", "有朋自远方来，不亦乐乎？"] * 6
SEGMENTED = ["为了 让 森林 变 得 更加 茂盛 ， 大伙 都 在 努力 地 工作 着 。",
             "小 猴 呢 ， 整天 从 这 棵 树 跳 到 那 棵 树 。"] * 20


def _check(lines) -> SpacingCheck:
    c = SpacingCheck()
    for line in lines:
        c.add(word_tokens(line))
    return c


def test_rule_by_hand():
    assert _check(UNSEGMENTED).unsegmented
    assert not _check(SEGMENTED).unsegmented
    assert not _check(["the cat sat on the mat ."] * 50).unsegmented
    # fewer than 10 CJK characters: too little to say
    assert not _check(["学而时习之"]).unsegmented and _check(["学而时习之不亦说乎？"]).unsegmented
    # one space per 20 CJK characters is segmented enough; one per 21 is not
    assert not _check(["学" * 10 + " " + "习" * 10]).unsegmented
    assert _check(["学" * 10 + " " + "习" * 11]).unsegmented
    # more than half the characters must be CJK: Latin text with some Chinese in it passes
    assert not _check(["x" * 13 + "中" * 12]).unsegmented and _check(["x" * 11 + "中" * 12]).unsegmented
    # only the first LINES lines count
    c = _check(["a b c d"] * SpacingCheck.LINES + UNSEGMENTED)
    assert c.lines == SpacingCheck.LINES and not c.unsegmented


@pytest.fixture
def texts(tmp_path):
    (tmp_path / "unseg.txt").write_text("\n".join(UNSEGMENTED) + "\n", encoding="utf-8")
    (tmp_path / "seg.txt").write_text("\n".join(SEGMENTED) + "\n", encoding="utf-8")
    return tmp_path


def _warnings(err: str) -> list[str]:
    """The spacing warnings among the stderr lines (the n-gram builder has warnings of its own
    on so small a corpus: its discount fallbacks)."""
    return [l for l in err.splitlines() if l.startswith("groundup: warning:") and "spaces" in l]


def _assert_one_warning(err: str, name: str) -> None:
    w = _warnings(err)
    assert len(w) == 1, err
    assert w[0].startswith(f"groundup: warning: {name}") or name in w[0].split(" looks")[0]
    assert name in w[0] and "--tokenizer char" in w[0] and "--tokenizer zh" in w[0]
    assert "Traceback" not in err and "UserWarning" not in err


def test_python_api_warns_once_per_training_read(texts):
    c = read_corpus(texts / "unseg.txt", TextOptions(), training=True)
    with pytest.warns(GroundupWarning, match="looks like Chinese/Japanese without spaces"):
        assert len(list(c)) == len(UNSEGMENTED)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(c)   # a second pass (word2vec's training epochs) says nothing
        list(read_corpus(texts / "unseg.txt", TextOptions()))                       # not training
        list(read_corpus(texts / "seg.txt", TextOptions(), training=True))          # segmented
        list(read_corpus(texts / "unseg.txt", TextOptions(tokenizer="char"), training=True))


def test_ngram_build_warns(texts, capsys):
    m = texts / "m.arpa"
    assert main(["ngram", "build", str(texts / "unseg.txt"), "--order", "2", "-o", str(m)]) == 0
    _assert_one_warning(capsys.readouterr().err, "unseg.txt")
    for args in (["--tokenizer", "char"], ["--tokenizer", "word", "--max-vocab", "5"]):
        f = "unseg.txt" if args[1] == "char" else "seg.txt"
        out = texts / f"m-{args[1]}.arpa"
        assert main(["ngram", "build", str(texts / f), "--order", "2", *args, "-o", str(out)]) == 0
        assert _warnings(capsys.readouterr().err) == []


def test_word2vec_train_warns_once(texts, capsys):
    out = texts / "v.txt"
    assert main(["word2vec", "train", str(texts / "unseg.txt"), "--dim", "4", "--min-count", "1",
                 "--epochs", "2", "--threads", "1", "-o", str(out)]) == 0
    _assert_one_warning(capsys.readouterr().err, "unseg.txt")


def test_lm_train_on_unsegmented_chinese_is_not_silent(texts, capsys):
    """The issue's case: lm train on unsegmented Chinese would train on whole sentences as
    words (a vocabulary of 7 'words' here, each seen 6 times); it says so, once."""
    common = ["--model", "gru", "--emb-size", "4", "--hidden-size", "4", "--batch-size", "2",
              "--bptt", "3", "--epochs", "1", "--threads", "1"]
    args = ["lm", "train", "--train", str(texts / "unseg.txt"), "--valid", str(texts / "unseg.txt"),
            *common, "--out", str(texts / "run")]
    assert main(args) == 0
    _assert_one_warning(capsys.readouterr().err, "unseg.txt")
    args = ["lm", "train", "--train", str(texts / "seg.txt"), "--valid", str(texts / "seg.txt"),
            *common, "--out", str(texts / "run2")]
    assert main(args) == 0
    assert _warnings(capsys.readouterr().err) == []
