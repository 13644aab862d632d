"""Soft accuracy / precision / recall / F-beta: gradients, hard-metric limits, sklearn oracle."""
import pytest
import torch

from groundup.train.metric_losses import (hard_fbeta, minimum_risk_loss, soft_accuracy, soft_f1,
                                          soft_fbeta, soft_precision, soft_recall, to_probs)

sk = pytest.importorskip("sklearn.metrics")

G = torch.Generator().manual_seed(0)
B, C = 7, 3
LOGITS2 = torch.randn(B, C, generator=G, dtype=torch.float64)
LOGITS1 = torch.randn(B, generator=G, dtype=torch.float64)
T_MULTI = torch.tensor([0, 1, 2, 2, 1, 0, 1])
T_BIN = torch.tensor([1, 0, 0, 1, 1, 0, 1])
REWARDS = torch.rand(B, C, generator=G, dtype=torch.float64)  # (B, K) candidate rewards

SURROGATES = [
    ("acc-logits-2d", lambda x: soft_accuracy(x, T_MULTI, from_logits=True), LOGITS2),
    ("acc-logits-1d-T", lambda x: soft_accuracy(x, T_BIN, temperature=0.5, from_logits=True), LOGITS1),
    ("acc-probs", lambda x: soft_accuracy(x, T_MULTI, from_logits=False), torch.softmax(LOGITS2, -1)),
    ("f1-binary-1d", lambda x: soft_f1(x, T_BIN, from_logits=True), LOGITS1),
    ("f1-binary-probs-T", lambda x: soft_f1(x, T_BIN, temperature=0.7, from_logits=False),
     torch.sigmoid(LOGITS1)),
    ("f1-macro", lambda x: soft_f1(x, T_MULTI, average="macro", from_logits=True), LOGITS2),
    ("f1-micro", lambda x: soft_f1(x, T_MULTI, average="micro", from_logits=True), LOGITS2),
    ("f2-macro", lambda x: soft_fbeta(x, T_MULTI, beta=2.0, average="macro", from_logits=True), LOGITS2),
    ("precision", lambda x: soft_precision(x, T_BIN, from_logits=True), LOGITS1),
    ("recall-macro", lambda x: soft_recall(x, T_MULTI, average="macro", from_logits=True), LOGITS2),
    ("mrt", lambda x: minimum_risk_loss(x, REWARDS, alpha=0.5), LOGITS2),
]


@pytest.mark.parametrize("name, fn, x", SURROGATES, ids=[s[0] for s in SURROGATES])
def test_gradients_match_finite_differences(name, fn, x):
    x = x.clone().requires_grad_(True)
    out = fn(x)
    assert out.dim() == 0
    torch.manual_seed(0)
    assert torch.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-7, rtol=1e-5)


def _one_hot(pred, n):
    return torch.nn.functional.one_hot(pred, n).double()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_soft_metrics_equal_hard_ones_on_one_hot_predictions(seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 4, (40,), generator=g)
    pred = torch.randint(0, 4, (40,), generator=g)
    p = _one_hot(pred, 4)
    assert float(soft_accuracy(p, y)) == pytest.approx(sk.accuracy_score(y, pred), abs=1e-12)
    for avg in ("macro", "micro"):
        assert float(soft_f1(p, y, average=avg)) == pytest.approx(
            sk.f1_score(y, pred, average=avg), abs=1e-12)
        assert float(soft_fbeta(p, y, beta=2.0, average=avg)) == pytest.approx(
            sk.fbeta_score(y, pred, beta=2.0, average=avg), abs=1e-12)
        assert float(soft_precision(p, y, average=avg)) == pytest.approx(
            sk.precision_score(y, pred, average=avg, zero_division=0), abs=1e-12)
        assert float(soft_recall(p, y, average=avg)) == pytest.approx(
            sk.recall_score(y, pred, average=avg, zero_division=0), abs=1e-12)
    yb, pb = (y == 3).long(), (pred == 3).long()
    for x in (_one_hot(pb, 2), pb.double()):  # (B, 2) one-hot, or (B,) hard probabilities
        assert float(soft_f1(x, yb, from_logits=False)) == pytest.approx(sk.f1_score(yb, pb), abs=1e-12)
        assert float(soft_precision(x, yb, from_logits=False)) == pytest.approx(
            sk.precision_score(yb, pb, zero_division=0), abs=1e-12)
        assert float(soft_recall(x, yb, from_logits=False)) == pytest.approx(
            sk.recall_score(yb, pb, zero_division=0), abs=1e-12)
    assert hard_fbeta(pred, y, 4, average="macro") == pytest.approx(
        sk.f1_score(y, pred, average="macro"), abs=1e-12)


def test_temperature_to_zero_recovers_the_hard_metric():
    y = T_MULTI
    pred = LOGITS2.argmax(-1)
    hard_f1 = sk.f1_score(y, pred, average="macro")
    gaps = [abs(float(soft_f1(LOGITS2, y, average="macro", temperature=t, from_logits=True)) - hard_f1)
            for t in (1.0, 0.1, 1e-3)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-9
    # the same from probabilities (sharpened as p^(1/T)) and for binary logits
    p = torch.softmax(LOGITS2, -1)
    assert float(soft_accuracy(p, y, temperature=1e-3, from_logits=False)) == pytest.approx(
        sk.accuracy_score(y, pred), abs=1e-9)
    assert float(soft_f1(LOGITS1, T_BIN, temperature=1e-4, from_logits=True)) == pytest.approx(
        sk.f1_score(T_BIN, (LOGITS1 > 0).long()), abs=1e-9)


def test_micro_f1_is_accuracy_for_single_label_multiclass():
    # sum_c FP_c = sum_i (1 - p_(i,y_i)) = sum_c FN_c, so micro F1 = TP / B = soft accuracy
    assert float(soft_f1(LOGITS2, T_MULTI, average="micro", from_logits=True)) == pytest.approx(
        float(soft_accuracy(LOGITS2, T_MULTI, from_logits=True)), abs=1e-12)


def test_binary_f1_hand_example():
    # p = (0.9, 0.2, 0.6), y = (1, 0, 1): TP = 1.5, FP = 0.2, FN = 0.5 -> F1 = 3 / (3 + 0.7)
    p = torch.tensor([0.9, 0.2, 0.6], dtype=torch.float64)
    y = torch.tensor([1, 0, 1])
    assert float(soft_f1(p, y)) == pytest.approx(3.0 / 3.7, abs=1e-12)
    assert float(soft_precision(p, y)) == pytest.approx(1.5 / 1.7, abs=1e-12)
    assert float(soft_recall(p, y)) == pytest.approx(0.75, abs=1e-12)


def test_auto_detection_and_validation():
    p = torch.softmax(LOGITS2, -1)
    torch.testing.assert_close(to_probs(p), p)  # rows sum to 1 -> probabilities
    torch.testing.assert_close(to_probs(LOGITS2), p)  # otherwise logits
    with pytest.raises(ValueError, match="average"):
        soft_f1(LOGITS2, T_MULTI, average="weighted")
    with pytest.raises(ValueError, match="2 classes"):
        soft_f1(LOGITS2, T_MULTI)
    with pytest.raises(ValueError, match="target ids"):
        soft_accuracy(LOGITS2, torch.tensor([0, 1, 2, 3, 0, 0, 0]))
    with pytest.raises(ValueError, match="temperature"):
        soft_accuracy(LOGITS2, T_MULTI, temperature=0.0)
    with pytest.raises(ValueError, match="targets"):
        soft_accuracy(LOGITS2, T_MULTI[:3])
    # nothing predicted and nothing present: zero_division, as sklearn
    assert float(soft_f1(torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.long),
                         from_logits=False)) == 0.0
