"""Benchmark: 5-gram modified Kneser-Ney at growing corpus sizes, ``groundup ngram build
--memory`` beside KenLM's ``lmplz -S``, wall time and peak RSS at the same memory budgets.

    .venv/bin/python benchmarks/bench_ngram_scale.py --words 1000000 [10000000 ...] [--sample N ...]
        [--budgets 1G 4G] [--lmplz PATH | env LMPLZ] [--work /tmp/ngram-scale]
        [--out benchmarks/out/ngram_scale.json] [--compare-max-words 20000000] [--reps 3]

The corpus. No corpus of 100M+ words ships, so one is sampled: an interpolated Witten-Bell
trigram model of the 98 bundled novels (shared data ``english-novels-98``, found through
``groundup.data.locate``) generates sentences, seeded, in vectorised batches (``sample_corpus``:
with probability c(h) / (c(h) + N1+(h .)) the next word is the word after a uniformly drawn
occurrence of the context h in the novels, else the context is shortened). Sampling yields the
long tail of unseen higher-order n-grams that real text has, so the count of unique 5-grams
grows with the corpus as it does for real text. Words are whitespace-free (the novels split with
``str.split()``), so lmplz and groundup see the same words. The file is cached in ``--work``.

Each build is one child process: ``groundup ngram build CORPUS --order 5 --memory B
--temp-dir WORK/tmp`` (interpreter start and imports included) and ``lmplz -o 5 -S B -T
WORK/tmp < CORPUS``. Wall time and peak RSS come from GNU ``/usr/bin/time`` (via
``bench_ngram.run_child``). With ``--reps R`` each tool builds R times per budget, the two
interleaved, and the run of median time is reported (all times kept in ``wall_runs``; the peak
RSS is the highest). Up to ``--compare-max-words``, the two ARPA files are compared entry
by entry (max |log10 p| and |log10 b| difference). Results merge into ``--out`` by corpus size,
and the Markdown table of everything in it is printed. lmplz absent: its columns are skipped with
a message.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from bench_ngram import compare_arpa, run_child  # noqa: E402

BOS, EOS = 1, 2


def novels_stream() -> tuple[list[str], np.ndarray]:
    """(vocab, padded id stream ``<s> <s> w.. </s>`` per non-empty line) of the 98 novels."""
    from groundup.data.locate import shared_file
    from groundup.data.textfile import iter_lines

    folder = shared_file("english-novels-98")
    if folder is None:
        raise SystemExit("english-novels-98 not found (set GROUNDUP_DATA to the shared data folder)")
    vocab = ["<unk>", "<s>", "</s>"]
    index = {w: i for i, w in enumerate(vocab)}
    ids: list[int] = []
    for path in sorted(folder.glob("*.txt")):
        for line in iter_lines(path):
            words = line.split()
            if not words:
                continue
            for w in words:
                if w not in index:
                    index[w] = len(vocab)
                    vocab.append(w)
            ids += [BOS, BOS] + [index[w] for w in words] + [EOS]
    return vocab, np.asarray(ids, dtype=np.int64)


class Contexts:
    """Occurrences of each context (a packed key) sorted, with the word that followed each."""

    def __init__(self, key: np.ndarray, nxt: np.ndarray):
        order = np.argsort(key, kind="stable")
        key, self.next = key[order], nxt[order]
        self.keys, self.start, self.count = np.unique(key, return_index=True, return_counts=True)
        pair = np.unique(key * (1 << 20) + self.next)  # distinct (context, next word)
        self.distinct = np.bincount(np.searchsorted(self.keys, pair >> 20), minlength=len(self.keys))

    def draw(self, q: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """(used, word): the context is kept with probability c / (c + N1+) (Witten-Bell)."""
        i = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
        found = self.keys[i] == q
        c, d = self.count[i], self.distinct[i]
        use = found & (rng.random(len(q)) < c / (c + d))
        j = self.start[i] + (rng.random(len(q)) * c).astype(np.int64)
        return use, self.next[np.minimum(j, len(self.next) - 1)]


@functools.lru_cache(maxsize=1)
def sampler():
    """(vocab, trigram contexts, bigram contexts, unigram draws) of the novels (built once)."""
    vocab, tok = novels_stream()
    V = len(vocab)
    assert V < (1 << 20)
    t = np.flatnonzero(tok != BOS)  # positions of predicted words (and </s>)
    return vocab, Contexts(tok[t - 2] * V + tok[t - 1], tok[t]), Contexts(tok[t - 1], tok[t]), tok[t]


def sample_corpus(path: Path, words: int, seed: int = 0, batch: int = 100_000, max_len: int = 200) -> None:
    vocab, tri, bi, uni = sampler()
    V = len(vocab)
    rng = np.random.default_rng(seed)
    words_arr = np.array(vocab, dtype=object)
    written = 0
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8") as f:
        while written < words:
            h2 = np.full(batch, BOS)
            h1 = np.full(batch, BOS)
            rows = np.zeros((batch, max_len), dtype=np.int64)
            alive = np.ones(batch, dtype=bool)
            length = np.zeros(batch, dtype=np.int64)
            for step in range(max_len):
                w = uni[rng.integers(0, len(uni), size=batch)]
                use1, w1 = bi.draw(h1, rng)
                w = np.where(use1, w1, w)
                use2, w2 = tri.draw(h2 * V + h1, rng)
                w = np.where(use2, w2, w)
                ends = alive & (w == EOS)
                go = alive & ~ends
                rows[go, step] = w[go]
                length[go] += 1
                alive = go
                h2, h1 = h1, w
                if not alive.any():
                    break
            lines = []
            for r, n in zip(rows, length.tolist()):
                if n and written < words:
                    lines.append(" ".join(words_arr[r[:n]]))
                    written += n
            f.write("\n".join(lines) + "\n")
    tmp.replace(path)


def corpus_for(work: Path, words: int) -> Path:
    path = work / f"sampled-{words}.txt"
    if not path.exists():
        t0 = time.perf_counter()
        sample_corpus(path, words)
        print(f"sampled {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return path


def build_ours(corpus: Path, budget: str, work: Path) -> dict:
    out = work / f"ours-{corpus.stem}-{budget}.arpa"
    cmd = [sys.executable, "-m", "groundup", "ngram", "build", str(corpus), "--order", "5",
           "--memory", budget, "--temp-dir", str(work / "tmp"), "--json", "--force", "-o", str(out)]
    env_before = os.environ.get("GROUNDUP_PROGRESS")
    os.environ["GROUNDUP_PROGRESS"] = "0"
    try:
        wall, rss, stdout, cpu = run_child(cmd)
    finally:
        if env_before is None:
            os.environ.pop("GROUNDUP_PROGRESS")
    summary = json.loads(stdout)
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1), "cpu_s": round(cpu, 2),
            "ngrams": summary["ngrams"], "arpa": str(out),
            "temp_peak_mb": round(summary["temp_peak_bytes"] / 2**20, 1)}


def build_lmplz(lmplz: str, corpus: Path, budget: str, work: Path) -> dict:
    out = work / f"lmplz-{corpus.stem}-{budget}.arpa"
    with open(corpus, "rb") as src, open(out, "wb") as dst:
        wall, rss, _, cpu = run_child([lmplz, "-o", "5", "-S", budget, "-T", str(work / "tmp")],
                                      stdin=src, stdout=dst)
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1), "cpu_s": round(cpu, 2),
            "arpa": str(out)}


def median_run(runs: list[dict]) -> dict:
    """The run of median wall time, with every run's time and the highest peak RSS."""
    mid = sorted(runs, key=lambda x: x["wall_s"])[(len(runs) - 1) // 2]
    return {**mid, "wall_runs": [x["wall_s"] for x in runs],
            "peak_rss_mb": max(x["peak_rss_mb"] for x in runs)}


def table(results: dict, budgets: list[str]) -> str:
    head = ["words", "unique 5-grams"]
    for b in budgets:
        head += [f"ours --memory {b}: s / MB", f"lmplz -S {b}: s / MB", f"time ratio {b}"]
    head.append("max |Δ log10 p| vs lmplz")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for words in sorted(results, key=int):
        r = results[words]
        row = [f"{int(words):,}", f"{r.get('unique_5grams', 0):,}"]
        for b in budgets:
            o, l = r.get("ours", {}).get(b), r.get("lmplz", {}).get(b)
            row.append(f"{o['wall_s']:.1f} / {o['peak_rss_mb']:.0f}" if o else "-")
            row.append(f"{l['wall_s']:.1f} / {l['peak_rss_mb']:.0f}" if l else "-")
            row.append(f"{o['wall_s'] / l['wall_s']:.2f}x" if o and l else "-")
        cmp_ = r.get("compare")
        row.append(f"{cmp_['max_abs_diff_log10p']:.1e}" if cmp_ and cmp_.get("same_ngrams") else
                   ("n-grams differ" if cmp_ else "-"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--budgets", nargs="+", default=["1G", "4G"])
    ap.add_argument("--reps", type=int, default=1,
                    help="builds per tool and budget, interleaved; the median time is reported "
                         "(this machine's times vary by up to a third from run to run)")
    ap.add_argument("--lmplz", default=os.environ.get("LMPLZ") or shutil.which("lmplz"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/ngram-scale"))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "ngram_scale.json")
    ap.add_argument("--compare-max-words", type=int, default=20_000_000)
    ap.add_argument("--skip-ours", action="store_true", help="only lmplz (and the corpus)")
    ap.add_argument("--keep-arpa", action="store_true")
    ap.add_argument("--sample", type=int, nargs="*", default=[],
                    help="also sample (and cache) corpora of these sizes, without building")
    args = ap.parse_args()
    (args.work / "tmp").mkdir(parents=True, exist_ok=True)
    if not args.lmplz or not Path(args.lmplz).exists():
        print("lmplz not found (give --lmplz PATH or set LMPLZ): its columns are skipped",
              file=sys.stderr)
        args.lmplz = None
    results = json.loads(args.out.read_text())["results"] if args.out.exists() else {}
    corpora = {words: corpus_for(args.work, words) for words in args.words + args.sample}
    for words in args.words:
        corpus = corpora[words]
        r = results.setdefault(str(words), {})
        r["corpus_words"] = sum(len(l.split()) for l in open(corpus, encoding="utf-8"))
        for b in args.budgets:
            runs: dict[str, list[dict]] = {"ours": [], "lmplz": []}
            for rep in range(args.reps):  # interleaved, so a slow spell of the machine hits both
                if not args.skip_ours:
                    runs["ours"].append(build_ours(corpus, b, args.work))
                    print(f"{words:,} words, ours {b} #{rep + 1}: {runs['ours'][-1]}", file=sys.stderr)
                if args.lmplz:
                    runs["lmplz"].append(build_lmplz(args.lmplz, corpus, b, args.work))
                    print(f"{words:,} words, lmplz {b} #{rep + 1}: {runs['lmplz'][-1]}", file=sys.stderr)
            for tool, got in runs.items():
                if got:
                    r.setdefault(tool, {})[b] = median_run(got)
            if runs["ours"]:
                r["unique_5grams"] = r["ours"][b]["ngrams"][4]
        b = args.budgets[0]
        if args.lmplz and not args.skip_ours and words <= args.compare_max_words:
            r["compare"] = compare_arpa(Path(r["ours"][b]["arpa"]), Path(r["lmplz"][b]["arpa"]))
        if not args.keep_arpa:
            for tool in ("ours", "lmplz"):
                for x in r.get(tool, {}).values():
                    Path(x["arpa"]).unlink(missing_ok=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"budgets": args.budgets, "results": results,
                                        "load": os.getloadavg()}, indent=1))
    print(table(results, args.budgets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
