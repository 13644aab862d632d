"""Maximum-probability segmentation (groundup.text.ngram.segment), the span scorer
(groundup.text.segment_eval) and the CoNLL-U reader (groundup.data.conllu).

Without data: the scorer on hand-computed cases, Viterbi on a hand-made lexicon with the best
path computed by hand, Viterbi against brute force over every segmentation (unigram and
bigram), eq. (2)'s path score against NgramModel.score, save/load. With the shared data and
jieba: the unigram segmenter over jieba's dictionary equals jieba's own HMM-free cut on every
Han run of UD GSDSimp dev+test (the same algorithm over the same dictionary).
"""
from __future__ import annotations

import itertools
import math
import random
import re

import numpy as np
import pytest

from groundup.data.conllu import read_conllu
from groundup.errors import ConfigError, DataError, ModelFormatError
from groundup.text.ngram.segment import Segmenter, SegmenterConfig, atoms_of, read_segmented
from groundup.text.segment_eval import score, word_spans

UNI = SegmenterConfig(order=1)


# --------------------------------------------------------------------------------- scoring
def test_word_spans_ignore_whitespace():
    assert word_spans(["这样", "的", "处理"]) == {(0, 2), (2, 3), (3, 5)}
    assert word_spans(["William Drayton", "是"]) == {(0, 14), (14, 15)}
    assert word_spans([]) == set()


def test_score_hand_computed():
    # gold {(0,2),(2,3),(3,5)} vs predicted {(0,3),(3,5)}: 1 correct; P = 1/2, R = 1/3,
    # F1 = 2 (1/2)(1/3) / (1/2 + 1/3) = (1/3) / (5/6) = 0.4
    s = score([["这样", "的", "处理"]], [["这样的", "处理"]])
    assert (s.correct, s.predicted, s.gold) == (1, 2, 3)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(1 / 3)
    assert s.f1 == pytest.approx(0.4)


def test_score_is_micro_averaged():
    # sentence 1: 3 of 3 correct; sentence 2: gold 2 words, predicted 1 (wrong):
    # correct 3, predicted 4, gold 5 -> P = 3/4, R = 3/5, F1 = 2 * .45 / 1.35 = 2/3
    s = score([["a", "b", "c"], ["研究", "生"]], [["a", "b", "c"], ["研究生"]])
    assert (s.correct, s.predicted, s.gold) == (3, 4, 5)
    assert s.f1 == pytest.approx(2 / 3)
    assert score([["研究", "生命"]], [["研究", "生命"]]).f1 == 1.0
    assert score([[]], [[]]).as_dict()["f1"] == 0.0  # no words at all: 0, not a division error


def test_score_refuses_different_text():
    with pytest.raises(ValueError, match="different text"):
        score([["研究", "生命"]], [["研究", "生"]])
    with pytest.raises(ValueError):
        score([["a"]], [])


def test_read_conllu_skips_ranges_and_empty_nodes(tmp_path):
    p = tmp_path / "x.conllu"
    row = "\t".join
    p.write_text("# sent_id = s1\n# text = 然而，处理\n"
                 + row(["1", "然而", "_", "_", "_", "_", "0", "root", "_", "_"]) + "\n"
                 + row(["2-3", "，处理", "_", "_", "_", "_", "_", "_", "_", "_"]) + "\n"
                 + row(["2", "，", "_", "_", "_", "_", "1", "punct", "_", "_"]) + "\n"
                 + row(["3", "处理", "_", "_", "_", "_", "1", "obj", "_", "_"]) + "\n"
                 + row(["3.1", "X", "_", "_", "_", "_", "_", "_", "_", "_"]) + "\n\n"
                 + row(["1", "好", "_", "_", "_", "_", "0", "root", "_", "_"]) + "\n",
                 encoding="utf-8")
    a, b = read_conllu(p)
    assert (a.sent_id, a.text, a.words) == ("s1", "然而，处理", ("然而", "，", "处理"))
    assert (b.text, b.words) == ("好", ("好",))  # no # text: the forms joined
    p.write_text("1\t好\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 1: a word line has 10"):
        read_conllu(p)


# ----------------------------------------------------------------- unigram, by hand
# counts sum to 50 (the total); an atom outside the lexicon counts 1
LEX = {"研究": 10, "研究生": 5, "生命": 10, "命": 2, "的": 20, "起源": 3}


def test_unigram_best_path_by_hand():
    seg = Segmenter(list(LEX), list(LEX.values()), UNI)
    # 研究 生命 的 起源: 10*10*20*3 / 50^4 = 6000 / 50^4
    # 研究生 命 的 起源:  5*2*20*3 / 50^4 =  600 / 50^4      (every other path has more words,
    # each a factor <= 20/50, or an out-of-lexicon atom, 1/50)
    assert seg.segment("研究生命的起源") == ["研究", "生命", "的", "起源"]
    assert seg.path_log10(["研究", "生命", "的", "起源"]) == pytest.approx(
        math.log10(6000) - 4 * math.log10(50))
    # a bonus of 3 per word: the 7 single atoms (研 究 生 命 的 起 源: 1*1*1*2*20*1*1 / 50^7,
    # log10 = 1.602 - 11.893 + 21 = 10.709) beat the 4 words (3.778 - 6.796 + 12 = 8.982)
    assert seg.with_config(word_bonus=3.0).segment("研究生命的起源") == list("研究生命的起源")


def test_atoms_latin_digits_whitespace():
    atoms, limit = atoms_of("我用GPT4写了3.5个 N-gram")
    assert atoms == ["我", "用", "GPT4", "写", "了", "3.5", "个", "N", "-", "gram"]
    assert limit == [7] * 7 + [10] * 3
    seg = Segmenter(["了个", "个N", "T恤", "卡拉OK"], [5, 5, 5, 5], UNI)
    # 个 N cross a space: no word spans it; a Latin run is never cut, but joins lexicon words
    assert seg.segment("了个 N") == ["了个", "N"]
    assert seg.segment("买T恤唱卡拉OK") == ["买", "T恤", "唱", "卡拉OK"]
    assert seg.segment("") == [] and seg.segment("  \t ") == []
    assert seg.segment("GPT4写3.14") == ["GPT4", "写", "3.14"]


# --------------------------------------------------------------- Viterbi vs brute force
def _segmentations(atoms):
    """Every way to cut the atoms into consecutive pieces (2^(n-1) of them)."""
    n = len(atoms)
    for cuts in itertools.product((0, 1), repeat=n - 1):
        out, start = [], 0
        for i, c in enumerate(cuts, start=1):
            if c:
                out.append("".join(atoms[start:i]))
                start = i
        yield out + ["".join(atoms[start:])]


def _brute_best(seg: Segmenter, line: str) -> float:
    atoms, _ = atoms_of(line)
    lex = set(seg.words)
    return max(seg.path_log10(ws) for ws in _segmentations(atoms)
               if all(w in lex or len(atoms_of(w)[0]) == 1 for w in ws))


CORPUS = ["研究 生命 的 起源", "研究生 的 生活", "他 是 研究生", "生命 在于 运动", "研究 表明 生命 起源 于 海洋",
          "他 研究 的 是 生命", "研究生 命 运", "的 的 的", "起源 的 研究"]


@pytest.mark.parametrize("order", [1, 2])
def test_viterbi_equals_brute_force(order):
    sents = [s.split() for s in CORPUS]
    seg = Segmenter.build(LEX, sents, SegmenterConfig(order=order, min_count=1))
    assert seg.cfg.order == order
    rng = random.Random(0)
    alphabet = "研究生命的起源他是运动海"
    for _ in range(150):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9)))
        for bonus in (0.0, 0.7):
            s = seg.with_config(word_bonus=bonus)
            best = s.segment(line)
            assert "".join(best) == line
            assert s.path_log10(best) == pytest.approx(_brute_best(s, line), abs=1e-9), line


@pytest.mark.parametrize("order", [1, 2])
def test_compiled_equals_reference(order):
    """segment/segment_many (compiled trie + Viterbi) cut every line as segment_reference (the
    Python lattice) does: Han, multi-atom lexicon words, Latin runs longer than any word,
    numbers, punctuation, whitespace, empty lines, ties (equal counts)."""
    lex = {**LEX, "T恤": 4, "AT&T": 3, "卡拉OK": 2, "3.5": 1, "他是": 10, "是研": 10, "OK": 5}
    sents = [s.split() for s in CORPUS + ["买 T恤 唱 卡拉OK", "AT&T 的 研究"]]
    seg = Segmenter.build(lex, sents, SegmenterConfig(order=order, min_count=1))
    rng = random.Random(2)
    pieces = list("研究生命的起源他是运，。") + ["T", "恤", "AT", "&", "卡拉", "OK", "3.5", " ", "  ",
                                             "GPT4", "ABCDEFGHIJKLMNOP", "!", "６"]
    lines = ["", " ", "研究生命的起源", "ABCDEFGHIJKLMNOP研究"]
    lines += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 14))) for _ in range(400)]
    for bonus in (0.0, 0.5, -0.5):
        s = seg.with_config(word_bonus=bonus)
        ref = [s.segment_reference(line) for line in lines]
        assert s.segment_many(lines) == ref
        assert list(s.segment_lines(iter(lines), batch=7)) == ref
        assert [s.segment(line) for line in lines[:50]] == ref[:50]


def test_bigram_path_score_is_the_ngram_models_score():
    # eq. (2) with every word in the bigram vocabulary is the model's own log10 p(sentence)
    seg = Segmenter.build(None, [s.split() for s in CORPUS], SegmenterConfig(min_count=1))
    for words in (["研究", "生命", "的", "起源"], ["他", "是", "研究生"], ["的", "海洋"]):
        assert seg.path_log10(words) == pytest.approx(seg.bigram.score(words), abs=1e-12)


def test_bigram_uses_context():
    # 研究生 follows 他 是 in the corpus; 研究 生命 elsewhere. The unigram model cuts
    # 他是研究生命 one way whatever the context; the bigram model reads the context
    sents = [s.split() for s in ["他 是 研究生", "他 是 研究生", "研究 生命", "研究 生命 的 起源",
                                 "我们 研究 生命", "他 是 学生", "命 好"]]
    cfg = SegmenterConfig(min_count=1, dedup=False)
    bi = Segmenter.build(None, sents, cfg)
    assert bi.segment("他是研究生") == ["他", "是", "研究生"]
    assert bi.segment("我们研究生命") == ["我们", "研究", "生命"]


def test_unknown_words_are_spelled_by_the_lexicon():
    # 起源 is in the dictionary but not in the corpus: <unk> in the bigram model, and the
    # spelling term log10 c(w) / (mass of such words) is added
    seg = Segmenter.build({"起源": 30, "海洋": 10}, [s.split() for s in CORPUS[:4]],
                          SegmenterConfig(min_count=2))
    assert "起源" not in seg.bigram.index and "海洋" not in seg.bigram.index
    w = seg.words.index("海洋")
    assert seg._spell[w] < seg._spell[seg.words.index("起源")] < 0
    assert seg.segment("研究海洋") == ["研究", "海洋"]


def test_build_and_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="dictionary, a segmented corpus"):
        Segmenter.build()
    with pytest.raises(ConfigError, match="needs a bigram model"):
        Segmenter(["a"], [1], SegmenterConfig(order=2))
    with pytest.raises(ConfigError, match="whitespace"):
        Segmenter(["a b"], [1], UNI)
    with pytest.raises(ConfigError, match="distinct"):
        Segmenter(["a", "a"], [1, 1], UNI)
    with pytest.raises(ConfigError, match="min_count"):
        SegmenterConfig(min_count=0)
    # a dictionary alone gives the unigram model even when bigram is asked for
    assert Segmenter.build(LEX).cfg.order == 1
    p = tmp_path / "dict.txt"
    p.write_text("研究 10 vn\n生命 x n\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2"):
        Segmenter.build(p)


def test_read_segmented_cmrc_layout(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("1 ||| 小 猴 呢 。\n2 ||| 他 说 。\n<qid_1> ||| XXXXX 说 。\n1 ||| 小 猴 呢 。\n"
                 "plain words here\n\n", encoding="utf-8")
    assert read_segmented(p) == [["小", "猴", "呢", "。"], ["他", "说", "。"], ["plain", "words", "here"]]
    assert len(read_segmented(p, dedup=False)) == 4


# ------------------------------------------------------------------------------ save/load
@pytest.mark.parametrize("order", [1, 2])
def test_save_load_round_trip(tmp_path, order):
    seg = Segmenter.build(LEX, [s.split() for s in CORPUS],
                          SegmenterConfig(order=order, min_count=1, word_bonus=0.25))
    p = tmp_path / "seg.npz"
    seg.save(p)
    back = Segmenter.load(p)
    assert back.words == seg.words and np.array_equal(back.counts, seg.counts)
    assert back.cfg == seg.cfg
    for line in ("研究生命的起源", "他是研究生", "研究表明生命起源于海洋 ABC 12"):
        assert back.segment(line) == seg.segment(line)
        assert back.path_log10(back.segment(line)) == seg.path_log10(seg.segment(line))


def test_load_refuses_bad_files(tmp_path):
    p = tmp_path / "x.npz"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelFormatError, match="not a valid groundup segmenter"):
        Segmenter.load(p)
    np.savez(p, header=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    with pytest.raises(ModelFormatError, match="not a groundup segmenter"):
        Segmenter.load(p)
    with pytest.raises(ModelFormatError, match="is a folder"):
        Segmenter.load(tmp_path)


def test_unigram_is_jiebas_algorithm_on_a_random_dictionary(tmp_path):
    """jieba (test-only oracle) with the same dictionary, HMM off: the same path, or where
    several paths tie (e.g. 生 + 生生 = 生生 + 生), one of equal score under eq. (1)."""
    jieba = pytest.importorskip("jieba")
    import logging

    jieba.setLogLevel(logging.WARNING)
    rng = random.Random(1)
    alphabet = "研究生命的起源他是运"
    lex = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))): rng.randint(0, 900)
           for _ in range(120)}
    p = tmp_path / "dict.txt"
    p.write_text("".join(f"{w} {c} n\n" for w, c in lex.items()), encoding="utf-8")
    ours = Segmenter.build(p, cfg=UNI)
    theirs = jieba.Tokenizer(dictionary=str(p))
    same = 0
    for _ in range(300):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        a, b = ours.segment(line), theirs.lcut(line, HMM=False)
        same += a == b
        assert ours.path_log10(b) == pytest.approx(ours.path_log10(a), abs=1e-9), (line, a, b)
    assert same >= 270


# --------------------------------------------------------------------- with data and jieba
@pytest.mark.data
@pytest.mark.slow
def test_unigram_over_jiebas_dictionary_equals_jiebas_cut(shared_data):
    """Our eq. (1) over jieba's dict.txt is jieba's own algorithm (DAG + max-probability route,
    an unknown character counted once); on runs of Han characters (jieba treats digits and
    punctuation its own way) the two agree on every run of UD GSDSimp dev+test."""
    jieba = pytest.importorskip("jieba")
    from pathlib import Path

    gold = shared_data / "zh" / "ud-gsdsimp"
    if not gold.is_dir():
        pytest.skip("UD GSDSimp not staged")
    seg = Segmenter.build(Path(jieba.__file__).parent / "dict.txt", cfg=UNI)
    runs = [r for split in ("dev", "test")
            for s in read_conllu(gold / f"zh_gsdsimp-ud-{split}.conllu")
            for r in re.findall(r"[\u4e00-\u9fff]+", s.text)]
    assert len(runs) > 3000
    assert seg.segment_many(runs) == [jieba.lcut(r, HMM=False) for r in runs]
    lines = [s.text for split in ("dev", "test") for s in read_conllu(gold / f"zh_gsdsimp-ud-{split}.conllu")]
    assert seg.segment_many(lines) == [seg.segment_reference(line) for line in lines]


@pytest.mark.data
def test_read_conllu_gsdsimp_counts(shared_data):
    p = shared_data / "zh" / "ud-gsdsimp" / "zh_gsdsimp-ud-test.conllu"
    if not p.exists():
        pytest.skip("UD GSDSimp not staged")
    sents = read_conllu(p)
    # SOURCES.md: test holds 500 sentences / 12,012 words
    assert len(sents) == 500 and sum(len(s.words) for s in sents) == 12012
    assert all("".join(s.text.split()) == "".join(s.words) for s in sents)


def test_from_jieba_dictionary_without_the_extra(monkeypatch):
    from groundup.data import zh

    monkeypatch.setattr(zh, "jieba_dictionary_path", lambda: None)
    with pytest.raises(ConfigError, match=re.escape(zh.INSTALL)):
        Segmenter.from_jieba_dictionary()
