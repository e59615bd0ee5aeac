"""Every number a run depends on, one frozen dataclass per mode."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Literal

from .._choices import COST_KINDS as COST_KINDS
from .._choices import HIERARCHY_CHOICES as HIERARCHY_CHOICES
from .._choices import CostKind as CostKind
from .._choices import HierarchyChoice as HierarchyChoice

Mode = Literal["quick", "full"]

Method = Literal[
    "single-fine", "mlmc-R", "mlmc-geom", "mlmc-geom-sum", "mlmc-S", "coarse-only", "curriculum"
]
METHODS: tuple[Method, ...] = typing.get_args(Method)
"""Every method ``reproduce`` knows (``mlmc-geom-sum`` only with ``--authors-sum``, ``mlmc-S``
only with ``--hierarchy resolve|both``)."""


@dataclass(frozen=True)
class Config:
    """Sizes and budgets of one ``reproduce`` mode (Darcy, ``fno-conserve`` recipe D4).

    Every method runs once per seed to the budget ``G`` (``steps`` single-fine steps of ``batch``
    samples, in grid units) and is evaluated on the way at ``fractions`` of ``G`` (constant
    learning rate, no schedule: a run stopped at ``f G`` is a run of budget ``f G``, except that
    the MLMC re-allocation points are fractions of ``G``). The learning rate of every method is
    chosen from ``lrs`` on validation at ``fractions[0]`` (the smallest budget), the same way for
    every method, and that run goes on.

    Attributes:
        mode: ``"quick"`` or ``"full"``.
        resolutions: levels ``n_0 < ... < n_L`` (the finest is the test grid).
        width, modes: ``FNO2d`` size (4 layers, ``grid="cells"``, padding 0.125).
        pool: training samples; hierarchy R solves them at the finest grid and restricts,
            hierarchy S solves the same random inputs at every grid (the finest level is the
            same data under both).
        n_val, n_test: validation and test samples at the finest grid (disjoint offsets).
        n_pilot: samples per level of a pilot (``estimate_level_stats``), separate pools.
        batch: batch of every single-level method; the budget unit is the cost of one
            single-fine step, ``batch n_L^2``.
        steps: single-fine steps of the budget ``G``.
        lrs: learning rates chosen on validation at ``fractions[0]`` (``QUICK`` has one: every
            method chose 3e-3 over 1e-3 there in a quick-scale run with both, README).
        fractions: budget points of the Pareto curve (test error measured there).
        methods: the methods run (``--methods`` replaces them; then ``--hierarchy`` and
            ``--authors-sum`` apply).
        second_seed: methods also run with ``seed + 1`` (mean and spread reported).
        geom_fraction: share of the MLMC budget with the geometric schedule before Giles.
        reallocate_at: further Giles re-allocations (fractions of ``G``).
        min_samples: Giles' floor per level.
        cost: the costs of Giles' allocation when ``--cost`` is not given: ``"grid"`` for
            ``QUICK`` (grid units: the same seed gives the same numbers), ``"measured"`` for
            ``FULL`` (the spec's CPU default; the allocation then depends on the machine's
            timings, recorded in the ``allocations`` table).
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
    fractions: tuple[float, ...]
    methods: tuple[Method, ...]
    second_seed: tuple[Method, ...]
    geom_fraction: float = 0.1
    reallocate_at: tuple[float, ...] = (0.4, 0.7)
    min_samples: int = 2
    cost: CostKind = "grid"


_BASE: tuple[Method, ...] = (
    "single-fine",
    "mlmc-R",
    "mlmc-geom",
    "mlmc-S",
    "coarse-only",
    "curriculum",
)

QUICK = Config(
    mode="quick",
    resolutions=(16, 32),
    width=12,
    modes=6,
    pool=600,
    n_val=50,
    n_test=100,
    n_pilot=32,
    batch=16,
    steps=120,
    lrs=(3e-3,),
    fractions=(0.25, 0.5, 0.75, 1.0),
    methods=("single-fine", "mlmc-R", "coarse-only"),
    second_seed=(),
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
    fractions=(0.25, 0.5, 0.75, 1.0),
    methods=_BASE,
    second_seed=(),  # the spec's fallback when the run is over its time: no second seed
    cost="measured",
)


def config_for(quick: bool) -> Config:
    """The configuration of ``--quick`` (True) or ``--full`` (False)."""
    return QUICK if quick else FULL
