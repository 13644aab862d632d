"""Truncated-BPTT batches over one token stream, and how ranks share them.

Notation: N tokens in the stream, B rows (the batch size), T the BPTT length, W ranks.

The stream is cut into B contiguous rows (``batchify``), as in Zaremba et al.'s and PyTorch's
word-language-model examples: row b holds tokens ``[b*L, (b+1)*L)`` with ``L = N // B`` (the
last ``N mod B`` tokens are dropped). Batch i is then the columns ``[i*T, i*T+T)`` as inputs and
the same columns shifted by one as targets, so the hidden state of row b at the end of batch i
is the right initial state for row b in batch i+1.

Under data parallelism each rank owns a contiguous block of B/W rows of the *global* batch
(:func:`shard_rows`). Every row is an independent stream with its own hidden state, so W ranks
each taking the mean loss over their (B/W) x T tokens and averaging gradients (what
DistributedDataParallel does) compute exactly the gradient of the global mean loss over B x T
tokens: the single-process run with the same global batch, up to float summation order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch

from ..errors import ConfigError


def batchify(stream: torch.Tensor, batch_size: int) -> torch.Tensor:
    """(N,) token ids -> (B, N // B): B contiguous rows of the stream."""
    if stream.dim() != 1:
        raise ConfigError(f"token stream must be 1-D, got shape {tuple(stream.shape)}")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    L = stream.numel() // batch_size
    if L < 2:
        raise ConfigError(f"batch_size {batch_size} is too large for a stream of "
                          f"{stream.numel()} tokens (each row needs at least 2)")
    return stream[: L * batch_size].view(batch_size, L).contiguous()  # (B, L)


def shard_rows(rows: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank ``rank``'s block of B/W rows of a (B, L) batchified stream."""
    B = rows.shape[0]
    if world_size < 1 or not 0 <= rank < world_size:
        raise ConfigError(f"rank {rank} is not in a world of size {world_size}")
    if B % world_size:
        raise ConfigError(f"batch_size {B} must be divisible by the number of processes "
                          f"({world_size}) so every rank gets the same number of rows")
    per = B // world_size
    return rows[rank * per:(rank + 1) * per]


@dataclass(frozen=True)
class BPTTBatches:
    """The batches of one epoch over a (B, L) block of rows.

    ``full_only`` (training) keeps only batches of exactly T steps, as Zaremba's code does;
    evaluation uses every position, the last batch being shorter.
    """

    rows: torch.Tensor  # (B, L)
    bptt: int
    full_only: bool = True

    def __post_init__(self) -> None:
        if self.bptt < 1:
            raise ConfigError(f"bptt must be >= 1, got {self.bptt}")

    def __len__(self) -> int:
        n_pred = self.rows.shape[1] - 1  # positions that have a next token
        return n_pred // self.bptt if self.full_only else -(-n_pred // self.bptt)

    def batch(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch i: inputs x (B, T) and next-token targets y (B, T)."""
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} out of range (0..{len(self) - 1})")
        start = i * self.bptt
        T = min(self.bptt, self.rows.shape[1] - 1 - start)
        x = self.rows[:, start:start + T]          # (B, T)
        y = self.rows[:, start + 1:start + 1 + T]  # (B, T)
        return x, y

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for i in range(len(self)):
            yield self.batch(i)

    @property
    def tokens_per_epoch(self) -> int:
        return sum(x.numel() for x, _ in self) if not self.full_only else \
            len(self) * self.bptt * self.rows.shape[0]
