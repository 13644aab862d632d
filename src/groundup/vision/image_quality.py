"""Full-reference image quality: PSNR and SSIM, from their definitions.

Notation: x the reference, y the distorted image, both (H, W) or (C, H, W) (or with a leading
batch, (N, C, H, W)), values in [0, L] with L = ``data_range``.

PSNR = 10 log10(L^2 / MSE(x, y)), in dB; +inf for identical images.

SSIM (Wang, Bovik, Sheikh & Simoncelli 2004, "Image Quality Assessment: From Error Visibility
to Structural Similarity", eq. 13 with the Gaussian window of section III-C): with local
statistics weighted by an 11 x 11 Gaussian window w of standard deviation 1.5,

    mu_x = w * x,  sigma_x^2 = w * x^2 - mu_x^2,  sigma_xy = w * (x y) - mu_x mu_y,
    SSIM(x, y) = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))

with C1 = (0.01 L)^2, C2 = (0.03 L)^2, averaged over the positions where the window fits inside
the image (the authors' MATLAB ``filter2(..., 'valid')``), and over channels for colour.
This equals ``skimage.metrics.structural_similarity(x, y, data_range=L, gaussian_weights=True,
sigma=1.5, use_sample_covariance=False)`` (tests/test_image_quality.py).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["psnr", "ssim", "gaussian_window"]


def _as_tensor(a, name: str) -> Tensor:
    t = a if isinstance(a, Tensor) else torch.as_tensor(a)
    if not t.is_floating_point():
        t = t.to(torch.float64)
    return t.to(torch.float64)


def _check_pair(x, y) -> tuple[Tensor, Tensor]:
    x, y = _as_tensor(x, "x"), _as_tensor(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"images must have the same shape, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}")
    if x.dim() < 2:
        raise ValueError(f"an image needs at least 2 dimensions (H, W), got shape "
                         f"{tuple(x.shape)}")
    return x, y


def psnr(x, y, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB over all pixels (and channels) of ``x`` and ``y``."""
    if data_range <= 0:
        raise ValueError(f"data_range must be > 0, got {data_range}")
    x, y = _check_pair(x, y)
    mse = torch.mean((x - y) ** 2).item()
    return math.inf if mse == 0 else 10 * math.log10(data_range ** 2 / mse)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> Tensor:
    """The normalised 1-D Gaussian g of length ``size``; the 2-D window is g g^T."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"window size must be odd and >= 1, got {size}")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-r * r / (2 * sigma * sigma))
    return g / g.sum()


def _filter(img: Tensor, g: Tensor) -> Tensor:
    """Separable 'valid' filtering of (M, 1, H, W) by g g^T: (M, 1, H - k + 1, W - k + 1)."""
    k = g.numel()
    out = F.conv2d(img, g.view(1, 1, k, 1))     # along H
    return F.conv2d(out, g.view(1, 1, 1, k))    # along W


def ssim(x, y, data_range: float = 1.0, win_size: int = 11, sigma: float = 1.5,
         K1: float = 0.01, K2: float = 0.03, return_map: bool = False):
    """Mean SSIM of ``y`` against ``x`` (Wang et al. 2004); the per-channel maps are averaged.

    Shapes (H, W), (C, H, W) or (N, C, H, W); with N > 1 the mean is over all images.
    """
    if data_range <= 0:
        raise ValueError(f"data_range must be > 0, got {data_range}")
    x, y = _check_pair(x, y)
    h, w = x.shape[-2:]
    if h < win_size or w < win_size:
        raise ValueError(f"image of {h} x {w} is smaller than the {win_size} x {win_size} "
                         "SSIM window")
    g = gaussian_window(win_size, sigma)
    xs = x.reshape(-1, 1, h, w)                  # every channel of every image: (M, 1, H, W)
    ys = y.reshape(-1, 1, h, w)
    mu_x, mu_y = _filter(xs, g), _filter(ys, g)
    sxx = _filter(xs * xs, g) - mu_x * mu_x
    syy = _filter(ys * ys, g) - mu_y * mu_y
    sxy = _filter(xs * ys, g) - mu_x * mu_y
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    smap = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / (
        (mu_x * mu_x + mu_y * mu_y + c1) * (sxx + syy + c2))
    value = smap.mean().item()
    if return_map:
        return value, smap.reshape(*x.shape[:-2], h - win_size + 1, w - win_size + 1)
    return value
