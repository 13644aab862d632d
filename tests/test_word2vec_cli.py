"""`groundup word2vec ...` end to end on a tiny corpus: the commands chain, errors are one line."""
import json

import numpy as np

from groundup.cli import main


def _corpus(tmp_path):
    rng = np.random.default_rng(0)
    a, b = [f"a{i}" for i in range(6)], [f"b{i}" for i in range(6)]
    lines = [" ".join((a if k % 2 else b)[i] for i in rng.integers(0, 6, 10)) for k in range(300)]
    p = tmp_path / "c.txt"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_train_query_export_evaluate(tmp_path, capsys):
    c = _corpus(tmp_path)
    out = tmp_path / "v.bin"
    assert main(["word2vec", "train", str(c), "--arch", "cbow", "--loss", "hs", "--dim", "12",
                 "--window", "3", "--sample", "0", "--min-count", "1", "--epochs", "3",
                 "--threads", "1", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["vocab_size"] == 12 and summary["config"]["loss"] == "hs"
    assert main(["word2vec", "similar", str(out), "a1", "--topn", "3", "--json"]) == 0
    near = [d["word"] for d in json.loads(capsys.readouterr().out)["neighbours"]]
    assert all(w.startswith("a") for w in near), near
    txt = tmp_path / "v.txt"
    assert main(["word2vec", "export", str(out), "-o", str(txt)]) == 0
    assert txt.read_text().startswith("12 12\n")
    assert main(["word2vec", "analogy", str(txt), "a1", "a2", "b1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["answers"]) == 5
    pairs = tmp_path / "p.tsv"
    pairs.write_text("a1\ta2\t9\na1\tb1\t1\nb2\tb3\t8\na3\tb4\t2\n")
    q = tmp_path / "q.txt"
    q.write_text(": s\na1 a2 b1 b2\n")
    assert main(["word2vec", "evaluate", str(out), "--similarity", str(pairs), "--analogies", str(q),
                 "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["similarity"][str(pairs)]["pairs"] == 4
    assert ev["analogies"][str(q)]["answered"] == 1


def test_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"3 4\nword ")
    assert main(["word2vec", "similar", str(bad), "word"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("groundup: error:") and "truncated" in err and "\n" not in err
    assert main(["word2vec", "train", str(tmp_path / "none.txt"), "-o", str(tmp_path / "x.bin")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["word2vec", "train", str(_corpus(tmp_path)), "--window", "0", "-o", str(tmp_path / "x.bin")]) == 2
    assert "window must be >= 1, got 0" in capsys.readouterr().err
    assert main(["word2vec", "evaluate", str(bad)]) == 2


def test_text_options_recorded_and_stdin_refused(tmp_path, capsys, monkeypatch):
    import io
    import sys

    from groundup.text.word2vec.formats import load_word2vec

    c = _corpus(tmp_path)
    out = tmp_path / "v.txt"
    assert main(["word2vec", "train", str(c), "--dim", "8", "--min-count", "1", "--max-vocab", "5",
                 "--tokenizer", "char", "--epochs", "1", "--threads", "1", "-o", str(out)]) == 0
    wv = load_word2vec(out)
    assert len(wv) == 5 and wv.text.tokenizer == "char" and wv.text.max_vocab == 5
    # word2vec reads its corpus twice (vocabulary, then training): stdin is a one-line error
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(c.read_bytes())))
    capsys.readouterr()
    assert main(["word2vec", "train", "-", "--min-count", "1", "--epochs", "1", "-o",
                 str(tmp_path / "w.bin")]) == 2
    err = capsys.readouterr().err.strip()
    assert "standard input can be read only once" in err and "\n" not in err
