"""Multi-head scaled dot-product attention, written from the equations, with a fused fast path.

Notation: B batch, L query length, S key/value length, E model width, H query heads,
H_kv key/value heads (H_kv divides H; H_kv = H is multi-head, 1 is multi-query, else grouped),
D = E / H head width.

Vaswani et al. (2017), "Attention Is All You Need", eq. 1 and Section 3.2.2:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(D) + M) V          Q (B,H,L,D), K, V (B,H,S,D)
    head_i = Attention(X_q W_i^Q, X_k W_i^K, X_v W_i^V)
    MultiHead(X_q, X_k, X_v) = Concat(head_1, ..., head_H) W^O

M is an additive mask: 0 where query i may look at key j, -inf where it may not (causal:
j > i; padding: key j is a pad). Grouped-query attention (Ainslie et al. 2023) lets each group
of H / H_kv query heads share one key/value head; multi-query attention (Shazeer 2019) is
H_kv = 1.

Two routes to one answer (tests/test_attention.py checks they agree in values and gradients):

* :func:`attention_reference` computes the softmax and the weighted sum as written above, and
  returns the weights;
* :func:`attention` calls ``torch.nn.functional.scaled_dot_product_attention`` (flash attention
  on CPU and GPU) when no weights are needed.

Beyond torch: a query row whose keys are all masked has no softmax (0 / 0). torch's
``nn.MultiheadAttention`` returns NaN there, which then poisons every gradient; here such a row
attends to nothing and its output is 0, in both routes.

:class:`MultiheadAttention` takes the constructor and forward arguments of
``torch.nn.MultiheadAttention`` and has its parameter names (``in_proj_weight``,
``in_proj_bias``, ``out_proj.weight``, ...), so state dicts load either way.
:class:`CausalSelfAttention` is the decoder-only variant with a :class:`KVCache` for
incremental decoding, rotary positions and ALiBi.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["attention_reference", "attention", "build_mask", "causal_mask", "MultiheadAttention",
           "KVCache", "CausalSelfAttention"]


# --- masks ---------------------------------------------------------------------------------------
def causal_mask(L: int, S: int, device=None) -> Tensor:
    """Bool (L, S), True where query i may NOT see key j. The L queries are the last L of the S
    positions (a KV cache holds the first S - L), so query i sits at position S - L + i."""
    i = torch.arange(L, device=device).unsqueeze(1) + (S - L)
    j = torch.arange(S, device=device).unsqueeze(0)
    return j > i


def _additive(mask: Tensor, dtype: torch.dtype) -> Tensor:
    """torch.nn.MultiheadAttention's convention: a bool mask is True where attention is NOT
    allowed (-> -inf); a float mask is added to the scores as it is."""
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask, -math.inf)
    if not mask.is_floating_point():
        raise TypeError(f"masks must be bool or floating point, got {mask.dtype}")
    return mask.to(dtype)


def build_mask(B: int, H: int, L: int, S: int, dtype: torch.dtype, device=None, *,
               attn_mask: Tensor | None = None, key_padding_mask: Tensor | None = None,
               is_causal: bool = False) -> Tensor | None:
    """One additive mask M, broadcastable to (B, H, L, S), from torch's mask arguments:
    ``attn_mask`` (L, S) or (B * H, L, S), ``key_padding_mask`` (B, S), ``is_causal``."""
    m = None
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if attn_mask.shape != (L, S):
                raise ValueError(f"attn_mask must be (L, S) = ({L}, {S}), got {tuple(attn_mask.shape)}")
            m = _additive(attn_mask, dtype)                              # (L, S)
        elif attn_mask.dim() == 3:
            if attn_mask.shape != (B * H, L, S):
                raise ValueError(f"attn_mask must be (B*H, L, S) = ({B * H}, {L}, {S}), "
                                 f"got {tuple(attn_mask.shape)}")
            m = _additive(attn_mask, dtype).view(B, H, L, S)
        else:
            raise ValueError(f"attn_mask must be 2-D or 3-D, got {attn_mask.dim()}-D")
    elif is_causal:
        m = _additive(causal_mask(L, S, device), dtype)                  # (L, S)
    if key_padding_mask is not None:
        if key_padding_mask.shape != (B, S):
            raise ValueError(f"key_padding_mask must be (B, S) = ({B}, {S}), "
                             f"got {tuple(key_padding_mask.shape)}")
        kp = _additive(key_padding_mask, dtype).view(B, 1, 1, S)
        m = kp if m is None else m + kp
    return m


# --- the two routes ------------------------------------------------------------------------------
def _repeat_kv(x: Tensor, n_rep: int) -> Tensor:
    """(B, H_kv, S, D) -> (B, H_kv * n_rep, S, D): query heads h*n_rep .. h*n_rep+n_rep-1 share
    key/value head h (the grouping of Ainslie et al. and of torch's enable_gqa)."""
    return x if n_rep == 1 else x.repeat_interleave(n_rep, dim=1)


def attention_reference(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, *,
                        dropout_p: float = 0.0, scale: float | None = None,
                        generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """softmax(Q K^T * scale + M) V, as written. q (B, H, L, D), k, v (B, H_kv, S, D), mask
    additive, broadcastable to (B, H, L, S). Returns (out (B, H, L, D), weights (B, H, L, S)),
    the weights after dropout (as torch returns them). Fully masked rows give 0."""
    H, D = q.shape[1], q.shape[-1]
    if H % k.shape[1]:
        raise ValueError(f"query heads {H} must be a multiple of key/value heads {k.shape[1]}")
    k, v = _repeat_kv(k, H // k.shape[1]), _repeat_kv(v, H // v.shape[1])
    scale = 1.0 / math.sqrt(D) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale                          # (B, H, L, S)
    if mask is not None:
        scores = scores + mask
    # safe softmax: subtract the row max (softmax is invariant to it, so it carries no
    # gradient); a row that is all -inf has no finite max, e = 0 everywhere and weights 0.
    m = scores.detach().amax(dim=-1, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    e = torch.exp(scores - m)
    z = e.sum(dim=-1, keepdim=True)
    w = e / torch.where(z > 0, z, torch.ones_like(z))                   # (B, H, L, S)
    if dropout_p > 0.0 and generator is None:   # inverted dropout; torch's mask draw
        w = F.dropout(w, dropout_p, training=True)
    elif dropout_p > 0.0:
        keep = torch.rand(w.shape, generator=generator, device=w.device, dtype=w.dtype) >= dropout_p
        w = w * keep / (1.0 - dropout_p)
    return w @ v, w                                                     # (B, H, L, D)


def attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, *,
              is_causal: bool = False, dropout_p: float = 0.0, scale: float | None = None,
              need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
    """The same as :func:`attention_reference` (``is_causal`` adds :func:`causal_mask`), through
    torch's fused ``scaled_dot_product_attention`` unless the weights are asked for."""
    L, S = q.shape[-2], k.shape[-2]
    if need_weights:
        if is_causal:
            c = _additive(causal_mask(L, S, q.device), q.dtype)
            mask = c if mask is None else mask + c
        return attention_reference(q, k, v, mask, dropout_p=dropout_p, scale=scale)
    gqa = q.shape[1] != k.shape[1]
    if mask is None:
        # torch's is_causal aligns the diagonal top-left; ours (a cache) bottom-right.
        if is_causal and L != S:
            mask = _additive(causal_mask(L, S, q.device), q.dtype)
        else:
            return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=is_causal,
                                                  scale=scale, enable_gqa=gqa), None
    elif is_causal:
        mask = mask + _additive(causal_mask(L, S, q.device), q.dtype)
    # A fully masked row: let the kernel attend everywhere (finite values, finite gradients),
    # then zero the row's output, which also zeroes the gradient flowing back into it.
    dead = torch.isneginf(mask).all(dim=-1, keepdim=True)              # (.., L, 1)
    mask = mask.masked_fill(dead, 0.0)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                         scale=scale, enable_gqa=gqa)
    return out.masked_fill(dead, 0.0), None


# --- torch.nn.MultiheadAttention's interface -----------------------------------------------------
class MultiheadAttention(nn.Module):
    """``torch.nn.MultiheadAttention`` written out: same arguments, same parameters, same outputs
    (with copied weights, equal to 1e-5 in values and gradients; tests/test_attention_mha.py),
    except that fully masked rows give 0 instead of NaN.

    Beyond torch: ``num_kv_heads`` (grouped / multi-query attention; the packed projection then
    has E + 2 * H_kv * D rows) and ``fast=False`` (always the reference route). With
    ``is_causal=True`` and no ``attn_mask``, the causal mask is built here (torch requires it).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None, *,
                 num_kv_heads: int | None = None, fast: bool = True) -> None:
        super().__init__()
        if embed_dim < 1 or num_heads < 1:
            raise ValueError(f"embed_dim and num_heads must be >= 1, got {embed_dim} and {num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
        if num_kv_heads < 1 or num_heads % num_kv_heads:
            raise ValueError(f"num_heads {num_heads} must be a multiple of num_kv_heads {num_kv_heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        fk = {"device": device, "dtype": dtype}
        self.embed_dim, self.num_heads, self.num_kv_heads = embed_dim, num_heads, num_kv_heads
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first, self.fast = dropout, batch_first, fast
        self.add_zero_attn = add_zero_attn
        e_kv = num_kv_heads * self.head_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = nn.Parameter(torch.empty(embed_dim + 2 * e_kv, embed_dim, **fk))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = nn.Parameter(torch.empty(embed_dim, embed_dim, **fk))
            self.k_proj_weight = nn.Parameter(torch.empty(e_kv, self.kdim, **fk))
            self.v_proj_weight = nn.Parameter(torch.empty(e_kv, self.vdim, **fk))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = nn.Parameter(torch.empty(embed_dim + 2 * e_kv, **fk))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias, **fk)
        if add_bias_kv:
            self.bias_k = nn.Parameter(torch.empty(1, 1, e_kv, **fk))
            self.bias_v = nn.Parameter(torch.empty(1, 1, e_kv, **fk))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """torch's initialisation: Xavier-uniform projections, zero biases."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                nn.init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                nn.init.xavier_normal_(b)

    def _projections(self) -> tuple[Tensor, Tensor, Tensor]:
        E, e_kv = self.embed_dim, self.num_kv_heads * self.head_dim
        if self._qkv_same_embed_dim:
            return self.in_proj_weight.split([E, e_kv, e_kv])
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """query (L, B, E) or (B, L, E) with batch_first, or unbatched (L, E); key/value likewise
        with S and kdim/vdim. Returns (output like query, weights (B, L, S) averaged over heads,
        (B, H, L, S) if not ``average_attn_weights``, or None if not ``need_weights``).

        The work is laid out as torch's ``multi_head_attention_forward`` lays it out (time-major
        (L, B, E) inside; one packed projection for self-attention; the output built contiguous
        in (L, B, E) and returned as a transposed view with batch_first), so the output has
        torch's strides: ``out.view(L * B, E)`` works where it works in torch, and a dropout
        applied to the output draws the same mask as after torch's module."""
        if query.dim() not in (2, 3) or key.dim() != query.dim() or value.dim() != query.dim():
            raise ValueError(f"query, key, value must all be 2-D or 3-D, got "
                             f"{query.dim()}, {key.dim()}, {value.dim()}")
        batched = query.dim() == 3
        self_attn, kv_same = query is key and key is value, key is value
        if not batched:                                                 # (L, E) -> (L, 1, E)
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:                                          # (B, L, E) -> (L, B, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        L, B, E = query.shape
        H, Hkv, D = self.num_heads, self.num_kv_heads, self.head_dim
        q, k, v = self._project(query, key, value, self_attn, kv_same)  # (L, B, E), (S, B, H_kv D) x2
        if self.bias_k is not None:       # one learned key/value appended to every sequence
            k = torch.cat([k, self.bias_k.expand(1, B, -1)], dim=0)
            v = torch.cat([v, self.bias_v.expand(1, B, -1)], dim=0)
            attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
        q = q.reshape(L, B, H, D).permute(1, 2, 0, 3)                   # (B, H, L, D)
        k = k.reshape(k.shape[0], B, Hkv, D).permute(1, 2, 0, 3)        # (B, H_kv, S, D)
        v = v.reshape(v.shape[0], B, Hkv, D).permute(1, 2, 0, 3)
        if self.add_zero_attn:            # one all-zero key/value appended after projection
            k = torch.cat([k, k.new_zeros(B, Hkv, 1, D)], dim=2)
            v = torch.cat([v, v.new_zeros(B, Hkv, 1, D)], dim=2)
            attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
        S = k.shape[2]
        # torch drops attn_mask in favour of the fused causal route when it may (a causal
        # mask given together with is_causal=True, no padding, no weights asked for); otherwise
        # a given attn_mask rules and is_causal is only a hint.
        if attn_mask is not None:
            if is_causal and key_padding_mask is None and not need_weights and self.fast and L == S:
                attn_mask = None
            else:
                is_causal = False
        mask = build_mask(B, H, L, S, q.dtype, q.device, attn_mask=attn_mask,
                          key_padding_mask=key_padding_mask)
        p = self.dropout if self.training else 0.0
        if need_weights or not self.fast:
            if is_causal:
                c = _additive(causal_mask(L, S, q.device), q.dtype)
                mask = c if mask is None else mask + c
            out, w = attention_reference(q, k, v, mask, dropout_p=p)
        else:
            out, w = attention(q, k, v, mask, is_causal=is_causal, dropout_p=p)
        out = out.permute(2, 0, 1, 3).reshape(L * B, E)                 # (L B, E), contiguous
        out = self.out_proj(out).view(L, B, E)                          # (L, B, E)
        if need_weights:
            w = w.mean(dim=1) if average_attn_weights else w            # (B, L, S) | (B, H, L, S)
        else:
            w = None
        if not batched:
            return out.squeeze(1), None if w is None else w.squeeze(0)
        if self.batch_first:
            out = out.transpose(0, 1)                                   # a view, as torch's
        return out, w

    def _project(self, query: Tensor, key: Tensor, value: Tensor, self_attn: bool,
                 kv_same: bool) -> tuple[Tensor, Tensor, Tensor]:
        """The input projections, grouped as torch groups them: one matmul with the packed
        weight for self-attention, one for q and one for (k, v) when key is value."""
        E, e_kv = self.embed_dim, self.num_kv_heads * self.head_dim
        w_q, w_k, w_v = self._projections()
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = self.in_proj_bias.split([E, e_kv, e_kv])
        if self._qkv_same_embed_dim and self_attn:
            return F.linear(query, self.in_proj_weight, self.in_proj_bias).split([E, e_kv, e_kv], dim=-1)
        if self._qkv_same_embed_dim and kv_same:
            b_kv = None if self.in_proj_bias is None else self.in_proj_bias[E:]
            k, v = F.linear(key, self.in_proj_weight[E:], b_kv).split([e_kv, e_kv], dim=-1)
            return F.linear(query, w_q, b_q), k, v
        return F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """Let every query see an appended key: one more column of 'allowed'."""
    if mask is None:
        return None
    return F.pad(mask, (0, 1), value=False if mask.dtype == torch.bool else 0.0)


# --- decoder-only self-attention with a key/value cache ------------------------------------------
class KVCache:
    """The keys and values of the positions seen so far, one (k, v) pair per layer, each
    (B, H_kv, S, D). Decoding one token then costs O(S) instead of recomputing O(S^2)."""

    def __init__(self, n_layers: int) -> None:
        self.layers: list[tuple[Tensor, Tensor] | None] = [None] * n_layers

    @property
    def length(self) -> int:
        """Positions held (by the first layer: read it before a forward pass, not during)."""
        return self.size(0)

    def size(self, layer: int) -> int:
        kv = self.layers[layer]
        return 0 if kv is None else kv[0].shape[2]

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append this step's (B, H_kv, T, D) keys/values; return all (B, H_kv, S + T, D)."""
        old = self.layers[layer]
        if old is not None:
            k, v = torch.cat([old[0], k], dim=2), torch.cat([old[1], v], dim=2)
        self.layers[layer] = (k, v)
        return k, v


class CausalSelfAttention(nn.Module):
    """Masked self-attention of a decoder-only LM: one packed projection to q, k, v
    ((H + 2 H_kv) D rows), optional rotary positions on q and k (Su et al. 2021) or an ALiBi
    bias (Press et al. 2022) added to the scores, and an optional :class:`KVCache`."""

    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int | None = None,
                 dropout: float = 0.0, bias: bool = True, rotary: nn.Module | None = None,
                 alibi: bool = False) -> None:
        super().__init__()
        n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} must be divisible by n_heads {n_heads}")
        if n_kv_heads < 1 or n_heads % n_kv_heads:
            raise ValueError(f"n_heads {n_heads} must be a multiple of n_kv_heads {n_kv_heads}")
        self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, d_model // n_heads
        self.qkv = nn.Linear(d_model, (n_heads + 2 * n_kv_heads) * self.head_dim, bias=bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)
        self.dropout = dropout
        self.rotary = rotary
        if alibi:
            from .positional import alibi_slopes

            self.register_buffer("alibi", alibi_slopes(n_heads), persistent=False)
        else:
            self.alibi = None

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0, *,
                fast: bool = True) -> Tensor:
        """x (B, T, E) -> (B, T, E). With a cache, x holds the T positions after the cached ones."""
        B, T, E = x.shape
        H, Hkv, D = self.n_heads, self.n_kv_heads, self.head_dim
        q, k, v = self.qkv(x).split([H * D, Hkv * D, Hkv * D], dim=-1)
        q = q.view(B, T, H, D).transpose(1, 2)                          # (B, H, T, D)
        k = k.view(B, T, Hkv, D).transpose(1, 2)                        # (B, H_kv, T, D)
        v = v.view(B, T, Hkv, D).transpose(1, 2)
        offset = 0 if cache is None else cache.size(layer)
        if self.rotary is not None:
            q, k = self.rotary(q, offset), self.rotary(k, offset)
        if cache is not None:
            k, v = cache.update(layer, k, v)                            # (B, H_kv, S, D)
        S = k.shape[2]
        mask = None
        if self.alibi is not None:
            from .positional import alibi_bias

            mask = alibi_bias(self.alibi, T, S) + _additive(causal_mask(T, S, x.device), q.dtype)
        p = self.dropout if self.training else 0.0
        if fast:
            y, _ = attention(q, k, v, mask, is_causal=mask is None, dropout_p=p)
        else:
            if mask is None:
                mask = _additive(causal_mask(T, S, x.device), q.dtype)
            y, _ = attention_reference(q, k, v, mask, dropout_p=p)
        return self.out(y.transpose(1, 2).reshape(B, T, E))            # (B, T, E)
