"""Data-parallel MLMC steps with ``torch.distributed`` (``gloo`` on CPU, ``nccl`` on GPU).

The DDP contract: every rank computes a gradient and the ranks' gradients are averaged, so the
parameters stay identical. Every rank draws the *same* level indices (one generator seeded alike)
and takes its share of the work:

* ``shard="samples"``: each level batch ``b_l`` is split evenly (``b_l`` divisible by ``W``);
  rank ``r`` scales its shard's sums by ``W`` times the global weight (``1/b_l`` for ``"mean"``),
  so the average of the ranks' gradients is the single-process gradient.
* ``shard="levels"``: the level terms are cut into work items (a term costing more than
  ``1/W`` of the step is split into equal parts), assigned largest-first to the least-loaded rank
  (LPT); each rank scales its items by ``W`` times the global weight. Needs at least ``W`` items.

The gradients are averaged with one ``all_reduce`` of the flattened gradient after the backward
pass, not by wrapping the model in ``DistributedDataParallel``: an MLMC step runs the model
several times (one call per resolution) before one backward, which DDP's reducer does not expect,
and a parameter unused on one rank then needs no special treatment (its gradient counts as zero).
"""

from __future__ import annotations

import math
import os
import tempfile
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.distributed as dist
from torch import nn

from sciml_core import InputError

__all__ = ["BACKENDS", "SHARDS", "Backend", "DistributedConfig", "Shard", "launch"]

Shard = Literal["samples", "levels"]
SHARDS: tuple[Shard, ...] = typing.get_args(Shard)
"""How the work of one step is split across ranks."""

Backend = Literal["gloo", "nccl"]
BACKENDS: tuple[Backend, ...] = typing.get_args(Backend)
"""``torch.distributed`` backends offered by :func:`launch`."""


@dataclass(frozen=True)
class DistributedConfig:
    """How an :class:`~mlmc_ops.MLMCTrainer` splits its steps (``torch.distributed`` must be
    initialised: :func:`launch` does it).

    Attributes:
        shard: ``"samples"`` or ``"levels"``.
    """

    shard: Shard = "samples"

    def __post_init__(self) -> None:
        if self.shard not in SHARDS:
            raise InputError(f"shard: expected one of {SHARDS}, got {self.shard!r}")


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of the initialised process group."""
    if not dist.is_available() or not dist.is_initialized():
        raise InputError(
            "distributed: torch.distributed is not initialised; start the workers with "
            "mlmc_ops.launch (or torchrun and init_process_group)"
        )
    return dist.get_rank(), dist.get_world_size()


def shard_items(
    batch_sizes: Sequence[int], costs: Sequence[float], world_size: int, rank: int, shard: Shard
) -> list[tuple[int, torch.Tensor]]:
    """This rank's work items ``(level, rows of the level batch)``.

    Raises:
        InputError: ``"samples"`` with a batch size not divisible by ``world_size``;
            ``"levels"`` with fewer items than ranks.
    """
    if shard == "samples":
        bad = [b for b in batch_sizes if b % world_size]
        if bad:
            raise InputError(
                f"batch_sizes: shard='samples' needs every level batch divisible by the "
                f"{world_size} ranks, got {list(batch_sizes)}"
            )
        return [
            (j, torch.arange(rank * (b // world_size), (rank + 1) * (b // world_size)))
            for j, b in enumerate(batch_sizes)
        ]
    work = [b * c for b, c in zip(batch_sizes, costs, strict=True)]
    share = sum(work) / world_size
    items: list[tuple[float, int, torch.Tensor]] = []
    for j, (b, w) in enumerate(zip(batch_sizes, work, strict=True)):
        parts = min(b, max(1, math.ceil(w / share - 1e-9)))
        for rows in torch.arange(b).tensor_split(parts):
            items.append((w * len(rows) / b, j, rows))
    if len(items) < world_size:
        raise InputError(
            f"distributed: shard='levels' cut the step into {len(items)} work item(s), fewer than "
            f"the {world_size} ranks; use shard='samples' or larger batches"
        )
    load = [0.0] * world_size
    mine: list[tuple[int, torch.Tensor]] = []
    for w, j, rows in sorted(items, key=lambda it: (-it[0], it[1], int(it[2][0]))):
        r = min(range(world_size), key=lambda k: (load[k], k))
        load[r] += w
        if r == rank:
            mine.append((j, rows))
    return sorted(mine, key=lambda it: (it[0], int(it[1][0])))


def average_gradients(model: nn.Module) -> None:
    """Replace every parameter's gradient by its average over the ranks (one ``all_reduce``)."""
    params = [p for p in model.parameters() if p.requires_grad]
    grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= dist.get_world_size()
    start = 0
    for p in params:
        n = p.numel()
        p.grad = flat[start : start + n].view_as(p).clone()
        start += n


def _worker(
    rank: int,
    fn: Callable[..., Any],
    world_size: int,
    backend: str,
    init_file: str,
    args: tuple[Any, ...],
) -> None:
    dist.init_process_group(
        backend, init_method=f"file://{init_file}", rank=rank, world_size=world_size
    )
    try:
        if backend == "nccl":
            torch.cuda.set_device(rank)
        fn(rank, world_size, *args)
        # every rank finishes its work (rank 0 may still be saving) before any tears the group
        # down: a peer closing its gloo connections early aborted rank 0 ("terminate called
        # without an active exception", seen once in CI under load)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def launch(
    fn: Callable[..., Any],
    nprocs: int,
    *,
    backend: Backend = "gloo",
    args: tuple[Any, ...] = (),
) -> None:
    """Run ``fn(rank, world_size, *args)`` in ``nprocs`` processes with an initialised process
    group (file rendezvous in a temporary folder; ``fn`` must be importable: a module-level
    function).

    Raises:
        InputError: ``nprocs < 1``, an unknown backend, or ``nccl`` without enough GPUs.
    """
    if isinstance(nprocs, bool) or not isinstance(nprocs, int) or nprocs < 1:
        raise InputError(f"nprocs: expected a positive integer, got {nprocs!r}")
    if backend not in BACKENDS:
        raise InputError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if backend == "nccl" and torch.cuda.device_count() < nprocs:
        raise InputError(f"backend: 'nccl' needs {nprocs} GPUs, found {torch.cuda.device_count()}")
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as tmp:
        init_file = os.path.join(tmp, "rendezvous")
        mp.spawn(_worker, args=(fn, nprocs, backend, init_file, args), nprocs=nprocs, join=True)
