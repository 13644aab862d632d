"""The metric-loss lab's pieces, and `groundup lab metric-loss --out DIR` on a tiny preset."""
import json

import numpy as np
import pytest

from groundup.lab import metric_loss


def test_bundled_digits_match_sklearn_and_are_imbalanced():
    X, digit = metric_loss.load_digits()
    assert X.shape == (1797, 64) and X.min() == 0.0 and X.max() == 1.0
    assert np.sum(digit == 9) == 180  # 10.0 % positives for "is it a 9"
    sk = pytest.importorskip("sklearn.datasets")
    ref = sk.load_digits()
    np.testing.assert_array_equal(X * 16, ref.data)
    np.testing.assert_array_equal(digit, ref.target)


def test_stratified_split_is_a_disjoint_stratified_partition():
    y = np.array([0] * 90 + [1] * 10)
    tr, va, te = metric_loss.stratified_split(y, np.random.default_rng(0))
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(100))
    assert [int(y[p].sum()) for p in (tr, va, te)] == [6, 2, 2]
    assert (len(tr), len(va), len(te)) == (60, 20, 20)


def test_threshold_tuning_picks_the_f1_maximiser():
    p = np.array([0.1, 0.3, 0.35, 0.8])
    y = np.array([0, 1, 1, 1])
    th = metric_loss._best_threshold(p, y)
    assert 0.1 <= th < 0.3  # everything above 0.1 positive gives F1 = 1
    assert metric_loss._f1_acc((p > th).astype(int), y) == (1.0, 1.0)


def test_cli_writes_the_f1_accuracy_table_to_results_json(tmp_path, monkeypatch):
    from groundup.cli import main

    tiny = metric_loss.MetricLossConfig(seeds=2, steps=20, eval_every=10, reinforce_samples=4,
                                         lrs=(1e-2, 3e-2))
    monkeypatch.setitem(metric_loss.PRESETS, "quick", tiny)
    assert main(["lab", "metric-loss", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "results.json").read_text())["experiments"]["metric-loss"]
    table = res["tables"][0]
    assert table["headers"][:3] == ["method", "test F1", "test accuracy"]
    assert [r[0] for r in table["rows"]] == list(metric_loss.METHODS)
    for m in ("ce", "ce_threshold", "soft_f1", "soft_f1_threshold", "reinforce_f1"):
        assert 0.0 <= res["summary"][f"{m}_test_f1_mean"] <= 1.0
    assert res["verdict"] and (tmp_path / "metric-loss" / "training_curves.png").exists()


def test_a_missing_bundled_table_is_a_data_error(tmp_path, monkeypatch):
    from groundup.data import locate
    from groundup.errors import DataError

    monkeypatch.setattr(locate, "BUNDLED", tmp_path)
    with pytest.raises(DataError, match="digits"):
        metric_loss.load_digits()
