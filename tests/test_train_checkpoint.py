"""Checkpoints: round trip, atomic file, checksum/truncation detection, no code execution."""
import io
import random

import numpy as np
import pytest
import torch

from groundup.errors import ModelFormatError
from groundup.train.state_io import load_state, rng_state, save_state, set_rng_state


def _payload():
    torch.manual_seed(0)
    return {"model": {"w": torch.randn(3, 4), "b": torch.zeros(4)}, "step": 7,
            "hidden": (torch.ones(1, 2, 3), torch.zeros(1, 2, 3)), "vocab": ["a", "<eos>"],
            "rng": rng_state()}


def test_round_trip(tmp_path):
    p = tmp_path / "c.pt"
    save_state(p, _payload())
    got = load_state(p)
    ref = _payload()
    assert torch.equal(got["model"]["w"], ref["model"]["w"])
    assert got["step"] == 7 and got["vocab"] == ["a", "<eos>"]
    assert torch.equal(got["hidden"][0], ref["hidden"][0])
    assert not list(tmp_path.glob(".*.tmp"))                 # the temporary file was renamed


def test_rng_states_restore_every_generator(tmp_path):
    save_state(tmp_path / "r.pt", {"rng": rng_state()})
    first = (random.random(), np.random.rand(), torch.rand(3))
    set_rng_state(load_state(tmp_path / "r.pt")["rng"])
    again = (random.random(), np.random.rand(), torch.rand(3))
    assert first[0] == again[0] and first[1] == again[1] and torch.equal(first[2], again[2])


@pytest.mark.parametrize("where", [-1, -500, 200])
def test_any_flipped_payload_byte_is_detected(tmp_path, where):
    p = tmp_path / "c.pt"
    save_state(p, _payload())
    raw = bytearray(p.read_bytes())
    header_len = raw.index(b"\n") + 1
    i = where if where < 0 else header_len + where
    raw[i] ^= 0x01
    p.write_bytes(bytes(raw))
    with pytest.raises(ModelFormatError, match="corrupted"):
        load_state(p)


def test_truncated_and_foreign_files_are_refused(tmp_path):
    p = tmp_path / "c.pt"
    save_state(p, _payload())
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(ModelFormatError, match="truncated"):
        load_state(p)
    q = tmp_path / "plain.pt"
    torch.save({"w": torch.ones(1)}, q)                      # a plain torch file: no header
    with pytest.raises(ModelFormatError, match="not a groundup checkpoint"):
        load_state(q)
    with pytest.raises(ModelFormatError, match="no such checkpoint"):
        load_state(tmp_path / "missing.pt")


class _Evil:
    def __reduce__(self):
        return (exec, ("import os; os.environ['GROUNDUP_PWNED'] = '1'",))


def test_payload_is_loaded_without_executing_code(tmp_path, monkeypatch):
    # A checksum-valid file whose payload is a pickle that would run code if unpickled fully.
    import hashlib
    import os

    from groundup.train import state_io

    monkeypatch.delenv("GROUNDUP_PWNED", raising=False)
    buf = io.BytesIO()
    torch.save({"x": _Evil()}, buf)
    data = buf.getvalue()
    header = state_io.MAGIC + f" 1 {len(data)} {hashlib.sha256(data).hexdigest()}\n".encode()
    p = tmp_path / "evil.pt"
    p.write_bytes(header + data)
    with pytest.raises(ModelFormatError, match="cannot read checkpoint payload"):
        load_state(p)
    assert "GROUNDUP_PWNED" not in os.environ
