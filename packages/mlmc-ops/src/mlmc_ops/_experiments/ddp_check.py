"""DDP against one process: the same MLMC steps on ``W`` ranks and alone (float64).

Used by the test suite, by ``bench`` (a small CNN, SGD) and by ``reproduce --nproc N`` (the
Darcy FNO with ``mlmc-R``'s Giles allocation and learning rate, Adam); the workers are
module-level functions so that ``mlmc_ops.launch`` can start them in fresh processes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .._data import MultiLevelData
from .._distributed import DistributedConfig, Shard, launch
from .._trainer import MLMCTrainer

if TYPE_CHECKING:
    from .config import Config
    from .data import DarcyData
    from .methods import Run


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


def _darcy_train(setup: dict[str, Any], steps: int, shard: Shard | None) -> list[torch.Tensor]:
    from fno_conserve import FNO2d, RelLpLoss

    torch.manual_seed(int(setup["seed"]))
    model = FNO2d(**setup["model"]).double()
    data = MultiLevelData.from_fine(setup["x"], setup["y"], tuple(setup["resolutions"]))
    trainer = MLMCTrainer(
        model,
        data,
        RelLpLoss(rule="cells", reduction="none"),
        torch.optim.Adam(model.parameters(), float(setup["lr"])),
        batch_sizes=tuple(setup["batch_sizes"]),
        distributed=None if shard is None else DistributedConfig(shard=shard),
        seed=int(setup["seed"]),
    )
    trainer.fit(steps=steps)
    return [p.detach().clone() for p in model.parameters()]


def darcy_worker(rank: int, world_size: int, setup_file: str, steps: int, out: str) -> None:
    """One rank of the Darcy check (``shard="levels"``); rank 0 writes the parameters."""
    setup = torch.load(setup_file, weights_only=True)
    params = _darcy_train(setup, steps, "levels")
    if rank == 0:
        torch.save({"params": params, "world": world_size}, out)


def darcy_ddp_difference(
    cfg: Config, run: Run, data: DarcyData, seed: int, nprocs: int, folder: Path, steps: int = 5
) -> dict[str, Any]:
    """``run``'s first ``steps`` MLMC steps from its initial model in float64 with the batch
    sizes of its first Giles allocation, on ``nprocs`` gloo ranks and in one process."""
    from .data import model_kwargs

    allocs = [a for a in run.trainer.history.allocations if a["reason"].startswith("giles")]
    sizes = list((allocs[0] if allocs else run.trainer.history.allocations[0])["batch_sizes"])
    keep = min(data.x.shape[0], 4 * sum(sizes))
    setup = {
        "seed": seed,
        "model": model_kwargs(cfg),
        "x": data.x[:keep].detach().cpu().double(),
        "y": data.y[:keep].detach().cpu().double(),
        "resolutions": list(cfg.resolutions),
        "lr": run.lr,
        "batch_sizes": sizes,
    }
    folder.mkdir(parents=True, exist_ok=True)
    setup_file, out = folder / ".ddp-setup.pt", folder / ".ddp-params.pt"
    try:
        torch.save(setup, setup_file)
        t0 = time.perf_counter()
        launch(darcy_worker, nprocs, backend="gloo", args=(str(setup_file), steps, str(out)))
        wall = time.perf_counter() - t0
        ddp = torch.load(out, weights_only=True)["params"]
    finally:
        setup_file.unlink(missing_ok=True)
        out.unlink(missing_ok=True)
    single = _darcy_train(setup, steps, None)
    diff = max(float((a - b).abs().max()) for a, b in zip(ddp, single, strict=True))
    return {"max_abs_difference": diff, "batch_sizes": sizes, "launch_wall_seconds": wall}


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps({s: max_difference(3, s, 2, Path(d)) for s in ("samples", "levels")}))
