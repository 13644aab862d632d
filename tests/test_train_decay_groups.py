"""Decay / no-decay parameter groups: weight decay reaches the weight matrices only."""
from __future__ import annotations

import pytest
import torch

from groundup.train.decay_groups import param_groups
from groundup.train.families import FAMILIES, build_model

from test_lm_contract import SMALL


def _names(model, group):
    ids = {id(p) for p in group["params"]}
    return {n for n, p in model.named_parameters() if id(p) in ids}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_parameter_once_and_no_decay_for_biases_norms_and_ssm_dynamics(name):
    torch.manual_seed(0)
    model = build_model(FAMILIES[name].config(**SMALL[name]), 11)
    groups = param_groups(model, 0.1)
    listed = [p for g in groups for p in g["params"]]
    assert len(listed) == len({id(p) for p in listed}) == len(list(model.parameters()))
    decay, keep = (_names(model, g) for g in groups)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    for n, p in model.named_parameters():
        if p.ndim < 2:                                              # biases, norm gains, D, dt
            assert n in keep, n
        if n.split(".")[-1] in ("A_log", "D", "log_dt", "log_A_real", "A_imag", "nu_log", "theta_log"):
            assert n in keep, n                                     # the SSM's dynamics
    assert any("weight" in n and n not in keep for n in decay)     # the matrices are decayed


def test_embeddings_are_decayed_unless_turned_off_and_a_tied_head_counts_as_one():
    cfg = FAMILIES["lstm"].config(emb_size=8, hidden_size=8, num_layers=1, tie_weights=True)
    model = build_model(cfg, 11)
    on, off = param_groups(model, 0.1, True), param_groups(model, 0.1, False)
    assert "encoder.weight" in _names(model, on[0])
    assert "encoder.weight" in _names(model, off[1]) and "encoder.weight" not in _names(model, off[0])


def test_adamw_leaves_the_no_decay_group_alone():
    # zero gradients: AdamW's update is the decoupled decay alone, p <- p (1 - lr wd)
    from groundup.optim import AdamW

    torch.manual_seed(0)
    model = build_model(FAMILIES["mamba"].config(d_model=8, num_layers=1), 11)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = AdamW(param_groups(model, 0.5), lr=0.1)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for n, p in model.named_parameters():
        if n.endswith(("A_log", ".D")) or p.ndim < 2:
            torch.testing.assert_close(p.detach(), before[n], rtol=0, atol=0)
        else:
            torch.testing.assert_close(p.detach(), before[n] * (1 - 0.1 * 0.5))
