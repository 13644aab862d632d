"""`groundup segment`: one output line per input line, files and stdin, -o, --save/--model,
the missing zh extra and bad input as one line with exit code 2."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from groundup import cli

DICT = "研究 10 n\n生命 10 n\n的 20 uj\n起源 3 n\n研究生 5 n\n命 2 n\n"
TEXT = "研究生命的起源\n\n我用GPT4写了3.5个 N-gram 的模型\n   \n"
# unigram over DICT (tests/test_segment.py computes the first line by hand); the empty and the
# blank line stay (empty) lines; Latin runs and 3.5 whole, 模型 is outside DICT: two atoms
EXPECTED = "研究 生命 的 起源\n\n我 用 GPT4 写 了 3.5 个 N - gram 的 模 型\n\n"


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "dict.txt"
    d.write_text(DICT, encoding="utf-8")
    t = tmp_path / "in.txt"
    t.write_text(TEXT, encoding="utf-8")
    return d, t


def _main(args, capsys, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")),
                                                           encoding="utf-8"))
    try:
        rc = cli.main(args)
    except SystemExit as e:  # argparse's usage errors
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_ngram_file_and_output(files, tmp_path, capsys):
    d, t = files
    rc, out, _ = _main(["segment", str(t), "--method", "ngram", "--dictionary", str(d)], capsys)
    assert rc == 0 and out == EXPECTED
    o = tmp_path / "out.txt"
    rc, out, _ = _main(["segment", str(t), str(t), "--method", "ngram", "--dictionary", str(d),
                        "-o", str(o)], capsys)
    assert rc == 0 and out == ""
    assert o.read_text(encoding="utf-8") == EXPECTED * 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_ngram_stdin_subprocess(files):
    d, _ = files
    env = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    r = subprocess.run([sys.executable, "-m", "groundup", "segment", "--method", "ngram",
                        "--dictionary", str(d)], input=TEXT.encode("utf-8"), capture_output=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode("utf-8") == EXPECTED


def test_train_save_model(files, tmp_path, capsys):
    d, t = files
    corpus = tmp_path / "seg.txt"
    corpus.write_text("1 ||| 研究 生命 的 起源 。\n2 ||| 他 是 研究生 。\n1 ||| 研究 生命 的 起源 。\n"
                      "他 是 研究生 的 老师 。\n", encoding="utf-8")
    m = tmp_path / "seg.npz"
    rc, out, err = _main(["segment", "--method", "ngram", "--dictionary", str(d), "--train",
                          str(corpus), "--min-count", "1", "--save", str(m)], capsys)
    assert rc == 0 and out == "" and "bigram" in err and m.stat().st_size > 0
    rc, out, _ = _main(["segment", str(t), "--method", "ngram", "--model", str(m)], capsys)
    assert rc == 0 and out.count("\n") == TEXT.count("\n")
    assert out.splitlines()[0] == "研究 生命 的 起源"
    # the saved model scores as the one built in the same run
    rc, again, _ = _main(["segment", str(t), "--method", "ngram", "--dictionary", str(d),
                          "--train", str(corpus), "--min-count", "1"], capsys)
    assert again == out
    # --save refuses to replace what is not a model
    rc, _, err = _main(["segment", "--method", "ngram", "--dictionary", str(d), "--save", str(t)],
                       capsys)
    assert rc == 2 and "not a numpy .npz model" in err and t.read_text(encoding="utf-8") == TEXT


@pytest.mark.parametrize("args, message", [
    (["missing.txt", "--method", "ngram"], "missing.txt: no such file"),
    (["IN", "--method", "ngram", "--order", "3"], "order must be 1 (unigram) or 2"),
    (["IN", "--order", "2"], "is for --method ngram"),
    (["IN", "--method", "ngram", "--model", "IN"], "not a valid groundup segmenter"),
    (["IN", "--method", "ngram", "-o", "IN"], "refusing to overwrite an input"),
    (["-", "-", "--method", "ngram"], "standard input (-) can be read once"),
    (["IN", "--method", "bpe"], "invalid choice"),
])
def test_bad_input_is_one_line(files, capsys, args, message):
    d, t = files
    args = [str(t) if a == "IN" else a for a in args]
    if "--model" not in args and "bpe" not in args:
        args += ["--dictionary", str(d)]
    rc, _, err = _main(["segment", *args], capsys)
    assert rc == 2
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_bad_bytes_are_one_line(files, tmp_path, capsys):
    d, _ = files
    bad = tmp_path / "gbk.txt"
    bad.write_bytes("研究生命".encode("gb18030") + b"\n")
    rc, out, err = _main(["segment", str(bad), "--method", "ngram", "--dictionary", str(d)], capsys)
    assert rc == 2 and out == "" and "not valid UTF-8" in err and len(err.splitlines()) == 1


def test_encoding_option(files, tmp_path, capsys):
    d, _ = files
    gb = tmp_path / "gb.txt"
    gb.write_bytes("研究生命的起源\n".encode("gb18030"))
    rc, out, _ = _main(["segment", str(gb), "--method", "ngram", "--dictionary", str(d),
                        "--encoding", "gb18030"], capsys)
    assert rc == 0 and out == "研究 生命 的 起源\n"
    rc, _, err = _main(["segment", str(gb), "--method", "ngram", "--dictionary", str(d),
                        "--encoding", "nope"], capsys)
    assert rc == 2 and "unknown encoding" in err and len(err.splitlines()) == 1


def test_missing_extra(files, capsys, monkeypatch):
    """Without jieba/rjieba: --method jieba, and --method ngram with no dictionary of its own,
    are one line naming the install command."""
    from groundup.data import zh

    _, t = files
    monkeypatch.setitem(sys.modules, "rjieba", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "jieba", None)
    monkeypatch.setattr(zh, "jieba_dictionary_path", lambda: None)
    zh._segmenter.cache_clear()
    try:
        for method in ("jieba", "ngram"):
            rc, out, err = _main(["segment", str(t), "--method", method], capsys)
            assert rc == 2 and out == "" and zh.INSTALL in err and len(err.splitlines()) == 1, err
    finally:
        zh._segmenter.cache_clear()


def test_jieba_method(files, capsys):
    pytest.importorskip("jieba")
    from groundup.data.zh import cut

    _, t = files
    rc, out, _ = _main(["segment", str(t)], capsys)
    assert rc == 0
    lines = TEXT.split("\n")[:-1]
    assert out.split("\n")[:-1] == [" ".join(cut(line)) for line in lines]
    assert out.split("\n")[1] == "" and "GPT4" in out.split()



def test_train_files_are_read_in_the_given_encoding(files, tmp_path, capsys):
    d, t = files
    lines = "研究 生命 的 起源 。\n他 是 研究生 的 老师 。\n"
    utf8, gb = tmp_path / "seg-utf8.txt", tmp_path / "seg-gb.txt"
    utf8.write_text(lines, encoding="utf-8")
    gb.write_bytes(lines.encode("gb18030"))
    base = ["segment", str(t), "--method", "ngram", "--dictionary", str(d), "--min-count", "1"]
    rc, want, _ = _main(base + ["--train", str(utf8)], capsys)
    assert rc == 0
    rc, out, err = _main(base + ["--train", str(gb)], capsys)  # GB18030 read as UTF-8: one line
    assert rc == 2 and out == "" and "--encoding gb18030" in err and len(err.strip().splitlines()) == 1
    tg = tmp_path / "in-gb.txt"
    tg.write_bytes(TEXT.encode("gb18030"))
    rc, out, _ = _main(["segment", str(tg), "--method", "ngram", "--dictionary", str(d),
                        "--min-count", "1", "--train", str(gb), "--encoding", "gb18030"], capsys)
    assert rc == 0 and out == want
