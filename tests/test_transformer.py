"""Encoder/decoder layers and stacks against torch.nn with copied weights (values and grads)."""
import pytest
import torch

from groundup import nn as gnn

torch.set_num_threads(1)
# torch warns when a bool padding mask meets a float attention mask; mixing them is on purpose
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched")
E, H, FF = 8, 2, 16


def _copy(ours, theirs):
    missing, unexpected = ours.load_state_dict(theirs.state_dict(), strict=True)
    assert not missing and not unexpected


def _masks(B, S, T):
    causal = torch.ones(T, T, dtype=torch.bool).triu(1)
    pad = torch.zeros(B, S, dtype=torch.bool)
    pad[1, -2:] = True
    return causal, pad


def _check_grads(ours, theirs, o1, o2, inputs):
    g = torch.randn_like(o1)
    a = torch.autograd.grad(o1, list(inputs) + list(ours.parameters()), g)
    b = torch.autograd.grad(o2, list(inputs) + list(theirs.parameters()), g)
    for x, y in zip(a, b):
        assert torch.allclose(x, y, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("bias", [True, False])
def test_encoder_layer_matches_torch(norm_first, batch_first, activation, bias):
    torch.manual_seed(0)
    kw = dict(dim_feedforward=FF, dropout=0.0, activation=activation, batch_first=batch_first,
              norm_first=norm_first, bias=bias)
    theirs = torch.nn.TransformerEncoderLayer(E, H, **kw)
    ours = gnn.TransformerEncoderLayer(E, H, **kw)
    _copy(ours, theirs)
    B, S = 2, 5
    x = torch.randn(*((B, S, E) if batch_first else (S, B, E)), requires_grad=True)
    _, pad = _masks(B, S, S)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(S)       # float -inf mask
    for mk in ({}, {"src_key_padding_mask": pad}, {"src_mask": causal, "is_causal": True},
               {"src_mask": causal, "src_key_padding_mask": pad}):
        o1, o2 = ours(x, **mk), theirs(x, **mk)
        assert torch.allclose(o1, o2, atol=1e-5, rtol=1e-5), mk
        _check_grads(ours, theirs, o1, o2, [x])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_matches_torch(norm_first, batch_first):
    torch.manual_seed(0)
    kw = dict(dim_feedforward=FF, dropout=0.0, activation="gelu", batch_first=batch_first,
              norm_first=norm_first)
    theirs = torch.nn.TransformerDecoderLayer(E, H, **kw)
    ours = gnn.TransformerDecoderLayer(E, H, **kw)
    _copy(ours, theirs)
    B, S, T = 2, 6, 4
    shape = (lambda n: (B, n, E)) if batch_first else (lambda n: (n, B, E))
    tgt = torch.randn(*shape(T), requires_grad=True)
    mem = torch.randn(*shape(S), requires_grad=True)
    causal, pad = _masks(B, S, T)
    tpad = torch.zeros(B, T, dtype=torch.bool)
    tpad[0, -1] = True
    mk = dict(tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=pad,
              tgt_key_padding_mask=tpad, memory_mask=torch.randn(T, S))
    o1, o2 = ours(tgt, mem, **mk), theirs(tgt, mem, **mk)
    assert torch.allclose(o1, o2, atol=1e-5, rtol=1e-5)
    _check_grads(ours, theirs, o1, o2, [tgt, mem])


def test_stacks_match_torch_and_state_dicts_load_both_ways():
    torch.manual_seed(0)
    kw = dict(dim_feedforward=FF, dropout=0.0, batch_first=True, norm_first=True)
    t_enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, H, **kw), 3,
                                        norm=torch.nn.LayerNorm(E), enable_nested_tensor=False)
    o_enc = gnn.TransformerEncoder(gnn.TransformerEncoderLayer(E, H, **kw), 3, norm=gnn.LayerNorm(E))
    _copy(o_enc, t_enc)
    t_dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, H, **kw), 2,
                                        norm=torch.nn.LayerNorm(E))
    o_dec = gnn.TransformerDecoder(gnn.TransformerDecoderLayer(E, H, **kw), 2, norm=gnn.LayerNorm(E))
    t_dec.load_state_dict(o_dec.state_dict())           # the other direction
    src = torch.randn(2, 5, E, requires_grad=True)
    tgt = torch.randn(2, 3, E, requires_grad=True)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(3)
    m1, m2 = o_enc(src), t_enc(src)
    o1 = o_dec(tgt, m1, tgt_mask=causal, tgt_is_causal=True)
    o2 = t_dec(tgt, m2, tgt_mask=causal, tgt_is_causal=True)
    assert torch.allclose(o1, o2, atol=1e-5)
    g1 = torch.autograd.grad(o1.sum(), [src, tgt])
    g2 = torch.autograd.grad(o2.sum(), [src, tgt])
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, atol=1e-5)


def test_dropout_train_vs_eval():
    torch.manual_seed(0)
    layer = gnn.TransformerEncoderLayer(E, H, FF, dropout=0.5, batch_first=True)
    x = torch.randn(2, 5, E)
    layer.train()
    torch.manual_seed(1)
    a = layer(x)
    torch.manual_seed(1)
    assert torch.equal(a, layer(x))                    # seeded: the masks repeat
    layer.eval()
    assert not torch.allclose(a, layer(x)) and torch.equal(layer(x), layer(x))


@pytest.mark.parametrize("activation", ["swiglu", "geglu", "silu", "mish"])
def test_any_activation_including_gated(activation):
    layer = gnn.TransformerEncoderLayer(E, H, FF, dropout=0.0, activation=activation,
                                        batch_first=True, norm_first=True, norm="rmsnorm")
    gated = activation in ("swiglu", "geglu")
    assert layer.linear1.weight.shape == ((2 if gated else 1) * FF, E)
    x = torch.randn(2, 5, E, requires_grad=True)
    y = layer(x)
    # the FFN block by hand, with the activation written out for SwiGLU (a * silu(b), halves)
    h = layer.linear1(layer.norm2(x + layer.self_attn(*(layer.norm1(x),) * 3, need_weights=False)[0]))
    if activation == "swiglu":
        a, b = h.chunk(2, dim=-1)
        h = a * torch.nn.functional.silu(b)
    else:
        h = layer.activation(h)
    x1 = x + layer.self_attn(*(layer.norm1(x),) * 3, need_weights=False)[0]
    assert torch.allclose(y, x1 + layer.linear2(h), atol=1e-6)
    y.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_constructor_validation():
    with pytest.raises(ValueError, match="unknown activation"):
        gnn.TransformerEncoderLayer(E, H, activation="nope")
    with pytest.raises(ValueError, match="dropout"):
        gnn.TransformerDecoderLayer(E, H, dropout=1.5)
    with pytest.raises(ValueError, match="norm must be"):
        gnn.TransformerEncoderLayer(E, H, norm="batchnorm")
