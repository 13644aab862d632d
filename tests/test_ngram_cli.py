"""The `groundup ngram` command-line contract. Two tests run it as a subprocess like a user
would (stdout holds exactly one JSON object; bad input gives one line and exit 2); the rest call
``groundup.cli.main`` in-process, since every interpreter start costs seconds here."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from groundup.text.ngram import NgramModel

DATA = Path(__file__).parent / "data"
ENV = {**os.environ, "GROUNDUP_PROGRESS": "0"}


def run(*args):
    return subprocess.run([sys.executable, "-m", "groundup.cli", "ngram", *map(str, args)],
                          capture_output=True, text=True, env=ENV, timeout=300)


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def cli(capsys):
    from groundup.cli import main

    def call(*args):
        code = main(["ngram", *map(str, args)])
        out = capsys.readouterr()
        return Result(code, out.out, out.err)
    return call


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from groundup.cli import main

    out = tmp_path_factory.mktemp("cli") / "m.arpa"
    assert main(["ngram", "build", str(DATA / "ngram_shakespeare.txt"), "--order", "3",
                 "-o", str(out)]) == 0
    return out


def test_build_writes_the_lmplz_model(model):
    gold = (DATA / "ngram_shakespeare.o3.arpa").read_text().splitlines()
    ours = model.read_text().splitlines()
    assert [l for l in ours if l.startswith("ngram ")] == [l for l in gold if l.startswith("ngram ")]


def test_eval_json_is_one_object(model):
    r = run("eval", model, DATA / "ngram_shakespeare60.txt", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)  # exactly one JSON document on stdout
    assert {"perplexity", "perplexity_excl_oov", "tokens", "oov"} <= set(out)
    lines = (DATA / "ngram_shakespeare60.txt").read_text().splitlines()
    assert out["tokens"] == sum(len(l.split()) + 1 for l in lines)
    assert 1 < out["perplexity"] < 100


def test_score_rank_and_generate(model, cli):
    r = cli("score", model, "--permute", "speak , speak .", "--rank", "--top", "1", "--json")
    assert r.returncode == 0, r.stderr
    best = json.loads(r.stdout)["sentences"]
    assert len(best) == 1 and best[0]["text"] == "speak , speak ."
    r = cli("generate", model, "-n", 3, "--seed", 4, "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)["sentences"]) == 3


def test_chinese_characters(tmp_path, cli):
    train = tmp_path / "zh.txt"
    train.write_text("学而时习之\n不亦说乎\n有朋自远方来\n不亦乐乎\n", encoding="utf-8")
    m = tmp_path / "zh.npz"
    assert cli("build", train, "--order", 2, "--tokenizer", "char", "-o", m).returncode == 0
    # the model remembers its tokenizer: scoring reads the sentences its way
    r = cli("score", m, "-s", "学而时习之", "-s", "之习时而学", "--rank", "--json")
    assert json.loads(r.stdout)["sentences"][0]["text"] == "学而时习之"
    # and evaluating it with another tokenizer is an error, not a number
    r = cli("eval", m, train, "--tokenizer", "word")
    assert r.returncode == 2 and "built with --tokenizer char, not word" in r.stderr
    assert cli("eval", m, train, "--tokenizer", "char").returncode == 0


def test_min_count_maps_rare_words_to_unk_and_the_arpa_records_it(tmp_path, cli):
    """--min-count 2: words seen once become <unk> before counting; the ARPA file records the
    text options in a '#' line that the kenlm module skips."""
    train = tmp_path / "t.txt"
    train.write_text("a b a c\nb a d\n", encoding="utf-8")   # c and d are seen once
    m = tmp_path / "m.arpa"
    r = cli("build", train, "--order", 2, "--min-count", 2, "-o", m, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["text"] == {"tokenizer": "spaces", "lowercase": False, "script": "keep",
                                            "min_count": 2, "max_vocab": 0}
    text = m.read_text()
    assert text.startswith('# groundup-text {"tokenizer": "spaces"') and "\tc\t" not in text
    assert "\t<unk>\t" in text
    kenlm = pytest.importorskip("kenlm")
    km = kenlm.Model(str(m))
    ours = NgramModel.load(m)
    assert ours.text.min_count == 2
    assert abs(km.score("a b a", bos=True, eos=True) - ours.score("a b a")) < 1e-4
    r = cli("eval", m, train, "--min-count", 1)
    assert r.returncode == 2 and "--min-count 2, not 1" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["build", "MISSING.txt", "--order", 3, "-o", "x.arpa"], "no such file"),
    (["build", "EMPTY", "--order", 3, "-o", "x.arpa"], "is a directory with no files"),
    (["build", DATA / "ngram_toy.txt", "--order", 0, "-o", "x.arpa"], "order must be an integer >= 1"),
    (["build", DATA / "ngram_toy.txt", "--tokenizer", "bpe", "-o", "x.arpa"], "unknown tokenizer 'bpe'"),
    (["build", DATA / "ngram_toy.txt", "--order", 9, "-o", "x.arpa"], "fewer than the model order"),
    (["eval", DATA / "ngram_toy.txt", DATA / "ngram_toy.txt"], "not an ARPA file"),
    (["score", DATA / "ngram_toy.o2.arpa"], "nothing to score"),
    (["build", DATA / "ngram_toy.txt", "--order", 2, "-o", DATA], "is a folder; give the name of a file"),
    (["eval", DATA / "ngram_toy.o2.arpa", DATA / "ngram_toy.o2.arpa.missing"], "no such file"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path, cli):
    (tmp_path / "EMPTY").mkdir()
    args = [tmp_path / a if a in ("x.arpa", "MISSING.txt", "EMPTY") else a for a in args]
    r = cli(*args)
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("groundup: error:") and message in err[0]
    assert "Traceback" not in r.stderr


def test_binary_input_one_line_exit_2_in_a_real_process(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good line\n\xff\xfe bad\n")
    r = run("build", bad, "--order", 2, "-o", tmp_path / "m.arpa")
    assert r.returncode == 2 and r.stdout == ""
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("groundup: error:") and "offset 10" in err[0]


def parse_arpa_plain(path):
    out, k = {}, 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("\\") and line.endswith("-grams:"):
            k = int(line[1:line.index("-")])
        elif k and line and not line.startswith("\\"):
            f = line.split("\t")
            out[tuple(f[1].split())] = (float(f[0]), float(f[2]) if len(f) > 2 else 0.0)
    return out


def test_degenerate_counts_warn_but_build(tmp_path, cli):
    r = cli("build", DATA / "ngram_toy.txt", "--order", 2, "-o", tmp_path / "m.arpa")
    assert r.returncode == 0
    assert "groundup: warning: order 1: no 1-gram has adjusted count 3" in r.stderr
    ours, gold = parse_arpa_plain(tmp_path / "m.arpa"), parse_arpa_plain(DATA / "ngram_toy.o2.arpa")
    assert ours.keys() == gold.keys()
    assert all(abs(ours[g][0] - v[0]) < 1e-6 and abs(ours[g][1] - v[1]) < 1e-6 for g, v in gold.items())


def test_build_splits_words_as_lmplz_by_default(tmp_path, cli):
    """lmplz separates words on space, tab and CR only: a no-break space or a form feed stays
    inside its word (the novels hold 1,847 and 273 of them); --tokenizer word splits there, and
    a word holding U+3000 (Chinese text's ideographic space) is named in a warning."""
    train = tmp_path / "t.txt"
    train.write_text("a\u00a0b c\td\ne\x0cf g\u3000h a\u00a0b\n", encoding="utf-8")
    m = tmp_path / "m.arpa"
    r = cli("build", train, "--order", 2, "-o", m)
    assert r.returncode == 0, r.stderr
    model = NgramModel.load(m)
    assert set(model.vocab[3:]) == {"a\u00a0b", "c", "d", "e\x0cf", "g\u3000h"}
    assert model.text.tokenizer == "spaces"
    assert "3 word types hold whitespace" in r.stderr and "U+3000 is the ideographic" in r.stderr
    r = cli("build", train, "--order", 2, "--tokenizer", "word", "-o", tmp_path / "w.arpa")
    assert r.returncode == 0 and "hold whitespace" not in r.stderr, r.stderr
    assert set(NgramModel.load(tmp_path / "w.arpa").vocab[3:]) == set("abcdefgh")
