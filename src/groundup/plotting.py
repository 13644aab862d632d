"""Matplotlib, headless and imported lazily; figures saved atomically.

Every figure is inlined into the one-file report, so bytes matter. Plots (lines, heatmaps,
text) are PNG with a 256-colour palette (octree quantisation, no dithering): about a third of
matplotlib's truecolour PNG on the lab's plots, with no visible change to lines, text or
colour bars. Photographs and figures made mostly of them are JPEG (``save(fig, "x.jpg")``):
their noise-like detail costs a PNG several times the bytes for no visible gain.
"""
from __future__ import annotations

import io
from pathlib import Path

JPEG_QUALITY = 85  # no visible blocking on the upsampling crops at 110 dpi


def plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as pyplot

    return pyplot


def _palette_png(png: bytes) -> bytes:
    """``png`` as a 256-colour palette PNG; returned unchanged if it has any transparency."""
    from PIL import Image  # matplotlib's own dependency

    with Image.open(io.BytesIO(png)) as im:
        if im.mode == "RGBA" and im.getextrema()[3][0] < 255:
            return png
        pal = im.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE,
                                         dither=Image.Dither.NONE)
    buf = io.BytesIO()
    pal.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def save(fig, path: str | Path, dpi: int = 110, palette: bool = True,
         format: str | None = None) -> str:
    """Save ``fig`` to ``path`` atomically, close it, and return the file name: JPEG when the
    name ends in .jpg/.jpeg, else PNG (a palette PNG unless ``palette=False``). ``format``
    ("png" or "jpeg") overrides the name (a user's path such as /dev/null has no suffix)."""
    from .io import write_bytes

    path = Path(path)
    buf = io.BytesIO()
    kind = format or {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}.get(path.suffix.lower())
    if kind == "jpeg":
        fig.savefig(buf, format="jpeg", dpi=dpi, bbox_inches="tight",
                    pil_kwargs={"quality": JPEG_QUALITY, "optimize": True, "progressive": True})
        data = buf.getvalue()
    elif kind == "png":
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        data = _palette_png(buf.getvalue()) if palette else buf.getvalue()
    else:
        plt().close(fig)
        raise ValueError(f"figure file must end in .png, .jpg or .jpeg, got {path.name!r}")
    plt().close(fig)
    write_bytes(path, data)
    return path.name
