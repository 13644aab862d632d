"""The word2vec lab's pieces that do not need a training run: the recorded gensim figures match
the quick settings, labels never overlap, the interval arithmetic."""
import itertools

import numpy as np
import pytest

from groundup.lab import word2vec as lab


def test_recorded_gensim_figures_are_for_the_quick_settings():
    """benchmarks/bench_word2vec_lab.py must be rerun when the quick settings change: else the
    lab would compare with figures of another run (it then says 'inconclusive')."""
    ref = lab.gensim_reference(lab.QUICK_SETTINGS, "WikiText-2 train (bundled, lowercased)")
    assert ref is not None
    assert len(ref["seeds"]) >= 3 and len(ref["lab_accuracy"]) == len(ref["google_accuracy"]) == len(ref["seeds"])
    assert set(ref["probe_cosines"]) == {f"{w}/{o}" for w, *others in lab.PROBES for o in others}
    assert "bench_word2vec_lab.py" in ref["command"]
    assert lab.gensim_reference(dict(lab.QUICK_SETTINGS, epochs=1), "WikiText-2 train (bundled, lowercased)") is None


def test_labels_are_placed_without_overlap():
    from groundup.lab.plotting import plt

    p = plt()
    fig, ax = p.subplots(figsize=(4, 3))
    rng = np.random.default_rng(0)
    P = np.concatenate([rng.normal(0, 0.01, (20, 2)), rng.normal(3, 1, (10, 2))])  # a dense cluster
    ax.scatter(P[:, 0], P[:, 1])
    fig.canvas.draw()
    n = lab.place_labels(ax, P, [f"word{i}" for i in range(len(P))])
    boxes = [t.get_window_extent(fig.canvas.get_renderer()) for t in ax.texts]
    assert len(boxes) == n and 10 <= n < len(P)          # the cluster cannot hold 20 labels
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    p.close(fig)


def test_wilson_interval():
    # 5/25: p = 0.2, z = 1.96 -> (0.0886, 0.3913) (Wilson 1927; scipy's binomtest(5, 25).proportion_ci(
    # method='wilson') gives 0.08861, 0.39131)
    lo, hi = lab.wilson(5, 25)
    assert (lo, hi) == pytest.approx((0.0886, 0.3913), abs=1e-4)
    assert lab.wilson(0, 0) == (0.0, 1.0)
