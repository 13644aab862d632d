"""The shared plumbing: atomic writes, strict configs, the CLI's error contract, the lab."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from groundup.config import apply_overrides, load_config_file
from groundup.errors import ConfigError
from groundup.io import atomic_write, sha256_file, write_text


def test_atomic_write_leaves_old_file_on_error(tmp_path):
    p = tmp_path / "f.txt"
    write_text(p, "old")
    with pytest.raises(RuntimeError):
        with atomic_write(p) as f:
            f.write("new, half written")
            raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["f.txt"]  # no temp file left behind


def test_sha256_file(tmp_path):
    p = tmp_path / "a"
    p.write_bytes(b"abc")
    assert sha256_file(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@dataclasses.dataclass(frozen=True)
class _Cfg:
    order: int = 3
    rate: float = 0.5
    name: str = "x"
    flag: bool = False


def test_apply_overrides_converts_and_rejects():
    c = apply_overrides(_Cfg(), {"order": "5", "rate": "1e-3", "flag": "true"})
    assert (c.order, c.rate, c.flag) == (5, 1e-3, True)
    with pytest.raises(ConfigError, match="unknown config key 'ordr'"):
        apply_overrides(_Cfg(), {"ordr": 4})
    with pytest.raises(ConfigError, match="order must be an integer"):
        apply_overrides(_Cfg(), {"order": "three"})


def test_load_config_file_toml_and_bad(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("order = 4\nname = 'y'\n")
    assert load_config_file(p) == {"order": 4, "name": "y"}
    bad = tmp_path / "bad.toml"
    bad.write_text("order = = 4")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_config_file(bad)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "groundup.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_cli_help_and_unknown_experiment():
    r = _cli("--help")
    assert r.returncode == 0 and "lab" in r.stdout
    r = _cli("lab", "no-such-experiment", "--out", "/tmp/groundup-test-never-written")
    assert r.returncode == 2
    assert r.stderr.strip().startswith("groundup: error: unknown experiment 'no-such-experiment'")
    assert "Traceback" not in r.stderr


def test_report_written(tmp_path):
    from groundup.lab.base import Result, Table
    from groundup.lab.report import write_report

    res = Result(name="demo", title="Demo", claim="c", verdict="v", summary={"x": 1.5},
                 tables=[Table("t", ["a", "b"], [[1, 2.0]])])
    write_report([res], tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["experiments"]["demo"]["summary"] == {"x": 1.5}
    assert "<table>" in (tmp_path / "report.html").read_text()
    assert "| 1 | 2 |" in (tmp_path / "summary.md").read_text()


def test_live_peak_bytes_counts_live_tensors_only():
    import torch

    from groundup.utils import live_peak_bytes

    def two_alive():  # 1 MB and 2 MB alive together
        a = torch.empty(250_000)
        b = torch.empty(500_000)
        return a, b

    def one_at_a_time():  # the 1 MB tensor is freed before the 2 MB one exists
        torch.empty(250_000)
        torch.empty(500_000)

    assert live_peak_bytes(two_alive) == 3_000_000
    assert live_peak_bytes(one_at_a_time) == 2_000_000


def test_torch_threads_restores_the_count_also_on_error():
    import torch

    from groundup.utils import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with torch_threads(0):  # 0 / None: leave it alone
        assert torch.get_num_threads() == before
