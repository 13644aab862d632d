"""Lab: vanilla RNN vs LSTM vs GRU language models, and vanishing gradients through time.

Two measurements on the bundled WikiText-2 (no shared data needed):

1. The same engine, budget and hyper-parameters train a 1-layer Elman RNN (tanh), LSTM and GRU
   word-level LM on a slice of the training text; validation perplexity after every epoch.
2. Gradient norm through time: for a sequence of T words, the loss at the last step only,
   ``L_T``; the norm of ``dL_T / dh_t`` (the full BPTT derivative w.r.t. the hidden state at
   step t) against the distance ``T - t``. In an Elman RNN that derivative is a product of
   Jacobians ``diag(tanh') W_hh``, which shrinks geometrically (Bengio, Simard & Frasconi 1994;
   Hochreiter 1991); the LSTM's additive cell path ``c_t = f c_{t-1} + i g`` and the GRU's
   interpolation ``h_t = (1 - z) n + z h_{t-1}`` let it survive longer.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from ..utils import torch_threads
from .base import Plot, Result, Table

NAME = "rnn"
TITLE = "RNN vs LSTM vs GRU: perplexity and vanishing gradients through time"
CLAIM = ("Gated recurrent units (LSTM, GRU) fix the vanilla RNN's vanishing gradients: the "
         "gradient of a late loss w.r.t. early hidden states decays far more slowly, and they "
         "reach a lower perplexity with the same training budget.")
CRITERION = ("Held iff, after training, LSTM and GRU both keep more than 10x the RNN's gradient ratio "
             "||dL_T/dh_(T-d)|| / ||dL_T/dh_T|| at distance d = 20 (or T - 1 if shorter), and both reach "
             "a lower validation perplexity than the RNN with the same budget. Otherwise did not hold.")

KINDS = ("rnn", "lstm", "gru")


def _settings(full: bool) -> dict:
    if full:
        return dict(train_tokens=600_000, eval_tokens=60_000, size=200, epochs=6, batch_size=20,
                    bptt=35, T=80)
    return dict(train_tokens=20_000, eval_tokens=4_000, size=48, epochs=4, batch_size=16,
                bptt=20, T=40)


def gradient_through_time(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||dL_T / dh_t||_2 for t = 1..T, where L_T is the cross-entropy of
    the last step's prediction (a 1-layer model).

    The layer's weights are copied into the matching groundup cell, which is stepped by hand so
    that every h_t is a node of the graph: its ``.grad`` is then the *total* derivative through
    all later steps (a layer's output tensor would only carry the direct, decoder path).
    x: (B, T+1) token ids; returns (T,) norms, index t-1 for step t.
    """
    from .. import nn as gnn

    rnn = model.rnn
    cls = {"RNN": gnn.RNNCell, "LSTM": gnn.LSTMCell, "GRU": gnn.GRUCell}[type(rnn).__name__]
    cell = cls(rnn.input_size, rnn.hidden_size)
    cell.load_state_dict({k[:-3]: v for k, v in rnn.state_dict().items() if k.endswith("_l0")})
    e = model.encoder(x[:, :-1]).detach()                      # (B, T, E)
    state, hs = None, []
    for t in range(e.shape[1]):
        state = cell(e[:, t], state)
        h = state[0] if isinstance(state, tuple) else state    # (B, H)
        h.retain_grad()
        hs.append(h)
    logits = model.decoder(hs[-1])                             # (B, V): only step T is scored
    torch.nn.functional.cross_entropy(logits, x[:, -1]).backward()
    return torch.stack([h.grad.norm(dim=-1).mean() for h in hs]).detach()   # (T,)


def run(out: Path, *, full: bool, seed: int) -> Result:
    with torch_threads(None if full else 1):
        return _run(out, full, seed)


def _run(out: Path, full: bool, seed: int) -> Result:
    from ..io import new_folder
    from ..train.config import make_config
    from ..train.corpus import load_lm_corpus
    from ..train.engine import train
    from .plotting import plt, save

    s = _settings(full)
    corpus = load_lm_corpus("wikitext2", train_tokens=s["train_tokens"], eval_tokens=s["eval_tokens"])
    V = len(corpus.vocab)
    curves, finals, grads, grads_init, speed = {}, {}, {}, {}, {}
    T = s["T"]
    probe = corpus.valid[: (corpus.valid.numel() // (T + 1)) * (T + 1)].view(-1, T + 1)[:32]  # (B, T+1)
    for kind in KINDS:
        cfg = make_config(None, overrides=dict(
            model=kind, data="wikitext2", train_tokens=s["train_tokens"],
            eval_tokens=s["eval_tokens"], emb_size=s["size"], hidden_size=s["size"], num_layers=1,
            optimizer="adam", lr=3e-3, schedule="constant", clip=5.0, epochs=s["epochs"],
            batch_size=s["batch_size"], bptt=s["bptt"], eval_batch_size=10, seed=seed,
            init_range=0.1, progress=False))
        from ..train.families import build_model

        torch.manual_seed(seed)
        grads_init[kind] = gradient_through_time(build_model(cfg.model, V), probe)
        run_dir = new_folder(out, f"run-{kind}")  # a fresh run; earlier runs' folders are kept
        final = train(cfg, run_dir, corpus=corpus, log=lambda m: None)
        curves[kind] = [e["valid_perplexity"] for e in final["history"]]
        finals[kind] = final
        speed[kind] = final["tokens_per_second"]
        from ..train.engine import load_model

        model, _, _ = load_model(run_dir)
        grads[kind] = gradient_through_time(model, probe)

    # plots
    p = plt()
    fig, ax = p.subplots(figsize=(5.5, 4))
    for kind in KINDS:
        ax.plot(range(1, len(curves[kind]) + 1), curves[kind], "o-", label=kind.upper())
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation perplexity")
    ax.set_title(f"WikiText-2 slice ({s['train_tokens']:,} tokens), 1 x {s['size']}")
    ax.legend()
    plots = [Plot(save(fig, out / "perplexity_per_epoch.png"),
                  "Validation perplexity after each epoch of the three 1-layer language models, trained "
                  "with the same size, data, optimiser and budget. Look for: whether the LSTM and GRU "
                  "curves end below the RNN's, as the claim says they should.")]

    fig, ax = p.subplots(figsize=(5.5, 4))
    dist = list(range(T))  # distance T - t, 0 = the scored step
    for kind, color in zip(KINDS, ("C0", "C1", "C2")):
        g = grads[kind].flip(0)
        gi = grads_init[kind].flip(0)
        ax.semilogy(dist, (g / g[0]).tolist(), color=color, label=f"{kind.upper()} trained")
        ax.semilogy(dist, (gi / gi[0]).tolist(), color=color, ls=":", label=f"{kind.upper()} at init")
    ax.set_xlabel("distance T - t (steps back from the scored word)")
    ax.set_ylabel("||dL_T/dh_t|| / ||dL_T/dh_T||")
    ax.set_title("gradient norm through time")
    ax.legend(fontsize=8)
    plots.append(Plot(save(fig, out / "gradient_through_time.png"),
                      "Norm of the gradient of the last word's loss with respect to the hidden state d "
                      "steps earlier, relative to d = 0 (log scale); solid after training, dotted at "
                      "initialisation. Look for: the RNN's line dropping by orders of magnitude within a "
                      "few steps while the LSTM's and GRU's stay far higher."))

    def ratio(g: torch.Tensor, d: int) -> float:
        g = g.flip(0)
        return float(g[d] / g[0]) if g[0] > 0 else math.nan

    d_probe = min(20, T - 1)
    rows, summary = [], {}
    for kind in KINDS:
        r = ratio(grads[kind], d_probe)
        rows.append([kind.upper(), round(finals[kind]["valid_perplexity"], 1),
                     round(finals[kind]["test_perplexity"], 1), f"{r:.2e}",
                     f"{ratio(grads_init[kind], d_probe):.2e}", round(speed[kind])])
        summary[f"{kind}_valid_ppl"] = round(finals[kind]["valid_perplexity"], 2)
        summary[f"{kind}_grad_ratio_d{d_probe}"] = r
    rnn_r = summary[f"rnn_grad_ratio_d{d_probe}"]
    gated_keep = all(summary[f"{k}_grad_ratio_d{d_probe}"] > 10 * rnn_r for k in ("lstm", "gru"))
    gated_better = all(summary[f"{k}_valid_ppl"] < summary["rnn_valid_ppl"] for k in ("lstm", "gru"))
    verdict = (f"At distance {d_probe} the trained RNN keeps {rnn_r:.1e} of the last step's "
               f"gradient, LSTM {summary[f'lstm_grad_ratio_d{d_probe}']:.1e}, GRU "
               f"{summary[f'gru_grad_ratio_d{d_probe}']:.1e}: "
               + ("the gated models keep over 10x more" if gated_keep else
                  "the gated models do NOT keep 10x more in this run")
               + "; validation perplexity "
               + ("is lower for both gated models." if gated_better else
                  "is not lower for both gated models in this short run."))
    return Result(
        name=NAME, title=TITLE, claim=CLAIM, verdict=verdict, summary=summary,
        held=bool(gated_keep and gated_better), criterion=CRITERION,
        tables=[Table(f"1-layer LMs, {s['epochs']} epochs of {s['train_tokens']:,} WikiText-2 tokens "
                      f"(V = {V:,}), Adam 3e-3, same budget",
                      ["model", "valid ppl", "test ppl", f"grad ratio at d={d_probe} (trained)",
                       f"at init", "tokens/s"], rows)],
        plots=plots,
        notes=[f"Gradient ratio = ||dL_T/dh_(T-d)|| / ||dL_T/dh_T||, averaged over {probe.shape[0]} "
               f"validation sequences of {T} words; L_T scores only the last word.",
               "All three models use groundup.nn layers and the shared engine "
               "(groundup.train); the vocabulary is the slice's own, so perplexities are not "
               "comparable with full-corpus WikiText-2 figures.",
               "PTB reproduction (Zaremba et al. 2014): see docs/lm.md and "
               "benchmarks/bench_lm_ptb.py."])
