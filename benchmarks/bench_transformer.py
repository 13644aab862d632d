"""Training-step throughput of groundup's Transformer LM against the same architecture built from
torch.nn.TransformerEncoder (fused SDPA path), in one process, interleaved (BASELINES.md §4).

Config: vocab 10k, d 256, 4 heads, FFN 1024 GELU, 4 pre-LN layers, learned positions, final LN,
Linear -> 10k, seq 128 x batch 32 (4,096 tokens/step), dropout 0, torch.optim.AdamW for both (so
the comparison is the model, not the optimizer). A step: zero_grad, forward, cross-entropy,
backward, AdamW step. Random token ids (speed does not depend on the data).

Variants: ours = groundup.nn.transformer_lm.TransformerLM (GELU from groundup.nn.activations:
an autograd Function, erfc forward and closed-form backward; before 2026-11-26 the erfc formula
through autograd); ours-Fgelu = the same model with torch's fused F.gelu, to
separate the model from the activation's cost; ours-compat = an embedding +
groundup.nn.TransformerEncoder of the torch-compatible layers; torch = torch.nn.TransformerEncoder
(norm_first, batch_first) with generate_square_subsequent_mask + is_causal=True.

    .venv/bin/python benchmarks/bench_transformer.py                  # 3 rounds x 5 steps
    .venv/bin/python benchmarks/bench_transformer.py --rounds 5 --steps 10 --threads 2
"""
from __future__ import annotations

import argparse
import statistics
import time

import _common  # noqa: F401  (puts src/ on the path)
import torch
import torch.nn.functional as F
from _common import load_average, markdown_table, write_json

import groundup.nn as gnn
from groundup.nn.lm_configs import TransformerLMConfig
from groundup.nn.transformer_lm import TransformerLM

V, D, H, FF, N, T, B = 10_000, 256, 4, 1024, 4, 128, 32


class EncoderLM(torch.nn.Module):
    """Embedding + learned positions -> causal encoder stack (pre-LN, final LN) -> Linear V."""

    def __init__(self, nn_mod):
        super().__init__()
        self.tok = torch.nn.Embedding(V, D)
        self.pos = torch.nn.Parameter(torch.randn(T, D) * 0.02)
        layer = nn_mod.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
        kw = {"enable_nested_tensor": False} if nn_mod is torch.nn else {}
        self.enc = nn_mod.TransformerEncoder(layer, N, norm=nn_mod.LayerNorm(D), **kw)
        self.head = torch.nn.Linear(D, V)
        self.register_buffer("mask", torch.nn.Transformer.generate_square_subsequent_mask(T))

    def forward(self, x, state=None):
        h = self.tok(x) + self.pos[: x.shape[1]]
        return self.head(self.enc(h, mask=self.mask, is_causal=True)), None


def make(name):
    torch.manual_seed(0)
    if name in ("ours", "ours-Fgelu"):
        act = "gelu" if name == "ours" else F.gelu
        cfg = TransformerLMConfig(d_model=D, n_heads=H, num_layers=N, d_ff=FF, max_len=T,
                                  positional="learned", activation=act)   # act may be a callable
        return TransformerLM(cfg, V)
    return EncoderLM(torch.nn if name == "torch" else gnn)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variants", default="ours,ours-Fgelu,torch")
    ap.add_argument("--out", default="benchmarks/out/transformer.json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    names = a.variants.split(",")
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, V, (B, T), generator=g)
    y = torch.randint(0, V, (B, T), generator=g)
    models = {n: make(n) for n in names}
    opts = {n: torch.optim.AdamW(m.parameters(), lr=1e-4) for n, m in models.items()}
    params = {n: sum(p.numel() for p in m.parameters()) for n, m in models.items()}

    def step(n):
        m, o = models[n], opts[n]
        o.zero_grad(set_to_none=True)
        logits, _ = m(x, None)
        F.cross_entropy(logits.reshape(-1, V), y.reshape(-1)).backward()
        o.step()

    loads = [load_average()]
    for n in names:                                           # warm-up
        step(n)
    times = {n: [] for n in names}
    for r in range(a.rounds):                                 # interleaved rounds
        for n in (names if r % 2 == 0 else names[::-1]):
            t0 = time.perf_counter()
            for _ in range(a.steps):
                step(n)
            times[n].append((time.perf_counter() - t0) / a.steps)
        loads.append(load_average())
    tok = {n: [B * T / t for t in times[n]] for n in names}
    med = {n: statistics.median(tok[n]) for n in names}
    rows = [(f"{n} ({params[n] / 1e6:.2f}M params)", ", ".join(f"{v:,.0f}" for v in tok[n]),
             f"{med[n]:,.0f}", f"{med[n] / med['torch']:.3f}" if "torch" in med else "")
            for n in names]
    print(f"threads {a.threads}, {a.rounds} rounds x {a.steps} steps, load average before/after "
          f"each round: {' | '.join(loads)}")
    print(markdown_table(["variant", "tokens/s per round", "median tokens/s", "ratio to torch"], rows))
    write_json(a.out, {"config": {"V": V, "D": D, "H": H, "FF": FF, "N": N, "T": T, "B": B,
                                  "threads": a.threads, "rounds": a.rounds, "steps": a.steps},
                       "params": params, "tokens_per_s": tok, "median_tokens_per_s": med,
                       "ratio_to_torch": {n: med[n] / med["torch"] for n in names} if "torch" in med else {},
                       "load_average": loads})


if __name__ == "__main__":
    main()
