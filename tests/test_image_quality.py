"""PSNR and SSIM against hand values and scikit-image (pinned values, and live when installed)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from groundup.vision.image_quality import gaussian_window, psnr, ssim


def test_psnr_hand_values():
    # MSE of a constant 0.1 error is 0.01 -> 10 log10(1 / 0.01) = 20 dB; with L = 255 and an
    # error of 1 grey level: 10 log10(255^2) = 48.1308...
    x = torch.zeros(4, 5)
    assert psnr(x, x + 0.1) == pytest.approx(20.0, abs=1e-6)
    assert psnr(x, x + 1, data_range=255) == pytest.approx(20 * math.log10(255), abs=1e-9)
    assert psnr(x, x) == math.inf


def test_ssim_hand_values():
    # Constant images a = 0.5 and b = 0.6: no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    # = (0.6 + 1e-4) / (0.61 + 1e-4) = 0.98360924...
    d = torch.float64
    x, y = torch.full((12, 13), 0.5, dtype=d), torch.full((12, 13), 0.6, dtype=d)
    assert ssim(x, y) == pytest.approx((0.6 + 1e-4) / (0.61 + 1e-4), abs=1e-12)
    z = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert ssim(z, z) == pytest.approx(1.0, abs=1e-12)
    g = gaussian_window()
    assert g.numel() == 11 and g.sum().item() == pytest.approx(1.0)
    assert g[5] == g.max() and torch.equal(g, g.flip(0))


# scikit-image 0.26.0, structural_similarity(a, b, data_range=1.0, gaussian_weights=True,
# sigma=1.5, use_sample_covariance=False, channel_axis=0 for colour) and
# peak_signal_noise_ratio(a, b, data_range=1.0) on
#   r = np.random.default_rng(0); for shape in [(32, 40), (11, 11), (3, 20, 25)]:
#       a = r.random(shape); b = np.clip(a + 0.1 * r.standard_normal(a.shape), 0, 1)
PINNED = [((32, 40), 0.9431256140668294, 20.34003081137733),
          ((11, 11), 0.9392324848152009, 20.856932682841656),
          ((3, 20, 25), 0.9464791483990703, 20.536968972988202)]


def _pairs():
    r = np.random.default_rng(0)
    for shape, s_ref, p_ref in PINNED:
        a = r.random(shape)
        b = np.clip(a + 0.1 * r.standard_normal(a.shape), 0, 1)
        yield a, b, s_ref, p_ref


def test_matches_pinned_scikit_image_values():
    for a, b, s_ref, p_ref in _pairs():
        assert ssim(a, b) == pytest.approx(s_ref, abs=1e-12)
        assert psnr(a, b) == pytest.approx(p_ref, abs=1e-10)


def test_matches_scikit_image_live():
    metrics = pytest.importorskip("skimage.metrics")
    r = np.random.default_rng(1)
    a = r.random((3, 40, 37))
    b = np.clip(a + 0.05 * r.standard_normal(a.shape), 0, 1)
    ref = metrics.structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, channel_axis=0)
    assert ssim(a, b) == pytest.approx(ref, abs=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"\(4, 5\) and \(5, 4\)"):
        psnr(torch.zeros(4, 5), torch.zeros(5, 4))
    with pytest.raises(ValueError, match="10 x 10 is smaller than the 11 x 11"):
        ssim(torch.zeros(10, 10), torch.zeros(10, 10))
    with pytest.raises(ValueError, match="-1"):
        ssim(torch.zeros(12, 12), torch.zeros(12, 12), data_range=-1)
