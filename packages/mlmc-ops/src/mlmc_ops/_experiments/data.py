"""Darcy data, model and loss of the reproduction (``fno-conserve`` recipe D4).

Inputs ``(a - 7.5)/4.5``, outputs ``u/0.025`` at every level (the same fixed normalisation at
every level keeps the corrections small). Index ranges, all from one seed:
``[0, pool)`` training, then validation, test, and the two pilot pools (R and S share their
random inputs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from .._data import MultiLevelData
from .config import Config


def norm_x(a: torch.Tensor) -> torch.Tensor:
    """Input normalisation ``(a - 7.5)/4.5`` (``a`` in {3, 12})."""
    return (a - 7.5) / 4.5


def norm_y(u: torch.Tensor) -> torch.Tensor:
    """Output normalisation ``u/0.025``."""
    return u / 0.025


def model_kwargs(cfg: Config) -> dict[str, Any]:
    """Keyword arguments of ``fno_conserve.FNO2d`` for ``cfg``."""
    return {
        "in_channels": 1,
        "out_channels": 1,
        "modes": cfg.modes,
        "width": cfg.width,
        "n_layers": 4,
        "grid": "cells",
        "padding": 0.125,
    }


def make_model(cfg: Config, seed: int, device: str = "cpu") -> torch.nn.Module:
    """``FNO2d`` of ``cfg`` initialised from ``seed``."""
    from fno_conserve import FNO2d

    torch.manual_seed(seed)
    return FNO2d(**model_kwargs(cfg)).to(device)


def make_loss() -> Any:
    """``RelLpLoss(rule="cells", reduction="none")``: per-sample relative L2 on cells."""
    from fno_conserve import RelLpLoss

    return RelLpLoss(rule="cells", reduction="none")


def rel_error(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 50) -> float:
    """Mean relative L2 error of ``model`` on ``(x, y)`` (no gradient, in chunks)."""
    loss = make_loss()
    was = model.training
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], chunk):
            total += float(loss(model(x[i : i + chunk]), y[i : i + chunk]).sum())
    model.train(was)
    return total / x.shape[0]


@dataclass
class DarcyData:
    """Everything the Darcy study trains and evaluates on (float32, on the run's device).

    Attributes:
        x, y: training pool at the finest grid (hierarchy R's fine data).
        train: ``{"R": ..., "S": ...}`` shared-pool :class:`MultiLevelData` of the pool (S only
            when built).
        val, test: ``(x, y)`` at the finest grid.
        pilot: ``{"R": ..., "S": ...}`` separate disjoint-pool pilot data.
        seconds: data-generation seconds per part (``"pool R"``, ``"pool S"``, ...).
    """

    x: torch.Tensor
    y: torch.Tensor
    train: dict[str, MultiLevelData]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    pilot: dict[str, MultiLevelData]
    seconds: dict[str, float]


def build(cfg: Config, seed: int, hierarchies: tuple[str, ...], device: str) -> DarcyData:
    """Generate the pools of ``cfg`` (``hierarchies`` among ``"R"``, ``"S"``)."""
    from fno_conserve import generate

    fine = cfg.resolutions[-1]
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    pool = generate("darcy", cfg.pool, fine, seed=seed, show_progress=False)
    seconds["pool R (fine solves)"] = time.perf_counter() - t0
    x, y = norm_x(pool["x"]).float(), norm_y(pool["y"]).float()
    held = generate(
        "darcy", cfg.n_val + cfg.n_test, fine, seed=seed, offset=cfg.pool, show_progress=False
    )
    hx, hy = norm_x(held["x"]).float().to(device), norm_y(held["y"]).float().to(device)
    train: dict[str, MultiLevelData] = {}
    if "R" in hierarchies:
        train["R"] = MultiLevelData.from_fine(x, y, cfg.resolutions).to(device)
    if "S" in hierarchies:
        s = MultiLevelData.generate(
            "darcy", cfg.pool, cfg.resolutions, hierarchy="resolve", seed=seed
        )
        seconds["pool S (solves at every grid)"] = s.generation_seconds
        train["S"] = s.map(norm_x, norm_y).to(device, torch.float32)
    pilot: dict[str, MultiLevelData] = {}
    start = cfg.pool + cfg.n_val + cfg.n_test
    for h, name in (("R", "restrict"), ("S", "resolve")):
        p = MultiLevelData.generate(
            "darcy",
            [cfg.n_pilot] * len(cfg.resolutions),
            cfg.resolutions,
            hierarchy=name,  # type: ignore[arg-type]  # one of HIERARCHIES
            seed=seed,
            offset=start,
        )
        seconds[f"pilot {h}"] = p.generation_seconds
        pilot[h] = p.map(norm_x, norm_y).to(device, torch.float32)
    return DarcyData(
        x=x.to(device),
        y=y.to(device),
        train=train,
        val=(hx[: cfg.n_val], hy[: cfg.n_val]),
        test=(hx[cfg.n_val :], hy[cfg.n_val :]),
        pilot=pilot,
        seconds=seconds,
    )
