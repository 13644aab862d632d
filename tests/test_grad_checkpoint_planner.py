"""Checkpoint planner: hand-checked plans, exactness against brute force, and its measurements."""
import itertools
import random

import pytest
import torch

from groundup.errors import ConfigError
from groundup.train.grad_checkpoint_plan import (chen_greedy, parse_budget, plan_checkpoints,
                                               plan_peak, plan_recompute, profile_layers)
from groundup.train.grad_checkpoint import run_segments, sequential_segments

ONES = [1, 1, 1, 1]


def test_hand_checked_four_unit_layers():
    # s = o = 1 per layer; the network input is the caller's (free).
    # budget 4: everything plain, stored 4, nothing recomputed.
    assert plan_checkpoints(ONES, ONES, 4) == [(0, 4, False)]
    # budget 3: checkpoint layer 0 alone (input free; burst 1 at the start of backward's end),
    # keep 1..3 plainly: stored 3, peak max(0+0+1, 3) = 3, one layer recomputed.
    plan = plan_checkpoints(ONES, ONES, 3)
    assert plan == [(0, 1, True), (1, 4, False)]
    assert (plan_peak(plan, ONES, ONES), plan_recompute(plan)) == (3, 1)
    # budget 2: one layer recomputed leaves 3 plain (3 > 2); [0,2) checkpointed + 2,3 plain:
    # stored 0 + 1 + 1 = 2, burst 0 + 0 + 2 = 2 -> peak 2 with 2 layers recomputed.
    plan = plan_checkpoints(ONES, ONES, 2)
    assert plan == [(0, 2, True), (2, 4, False)]
    assert (plan_peak(plan, ONES, ONES), plan_recompute(plan)) == (2, 2)
    # budget 1: any second segment holds an input (1) while recomputing a layer (1): no plan.
    with pytest.raises(ConfigError, match="budget of 1 bytes"):
        plan_checkpoints(ONES, ONES, 1)


def test_cheap_big_layers_are_dropped_first():
    # Chen Sec. 4: drop what is cheap to recompute and big to keep. s = [4, 1, 4, 1],
    # cost = [1, 10, 1, 10], budget 7. All plain stores 10 > 7. Checkpointing layer 0 alone
    # (cost 1; its input is the caller's) stores 1 + 4 + 1 = 6, burst 0 + 0 + 4 = 4: peak 6.
    saved, output, cost = [4, 1, 4, 1], [1, 1, 1, 1], [1, 10, 1, 10]
    plan = plan_checkpoints(saved, output, 7, cost)
    assert plan == [(0, 1, True), (1, 4, False)]
    assert plan_recompute(plan, cost) == 1 and plan_peak(plan, saved, output) == 6
    # budget 5: keeping layer 1 plainly (1 stored) makes layer 2's recomputation 1 + o_1 + 4
    # = 6 > 5, so the expensive layer 1 must be recomputed with layer 0: [0,2) checkpointed
    # (burst 4 + 1 = 5), 2 and 3 plain (stored 4 + 1 = 5): peak 5, cost 1 + 10 = 11.
    plan = plan_checkpoints(saved, output, 5, cost)
    assert plan == [(0, 2, True), (2, 4, False)]
    assert plan_recompute(plan, cost) == 11 and plan_peak(plan, saved, output) == 5
    with pytest.raises(ConfigError, match="budget of 4 bytes"):
        plan_checkpoints(saved, output, 4, cost)


def all_plans(n):
    for cuts in itertools.product([False, True], repeat=n - 1):
        bounds = [0] + [i + 1 for i, c in enumerate(cuts) if c] + [n]
        segs = list(zip(bounds[:-1], bounds[1:]))
        for flags in itertools.product([False, True], repeat=len(segs)):
            yield [(a, b, f) for (a, b), f in zip(segs, flags)]


@pytest.mark.parametrize("trial", range(30))
def test_planner_is_optimal_against_brute_force(trial):
    rng = random.Random(trial)
    n = rng.randint(1, 6)
    saved = [rng.randint(0, 5) for _ in range(n)]
    output = [rng.randint(1, 4) for _ in range(n)]
    cost = [rng.randint(1, 5) for _ in range(n)]
    budget = rng.randint(1, sum(saved) + 2)
    feasible = [p for p in all_plans(n) if plan_peak(p, saved, output) <= budget]
    if not feasible:
        with pytest.raises(ConfigError):
            plan_checkpoints(saved, output, budget, cost)
        return
    plan = plan_checkpoints(saved, output, budget, cost)
    assert plan_peak(plan, saved, output) <= budget
    assert plan_recompute(plan, cost) == min(plan_recompute(p, cost) for p in feasible)


def test_default_is_sqrt_segments_and_chen_greedy():
    assert plan_checkpoints([1] * 16, [1] * 16, None) == sequential_segments(16, None)
    # greedy with threshold 3 on unit layers: a boundary after every 4th layer
    assert chen_greedy([1] * 10, [1] * 10, 3) == [(0, 4, True), (4, 8, True), (8, 10, True)]


def test_profile_layers_by_hand():
    # Linear(8,8) on a (4,8) float32 batch: addmm saves the input (the network input: excluded,
    # or the previous ReLU's output: already counted) and the weight (a parameter: excluded);
    # ReLU saves its output, 4 * 8 * 4 = 128 bytes. Every output is 128 bytes.
    net = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(),
                              torch.nn.Linear(8, 8), torch.nn.ReLU())
    prof = profile_layers(net, torch.randn(4, 8))
    assert prof.saved == (0, 128, 0, 128)
    assert prof.output == (128,) * 4


def test_planned_run_matches_plain_gradients():
    torch.manual_seed(0)
    net = torch.nn.Sequential(*[m for _ in range(5) for m in
                                (torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.Dropout(0.2))])
    x = torch.randn(3, 8)
    prof = profile_layers(net, x)
    plan = plan_checkpoints(prof.saved, prof.output, sum(prof.saved) // 2)
    assert any(c for _, _, c in plan) and plan_peak(plan, prof.saved, prof.output) <= sum(prof.saved) // 2
    grads = []
    for forward in (net, lambda v: run_segments(net, plan, v)):
        net.zero_grad()
        torch.manual_seed(5)
        forward(x).sum().backward()
        grads.append([p.grad.clone() for p in net.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*grads))


def test_bad_plans_and_budgets():
    with pytest.raises(ConfigError, match="consecutive"):
        plan_peak([(0, 2, True), (3, 4, False)], ONES, ONES)
    with pytest.raises(ConfigError, match="covers 3 layers"):
        plan_peak([(0, 3, True)], ONES, ONES)
    with pytest.raises(ConfigError, match="-5"):
        plan_checkpoints(ONES, ONES, -5)
    assert parse_budget("1.5KiB") == 1536 and parse_budget("2MB") == 2_000_000
    with pytest.raises(ConfigError, match="lots"):
        parse_budget("lots")


def test_memory_model_matches_measured_peaks():
    # The planner's model counts saved activations only; the measured step also holds the loss
    # input, its gradient and a few gradient buffers of one activation each (the ~5 MB offset in
    # docs/checkpointing.md at 1 MB per activation; 4.2 to 5.2 activations here). So measured -
    # model must lie in [0, 7 activations] for every plan; a leak (a segment keeping its
    # activations) would add several activations per segment and fail. The batch is large
    # against the width so that weight-sized buffers (4 kB) stay small beside an activation.
    from groundup.lab.checkpointing import _blocks, live_peak_bytes

    torch.set_num_threads(1)
    n, width, batch = 16, 32, 512
    act = batch * width * 4
    blocks = _blocks(n, width, seed=0)
    for p in (p for b in blocks for p in b.parameters()):
        p.grad = torch.zeros_like(p)
    x = torch.randn(batch, width)
    prof = profile_layers(blocks, x)
    plans = [[(0, n, False)], [(i, i + 1, True) for i in range(n)], sequential_segments(n, None),
             plan_checkpoints(prof.saved, prof.output, sum(prof.saved) // 3)]
    for plan in plans:
        def step():
            run_segments(blocks, plan, x).pow(2).mean().backward()
        step()
        gap = live_peak_bytes(step) - plan_peak(plan, prof.saved, prof.output)
        assert 0 <= gap <= 7 * act, (plan, gap / act)
