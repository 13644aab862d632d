"""The one language-model contract: every registered family is built as ``Model(config, V)``
and answers ``forward(tokens, state=None) -> (logits (B, T, V), state)``; the state carried
from one segment to the next gives the logits of one pass over the whole sequence; and the
train/ package has no import cycle and imports nothing above it."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
import torch

from groundup.errors import ConfigError
from groundup.train.config import LMConfig, make_config
from groundup.train.families import FAMILIES, build_model, family_of, register_family

SRC = Path(__file__).resolve().parents[1] / "src" / "groundup"

# the smallest config of each family (a family missing here fails the first test: add it)
SMALL = {
    **{k: dict(emb_size=8, hidden_size=8, num_layers=2) for k in ("rnn", "rnn_relu", "lstm", "gru")},
    "transformer": dict(d_model=8, n_heads=2, num_layers=2, d_ff=16, max_len=32),
    "mamba": dict(d_model=8, num_layers=2),
    "s4": dict(d_model=8, num_layers=2, d_state=4),
    "lru": dict(d_model=8, num_layers=2, d_state=4),
    "retnet": dict(d_model=8, n_heads=2, num_layers=2, d_ff=16),
    "rwkv": dict(d_model=8, num_layers=2, chunk=4),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_follows_the_contract(name):
    assert name in SMALL, f"add the smallest config of {name!r} to SMALL"
    cfg = FAMILIES[name].config(**SMALL[name])
    assert family_of(cfg) == name
    torch.manual_seed(0)
    model = build_model(cfg, 11).eval()
    assert isinstance(model, torch.nn.Module)
    x = torch.randint(0, 11, (3, 20))
    with torch.no_grad():
        whole, state = model(x)                                 # state defaults to None
        assert whole.shape == (3, 20, 11)
        a, st = model(x[:, :7], None)
        if st is None:                                          # a stateless model (Transformer)
            return
        b, _ = model(x[:, 7:], st)
    torch.testing.assert_close(torch.cat([a, b], 1), whole, rtol=1e-4, atol=1e-4)


def test_each_config_class_names_one_family_and_configs_are_frozen():
    @dataclasses.dataclass(frozen=True)
    class Other:
        width: int = 3

    with pytest.raises(ValueError, match="already belongs to 'lstm'"):
        register_family("lstm2", FAMILIES["lstm"].config, "x:y")
    with pytest.raises(TypeError, match="frozen dataclass"):
        register_family("bad", dataclasses.dataclass(type("Bad", (), {})), "x:y")
    with pytest.raises(ConfigError, match="not the config of a registered model family"):
        LMConfig(model=Other())
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_config("quick").model.hidden_size = 3


def test_switching_family_keeps_shared_options_only_between_recurrent_cells():
    gru = make_config("ptb-medium", overrides={"model": "gru"})
    assert (gru.family, gru.model.hidden_size, gru.model.dropout) == ("gru", 650, 0.5)
    mamba = make_config("ptb-medium", overrides={"model": "mamba"})
    assert mamba.model == FAMILIES["mamba"].config()         # its own defaults


def _imports(path: Path) -> set[str]:
    """groundup modules imported anywhere in ``path`` (module level or inside functions)."""
    mod = "groundup." + ".".join(path.relative_to(SRC).with_suffix("").parts)
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("groundup"):
                out.add(base)
                out.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("groundup"))
    return out


def _graph(package: str) -> dict[str, set[str]]:
    files = {("groundup." + ".".join(p.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__"): p
             for p in (SRC / package).rglob("*.py")}
    return {m: {i for i in _imports(p) if i in files and i != m} for m, p in files.items()}


def test_train_has_no_import_cycle_and_imports_nothing_above_it():
    graph = _graph("train")
    for m, deps in graph.items():
        seen, todo = set(), list(deps)
        while todo:
            d = todo.pop()
            assert d != m, f"import cycle through {m}"
            if d not in seen:
                seen.add(d)
                todo.extend(graph.get(d, ()))
    upward = {(p.name, i) for p in (SRC / "train").rglob("*.py") for i in _imports(p)
              if i.startswith(("groundup.lab", "groundup.commands", "groundup.cli"))}
    assert not upward
