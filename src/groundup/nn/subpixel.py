"""The learned sub-pixel convolution layer and its ICNR initialisation.

Notation: N batch, C_in/C_out channels, (H, W) low-resolution size, r the upscale factor.

Sub-pixel convolution (Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution
Using an Efficient Sub-Pixel Convolutional Neural Network", eq. 4): an ordinary convolution in
low resolution to C_out r^2 channels, then PixelShuffle to (C_out, H r, W r). Each of the r^2
sub-pixel positions of an output block gets its own kernel.

ICNR (Aitken et al. 2017, "Checkerboard artifact free sub-pixel convolution"): initialise the
C_out r^2 kernels as r^2 copies of C_out kernels, so that at initialisation all sub-pixels of a
block are equal and the layer is exactly "convolve, then nearest-neighbour upsample" - no
checkerboard. With PixelShuffle's channel order (channel c r^2 + i r + j goes to sub-pixel
(i, j) of output channel c), the copies are ``repeat_interleave(r^2)`` along dim 0.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .upsample import pixel_shuffle

__all__ = ["icnr_", "SubPixelConv2d"]


def icnr_(weight: Tensor, upscale_factor: int, init=nn.init.kaiming_normal_) -> Tensor:
    """Fill ``weight`` (C_out r^2, C_in, kH, kW) in place with ICNR: ``init`` on a
    (C_out, C_in, kH, kW) sub-kernel, each output kernel repeated r^2 times in a row."""
    r = upscale_factor
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise ValueError(f"upscale_factor must be a positive integer, got {r!r}")
    if weight.dim() != 4 or weight.shape[0] % (r * r):
        raise ValueError(f"ICNR needs a (C_out * r^2, C_in, kH, kW) weight with r = {r}, got "
                         f"shape {tuple(weight.shape)}")
    sub = torch.empty(weight.shape[0] // (r * r), *weight.shape[1:], dtype=weight.dtype)
    init(sub)
    with torch.no_grad():
        weight.copy_(sub.repeat_interleave(r * r, dim=0))
    return weight


class SubPixelConv2d(nn.Module):
    """conv2d(C_in -> C_out r^2, k x k, 'same' padding) then PixelShuffle(r):
    (N, C_in, H, W) -> (N, C_out, H r, W r). ``icnr=True`` initialises it checkerboard-free;
    ``padding_mode`` is passed to the convolution ('zeros', 'reflect', 'replicate')."""

    def __init__(self, in_channels: int, out_channels: int, upscale_factor: int,
                 kernel_size: int = 3, icnr: bool = True, padding_mode: str = "zeros"):
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("upscale_factor", upscale_factor)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (for 'same' padding), got {kernel_size}")
        r = upscale_factor
        self.upscale_factor = r
        self.conv = nn.Conv2d(in_channels, out_channels * r * r, kernel_size,
                              padding=kernel_size // 2, padding_mode=padding_mode)
        if icnr:
            icnr_(self.conv.weight, r)
            with torch.no_grad():  # equal biases within a block, too
                b = self.conv.bias.view(out_channels, r * r)[:, :1]
                self.conv.bias.copy_(b.expand(-1, r * r).reshape(-1))

    def forward(self, x: Tensor) -> Tensor:
        return pixel_shuffle(self.conv(x), self.upscale_factor)  # (N, C_out, H r, W r)
