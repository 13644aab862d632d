"""The analytic calculator: hand examples, and the three routes (top-down, bottom-up, closed form)."""
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.vision.receptive_field import (Layer, effective_padding, stack_receptive_field,
                                             top_down_sizes)
from groundup.vision.rf_ops import AxisField, Resample, Transposed, Window, merge


def test_hand_example_two_strided_convs():
    # Dang Ha The Hien's guide: 5x5 input, two 3x3 convs, stride 2, padding 1.
    # layer 1: r = 1 + 2*1 = 3, j = 2, start = 0 + (1 - 1)*1 = 0
    # layer 2: r = 3 + 2*2 = 7, j = 4, start = 0 + (1 - 1)*2 = 0; maps 5 -> 3 -> 2
    rf = stack_receptive_field([Layer(3, 2, 1), Layer(3, 2, 1)], (5, 5))
    assert [r.size for r in rf.layers] == [(1, 1), (3, 3), (7, 7)]
    assert [r.jump for r in rf.layers] == [(1, 1), (2, 2), (4, 4)]
    assert rf.start == (0, 0) and rf.layers[-1].shape == (1, 1, 2, 2)
    # unit 1 of the last map is centred on pixel 4 and reads pixels 1..7 (6, 7 are padding)
    assert rf.region((1, 1)) == ((1, 7), (1, 7))


def test_top_down_recursion_by_hand():
    # RF_(n-1) = (RF_n - 1) * s_n + k_n on AlexNet's conv1/pool1/conv2:
    # RF_3 = 1; RF_2 = 0*1 + 5 = 5; RF_1 = 4*2 + 3 = 11; RF_0 = 10*4 + 11 = 51
    layers = [Layer(11, 4), Layer(3, 2, kind="maxpool"), Layer(5, 1, 2)]
    assert [t[0] for t in top_down_sizes(layers)] == [1, 5, 11, 51]
    assert stack_receptive_field(layers).size == (51, 51)


def test_dilation_uses_effective_kernel():
    # k=3, d=4: k_eff = 4*2 + 1 = 9; a second one at j=1 adds 8 more
    rf = stack_receptive_field([Layer(3, dilation=4, padding=4), Layer(3, dilation=4, padding=4)])
    assert rf.size == (17, 17) and rf.start == (0, 0)


def test_per_axis_values():
    rf = stack_receptive_field([Layer((1, 7), 1, (0, 3)), Layer((3, 3), (2, 1), 1)], (32, 32))
    assert rf.size == (3, 9) and rf.jump == (2, 1) and rf.layers[-1].shape == (1, 1, 16, 32)


@st.composite
def stacks(draw):
    n = draw(st.integers(1, 7))
    layers = []
    for _ in range(n):
        k = draw(st.integers(1, 7))
        layers.append(Layer(kernel=(k, draw(st.integers(1, 5))), stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                            padding=(draw(st.integers(0, 3)), draw(st.integers(0, 3))),
                            dilation=(draw(st.integers(1, 3)), 1),
                            kind=draw(st.sampled_from(["conv", "maxpool", "avgpool"]))))
    return layers


@settings(max_examples=200, deadline=None)
@given(stacks())
def test_top_down_bottom_up_and_closed_form_agree(layers):
    rf = stack_receptive_field(layers)
    assert top_down_sizes(layers)[-1] == rf.size
    # start = (r - 1)/2 - P_0, P_0 = sum_l p_l prod_(i<l) s_i (Distill 2019)
    assert rf.effective_padding == effective_padding(layers)
    jumps = [1, 1]
    for layer in layers:
        for ax, op in enumerate(layer.per_axis(2)):
            jumps[ax] *= op.stride
    assert rf.jump == tuple(jumps)


@settings(max_examples=100, deadline=None)
@given(stacks(), st.integers(40, 90))
def test_exact_interval_pass_matches_the_recursion(layers, n):
    # the interval pass (used for graphs) and the recursion give the same box for every unit
    rf = stack_receptive_field(layers, (n, n))
    shape = rf.layers[-1].shape
    if min(shape[2:]) < 1:
        return
    for u in {0, shape[2] // 2, shape[2] - 1}:
        (lo, hi), _ = rf.region((u, 0))
        c = Fraction(rf.start[0]) + u * rf.jump[0]
        assert (lo, hi) == (c - Fraction(rf.size[0] - 1, 2), c + Fraction(rf.size[0] - 1, 2))


def test_transposed_span_is_the_checkerboard():
    # k=3, s=2: even outputs read 2 inputs, odd ones 1 -> largest span 2
    assert Transposed(3, 2).span() == 2
    assert Transposed(4, 2).span() == 2
    assert Transposed(1, 2).span() == 1
    f = Transposed(4, 2, 1).forward(AxisField(Fraction(1), Fraction(1), Fraction(0)))
    assert (f.size, f.jump, f.start) == (2, Fraction(1, 2), Fraction(-1, 4))
    # output o = i*2 - 1 + t: outputs 3..4 read inputs 1..2 (o=3: i=1,t=2 / i=2,t=0)
    assert Transposed(4, 2, 1).back(3, 4, 10) == (1, 2)


def test_resample_sources_follow_aten():
    r = Resample("bilinear", Fraction(2), 8, 16)
    # align_corners=False: x = (o + 0.5)/2 - 0.5; o=0 -> -0.25 clamped to 0 -> reads only 0
    assert r.back(0, 0, 8) == (0, 0)
    assert r.back(5, 5, 8) == (2, 3)  # x = 2.25
    assert Resample("nearest", Fraction(2), 8, 16).back(5, 5, 8) == (2, 2)
    assert Resample("bicubic", Fraction(2), 8, 16).back(7, 7, 8) == (2, 5)  # x=3.25: taps 2..5


def test_merge_alignment():
    a = AxisField(Fraction(5), Fraction(2), Fraction(0))
    b = AxisField(Fraction(3), Fraction(2), Fraction(0))
    m, aligned = merge([a, b])
    assert aligned and m == a
    c = AxisField(Fraction(3), Fraction(2), Fraction(2))  # centred 2 pixels to the right
    m, aligned = merge([a, c])
    assert not aligned and (m.left, m.right) == (-2, 3) and m.size == 6


@pytest.mark.parametrize("bad", [dict(kernel=0), dict(kernel=3, stride=0), dict(kernel=2, dilation=0)])
def test_validation_names_the_value(bad):
    with pytest.raises(ValueError, match="must be"):
        Window(**bad)


def test_layer_kind_and_axes_checked():
    with pytest.raises(ValueError, match="kind"):
        Layer(3, kind="fancy")
    with pytest.raises(ValueError, match="3 values"):
        Layer((3, 3)).per_axis(3)
    with pytest.raises(ValueError, match="windows only"):
        top_down_sizes([Layer(3, 2, kind="transposed")])


def test_stack_calculator_and_traced_module_agree():
    import torch.nn as nn

    from groundup.vision import receptive_field

    layers = [Layer(3, 2, 1), Layer(4, 2, 1, kind="transposed"), Layer(3, 1, 1, dilation=2),
              Layer(2, 2, kind="maxpool")]
    model = nn.Sequential(nn.Conv2d(1, 1, 3, 2, 1), nn.ConvTranspose2d(1, 1, 4, 2, 1),
                          nn.Conv2d(1, 1, 3, 1, 1, dilation=2), nn.MaxPool2d(2))
    a, b = stack_receptive_field(layers, (32, 32)), receptive_field(model, (1, 1, 32, 32))
    assert (a.size, a.jump, a.start) == (b.size, b.jump, b.start)
    assert [r.shape[2:] for r in a.layers] == [r.shape[2:] for r in b.layers]
    assert [(r.size, r.jump, r.start) for r in a.layers] == [(r.size, r.jump, r.start) for r in b.layers]
