"""Shared fixtures. Tests that need the public corpora use ``shared_data`` and skip cleanly
when it is absent (GROUNDUP_DATA, else ../shared/data)."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("GROUNDUP_PROGRESS", "0")


@pytest.fixture(scope="session")
def shared_data():
    from groundup.data.locate import shared_data_dir

    root = shared_data_dir()
    if root is None:
        pytest.skip("shared corpora not found (set GROUNDUP_DATA)")
    return root


@pytest.fixture(autouse=True)
def _torch_threads():
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)
