"""A decoder-only Transformer language model (GPT; Radford et al. 2018, 2019) and sampling.

Notation: B batch, T length, V vocabulary, E model width, F feed-forward width, N layers.

    h_0 = Dropout(W_e[x] + P)                     (B, T, E)   P: learned / sinusoidal / none
    h_l = h_{l-1} + Dropout(CausalSelfAttn(LN(h_{l-1})))            pre-LN (GPT-2)
    h_l = h_l + Dropout(FFN(LN(h_l)))
    logits = W_out LN(h_N) + b                    (B, T, V)

Rotary positions (RoPE) rotate q and k inside every attention layer and ALiBi biases the scores;
with either, no position vector is added to the embeddings. Weights are initialised as GPT-2's:
N(0, 0.02) for embeddings and linear maps, zero biases.

The language-model contract (:mod:`groundup.nn.lm_configs`): built as
``TransformerLM(TransformerLMConfig(...), vocab_size)``; ``forward(x (B, T) long, state) ->
(logits (B, T, V), state)``. In training ``state`` is None (the model is stateless across
segments); :func:`generate` passes a :class:`~groundup.nn.attention.KVCache` as the state so
each new token costs one position's work, and the cached logits equal the full recomputation
(tests/test_transformer_lm.py).

Sampling (:func:`sample_next`): temperature tau divides the logits; top-k keeps the k most likely
tokens (Fan et al. 2018); top-p, nucleus sampling (Holtzman et al. 2020), keeps the smallest set
of most likely tokens whose probability reaches p.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .attention import CausalSelfAttention, KVCache
from .lm_configs import TransformerLMConfig
from .norm import make_norm
from .positional import LearnedPositionalEmbedding, RotaryEmbedding, SinusoidalPositionalEncoding
from .transformer import resolve_activation

__all__ = ["DecoderBlock", "TransformerLM", "sample_next", "generate", "POSITIONAL"]

POSITIONAL = ("learned", "sinusoidal", "rope", "alibi")


class DecoderBlock(nn.Module):
    """Pre-LN block: x + Attn(LN1 x), then x + FFN(LN2 x), FFN = W2 Dropout(act(W1 x))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0,
                 activation: str = "gelu", norm: str = "layernorm", n_kv_heads: int | None = None,
                 rotary: nn.Module | None = None, alibi: bool = False, bias: bool = True) -> None:
        super().__init__()
        self.ln1 = make_norm(norm, d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, n_kv_heads, dropout, bias, rotary, alibi)
        self.ln2 = make_norm(norm, d_model)
        self.act, gated = resolve_activation(activation)
        self.linear1 = nn.Linear(d_model, d_ff * (2 if gated else 1), bias=bias)
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        x = x + self.drop(self.attn(self.ln1(x), cache, layer))                    # (B, T, E)
        return x + self.drop(self.linear2(self.drop(self.act(self.linear1(self.ln2(x))))))


class TransformerLM(nn.Module):
    def __init__(self, cfg: TransformerLMConfig, vocab_size: int) -> None:
        super().__init__()
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
        d_model, n_heads, max_len, positional = cfg.d_model, cfg.n_heads, cfg.max_len, cfg.positional
        self.cfg, self.max_len, self.positional = cfg, max_len, positional
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos = {"learned": lambda: LearnedPositionalEmbedding(d_model, max_len),
                    "sinusoidal": lambda: SinusoidalPositionalEncoding(d_model, max_len)}.get(
                        positional, lambda: None)()
        rotary = RotaryEmbedding(d_model // n_heads) if positional == "rope" else None
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(
            DecoderBlock(d_model, n_heads, cfg.d_ff, cfg.dropout, cfg.activation, cfg.norm,
                         cfg.n_kv_heads or None, rotary, positional == "alibi")
            for _ in range(cfg.num_layers))
        self.ln_f = make_norm(cfg.norm, d_model)
        self.head = nn.Linear(d_model, vocab_size)
        self.apply(self._init)
        if cfg.tie_weights:  # Press & Wolf (2017)
            self.head.weight = self.tok_emb.weight

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, x: Tensor, state: KVCache | None = None, *, fast: bool = True) -> tuple[Tensor, KVCache | None]:
        """x (B, T) token ids -> (logits (B, T, V), state). A KVCache state holds the positions
        before x and is extended in place; None means x starts at position 0."""
        if state is not None and not isinstance(state, KVCache):
            raise TypeError(f"TransformerLM state must be None or a KVCache, got {type(state).__name__}")
        offset = 0 if state is None else state.length
        if offset + x.shape[1] > self.max_len:
            raise ValueError(f"positions up to {offset + x.shape[1]} exceed max_len {self.max_len}")
        h = self.tok_emb(x)                                                         # (B, T, E)
        if self.pos is not None:
            h = self.pos(h, offset)
        h = self.drop(h)
        for i, block in enumerate(self.blocks):
            if fast:
                h = block(h, state, i)
            else:
                h = h + block.drop(block.attn(block.ln1(h), state, i, fast=False))
                h = h + block.drop(block.linear2(block.drop(block.act(block.linear1(block.ln2(h))))))
        return self.head(self.ln_f(h)), state                                       # (B, T, V)

    def generate(self, prompt: Tensor, max_new_tokens: int, **sampling) -> Tensor:
        """:func:`generate` with this model (temperature=, top_k=, top_p=, generator=)."""
        return generate(self, prompt, max_new_tokens, **sampling)


def sample_next(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator: torch.Generator | None = None) -> Tensor:
    """logits (B, V) -> next token ids (B,). temperature 0 is greedy (argmax)."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    z = logits.float() / temperature                                                # (B, V)
    if top_k is not None and top_k < z.shape[-1]:
        kth = z.topk(top_k, dim=-1).values[:, -1:]                                  # (B, 1)
        z = z.masked_fill(z < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_z, idx = z.sort(dim=-1, descending=True)
        p = sorted_z.softmax(dim=-1)
        before = p.cumsum(dim=-1) - p            # mass of the more likely tokens
        drop_sorted = before >= top_p            # the most likely token is always kept
        z = z.masked_fill(drop_sorted.scatter(-1, idx, drop_sorted), float("-inf"))
    probs = z.softmax(dim=-1)
    return torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(logits.device)


@torch.no_grad()
def generate(model: TransformerLM, prompt: Tensor, max_new_tokens: int, *, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None,
             generator: torch.Generator | None = None, use_cache: bool = True) -> Tensor:
    """prompt (B, T0) -> (B, T0 + max_new_tokens). Past ``max_len`` tokens the model sees the
    last ``max_len`` (the cache is rebuilt from them), exactly as without a cache."""
    if prompt.dim() != 2 or prompt.shape[1] < 1:
        raise ValueError(f"prompt must be (B, T0) with T0 >= 1, got {tuple(prompt.shape)}")
    was_training = model.training
    model.eval()
    out, cache, fed = prompt, None, 0           # fed: tokens of `out` already in the cache
    for _ in range(max_new_tokens):
        if not use_cache:
            logits, _ = model(out[:, -model.max_len:], None)
        else:
            if cache is None or cache.length + (out.shape[1] - fed) > model.max_len:
                cache, fed = KVCache(len(model.blocks)), max(0, out.shape[1] - model.max_len)
            logits, cache = model(out[:, fed:], cache)
            fed = out.shape[1]
        nxt = sample_next(logits[:, -1], temperature, top_k, top_p, generator)     # (B,)
        out = torch.cat([out, nxt.unsqueeze(1)], dim=1)
    model.train(was_training)
    return out
