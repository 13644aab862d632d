"""The adamw lab's pieces on a reduced grid (the full quick mode takes ~15-40 s)."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from groundup.lab import adamw


def test_digits_load_and_stratified_split():
    X, y = adamw.load_digits()
    assert X.shape == (1797, 64) and X.min() >= 0 and X.max() <= 1
    tr, va = adamw.split(y, 100, seed=0)
    assert len(set(tr) & set(va)) == 0 and len(tr) + len(va) == 1797
    assert np.bincount(y[tr], minlength=10).tolist() == [10] * 10


def test_l2_in_adam_decays_small_gradient_weights_faster(tmp_path, monkeypatch):
    """The mechanism the lab reports: with L2 inside Adam the effective per-step decay is
    divided by the gradient RMS (smallest-gradient quartile decayed far faster than the largest);
    AdamW's is uniform. A reduced grid keeps this fast; the run must also write its plots."""
    tiny = dataclasses.replace(adamw.PRESETS["quick"], steps=60, lrs=(3e-3,), l2=(0.0, 1e-3),
                               decay=(0.0, 0.3), seeds=2, hidden=32)
    monkeypatch.setitem(adamw.PRESETS, "quick", tiny)
    torch.manual_seed(0)
    r = adamw.run(tmp_path, full=False, seed=0)
    assert r.summary["runs"] == 8
    assert r.summary["l2_decay_spread_q1_over_q4"] > 10
    assert all((tmp_path / p.file).stat().st_size > 1000 and p.caption for p in r.plots)
    assert r.verdict.split()[0] in ("Held", "Partly", "Did")
    assert r.held in (True, False, None) and r.criterion
    assert (r.held is True) == r.verdict.startswith("Held")
    assert 0 < r.summary["adamw_best_val_loss"] < 2.31     # below chance level ln(10)
