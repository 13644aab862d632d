"""Lab: attention instead of recurrence — an encoder-decoder Transformer against an LSTM
encoder-decoder with attention, on reversing sequences of growing length.

Task: the source is L random digits, the target the same digits reversed. The first target
token depends on the last source token and the last target token on the first, so the distance
information must travel grows with L. Both models see the same batches (one random length per
batch, 2..L_max, so no padding) for the same number of steps, and are scored by greedy decoding
on fresh sequences of each length: token accuracy and whole-sequence accuracy.

Models (both with a d-wide state and Adam):
* Transformer: groundup.nn.TransformerEncoder / TransformerDecoder (pre-LN, sinusoidal
  positions), cross-attention from every target position to every source position.
* LSTM: groundup.nn.LSTM encoder; an LSTM decoder started from the encoder's final state with
  Luong et al. (2015) global dot-product attention over the encoder outputs:
  a_t = softmax(H_enc h_t), c_t = a_t H_enc, logits = W_o tanh(W_c [h_t; c_t]).
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .base import Result, Table

NAME = "transformer"
TITLE = "Transformer vs LSTM encoder-decoder (with attention) on reversing sequences of growing length"
CLAIM = ("Attention removes the RNN's two limits: the Transformer's accuracy holds as sequences "
         "grow where the recurrent model's falls, and it trains on all positions at once.")

PAD, BOS, N_DIGITS = 0, 1, 10
VOCAB = 2 + N_DIGITS


Tensor = torch.Tensor


def batch(n: int, L: int, g: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """src (n, L) digits, tgt_in (n, L) = [BOS, reversed[:-1]], tgt_out (n, L) = reversed."""
    src = torch.randint(2, VOCAB, (n, L), generator=g)
    out = src.flip(1)
    return src, torch.cat([torch.full((n, 1), BOS), out[:, :-1]], 1), out


class TransformerSeq2Seq(nn.Module):
    def __init__(self, d: int, heads: int, layers: int, max_len: int):
        super().__init__()
        from ..nn import (LayerNorm, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)
        from ..nn.positional import SinusoidalPositionalEncoding

        kw = dict(dim_feedforward=2 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.emb = nn.Embedding(VOCAB, d)
        self.pos = SinusoidalPositionalEncoding(d, max_len)
        self.enc = TransformerEncoder(TransformerEncoderLayer(d, heads, **kw), layers, norm=LayerNorm(d))
        self.dec = TransformerDecoder(TransformerDecoderLayer(d, heads, **kw), layers, norm=LayerNorm(d))
        self.out = nn.Linear(d, VOCAB)

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        mem = self.enc(self.pos(self.emb(src)))                                  # (B, S, d)
        h = self.dec(self.pos(self.emb(tgt_in)), mem, tgt_is_causal=True)       # (B, T, d)
        return self.out(h)                                                       # (B, T, V)

    @torch.no_grad()
    def greedy(self, src: Tensor) -> Tensor:
        mem = self.enc(self.pos(self.emb(src)))
        y = torch.full((src.shape[0], 1), BOS)
        for _ in range(src.shape[1]):
            h = self.dec(self.pos(self.emb(y)), mem, tgt_is_causal=True)
            y = torch.cat([y, self.out(h[:, -1]).argmax(-1, keepdim=True)], 1)
        return y[:, 1:]


class LSTMSeq2Seq(nn.Module):
    def __init__(self, d: int, layers: int):
        super().__init__()
        from ..nn import LSTM

        self.emb = nn.Embedding(VOCAB, d)
        self.enc = LSTM(d, d, layers, batch_first=True)
        self.dec = LSTM(d, d, layers, batch_first=True)
        self.combine = nn.Linear(2 * d, d)
        self.out = nn.Linear(d, VOCAB)

    def _attend(self, h: Tensor, enc: Tensor) -> Tensor:
        a = torch.softmax(h @ enc.transpose(1, 2), dim=-1)                      # (B, T, S)
        return self.out(torch.tanh(self.combine(torch.cat([h, a @ enc], -1))))  # (B, T, V)

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        enc, state = self.enc(self.emb(src))                                     # (B, S, d)
        h, _ = self.dec(self.emb(tgt_in), state)                                 # (B, T, d)
        return self._attend(h, enc)

    @torch.no_grad()
    def greedy(self, src: Tensor) -> Tensor:
        enc, state = self.enc(self.emb(src))
        y, outs = torch.full((src.shape[0], 1), BOS), []
        for _ in range(src.shape[1]):
            h, state = self.dec(self.emb(y), state)
            y = self._attend(h, enc).argmax(-1)                                  # (B, 1)
            outs.append(y)
        return torch.cat(outs, 1)


def train_model(model: nn.Module, steps: int, max_len: int, bs: int, lr: float, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t0, losses = time.perf_counter(), []
    for _ in range(steps):
        L = int(torch.randint(2, max_len + 1, (1,), generator=g))
        src, tin, tout = batch(bs, L, g)
        loss = F.cross_entropy(model(src, tin).reshape(-1, VOCAB), tout.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return {"seconds": time.perf_counter() - t0, "losses": losses}


def evaluate(model: nn.Module, lengths: list[int], n: int, seed: int) -> dict[int, tuple[float, float]]:
    model.eval()
    g = torch.Generator().manual_seed(seed + 1000)
    acc = {}
    for L in lengths:
        src, _, tout = batch(n, L, g)
        pred = model.greedy(src)
        acc[L] = ((pred == tout).float().mean().item(), (pred == tout).all(1).float().mean().item())
    model.train()
    return acc


def run(out: Path, *, full: bool, seed: int) -> Result:
    # one thread: small matrices, and a second OpenMP thread beside another busy process
    # spin-waits (measured 5x slower steps on this 2-core machine; docs/ssm.md)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(out, full=full, seed=seed)
    finally:
        torch.set_num_threads(threads)


def _run(out: Path, *, full: bool, seed: int) -> Result:
    from .plotting import plt, save

    torch.manual_seed(seed)
    d, steps, max_len, bs = (64, 1500, 32, 64) if full else (32, 150, 12, 32)
    lengths = list(range(4, max_len + 1, 4))
    models = {"Transformer": TransformerSeq2Seq(d, 4, 2, max_len + 1), "LSTM+attention": LSTMSeq2Seq(d, 1)}
    res, tables = {}, []
    for name, m in models.items():
        tr = train_model(m, steps, max_len, bs, 3e-3, seed)
        res[name] = {"train": tr, "acc": evaluate(m, lengths, 200 if full else 100, seed),
                     "params": sum(p.numel() for p in m.parameters())}
    rows = [[L] + [f"{res[n]['acc'][L][0]:.3f} / {res[n]['acc'][L][1]:.3f}" for n in models]
            for L in lengths]
    tables.append(Table("greedy accuracy by source length (token / whole sequence)",
                        ["length"] + list(models), rows))
    tables.append(Table("training", ["model", "parameters", "steps", "seconds", "final loss (mean of last 20)"],
                        [[n, res[n]["params"], steps, round(res[n]["train"]["seconds"], 1),
                          round(sum(res[n]["train"]["losses"][-20:]) / 20, 4)] for n in models]))
    p = plt()
    fig, ax = p.subplots(1, 2, figsize=(10, 3.8))
    for n in models:
        ax[0].plot(lengths, [res[n]["acc"][L][0] for L in lengths], marker="o", label=n)
        ax[1].plot(res[n]["train"]["losses"], label=n, alpha=0.8)
    ax[0].set(xlabel="sequence length", ylabel="greedy token accuracy", ylim=(0, 1.02),
              title="reversal accuracy vs length")
    ax[1].set(xlabel="step", ylabel="cross-entropy", yscale="log", title="training loss")
    ax[0].legend(), ax[1].legend()
    plot = save(fig, out / "transformer_reverse.png")
    longest = lengths[-1]
    t_acc, r_acc = res["Transformer"]["acc"][longest][0], res["LSTM+attention"]["acc"][longest][0]
    t_drop = res["Transformer"]["acc"][lengths[0]][0] - t_acc
    r_drop = res["LSTM+attention"]["acc"][lengths[0]][0] - r_acc
    held = t_acc > r_acc and t_drop < r_drop
    summary = {"d_model": d, "steps": steps, "max_len": max_len,
               "transformer_token_acc_longest": round(t_acc, 4), "lstm_token_acc_longest": round(r_acc, 4),
               "transformer_drop_shortest_to_longest": round(t_drop, 4),
               "lstm_drop_shortest_to_longest": round(r_drop, 4),
               "transformer_seconds": round(res["Transformer"]["train"]["seconds"], 1),
               "lstm_seconds": round(res["LSTM+attention"]["train"]["seconds"], 1)}
    verdict = (f"{'Held' if held else 'Did not hold'} in this run: at length {longest} greedy token "
               f"accuracy is {t_acc:.3f} (Transformer) vs {r_acc:.3f} (LSTM+attention); accuracy fell "
               f"by {t_drop:.3f} vs {r_drop:.3f} from length {lengths[0]} to {longest}, after "
               f"{steps} equal steps.")
    notes = ["Same batches, steps, width and optimizer for both models; one random length per batch "
             "(no padding). Scored by greedy decoding on fresh sequences.",
             "Training time is CPU wall-clock on a possibly shared machine; compare within one run only."]
    return Result(name=NAME, title=TITLE, claim=CLAIM, verdict=verdict, summary=summary,
                  tables=tables, plots=[plot], notes=notes)
