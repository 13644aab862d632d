"""Lab: upsampling in CNNs - interpolation, transposed convolution, unpooling, sub-pixel.

A real photograph (Chelsea the cat, CC0, bundled from scikit-image) is reduced 4x by area
averaging and brought back 4x by every method of :mod:`groundup.nn.upsample`, scored by PSNR and
SSIM (:mod:`groundup.vision.image_quality`). Then: the checkerboard of a transposed convolution
whose kernel is not divisible by its stride, on a constant input, beside a sub-pixel layer with
and without ICNR; nearest against nearest-exact; and a tiny sub-pixel super-resolution network
(ESPCN-style, residual over bicubic) trained on the left half of the photo and tested on the
right half, against bicubic.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..utils import torch_threads
from .base import Plot, Result, Table

NAME = "upsampling"
TITLE = "Upsampling: interpolation, transposed convolution, unpooling, sub-pixel convolution"
CLAIM = ("Smooth interpolation (bilinear, bicubic) restores a downsampled photo better than "
         "nearest neighbour; a transposed convolution whose kernel size is not divisible by its "
         "stride paints a checkerboard even on a constant input, which ICNR removes from "
         "sub-pixel convolution; and a small learned sub-pixel network beats bicubic.")
CRITERION = ("Held iff bilinear and bicubic both reach a higher PSNR than nearest on the photo; the "
             "constant-input amplitude is above 0.1 for the k=3/s=2 transposed convolution and below "
             "1e-6 for k=4/s=2, above 1e-3 for sub-pixel convolution with the default init and below "
             "1e-6 with ICNR; and the sub-pixel network's PSNR on the unseen half beats bicubic's. "
             "Otherwise did not hold.")

R = 4  # the scale factor throughout


def load_photo():
    """(1, 3, 256, 384) float32 in [0, 1]: the bundled CC0 photograph."""
    import matplotlib.image as mpimg
    import torch

    from ..data.locate import bundled_path
    from ..errors import DataError

    path = bundled_path("images", "chelsea.png")
    try:
        img = mpimg.imread(path)  # PNG -> float32 in [0, 1], (H, W, 3)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read the bundled photograph {path}: {e}") from e
    if img.ndim != 3 or img.shape[2] < 3:
        raise DataError(f"{path}: expected an RGB image, got shape {img.shape}")
    return torch.from_numpy(np.ascontiguousarray(img[..., :3])).permute(2, 0, 1)[None].float()


def bilinear_kernel(r: int):
    """The (2r x 2r) kernel that makes conv_transpose2d(stride r, padding r/2) a bilinear
    upsampler (the FCN initialisation, Long et al. 2015): outer product of a triangle."""
    import torch

    k = 2 * r
    c = (k - 1) / 2
    t = 1 - (torch.arange(k, dtype=torch.float32) - c).abs() / r
    return torch.outer(t, t)


def upsample_all(lr, hr_size):
    """Every non-learned way back up from ``lr`` (1, 3, h, w): name -> (1, 3, H, W)."""
    import torch

    from ..nn import upsample as U

    out = {}
    for name, kw in [("nearest", dict(mode="nearest")),
                     ("nearest-exact", dict(mode="nearest-exact")),
                     ("bilinear (align_corners=False)", dict(mode="bilinear", align_corners=False)),
                     ("bilinear (align_corners=True)", dict(mode="bilinear", align_corners=True)),
                     ("bicubic (a=-0.75)", dict(mode="bicubic", align_corners=False))]:
        out[name] = U.interpolate(lr, size=hr_size, **kw)
    # transposed convolution with the fixed bilinear kernel, one channel at a time (groups = 3)
    w = bilinear_kernel(R).expand(3, 1, 2 * R, 2 * R).contiguous()
    out["transposed conv (bilinear kernel)"] = U.conv_transpose2d(lr, w, stride=R,
                                                                  padding=R // 2, groups=3)
    # PixelShuffle of replicated channels is nearest neighbour: r^2 copies of each pixel
    out["pixel shuffle (channels repeated)"] = U.pixel_shuffle(
        lr.repeat_interleave(R * R, dim=1), R)
    return {k: v.clamp(0, 1) for k, v in out.items()}  # bicubic overshoots [0, 1]


def checkerboard(seed: int) -> tuple[list[list], dict]:
    """Constant input through stride-2 upsamplers; amplitude = (max - min) / mean, interior."""
    import torch

    from ..nn import upsample as U
    from ..nn.subpixel import SubPixelConv2d

    x = torch.ones(1, 1, 16, 16)
    maps, rows = {}, []
    for k in (3, 4, 5, 6):
        y = U.conv_transpose2d(x, torch.ones(1, 1, k, k), stride=2)[0, 0, k:k + 20, k:k + 20]
        maps[f"transposed conv k={k}, s=2"] = y
    torch.manual_seed(seed)
    for icnr in (False, True):
        layer = SubPixelConv2d(1, 1, 2, icnr=icnr, padding_mode="replicate")
        with torch.no_grad():
            y = layer(x)[0, 0, 4:24, 4:24]  # whole periods, so the mean is fair
        maps[f"sub-pixel conv r=2, {'ICNR' if icnr else 'default'} init"] = y
    for name, y in maps.items():
        amp = ((y.max() - y.min()) / y.mean().abs()).item()
        rows.append([name, f"{y.min().item():.3f}", f"{y.max().item():.3f}", f"{amp:.3f}"])
    return rows, maps


def make_sr_net(channels: int = 32):
    """ESPCN (Shi et al. 2016) in miniature: conv 5x5 -> tanh -> conv 3x3 -> tanh ->
    sub-pixel conv (ICNR) x4, added to the bicubic upsampling of the input."""
    import torch
    from torch import nn

    from ..nn import upsample as U
    from ..nn.subpixel import SubPixelConv2d

    class SRNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(3, channels, 5, padding=2), nn.Tanh(),
                nn.Conv2d(channels, channels, 3, padding=1), nn.Tanh(),
                SubPixelConv2d(channels, 3, R, kernel_size=3, icnr=True))
            with torch.no_grad():  # start at bicubic: a small residual
                self.body[-1].conv.weight.mul_(0.1)
                self.body[-1].conv.bias.zero_()

        def forward(self, lr, base=None):
            if base is None:  # training passes crops of one precomputed bicubic image
                base = U.interpolate(lr, scale_factor=R, mode="bicubic", align_corners=False)
            return base + self.body(lr)

    return SRNet()


def train_sr(lr_train, hr_train, steps: int, seed: int, patch: int = 16, batch: int = 16,
             evaluate=None, n_evals: int = 10):
    """Adam on random LR/HR patch pairs; ``evaluate(net)`` is called n_evals + 1 times and its
    values returned as [(step, value), ...] beside the per-step losses."""
    import torch

    from ..nn import upsample as U

    torch.manual_seed(seed)
    net = make_sr_net()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(seed)
    _, _, h, w = lr_train.shape
    bic = U.interpolate(lr_train, scale_factor=R, mode="bicubic", align_corners=False)
    losses, history = [], []
    every = max(1, steps // n_evals)
    eval_seconds = 0.0
    t0 = time.perf_counter()
    for step in range(steps + 1):
        if evaluate is not None and step % every == 0:
            te = time.perf_counter()
            with torch.no_grad():
                history.append((step, evaluate(net)))
            eval_seconds += time.perf_counter() - te
        if step == steps:
            break
        ys = torch.randint(0, h - patch + 1, (batch,), generator=g).tolist()
        xs = torch.randint(0, w - patch + 1, (batch,), generator=g).tolist()
        lr_b = torch.cat([lr_train[..., y:y + patch, x:x + patch] for y, x in zip(ys, xs)])
        hr_b, bic_b = (torch.cat([img[..., R * y:R * (y + patch), R * x:R * (x + patch)]
                                  for y, x in zip(ys, xs)]) for img in (hr_train, bic))
        if torch.rand((), generator=g) < 0.5:  # flips: cheap augmentation
            lr_b, hr_b, bic_b = lr_b.flip(-1), hr_b.flip(-1), bic_b.flip(-1)
        loss = torch.mean((net(lr_b, bic_b) - hr_b) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return net, losses, history, time.perf_counter() - t0 - eval_seconds


def run(out: Path, *, full: bool, seed: int) -> Result:
    with torch_threads(1):  # small convolutions: a second thread mostly adds contention
        return _run(out, full, seed)


def _run(out: Path, full: bool, seed: int) -> Result:
    import torch

    from ..nn import upsample as U
    from ..vision.image_quality import psnr, ssim
    from .plotting import plt, save

    hr = load_photo()                                              # (1, 3, 256, 384)
    H, W = hr.shape[-2:]
    lr = U.interpolate(hr, scale_factor=1 / R, mode="area")        # (1, 3, 64, 96)

    # 1. every method, whole photo ---------------------------------------------------------
    ups = upsample_all(lr, (H, W))
    pooled, idx = torch.nn.functional.max_pool2d(hr, R, return_indices=True)
    ups["max-unpool (from max-pool x4 indices)"] = U.max_unpool2d(pooled, idx, R)
    scores = {k: (psnr(hr, v), ssim(hr[0], v[0])) for k, v in ups.items()}
    table1 = Table(f"The photo ({W}x{H}) reduced x{R} by area averaging and brought back x{R}: "
                   "PSNR (dB) and SSIM against the original",
                   ["method", "PSNR dB", "SSIM"],
                   [[k, f"{p:.2f}", f"{s:.4f}"] for k, (p, s) in scores.items()])

    # 2. nearest vs nearest-exact when downsampling ----------------------------------------
    area = lr
    near = U.interpolate(hr, scale_factor=1 / R, mode="nearest")
    exact = U.interpolate(hr, scale_factor=1 / R, mode="nearest-exact")
    offs_near = U.axis_weights(W, W // R, 1 / R, "nearest", False, torch.float32)[0][:3, 0]
    offs_exact = U.axis_weights(W, W // R, 1 / R, "nearest-exact", False, torch.float32)[0][:3, 0]
    table2 = Table(f"Downsampling x{R} by picking one pixel per {R}x{R} block: which pixel, and "
                   "how close to the block average (area) the result is",
                   ["mode", "source columns of outputs 0, 1, 2", "PSNR vs area (dB)"],
                   [["nearest (torch, OpenCV)", str(offs_near.tolist()), f"{psnr(area, near):.2f}"],
                    ["nearest-exact (PIL, scikit-image)", str(offs_exact.tolist()),
                     f"{psnr(area, exact):.2f}"]])

    # 3. checkerboard on a constant input ---------------------------------------------------
    cb_rows, cb_maps = checkerboard(seed)
    table3 = Table("A constant input (all ones) upsampled x2: interior min, max and "
                   "checkerboard amplitude (max - min) / mean", ["layer", "min", "max", "amplitude"],
                   cb_rows)

    # 4. sub-pixel SR network vs bicubic, train left half / test right half ---------------
    steps = 1500 if full else 300
    half = W // 2
    lr_tr, hr_tr = lr[..., : half // R], hr[..., :half]
    lr_te, hr_te = lr[..., half // R:], hr[..., half:]
    net, losses, history, secs = train_sr(
        lr_tr, hr_tr, steps, seed, evaluate=lambda n: psnr(hr_te, n(lr_te).clamp(0, 1)))
    with torch.no_grad():
        sr = net(lr_te).clamp(0, 1)
    bic = U.interpolate(lr_te, scale_factor=R, mode="bicubic", align_corners=False).clamp(0, 1)
    p_bic, s_bic = psnr(hr_te, bic), ssim(hr_te[0], bic[0])
    p_sr, s_sr = psnr(hr_te, sr), ssim(hr_te[0], sr[0])
    table4 = Table(f"x{R} super-resolution of the right half (never seen in training): "
                   f"bicubic vs the sub-pixel network after {steps} Adam steps ({secs:.1f} s)",
                   ["method", "PSNR dB", "SSIM"],
                   [["bicubic", f"{p_bic:.2f}", f"{s_bic:.4f}"],
                    ["sub-pixel CNN (ICNR, residual over bicubic)", f"{p_sr:.2f}", f"{s_sr:.4f}"]])

    # plots --------------------------------------------------------------------------------
    plots = []
    crop = (slice(40, 168), slice(80, 208))                      # the left eye, 128 x 128
    show = {"original": hr, f"area x1/{R}": U.interpolate(lr, size=(H, W), mode="nearest"),
            **ups}
    cols = 5
    rows_n = -(-len(show) // cols)
    fig, axes = plt().subplots(rows_n, cols, figsize=(3.2 * cols, 3.4 * rows_n))
    for ax, (name, img) in zip(axes.flat, show.items()):
        ax.imshow(img[0, :, crop[0], crop[1]].permute(1, 2, 0).clamp(0, 1).numpy())
        sc = scores.get(name)
        ax.set_title(name + (f"\n{sc[0]:.2f} dB, SSIM {sc[1]:.3f}" if sc else ""), fontsize=8)
        ax.axis("off")
    for ax in list(axes.flat)[len(show):]:
        ax.axis("off")
    fig.suptitle(f"x{R} down (area) and back up: a 128x128 crop")
    plots.append(Plot(save(fig, out / "methods.jpg"),
                      f"A 128x128 crop of the photo (the left eye): the original, the x1/{R} area image "
                      f"shown blown up, and every way back up x{R}, each titled with its PSNR and SSIM "
                      "over the whole photo. Look for: blocky nearest and pixel-shuffle crops, smoother "
                      "bilinear and bicubic ones, and max-unpooling's black grid (zeros wherever no "
                      "maximum was put back)."))

    fig, axes = plt().subplots(1, len(cb_maps), figsize=(2.6 * len(cb_maps), 2.9))
    for ax, (name, y) in zip(axes, cb_maps.items()):
        rel = (y - y.mean()) / y.mean().abs()  # relative deviation: a constant is mid-grey
        ax.imshow(rel.numpy(), cmap="gray", vmin=-1, vmax=1)
        ax.set_title(name.replace(", ", ",\n", 1), fontsize=8)
        ax.axis("off")
    fig.suptitle("Constant input, upsampled x2 (interior; grey = constant, "
                 "black/white = -100%/+100% of the mean)")
    plots.append(Plot(save(fig, out / "checkerboard.png"),
                      "An all-ones input upsampled x2 by each layer, drawn as the deviation from its mean "
                      "(mid-grey = constant). Look for: a checkerboard from the transposed convolutions "
                      "whose kernel (3, 5) is not divisible by the stride 2, flat grey for k = 4 and 6, "
                      "and the sub-pixel layer's pattern gone with ICNR."))

    # the crops are photographs (JPEG), the training curve a plot (PNG): two figures
    fig, axes = plt().subplots(1, 3, figsize=(10.5, 3.6))
    crop2 = (slice(100, 228), slice(0, 128))                     # the right eye, in the test half
    for ax, (name, img) in zip(axes, [("original", hr_te), ("bicubic", bic), ("sub-pixel CNN", sr)]):
        ax.imshow(img[0, :, crop2[0], crop2[1]].permute(1, 2, 0).numpy())
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    plots.append(Plot(save(fig, out / "super_resolution.jpg"),
                      f"The right eye, from the half of the photo the network never saw: the original, "
                      f"bicubic x{R} and the sub-pixel CNN x{R} from the same x1/{R} image. Look for: "
                      "crisper edges and fur in the CNN's crop than in bicubic's."))
    fig, ax = plt().subplots(figsize=(5, 3.4))
    ax.plot(*zip(*history), "o-", label="sub-pixel CNN")
    ax.axhline(p_bic, color="gray", ls="--", label="bicubic")
    ax.set(xlabel="Adam step", ylabel="PSNR on the unseen half, dB")
    ax.legend(fontsize=7)
    plots.append(Plot(save(fig, out / "super_resolution_psnr.png"),
                      "PSNR of the sub-pixel CNN on the unseen half of the photo during training, with "
                      "bicubic's as the dashed line. Look for: the curve starting near bicubic (the network "
                      "adds a residual to it, small at initialisation) and whether it ends above the "
                      "dashed line."))

    # verdict ------------------------------------------------------------------------------
    p_near = scores["nearest"][0]
    smooth_better = min(scores["bilinear (align_corners=False)"][0],
                        scores["bicubic (a=-0.75)"][0]) > p_near
    amp = {r[0]: float(r[3]) for r in cb_rows}
    cb_ok = (amp["transposed conv k=3, s=2"] > 0.1 and amp["transposed conv k=4, s=2"] < 1e-6
             and amp["sub-pixel conv r=2, default init"] > 1e-3
             and amp["sub-pixel conv r=2, ICNR init"] < 1e-6)
    sr_better = p_sr > p_bic
    held = bool(smooth_better and cb_ok and sr_better)
    verdict = (
        f"{'Held' if held else 'Partly held' if (smooth_better or cb_ok or sr_better) else 'Did not hold'}: "
        f"bicubic {scores['bicubic (a=-0.75)'][0]:.2f} dB and bilinear "
        f"{scores['bilinear (align_corners=False)'][0]:.2f} dB vs nearest {p_near:.2f} dB; "
        f"checkerboard amplitude {amp['transposed conv k=3, s=2']:.2f} for k=3/s=2, "
        f"{amp['transposed conv k=4, s=2']:.2f} for k=4/s=2, sub-pixel "
        f"{amp['sub-pixel conv r=2, default init']:.3f} default vs "
        f"{amp['sub-pixel conv r=2, ICNR init']:.0e} ICNR; the sub-pixel network reaches "
        f"{p_sr:.2f} dB vs bicubic {p_bic:.2f} dB on the unseen half "
        f"({p_sr - p_bic:+.2f} dB after {steps} steps).")
    summary = {f"psnr_{k}": round(v[0], 3) for k, v in scores.items()}
    summary.update({f"ssim_{k}": round(v[1], 4) for k, v in scores.items()})
    summary.update({"sr_psnr": round(p_sr, 3), "sr_ssim": round(s_sr, 4),
                    "sr_bicubic_psnr": round(p_bic, 3), "sr_bicubic_ssim": round(s_bic, 4),
                    "sr_gain_db": round(p_sr - p_bic, 3), "sr_steps": steps,
                    "sr_train_seconds": round(secs, 1),
                    "psnr_vs_area_nearest": round(psnr(area, near), 3),
                    "psnr_vs_area_nearest_exact": round(psnr(area, exact), 3)})
    summary.update({f"checkerboard_{k}": v for k, v in amp.items()})
    notes = [
        "Photo: 'Chelsea the cat' by Stefan van der Walt, CC0, from scikit-image 0.26.0's data "
        "(cropped to 384x256; see src/groundup/data/bundled/images/README.md).",
        "Outputs are clamped to [0, 1] before scoring (bicubic overshoots). SSIM is Wang et "
        "al.'s (11x11 Gaussian, sigma 1.5), averaged over the RGB channels.",
        "For an integer up-scale, nearest and nearest-exact are the same image: the two rules "
        "only differ when the scale is fractional or when downsampling (table 2), where torch's "
        "nearest takes the first pixel of each block and nearest-exact the one nearest the "
        "block centre.",
        "Max-unpooling is shown from max-pool indices (not from the area image): without the "
        "rest of a decoder it only puts each maximum back and leaves zeros elsewhere.",
        "The SR network trains on random 16x16 patches from the left half of the photo and is "
        "scored on the right half, so the comparison with bicubic is out of sample, but it is "
        "one photo: a small, honest demonstration, not a benchmark.",
    ]
    return Result(name=NAME, title=TITLE, claim=CLAIM, verdict=verdict, held=held,
                  criterion=CRITERION, summary=summary,
                  tables=[table1, table2, table3, table4], plots=plots, notes=notes)
