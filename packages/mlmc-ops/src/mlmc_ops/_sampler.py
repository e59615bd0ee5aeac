"""Batches of an MLMC step: which samples each level term uses, under two pairings.

* ``"disjoint"`` (default): the level batches are disjoint sample sets (separate pools are drawn
  independently; a shared pool is permuted once per step and cut into consecutive blocks), so the
  level terms are independent and ``Var(g_hat) = sum_l V_l / N_l`` exactly (Giles 2008).
* ``"nested"``: the authors' ``hierarchy`` pairing (``mlmc_optim/batcher.py``): level ``l``'s batch
  is the first ``b_l`` samples of level ``l-1``'s batch. Unbiased too, with cross-level
  covariances. Needs a shared pool and non-increasing batch sizes.

Indices come from one ``torch.Generator`` (its state is checkpointed), so every rank of a
distributed run that seeds it alike draws the same indices.
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from sciml_core import InputError, SeedLike, as_torch_generator

from ._data import MultiLevelData

__all__ = ["PAIRINGS", "LevelBatch", "MLMCBatch", "MLMCSampler", "Pairing"]

Pairing = Literal["disjoint", "nested"]
PAIRINGS: tuple[Pairing, ...] = typing.get_args(Pairing)
"""How the sample sets of the level terms are coupled."""


@dataclass(frozen=True)
class LevelBatch:
    """The samples of level term ``l`` in one step: fine half at ``n_l``, coarse half at
    ``n_{l-1}`` (``None`` for level 0), and their ``ids``."""

    x: torch.Tensor
    y: torch.Tensor
    x_coarse: torch.Tensor | None
    y_coarse: torch.Tensor | None
    ids: torch.Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def select(self, rows: torch.Tensor) -> LevelBatch:
        """The sub-batch of ``rows`` (used to shard a batch across ranks)."""
        return LevelBatch(
            self.x[rows],
            self.y[rows],
            None if self.x_coarse is None else self.x_coarse[rows],
            None if self.y_coarse is None else self.y_coarse[rows],
            self.ids[rows],
        )


@dataclass(frozen=True)
class MLMCBatch:
    """One :class:`LevelBatch` per level, coarsest first."""

    levels: tuple[LevelBatch, ...]


def check_batch_sizes(batch_sizes: Sequence[int], n_levels: int) -> tuple[int, ...]:
    """Validate one positive integer per level."""
    sizes = tuple(batch_sizes)
    if len(sizes) != n_levels or any(
        isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in sizes
    ):
        raise InputError(
            f"batch_sizes: expected {n_levels} positive integers (one per level), got {list(sizes)}"
        )
    return sizes


class MLMCSampler:
    """Draws the level batches of each step from a :class:`MultiLevelData`.

    Args:
        data: the level pools.
        batch_sizes: ``(b_0, ..., b_L)``.
        pairing: ``"disjoint"`` or ``"nested"``.
        seed: seeds the index generator.

    Examples:
        >>> x = torch.randn(32, 1, 8, 8)
        >>> data = MultiLevelData.from_fine(x, x, (4, 8))
        >>> s = MLMCSampler(data, (8, 2), pairing="nested", seed=0)
        >>> a, b = s.indices()
        >>> bool(torch.equal(b, a[:2]))
        True
    """

    def __init__(
        self,
        data: MultiLevelData,
        batch_sizes: Sequence[int],
        *,
        pairing: Pairing = "disjoint",
        seed: SeedLike = 0,
    ) -> None:
        if pairing not in PAIRINGS:
            raise InputError(f"pairing: expected one of {PAIRINGS}, got {pairing!r}")
        if pairing == "nested" and not data.shared_pool:
            raise InputError(
                "pairing: 'nested' needs one shared pool (every level holding the same samples); "
                "build the data with an int n_samples"
            )
        self.data = data
        self.pairing: Pairing = pairing
        self.generator = as_torch_generator(seed)
        self.batch_sizes = self._check(batch_sizes)

    def _check(self, batch_sizes: Sequence[int]) -> tuple[int, ...]:
        sizes = check_batch_sizes(batch_sizes, self.data.n_levels)
        pools = self.data.n_samples
        if self.pairing == "nested":
            if any(b > a for a, b in itertools.pairwise(sizes)):
                raise InputError(
                    f"batch_sizes: the nested pairing needs non-increasing sizes, got {list(sizes)}"
                )
            if sizes[0] > pools[0]:
                raise InputError(f"batch_sizes: {sizes[0]} exceeds the pool of {pools[0]} samples")
        elif self.data.shared_pool:
            if sum(sizes) > pools[0]:
                raise InputError(
                    f"batch_sizes: disjoint level batches {list(sizes)} need {sum(sizes)} samples, "
                    f"the shared pool has {pools[0]}"
                )
        elif any(b > n for b, n in zip(sizes, pools, strict=True)):
            raise InputError(f"batch_sizes: {list(sizes)} exceed the level pools {list(pools)}")
        return sizes

    def set_batch_sizes(self, batch_sizes: Sequence[int]) -> None:
        """Use ``batch_sizes`` from the next step on (a new allocation)."""
        self.batch_sizes = self._check(batch_sizes)

    def indices(self) -> list[torch.Tensor]:
        """Rows of each level pool used by the next step (advances the generator)."""
        sizes = self.batch_sizes
        g = self.generator
        if self.pairing == "nested":
            first = torch.randperm(self.data.n_samples[0], generator=g)[: sizes[0]]
            return [first[:b] for b in sizes]
        if self.data.shared_pool:
            perm = torch.randperm(self.data.n_samples[0], generator=g)
            starts = [sum(sizes[:j]) for j in range(len(sizes))]
            return [perm[s : s + b] for s, b in zip(starts, sizes, strict=True)]
        return [
            torch.randperm(n, generator=g)[:b]
            for n, b in zip(self.data.n_samples, sizes, strict=True)
        ]

    def batch(self, indices: Sequence[torch.Tensor]) -> MLMCBatch:
        """The :class:`MLMCBatch` of the given pool rows."""
        out = []
        for lev, rows in zip(self.data.levels, indices, strict=True):
            out.append(
                LevelBatch(
                    lev.x[rows],
                    lev.y[rows],
                    None if lev.x_coarse is None else lev.x_coarse[rows],
                    None if lev.y_coarse is None else lev.y_coarse[rows],
                    lev.ids[rows],
                )
            )
        return MLMCBatch(tuple(out))

    def sample(self) -> MLMCBatch:
        """The next step's batch."""
        return self.batch(self.indices())

    def state_dict(self) -> dict[str, Any]:
        """Generator state and batch sizes (for checkpoints)."""
        return {"generator": self.generator.get_state(), "batch_sizes": list(self.batch_sizes)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.generator.set_state(state["generator"])
        self.batch_sizes = self._check([int(b) for b in state["batch_sizes"]])
