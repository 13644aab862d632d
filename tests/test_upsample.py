"""Upsampling against torch.nn.functional: property-based over random shapes and parameters,
values and gradients to 1e-5, plus hand-checkable golden values and the error messages."""
from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundup.nn import upsample as U
from groundup.nn.subpixel import SubPixelConv2d, icnr_

# The default run replays the same 60 examples per property (reproducible in CI); set
# GROUNDUP_HYPOTHESIS_EXAMPLES=N for a deeper, randomised search.
_DEEP = os.environ.get("GROUNDUP_HYPOTHESIS_EXAMPLES")
SETTINGS = settings(max_examples=int(_DEEP or 60), deadline=None, derandomize=_DEEP is None,
                    suppress_health_check=[HealthCheck.too_slow])
TOL = dict(atol=1e-5, rtol=1e-5)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # tiny tensors: threads only add contention (restored by conftest)


def check_same(ours_fn, ref_fn, *tensors):
    """Values and gradients (of a random projection of the output) agree to 1e-5."""
    a = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in tensors]
    b = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in tensors]
    ya, yb = ours_fn(*a), ref_fn(*b)
    assert ya.shape == yb.shape and ya.dtype == yb.dtype
    torch.testing.assert_close(ya, yb, **TOL)
    w = torch.randn(yb.shape, dtype=yb.dtype, generator=torch.Generator().manual_seed(0))
    ga = torch.autograd.grad((ya * w).sum(), [t for t in a if t.requires_grad])
    gb = torch.autograd.grad((yb * w).sum(), [t for t in b if t.requires_grad])
    for x, y in zip(ga, gb):
        torch.testing.assert_close(x, y, **TOL)


# --------------------------------------------------------------------------------------------
# interpolate
# --------------------------------------------------------------------------------------------
SCALES = [0.25, 0.3, 0.5, 0.7, 1.0, 1.2, 4 / 3, 1.5, 2.0, 7 / 3, 2.5, 3.0, 4.0]


@st.composite
def interp_case(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic",
                                 "area"]))
    dims = {"linear": 1, "bilinear": 2, "bicubic": 2}.get(mode) or draw(st.sampled_from([1, 2]))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    spatial = draw(st.lists(st.integers(1, 9), min_size=dims, max_size=dims))
    kw = {}
    if draw(st.booleans()):
        kw["size"] = draw(st.lists(st.integers(1, 20), min_size=dims, max_size=dims))
    else:
        kw["scale_factor"] = draw(st.lists(st.sampled_from(SCALES), min_size=dims, max_size=dims))
        if any(int(n * s) < 1 for n, s in zip(spatial, kw["scale_factor"])):
            kw["scale_factor"] = [max(s, 1.0) for s in kw["scale_factor"]]
        if mode != "area" and draw(st.booleans()):
            kw["recompute_scale_factor"] = True
    if mode in ("linear", "bilinear", "bicubic"):
        kw["align_corners"] = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    x = torch.randn([2, 3] + spatial, dtype=dtype, generator=torch.Generator().manual_seed(seed))
    return x, mode, kw


def _torch_bicubic_backward_is_wrong(x, mode, kw) -> bool:
    """torch 2.13's bicubic backward treats out == in (every axis) as a copy even when the
    scale factor is not 1 and the forward interpolates (see the pinned test below)."""
    if mode != "bicubic" or "scale_factor" not in kw or kw.get("recompute_scale_factor"):
        return False
    out = F.interpolate(x, mode=mode, **kw).shape
    return out == x.shape and any(s != 1 for s in kw["scale_factor"])


@SETTINGS
@given(interp_case())
def test_interpolate_matches_torch(case):
    x, mode, kw = case
    if _torch_bicubic_backward_is_wrong(x, mode, kw):
        torch.testing.assert_close(U.interpolate(x, mode=mode, **kw),
                                   F.interpolate(x, mode=mode, **kw), **TOL)
        return
    check_same(lambda t: U.interpolate(t, mode=mode, **kw),
               lambda t: F.interpolate(t, mode=mode, **kw), x)


def test_torch_bicubic_backward_quirk_and_our_gradients_are_exact():
    # 3x3 with scale_factor 1.2 stays 3x3; torch's forward interpolates (sources at
    # (i + 1/2)/1.2 - 1/2), but its backward passes the gradient straight through, so it fails
    # its own gradcheck. Ours is the true derivative of the same forward.
    x = torch.randn(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    f_torch = lambda t: F.interpolate(t, scale_factor=1.2, mode="bicubic")  # noqa: E731
    f_ours = lambda t: U.interpolate(t, scale_factor=1.2, mode="bicubic")  # noqa: E731
    torch.testing.assert_close(f_ours(x), f_torch(x), **TOL)
    assert not torch.autograd.gradcheck(f_torch, (x,), raise_exception=False)
    assert torch.autograd.gradcheck(f_ours, (x,))
    # and a finite-difference check of every mode of ours, 1-D and 2-D
    for mode, dims, kw in [("nearest", 2, {}), ("nearest-exact", 1, {}), ("area", 2, {}),
                           ("linear", 1, dict(align_corners=True)),
                           ("bilinear", 2, dict(align_corners=False)),
                           ("bicubic", 2, dict(align_corners=True))]:
        t = torch.randn([1, 2] + [4] * dims, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(
            lambda u: U.interpolate(u, scale_factor=1.5, mode=mode, **kw), (t,))


def test_interpolate_trilinear_and_nearest_3d():
    x = torch.randn(1, 2, 3, 4, 5, dtype=torch.float64)
    for mode, kw in [("trilinear", dict(align_corners=False)), ("trilinear", dict(align_corners=True)),
                     ("nearest", {}), ("nearest-exact", {})]:
        check_same(lambda t: U.interpolate(t, scale_factor=(1.5, 2, 0.5), mode=mode, **kw),
                   lambda t: F.interpolate(t, scale_factor=(1.5, 2, 0.5), mode=mode, **kw), x)


def test_nearest_vs_nearest_exact_hand_values():
    # Downsample 3 pixels [a, b, c] = [10, 20, 30] to 2. Output pixel centres sit at input
    # coordinates (i + 1/2) * 3/2 - 1/2 = 0.25 and 1.75 (half-pixel convention).
    # nearest (OpenCV's rule): floor(i * 3/2) = 0, 1 -> [10, 20]: the image shifts left.
    # nearest-exact (PIL, scikit-image): floor((i + 1/2) * 3/2) = 0, 2 -> [10, 30].
    x = torch.tensor([[[10.0, 20.0, 30.0]]])
    assert U.interpolate(x, size=2, mode="nearest").flatten().tolist() == [10, 20]
    assert U.interpolate(x, size=2, mode="nearest-exact").flatten().tolist() == [10, 30]


def test_torch_cpu_nearest_rules_pinned():
    # float32 index arithmetic: 2 -> 82 pixels, output 41 should be floor(41 * 2/82) = 1, but
    # float32(41) * float32(2/82) < 1, and torch takes pixel 0. We reproduce it.
    x = torch.tensor([[[0.0, 1.0]]])
    assert F.interpolate(x, size=82, mode="nearest")[0, 0, 41].item() == 0.0
    assert U.interpolate(x, size=82, mode="nearest")[0, 0, 41].item() == 0.0
    # The 2-D nearest kernel copies when out == in whatever the scale factor; the 1-D one
    # does not: scale_factor 1.2 on 4 pixels -> [0, 1, 2, 3] in 2-D, [0, 0, 1, 2] in 1-D.
    row = torch.arange(4.0)
    for t, expect in [(row.view(1, 1, 4), [0, 0, 1, 2]), (row.view(1, 1, 1, 4), [0, 1, 2, 3])]:
        assert F.interpolate(t, scale_factor=1.2, mode="nearest").flatten().tolist() == expect
        assert U.interpolate(t, scale_factor=1.2, mode="nearest").flatten().tolist() == expect
    # linear treats out == in as the identity even when scale_factor says 1.2
    assert U.interpolate(row.view(1, 1, 4), scale_factor=1.2, mode="linear").flatten().tolist() \
        == [0.0, 1.0, 2.0, 3.0]


def test_bilinear_hand_values():
    # 2x2 -> 3x3 with align_corners=True: corners kept, the centre is the mean (1+2+3+4)/4 = 2.5,
    # edge midpoints are pair means. With align_corners=False the 2x2 -> 4x4 corner is x[0,0]
    # (source -0.25 clamped to 0) and the next one 0.75*1 + 0.25*2 = 1.25.
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    y = U.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)[0, 0]
    assert y.tolist() == [[1.0, 1.5, 2.0], [2.0, 2.5, 3.0], [3.0, 3.5, 4.0]]
    y = U.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)[0, 0]
    assert y[0, :2].tolist() == [1.0, 1.25]


def test_cubic_weights_partition_of_unity_and_interpolate():
    t = torch.linspace(0, 1, 101, dtype=torch.float64)
    w = U.cubic_weights(t)
    torch.testing.assert_close(w.sum(-1), torch.ones_like(t))
    assert w[0].tolist() == [0.0, 1.0, 0.0, 0.0]  # t = 0 reproduces the sample itself
    # at t = 1/2 with a = -0.75: far weight a/8 - 5a/4... = -0.09375, near 0.59375
    torch.testing.assert_close(w[50], torch.tensor([-0.09375, 0.59375, 0.59375, -0.09375],
                                                    dtype=torch.float64))


@pytest.mark.parametrize("kwargs, match", [
    (dict(size=-3), "-3"),
    (dict(size=(4, 0)), r"\(4, 0\)"),
    (dict(scale_factor=0.0), "0.0"),
    (dict(scale_factor=(2, 2, 2)), "3 values but the input has 2"),
    (dict(size=4, scale_factor=2), "exactly one"),
    (dict(), "exactly one"),
    (dict(size=4, mode="cubic"), "'cubic'"),
    (dict(size=4, mode="linear"), "needs a 3-D input"),
    (dict(size=4, mode="nearest", align_corners=True), "align_corners"),
    (dict(size=4, mode="bilinear", antialias=True), "antialias"),
    (dict(scale_factor=0.1), "empty output"),
])
def test_interpolate_bad_arguments(kwargs, match):
    x = torch.zeros(1, 1, 5, 5)
    with pytest.raises(ValueError, match=match):
        U.interpolate(x, **kwargs)
    with pytest.raises(ValueError, match="3-D, 4-D or 5-D"):
        U.interpolate(torch.zeros(5, 5), size=3)


# --------------------------------------------------------------------------------------------
# PixelShuffle / PixelUnshuffle
# --------------------------------------------------------------------------------------------
@SETTINGS
@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2), c=st.integers(1, 3),
       r=st.integers(1, 4), h=st.integers(1, 4), w=st.integers(1, 4),
       dtype=st.sampled_from([torch.float32, torch.float64]))
def test_pixel_shuffle_matches_torch(lead, c, r, h, w, dtype):
    x = torch.randn(*lead, c * r * r, h, w, dtype=dtype)
    check_same(lambda t: U.pixel_shuffle(t, r), lambda t: F.pixel_shuffle(t, r), x)
    y = torch.randn(*lead, c, h * r, w * r, dtype=dtype)
    check_same(lambda t: U.pixel_unshuffle(t, r), lambda t: F.pixel_unshuffle(t, r), y)
    assert torch.equal(U.pixel_unshuffle(U.pixel_shuffle(x, r), r), x)


def test_pixel_shuffle_hand_layout():
    # 4 channels, r = 2, one pixel: channel i*2 + j lands at (i, j) of the 2x2 block.
    x = torch.arange(4.0).view(1, 4, 1, 1)
    assert U.pixel_shuffle(x, 2)[0, 0].tolist() == [[0.0, 1.0], [2.0, 3.0]]


def test_pixel_shuffle_bad_arguments():
    with pytest.raises(ValueError, match=r"channels \(5\) must be divisible by upscale_factor\^2 \(2\^2 = 4\)"):
        U.pixel_shuffle(torch.zeros(1, 5, 2, 2), 2)
    with pytest.raises(ValueError, match=r"height \(5\) and width \(4\) must be divisible by downscale_factor \(2\)"):
        U.pixel_unshuffle(torch.zeros(1, 1, 5, 4), 2)
    with pytest.raises(ValueError, match="-2"):
        U.pixel_shuffle(torch.zeros(1, 4, 2, 2), -2)
    with pytest.raises(ValueError, match="got shape"):
        U.pixel_shuffle(torch.zeros(4, 2), 2)


# --------------------------------------------------------------------------------------------
# Transposed convolution
# --------------------------------------------------------------------------------------------
@st.composite
def convt_case(draw):
    dims = draw(st.sampled_from([1, 2]))
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out_g = draw(st.integers(1, 3))
    ints = lambda lo, hi: draw(st.lists(st.integers(lo, hi), min_size=dims, max_size=dims))  # noqa: E731
    k, s, d, p = ints(1, 4), ints(1, 3), ints(1, 2), ints(0, 3)
    o = [draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d)]
    spatial = ints(1, 6)
    # the output must be non-empty
    if any((n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1 <= 0
           for n, si, pi, di, ki, oi in zip(spatial, s, p, d, k, o)):
        p = [0] * dims
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn([2, c_in] + spatial, generator=g, dtype=torch.float64)
    w = torch.randn([c_in, c_out_g] + k, generator=g, dtype=torch.float64)
    b = torch.randn(c_out_g * groups, generator=g, dtype=torch.float64)
    args = dict(stride=s, padding=p, output_padding=o, groups=groups, dilation=d)
    return dims, x, w, b, args


@SETTINGS
@given(convt_case(), st.booleans())
def test_conv_transpose_matches_torch(case, with_bias):
    dims, x, w, b, args = case
    ours = U.conv_transpose1d if dims == 1 else U.conv_transpose2d
    ref = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
    if with_bias:
        check_same(lambda *t: ours(*t, **args), lambda *t: ref(*t, **args), x, w, b)
    else:
        check_same(lambda *t: ours(*t, **args), lambda *t: ref(*t, **args), x, w)


def test_conv_transpose_float32_unbatched_and_scatter_definition():
    from groundup.nn.conv_transpose import conv_transpose_scatter_ref

    x = torch.randn(3, 5, 4)
    w = torch.randn(3, 2, 3, 3)
    check_same(lambda a, b: U.conv_transpose2d(a, b, stride=2, padding=1, output_padding=1),
               lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1, output_padding=1), x, w)
    # the definition (each input sample adds a scaled kernel at i*s - p) agrees with the
    # zero-insertion route
    x1, w1 = torch.randn(3, 7, dtype=torch.float64), torch.randn(3, 2, 4, dtype=torch.float64)
    torch.testing.assert_close(conv_transpose_scatter_ref(x1, w1, 2, 1),
                               U.conv_transpose1d(x1, w1, stride=2, padding=1), **TOL)


def test_conv_transpose_hand_values():
    # x = [1, 2], kernel [1, 1, 1], stride 2: zero-insert -> [1, 0, 2], pad 2 -> [0,0,1,0,2,0,0],
    # convolve with [1,1,1] -> [1, 1, 3, 2, 2]. The middle output sums two inputs: with k = 3
    # not divisible by s = 2 outputs see 1, 1, 2, 1, 1 inputs - the 1-D checkerboard.
    x = torch.tensor([[[1.0, 2.0]]])
    w = torch.ones(1, 1, 3)
    assert U.conv_transpose1d(x, w, stride=2).flatten().tolist() == [1.0, 1.0, 3.0, 2.0, 2.0]


@pytest.mark.parametrize("kwargs, match", [
    (dict(stride=0), r"stride must be >= 1, got \[0, 0\]"),
    (dict(padding=-1), r"padding must be >= 0, got \[-1, -1\]"),
    (dict(stride=2, output_padding=2), "output_padding must be smaller"),
    (dict(groups=2), r"channels \(3\) must be divisible by groups \(2\)"),
    (dict(padding=9), "not positive"),
    (dict(stride=(1, 2, 3)), "2 ints"),
])
def test_conv_transpose_bad_arguments(kwargs, match):
    x, w = torch.zeros(1, 3, 4, 4), torch.zeros(3, 2, 3, 3)
    with pytest.raises(ValueError, match=match):
        U.conv_transpose2d(x, w, **kwargs)
    with pytest.raises(ValueError, match="input has 4 channels but weight expects 3"):
        U.conv_transpose2d(torch.zeros(1, 4, 4, 4), w)


# --------------------------------------------------------------------------------------------
# Max-unpooling
# --------------------------------------------------------------------------------------------
@SETTINGS
@given(dims=st.sampled_from([1, 2]), k=st.integers(1, 3), s_extra=st.integers(0, 2),
       p=st.integers(0, 1), n=st.integers(3, 9), seed=st.integers(0, 2**16),
       give_size=st.booleans())
def test_max_unpool_matches_torch(dims, k, s_extra, p, n, seed, give_size):
    s = k + s_extra if k + s_extra > 0 else 1
    p = min(p, k // 2)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn([2, 3] + [n, n + 1][:dims], generator=g, dtype=torch.float64)
    pool = F.max_pool1d if dims == 1 else F.max_pool2d
    y, idx = pool(x, k, s, p, return_indices=True)
    default = [(m - 1) * s - 2 * p + k for m in y.shape[2:]]
    size = list(x.shape[2:]) if give_size and all(
        d - s < m < d + s for d, m in zip(default, x.shape[2:])) else None
    if size is None and int(idx.max()) >= torch.tensor(default).prod():
        return  # torch cannot unpool this one without output_size either
    ours = U.max_unpool1d if dims == 1 else U.max_unpool2d
    ref = F.max_unpool1d if dims == 1 else F.max_unpool2d
    check_same(lambda t: ours(t, idx, k, s, p, size), lambda t: ref(t, idx, k, s, p, size), y)


def test_max_unpool_hand_values_and_errors():
    # [[1, 5], [3, 2]] pooled 2x2 -> 5 at flat index 1; unpooling puts 5 back there, zeros elsewhere
    x = torch.tensor([[[[1.0, 5.0], [3.0, 2.0]]]])
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.item() == 1
    assert U.max_unpool2d(y, idx, 2).flatten().tolist() == [0.0, 5.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="index 7 is outside the output plane"):
        U.max_unpool2d(y, torch.tensor([[[[7]]]]), 2)
    with pytest.raises(ValueError, match="dim 0 must be between 0 and 4"):
        U.max_unpool2d(y, idx, 2, output_size=(9, 2))
    with pytest.raises(ValueError, match="indices shape"):
        U.max_unpool2d(y, idx.view(1, 1, 1), 2)


# --------------------------------------------------------------------------------------------
# Sub-pixel convolution and ICNR
# --------------------------------------------------------------------------------------------
def test_icnr_gives_constant_output_on_constant_input():
    torch.manual_seed(0)
    x = torch.full((1, 3, 8, 8), 0.7)
    # 'replicate' padding so the convolution itself maps a constant to a constant
    icnr = SubPixelConv2d(3, 2, 3, icnr=True, padding_mode="replicate")
    plain = SubPixelConv2d(3, 2, 3, icnr=False, padding_mode="replicate")
    y_icnr, y_plain = icnr(x), plain(x)
    assert y_icnr.shape == (1, 2, 24, 24)
    per_channel_spread = (y_icnr.amax((2, 3)) - y_icnr.amin((2, 3))).max().item()
    assert per_channel_spread < 1e-6
    # default init: the 9 sub-pixel kernels differ, so a constant input comes out as a
    # period-3 pattern (the checkerboard)
    assert (y_plain.amax((2, 3)) - y_plain.amin((2, 3))).min().item() > 1e-3


def test_icnr_layer_is_conv_then_nearest_upsample_at_init():
    torch.manual_seed(1)
    layer = SubPixelConv2d(2, 3, 2)
    x = torch.randn(2, 2, 5, 6)
    sub_w = layer.conv.weight[::4]                       # one kernel per output channel
    sub_b = layer.conv.bias[::4]
    ref = F.interpolate(F.conv2d(x, sub_w, sub_b, padding=1), scale_factor=2, mode="nearest")
    torch.testing.assert_close(layer(x), ref, **TOL)


def test_subpixel_bad_arguments():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        SubPixelConv2d(1, 1, 2, kernel_size=4)
    with pytest.raises(ValueError, match="upscale_factor must be a positive integer, got 0"):
        SubPixelConv2d(1, 1, 0)
    with pytest.raises(ValueError, match=r"\(5, 1, 3, 3\)"):
        icnr_(torch.zeros(5, 1, 3, 3), 2)


def test_interpolation_is_a_linear_map_two_routes():
    # Route 1: interpolate (gather + weighted sum). Route 2: build the dense (out x in) matrix
    # of every axis from the same (idx, w) rule and compute A_H X A_W^T. They must agree, and
    # each row of every matrix must sum to 1 (a constant image stays constant).
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    for mode, kw in [("bilinear", dict(align_corners=False)), ("bicubic", dict(align_corners=True)),
                     ("nearest-exact", {}), ("area", {})]:
        mats = []
        for n_in, n_out in ((7, 11), (9, 4)):
            idx, w = U.axis_weights(n_in, n_out, None, mode, kw.get("align_corners", False),
                                    torch.float64)
            w = torch.ones(idx.shape, dtype=torch.float64) if w is None else w
            A_ = torch.zeros(n_out, n_in, dtype=torch.float64)
            A_.index_put_((torch.arange(n_out)[:, None].expand_as(idx), idx), w, accumulate=True)
            torch.testing.assert_close(A_.sum(1), torch.ones(n_out, dtype=torch.float64))
            mats.append(A_)
        dense = mats[0] @ x @ mats[1].T
        torch.testing.assert_close(U.interpolate(x, size=(11, 4), mode=mode, **kw), dense)
