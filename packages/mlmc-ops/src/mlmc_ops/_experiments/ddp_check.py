"""DDP against one process: the same MLMC steps on ``W`` ranks and alone (float64, SGD).

Used by the test suite and by ``bench``; the worker is a module-level function so that
``mlmc_ops.launch`` can start it in fresh processes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from .._data import MultiLevelData
from .._distributed import DistributedConfig, Shard, launch
from .._trainer import MLMCTrainer


def _setup(seed: int) -> tuple[torch.nn.Module, MultiLevelData]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(96, 1, 16, 16, generator=g, dtype=torch.float64)
    y = torch.tanh(x) + 0.3 * x.roll(1, -1)
    data = MultiLevelData.from_fine(x, y, (8, 16), n_samples=(64, 32), seed=seed)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular"),
        torch.nn.GELU(),
        torch.nn.Conv2d(4, 1, 3, padding=1, padding_mode="circular"),
    ).double()
    return model, data


def _loss(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return ((p - t) ** 2).mean(dim=(1, 2, 3))


def train(
    steps: int, *, shard: Shard | None, seed: int = 0, batch_sizes: tuple[int, ...] = (8, 4)
) -> tuple[list[torch.Tensor], float]:
    """Parameters after ``steps`` MLMC steps and the training seconds (distributed when
    ``shard`` is given: the process group must be initialised)."""
    torch.set_num_threads(1)
    model, data = _setup(seed)
    trainer = MLMCTrainer(
        model,
        data,
        _loss,
        torch.optim.SGD(model.parameters(), lr=0.05),
        batch_sizes=batch_sizes,
        distributed=None if shard is None else DistributedConfig(shard=shard),
        seed=seed,
    )
    trainer.fit(steps=steps)
    return [p.detach().clone() for p in model.parameters()], trainer.seconds


def worker(rank: int, world_size: int, steps: int, shard: Shard, out: str) -> None:
    """One rank: train, and rank 0 writes the parameters to ``out``."""
    params, seconds = train(steps, shard=shard)
    if rank == 0:
        torch.save({"params": params, "seconds": seconds, "world": world_size}, out)


def max_difference(steps: int, shard: Shard, nprocs: int, folder: Path) -> dict[str, float]:
    """Run ``nprocs`` gloo ranks and one process; the largest parameter difference."""
    out = folder / f"ddp-{shard}.pt"
    t0 = time.perf_counter()
    launch(worker, nprocs, backend="gloo", args=(steps, shard, str(out)))
    wall = time.perf_counter() - t0
    ddp = torch.load(out, weights_only=True)
    single, seconds = train(steps, shard=None)
    diff = max(float((a - b).abs().max()) for a, b in zip(ddp["params"], single, strict=True))
    return {
        "max_abs_difference": diff,
        "ddp_train_seconds": float(ddp["seconds"]),
        "single_train_seconds": seconds,
        "launch_wall_seconds": wall,
    }


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps({s: max_difference(3, s, 2, Path(d)) for s in ("samples", "levels")}))
