"""`groundup data ...`: the error contract (one line, exit 2, no traceback) run as a real
subprocess, and the happy paths in-process."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from groundup.cli import main


def _run(*args, env_extra=None):
    env = dict(os.environ, GROUNDUP_PROGRESS="0", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "groundup.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def _bad_inputs(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "dir").mkdir(exist_ok=True)
    (tmp_path / "bin.dat").write_bytes(b"\x7fELF\x02\x01\x00\x00binary")
    (tmp_path / "latin1.txt").write_bytes("caf\u00e9\n".encode("utf-8") + b"na\xefve\n")  # 0xef at 8
    return [
        (str(tmp_path / "missing.txt"), "missing.txt: no such file"),
        (str(tmp_path / "empty.txt"), "empty.txt: file is empty"),
        (str(tmp_path / "dir"), "is a directory with no files"),
        (str(tmp_path / "bin.dat"), "looks binary (NUL byte at offset 6)"),
        (str(tmp_path / "latin1.txt"), "not valid UTF-8 (byte 0xef at offset 8)"),
    ]


def test_info_bad_input_is_one_line_exit_2_subprocess(tmp_path):
    # the real entry point in a fresh interpreter (it imports torch via other areas' commands,
    # so two cases here; every case runs in-process below)
    cases = _bad_inputs(tmp_path)
    for path, msg in [cases[0], cases[4]]:
        r = _run("data", "info", path, "--json")
        assert r.returncode == 2, (path, r.stderr)
        assert r.stdout == ""
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("groundup: error: "), r.stderr
        assert msg in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("case", range(5))
def test_info_bad_input_in_process(tmp_path, capsys, case):
    path, msg = _bad_inputs(tmp_path)[case]
    assert main(["data", "info", path, "--json"]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.count("\n") == 1 and cap.err.startswith("groundup: error: ")
    assert msg in cap.err


def test_unknown_corpus_and_split_are_one_line(capsys):
    assert main(["data", "download", "nope"]) == 2
    assert capsys.readouterr().err.startswith("groundup: error: unknown corpus 'nope'")
    assert main(["data", "info", "wikitext2", "--split", "dev2"]) == 2
    assert "unknown split 'dev2'" in capsys.readouterr().err


def test_list_json(capsys):
    assert main(["data", "list", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in out["corpora"]}
    assert rows["wikitext2"]["status"] == "bundled"
    assert rows["text8"]["license"] and rows["ptb"]["words"] == 887_521 + 70_390 + 78_669


def test_list_table(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("| name | status | license")
    assert "| wikitext2 | bundled | CC BY-SA 3.0 |" in out


def test_info_json_on_a_chinese_file(tmp_path, capsys):
    p = tmp_path / "zh.txt"
    p.write_text("我爱北京\n北京 欢迎 你\n", encoding="utf-8")
    assert main(["data", "info", str(p), "--tokenizer", "char", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # 我 爱 北 京 <eos> / 北 京 欢 迎 你 <eos>: 11 tokens, types 我 爱 北 京 欢 迎 你 <eos> = 8
    assert (out["lines"], out["tokens"], out["types"]) == (2, 11, 8)
    assert out["tokenizer"] == "char" and out["eos"] == "<eos>"


def test_info_reads_gb18030_with_encoding(tmp_path, capsys):
    p = tmp_path / "gb.txt"
    p.write_bytes("我爱北京\n北京 欢迎 你\n".encode("gb18030"))
    assert main(["data", "info", str(p), "--tokenizer", "char"]) == 2
    err = capsys.readouterr().err
    assert "--encoding gb18030" in err and len(err.strip().splitlines()) == 1
    assert main(["data", "info", str(p), "--tokenizer", "char", "--encoding", "gb18030", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["lines"], out["tokens"], out["types"]) == (2, 11, 8)


def test_info_oov_against_train(tmp_path, capsys):
    d = tmp_path / "c"
    d.mkdir()
    (d / "train.txt").write_text("a b <unk>\nb c\n")
    (d / "test.txt").write_text("a z <unk>\nz y\n")
    assert main(["data", "info", str(d), "--split", "test", "--oov", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # test tokens: a z <unk> <eos> z y <eos> = 7; unseen in train: z, z, y -> 3 tokens, 2 types
    assert (out["tokens"], out["oov_tokens"], out["oov_types"]) == (7, 3, 2)
    assert out["oov_rate"] == pytest.approx(3 / 7)


def test_download_of_a_bundled_corpus_is_a_no_op(capsys):
    assert main(["data", "download", "wikitext2"]) == 0
    cap = capsys.readouterr()
    assert "already available (bundled" in cap.err and cap.out.strip().endswith("wikitext-2")


def test_info_bundled_wikitext2_valid(capsys):
    assert main(["data", "info", "wikitext2", "--split", "valid", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["lines"], out["tokens"]) == (3760, 217_646) and out["license"] == "CC BY-SA 3.0"


def test_download_to_dest_from_file_url(tmp_path, monkeypatch, capsys):
    from groundup.data import corpora

    src = tmp_path / "src.txt"
    src.write_text("a b\n")
    import hashlib

    c = corpora.Corpus(name="tiny", title="t", license="test", folder="tiny",
                       files=(corpora.CorpusFile("tiny.txt", "train", hashlib.sha256(b"a b\n").hexdigest(), 4,
                                                 url=src.as_uri()),))
    reg = dict(corpora._registry(), tiny=c)
    monkeypatch.setattr(corpora, "_REGISTRY", reg)
    monkeypatch.setenv("GROUNDUP_PROGRESS", "0")
    assert main(["data", "download", "tiny", "--dest", str(tmp_path / "d")]) == 0
    assert (tmp_path / "d" / "tiny.txt").read_text() == "a b\n"
    assert capsys.readouterr().out.strip() == str(tmp_path / "d")
    (tmp_path / "f").write_text("x")
    assert main(["data", "download", "tiny", "--dest", str(tmp_path / "f")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


@pytest.mark.data
def test_info_eval_set_counts_words(shared_data, capsys):
    if not (shared_data / "word-eval" / "wordsim353.tsv").exists():
        pytest.skip("word-eval not in shared data")
    assert main(["data", "info", "wordsim353", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # SOURCES.md: 355 lines, 1,072 words (wc -w)
    assert (out["split"], out["lines"], out["tokens"]) == ("test", 355, 1072)


@pytest.mark.data
def test_verify_ptb(shared_data, capsys):
    if not (shared_data / "ptb" / "ptb.test.txt").exists():
        pytest.skip("PTB not in shared data")
    assert main(["data", "verify", "ptb", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
