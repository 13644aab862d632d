"""Attention from the equations: reference vs fused route, masks, GQA, KV cache, dropout."""
import math

import pytest
import torch
import torch.nn.functional as F

from groundup.nn.attention import (CausalSelfAttention, KVCache, attention, attention_reference,
                                   build_mask, causal_mask)
from groundup.nn.positional import RotaryEmbedding

torch.set_num_threads(1)


def _qkv(B=2, H=4, Hkv=4, L=5, S=5, D=8, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, H, L, D, generator=g, dtype=dtype, requires_grad=True)
    k = torch.randn(B, Hkv, S, D, generator=g, dtype=dtype, requires_grad=True)
    v = torch.randn(B, Hkv, S, D, generator=g, dtype=dtype, requires_grad=True)
    return q, k, v


def test_reference_by_hand_one_query():
    # q = [1, 0], keys [1, 0] and [0, 1], D = 2: scores 1/sqrt2 and 0,
    # weights softmax = [e^a, 1] / (e^a + 1), a = 1/sqrt2; output = w0 * v0 + w1 * v1.
    q = torch.tensor([[[[1.0, 0.0]]]], dtype=torch.float64)
    k = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]], dtype=torch.float64)
    v = torch.tensor([[[[2.0, 0.0], [0.0, 4.0]]]], dtype=torch.float64)
    a = math.exp(1 / math.sqrt(2))
    w0, w1 = a / (a + 1), 1 / (a + 1)
    out, w = attention_reference(q, k, v)
    assert torch.allclose(w[0, 0, 0], torch.tensor([w0, w1], dtype=torch.float64), atol=1e-15)
    assert torch.allclose(out[0, 0, 0], torch.tensor([2 * w0, 4 * w1], dtype=torch.float64))


def _masks(kind, B, H, L, S):
    g = torch.Generator().manual_seed(1)
    if kind == "none":
        return {}
    if kind == "causal":
        return {"is_causal": True}
    if kind == "bool2d":
        m = torch.rand(L, S, generator=g) < 0.3
        m[:, 0] = False
        return {"attn_mask": m}
    if kind == "float3d":
        return {"attn_mask": torch.randn(B * H, L, S, generator=g, dtype=torch.float64)}
    if kind == "padding":
        kp = torch.zeros(B, S, dtype=torch.bool)
        kp[1, -2:] = True
        return {"key_padding_mask": kp}
    if kind == "causal+padding":
        kp = torch.zeros(B, S, dtype=torch.bool)
        kp[0, -1] = True
        return {"is_causal": True, "key_padding_mask": kp}
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["none", "causal", "bool2d", "float3d", "padding", "causal+padding"])
@pytest.mark.parametrize("Hkv", [4, 2, 1])
def test_fused_route_equals_reference(kind, Hkv):
    B, H, L, S = 2, 4, 5, 5
    q, k, v = _qkv(B, H, Hkv, L, S)
    mask = build_mask(B, H, L, S, q.dtype, **_masks(kind, B, H, L, S))
    ref, _ = attention_reference(q, k, v, mask)
    fast, _ = attention(q, k, v, mask)
    assert torch.allclose(ref, fast, atol=1e-12)
    g = torch.randn_like(ref)
    gr = torch.autograd.grad(ref, (q, k, v), g)
    gf = torch.autograd.grad(fast, (q, k, v), g)
    for a, b in zip(gr, gf):
        assert torch.allclose(a, b, atol=1e-12)


def test_is_causal_equals_explicit_mask_and_matches_torch():
    q, k, v = _qkv(L=6, S=6)
    a, _ = attention(q, k, v, is_causal=True)
    b, _ = attention_reference(q, k, v, build_mask(2, 4, 6, 6, q.dtype, is_causal=True))
    c = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(a, b, atol=1e-12) and torch.allclose(b, c, atol=1e-12)


def test_causal_mask_bottom_right_for_cache():
    # 2 new queries after 3 cached keys: query 0 is position 3 and sees keys 0..3.
    m = causal_mask(2, 5)
    assert m.tolist() == [[False, False, False, False, True], [False] * 5]


@pytest.mark.parametrize("route", ["reference", "fused"])
def test_fully_masked_row_gives_zeros_and_finite_grads(route):
    B, H, L, S = 2, 2, 3, 4
    q, k, v = _qkv(B, H, H, L, S)
    am = torch.zeros(L, S, dtype=torch.bool)
    am[1] = True                                   # query 1 may see nothing
    kp = torch.zeros(B, S, dtype=torch.bool)
    kp[1] = True                                   # sequence 1 is all padding
    mask = build_mask(B, H, L, S, q.dtype, attn_mask=am, key_padding_mask=kp)
    fn = attention_reference if route == "reference" else attention
    out, _ = fn(q, k, v, mask)
    assert torch.isfinite(out).all()
    assert (out[:, :, 1] == 0).all() and (out[1] == 0).all()
    assert out[0, :, 0].abs().sum() > 0
    out.sum().backward()
    for t in (q, k, v):
        assert torch.isfinite(t.grad).all()
    assert (q.grad[:, :, 1] == 0).all()            # a dead row passes no gradient back


def test_attention_dropout_reference_and_fused():
    q, k, v = _qkv(B=4, H=4, L=16, S=16, dtype=torch.float32)
    w_full = attention_reference(q, k, v)[1]
    torch.manual_seed(0)
    _, w = attention_reference(q, k, v, dropout_p=0.25)
    kept = w != 0
    # inverted dropout: kept weights scaled by 1/(1-p); fraction kept ~ 0.75 over 4096 draws
    # (std 0.007, so 0.05 is > 7 sigma)
    assert torch.allclose(w[kept], w_full[kept] / 0.75, rtol=1e-5)
    assert abs(kept.float().mean().item() - 0.75) < 0.05
    torch.manual_seed(0)
    a, _ = attention(q, k, v, dropout_p=0.25)
    torch.manual_seed(0)
    b, _ = attention(q, k, v, dropout_p=0.25)
    assert torch.equal(a, b) and not torch.allclose(a, attention(q, k, v)[0])


@pytest.mark.parametrize("opts", [{}, {"n_kv_heads": 1}, {"n_kv_heads": 2, "rope": True},
                                  {"alibi": True}])
def test_kv_cache_equals_full_recomputation(opts):
    torch.manual_seed(0)
    E, H = 16, 4
    rot = RotaryEmbedding(E // H) if opts.get("rope") else None
    att = CausalSelfAttention(E, H, opts.get("n_kv_heads"), rotary=rot,
                              alibi=opts.get("alibi", False)).double().eval()
    x = torch.randn(2, 7, E, dtype=torch.float64)
    full = att(x)
    ref = att(x, fast=False)
    assert torch.allclose(full, ref, atol=1e-12)
    cache = KVCache(1)
    parts = [att(x[:, :3], cache), att(x[:, 3:4], cache), att(x[:, 4:5], cache), att(x[:, 5:], cache)]
    assert cache.length == 7
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="multiple of n_kv_heads 3"):
        CausalSelfAttention(16, 4, 3)
    with pytest.raises(ValueError, match="key_padding_mask"):
        build_mask(2, 1, 3, 3, torch.float32, key_padding_mask=torch.zeros(3, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool or floating"):
        build_mask(1, 1, 2, 2, torch.float32, attn_mask=torch.zeros(2, 2, dtype=torch.long))
