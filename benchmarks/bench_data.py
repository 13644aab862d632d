"""Data layer vs the peers: vocabulary building against gensim, the text8 normaliser against
the plain regex route.

    .venv/bin/python benchmarks/bench_data.py                       # WikiText-2 (bundled)
    .venv/bin/python benchmarks/bench_data.py --data novels98 --min-count 5   # 14.1M words

Rows (median of --reps, ours and the peer interleaved in one process):
* vocab build from in-memory token lists: ``Vocab.build(tie_break="last")`` vs gensim
  ``Word2Vec.build_vocab``
  (same min_count), and whether both keep the same words with the same counts;
* text8 normalisation + split of the raw files: our byte table vs
  ``re.sub("[^a-z]+", " ", line.lower()).split()`` (same words required);
* encoding the corpus to ids: ``Vocab.encode`` vs a list comprehension over gensim's
  ``key_to_index`` (the common hand-rolled route).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="wikitext2")
    ap.add_argument("--split", default="train")
    ap.add_argument("--min-count", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "data.json"))
    args = ap.parse_args(argv)

    import numpy as np
    from gensim.models import Word2Vec

    from groundup.data.batching import encode_stream
    from groundup.data.corpora import load_corpus
    from groundup.data.vocab import Vocab
    from groundup.io import write_text

    text8 = load_corpus(args.data, args.split, tokenizer="text8")
    raw_lines = list(text8.lines())
    sentences = [s for s in text8 if s]
    n_words = sum(len(s) for s in sentences)
    print(f"{args.data}/{args.split}: {len(raw_lines):,} lines, {n_words:,} text8 words", file=sys.stderr)

    def ours_vocab():
        return Vocab.build(sentences, min_count=args.min_count, specials=(), unk=None, tie_break="last")

    def gensim_vocab():
        m = Word2Vec(vector_size=8, min_count=args.min_count, sample=0, workers=1)
        m.build_vocab(corpus_iterable=sentences)
        return m

    byte_tok = text8._tok
    pat = re.compile("[^a-z]+")

    def ours_norm():
        return sum(len(byte_tok(line)) for line in raw_lines)

    def regex_norm():
        return sum(len(pat.sub(" ", line.lower()).split()) for line in raw_lines)

    # for encoding, out-of-vocabulary words map to <unk> (ours) / -1 (the peer route)
    v_unk = Vocab.build(sentences, min_count=args.min_count)
    t_ov, t_gv, t_on, t_rn, t_oe, t_ge = [], [], [], [], [], []
    v = m = None
    for _ in range(args.reps):  # interleaved, so machine noise hits both sides alike
        t, v = _timed(ours_vocab); t_ov.append(t)
        t, m = _timed(gensim_vocab); t_gv.append(t)
        t, n_ours = _timed(ours_norm); t_on.append(t)
        t, n_ref = _timed(regex_norm); t_rn.append(t)
        k2i = m.wv.key_to_index
        t, ids = _timed(lambda: encode_stream(sentences, v_unk, as_tensor=False)); t_oe.append(t)
        t, ids_g = _timed(lambda: np.array([k2i.get(w, -1) for s in sentences for w in s], dtype=np.int64))
        t_ge.append(t)

    same_vocab = set(v.itos) == set(m.wv.index_to_key) and all(
        int(v.counts[v.stoi[w]]) == int(m.wv.get_vecattr(w, "count")) for w in m.wv.index_to_key)
    same_order = v.itos == list(m.wv.index_to_key)
    same_words = n_ours == n_ref
    med = statistics.median
    rows = [
        ["vocab build, s", med(t_ov), med(t_gv), med(t_ov) / med(t_gv)],
        ["vocab types kept", len(v), len(m.wv), f"same words and counts: {same_vocab}; same id order: {same_order}"],
        ["text8 normalise+split, s (peer: regex route)", med(t_on), med(t_rn), med(t_on) / med(t_rn)],
        ["text8 words", n_ours, n_ref, f"equal: {same_words}"],
        ["encode to ids, s (peer: list comp over key_to_index)", med(t_oe), med(t_ge), med(t_oe) / med(t_ge)],
    ]
    hdr = ["what", "ours", "peer", "ratio"]
    print(f"\n{args.data}/{args.split}, min_count {args.min_count}, median of {args.reps}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (shared 2-core machine)\n")
    print("| " + " | ".join(hdr) + " |\n|" + "---|" * 4)
    for r in rows:
        print("| " + " | ".join(f"{x:.3g}" if isinstance(x, float) else f"{x:,}" if isinstance(x, int) else str(x)
                                for x in r) + " |")
    payload = {"data": args.data, "split": args.split, "min_count": args.min_count, "reps": args.reps,
               "words": n_words, "load_average": os.getloadavg(),
               "times": {"ours_vocab": t_ov, "gensim_vocab": t_gv, "ours_text8": t_on, "regex_text8": t_rn,
                         "ours_encode": t_oe, "listcomp_encode": t_ge},
               "types": {"ours": len(v), "gensim": len(m.wv)}, "same_vocab": same_vocab, "same_order": same_order, "same_words": same_words}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_text(args.out, json.dumps(payload, indent=2) + "\n")
    return 0 if same_vocab and same_words else 1


if __name__ == "__main__":
    sys.exit(main())
