"""The lab's figures use the package's one plotting helper (:mod:`groundup.plotting`)."""
from ..plotting import JPEG_QUALITY, plt, save

__all__ = ["JPEG_QUALITY", "plt", "save"]
