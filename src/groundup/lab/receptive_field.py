"""Lab: theoretical receptive fields (published figures, the gradient) and effective ones."""
from __future__ import annotations

import math
import time
from pathlib import Path

from ..utils import torch_threads
from .base import Plot, Result, Table

NAME = "receptive-field"
TITLE = "Receptive fields: the top-down formula, published figures, and the effective field"
CLAIM = ("A CNN's receptive field follows RF_(n-1) = (RF_n - 1) * stride_n + ksize_n "
         "(AlexNet 195, VGG-16 212, ResNet-50 483 pixels), but the effective receptive field is "
         "Gaussian-shaped and only a fraction of it, growing like sqrt(depth) (Luo et al. 2016).")
CRITERION = ("Held iff every traced field matches the published table and every checked unit's "
             "analytic box equals its gradient support; the ERF's sigma grows like depth^a with "
             "0.35 < a < 0.75 (theory 0.5); at the deepest stack its 95%-mass box spans under 60% of "
             "the theoretical side; and on the photograph the 95% box is smaller than the theoretical "
             "field for both networks. Otherwise did not hold.")

# (zoo factory, input size, row, published RF, stride, effective padding, note)
# google-research/receptive_field RECEPTIVE_FIELD_TABLE.md (Distill 2019); P at 321 (symmetric)
PUBLISHED = [
    ("alexnet", 227, "features.14", 195, 32, 64, "alexnet_v2/pool5"),
    ("vgg16", 224, "features.30", 212, 32, 90, "vgg_16/pool5"),
    ("resnet50", 224, "add_15", 483, 32, 241, "resnet_v1_50/block4 (P at 321)"),
    ("resnet50_torchvision", 224, "add_15", None, 32, None, "stride on the 3x3 (torchvision)"),
    ("resnet18", 224, "add_7", None, 32, None, "not in the table"),
    ("googlenet", 224, "cat_1", 91, 8, None, "inception_v2/Mixed_3c (same geometry)"),
    ("mobilenet_v1", 224, "features.78", 315, 32, 157, "Conv2d_13_pointwise (P at 321)"),
]


def _published(res: Result) -> tuple[bool, dict]:
    import torch

    from ..vision import receptive_field, zoo

    rows, ok, growth = [], True, {}
    for name, size, row_name, r_pub, j_pub, p_pub, note in PUBLISHED:
        with torch.device("meta"):
            model = zoo.FACTORIES[name]()
        rf = receptive_field(model, (size, size))
        row = rf.row(row_name)
        r, j = row.size[0], row.jump[0]
        p = (r - 1) / 2 - row.start[0]
        match = (r_pub is None or r == r_pub) and j == j_pub and (p_pub is None or p == p_pub)
        ok &= match
        rows.append([name, row_name, r, j, f"{p:g}", r_pub if r_pub else "-", j_pub,
                     p_pub if p_pub is not None else "-", note, "yes" if match else "NO"])
        if name in ("alexnet", "vgg16", "resnet50", "googlenet", "mobilenet_v1"):
            sizes = [x.size[0] for x in rf.layers if x.kind not in ("collapse", "global pool")]
            # graph order interleaves parallel branches: plot the largest field reached so far
            growth[name] = [max(sizes[:i + 1]) for i in range(len(sizes))]
    res.tables.append(Table("Traced fields against the published table (Distill 2019 library)",
                            ["net", "layer", "RF", "jump", "P", "RF pub.", "jump pub.", "P pub.",
                             "published end-point", "match"], rows))
    return ok, growth


def _gradient_checks(res: Result) -> bool:
    """Analytic box == support of the gradient of a linearised copy, for several graphs."""
    import torch
    import torch.nn as nn

    from ..vision import receptive_field, zoo
    from ..vision.effective_rf import gradient_map, linearise, support_box

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.down = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, 2, 1)
            self.up, self.dec = nn.ConvTranspose2d(4, 4, 3, 2, 1, output_padding=1), nn.Conv2d(8, 3, 3, padding=1)

        def forward(self, x):
            e = torch.relu(self.enc(x))
            return self.dec(torch.cat([e, self.up(torch.relu(self.down(e)))], 1))

    net18 = zoo.resnet18(width=1 / 16)
    cases = [
        ("plain 3x3 stack + pooling", nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.Conv2d(4, 4, 5)), 48),
        ("dilated 1-2-4", nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=2, dilation=2),
                                        nn.Conv2d(4, 4, 3, padding=4, dilation=4)), 48),
        ("U-Net (transposed k3 s2)", UNet(), 32),
        ("VGG-16 features (1/16 width)", zoo.vgg16(width=1 / 16).features, 256),
        ("ResNet-18 to layer3 (1/16 width)", nn.Sequential(net18.conv1, net18.bn1, net18.relu, net18.maxpool,
                                                           net18.layer1, net18.layer2, net18.layer3), 256),
    ]
    rows, ok = [], True
    for label, model, n in cases:
        rf = receptive_field(model, (3, n, n))
        lin = linearise(model)
        x = torch.ones(1, 3, n, n)
        with torch.no_grad():
            out = lin(x).shape[2:]
        units = [(out[0] // 2, out[1] // 2), (out[0] // 2 - 1, out[1] // 2 + 1)]
        good = 0
        for u in units:
            box = support_box(gradient_map(lin, x, u)[0])
            expect = tuple((max(lo, 0), min(hi, n - 1)) for lo, hi in rf.region(u))
            good += box == expect
        ok &= good == len(units)
        rows.append([label, f"{n}x{n}", rf.size[0], f"{rf.jump[0]:g}", f"{good}/{len(units)}"])
    res.tables.append(Table("Analytic field vs the gradient of a linearised copy (units near the centre)",
                            ["network", "input", "RF", "jump", "units whose support == analytic box"], rows))
    return ok


def _erf_vs_depth(res: Result, out: Path, full: bool, seed: int):
    import torch.nn as nn

    from ..vision.effective_rf import effective_receptive_field
    from .plotting import plt, save

    depths = [2, 4, 8, 16, 32] + ([64] if full else [])
    inits = 16 if full else 4
    n_px = 161 if full else 71  # wider than the deepest stack's field (2*32+1 = 65)
    sig, sig_lin, frac, r2 = [], [], [], []
    for n in depths:
        def relu_stack(n=n):
            layers = []
            for i in range(n):
                layers += [nn.Conv2d(1 if i == 0 else 8, 8, 3, padding=1), nn.ReLU()]
            return nn.Sequential(*layers)
        e = effective_receptive_field(relu_stack, (1, n_px, n_px), inits=inits, inputs_per_init=4, seed=seed)
        sig.append(e.sigma[0])
        frac.append(e.size_mass[0] / (2 * n + 1))
        r2.append(e.gauss_r2[0])
        sig_lin.append(math.sqrt(2 * n / 3))  # uniform linear stack: binomial, variance 2n/3
    slope = (math.log(sig[-1]) - math.log(sig[1])) / (math.log(depths[-1]) - math.log(depths[1]))
    fig, ax = plt().subplots(1, 2, figsize=(11, 4))
    ax[0].loglog(depths, [2 * n + 1 for n in depths], "k-o", label="theoretical RF size 2n+1")
    ax[0].loglog(depths, [2 * s for s in sig], "r-o", label="ERF 2 sigma, random ReLU stack")
    ax[0].loglog(depths, [2 * s for s in sig_lin], "b--", label="2 sqrt(2n/3), uniform linear stack")
    for a in ax:
        a.set_xticks(depths, [str(n) for n in depths])
        a.minorticks_off()
    ax[0].set_yticks([2, 5, 10, 20, 50, 100], ["2", "5", "10", "20", "50", "100"])
    ax[0].set_xlabel("depth n (3x3 convolutions)")
    ax[0].set_ylabel("pixels")
    ax[0].set_title(f"ERF grows like n^{slope:.2f}, the RF like n")
    ax[0].legend(fontsize=8)
    ax[1].plot(depths, frac, "r-o")
    ax[1].set_xscale("log")
    ax[1].set_xticks(depths, [str(n) for n in depths])
    ax[1].minorticks_off()
    ax[1].set_ylim(0, 1.05)
    ax[1].set_xlabel("depth n")
    ax[1].set_ylabel("side of 95%-mass box / RF size")
    ax[1].set_title("fraction of the theoretical field the ERF occupies")
    res.plots.append(Plot(save(fig, out / "erf_vs_depth.png"),
                          "Left: the theoretical field 2n+1 (black) and the effective field's 2 sigma (red) "
                          "of n stacked 3x3 conv + ReLU layers at random init, log-log, with the uniform "
                          "linear stack's 2 sqrt(2n/3) dashed. Right: the side of the box holding 95% of the "
                          "gradient mass as a share of the theoretical field. Look for: the red line at "
                          "about half the black one's slope (sqrt(n) against n), and the share falling "
                          "with depth."))
    res.tables.append(Table("Effective receptive field of n stacked 3x3 conv + ReLU (random init)",
                            ["n", "RF", "ERF sigma (px)", "95% box / RF", "Gaussian R^2 (marginal)"],
                            [[n, 2 * n + 1, f"{s:.2f}", f"{f:.2f}", f"{q:.3f}"]
                             for n, s, f, q in zip(depths, sig, frac, r2)]))
    return slope, frac, r2


def _image(size: int = 224):
    """The bundled photograph (centre crop), else a synthetic pattern; (3, size, size) in [0, 1]."""
    import numpy as np
    import torch

    from ..data.locate import bundled_path

    p = bundled_path("images", "chelsea.png")
    if p.is_file():
        from .plotting import plt

        img = plt().imread(str(p))[..., :3]
        h, w = img.shape[:2]
        top, left = (h - size) // 2, (w - size) // 2
        img = img[top:top + size, left:left + size]
        return torch.tensor(np.ascontiguousarray(img)).permute(2, 0, 1).float(), "chelsea.png (CC0)"
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    pattern = 0.5 + 0.5 * torch.sin(xx / 7.0) * torch.cos(yy / 11.0)
    return pattern.expand(3, size, size).clone(), "synthetic pattern"


def _erf_on_image(res: Result, out: Path, full: bool, seed: int) -> list[tuple]:
    import torch
    import torch.nn as nn

    from ..vision import receptive_field, zoo
    from ..vision.effective_rf import gradient_map
    from .plotting import plt, save

    img, source = _image()
    x = ((img - img.mean()) / img.std()).unsqueeze(0)  # (1, 3, 224, 224)
    inits = 16 if full else 4

    def vgg_pool4():
        return zoo.vgg16(width=1 / 8).features[:24]

    def resnet_layer3():
        net = zoo.resnet18(width=1 / 4)
        return nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3)

    nets = [("VGG-16 to pool4", vgg_pool4), ("ResNet-18 to layer3", resnet_layer3)]
    fig, axes = plt().subplots(1, len(nets), figsize=(5.5 * len(nets), 5.2))
    found = []
    for ax, (label, make) in zip(axes, nets):
        total = None
        for i in range(inits):
            torch.manual_seed(seed * 1000 + i)
            g = gradient_map(make().eval(), x)[0]  # (224, 224)
            total = g if total is None else total + g
        m = (total / total.sum()).numpy()
        with torch.device("meta"):
            meta = make()
        rf = receptive_field(meta, (3, 224, 224))
        with torch.no_grad():
            out_hw = make()(x).shape[2:]
        u = (out_hw[0] // 2, out_hw[1] // 2)
        (t0, t1), (l0, l1) = rf.region(u)
        # smallest box around the ERF's centroid holding 95% of the gradient mass
        cy = int(round(float((m.sum(1) * range(m.shape[0])).sum())))
        cx = int(round(float((m.sum(0) * range(m.shape[1])).sum())))
        half = 0
        while m[max(cy - half, 0):cy + half + 1, max(cx - half, 0):cx + half + 1].sum() < 0.95 and half < 224:
            half += 1
        ax.imshow(img.permute(1, 2, 0).numpy())
        ax.imshow(m ** 0.5, cmap="inferno", alpha=0.6)  # square-root scale shows the tails
        ax.add_patch(plt().Rectangle((l0 - 0.5, t0 - 0.5), l1 - l0 + 1, t1 - t0 + 1, fill=False,
                                     edgecolor="cyan", lw=2, label=f"theoretical RF {rf.size[0]}px"))
        ax.add_patch(plt().Rectangle((cx - half - 0.5, cy - half - 0.5), 2 * half + 1, 2 * half + 1,
                                     fill=False, edgecolor="lime", lw=2, ls="--",
                                     label=f"95% of ERF: {2 * half + 1}px"))
        ax.set_xlim(-0.5, 223.5)
        ax.set_ylim(223.5, -0.5)
        ax.set_title(f"{label}: centre unit")
        ax.legend(loc="lower left", fontsize=8)
        found.append((label, rf.size[0], 2 * half + 1))
    fig.suptitle(f"Effective field (sqrt of mean |grad| over {inits} random inits) vs theoretical, on {source}")
    res.plots.append(Plot(save(fig, out / "erf_on_image.jpg"),
                          "The centre unit's effective field over the photograph (heat: square root of the "
                          "mean |gradient|), its theoretical field (cyan box) and the box holding 95% of the "
                          "gradient mass (green, dashed). Look for: how much of the cyan box the heat really "
                          "fills, and how the green box compares with it in each network."))
    res.tables.append(Table(f"Theoretical vs effective field of a centre unit over {source} (224x224 crop)",
                            ["network", "theoretical RF (px)", "95%-mass box of the ERF (px)", "ratio"],
                            [[a, b, c, f"{c / b:.2f}"] for a, b, c in found]))
    return found


def run(out: Path, *, full: bool, seed: int) -> Result:
    import torch

    with torch_threads(min(4, torch.get_num_threads())):
        return _run(out, full, seed)


def _run(out: Path, full: bool, seed: int) -> Result:
    from .plotting import plt, save

    res = Result(name=NAME, title=TITLE, claim=CLAIM)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    published_ok, growth = _published(res)
    fig, ax = plt().subplots(figsize=(7, 4.5))
    for name, sizes in growth.items():
        ax.semilogy(range(len(sizes)), sizes, "-o", ms=3, label=f"{name} ({sizes[-1]} px)")
    ax.set_xlabel("op in graph order (convolutions, poolings, merges; pointwise ops folded)")
    ax.set_ylabel("largest receptive field so far (px)")
    ax.set_title("Receptive-field growth, traced from plain-torch models at 224x224")
    ax.legend(fontsize=8)
    res.plots.append(Plot(save(fig, out / "rf_growth.png"),
                          "The largest theoretical receptive field reached after each op of five classic "
                          "networks (log scale), traced at 224x224; final sizes in the legend. Look for: "
                          "growth by a jump at every stride-2 stage, and how far beyond the 224-pixel "
                          "input the deep networks' fields reach."))
    t1 = time.perf_counter()
    gradient_ok = _gradient_checks(res)
    t2 = time.perf_counter()
    slope, frac, r2 = _erf_vs_depth(res, out, full, seed)
    t3 = time.perf_counter()
    on_image = _erf_on_image(res, out, full, seed)
    t4 = time.perf_counter()
    erf_small = frac[-1] < 0.6 and all(c < b for _, b, c in on_image)
    res.summary = {
        "published_match": published_ok, "gradient_match": gradient_ok,
        "erf_sigma_depth_exponent": round(slope, 3), "erf_95_fraction_deepest": round(frac[-1], 3),
        "erf_gauss_r2_deepest": round(r2[-1], 4),
        **{f"erf_box_over_rf_{a.split()[0].lower()}": round(c / b, 3) for a, b, c in on_image},
        "seconds_published": round(t1 - t0, 1), "seconds_gradient": round(t2 - t1, 1),
        "seconds_erf_depth": round(t3 - t2, 1), "seconds_erf_image": round(t4 - t3, 1),
        "cpu_seconds": round(time.process_time() - cpu0, 1),
    }
    res.notes += [
        "Published values: google-research/receptive_field RECEPTIVE_FIELD_TABLE.md, the library "
        "of Araujo, Norris & Sim (Distill 2019), computed on TF-Slim models. Effective padding P "
        "is compared with its 321-pixel column, where TF 'SAME' padding is symmetric like torch's.",
        "ResNet-50: the paper's stride placement (first 1x1 of a stage) gives 483 like Slim; "
        "torchvision's (the 3x3) gives 427. GoogLeNet is not in the table; its first modules "
        "share inception_v2's geometry (91 px at Mixed_3c).",
        "ERF: Luo et al. (2016) average |d y_centre / d x| over random initialisations; here the "
        "networks are untrained (no weights are downloaded), as in their section 2-3 analysis.",
    ]
    held = bool(published_ok and gradient_ok and 0.35 < slope < 0.75 and erf_small)
    res.held, res.criterion = held, CRITERION
    res.verdict = (
        f"{'Held' if held else 'Did not fully hold'}: traced fields match the published table "
        f"({'all' if published_ok else 'NOT all'}) and the gradient support "
        f"({'all units' if gradient_ok else 'NOT all units'}); the ERF's sigma grows like "
        f"depth^{slope:.2f} (RF: depth^1) and its 95% box spans {frac[-1]:.0%} of the theoretical "
        f"side at depth {64 if full else 32}; "
        + ", ".join(f"{c}/{b} px for {a}" for a, b, c in on_image) + " on the image.")
    return res
