"""groundup.nn as a drop-in for torch.nn inside a real training program.

The program below is written the way PyTorch's well-known word-level language-model example is
(pytorch/examples, word_language_model: an embedding, ``nn.LSTM``/``nn.GRU``/``nn.RNN`` with
dropout between layers, or a model that subclasses ``nn.Transformer`` and runs its encoder with a
float causal mask; AdamW; gradient clipping; ``flatten_parameters()`` after reloading). It refers
to ``torch.nn`` names only. It runs twice with the same seed and dropout ON: once as written, once
with groundup's classes swapped into ``torch.nn`` (and into the module ``nn.Transformer`` builds
its parts from). Same seed must give the same initial weights, the same dropout masks, and so the
same losses and gradients.

Tolerance: the two runs draw identical dropout masks, so they differ only by float rounding in
different (but equal-in-exact-arithmetic) kernels: measured 6e-8 relative for the LSTM program
and 0 for both Transformer programs. With the attention output laid out differently from torch's
(before this test existed) the dropout masks differed and the Transformer losses moved by 1.0e-2
relative, so rtol 1e-5 separates the two cases by three orders of magnitude.
"""
from __future__ import annotations

import io
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import groundup.nn as gnn

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")

V, E, HID, LAYERS, BPTT, BATCH, STEPS = 50, 16, 16, 2, 7, 4, 4


# --- the program (uses torch.nn names only) ------------------------------------------------------
class RNNModel(nn.Module):
    def __init__(self, kind: str, dropout: float = 0.3):
        super().__init__()
        self.kind = kind
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(V, E)
        if kind in ("LSTM", "GRU"):
            self.rnn = getattr(nn, kind)(E, HID, LAYERS, dropout=dropout)
        else:
            self.rnn = nn.RNN(E, HID, LAYERS, nonlinearity={"RNN_TANH": "tanh", "RNN_RELU": "relu"}[kind],
                              dropout=dropout)
        self.decoder = nn.Linear(HID, V)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, x, hidden):
        out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        return F.log_softmax(self.decoder(self.drop(out)).view(-1, V), dim=1), hidden

    def init_hidden(self, bsz):
        w = next(self.parameters())
        if self.kind == "LSTM":
            return (w.new_zeros(LAYERS, bsz, HID), w.new_zeros(LAYERS, bsz, HID))
        return w.new_zeros(LAYERS, bsz, HID)


class PositionalEncoding(nn.Module):
    def __init__(self, d, dropout, max_len=64):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        pos = torch.arange(max_len, dtype=torch.float).unsqueeze(1)
        div = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
        pe = torch.zeros(max_len, d)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(1))                     # (max_len, 1, d)

    def forward(self, x):
        return self.dropout(x + self.pe[: x.size(0)])


class TransformerModel(nn.Transformer):
    """Subclasses nn.Transformer, as the example does, and uses only its encoder."""

    def __init__(self, dropout: float = 0.3):
        super().__init__(d_model=E, nhead=2, dim_feedforward=HID, num_encoder_layers=LAYERS,
                         num_decoder_layers=1, dropout=dropout)
        self.pos_encoder = PositionalEncoding(E, dropout)
        self.input_emb = nn.Embedding(V, E)
        self.decoder = nn.Linear(E, V)
        nn.init.uniform_(self.input_emb.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, x):
        mask = torch.log(torch.tril(torch.ones(len(x), len(x))))       # float causal mask
        h = self.encoder(self.pos_encoder(self.input_emb(x) * math.sqrt(E)), mask=mask)
        return F.log_softmax(self.decoder(h), dim=-1).view(-1, V)


class EncoderOnlyModel(nn.Module):
    """The example's older form: nn.TransformerEncoder built directly, batch first."""

    def __init__(self, dropout: float = 0.3):
        super().__init__()
        layer = nn.TransformerEncoderLayer(E, 2, HID, dropout, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False, mask_check=True)
        self.emb = nn.Embedding(V, E)
        self.norm = nn.LayerNorm(E)
        self.out = nn.Linear(E, V)

    def forward(self, x):
        x = x.t()                                                        # (B, L)
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        h = self.norm(input=self.enc(self.emb(x), mask=mask, is_causal=True))
        y = self.out(h)                                                  # (B, L, V)
        return F.log_softmax(y.transpose(0, 1).reshape(-1, V), dim=-1)  # time-major rows


def run_program(kind: str, seed: int = 1111) -> tuple[list[float], dict[str, torch.Tensor], float]:
    """Train STEPS steps; return the training losses, the gradients after step 1, and the
    evaluation loss of the model reloaded from its saved state."""
    torch.manual_seed(seed)
    data = torch.randint(0, V, (BPTT * STEPS + 1, BATCH))
    recurrent = kind not in ("Transformer", "Encoder")
    model = {"Transformer": TransformerModel, "Encoder": EncoderOnlyModel}.get(kind)
    model = model() if model is not None else RNNModel(kind)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    hidden = model.init_hidden(BATCH) if recurrent else None
    losses, grads = [], {}
    for step in range(STEPS):
        x, y = data[step * BPTT:(step + 1) * BPTT], data[step * BPTT + 1:(step + 1) * BPTT + 1]
        model.zero_grad()
        if recurrent:
            hidden = hidden.detach() if isinstance(hidden, torch.Tensor) else tuple(h.detach() for h in hidden)
            out, hidden = model(x, hidden)
        else:
            out = model(x)
        loss = F.nll_loss(out, y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        if step == 0:
            grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        opt.step()
        losses.append(loss.item())
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    model.load_state_dict(torch.load(buf, weights_only=True))
    if recurrent:
        model.rnn.flatten_parameters()
    model.eval()
    with torch.no_grad():
        x, y = data[:BPTT], data[1:BPTT + 1]
        out = model(x, model.init_hidden(BATCH))[0] if recurrent else model(x)
        eval_loss = F.nll_loss(out, y.reshape(-1)).item()
    return losses, grads, eval_loss


SWAP = ["RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer",
        "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "LayerNorm",
        "Transformer"]


def swap_in_groundup(monkeypatch) -> None:
    import torch.nn.modules.transformer as tt

    for name in SWAP:
        monkeypatch.setattr(nn, name, getattr(gnn, name))
        if hasattr(tt, name):                 # what nn.Transformer builds its parts from
            monkeypatch.setattr(tt, name, getattr(gnn, name))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU", "Transformer", "Encoder"])
def test_same_program_same_losses_and_gradients(kind, monkeypatch):
    ref_losses, ref_grads, ref_eval = run_program(kind)
    swap_in_groundup(monkeypatch)
    model_cls = nn.LSTM if kind == "LSTM" else nn.TransformerEncoder
    assert model_cls.__module__.startswith("groundup"), "the swap did not take"
    losses, grads, eval_loss = run_program(kind)
    assert set(grads) == set(ref_grads)
    torch.testing.assert_close(torch.tensor(losses), torch.tensor(ref_losses), rtol=1e-5, atol=0)
    for name in ref_grads:
        torch.testing.assert_close(grads[name], ref_grads[name], rtol=1e-4, atol=1e-6, msg=name)
    assert eval_loss == pytest.approx(ref_eval, rel=1e-5)


def test_dropout_is_on_in_the_program():
    """The program's losses move with the seed of the dropout masks alone: the equality above
    is about dropout too, not about a deterministic forward."""
    torch.manual_seed(0)
    m = RNNModel("LSTM")
    x = torch.randint(0, V, (BPTT, BATCH))
    a = m(x, m.init_hidden(BATCH))[0]
    b = m(x, m.init_hidden(BATCH))[0]
    assert not torch.equal(a, b)


# --- the interface details a program relies on ---------------------------------------------------
def test_mha_output_layout_is_torchs():
    for batch_first in (False, True):
        torch.manual_seed(0)
        ref = nn.MultiheadAttention(8, 2, batch_first=batch_first)
        ours = gnn.MultiheadAttention(8, 2, batch_first=batch_first)
        ours.load_state_dict(ref.state_dict())
        x = torch.randn(5, 3, 8)
        a, b = ref(x, x, x, need_weights=False)[0], ours(x, x, x, need_weights=False)[0]
        assert a.stride() == b.stride() and a.is_contiguous() == b.is_contiguous()
        if not batch_first:
            b.view(15, 8)                              # raised before: output was a transposed view


def test_rnn_mode_flatten_and_all_weights():
    for kw, mode in (({}, "RNN_TANH"), ({"nonlinearity": "relu"}, "RNN_RELU")):
        assert gnn.RNN(3, 4, **kw).mode == nn.RNN(3, 4, **kw).mode == mode
    assert gnn.LSTM(3, 4).mode == "LSTM" and gnn.GRU(3, 4).mode == "GRU"
    for cls in ("RNN", "LSTM", "GRU"):
        ours, ref = getattr(gnn, cls)(3, 4, 2, bidirectional=True), getattr(nn, cls)(3, 4, 2, bidirectional=True)
        assert ours.flatten_parameters() is None
        assert ours._all_weights == ref._all_weights
        assert [[p.shape for p in ws] for ws in ours.all_weights] == [[p.shape for p in ws] for ws in ref.all_weights]
        assert all(p is getattr(ours, n) for ws, ns in zip(ours.all_weights, ours._all_weights) for p, n in zip(ws, ns))


def test_norms_take_torchs_keyword():
    """torch names LayerNorm's argument ``input`` and RMSNorm's ``x``."""
    x = torch.randn(2, 5)
    torch.testing.assert_close(gnn.LayerNorm(5)(input=x), nn.LayerNorm(5)(input=x))
    torch.testing.assert_close(gnn.RMSNorm(5)(x=x), nn.RMSNorm(5)(x=x))


def test_transformer_encoder_accepts_torchs_arguments():
    layer = gnn.TransformerEncoderLayer(8, 2, 16)
    enc = gnn.TransformerEncoder(layer, 2, None, enable_nested_tensor=False, mask_check=False)
    assert enc.enable_nested_tensor is False and enc.mask_check is False
    assert enc(torch.randn(4, 3, 8)).shape == (4, 3, 8)


def test_transformer_matches_torch_with_copied_weights():
    torch.manual_seed(0)
    ref = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0)
    torch.manual_seed(0)
    ours = gnn.Transformer(8, 2, 2, 2, 16, dropout=0.0)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    for (_, a), (_, b) in zip(ours.named_parameters(), ref.named_parameters()):
        torch.testing.assert_close(a, b)                                # same seed, same init
    src, tgt = torch.randn(6, 3, 8), torch.randn(5, 3, 8)
    mask = gnn.Transformer.generate_square_subsequent_mask(5)
    torch.testing.assert_close(mask, nn.Transformer.generate_square_subsequent_mask(5))
    torch.testing.assert_close(ours(src, tgt, tgt_mask=mask), ref(src, tgt, tgt_mask=mask),
                               rtol=1e-5, atol=1e-5)


def test_weights_only_load_of_a_whole_model(tmp_path):
    """torch.load(weights_only=True) of a pickled groundup model: the classes are allow-listed
    by one helper (groundup.nn.safe_globals)."""
    torch.manual_seed(0)
    model = nn.Sequential(gnn.LSTM(3, 4), )
    torch.save(model, tmp_path / "m.pt")
    with pytest.raises(Exception):
        torch.load(tmp_path / "m.pt", weights_only=True)
    with torch.serialization.safe_globals(gnn.safe_globals() + [nn.Sequential]):
        back = torch.load(tmp_path / "m.pt", weights_only=True)
    assert isinstance(back[0], gnn.LSTM)
    for a, b in zip(back.parameters(), model.parameters()):
        assert torch.equal(a, b)
