"""Benchmark: our modified Kneser-Ney vs KenLM's lmplz and NLTK's KneserNeyInterpolated.

    .venv/bin/python benchmarks/bench_ngram.py [--lmplz PATH] [--orders 5 3] [--reps 3]
                                               [--corpora ptb wikitext2] [--nltk-order 5]

For each corpus and order, interleaved over ``--reps`` repetitions, two separate processes
build a model from the same text file and write it as ARPA: ``lmplz -o N -S 1G`` and a small
Python worker that imports ``groundup.text.ngram`` (so the wall time includes our interpreter
start and imports). Wall time and peak RSS come from ``os.wait4`` of each child. Then, in this
process: both ARPA files are compared entry by entry (log10 p and backoff), test perplexity is
computed by us and by the kenlm Python module on lmplz's ARPA (KenLM query's conventions), and
batch scoring throughput is measured for us and for ``kenlm.Model.score`` per sentence.

PTB and WikiText-2 have a literal ``<unk>`` that lmplz refuses, so it is renamed ``UNK`` in
every split, for both tools (like for like). Blank lines are dropped (WikiText).

NLTK (``--nltk-order``, 0 to skip) runs in its own process: ``fit`` on the full training text,
then scoring under a time cap (it manages about 10 tokens/s); the full-test-set time is
extrapolated from the tokens scored, as /work/shared/BASELINES.md did.

Writes a Markdown table to stdout and JSON to ``--out`` (default benchmarks/out/ngram.json).
The machine is shared: ``uptime`` load averages are recorded with the result.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

OUR_WORKER = r"""
import sys, time
t0 = time.perf_counter()
from groundup.text.ngram import NgramModel
from groundup.data.textfile import iter_lines
t1 = time.perf_counter()
m = NgramModel.build((l.split() for l in iter_lines(sys.argv[1])), int(sys.argv[2]), "mkn")
t2 = time.perf_counter()
m.save(sys.argv[3])
t3 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f}")
"""

NLTK_WORKER = r"""
import json, math, sys, time
from nltk.lm import KneserNeyInterpolated
from nltk.lm.preprocessing import padded_everygram_pipeline
train, test, order, cap = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
sents = [l.split() for l in open(train, encoding="utf-8") if l.strip()]
t0 = time.perf_counter()
grams, vocab = padded_everygram_pipeline(order, sents)
lm = KneserNeyInterpolated(order)
lm.fit(grams, vocab)
fit = time.perf_counter() - t0
test_sents = [l.split() for l in open(test, encoding="utf-8") if l.strip()]
total_tokens = sum(len(s) + 1 for s in test_sents)
t0 = time.perf_counter()
logs, n, done = 0.0, 0, 0
for s in test_sents:
    ctx = ["<s>"] * (order - 1)
    for w in s + ["</s>"]:
        p = lm.score(w, ctx[-(order - 1):])
        logs += math.log10(p) if p > 0 else float("-inf")
        n += 1
        ctx.append(w)
    done += 1
    if time.perf_counter() - t0 > cap:
        break
score_s = time.perf_counter() - t0
print(json.dumps({"fit_s": fit, "score_s": score_s, "scored_tokens": n, "sentences": done,
                  "log10": logs, "test_tokens": total_tokens}))
"""


TIME = shutil.which("time") and Path("/usr/bin/time")


def run_child(cmd, stdin=None, stdout=None):
    """Run ``cmd``; return (wall s, peak RSS MB, captured stdout, CPU s = user + sys).

    Peak RSS comes from GNU ``/usr/bin/time -f %M`` when present: ``ru_maxrss`` from
    ``os.wait4`` would include the memory this (large) parent process had when it forked."""
    with tempfile.NamedTemporaryFile(prefix="rss_", delete=False) as tf:
        rss_file = tf.name
    wrapped = ([str(TIME), "-f", "%M %U %S", "-o", rss_file] + list(cmd)) if TIME and TIME.exists() else list(cmd)
    t0 = time.perf_counter()
    p = subprocess.run(wrapped, stdin=stdin, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
    try:
        rss_kb, user, sys_s = map(float, Path(rss_file).read_text().split()[-3:])
        rss, cpu = rss_kb / 1024.0, user + sys_s
    except (OSError, ValueError):
        rss = cpu = float("nan")
    os.unlink(rss_file)
    return wall, rss, (p.stdout.decode() if stdout is None else ""), cpu


def prepare(name: str, tmp: Path) -> dict[str, Path] | None:
    """UNK-renamed, blank-free copies of the splits (what both tools read)."""
    from groundup.data.locate import bundled_path, open_text, shared_file

    out = {}
    for split in ("train", "valid", "test"):
        if name == "ptb":
            src = shared_file("ptb", f"ptb.{split}.txt")
            if src is None:
                return None
        else:
            src = bundled_path("wikitext-2", f"wiki.{split}.tokens.xz")
        dst = tmp / f"{name}.{split}.txt"
        with open_text(src) as f, open(dst, "w", encoding="utf-8") as g:
            for line in f:
                toks = line.split()
                if toks:
                    g.write(" ".join("UNK" if t == "<unk>" else t for t in toks) + "\n")
        out[split] = dst
    return out


def compare_arpa(ours_path: Path, theirs_path: Path) -> dict:
    """Max |difference| of log10 p and of log10 backoff over every n-gram of both files."""
    from groundup.text.ngram.arpa import read_arpa
    from groundup.text.ngram.counts import ngram_words

    a, b = read_arpa(ours_path), read_arpa(theirs_path)
    if [len(k) for k in a.keys] != [len(k) for k in b.keys]:
        return {"same_ngrams": False, "sizes_ours": [len(k) for k in a.keys],
                "sizes_lmplz": [len(k) for k in b.keys]}
    index_a = {w: i for i, w in enumerate(a.vocab)}
    to_a = np.array([index_a.get(w, -1) for w in b.vocab])
    if (to_a < 0).any():
        return {"same_ngrams": False}
    dp = db = 0.0
    for k in range(1, a.order + 1):
        W = to_a[ngram_words(b.keys, b.V, k)]  # (n_k, k) in our ids
        gid = W[:, 0]
        for j in range(2, k + 1):
            key = gid * a.V + W[:, j - 1]
            pos = np.searchsorted(a.keys[j - 1], key)
            if not (a.keys[j - 1][np.minimum(pos, len(a.keys[j - 1]) - 1)] == key).all():
                return {"same_ngrams": False, "order": k}
            gid = pos
        dp = max(dp, float(np.abs(a.logprob[k - 1][gid] - b.logprob[k - 1]).max()))
        db = max(db, float(np.abs(a.backoff[k - 1][gid] - b.backoff[k - 1]).max()))
    return {"same_ngrams": True, "max_abs_diff_log10p": dp, "max_abs_diff_log10b": db}


def kenlm_eval(arpa: Path, test: Path) -> tuple[dict, float]:
    import kenlm

    model = kenlm.Model(str(arpa))
    sents = [l.strip() for l in open(test, encoding="utf-8")]
    total = total_in = 0.0
    n = oov = 0
    for s in sents:
        for lp, _, is_oov in model.full_scores(s, bos=True, eos=True):
            total += lp
            n += 1
            oov += is_oov
            total_in += 0.0 if is_oov else lp
    words = sum(len(s.split()) for s in sents)
    best = 0.0
    for _ in range(3):  # score() per sentence, as BASELINES.md timed it
        t0 = time.perf_counter()
        for _ in range(5):
            for s in sents:
                model.score(s, bos=True, eos=True)
        best = max(best, 5 * words / (time.perf_counter() - t0))
    return {"perplexity": 10 ** (-total / n), "perplexity_excl_oov": 10 ** (-total_in / (n - oov)),
            "tokens": n, "oov": oov}, best


def our_scoring(arpa: Path, test: Path) -> tuple[dict, float, float]:
    from groundup.data.textfile import iter_lines
    from groundup.text.ngram import NgramModel

    model = NgramModel.load(arpa)
    sents = [l.split() for l in iter_lines(test)]
    ev = model.evaluate(sents)  # also builds the hash index once
    words = sum(len(s) for s in sents)
    batch = sents * 5
    best = best_kernel = 0.0
    corpus = model.encode(batch)
    for _ in range(3):
        t0 = time.perf_counter()
        model.evaluate(batch)  # encode (Python strings -> ids) + score
        best = max(best, 5 * words / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        model.token_log10(corpus)  # ids already encoded
        best_kernel = max(best_kernel, 5 * words / (time.perf_counter() - t0))
    return ev.as_dict(), best, best_kernel


def loadavg() -> str:
    try:
        return open("/proc/loadavg").read().split()[:3].__str__()
    except OSError:
        return "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lmplz", default=shutil.which("lmplz"), help="path of lmplz (default: PATH)")
    ap.add_argument("--orders", type=int, nargs="+", default=[5, 3])
    ap.add_argument("--corpora", nargs="+", default=["ptb", "wikitext2"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--nltk-order", type=int, default=5, help="0 skips NLTK")
    ap.add_argument("--nltk-score-seconds", type=float, default=60.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "ngram.json"))
    args = ap.parse_args()

    results = {"load_before": loadavg(), "lmplz": args.lmplz, "runs": []}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_ngram_") as tmpd:
        tmp = Path(tmpd)
        for corpus in args.corpora:
            files = prepare(corpus, tmp)
            if files is None:
                print(f"skipping {corpus}: not found (set GROUNDUP_DATA)", file=sys.stderr)
                continue
            for order in args.orders:
                r = {"corpus": corpus, "order": order, "ours": [], "lmplz": []}
                ours_arpa, their_arpa = tmp / f"ours.{corpus}.{order}.arpa", tmp / f"lmplz.{corpus}.{order}.arpa"
                for rep in range(args.reps):
                    if args.lmplz:
                        with open(files["train"], "rb") as fin, open(their_arpa, "wb") as fout:
                            wall, rss, _, cpu = run_child([args.lmplz, "-o", str(order), "-S", "1G",
                                                           "-T", str(tmp)], stdin=fin, stdout=fout)
                        r["lmplz"].append({"wall_s": wall, "peak_rss_mb": rss, "cpu_s": cpu})
                    wall, rss, out, cpu = run_child([sys.executable, "-c", OUR_WORKER, str(files["train"]),
                                                str(order), str(ours_arpa)])
                    imp, build, write = map(float, out.split())
                    r["ours"].append({"wall_s": wall, "peak_rss_mb": rss, "cpu_s": cpu, "import_s": imp,
                                      "build_s": build, "write_arpa_s": write})
                    print(f"{corpus} o{order} rep {rep + 1}: ours {wall:.2f} s (cpu {cpu:.2f}) {rss:.0f} MB"
                          + (f", lmplz {r['lmplz'][-1]['wall_s']:.2f} s (cpu {r['lmplz'][-1]['cpu_s']:.2f}) "
                             f"{r['lmplz'][-1]['peak_rss_mb']:.0f} MB"
                             if args.lmplz else ""), file=sys.stderr)
                ev, wps, wps_kernel = our_scoring(ours_arpa, files["test"])
                r.update(ours_eval=ev, ours_words_per_s=wps, ours_kernel_words_per_s=wps_kernel)
                if args.lmplz:
                    r["arpa_agreement"] = compare_arpa(ours_arpa, their_arpa)
                    kev, kwps = kenlm_eval(their_arpa, files["test"])
                    r.update(kenlm_eval=kev, kenlm_words_per_s=kwps)
                results["runs"].append(r)
                med = lambda xs, key: float(np.median([x[key] for x in xs]))  # noqa: E731
                ow, orss = med(r["ours"], "wall_s"), med(r["ours"], "peak_rss_mb")
                tag = f"{corpus} {order}-gram"
                rows.append([f"{tag}: test perplexity", f"{ev['perplexity']:.2f}",
                             f"{r['kenlm_eval']['perplexity']:.2f}" if args.lmplz else "-", "", ""])
                if args.lmplz:
                    lw, lrss = med(r["lmplz"], "wall_s"), med(r["lmplz"], "peak_rss_mb")
                    ag = r["arpa_agreement"]
                    rows.append([f"{tag}: ARPA max abs diff log10 p / backoff",
                                 f"{ag.get('max_abs_diff_log10p', float('nan')):.1e} / "
                                 f"{ag.get('max_abs_diff_log10b', float('nan')):.1e}", "(reference)", "",
                                 "same n-grams" if ag.get("same_ngrams") else "DIFFERENT n-grams"])
                    rows.append([f"{tag}: build wall s (median of {args.reps}, process)",
                                 f"{ow:.2f}", f"{lw:.2f}", f"{ow / lw:.2f}", "target <= 2"])
                    oc, lc = med(r["ours"], "cpu_s"), med(r["lmplz"], "cpu_s")
                    rows.append([f"{tag}: build CPU s, user + sys (median)", f"{oc:.2f}", f"{lc:.2f}",
                                 f"{oc / lc:.2f}", "less sensitive to the shared machine"])
                    rows.append([f"{tag}: peak RSS MB", f"{orss:.0f}", f"{lrss:.0f}", f"{orss / lrss:.2f}",
                                 "target <= 3"])
                    rows.append([f"{tag}: scoring words/s (ours batch / kenlm score())",
                                 f"{wps / 1e6:.2f}M", f"{r['kenlm_words_per_s'] / 1e6:.2f}M",
                                 f"{wps / r['kenlm_words_per_s']:.2f}", "target >= 1M"])
                    rows.append([f"{tag}: our scoring kernel only (ids encoded)",
                                 f"{wps_kernel / 1e6:.2f}M", "", "", ""])
            if args.nltk_order and corpus == "ptb":
                wall, rss, out, _ = run_child([sys.executable, "-c", NLTK_WORKER, str(files["train"]),
                                            str(files["test"]), str(args.nltk_order),
                                            str(args.nltk_score_seconds)])
                nl = json.loads(out)
                nl.update(wall_s=wall, peak_rss_mb=rss, order=args.nltk_order)
                nl["tokens_per_s"] = nl["scored_tokens"] / nl["score_s"]
                nl["extrapolated_full_test_s"] = nl["test_tokens"] / nl["tokens_per_s"]
                nl["subset_perplexity"] = 10 ** (-nl["log10"] / nl["scored_tokens"])
                # ours on the same subset of sentences
                from groundup.text.ngram import NgramModel

                ours_model = NgramModel.load(tmp / f"ours.ptb.{args.nltk_order}.arpa") \
                    if (tmp / f"ours.ptb.{args.nltk_order}.arpa").exists() else None
                if ours_model is not None:
                    sub = [l.split() for l in open(files["test"], encoding="utf-8")][:nl["sentences"]]
                    nl["ours_subset_perplexity"] = ours_model.evaluate(sub).perplexity
                results["nltk"] = nl
                ours_runs = [r for r in results["runs"] if r["corpus"] == "ptb" and r["order"] == args.nltk_order]
                if ours_runs:
                    ow = float(np.median([x["wall_s"] for x in ours_runs[0]["ours"]]))
                    rows.append([f"ptb {args.nltk_order}-gram vs NLTK: build s (ours process / NLTK fit)",
                                 f"{ow:.2f}", f"{nl['fit_s']:.1f}", f"{nl['fit_s'] / ow:.0f}x faster",
                                 "target >= 100x"])
                    ours_total = ow + nl["test_tokens"] / ours_runs[0]["ours_words_per_s"]
                    rows.append([f"ptb {args.nltk_order}-gram vs NLTK: build + score test s",
                                 f"{ours_total:.2f}", f"{nl['fit_s'] + nl['extrapolated_full_test_s']:.0f} (extrapolated)",
                                 f"{(nl['fit_s'] + nl['extrapolated_full_test_s']) / ours_total:.0f}x faster", ""])
                    rows.append([f"ptb {args.nltk_order}-gram vs NLTK: perplexity on the {nl['sentences']} "
                                 "sentences NLTK scored", f"{nl.get('ours_subset_perplexity', float('nan')):.1f}",
                                 f"{nl['subset_perplexity']:.1f}", "", "NLTK: one fixed discount"])
                    o_rss = float(np.median([x["peak_rss_mb"] for x in ours_runs[0]["ours"]]))
                    rows.append([f"ptb {args.nltk_order}-gram vs NLTK: peak RSS MB", f"{o_rss:.0f}",
                                 f"{rss:.0f}", f"{o_rss / rss:.2f}", ""])
    results["load_after"] = loadavg()
    head = "| what | ours | peer (lmplz / kenlm / NLTK) | ratio | note |\n|---|---|---|---|---|\n"
    print(head + "\n".join("| " + " | ".join(map(str, r)) + " |" for r in rows))
    print(f"\nload average before / after: {results['load_before']} / {results['load_after']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "src"))
    from groundup.io import write_text

    results["table"] = rows
    write_text(out, json.dumps(results, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
