"""`groundup rf`: the table, --json, user files, and one-line errors with exit code 2."""
import json
import subprocess
import sys
import textwrap

import pytest

from groundup.cli import main

USER_FILE = textwrap.dedent("""
    import torch.nn as nn

    def build():
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 8, 3, dilation=2, padding=2))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 4, 5, stride=2)

        def forward(self, x):
            return self.conv(x)

    def attention():
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Softmax2d())

    def broken():
        raise RuntimeError("no weights here")

    def not_a_model():
        return 42

    NUMBER = 3
""")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "groundup.cli", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture()
def user_file(tmp_path):
    p = tmp_path / "mynet.py"
    p.write_text(USER_FILE)
    return p


def test_table_for_a_zoo_model_in_a_subprocess():
    r = run_cli("rf", "groundup.vision.zoo:vgg16", "--input", "224x224")
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("| features.30 "))
    assert "| 212 | 32 | 15.5 |" in row  # pool5, the published 212 / 32
    assert "effective padding 90" in r.stdout


def test_json_for_a_user_file_in_a_subprocess(user_file):
    r = run_cli("rf", f"{user_file}:build", "--input", "32x32", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # 3x3 (3) -> pool 2/2 (4, j 2) -> 3x3 dilation 2 at j 2: + 4*2 = 12
    assert out["size"] == [12, 12] and out["jump"] == [2, 2]
    assert [row["kind"] for row in out["layers"]] == ["input", "conv", "maxpool", "conv"]


def test_bad_spec_is_one_line_in_a_subprocess():
    r = run_cli("rf", "groundup.vision.zoo", "--input", "224x224")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("groundup: error:")


def test_class_factory_and_1d_input(user_file, capsys):
    assert main(["rf", f"{user_file}:Net", "--input", "2x100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == [5] and out["jump"] == [2] and out["input_shape"] == [1, 2, 100]


@pytest.mark.parametrize("spec,size,message", [
    ("groundup.vision.nosuch:f", "224x224", "cannot import"),
    ("groundup.vision.zoo:nosuch", "224x224", "has no attribute 'nosuch'"),
    ("{file}:NUMBER", "32x32", "int is not callable"),
    ("{file}:broken", "32x32", "calling it failed: RuntimeError: no weights here"),
    ("{file}:not_a_model", "32x32", "returned int, not a torch.nn.Module"),
    ("{file}:attention", "32x32", "no receptive-field rule for module Softmax2d"),
    ("{dir}/missing.py:build", "32x32", "no such file"),
    ("groundup.vision.zoo:vgg16", "abc", "expected sizes like 224x224"),
    ("groundup.vision.zoo:vgg16", "224x0", "positive integers"),
    ("groundup.vision.zoo:vgg16", "16x16", "does not run on an input of shape (1, 3, 16, 16)"),
])
def test_bad_input_is_one_clear_line(user_file, capsys, spec, size, message):
    spec = spec.format(file=user_file, dir=user_file.parent)
    assert main(["rf", spec, "--input", size]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("groundup: error:") and message in err, err


def test_assume_pointwise_escape_hatch(user_file, capsys):
    assert main(["rf", f"{user_file}:attention", "--input", "32x32", "--assume-pointwise"]) == 0
    out = capsys.readouterr().out
    assert "assumed pointwise" in out
