"""The pieces of the upsampling lab: the bundled photo, the bilinear transposed convolution,
the checkerboard census and a few steps of the sub-pixel SR network."""
from __future__ import annotations

import torch

from groundup.lab import upsampling as lab
from groundup.nn import upsample as U


def test_bundled_photo():
    img = lab.load_photo()
    assert img.shape == (1, 3, 256, 384) and img.dtype == torch.float32
    assert 0 <= img.min() and img.max() <= 1 and img.std() > 0.05


def test_bilinear_transposed_conv_equals_bilinear_interpolation_inside():
    # FCN's kernel t(i) = 1 - |i - 3.5| / 4 at output o from input j has weight
    # 1 - |(o - 1.5)/4 - j|, exactly bilinear with align_corners=False (source (o + 1/2)/4 - 1/2).
    # They differ only at the border, where the convolution sees zero padding.
    torch.manual_seed(0)
    x = torch.rand(1, 3, 10, 12, dtype=torch.float64)
    w = lab.bilinear_kernel(4).double().expand(3, 1, 8, 8).contiguous()
    a = U.conv_transpose2d(x, w, stride=4, padding=2, groups=3)
    b = U.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)
    assert a.shape == b.shape == (1, 3, 40, 48)
    torch.testing.assert_close(a[..., 2:-2, 2:-2], b[..., 2:-2, 2:-2])
    assert (a[..., 0, :] - b[..., 0, :]).abs().max() > 0.01


def test_checkerboard_census():
    rows, _ = lab.checkerboard(seed=0)
    amp = {r[0]: float(r[3]) for r in rows}
    # k = 3, s = 2 on ones: outputs alternately see 1 and 2 inputs per axis, so a 2x2 period
    # holds 1, 2, 2, 4 (mean 9/4): amplitude (4 - 1) / (9/4) = 4/3. k = 5: 4, 6, 6, 9 -> 5/6.25
    assert abs(amp["transposed conv k=3, s=2"] - 4 / 3) < 1e-3
    assert abs(amp["transposed conv k=5, s=2"] - 0.8) < 1e-3
    assert amp["transposed conv k=4, s=2"] == 0.0
    assert amp["sub-pixel conv r=2, ICNR init"] == 0.0
    assert amp["sub-pixel conv r=2, default init"] > 1e-3


def test_sr_network_trains_a_few_steps():
    torch.set_num_threads(1)
    hr = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    lr = U.interpolate(hr, scale_factor=0.25, mode="area")
    net, losses, history, secs = lab.train_sr(lr, hr, steps=4, seed=0, patch=8, batch=2,
                                              evaluate=lambda n: 1.0, n_evals=2)
    assert len(losses) == 4 and all(torch.isfinite(torch.tensor(losses)))
    assert [s for s, _ in history] == [0, 2, 4]
    assert net(lr).shape == hr.shape
