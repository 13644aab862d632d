"""The bundled Chinese text of the Chinese lab experiments, and the optional ``zh`` tokenizer.

``cmrc_lines`` reads ``bundled/zh/cmrc2017.txt.xz`` (37,250 distinct lines of CMRC 2017's
children's stories, CC BY-SA 4.0; bundled/zh/README.md): each line as the source segmented it
(single spaces, an automatic segmentation) or, ``raw=True``, with the spaces removed, as Chinese
is written. ``zh_tokenizer`` is the registry's ``zh`` tokenizer (jieba) or, when the ``zh``
extra is not installed, None and the one-line reason, which the experiments put in their verdict.
"""
from __future__ import annotations

from ..data.locate import bundled_path, open_text

CMRC = ("zh", "cmrc2017.txt.xz")


def cmrc_lines(*, raw: bool = False) -> list[str]:
    """The CMRC 2017 lines, segmented by the source (``raw``: spaces removed)."""
    with open_text(bundled_path(*CMRC)) as f:
        lines = [line.strip() for line in f if line.strip()]
    return ["".join(line.split()) for line in lines] if raw else lines


def zh_tokenizer():
    """(the ``zh`` tokenizer, "") or (None, why it is unavailable)."""
    from ..data.tokenize import get_tokenizer
    from ..errors import ConfigError

    try:
        tok = get_tokenizer("zh")
        tok("中文")  # the library is imported at first use
    except ConfigError as e:
        return None, str(e)
    return tok, ""
