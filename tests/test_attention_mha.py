"""groundup.nn.MultiheadAttention against torch.nn.MultiheadAttention with copied weights."""
import pytest
import torch

from groundup.nn import MultiheadAttention

torch.set_num_threads(1)

CASES = {
    "plain": {},
    "batch_first": {"batch_first": True},
    "no_bias": {"bias": False},
    "kdim_vdim": {"kdim": 6, "vdim": 10},
    "bias_kv": {"add_bias_kv": True},
    "zero_attn": {"add_zero_attn": True, "batch_first": True},
}
MASKS = ["none", "causal_bool", "float2d", "bool3d", "padding_bool", "padding_float", "both"]


def _pair(opts, E=12, H=3):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, H, **opts).double()
    ours = MultiheadAttention(E, H, **opts).double()
    ours.load_state_dict(theirs.state_dict())      # same names, same shapes
    return ours, theirs


def _inputs(opts, B=2, L=4, S=5, E=12):
    g = torch.Generator().manual_seed(1)
    kd, vd = opts.get("kdim", E), opts.get("vdim", E)
    shape = (lambda n, d: (B, n, d)) if opts.get("batch_first") else (lambda n, d: (n, B, d))
    q = torch.randn(*shape(L, E), generator=g, dtype=torch.float64)
    k = torch.randn(*shape(S, kd), generator=g, dtype=torch.float64)
    v = torch.randn(*shape(S, vd), generator=g, dtype=torch.float64)
    return q, k, v


def _mask_kwargs(kind, B=2, H=3, L=4, S=5):
    g = torch.Generator().manual_seed(2)
    causal = torch.ones(L, S, dtype=torch.bool).triu(1 + S - L)
    pad = torch.zeros(B, S, dtype=torch.bool)
    pad[1, -2:] = True
    return {
        "none": {},
        "causal_bool": {"attn_mask": causal},
        "float2d": {"attn_mask": torch.randn(L, S, generator=g, dtype=torch.float64)},
        "bool3d": {"attn_mask": (torch.rand(B * H, L, S, generator=g) < 0.3)
                   & ~torch.eye(L, S, dtype=torch.bool)},
        "padding_bool": {"key_padding_mask": pad},
        "padding_float": {"key_padding_mask": torch.zeros(B, S, dtype=torch.float64).masked_fill(pad, -1e9)},
        "both": {"attn_mask": causal, "key_padding_mask": pad},
    }[kind]


def _grads(m, inputs, out):
    return torch.autograd.grad(out, list(inputs) + list(m.parameters()), torch.ones_like(out) * 0.3)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("need_weights", [True, False])
def test_matches_torch_values_and_grads(case, mask, need_weights):
    opts = CASES[case]
    ours, theirs = _pair(opts)
    mk = _mask_kwargs(mask)
    q, k, v = (t.requires_grad_() for t in _inputs(opts))
    o1, w1 = ours(q, k, v, need_weights=need_weights, **mk)
    o2, w2 = theirs(q, k, v, need_weights=need_weights, **mk)
    assert torch.allclose(o1, o2, atol=1e-10)
    if need_weights:
        assert torch.allclose(w1, w2, atol=1e-10)
    else:
        assert w1 is None and w2 is None
    for a, b in zip(_grads(ours, (q, k, v), o1), _grads(theirs, (q, k, v), o2)):
        assert torch.allclose(a, b, atol=1e-10)


def test_float32_within_1e5_and_per_head_weights():
    ours, theirs = _pair({"batch_first": True})
    ours.float(), theirs.float()
    q, k, v = (t.float() for t in _inputs({"batch_first": True}))
    o1, w1 = ours(q, k, v, average_attn_weights=False)
    o2, w2 = theirs(q, k, v, average_attn_weights=False)
    assert w1.shape == (2, 3, 4, 5)
    assert torch.allclose(o1, o2, atol=1e-5) and torch.allclose(w1, w2, atol=1e-5)


def test_is_causal_hint_and_unbatched():
    ours, theirs = _pair({"batch_first": True})
    x = torch.randn(2, 4, 12, dtype=torch.float64)
    causal = torch.ones(4, 4, dtype=torch.bool).triu(1)
    o1, _ = ours(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)
    o2, _ = theirs(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)
    o3, _ = ours(x, x, x, is_causal=True, need_weights=False)   # beyond torch: mask built here
    assert torch.allclose(o1, o2, atol=1e-10) and torch.allclose(o3, o2, atol=1e-10)
    u1, uw1 = ours(x[0], x[0], x[0])
    u2, uw2 = theirs(x[0], x[0], x[0])
    assert u1.shape == (4, 12) and torch.allclose(u1, u2, atol=1e-10)
    assert torch.allclose(uw1, uw2, atol=1e-10)


def test_state_dict_loads_into_torch():
    ours = MultiheadAttention(12, 3, kdim=6, vdim=10)
    theirs = torch.nn.MultiheadAttention(12, 3, kdim=6, vdim=10)
    theirs.load_state_dict(ours.state_dict())
    assert set(ours.state_dict()) == set(theirs.state_dict())


@pytest.mark.parametrize("need_weights", [True, False])
def test_fully_masked_row_zero_where_torch_gives_nan(need_weights):
    ours, theirs = _pair({"batch_first": True})
    x = torch.randn(2, 4, 12, dtype=torch.float64, requires_grad=True)
    pad = torch.zeros(2, 4, dtype=torch.bool)
    pad[1] = True                                   # the whole second sequence is padding
    o2, _ = theirs(x, x, x, key_padding_mask=pad, need_weights=need_weights)
    if need_weights:   # torch's math route: softmax of an all -inf row is NaN (what this fixes)
        assert torch.isnan(o2[1]).all()
    else:              # torch 2.13's fused route already returns 0 there
        assert torch.allclose(o2[1], theirs.out_proj.bias.expand(4, 12))
    o1, w1 = ours(x, x, x, key_padding_mask=pad, need_weights=need_weights)
    # no attention -> head outputs 0 -> the layer outputs the out_proj bias (0 after init)
    assert torch.allclose(o1[1], ours.out_proj.bias.expand(4, 12))
    assert torch.allclose(o1[0], o2[0], atol=1e-10)
    o1.sum().backward()
    assert torch.isfinite(x.grad).all()
    if need_weights:
        assert (w1[1] == 0).all()


def test_grouped_query_heads_shapes_and_reference():
    m = MultiheadAttention(16, 4, num_kv_heads=2, batch_first=True).double()
    assert m.in_proj_weight.shape == (16 + 2 * 8, 16)
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    a, _ = m(x, x, x, need_weights=False, is_causal=True)
    m.fast = False
    b, _ = m(x, x, x, need_weights=False, is_causal=True)
    assert torch.allclose(a, b, atol=1e-12)
    with pytest.raises(ValueError, match="divisible"):
        MultiheadAttention(10, 4)
