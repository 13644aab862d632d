"""Why the word2vec hot loop is a numba kernel and not batched torch ops: both, one corpus, one run.

The alternative measured: skip-gram with negative sampling written as torch tensor ops over
mini-batches of B (input, target) pairs, the way one would write it "the PyTorch way":
    h = syn0[ctx] (B, D);  t = syn1neg[tgt] (B, D);  n = syn1neg[neg] (B, K, D)
    g+ = (1 - sigma(h.t)) lr;  g- = -sigma(n h) lr                    (the SGNS gradient)
    syn0.index_add_(ctx, g+ t + sum_k g-_k n_k);  syn1neg.index_add_(tgt / neg, g h)
Pairs come from the same sub-sampling and shrunk window as word2vec.c (generated with numpy, in
corpus order, not timed), noise words from the same alias table; the lr falls linearly. It is
not the same algorithm: the B pairs of a batch all read the weights from before the batch.
Ours is the library's `train()` (Hogwild numba kernel), same corpus, same settings.

Reported: (input, target) pairs per second, effective words/s (words kept after sub-sampling),
and after one epoch the analogy accuracy (restrict 30k) and WS353 Spearman, both evaluated by
the library's evaluators.

    .venv/bin/python benchmarks/bench_w2v_mechanism.py                  # WikiText-2, 1 epoch
    .venv/bin/python benchmarks/bench_w2v_mechanism.py --batches 1024,16384 --threads 2
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def sg_pairs(ids: np.ndarray, keep: np.ndarray, window: int, rng) -> tuple[np.ndarray, np.ndarray, int]:
    """(context, centre) pairs of skip-gram over the kept tokens, word2vec.c's shrunk window:
    a centre with shrink b ~ U{0..W-1} pairs with the tokens at distance 1..W-b."""
    kept = ids[rng.random(len(ids)) < keep[ids]]
    n = len(kept)
    b = rng.integers(0, window, n)
    ctx, tgt, order = [], [], []
    pos = np.arange(n)
    for o in range(1, window + 1):
        for sgn in (-1, 1):
            j = pos + sgn * o
            ok = (o <= window - b) & (j >= 0) & (j < n)
            ctx.append(kept[j[ok]])
            tgt.append(kept[pos[ok]])
            order.append(pos[ok] * (2 * window + 2) + (2 * o + (sgn > 0)))
    order = np.argsort(np.concatenate(order), kind="stable")         # back to corpus order
    return np.concatenate(ctx)[order], np.concatenate(tgt)[order], n


def train_torch_batched(ctx, tgt, V, D, negative, alias_prob, alias_idx, batch, alpha, min_alpha, seed):
    import torch

    g = torch.Generator().manual_seed(seed)
    syn0 = (torch.rand(V, D, generator=g) - 0.5) / D
    syn1neg = torch.zeros(V, D)
    rng = np.random.default_rng(seed)
    ap, ai = torch.from_numpy(alias_prob.astype(np.float32)), torch.from_numpy(alias_idx.astype(np.int64))
    ctx_t, tgt_t = torch.from_numpy(ctx.astype(np.int64)), torch.from_numpy(tgt.astype(np.int64))
    P = len(ctx)
    t0 = time.perf_counter()
    for s in range(0, P, batch):
        lr = alpha - (alpha - min_alpha) * s / P
        c, t = ctx_t[s:s + batch], tgt_t[s:s + batch]
        B = len(c)
        k = torch.from_numpy(rng.integers(0, V, (B, negative)))
        u = torch.from_numpy(rng.random((B, negative), dtype=np.float32))
        neg = torch.where(u < ap[k], k, ai[k])                             # alias draw (B, K)
        h, tv, nv = syn0[c], syn1neg[t], syn1neg[neg]                      # (B,D) (B,D) (B,K,D)
        gp = (1 - torch.sigmoid((h * tv).sum(-1))) * lr                    # (B,)
        gn = -torch.sigmoid(torch.bmm(nv, h.unsqueeze(-1)).squeeze(-1)) * lr   # (B, K)
        grad_h = gp.unsqueeze(-1) * tv + (gn.unsqueeze(-1) * nv).sum(1)    # (B, D)
        syn1neg.index_add_(0, t, gp.unsqueeze(-1) * h)
        syn1neg.index_add_(0, neg.reshape(-1), (gn.unsqueeze(-1) * h.unsqueeze(1)).reshape(-1, D))
        syn0.index_add_(0, c, grad_h)
    return syn0.numpy(), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="256,1024,4096,16384")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "w2v_mechanism.json"))
    args = ap.parse_args()
    os.environ.setdefault("GROUNDUP_PROGRESS", "0")
    import torch

    from groundup.data.locate import shared_file
    from groundup.data.batching import encode_sentences
    from groundup.text.word2vec import Word2VecConfig, train
    from groundup.text.word2vec.evaluate import evaluate_analogies, evaluate_word_pairs
    from groundup.text.word2vec.sampling import alias_table, keep_probabilities, noise_distribution
    from groundup.text.word2vec.vectors import WordVectors
    from groundup.text.word2vec.vocab import build_vocab, read_sentences

    path = shared_file("wikitext-2", "wiki.train.tokens")
    q, ws = shared_file("word-eval", "questions-words.txt"), shared_file("word-eval", "wordsim353.tsv")
    if path is None or q is None or ws is None:
        raise SystemExit("shared data (wikitext-2, word-eval) not found (set GROUNDUP_DATA)")
    torch.set_num_threads(args.threads)
    cfg = Word2VecConfig(epochs=1, threads=args.threads, seed=args.seed)
    corpus = read_sentences(path, cfg)
    vocab = build_vocab(corpus, min_count=cfg.min_count)

    def quality(vectors):
        wv = WordVectors(vocab.itos, np.ascontiguousarray(vectors, dtype=np.float32), counts=vocab.counts)
        return evaluate_analogies(wv, q, restrict_vocab=30000).accuracy, evaluate_word_pairs(wv, ws).spearman

    rows = []
    m = train(corpus, cfg, vocab=vocab, show_progress=False)
    st = m.stats
    acc, rho = quality(m.syn0)
    rows.append({"system": f"numba kernel (ours, Hogwild, {args.threads} threads)", "pairs_per_s":
                 st["predictions"] / st["train_seconds"], "eff_words_per_s": st["effective_words_per_s"],
                 "analogy": acc, "ws353": rho, "seconds": st["train_seconds"]})
    print(f"ours: {rows[-1]['pairs_per_s']:,.0f} pairs/s", file=sys.stderr, flush=True)

    ids, _, _ = encode_sentences(corpus, vocab.stoi, int(vocab.counts.sum()), np.int32)
    keep = keep_probabilities(vocab.counts, cfg.sample)
    alias_prob, alias_idx = alias_table(noise_distribution(vocab.counts, cfg.ns_exponent))
    rng = np.random.default_rng(args.seed)
    ctx, tgt, n_kept = sg_pairs(ids, keep, cfg.window, rng)
    for B in (int(x) for x in args.batches.split(",")):
        syn0, sec = train_torch_batched(ctx, tgt, len(vocab), cfg.dim, cfg.negative, alias_prob, alias_idx,
                                        B, cfg.alpha, cfg.min_alpha, args.seed)
        acc, rho = quality(syn0)
        rows.append({"system": f"torch batched, B = {B} pairs ({args.threads} threads)",
                     "pairs_per_s": len(ctx) / sec, "eff_words_per_s": n_kept / sec,
                     "analogy": acc, "ws353": rho, "seconds": sec})
        print(f"B={B}: {rows[-1]['pairs_per_s']:,.0f} pairs/s", file=sys.stderr, flush=True)

    print("| WikiText-2 train, SG/NS, 1 epoch | pairs/s | effective words/s | vs ours | analogy (30k) | WS353 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['system']} | {r['pairs_per_s']:,.0f} | {r['eff_words_per_s']:,.0f} | "
              f"{r['eff_words_per_s'] / rows[0]['eff_words_per_s']:.2f} | {r['analogy']:.4f} | {r['ws353']:.3f} |")
    from groundup.io import write_text

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_text(Path(args.out), json.dumps({"rows": rows, "torch": torch.__version__,
                                           "load": os.getloadavg()}, indent=2))


if __name__ == "__main__":
    main()
