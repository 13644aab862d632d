"""Chinese word-vector evaluation sets as they are staged: CA8 / CA_translated analogies (CRLF
line ends, ': section' lines) and COS960 similarity (space-separated 'w1 w2 mean a1 .. a15 ').
Crafted files in those layouts, checked against gensim on the same vectors; then the real files,
when staged, by the number of questions and pairs read."""
from __future__ import annotations

import json

import numpy as np
import pytest

from groundup.cli import main
from groundup.errors import DataError
from groundup.text.word2vec.evaluate import evaluate_analogies, evaluate_word_pairs
from groundup.text.word2vec.formats import save_word2vec
from groundup.text.word2vec.vectors import WordVectors

# a CA8-like file: two sections, CRLF, one malformed line (three words), a trailing blank line
CA8 = [": A",
       "遥 遥远 近 近似", "遥 遥远 新 新鲜", "近 近似 新 新鲜", "新 新鲜 遥 遥远", "近 近似 遥 遥远",
       "高 高大 矮 矮小", "矮 矮小 高 高大", "大 大小 小",
       ": prefix",
       "老虎 虎 老鼠 鼠", "老鼠 鼠 老师 师", "老师 师 老虎 虎", "老虎 虎 老师 师", "老鹰 鹰 老鼠 鼠"]
# a COS960-like file: the mean, then annotators' scores, a trailing space; one pair out of
# vocabulary (龙卷), one pair with a tie in the human score
COS = ["宫殿 城堡 4.0 4 4 4 4 ", "道路 马路 3.5 3 4 3 4 ", "米饭 汽车 0.25 0 1 0 0 ",
       "遥远 近似 1.0 1 1 1 1 ", "老虎 老鼠 1.0 1 1 2 0 ", "龙卷 风暴 3.0 3 3 3 3 ",
       "高大 矮小 0.5 1 0 0 1 "]


def _vectors(words, seed=0, dim=16):
    """Random vectors with the analogies' offsets planted for the first section only (so some
    questions are right and some wrong)."""
    rng = np.random.default_rng(seed)
    vec = {w: rng.normal(size=dim) for w in words}
    off = rng.normal(size=dim)
    for a, b in (("遥", "遥远"), ("近", "近似"), ("新", "新鲜")):
        vec[b] = vec[a] + off + 0.1 * rng.normal(size=dim)
    words = list(vec) + [f"填充{i}" for i in range(50)]
    rows = [vec.get(w, None) for w in words]
    rows = [r if r is not None else rng.normal(size=dim) for r in rows]
    return WordVectors(words, np.array(rows, np.float32))


@pytest.fixture
def files(tmp_path):
    ca8 = tmp_path / "morphological.txt"
    ca8.write_bytes(("\r\n".join(CA8) + "\r\n\r\n").encode("utf-8"))
    cos = tmp_path / "COS960_all.txt"
    cos.write_text("\n".join(COS) + "\n", encoding="utf-8")
    words = list(dict.fromkeys(w for l in CA8 + COS if not l.startswith(":")
                               for w in l.split() if not w[0].isdigit()))
    words.remove("龙卷")
    return ca8, cos, _vectors(words)


def test_ca8_layout_matches_gensim(files):
    gensim_models = pytest.importorskip("gensim.models")
    ca8, _, wv = files
    r = evaluate_analogies(wv, ca8)
    assert r.questions == 12 and r.total == 12 and r.oov == 0     # the 3-word line is skipped
    assert [s["section"] for s in r.sections] == ["A", "prefix"]  # no "\r" in the names
    kv = gensim_models.KeyedVectors(wv.dim)
    kv.add_vectors(wv.words, wv.vectors)
    score, sections = kv.evaluate_word_analogies(str(ca8))
    g = {s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections}
    for s in r.sections:
        assert g[s["section"]] == (s["correct"], s["total"])
    assert r.accuracy == pytest.approx(score) and 0 < r.correct < r.total


def test_cos960_layout(files, tmp_path):
    _, cos, wv = files
    r = evaluate_word_pairs(wv, cos)
    assert (r.pairs, r.oov) == (6, 1) and r.oov_ratio == pytest.approx(100 / 7)
    # the same pairs as word1<TAB>word2<TAB>mean: gensim's evaluate_word_pairs, same numbers
    tsv = tmp_path / "cos.tsv"
    tsv.write_text("\n".join("\t".join(l.split()[:3]) for l in COS) + "\n", encoding="utf-8")
    assert evaluate_word_pairs(wv, tsv).spearman == r.spearman
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(wv.dim)
    kv.add_vectors(wv.words, wv.vectors)
    pear, (rho, _), oov = kv.evaluate_word_pairs(str(tsv))
    assert rho == pytest.approx(r.spearman, abs=1e-9) and pear[0] == pytest.approx(r.pearson, abs=1e-6)
    assert oov == pytest.approx(r.oov_ratio)
    # gensim's rule (exactly three tab-separated fields) reads nothing of the staged layout
    with pytest.raises(DataError, match="no word pair could be scored"):
        evaluate_word_pairs(wv, cos, delimiter="\t")


def test_cli_evaluate_reads_both(files, tmp_path, capsys):
    ca8, cos, wv = files
    vec = tmp_path / "v.txt"
    save_word2vec(vec, wv)
    capsys.readouterr()
    assert main(["word2vec", "evaluate", str(vec), "--analogies", str(ca8), "--similarity", str(cos),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    a, s = out["analogies"][str(ca8)], out["similarity"][str(cos)]
    assert (a["questions"], a["answered"]) == (12, 12) and s["pairs"] == 6
    assert main(["word2vec", "evaluate", str(vec), "--analogies", str(ca8), "--similarity", str(cos)]) == 0
    text = capsys.readouterr().out
    assert "analogy accuracy" in text and "syntactic" not in text and "Spearman" in text


STAGED = {"CA8/morphological.txt": (10177, ["A", "prefix", "AB", "suffix"]),
          "CA8/semantic.txt": (7636, ["geography", "nature", "history", "people"]),
          "CA_translated/ca_translated.txt": (953, ["capital-common-countries", "city-in-state", "family"])}


def test_staged_files_read_whole(shared_data):
    """Every question and pair of the staged files is read (SOURCES.md's counts): the questions
    are counted, as out of vocabulary, against vectors of one unrelated word; the pairs are
    scored with random vectors for their words."""
    root = shared_data / "zh" / "word-eval"
    if not (root / "COS960" / "COS960_all.txt").is_file():
        pytest.skip("Chinese word-evaluation sets not staged")
    none = WordVectors(["填充"], np.ones((1, 4), np.float32))
    for name, (n, sections) in STAGED.items():
        r = evaluate_analogies(none, root / name)
        assert (r.questions, r.oov, r.total) == (n, n, 0), name
        assert [s["section"] for s in r.sections] == sections
    cos = root / "COS960" / "COS960_all.txt"
    words = sorted({w for l in cos.read_text(encoding="utf-8").splitlines() for w in l.split()[:2]})
    wv = WordVectors(words, np.random.default_rng(0).normal(size=(len(words), 8)).astype(np.float32))
    r = evaluate_word_pairs(wv, cos)
    assert (r.pairs, r.oov) == (960, 0) and abs(r.spearman) < 0.2   # random vectors: no signal
