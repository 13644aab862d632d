"""Lab `checkpointing`: the traced pass (event order, what is kept) and a tiny measurement."""
import torch

from groundup.lab import checkpointing as lab
from groundup.train.grad_checkpoint import sequential_segments


def test_trace_of_sqrt_segments_on_nine_layers():
    # torch's partition for 9 layers, 3 segments: [0,3) and [3,6) checkpointed, [6,9) plain.
    events, kept = lab.trace(9, sequential_segments(9, 3))
    fmt = [f"{k}{i + 1}" for k, i in events]
    assert fmt == (["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
                    "B9", "B8", "B7",
                    "R4", "R5", "R6", "B6", "B5", "B4",   # segment 2 rerun when backward gets there
                    "R1", "R2", "R3", "B3", "B2", "B1"])  # then segment 1
    # only segment outputs (3, 6) and the plain tail survive the forward pass
    assert kept == [False, False, True, False, False, True, True, True, True]
    grid = lab.state_grid(9, events, kept)
    live = ((grid == lab.KEPT) | (grid == lab.RECOMPUTED)).sum(axis=0)
    assert live.max() == 5  # vs 9 without checkpointing
    none_events, none_kept = lab.trace(9, [(0, 9, False)])
    assert all(none_kept) and not any(k == "R" for k, _ in none_events)


def test_measure_sqrt_uses_less_memory_than_none():
    torch.set_num_threads(1)
    res = lab.measure([16], width=32, batch=64, reps=1, seed=0)
    assert res[(16, "sqrt")][0] < 0.6 * res[(16, "none")][0]
    assert res[(16, "every")][0] < res[(16, "none")][0]
    assert res[(16, "none")][2] == 0 and res[(16, "every")][2] == 16
    # counted by hooks: sqrt(16) = 4 segments of 4, the last runs plainly, so 3 x 4 layers run
    # again; torch.utils.checkpoint on the same partition recomputes the same layers
    assert res[(16, "sqrt")][2] == res[(16, "sqrt")][3] == 12
    assert res[(16, "torch")][2] == 12
    assert all(counted == predicted for _, _, counted, predicted in res.values())
