"""Every number a run depends on, one frozen dataclass per mode (spec §6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["quick", "full"]


@dataclass(frozen=True)
class Config:
    """Sizes and budgets of one ``reproduce`` mode.

    Attributes:
        mode: ``"quick"`` (under a minute on one thread) or ``"full"``.
        abs_width, abs_depth, abs_steps: the 1-D models (A1 ``|x|``, A2 triangle wave).
        abs_seeds: seeds of A1 (A2 runs seed 0 only, full mode).
        n_train_1d, n_test_1d: uniform training points on [-2, 2] and the test grid size.
        plane_width, plane_depth, plane_steps: the 2-D models (A3-A6).
        n_train_2d, grid_2d: training points on [-2, 2]² and test grid points per axis.
        plane_seeds: seeds of A3 (A4-A6 run seed 0).
        lr_grid, lr_grid_unconstrained: learning rates chosen on validation (seed 0); one value
            means no tuning.
        planes: run the 2-D targets (A3-A6) and the depth sweep.
        depths: depth sweep on A3 (empty: none).
        digits_width, digits_depth, digits_epochs, digits_batch, digits_lr: digits models.
        digits_seeds: seeds of the digits study.
        margins: μ grid of the 1-Lipschitz models (criterion: validation certified accuracy at
            ε = 0.25), at temperature ``temperature``; one value means no tuning.
        weight_decays: the unconstrained net's grid (criterion: validation clean accuracy).
        eps: ℓ2 radii of certified and PGD accuracy.
        pgd_steps, pgd_restarts: the attack.
        n_certify: test points attacked by PGD (all test points are certified).
    """

    mode: Mode
    abs_width: int
    abs_depth: int
    abs_steps: int
    abs_seeds: tuple[int, ...]
    n_train_1d: int
    n_test_1d: int
    plane_width: int
    plane_depth: int
    plane_steps: int
    n_train_2d: int
    grid_2d: int
    plane_seeds: tuple[int, ...]
    lr_grid: tuple[float, ...]
    lr_grid_unconstrained: tuple[float, ...]
    planes: bool
    depths: tuple[int, ...]
    digits_width: int
    digits_depth: int
    digits_epochs: int
    digits_batch: int
    digits_lr: float
    digits_seeds: tuple[int, ...]
    margins: tuple[float, ...]
    temperature: float
    weight_decays: tuple[float, ...]
    eps: tuple[float, ...]
    pgd_steps: int
    pgd_restarts: int
    n_certify: int


QUICK = Config(
    mode="quick",
    abs_width=8,
    abs_depth=4,
    abs_steps=300,
    abs_seeds=(0,),
    n_train_1d=1024,
    n_test_1d=4096,
    plane_width=32,
    plane_depth=8,
    plane_steps=1000,
    n_train_2d=4096,
    grid_2d=256,
    plane_seeds=(0,),
    lr_grid=(5e-2,),
    lr_grid_unconstrained=(1e-2,),
    planes=False,
    depths=(),
    digits_width=64,
    digits_depth=4,
    digits_epochs=30,
    digits_batch=64,
    digits_lr=3e-3,
    digits_seeds=(0,),
    margins=(0.25,),
    temperature=0.25,
    weight_decays=(0.0,),
    eps=(0.1, 0.25, 0.5),
    pgd_steps=20,
    pgd_restarts=1,
    n_certify=200,
)

FULL = Config(
    mode="full",
    abs_width=8,
    abs_depth=4,
    abs_steps=3000,
    abs_seeds=(0, 1, 2),
    n_train_1d=1024,
    n_test_1d=4096,
    plane_width=32,
    plane_depth=8,
    plane_steps=1000,
    n_train_2d=4096,
    grid_2d=256,
    plane_seeds=(0, 1, 2),
    lr_grid=(5e-3, 2e-2, 5e-2),
    lr_grid_unconstrained=(1e-3, 3e-3, 1e-2),
    planes=True,
    depths=(2, 4, 8, 16),
    digits_width=128,
    digits_depth=8,
    digits_epochs=60,
    digits_batch=64,
    digits_lr=3e-3,
    digits_seeds=(0, 1, 2),
    margins=(0.1, 0.25, 0.5),
    temperature=0.25,
    weight_decays=(0.0, 1e-4),
    eps=(0.1, 0.25, 0.5),
    pgd_steps=50,
    pgd_restarts=5,
    n_certify=540,
)


def config_for(quick: bool) -> Config:
    """The configuration of ``--quick`` (True) or ``--full`` (False)."""
    return QUICK if quick else FULL
