"""Which scoring pass runs: the C extension (``_scorer.c``) when it is built, else the numba
kernels of :mod:`.packed`, which stay the readable reference it is tested against.

The extension is built by ``pip install -e .`` (``setup.py``; optional, so an install without a
C compiler still succeeds) or in place by ``python setup.py build_ext --inplace``. It holds the
packed model's arrays through the buffer protocol (no copy, a mapped binary file included) and
scores a whole sentence, or a list of sentences, in one call: a Python ``str`` is split in C
when the model's tokenizer is one whose rule is a fixed set of separators (``spaces``:
lmplz's space/tab/CR; ``word``: Python's ``str.split()``), otherwise the tokens come from the
Python tokenizer. Its values are bit-identical to the numba pass (same hash, probes and float64
operations in the same order; ``tests/test_ngram_native.py``).

``GROUNDUP_NGRAM_NATIVE=0`` in the environment, or ``native.ENABLED = False`` before a model
scores, selects the numba pass.
"""
from __future__ import annotations

import os

from ...data.pipeline import TextOptions

VERSION = 1  # the _scorer.c this code expects; a stale build of another version is not used

try:
    from . import _scorer
except ImportError:  # not built (no compiler at install time): the numba pass
    _scorer = None
if _scorer is not None and getattr(_scorer, "VERSION", None) != VERSION:
    _scorer = None

ENABLED = os.environ.get("GROUNDUP_NGRAM_NATIVE", "1") != "0"


def available() -> bool:
    """True when scoring runs in C (the extension is built and not switched off)."""
    return ENABLED and _scorer is not None


def split_mode(text: TextOptions | None) -> int:
    """How the extension splits a str for this model: 1 ``spaces``, 2 ``word`` (the default
    for a model without a text record), 0 when the Python tokenizer must run (any other
    tokenizer, or lowercasing / script conversion before it)."""
    text = text or TextOptions()
    if text.lowercase or text.script != "keep" or _scorer is None:
        return 0
    return {"spaces": _scorer.SPLIT_SPACES, "word": _scorer.SPLIT_WORD}.get(text.tokenizer, 0)


def scorer(packed, text: TextOptions | None):
    """The C scorer over ``packed``'s arrays, or None (not available, or arrays it refuses)."""
    if not available():
        return None
    try:
        return _scorer.Scorer(packed.meta(), packed.chars, packed.vocab_offsets,
                              packed.vocab_table, packed.logprob, packed.backoff, packed.table,
                              split_mode(text))
    except (ValueError, BufferError):
        return None
