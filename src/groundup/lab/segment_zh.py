"""Lab (Chinese): word segmentation as the n-gram article's plausibility ranking, against jieba.

Chinese is written without spaces; of all the ways to cut a line into lexicon words, a language
model picks the most probable (:mod:`groundup.text.ngram.segment`: a word lattice and Viterbi
over unigram (1) or bigram (2) probabilities). Here the lexicon is jieba's dictionary
(``dict.txt``, MIT, from the ``zh`` extra) plus the words of the bundled CMRC 2017 stories, and
the bigram model is estimated on those stories (their source's automatic segmentation); the
segmenter options are :class:`~groundup.text.ngram.segment.SegmenterConfig`'s defaults (no
tuning here). Each segmenter cuts the 500 sentences of UD_Chinese-GSDSimp test (gold words
bundled, CC BY-SA 4.0; each sentence given as its words joined without spaces) and is scored by
the SIGHAN span F1 (:mod:`groundup.text.segment_eval`) beside jieba itself (the ``zh``
tokenizer). Without the ``zh`` extra there is neither jieba nor its dictionary: the segmenter
is built from the stories alone and the verdict is inconclusive.
"""
from __future__ import annotations

from pathlib import Path

from .base import Plot, Result, Table
from .catalogue import text

NAME = "segment-zh"
TITLE = text("en", f"{NAME}.title")
CLAIM = text("en", f"{NAME}.claim")
CRITERION = text("en", f"{NAME}.criterion")

GOLD = ("zh", "ud_gsdsimp_test_words.txt")
MAX_GAP = 0.02   # the verdict's tolerance below jieba's F1, fixed before the run
N_EXAMPLES = 4


def gold_sentences() -> list[list[str]]:
    """UD GSDSimp test, gold words of each sentence."""
    from ..data.locate import bundled_path

    return [line.split() for line in bundled_path(*GOLD).read_text(encoding="utf-8").splitlines() if line.strip()]


def judge(f1: dict[str, float]) -> bool | None:
    """:data:`CRITERION` as code; None without jieba."""
    if "jieba" not in f1:
        return None
    return bool(f1["bigram"] >= f1["jieba"] - MAX_GAP and f1["bigram"] > f1["unigram"])


def run(out: Path, *, full: bool, seed: int, lang: str = "en") -> Result:
    from ..text.ngram.segment import Segmenter, SegmenterConfig
    from ..text.segment_eval import score
    from .plotting import plt, save
    from .zh_data import cmrc_lines, zh_tokenizer

    T = lambda key, **kw: text(lang, f"{NAME}.{key}", **kw)   # noqa: E731
    gold = gold_sentences()
    raw = ["".join(ws) for ws in gold]
    zh, why = zh_tokenizer()
    dictionary = None
    if zh is not None:
        from ..data.zh import jieba_dictionary_path

        dictionary = jieba_dictionary_path()
    stories = [line.split() for line in cmrc_lines()]
    bigram = Segmenter.build(dictionary, stories, SegmenterConfig(order=2))
    segmenters = {"unigram": bigram.with_config(order=1), "bigram": bigram}   # one lexicon, two models
    predicted = {k: seg.segment_many(raw) for k, seg in segmenters.items()}
    if zh is not None:
        predicted["jieba"] = [zh(s) for s in raw]
    scores = {k: score(gold, p) for k, p in predicted.items()}
    f1 = {k: s.f1 for k, s in scores.items()}
    held = judge(f1)

    label = {"unigram": T("unigram"), "bigram": T("bigram"), "jieba": T("jieba")}
    res = Result(name=NAME, title=T("title"), claim=T("claim"), criterion=T("criterion"), held=held)
    res.tables.append(Table(T("table_f1", n=len(gold), words=sum(map(len, gold))),
                            T("headers_f1").split("|"),
                            [[label[k], f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}"]
                             for k, s in scores.items()]))
    res.tables.append(Table(T("table_examples"), [T("gold")] + [label[k] for k in predicted],
                            [[" ".join(gold[i])] + [" ".join(predicted[k][i]) for k in predicted]
                             for i in range(N_EXAMPLES)]))
    fig, ax = plt().subplots(figsize=(5, 3.2))
    keys = list(scores)
    ax.bar(keys, [f1[k] for k in keys], color=["C0", "C1", "C2"][: len(keys)])
    for i, k in enumerate(keys):
        ax.text(i, f1[k] + 0.01, f"{f1[k]:.3f}", ha="center", fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_ylabel("span F1 on UD GSDSimp test")
    ax.set_title("Word segmentation: ours (n-gram lattice) vs jieba")
    res.plots.append(Plot(save(fig, out / "segment_f1.png"), T("caption_f1")))

    res.summary = {"sentences": len(gold), "gold_words": sum(map(len, gold)),
                   "lexicon": "jieba dict.txt + CMRC 2017" if dictionary else "CMRC 2017",
                   **{f"f1_{k}": round(v, 4) for k, v in f1.items()},
                   **{f"precision_{k}": round(s.precision, 4) for k, s in scores.items()},
                   **{f"recall_{k}": round(s.recall, 4) for k, s in scores.items()},
                   "lexicon_words": len(segmenters["bigram"].words)}
    word = T({True: "held", False: "not_held", None: "inconclusive"}[held])
    res.verdict = (T("verdict", word=word, bigram=f1["bigram"], unigram=f1["unigram"], jieba=f1["jieba"],
                     gap=f1["bigram"] - f1["jieba"])
                   if "jieba" in f1 else T("verdict_no_jieba", word=word, bigram=f1["bigram"],
                                           unigram=f1["unigram"], why=why))
    res.notes.append(T("note_data", lexicon=len(segmenters["bigram"].words)))
    return res
