"""Lab: the RNN's two problems that attention removes, measured one by one.

The article: a recurrent network (1) processes tokens one after another, each step waiting for
the previous hidden state, and (2) over long distances its gradients vanish (or explode) and
it forgets; LSTM/GRU only patch (2). Self-attention connects every pair of positions in one
step. Four measurements, all with groundup's own layers:

1. Sequential work. Forward+backward time of one recurrent layer (groundup LSTM and
   torch.nn.LSTM, width D) and one causal self-attention layer (width D) against length T, with
   the sequential steps each needs (T for the RNN, 1 for attention) and the FLOPs each does:
       LSTM:      2 * B * T * 4H * (D + H)                (the gate matmuls, per direction)
       attention: 2 * B * T * 4 D^2  +  2 * 2 * B * T^2 * D   (q,k,v,out projections; QK^T, AV)
   times 3 for forward+backward. Where attention's T^2 term overtakes the RNN's serial loop is
   read off the curves.
2. Gradient over distance. ||d loss_T / d x_{T-k}||, the derivative of the last position's
   cross-entropy with respect to the input embedding k positions back, for a tanh RNN, an
   LSTM, a GRU and a one-block Transformer whose sequence-mixing cores have the same parameter
   count, at initialisation and after equal-time training on WikiText-2 (bundled).
   Through an Elman RNN it is a product of k Jacobians diag(tanh') W_hh (Bengio et al. 1994).
3. Forgetting. A value token, then k noise tokens, then a query: the model must output the
   value (copying across a gap k). Recurrent cores without attention vs the Transformer, equal
   core parameters, the same batches and number of steps: accuracy against k.
4. The equal-time WikiText-2 table of the models trained in 2 (validation perplexity after the
   same CPU-time budget each); ``--full`` also shows the 600-second table with the SSM
   families, RWKV and RetNet, measured once by benchmarks/bench_lm_compare.py on the benchmark
   core and shipped as assets/lm_compare_600s.json (docs/lm.md).

Notation: B batch, T length, D embedding/model width, H recurrent hidden width, V vocabulary.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import torch_threads
from .base import Plot, Result, Table
from .wikitext import capped_wikitext, perplexity, windows

NAME = "transformer"
TITLE = "Attention vs recurrence: sequential work, gradient over distance, forgetting"
CLAIM = ("A recurrent network must take its T steps one after another and, over long distances, "
         "its gradients vanish and it forgets (LSTM/GRU only slow this down); self-attention "
         "reaches every position in one step: its work is parallel, its gradient does not decay "
         "with distance, and it recalls a token across any gap.")
CRITERION = ("Fixed before the run. (1) sequential work holds if at the shortest T one attention "
             "layer does at least twice the FLOPs per second of the groundup LSTM and of "
             "torch.nn.LSTM (the serial loop wastes the hardware). (2) gradient over distance "
             "holds if, at initialisation, the tanh RNN's ||dL_T/dx_{T-1}|| / ||dL_T/dx_{T-kmax}|| "
             "is >= 100, larger than the LSTM's and the GRU's, and the Transformer's is <= 10. "
             "(3) forgetting holds if at the largest gap the Transformer's recall accuracy exceeds "
             "every recurrent model's by >= 0.2 and the tanh RNN's accuracy falls by >= 0.2 from "
             "the smallest gap to the largest. The claim holds if all three hold.")

KINDS = ("rnn", "lstm", "gru", "transformer")
LABEL = {"rnn": "tanh RNN", "lstm": "LSTM", "gru": "GRU", "transformer": "Transformer"}


@dataclass(frozen=True)
class TransformerLabConfig:
    d: int = 64                       # embedding / model width; the RNN widths match parameters
    seq_batch: int = 8                # part 1: batch of the timing runs
    seq_lengths: tuple[int, ...] = (32, 64, 128, 256, 512, 1024)
    seq_reps: int = 5                 # timed repetitions (the fastest counts), after a warm-up
    lm_vocab: int = 2000              # WikiText-2 words kept; the rest share one "rare" id
    lm_train_tokens: int = 200_000
    lm_eval_tokens: int = 10_000
    lm_T: int = 64                    # training window and gradient probe length
    lm_batch: int = 16
    lm_seconds: float = 5.0           # equal training budget per model, CPU seconds (one thread)
    recall_gaps: tuple[int, ...] = (8, 32, 128)
    recall_steps: int = 300
    recall_batch: int = 32
    lr: float = 3e-3
    lm_benchmark: bool = False        # also show the 600-second benchmark table (LM_BENCHMARK_FILE)


# Full mode, sized by measuring each part on one idle-ish core of this 2-core machine (CPU time,
# one torch thread, 2026-12-03, load average 2-12 from other processes on the other core):
#   part 1  forward+backward at T = 2048 of the three layers 0.31 + 0.08 + 0.52 s, x8 calls
#           (warm-up + 7): ~15 s for all T;
#   part 2  one training step at V 5,000, batch 16 x 128: 0.10-0.38 s (the output layer
#           dominates), so 60 s buys 150-600 steps (3-6x quick's tokens); the float64 gradient
#           probe ~2-3 s and perplexity on 50k validation tokens ~3-5 s per model: ~270 s;
#   part 3  one step of batch 16 at gap 512, the four models together 0.69 s (0.02 s at gap 8,
#           about linear in the gap): mean 0.18 s over the seven gaps, 1,500 steps ~280 s plus
#           ~15 s of evaluation.
# Total about 10 minutes on one idle core (the run of 2026-12-03 on the benchmark core: 568 s).
# The first draft (V 10,000, batch 32, 120 s per model, 3,000 recall steps of batch 32) measured
# 1-1.7 s per LM step and, from the step times above, ~1,150 s for the recall part alone: over
# half an hour. What full keeps larger than quick is what the claims need: T to 2048 (part 1),
# windows of 128 so the gradient is followed over 127 steps and 12x the training time (part 2),
# gaps to 512 with 5x the updates (part 3); the equal-time table is the 600-second benchmark
# (assets/lm_compare_600s.json).
PRESETS = {
    "quick": TransformerLabConfig(),
    "full": TransformerLabConfig(seq_lengths=(32, 64, 128, 256, 512, 1024, 2048), seq_reps=7,
                                 lm_vocab=5000, lm_train_tokens=0, lm_eval_tokens=50_000, lm_T=128,
                                 lm_batch=16, lm_seconds=60.0,
                                 recall_gaps=(8, 16, 32, 64, 128, 256, 512), recall_steps=1500,
                                 recall_batch=16, lm_benchmark=True),
}


# --- models: embedding -> sequence-mixing core -> head ------------------------------------------

class AttentionCore(nn.Module):
    """Learned positions, one pre-LN decoder block (causal self-attention + GELU FFN, 4D wide),
    final LayerNorm: (B, T, D) -> (B, T, D)."""

    def __init__(self, d: int, max_len: int, heads: int = 4):
        super().__init__()
        from ..nn.norm import LayerNorm
        from ..nn.positional import LearnedPositionalEmbedding
        from ..nn.transformer_lm import DecoderBlock

        self.pos = LearnedPositionalEmbedding(d, max_len)
        self.block = DecoderBlock(d, heads, 4 * d)
        self.ln = LayerNorm(d)
        self.out_size = d

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return self.ln(self.block(self.pos(e)))


class RecurrentCore(nn.Module):
    """One groundup RNN (tanh) / LSTM / GRU layer: (B, T, D) -> (B, T, H)."""

    def __init__(self, kind: str, d: int, hidden: int):
        super().__init__()
        from .. import nn as gnn

        self.rnn = {"rnn": gnn.RNN, "lstm": gnn.LSTM, "gru": gnn.GRU}[kind](d, hidden, batch_first=True)
        self.out_size = hidden

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return self.rnn(e)[0]


class SeqModel(nn.Module):
    """tokens (B, T) -> logits (B, T, V_out); ``core_forward`` starts from embeddings so that
    gradients with respect to each position's input can be taken."""

    def __init__(self, core: nn.Module, vocab: int, d: int, n_out: int):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.core = core
        self.head = nn.Linear(core.out_size, n_out)

    def core_forward(self, e: torch.Tensor) -> torch.Tensor:
        return self.head(self.core(e))                                   # (B, T, V_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.core_forward(self.emb(x))


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def matched_hidden(kind: str, d: int, target: int) -> int:
    """The hidden width H whose one-layer recurrent core (G gate blocks, G (H (D + H) + 2H)
    weights and biases) comes closest to ``target`` parameters."""
    G = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    return min(range(1, 4 * d + target // d), key=lambda H: abs(G * (H * (d + H) + 2 * H) - target))


def make_core(kind: str, d: int, max_len: int) -> nn.Module:
    """A core of ``kind``; the recurrent ones sized to the attention core's parameter count."""
    if kind == "transformer":
        return AttentionCore(d, max_len)
    return RecurrentCore(kind, d, matched_hidden(kind, d, n_params(AttentionCore(d, max_len))))


# --- 1. sequential work ---------------------------------------------------------------------------

def flops_lstm(B: int, T: int, d: int, H: int) -> float:
    """Forward+backward FLOPs of one LSTM layer's gate matmuls (backward ~ 2x forward)."""
    return 3 * 2 * B * T * 4 * H * (d + H)


def flops_attention(B: int, T: int, d: int) -> float:
    """Forward+backward FLOPs of one self-attention layer: projections and the two T x T products
    (the causal mask does not halve the dense kernel's work)."""
    return 3 * (2 * B * T * 4 * d * d + 2 * 2 * B * T * T * d)


def _best_seconds(fn, reps: int) -> float:
    """The fastest of ``reps`` timed calls after one warm-up: on a shared machine the minimum is
    the estimate least inflated by other processes."""
    def once() -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    once()
    return min(once() for _ in range(reps))


def sequential_work(cfg: TransformerLabConfig, device: str = "cpu") -> dict:
    """Per T: best-of-reps forward+backward seconds of the three layers, their FLOPs and steps."""
    from .. import nn as gnn
    from ..nn.attention import CausalSelfAttention

    d, B = cfg.d, cfg.seq_batch
    layers = {"groundup LSTM": gnn.LSTM(d, d, batch_first=True),
              "torch.nn.LSTM": nn.LSTM(d, d, batch_first=True),
              "attention": CausalSelfAttention(d, 4)}
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    rows = []
    for T in cfg.seq_lengths:
        x = torch.randn(B, T, d, device=device, requires_grad=True)        # (B, T, D)
        row = {"T": T, "steps_rnn": T, "steps_attention": 1,
               "flops_rnn": flops_lstm(B, T, d, d), "flops_attention": flops_attention(B, T, d)}
        for name, layer in layers.items():
            layer.to(device)

            def step(layer=layer):
                out = layer(x)
                (out[0] if isinstance(out, tuple) else out).sum().backward()
                sync()
            row[name] = _best_seconds(step, cfg.seq_reps)
        rows.append(row)
    return {"rows": rows, "B": B, "d": d, "device": device}


def crossover(rows: list[dict], rnn: str) -> int | None:
    """The first T at which attention's time exceeds the RNN's (None if it never does)."""
    return next((r["T"] for r in rows if r["attention"] > r[rnn]), None)


# --- 2. gradient over distance --------------------------------------------------------------------

def grad_over_distance(model: SeqModel, x: torch.Tensor) -> torch.Tensor:
    """x (B, T+1) token ids -> (T,) mean over the batch of ||d loss_T / d e_{T-k}||_2 for
    k = 0..T-1, where loss_T is the cross-entropy of the last position's prediction of x[:, T]
    and e_t the input embedding at position t (a leaf, so its .grad is the total derivative
    through every path). Computed in float64 on a copy: through a tanh RNN the norm falls by
    many orders of magnitude and would underflow float32 within the window."""
    import copy

    m = copy.deepcopy(model).double()
    e = m.emb(x[:, :-1]).detach().requires_grad_(True)                  # (B, T, D)
    logits = m.core_forward(e)[:, -1]                                   # (B, V)
    F.cross_entropy(logits, x[:, -1]).backward()
    return e.grad.norm(dim=-1).mean(0).flip(0).detach()                 # (T,), index k


def train_lm(model: SeqModel, train: torch.Tensor, cfg: TransformerLabConfig, seed: int) -> dict:
    """Adam on random windows for ``lm_seconds`` of this process's CPU time (at one thread that
    is the wall clock of an idle machine, and other processes on a shared one do not shorten
    it); returns steps and CPU seconds."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps, t0 = 0, time.process_time()
    while time.process_time() - t0 < cfg.lm_seconds:
        x = windows(train, cfg.lm_batch, cfg.lm_T, g)                  # (B, T+1)
        loss = F.cross_entropy(model(x[:, :-1]).flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
    return {"steps": steps, "seconds": time.process_time() - t0}


# --- 3. forgetting: copying across a gap ----------------------------------------------------------

QUERY, N_VALUES, N_NOISE = 0, 8, 8
RECALL_VOCAB = 1 + N_VALUES + N_NOISE    # query, values 1..8, noise 9..16


def recall_batch(n: int, gap: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x (n, gap + 2) = [value, gap noise tokens, QUERY]; y (n,) = value - 1 (class 0..7)."""
    value = torch.randint(1, 1 + N_VALUES, (n, 1), generator=g)
    noise = torch.randint(1 + N_VALUES, RECALL_VOCAB, (n, gap), generator=g)
    return torch.cat([value, noise, torch.full((n, 1), QUERY)], 1), value[:, 0] - 1


def train_recall(model: SeqModel, cfg: TransformerLabConfig, seed: int) -> dict[int, float]:
    """The same batches (one gap per batch, drawn from the gaps) and steps for every model;
    accuracy per gap on 512 fresh sequences."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gaps = cfg.recall_gaps
    for _ in range(cfg.recall_steps):
        gap = gaps[int(torch.randint(len(gaps), (1,), generator=g))]
        x, y = recall_batch(cfg.recall_batch, gap, g)
        loss = F.cross_entropy(model(x)[:, -1], y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    ge = torch.Generator().manual_seed(seed + 1000)
    acc = {}
    with torch.no_grad():
        for gap in gaps:
            x, y = recall_batch(512, gap, ge)
            acc[gap] = (model(x)[:, -1].argmax(-1) == y).float().mean().item()
    return acc


# --- 4. the 600-second benchmark table (measured once, shipped with the lab) -----------------------

LM_BENCHMARK_FILE = Path(__file__).with_name("assets") / "lm_compare_600s.json"


def benchmark_lm_table(path: Path | None = None) -> tuple[Table, dict, str] | None:
    """The equal-time WikiText-2 table of benchmarks/bench_lm_compare.py as recorded in
    ``path`` (its JSON output with a ``measured`` block: date, UTC start and end, command), as
    (table, {model: test perplexity}, note), or None when the file is absent or unreadable.
    These are a benchmark's figures, measured once on the benchmark core, not this run's."""
    import json

    path = path or LM_BENCHMARK_FILE
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        runs, measured = rec["runs"], rec.get("measured", {})
    except (OSError, ValueError, KeyError, TypeError):
        return None
    loads = [float(r[k].split()[0]) for r in runs for k in ("load_before", "load_after")
             if str(r.get(k, "n/a")) != "n/a"]
    load = f"{min(loads):.2f}-{max(loads):.2f}" if loads else "not recorded (the benchmark core to itself)"
    title = (f"4b. Benchmark figure, not this run: {rec['corpus']} LMs after {rec['budget_seconds']:g} s "
             f"of training each on {rec['threads']} CPU thread(s), measured "
             f"{measured.get('date', 'on an unrecorded date')}, load average {load}")
    rows = [[r["model"], r["layers"], round(r["parameters"] / 1e6, 3),
             round(r["non_embedding_parameters"] / 1e6, 3), r["steps"],
             round(r["train_tokens"] / 1e6, 2), round(r["tokens_per_second"]),
             round(r["valid_perplexity"], 1), round(r["test_perplexity"], 1)] for r in runs]
    table = Table(title, ["model", "layers", "params (M)", "non-emb (M)", "steps", "tokens (M)",
                          "tokens/s", "valid ppl", "test ppl"], rows)
    note = (f"Table 4b is {path.name}, the output of `{measured.get('command', 'benchmarks/bench_lm_compare.py')}`"
            f" ({measured.get('where', 'where not recorded')}; "
            f"{measured.get('runs') or str(measured.get('start_utc')) + '-' + str(measured.get('end_utc')) + ' UTC'})"
            ": every model width 128, tied embeddings, the one "
            "AdamW recipe (lstm-sgd: the LSTM with its PTB SGD recipe), evaluated on the whole "
            "validation and test sets with the full vocabulary.")
    return table, {r["model"]: round(r["test_perplexity"], 1) for r in runs}, note


# --- verdict --------------------------------------------------------------------------------------

def verdict(fig: dict) -> tuple[bool, str]:
    """(held, sentence) from the figures by CRITERION (fabricated figures in the tests)."""
    rate = fig["flops_rate_attention_over_rnn_at_min_T"]
    p1 = rate["groundup LSTM"] >= 2 and rate["torch.nn.LSTM"] >= 2
    r = fig["grad_ratio_k1_over_kmax_init"]
    p2 = r["rnn"] >= 100 and r["rnn"] > r["lstm"] and r["rnn"] > r["gru"] and r["transformer"] <= 10
    acc = fig["recall_accuracy_by_k"]
    ks = sorted(acc["transformer"], key=int)
    lo, hi = ks[0], ks[-1]
    p3 = (all(acc["transformer"][hi] - acc[k][hi] >= 0.2 for k in ("rnn", "lstm", "gru"))
          and acc["rnn"][lo] - acc["rnn"][hi] >= 0.2)
    yes = lambda b: "held" if b else "did not hold"  # noqa: E731
    cross = fig.get("crossover_T_groundup_lstm")
    sentence = (
        f"{'Held' if p1 and p2 and p3 else 'Did not hold'}: (1) sequential work {yes(p1)} "
        f"(attention's FLOP rate {rate['groundup LSTM']:.1f}x the groundup LSTM's, "
        f"{rate['torch.nn.LSTM']:.1f}x torch's at the shortest T; attention's T^2 cost overtakes "
        f"the groundup LSTM's serial loop at T = {cross or 'none measured'}); (2) gradient over "
        f"distance {yes(p2)} (k=1 / k=max at init: RNN {r['rnn']:.3g}, LSTM {r['lstm']:.3g}, "
        f"GRU {r['gru']:.3g}, Transformer {r['transformer']:.3g}); (3) forgetting {yes(p3)} "
        f"(recall at gap {hi}: " + ", ".join(f"{LABEL[k]} {acc[k][hi]:.2f}" for k in KINDS) + ").")
    return p1 and p2 and p3, sentence


# --- the experiment -------------------------------------------------------------------------------

def run(out: Path, *, full: bool, seed: int, cfg: TransformerLabConfig | None = None) -> Result:
    # one thread: on a shared 2-core machine a second OpenMP thread spin-waits (docs/ssm.md),
    # and one thread makes the timings of part 1 comparable between runs
    with torch_threads(1):
        return _run(out, cfg or PRESETS["full" if full else "quick"], seed)


def _run(out: Path, cfg: TransformerLabConfig, seed: int) -> Result:
    import os

    from .plotting import plt, save

    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    fig: dict = {}
    tables, plots = [], []

    # 1. sequential work
    sw = sequential_work(cfg)
    rows = sw["rows"]
    layer_names = ("groundup LSTM", "torch.nn.LSTM", "attention")
    tables.append(Table(
        f"1. Forward+backward of one layer, B={sw['B']}, width {sw['d']}, one CPU thread "
        f"(best of {cfg.seq_reps}; load average {load})",
        ["T", "sequential steps RNN / attention", "GFLOP LSTM / attention"]
        + [f"{n} ms" for n in layer_names],
        [[r["T"], f"{r['T']} / 1", f"{r['flops_rnn'] / 1e9:.3f} / {r['flops_attention'] / 1e9:.3f}"]
         + [round(1e3 * r[n], 2) for n in layer_names] for r in rows]))
    p = plt()
    f, ax = p.subplots(1, 2, figsize=(11, 4))
    Ts = [r["T"] for r in rows]
    for n, style in zip(layer_names, ("o-", "s-", "^-")):
        ax[0].loglog(Ts, [r[n] for r in rows], style, label=n)
    ax[0].set(xlabel="sequence length T", ylabel="forward+backward seconds",
              title="time of one layer")
    ax[0].legend(fontsize=8)
    ax[1].loglog(Ts, Ts, "o-", label="sequential steps, RNN (T)")
    ax[1].loglog(Ts, [1] * len(Ts), "^-", label="sequential steps, attention (1)")
    ax[1].loglog(Ts, [r["flops_rnn"] / 1e6 for r in rows], "o--", label="MFLOP, LSTM")
    ax[1].loglog(Ts, [r["flops_attention"] / 1e6 for r in rows], "^--", label="MFLOP, attention")
    ax[1].set(xlabel="sequence length T", title="sequential steps and work")
    ax[1].legend(fontsize=8)
    plots.append(Plot(save(f, out / "sequential_work.png"),
                      "Left: forward+backward seconds of one layer against T (log-log, one CPU "
                      "thread). Right: the steps that must run one after another (T for the RNN, "
                      "1 for attention) and the FLOPs each does. Attention does more arithmetic "
                      "(its T^2 term) but in one step. Look for where attention's time curve "
                      "crosses an RNN's: from there on, the quadratic cost outweighs the serial "
                      "loop on this machine."))
    r0, rmax = rows[0], rows[-1]
    rate = {n: (r0["flops_attention"] / r0["attention"]) / (r0["flops_rnn"] / r0[n])
            for n in ("groundup LSTM", "torch.nn.LSTM")}
    fig.update({
        "seq_time_ratio_rnn_over_attention_at_max_T": round(rmax["groundup LSTM"] / rmax["attention"], 3),
        "seq_time_ratio_torch_lstm_over_attention_at_max_T": round(rmax["torch.nn.LSTM"] / rmax["attention"], 3),
        "seq_time_ratio_rnn_over_attention_at_min_T": round(r0["groundup LSTM"] / r0["attention"], 3),
        "seq_max_T": rmax["T"],
        "crossover_T_groundup_lstm": crossover(rows, "groundup LSTM"),
        "crossover_T_torch_lstm": crossover(rows, "torch.nn.LSTM"),
        "flops_rate_attention_over_rnn_at_min_T": {k: round(v, 2) for k, v in rate.items()},
        "load_average": load,
    })

    # 2. gradient over distance, and 4. the equal-time LM table
    train, valid, V = capped_wikitext(cfg.lm_vocab, cfg.lm_train_tokens, cfg.lm_eval_tokens)
    probe = windows(valid, 32, cfg.lm_T, torch.Generator().manual_seed(seed + 7))  # (32, T+1)
    grads, lm_rows, core_params = {}, [], {}
    for kind in KINDS:
        torch.manual_seed(seed)
        model = SeqModel(make_core(kind, cfg.d, cfg.lm_T), V, cfg.d, V)
        core_params[kind] = n_params(model.core)
        g_init = grad_over_distance(model, probe)
        tr = train_lm(model, train, cfg, seed)
        grads[kind] = (g_init, grad_over_distance(model, probe))
        model.eval()
        lm_rows.append([LABEL[kind], model.core.out_size, core_params[kind], n_params(model),
                        tr["steps"], round(tr["seconds"], 1), round(perplexity(model, valid, cfg.lm_T), 1)])
    kmax = cfg.lm_T - 1
    ratio = {k: {when: float(grads[k][i][1] / grads[k][i][kmax]) for i, when in enumerate(("init", "trained"))}
             for k in KINDS}
    fig["grad_norm_ratio_rnn_k1_over_kmax"] = float(f"{ratio['rnn']['init']:.4g}")
    fig["grad_ratio_k1_over_kmax_init"] = {k: float(f"{ratio[k]['init']:.4g}") for k in KINDS}
    fig["grad_ratio_k1_over_kmax_trained"] = {k: float(f"{ratio[k]['trained']:.4g}") for k in KINDS}
    fig["core_params"] = core_params
    fig["lm_val_ppl_equal_time"] = {LABEL[k]: r[-1] for k, r in zip(KINDS, lm_rows)}
    f, ax = p.subplots(1, 2, figsize=(11, 4), sharey=True)
    for i, when in enumerate(("at initialisation", "after training")):
        for kind in KINDS:
            gk = grads[kind][i]
            ax[i].semilogy(range(1, kmax + 1), gk[1:].clamp_min(1e-30).tolist(), label=LABEL[kind])
        ax[i].set(xlabel="distance k", title=when)
        ax[i].legend(fontsize=8)
    ax[0].set_ylabel("||d loss_T / d x_{T-k}||")
    plots.append(Plot(save(f, out / "gradient_over_distance.png"),
                      f"How much the last position's loss depends on the input k positions back, "
                      f"for cores of equal parameter count (~{core_params['transformer']:,}), "
                      f"at initialisation and after {cfg.lm_seconds:g} s of training on WikiText-2. "
                      "Look at the slopes: a straight falling line on this log scale is a "
                      "geometric decay (vanishing gradient); a flat line means distance does not "
                      "matter."))
    tables.append(Table(
        f"2. Gradient over distance: ||dL_T/dx_(T-1)|| / ||dL_T/dx_(T-{kmax})|| (1 = flat)",
        ["model", "at init", "after training"],
        [[LABEL[k], f"{ratio[k]['init']:.3g}", f"{ratio[k]['trained']:.3g}"] for k in KINDS]))
    lm_table = Table(  # shown after table 3, in the claim's order
        f"4. Equal-time WikiText-2 LM ({cfg.lm_seconds:g} CPU seconds each, {V} most frequent words, "
        f"window {cfg.lm_T}, Adam lr {cfg.lr:g}; load average {load})",
        ["model", "width", "core params", "total params", "steps", "CPU seconds", "valid perplexity"],
        lm_rows)

    # 3. forgetting
    gaps = cfg.recall_gaps
    acc = {}
    for kind in KINDS:
        torch.manual_seed(seed)
        model = SeqModel(make_core(kind, cfg.d, max(gaps) + 2), RECALL_VOCAB, cfg.d, N_VALUES)
        acc[kind] = train_recall(model, cfg, seed)
    fig["recall_accuracy_by_k"] = {k: {str(gap): round(a, 3) for gap, a in acc[k].items()} for k in KINDS}
    tables.append(Table(
        f"3. Copying across a gap: accuracy on 512 fresh sequences after {cfg.recall_steps} "
        f"steps of batch {cfg.recall_batch} (chance {1 / N_VALUES:.3f})",
        ["model"] + [f"k={gap}" for gap in gaps], [[LABEL[k]] + [round(acc[k][gap], 3) for gap in gaps]
                                                   for k in KINDS]))
    tables.append(lm_table)
    f, ax = p.subplots(figsize=(5.5, 4))
    for kind in KINDS:
        ax.plot(gaps, [acc[kind][gap] for gap in gaps], "o-", label=LABEL[kind])
    ax.axhline(1 / N_VALUES, color="gray", ls=":", label="chance")
    ax.set(xscale="log", xlabel="gap k", ylabel="recall accuracy", ylim=(0, 1.05))
    ax.legend(fontsize=8)
    plots.append(Plot(save(f, out / "recall_vs_gap.png"),
                      "Copy a value token across k noise tokens: recurrent cores (no attention) "
                      "against one Transformer block of the same parameter count, same batches "
                      "and steps. Look for accuracy falling as k grows (forgetting) and at the "
                      "dotted chance line."))

    bench = benchmark_lm_table() if cfg.lm_benchmark else None
    if bench is not None:
        tables.append(bench[0])
        fig["lm_benchmark_600s_test_ppl"] = bench[1]

    held, sentence = verdict(fig)
    notes = [f"Times are wall clock on a shared machine (load average {load} at the start); "
             "compare within one run.",
             f"Equal parameters: the recurrent hidden widths (RNN {make_core('rnn', cfg.d, cfg.lm_T).out_size}, "
             f"LSTM {make_core('lstm', cfg.d, cfg.lm_T).out_size}, GRU {make_core('gru', cfg.d, cfg.lm_T).out_size}) "
             "are chosen so the recurrent layer has as many parameters as the Transformer block "
             "with its positional table; embedding and head are outside the count.",
             bench[2] if bench is not None else
             "The 600-second equal-time table with S4D, Mamba, LRU, RWKV and RetNet is "
             "benchmarks/bench_lm_compare.py (docs/lm.md); --full shows its recorded figures."]
    return Result(name=NAME, title=TITLE, claim=CLAIM, verdict=sentence, held=held,
                  criterion=CRITERION, summary=fig, tables=tables, plots=plots, notes=notes)
