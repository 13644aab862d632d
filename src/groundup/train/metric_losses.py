"""Training for a discrete metric: smooth surrogates, REINFORCE, and minimum-risk training.

Notation: B batch, C classes, S samples per example (or per batch), K candidates per source,
p_ic = P(y_i = c | x_i) the model's predicted distribution (softmax of logits / T; sigmoid for
a single binary logit), y_ic the one-hot target, T the temperature.

Smooth surrogates replace counts of hard decisions by their expectations under p:
    soft TP_c = sum_i p_ic y_ic,  soft FP_c = sum_i p_ic (1 - y_ic),  soft FN_c = sum_i (1 - p_ic) y_ic
    soft accuracy = (1/B) sum_i p_(i, y_i)          (exactly the expected accuracy)
    soft F_beta   = (1 + beta^2) TP / ((1 + beta^2) TP + beta^2 FN + FP)
(soft F_beta is a ratio of expectations, not the expected F_beta). As T -> 0, p becomes the
one-hot argmax and every surrogate equals the hard metric; on one-hot inputs they are equal.
The loss to minimise is 1 - metric. Relation to cross-entropy: CE = -(1/B) sum_i log p_(i,y_i)
while 1 - soft accuracy = (1/B) sum_i (1 - p_(i,y_i)); their per-example gradients differ by
the factor p_(i,y_i), so the surrogate ignores confidently wrong examples that CE pushes hardest
(see docs/metric_losses.md).

REINFORCE (Williams 1992): for a reward R(a) of sampled decisions a ~ p_theta,
grad E[R] = E[(R(a) - b) grad log p_theta(a)] for any b independent of a; the surrogate
L = -(1/S) sum_s (R_s - b) log p_theta(a_s) (R and b detached) has that gradient in expectation.
Minimum-risk training (Shen et al. 2016, eq. 9-12): over K sampled candidates,
Q(y_k) = p(y_k)^alpha / sum_j p(y_j)^alpha and the loss is sum_k Q(y_k) (1 - reward_k).
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

AVERAGES = ("binary", "macro", "micro")


# --- probabilities from logits or probabilities ----------------------------------------------

def _looks_like_probs(x: torch.Tensor) -> bool:
    if x.numel() == 0 or x.min() < 0 or x.max() > 1:
        return False
    if x.dim() == 2:
        return bool(torch.allclose(x.sum(-1), torch.ones((), dtype=x.dtype), atol=1e-6))
    return True


def to_probs(x: torch.Tensor, temperature: float = 1.0, from_logits: bool | None = None) -> torch.Tensor:
    """(B,) or (B, C) scores -> (B, C) probabilities (B,) inputs are P(positive) / a binary logit.

    ``from_logits=None`` guesses: probabilities iff every value is in [0, 1] and, for (B, C),
    every row sums to 1; pass it explicitly in training code (a (B,) batch of small logits can
    look like probabilities). Probabilities are sharpened as p^(1/T) / sum p^(1/T), which equals
    softmax(log p / T) -- the same tempering the logits get.
    """
    if not isinstance(x, torch.Tensor) or x.dim() not in (1, 2) or not x.is_floating_point():
        raise ValueError(f"expected a float tensor of shape (B,) or (B, C), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    if from_logits is None:
        from_logits = not _looks_like_probs(x.detach())
    if not from_logits and temperature == 1.0:  # already probabilities: no log, exact zeros ok
        return torch.stack([1 - x, x], dim=-1) if x.dim() == 1 else x
    if x.dim() == 1:  # binary: one logit / probability for the positive class
        if from_logits:
            p1 = torch.sigmoid(x / temperature)
        else:
            lp1, lp0 = torch.log(x) / temperature, torch.log1p(-x) / temperature
            p1 = torch.sigmoid(lp1 - lp0)
        return torch.stack([1 - p1, p1], dim=-1)  # (B, 2)
    if from_logits:
        return torch.softmax(x / temperature, dim=-1)
    return torch.softmax(torch.log(x) / temperature, dim=-1)


def _one_hot(target: torch.Tensor, n_classes: int, like: torch.Tensor) -> torch.Tensor:
    if not isinstance(target, torch.Tensor) or target.dim() != 1:
        raise ValueError(f"target must be a 1-D tensor of class ids, got "
                         f"{getattr(target, 'shape', type(target).__name__)}")
    t = target.long()
    if t.numel() and (t.min() < 0 or t.max() >= n_classes):
        raise ValueError(f"target ids must be in [0, {n_classes}), got range "
                         f"[{int(t.min())}, {int(t.max())}]")
    return F.one_hot(t, n_classes).to(like.dtype)  # (B, C)


# --- smooth surrogates -----------------------------------------------------------------------

def soft_accuracy(logits_or_probs: torch.Tensor, target: torch.Tensor, *, temperature: float = 1.0,
                  from_logits: bool | None = None) -> torch.Tensor:
    """Expected accuracy (1/B) sum_i p_(i, y_i): a differentiable scalar; loss = 1 - it."""
    p = to_probs(logits_or_probs, temperature, from_logits)  # (B, C)
    y = _one_hot(target, p.shape[-1], p)
    if y.shape[0] != p.shape[0]:
        raise ValueError(f"{p.shape[0]} predictions but {y.shape[0]} targets")
    return (p * y).sum(-1).mean()


def soft_confusion(probs: torch.Tensor, target: torch.Tensor, *, temperature: float = 1.0,
                   from_logits: bool | None = None):
    """Soft TP, FP, FN per class, each of shape (C,)."""
    p = to_probs(probs, temperature, from_logits)  # (B, C)
    y = _one_hot(target, p.shape[-1], p)
    if y.shape[0] != p.shape[0]:
        raise ValueError(f"{p.shape[0]} predictions but {y.shape[0]} targets")
    tp = (p * y).sum(0)
    fp = (p * (1 - y)).sum(0)
    fn = ((1 - p) * y).sum(0)
    return tp, fp, fn


def _ratio(num: torch.Tensor, den: torch.Tensor, zero_division: float) -> torch.Tensor:
    # where den == 0 (no positives predicted nor present) return zero_division, as sklearn does
    safe = torch.where(den > 0, den, torch.ones_like(den))
    return torch.where(den > 0, num / safe, torch.full_like(num, zero_division))


def _reduce(tp, fp, fn, average: str, f: Callable) -> torch.Tensor:
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    if average == "binary":
        if tp.shape[0] != 2:
            raise ValueError(f"average='binary' needs 2 classes, got {tp.shape[0]}; use 'macro' or 'micro'")
        return f(tp[1], fp[1], fn[1])
    if average == "micro":
        return f(tp.sum(), fp.sum(), fn.sum())
    return f(tp, fp, fn).mean()  # macro: unweighted mean over classes


def soft_fbeta(probs: torch.Tensor, target: torch.Tensor, beta: float = 1.0, average: str = "binary",
               *, temperature: float = 1.0, from_logits: bool | None = None,
               zero_division: float = 0.0) -> torch.Tensor:
    """Soft F_beta = (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP) on soft counts.

    'binary' scores class 1, 'macro' averages per-class F, 'micro' pools the counts (for
    single-label multi-class, micro F = accuracy, soft or hard). Loss = 1 - soft_fbeta.
    """
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta!r}")
    b2 = float(beta) ** 2
    tp, fp, fn = soft_confusion(probs, target, temperature=temperature, from_logits=from_logits)
    return _reduce(tp, fp, fn, average,
                   lambda tp, fp, fn: _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp, zero_division))


def soft_f1(probs: torch.Tensor, target: torch.Tensor, beta: float = 1.0, average: str = "binary",
            **kwargs) -> torch.Tensor:
    """Soft F1 (F_beta with beta = 1 unless given); see :func:`soft_fbeta`. Loss = 1 - soft_f1."""
    return soft_fbeta(probs, target, beta=beta, average=average, **kwargs)


def soft_precision(probs: torch.Tensor, target: torch.Tensor, average: str = "binary", *,
                   temperature: float = 1.0, from_logits: bool | None = None,
                   zero_division: float = 0.0) -> torch.Tensor:
    """Soft precision TP / (TP + FP)."""
    tp, fp, fn = soft_confusion(probs, target, temperature=temperature, from_logits=from_logits)
    return _reduce(tp, fp, fn, average, lambda tp, fp, fn: _ratio(tp, tp + fp, zero_division))


def soft_recall(probs: torch.Tensor, target: torch.Tensor, average: str = "binary", *,
                temperature: float = 1.0, from_logits: bool | None = None,
                zero_division: float = 0.0) -> torch.Tensor:
    """Soft recall TP / (TP + FN)."""
    tp, fp, fn = soft_confusion(probs, target, temperature=temperature, from_logits=from_logits)
    return _reduce(tp, fp, fn, average, lambda tp, fp, fn: _ratio(tp, tp + fn, zero_division))


def hard_fbeta(pred: torch.Tensor, target: torch.Tensor, n_classes: int, beta: float = 1.0,
               average: str = "binary", zero_division: float = 0.0) -> float:
    """F_beta of hard predicted labels (the metric the surrogates approximate), as sklearn."""
    p = F.one_hot(pred.long(), n_classes).double()
    return float(soft_fbeta(p, target, beta, average, from_logits=False, zero_division=zero_division))


# --- REINFORCE --------------------------------------------------------------------------------

class MovingAverageBaseline:
    """b <- m b + (1 - m) mean(R) after each use; the value used is the one from before the
    update, so it does not depend on the current samples and the estimator stays unbiased."""

    def __init__(self, momentum: float = 0.9):
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = momentum
        self.value: float | None = None

    def __call__(self, rewards: torch.Tensor) -> float:
        b = 0.0 if self.value is None else self.value
        mean = float(rewards.detach().mean())
        self.value = mean if self.value is None else self.momentum * self.value + (1 - self.momentum) * mean
        return b


def _sample(logits: torch.Tensor, n: int, generator: torch.Generator | None):
    """Draw n action sets from the policy: (n, B) class ids, and their log-probs (n, B)."""
    if logits.dim() == 1:  # a Bernoulli policy per example
        p1 = torch.sigmoid(logits.detach())
        u = torch.rand((n, logits.shape[0]), generator=generator, dtype=p1.dtype,
                       device=generator.device if generator is not None else p1.device)
        a = (u.to(p1.device) < p1).long()
        logp = -F.binary_cross_entropy_with_logits(
            logits.expand(n, -1), a.to(logits.dtype), reduction="none")
        return a, logp
    probs = torch.softmax(logits.detach(), dim=-1)  # (B, C)
    if generator is not None and generator.device != probs.device:  # a CPU generator, GPU logits
        a = torch.multinomial(probs.cpu(), n, replacement=True, generator=generator).T.to(probs.device)
    else:
        a = torch.multinomial(probs, n, replacement=True, generator=generator).T  # (n, B)
    logp = torch.log_softmax(logits, -1).gather(-1, a.T).T  # (n, B)
    return a, logp


def _greedy(logits: torch.Tensor) -> torch.Tensor:
    return (logits.detach() > 0).long() if logits.dim() == 1 else logits.detach().argmax(-1)


def reinforce_loss(logits: torch.Tensor, reward_fn: Callable[[torch.Tensor], torch.Tensor],
                   baseline="none", *, num_samples: int = 1, level: str = "sample",
                   generator: torch.Generator | None = None, return_details: bool = False):
    """Surrogate whose gradient is the REINFORCE estimate of -grad E[reward].

    Args:
        logits: (B, C) class logits, or (B,) binary logits (Bernoulli policy).
        reward_fn: gets sampled actions a of shape (B,) (class ids) and returns the reward:
            a (B,) tensor of per-example rewards when ``level='sample'`` (e.g. correctness),
            or a scalar for the whole batch when ``level='batch'`` (e.g. the batch F1).
        baseline: "none"; a float; "mean" (leave-one-out mean of the other samples' rewards,
            needs num_samples >= 2); "greedy" (self-critical, Rennie et al. 2017: the reward of
            the argmax actions); or a :class:`MovingAverageBaseline` (or any callable on the
            rewards that does not look at which actions were drawn).
        num_samples: S action sets drawn per call.
        level: "sample": L = -(1/(S B)) sum_s sum_i (R_si - b_si) log p(a_si);
            "batch": L = -(1/S) sum_s (R_s - b) sum_i log p(a_si)  (the batch is one action).
    """
    if level not in ("sample", "batch"):
        raise ValueError(f"level must be 'sample' or 'batch', got {level!r}")
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be an int >= 1, got {num_samples!r}")
    if baseline == "mean" and num_samples < 2:
        raise ValueError("baseline='mean' (leave-one-out) needs num_samples >= 2")
    if not isinstance(logits, torch.Tensor) or logits.dim() not in (1, 2):
        raise ValueError(f"logits must be a (B,) or (B, C) tensor, got {getattr(logits, 'shape', logits)}")
    actions, logp = _sample(logits, num_samples, generator)  # (S, B), (S, B)
    want = (logits.shape[0],) if level == "sample" else ()
    rewards = []
    for a in actions:
        r = torch.as_tensor(reward_fn(a), dtype=logp.dtype, device=logp.device).detach()
        if tuple(r.shape) != want:
            raise ValueError(f"reward_fn must return shape {want} at level={level!r}, got {tuple(r.shape)}")
        rewards.append(r)
    R = torch.stack(rewards)  # (S, B) or (S,)

    if isinstance(baseline, str):
        if baseline == "none":
            b = torch.zeros_like(R)
        elif baseline == "mean":
            b = (R.sum(0, keepdim=True) - R) / (num_samples - 1)
        elif baseline == "greedy":
            rg = torch.as_tensor(reward_fn(_greedy(logits)), dtype=logp.dtype, device=logp.device).detach()
            b = rg.expand_as(R)
        else:
            raise ValueError(f"baseline must be 'none', 'mean', 'greedy', a number or a callable, "
                             f"got {baseline!r}")
    elif callable(baseline):
        b = torch.as_tensor(baseline(R), dtype=logp.dtype, device=logp.device).expand_as(R)
    elif isinstance(baseline, (int, float)):
        b = torch.full_like(R, float(baseline))
    else:
        raise ValueError(f"baseline must be 'none', 'mean', 'greedy', a number or a callable, got {baseline!r}")

    advantage = (R - b).detach()
    if level == "sample":
        loss = -(advantage * logp).mean()
    else:
        loss = -(advantage * logp.sum(-1)).mean()
    if return_details:
        return loss, {"actions": actions, "rewards": R, "baseline": b, "log_probs": logp.detach()}
    return loss


# --- minimum-risk training for sequences -----------------------------------------------------

def minimum_risk_loss(candidate_log_probs: torch.Tensor, rewards: torch.Tensor,
                      alpha: float = 1.0) -> torch.Tensor:
    """Expected risk over sampled candidates (Shen et al. 2016, "Minimum risk training for
    neural machine translation", eq. 11-12).

    candidate_log_probs: (B, K) log p(y_k | x) of each candidate (sum of token log-probs);
    rewards: (B, K) metric of each candidate (e.g. sentence BLEU), treated as constants.
    Q = softmax(alpha * log p) over the K candidates; loss = mean_B sum_k Q_k (1 - reward_k).
    Shen et al. use alpha = 5e-3 and drop duplicate candidates (do that before calling).
    """
    if candidate_log_probs.dim() != 2 or candidate_log_probs.shape != rewards.shape:
        raise ValueError(f"candidate_log_probs and rewards must both be (B, K), got "
                         f"{tuple(candidate_log_probs.shape)} and {tuple(rewards.shape)}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    q = torch.softmax(alpha * candidate_log_probs, dim=-1)  # (B, K)
    cost = 1.0 - rewards.detach().to(q.dtype)
    return (q * cost).sum(-1).mean()
