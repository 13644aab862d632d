"""Truncated-BPTT batching: shapes, content, coverage, and how ranks shard the rows."""
import pytest
import torch

from groundup.errors import ConfigError
from groundup.train.batching import BPTTBatches, batchify, shard_rows


def test_batchify_rows_are_contiguous_stream_pieces():
    # 11 tokens, B=3 -> L=3, the last 2 tokens dropped: rows [0 1 2], [3 4 5], [6 7 8]
    rows = batchify(torch.arange(11), 3)
    assert rows.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_bptt_batches_shift_targets_by_one_and_carry_across_batches():
    rows = batchify(torch.arange(20), 2)                 # [[0..9], [10..19]]
    b = BPTTBatches(rows, bptt=4)                        # 9 predictions per row -> 2 full batches
    assert len(b) == 2
    x0, y0 = b.batch(0)
    x1, y1 = b.batch(1)
    assert x0.tolist() == [[0, 1, 2, 3], [10, 11, 12, 13]]
    assert y0.tolist() == [[1, 2, 3, 4], [11, 12, 13, 14]]
    assert x1.tolist() == [[4, 5, 6, 7], [14, 15, 16, 17]]   # row b continues where it stopped
    with pytest.raises(IndexError):
        b.batch(2)


def test_eval_batches_cover_every_prediction_once():
    rows = batchify(torch.arange(23), 2)                 # L=11 -> 10 predictions per row
    b = BPTTBatches(rows, bptt=4, full_only=False)       # 4 + 4 + 2
    assert [x.shape[1] for x, _ in b] == [4, 4, 2]
    ys = torch.cat([y for _, y in b], dim=1)
    assert torch.equal(ys, rows[:, 1:])
    assert b.tokens_per_epoch == 20


def test_shards_partition_the_global_batch():
    rows = batchify(torch.arange(40), 4)
    parts = [shard_rows(rows, r, 2) for r in range(2)]
    assert torch.equal(torch.cat(parts), rows)
    with pytest.raises(ConfigError, match="divisible"):
        shard_rows(rows, 0, 3)


@pytest.mark.parametrize("n,bs", [(5, 3), (3, 2)])
def test_too_large_batch_is_refused_by_name(n, bs):
    with pytest.raises(ConfigError, match=f"batch_size {bs}"):
        batchify(torch.arange(n), bs)


def test_bptt_zero_is_refused():
    with pytest.raises(ConfigError, match="bptt must be >= 1, got 0"):
        BPTTBatches(batchify(torch.arange(10), 2), 0)
