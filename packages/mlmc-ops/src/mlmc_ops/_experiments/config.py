"""Every number a run depends on, one frozen dataclass per mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["quick", "full"]


@dataclass(frozen=True)
class Config:
    """Sizes and budgets of one ``reproduce`` mode (Darcy, ``fno-conserve`` recipe D4).

    Attributes:
        mode: ``"quick"`` or ``"full"``.
        resolutions: levels ``n_0 < ... < n_L`` (the finest is the test grid).
        width, modes: ``FNO2d`` size (4 layers, ``grid="cells"``, padding 0.125).
        pool: training pool (hierarchy R: solved at the finest grid, restricted).
        n_val, n_test: validation and test samples at the finest grid (disjoint offsets).
        n_pilot: samples per level of a pilot (``estimate_level_stats``).
        batch: single-fine batch size; the budget unit is the cost of one such step.
        steps: single-fine steps of the budget (every method gets the same cost units).
        lrs: learning rates chosen on validation (one value: no tuning).
        geom_fraction: fraction of the MLMC budget with the geometric schedule before Giles.
    """

    mode: Mode
    resolutions: tuple[int, ...]
    width: int
    modes: int
    pool: int
    n_val: int
    n_test: int
    n_pilot: int
    batch: int
    steps: int
    lrs: tuple[float, ...]
    geom_fraction: float


QUICK = Config(
    mode="quick",
    resolutions=(16, 32),
    width=12,
    modes=6,
    pool=400,
    n_val=50,
    n_test=100,
    n_pilot=32,
    batch=16,
    steps=120,
    lrs=(3e-3,),
    geom_fraction=0.1,
)
FULL = Config(
    mode="full",
    resolutions=(16, 32, 64),
    width=24,
    modes=8,
    pool=2000,
    n_val=100,
    n_test=200,
    n_pilot=64,
    batch=16,
    steps=400,
    lrs=(1e-3, 3e-3),
    geom_fraction=0.1,
)


def config_for(quick: bool) -> Config:
    """The configuration of ``--quick`` (True) or ``--full`` (False)."""
    return QUICK if quick else FULL
