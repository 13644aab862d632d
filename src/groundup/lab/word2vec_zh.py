"""Lab (Chinese): Word2Vec on segmented Chinese stories; CA8 analogies and COS960 similarity.

Data: the bundled CMRC 2017 stories (:mod:`groundup.lab.zh_data`, about 0.96M characters),
segmented by the ``zh`` tokenizer (jieba) from the text with its spaces removed; without the
``zh`` extra, the source's own (automatic) segmentation is used and the notes say so. Skip-gram
with negative sampling, the English quick run's settings (:data:`SETTINGS`).

What is shown: the nearest neighbours of Chinese probe words, how word groups (animals, family,
colours, seasons and times, body parts) separate, the CA8 analogies (Li et al. 2018;
morphological and semantic, 3CosAdd with gensim's conventions, restrict_vocab 30000) and COS960
word similarity (Huang et al. 2019; Spearman), each over the questions or pairs whose words the
vocabulary covers, with that coverage. The corpus is small: a few hundred thousand words of
children's stories cover few CA8 questions and the figures are far below those of vectors
trained on billions of words. The comparison with gensim on the same tokens and settings is a
benchmark (issue #18's word2vec target), not this experiment.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .base import Plot, Result, Table
from .catalogue import text

NAME = "word2vec-zh"
TITLE = text("en", f"{NAME}.title")
CLAIM = text("en", f"{NAME}.claim")
CRITERION = text("en", f"{NAME}.criterion")

SETTINGS = dict(arch="sg", dim=100, window=5, negative=5, sample=1e-3, min_count=5, alpha=0.025,
                min_alpha=0.0001, epochs=10, threads=2, deterministic=True)   # reproducible run to run
GROUPS = {
    "animals": ["老虎", "狮子", "兔子", "猴子", "大象", "狐狸", "老鼠", "小狗", "小猫", "青蛙", "乌龟", "松鼠", "狼"],
    "family": ["爸爸", "妈妈", "爷爷", "奶奶", "哥哥", "姐姐", "弟弟", "妹妹", "叔叔", "阿姨"],
    "colours": ["红色", "绿色", "蓝色", "黄色", "白色", "黑色", "紫色"],
    "times": ["春天", "夏天", "秋天", "冬天", "早上", "晚上", "中午", "夜里"],
    "body": ["眼睛", "耳朵", "鼻子", "嘴巴", "尾巴", "脑袋", "翅膀", "肚子"],
}
PROBES = ["老虎", "妈妈", "春天", "眼睛", "红色", "学校", "高兴", "森林"]
EVAL_FILES = {"ca8_morphological": "ca8_morphological.txt.xz", "ca8_semantic": "ca8_semantic.txt.xz"}
COS960 = "COS960_all.txt"
# the verdict's thresholds, fixed before the run
GAP, NN_SHARE, CA8_MIN_ACC, CA8_MIN_COVERED = 0.15, 0.6, 0.05, 100


def spearman_lower_bound(rho: float, n: int) -> float:
    """Lower end of the 95% interval of a correlation over n pairs (Fisher's z)."""
    if n <= 3:
        return -1.0
    return math.tanh(math.atanh(max(min(rho, 0.999999), -0.999999)) - 1.96 / math.sqrt(n - 3))


def judge(gap: float, nn_same: float, ca8_acc: float, ca8_covered: int, rho_low: float) -> bool:
    """:data:`CRITERION` as code."""
    return bool(gap > GAP and nn_same >= NN_SHARE and ca8_covered >= CA8_MIN_COVERED
                and ca8_acc >= CA8_MIN_ACC and rho_low > 0)


def sentences(zh) -> list[list[str]]:
    """The stories as token lists: the ``zh`` tokenizer on the raw lines, or (``zh`` None) the
    source's own segmentation."""
    from .zh_data import cmrc_lines

    if zh is not None:
        return [zh(line) for line in cmrc_lines(raw=True)]
    return [line.split() for line in cmrc_lines()]


def run(out: Path, *, full: bool, seed: int, lang: str = "en") -> Result:
    from ..data.locate import bundled_path, open_text
    from ..io import write_text
    from ..text.word2vec import Word2VecConfig, train
    from ..errors import DataError
    from ..text.word2vec.evaluate import PairsResult, evaluate_analogies, evaluate_word_pairs
    from .plotting import plt, save
    from .word2vec import group_separation, wilson
    from .zh_data import zh_tokenizer

    T = lambda key, **kw: text(lang, f"{NAME}.{key}", **kw)   # noqa: E731
    zh, why = zh_tokenizer()
    sents = sentences(zh)
    cfg = Word2VecConfig(**SETTINGS, seed=seed + 1)
    model = train(sents, cfg, show_progress=False)
    wv, st = model.wv, model.stats

    # analogies (CA8) and similarity (COS960), over what the vocabulary covers
    ca8, rows = {}, []
    for key, fname in EVAL_FILES.items():
        qfile = out / fname[: -len(".xz")]
        with open_text(bundled_path("zh", fname)) as f:
            write_text(qfile, f.read())
        ca8[key] = r = evaluate_analogies(wv, qfile, restrict_vocab=30000)
        lo, hi = wilson(r.correct, r.total)
        rows.append([key, r.questions, f"{r.total} ({r.total / max(r.questions, 1):.1%})",
                     f"{r.correct}", f"{r.accuracy:.1%} ({lo:.1%}-{hi:.1%})" if r.total else "—"])
    c_total = sum(r.total for r in ca8.values())
    c_correct = sum(r.correct for r in ca8.values())
    ca8_acc = c_correct / c_total if c_total else 0.0
    try:
        pairs = evaluate_word_pairs(wv, bundled_path("zh", COS960))
    except DataError:  # no pair covered (a tiny corpus)
        pairs = PairsResult(math.nan, math.nan, 0, 960, 100.0)
    rho_low = spearman_lower_bound(pairs.spearman, pairs.pairs)

    # neighbours and groups
    nn_rows = [[w, "  ".join(n for n, _ in wv.most_similar(w, topn=8))] for w in PROBES if w in wv]
    present, words, labels, within, across, nn_same = group_separation(wv, GROUPS)
    held = judge(within - across, nn_same, ca8_acc, c_total, rho_low)

    res = Result(name=NAME, title=T("title"), claim=T("claim"), criterion=T("criterion"), held=held)
    res.tables.append(Table(T("table_nn"), T("headers_nn").split("|"), nn_rows))
    res.tables.append(Table(T("table_groups"), T("headers_groups").split("|"),
                            [[T("group_" + k), " ".join(v)] for k, v in present.items()]))
    res.tables.append(Table(T("table_ca8"), T("headers_ca8").split("|"), rows))
    res.tables.append(Table(T("table_cos960"), T("headers_cos960").split("|"),
                            [["COS960", pairs.pairs + pairs.oov, f"{pairs.pairs} ({1 - pairs.oov_ratio / 100:.1%})",
                              f"{pairs.spearman:.3f}", f"{rho_low:.3f}"]]))

    # the human scores against the model's cosines (COS960)
    fig, ax = plt().subplots(figsize=(5, 3.6))
    gold, cosv = _cos960_points(wv, bundled_path("zh", COS960))
    ax.scatter(gold, cosv, s=10, alpha=0.6)
    ax.set_xlabel("COS960 human similarity (0-4)")
    ax.set_ylabel("cosine of the word vectors")
    ax.set_title(f"COS960, covered pairs: Spearman {pairs.spearman:.2f} (n = {pairs.pairs})")
    res.plots.append(Plot(save(fig, out / "word2vec_zh_cos960.png"), T("caption_cos960")))

    res.summary = {"segmentation": "zh tokenizer (jieba)" if zh is not None else "CMRC 2017's own",
                   "corpus_tokens": st["corpus_tokens"], "vocab_size": st["vocab_size"],
                   "epochs": cfg.epochs, "train_seconds": round(st["train_seconds"], 1),
                   "group_within_cos": round(within, 3), "group_across_cos": round(across, 3),
                   "group_nn_same_group": round(nn_same, 3),
                   "ca8_accuracy": round(ca8_acc, 4), "ca8_covered": c_total, "ca8_correct": c_correct,
                   "ca8_questions": sum(r.questions for r in ca8.values()),
                   **{f"{k}_accuracy": round(r.accuracy, 4) for k, r in ca8.items()},
                   **{f"{k}_covered": r.total for k, r in ca8.items()},
                   "cos960_spearman": round(pairs.spearman, 4), "cos960_pairs": pairs.pairs,
                   "cos960_coverage": round(1 - pairs.oov_ratio / 100, 4),
                   "cos960_spearman_low95": round(rho_low, 4)}
    res.verdict = T("verdict", word=T("held" if held else "not_held"), within=within, across=across,
                    nn=nn_same, acc=ca8_acc, covered=c_total, questions=res.summary["ca8_questions"],
                    rho=pairs.spearman, low=rho_low, pairs=pairs.pairs)
    res.notes.append(T("note_data", tokens=st["corpus_tokens"], vocab=st["vocab_size"], epochs=cfg.epochs,
                       seg=T("seg_zh") if zh is not None else T("seg_source", why=why)))
    res.notes.append(T("note_small"))
    return res


def _cos960_points(wv, path: Path) -> tuple[list[float], list[float]]:
    """(human mean, cosine) of the covered pairs of COS960 (``word1 word2 mean a1 .. a15``)."""
    gold, cosv = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        a, b, s = line.split()[:3]
        if a in wv and b in wv:
            gold.append(float(s))
            cosv.append(float(wv.similarity(a, b)))
    return gold, cosv
