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


def test_cli_writes_the_issue_figures_to_results_json(tmp_path, monkeypatch):
    from groundup.cli import main

    tiny = metric_loss.MetricLabConfig(seeds=2, curve_steps=20, reinforce_repeats=5,
                                       sample_counts=(2, 4), fit_steps=5, ce_steps=5,
                                       tune_steps=2, max_number=999)
    monkeypatch.setitem(metric_loss.PRESETS, "quick", tiny)
    assert main(["lab", "metric-loss", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "results.json").read_text())["experiments"]["metric-loss"]
    fig = res["figures"]
    assert 0 <= fig["ce_acc_disagreement_fraction"] <= 1
    assert set(fig["reinforce_grad_variance"]) == {"2", "4"}
    assert 0 <= fig["bleu_before_mrt"] <= 1 and 0 <= fig["bleu_after_mrt"] <= 1
    assert res["verdict"] and res["held"] in (True, False) and res["criterion"]
    assert all((tmp_path / "metric-loss" / p["file"]).exists() and p["caption"] for p in res["plots"])


def test_a_missing_bundled_table_is_a_data_error(tmp_path, monkeypatch):
    from groundup.data import locate
    from groundup.errors import DataError

    monkeypatch.setattr(locate, "BUNDLED", tmp_path)
    with pytest.raises(DataError, match="digits"):
        metric_loss.load_digits()


# --- the redesigned parts -----------------------------------------------------------------------

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def test_number_words_by_hand():
    cases = {0: "zero", 13: "thirteen", 40: "forty", 72: "seventy two", 100: "one hundred",
             4072: "four thousand seventy two", 110_000: "one hundred ten thousand",
             999_999: "nine hundred ninety nine thousand nine hundred ninety nine"}
    for n, words in cases.items():
        assert " ".join(metric_loss.number_words(n)) == words
    with pytest.raises(ValueError):
        metric_loss.number_words(10 ** 6)


def test_encode_batch_pads_sources_left_and_targets_right():
    src, tgt = metric_loss.encode_batch([7, 4072])
    assert src.tolist() == [[10, 10, 10, 7], [4, 0, 7, 2]]
    W, E, P = metric_loss.WORD_ID, metric_loss.EOS, metric_loss.PAD
    assert tgt.tolist() == [[W["seven"], E, P, P, P],
                            [W["four"], W["thousand"], W["seventy"], W["two"], E]]


def test_disagreement_counts_steps_where_ce_and_accuracy_both_fall():
    curve = np.array([[1.0, 0.5], [0.9, 0.4], [0.8, 0.6], [0.85, 0.5], [0.7, 0.5]])
    # steps: CE down acc down; CE down acc up; CE up; CE down acc flat
    assert metric_loss.disagreement(curve) == (1, 3)


def test_accuracy_has_zero_autograd_gradient_and_the_right_value():
    z = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.5]], requires_grad=True)
    y = torch.tensor([0, 0, 1])
    a = metric_loss.hard_accuracy(z, y)
    assert a.item() == pytest.approx(1 / 3)
    (g,) = torch.autograd.grad(a, z)
    assert torch.equal(g, torch.zeros_like(z))


def test_staircase_on_a_tiny_network():
    torch.manual_seed(0)
    model = metric_loss._mlp(4, 5, 3)
    x, y = torch.randn(40, 4), torch.randint(0, 3, (40,))
    st = metric_loss.staircase(model, x, y, temperatures=(1.0, 0.01), span=5.0, n=41)
    assert (st["dacc"] == 0).all() and len(np.unique(st["acc"])) >= 2
    gap = {t: np.abs(st["soft"][t] - st["acc"]).mean() for t in (1.0, 0.01)}
    assert gap[0.01] < gap[1.0]


def test_batch_f1_by_hand():
    y = torch.tensor([1, 1, 0, 0])
    assert metric_loss.batch_f1(torch.tensor([1, 0, 1, 0]), y).item() == pytest.approx(0.5)
    assert metric_loss.batch_f1(torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0]]), y).tolist() == [1.0, 0.0]


def test_exact_f1_gradient_matches_finite_differences():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, generator=g, dtype=torch.float64)
    y = torch.tensor([1, 0, 1, 0, 0, 0])
    w = torch.randn(3, generator=g, dtype=torch.float64)
    exact = metric_loss.exact_f1_gradient(w, x, y)

    def expected_f1(w):
        import itertools
        A = torch.tensor(list(itertools.product((0, 1), repeat=6)), dtype=torch.float64)
        p = torch.sigmoid(x @ w)
        return float((torch.prod(A * p + (1 - A) * (1 - p), 1) * metric_loss.batch_f1(A, y)).sum())
    h = 1e-6
    fd = [(expected_f1(w + h * e) - expected_f1(w - h * e)) / (2 * h) for e in torch.eye(3, dtype=torch.float64)]
    torch.testing.assert_close(exact, torch.tensor(fd, dtype=torch.float64), rtol=1e-6, atol=1e-9)


def test_reinforce_is_unbiased_for_the_exact_gradient():
    # 400 estimates of 16 samples each: the mean's standard error per coordinate is
    # sqrt(MSE_16 / 400) ~ 0.01 here; 5 standard errors leaves a seeded failure rate ~1e-6
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 3, generator=g, dtype=torch.float64)
    y = torch.tensor([1, 1, 0, 0, 0, 0, 0, 0])
    w = 0.5 * torch.randn(3, generator=g, dtype=torch.float64)
    exact = metric_loss.exact_f1_gradient(w, x, y)
    for b in ("none", "mean"):
        est = torch.stack([metric_loss.reinforce_estimate(w, x, y, 16, b, g) for _ in range(400)])
        se = est.std(0) / 20
        assert ((est.mean(0) - exact).abs() < 5 * se + 1e-12).all(), b


def test_sampled_log_prob_equals_the_teacher_forced_one():
    # two routes to log p(y | x): accumulated while sampling, and one teacher-forced pass
    torch.manual_seed(0)
    model = metric_loss.Seq2Seq(hidden=16)
    src, _ = metric_loss.encode_batch([5, 123, 4072])
    toks, logp = model.decode(src, 6, sample=True, g=torch.Generator().manual_seed(0))
    tgt = toks.clone()
    lp = torch.log_softmax(model(src, tgt), -1).gather(2, tgt[..., None])[..., 0]     # (B, L)
    keep = torch.ones_like(tgt, dtype=torch.bool)
    for i, row in enumerate(tgt.tolist()):
        if metric_loss.EOS in row:
            keep[i, row.index(metric_loss.EOS) + 1:] = False
    torch.testing.assert_close((lp * keep).sum(1), logp, rtol=1e-5, atol=1e-5)


def test_our_corpus_bleu_equals_sacrebleu_on_the_task_output():
    sacrebleu = pytest.importorskip("sacrebleu")
    from groundup.train.bleu import corpus_bleu

    rng = np.random.default_rng(0)
    numbers = rng.integers(0, 10 ** 6, 200).tolist()
    refs = [metric_loss.number_words(n) for n in numbers]
    hyps = []  # what a half-trained model writes: words dropped, swapped or repeated
    for r in refs:
        h = list(r)
        k = rng.integers(0, 4)
        if k == 1 and len(h) > 1:
            del h[rng.integers(0, len(h))]
        elif k == 2:
            h[rng.integers(0, len(h))] = metric_loss.ONES[rng.integers(0, 20)]
        elif k == 3:
            h = h + h[-1:]
        hyps.append(h)
    ours = corpus_bleu(hyps, refs)
    theirs = sacrebleu.corpus_bleu([" ".join(h) for h in hyps], [[" ".join(r) for r in refs]],
                                   tokenize="none", smooth_method="none", force=True).score
    assert 0.3 < ours < 1 and theirs == pytest.approx(100 * ours, rel=1e-12)
    # and on a briefly trained model's greedy output
    torch.manual_seed(0)
    model = metric_loss.Seq2Seq(hidden=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        metric_loss._ce_step(model, opt, rng.integers(0, 1000, 32).tolist())
    test = rng.integers(0, 1000, 50).tolist()
    ours, hyps = metric_loss.corpus_bleu_of(model, test)
    theirs = sacrebleu.corpus_bleu([" ".join(h) for h in hyps],
                                   [[" ".join(metric_loss.number_words(n)) for n in test]],
                                   tokenize="none", smooth_method="none", force=True).score
    assert theirs == pytest.approx(100 * ours, rel=1e-12, abs=1e-12)


def _figures(both=10, levels=5, gap_small=0.01, var_ratio=20.0, baseline_helps=True,
             soft=0.8, mrt_diff=0.05):
    var = {"2": {"none": var_ratio, "mean": var_ratio / 2 if baseline_helps else var_ratio * 2},
           "64": {"none": 1.0, "mean": 0.5}}
    return {"ce_acc_disagreement_fraction": both / 100, "ce_down_acc_down_steps": both,
            "ce_down_steps": 100, "accuracy_autograd_grad_max_abs": 0.0, "accuracy_levels": levels,
            "soft_accuracy_mean_gap": {"1.0": 0.2, "0.01": gap_small},
            "reinforce_grad_variance": var,
            "test_f1": {"ce": 0.8, "soft-f1": soft, "reinforce-f1": 0.8},
            "bleu_before_mrt": 0.5, "bleu_after_mrt": 0.6, "bleu_after_ce_continued": 0.55,
            "bleu_mrt_minus_ce_continued": mrt_diff, "bleu_mrt_minus_ce_continued_se": 0.01}


def test_verdict_held_and_not_held():
    held, sentence = metric_loss.verdict(_figures())
    assert held is True and sentence.startswith("Held")
    for bad in (dict(both=1), dict(levels=2), dict(gap_small=0.1), dict(var_ratio=4.0),
                dict(baseline_helps=False), dict(soft=0.7), dict(mrt_diff=0.015)):
        held, sentence = metric_loss.verdict(_figures(**bad))
        assert held is False and sentence.startswith("Did not hold"), bad


def test_full_preset_is_larger_than_quick_where_the_claims_need_it():
    quick, full = metric_loss.PRESETS["quick"], metric_loss.PRESETS["full"]
    assert full.seeds >= 2 * quick.seeds
    for f in ("curve_steps", "reinforce_repeats", "fit_steps", "ce_steps", "tune_steps",
              "mrt_candidates"):
        assert getattr(full, f) > getattr(quick, f), f
    assert full.sample_counts == quick.sample_counts and full.max_number == quick.max_number
