"""Benchmark: our maximum-probability segmenter (unigram, bigram) beside jieba on UD GSDSimp.

    .venv/bin/python benchmarks/bench_segment.py [--reps 3] [--speed-copies 20] [--out FILE]

All in one run, on UD_Chinese-GSDSimp test (gold segmentation, CoNLL-U FORM column; the raw
``# text`` is what each segmenter cuts):

* jieba: ``groundup.data.zh.cut`` (jieba's default mode with its HMM, through rjieba);
* ours, unigram (eq. 1) over jieba's ``dict.txt`` (349k words and counts, MIT);
* ours, bigram (eq. 2): the lexicon of jieba's ``dict.txt`` + the words of CMRC 2017's two
  validation files (deduplicated by line: 39k lines, 735k words), a Kneser-Ney bigram model
  estimated on those CMRC lines by ``groundup.text.ngram`` (words seen once -> ``<unk>``);
* the same two with ``word_bonus`` and, for the bigram, the smoothing chosen on UD **dev**
  (grid below; the test set is never used to choose anything).

F1 is the SIGHAN span F1 (``groundup.text.segment_eval``). Speed: characters (whitespace
excluded) per second of segmenting the test sentences ``--speed-copies`` times over, median of
``--reps``, for our two models (a call per line, and all lines in one ``segment_many`` call),
``groundup.data.zh.cut`` and the bare ``rjieba.cut`` (and pure Python jieba), single thread; the model build and load times are given too. Timed figures
belong in docs only from a run through the benchmark queue (COORD.md). Markdown to stdout, JSON
to ``--out`` (default benchmarks/out/segment.json).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, markdown_table, median_time, write_json  # noqa: E402

BONUS_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
SMOOTHING_GRID = ("kn", "mkn", "katz")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--speed-copies", type=int, default=20)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "segment.json"))
    args = ap.parse_args()

    from groundup.data.conllu import read_conllu
    from groundup.data.locate import shared_file
    try:
        from groundup.data.zh import cut, jieba_dictionary_path
        jieba_name = "jieba (groundup.data.zh.cut: rjieba, HMM on)"
        have_zh = True
    except ImportError:  # before the zh tokenizer module exists: rjieba itself
        import rjieba

        def cut(line):
            return [t for piece in line.split() for t in rjieba.cut(piece)]

        def jieba_dictionary_path():
            import importlib.util

            return Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"
        jieba_name = "jieba (rjieba.cut, HMM on)"
        have_zh = False
    from groundup.text.ngram.segment import Segmenter, SegmenterConfig, read_dictionary
    from groundup.text.segment_eval import evaluate

    ud = shared_file("zh", "ud-gsdsimp")
    cmrc = shared_file("zh", "corpus", "cmrc2017")
    dict_path = jieba_dictionary_path()
    if ud is None or cmrc is None or dict_path is None:
        sys.exit("needs ../shared/data/zh (UD GSDSimp, CMRC 2017) and jieba (the zh extra)")
    dev = read_conllu(ud / "zh_gsdsimp-ud-dev.conllu")
    test = read_conllu(ud / "zh_gsdsimp-ud-test.conllu")
    corpus = [cmrc / "cloze.valid.doc_query", cmrc / "user.valid.doc_query"]

    t0 = time.perf_counter()
    dictionary = read_dictionary(dict_path)
    unigram = Segmenter.build(dictionary, cfg=SegmenterConfig(order=1))
    t_uni = time.perf_counter() - t0
    built = {}
    t0 = time.perf_counter()
    for sm in SMOOTHING_GRID:
        built[sm] = Segmenter.build(dictionary, corpus, SegmenterConfig(order=2, smoothing=sm))
        if sm == "kn":
            t_bi = time.perf_counter() - t0
    bigram = built["kn"]
    with tempfile.TemporaryDirectory(prefix="zhseg-bench-") as tmp:
        path = os.path.join(tmp, "seg.npz")
        bigram.save(path)
        size = os.path.getsize(path)
        t0 = time.perf_counter()
        Segmenter.load(path)
        t_load = time.perf_counter() - t0

    # --- choose on dev: word_bonus (both), smoothing (bigram)
    def tune(candidates):
        best = None
        for name, seg in candidates:
            for b in BONUS_GRID:
                f = evaluate(seg.with_config(word_bonus=b).segment, dev).f1
                if best is None or f > best[0]:
                    best = (f, name, b)
        return best

    f_u, _, b_u = tune([("-", unigram)])
    f_b, sm_b, b_b = tune(list(built.items()))
    uni_tuned = unigram.with_config(word_bonus=b_u)
    bi_tuned = built[sm_b].with_config(word_bonus=b_b)

    lex_dict = f"jieba dict.txt ({len(unigram.words):,} words)"
    lex_both = (f"jieba dict.txt + CMRC 2017 words ({len(bigram.words):,}); bigram "
                f"{{sm}} on CMRC 2017 (39k distinct lines; {bigram.bigram.V:,} words, "
                f"{len(bigram.bigram.tables.keys[1]):,} bigrams)")
    systems = [
        (jieba_name, "jieba dict.txt + its HMM", "-", cut),
        ("ours, unigram (eq. 1)", lex_dict, "-", unigram.segment),
        ("ours, bigram (eq. 2)", lex_both.format(sm="kn"), "-", bigram.segment),
        ("ours, unigram (eq. 1)", lex_dict, f"dev: word_bonus {b_u}", uni_tuned.segment),
        ("ours, bigram (eq. 2)", lex_both.format(sm=sm_b), f"dev: {sm_b}, word_bonus {b_b}",
         bi_tuned.segment),
    ]
    rows, results = [], []
    for name, lexicon, tuned, fn in systems:
        s = evaluate(fn, test)
        d = evaluate(fn, dev)
        results.append({"segmenter": name, "lexicon": lexicon, "tuned_on": tuned,
                        "test": s.as_dict(), "dev": d.as_dict()})
    jieba_f1 = results[0]["test"]["f1"]
    for r in results:
        t = r["test"]
        rows.append([r["segmenter"], r["lexicon"], r["tuned_on"], f"{t['precision']:.4f}",
                     f"{t['recall']:.4f}", f"{t['f1']:.4f}", f"{100 * (t['f1'] - jieba_f1):+.2f}",
                     f"{r['dev']['f1']:.4f}"])
    print("## F1 on UD_Chinese-GSDSimp test (500 sentences, 12,012 gold words)\n")
    print(markdown_table(["segmenter", "lexicon / counts", "tuned on", "P", "R", "F1",
                          "F1 - jieba (points)", "dev F1"], rows))

    # --- speed
    import jieba
    import logging

    import rjieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    lines = [s.text for s in test] * args.speed_copies
    n_chars = sum(len("".join(line.split())) for line in lines)
    timed = [("rjieba.cut (Rust)", rjieba.cut)] + (
        [("groundup.data.zh.cut", cut)] if have_zh else []) + [
             ("jieba.lcut (Python, HMM on)", jieba.lcut),
             ("ours, unigram, per line (segment)", unigram.segment),
             ("ours, bigram, per line (segment)", bigram.segment)]
    batched = [("ours, unigram, all lines in one call (segment_many)", unigram.segment_many),
               ("ours, bigram, all lines in one call (segment_many)", bigram.segment_many)]
    speed = {}
    for name, fn in timed:
        med, ts = median_time(lambda fn=fn: [fn(line) for line in lines], reps=args.reps)
        speed[name] = {"seconds": med, "runs": ts, "chars_per_s": n_chars / med}
    for name, fn in batched:
        med, ts = median_time(lambda fn=fn: fn(lines), reps=args.reps)
        speed[name] = {"seconds": med, "runs": ts, "chars_per_s": n_chars / med}
    ref = speed["rjieba.cut (Rust)"]["chars_per_s"]
    print(f"\n## Speed: {n_chars:,} characters (UD test x {args.speed_copies}), median of "
          f"{args.reps}, one thread\n")
    print(markdown_table(["segmenter", "characters/s", "vs rjieba"],
                         [[k, f"{v['chars_per_s']:,.0f}", f"{v['chars_per_s'] / ref:.3f}"]
                          for k, v in speed.items()]))
    print(f"\nbuild: unigram from dict.txt {t_uni:.1f} s; bigram (dict.txt + CMRC, kn) "
          f"{t_bi:.1f} s; saved bigram segmenter {size / 1e6:.1f} MB, loads in {t_load:.1f} s; "
          f"load average {load_average()}")
    write_json(args.out, {"f1": results, "speed": speed, "characters_timed": n_chars,
                          "build_seconds": {"unigram": t_uni, "bigram_kn": t_bi},
                          "saved_bytes": size, "load_seconds": t_load,
                          "tuning": {"bonus_grid": BONUS_GRID, "smoothing_grid": SMOOTHING_GRID,
                                     "unigram": {"dev_f1": f_u, "word_bonus": b_u},
                                     "bigram": {"dev_f1": f_b, "smoothing": sm_b, "word_bonus": b_b}},
                          "load_average": load_average()})


if __name__ == "__main__":
    main()
