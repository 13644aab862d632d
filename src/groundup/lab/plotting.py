"""Matplotlib, headless and imported lazily; figures saved atomically as PNG."""
from __future__ import annotations

import io
from pathlib import Path


def plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as pyplot

    return pyplot


def save(fig, path: str | Path, dpi: int = 110) -> str:
    """Save ``fig`` to ``path`` (PNG) atomically, close it, and return the file name."""
    from ..io import write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt().close(fig)
    write_bytes(path, buf.getvalue())
    return Path(path).name
