"""`groundup ngram query`: KenLM query's per-word and per-line report, from files or stdin,
checked against the kenlm module (test oracle) on the lmplz-built Shakespeare model."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ARPA = DATA / "ngram_shakespeare.o3.arpa"
LINES = ["the king is dead", "zzz unknown words here", "to be or not to be", "<unk> the"]


def run_query(capsys, monkeypatch, *args, stdin: str | None = None):
    from groundup.cli import main

    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(["ngram", "query", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_words_match_kenlm_full_scores(capsys, monkeypatch):
    kenlm = pytest.importorskip("kenlm")
    code, out, _ = run_query(capsys, monkeypatch, ARPA, "--words", stdin="\n".join(LINES) + "\n")
    assert code == 0
    rows = out.splitlines()
    k = kenlm.Model(str(ARPA))
    total = n = oov = 0
    for line, row in zip(LINES, rows):
        fields = row.split("\t")
        words = [f.rsplit(" ", 2) for f in fields[:-1]]
        ref = list(k.full_scores(line, bos=True, eos=True))
        assert len(words) == len(ref)
        for (surface_id, length, lp), (klp, klen, koov) in zip(words, ref):
            assert int(length) == klen
            assert float(lp) == pytest.approx(klp, abs=1e-4)  # kenlm keeps float32
            assert surface_id.endswith("=0") == koov
        assert fields[-1].startswith("Total: ")
        got_total = float(fields[-1].split()[1])
        assert got_total == pytest.approx(k.score(line), abs=1e-4)
        total += sum(r[0] for r in ref)
        n += len(ref)
        oov += sum(r[2] for r in ref)
    assert rows[len(LINES)].startswith("Perplexity including OOVs:\t")
    assert float(rows[len(LINES)].split("\t")[1]) == pytest.approx(10 ** (-total / n), rel=1e-4)
    assert rows[-2:] == [f"OOVs:\t{oov}", f"Tokens:\t{n}"]


def test_json_lines_files_and_binary(capsys, monkeypatch, tmp_path):
    from groundup.text.ngram import NgramModel

    (tmp_path / "a.txt").write_text("\n".join(LINES[:2]) + "\n")
    (tmp_path / "b.txt").write_text("\n".join(LINES[2:]) + "\n")
    NgramModel.load(ARPA).save(tmp_path / "m.bin")
    results = []
    for model in (ARPA, tmp_path / "m.bin"):
        code, out, _ = run_query(capsys, monkeypatch, model, tmp_path / "a.txt", tmp_path / "b.txt",
                                 "--json", "--words")
        assert code == 0
        objs = [json.loads(l) for l in out.splitlines()]  # one JSON object per line
        assert len(objs) == len(LINES) + 1 and "summary" in objs[-1]
        vocab = set(NgramModel.load(ARPA).vocab) - {"<unk>"}  # a literal <unk> is an OOV too
        assert [o["oov"] for o in objs[:-1]] == [sum(w not in vocab for w in l.split()) for l in LINES]
        assert objs[1]["words"][0]["id"] == 0
        assert objs[-1]["summary"]["tokens"] == sum(o["tokens"] for o in objs[:-1])
        results.append(objs)
    assert results[0] == results[1]  # ARPA and binary: the same numbers


def test_query_summary_equals_eval(capsys, monkeypatch, tmp_path):
    test = DATA / "ngram_shakespeare60.txt"
    code, out, _ = run_query(capsys, monkeypatch, ARPA, test, "--json", "--no-sentences")
    assert code == 0
    summary = json.loads(out)["summary"]
    from groundup.cli import main

    assert main(["ngram", "eval", str(ARPA), str(test), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    for key in ("perplexity", "perplexity_excl_oov", "tokens", "oov", "sentences"):
        assert summary[key] == pytest.approx(ev[key], rel=1e-12), key


def test_query_uses_the_models_text_options(capsys, monkeypatch, tmp_path):
    from groundup.cli import main

    model = tmp_path / "lower.arpa"
    assert main(["ngram", "build", str(DATA / "ngram_toy.txt"), "--order", "2", "--lowercase", "true",
                 "-o", str(model)]) == 0
    line = (DATA / "ngram_toy.txt").read_text().splitlines()[0]
    capsys.readouterr()
    _, lower, _ = run_query(capsys, monkeypatch, model, "--json", stdin=line.lower() + "\n")
    _, upper, _ = run_query(capsys, monkeypatch, model, "--json", stdin=line.upper() + "\n")
    assert json.loads(lower.splitlines()[0]) == json.loads(upper.splitlines()[0])
    code, _, err = run_query(capsys, monkeypatch, model, "--lowercase", "false", stdin="a\n")
    assert code == 2 and err.count("\n") == 1
