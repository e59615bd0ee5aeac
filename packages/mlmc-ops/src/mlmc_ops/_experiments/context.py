"""What a study is and what it is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sciml_core import Result

from .config import Config, CostKind, HierarchyChoice, Method


@dataclass(frozen=True)
class Context:
    """What every study gets: the result it adds to, where figures go, the mode's config and
    the ``reproduce`` flags.

    Attributes:
        result: the result the study adds tables, figures and claims to.
        out_dir: folder of ``result.json`` and the figures.
        config: the mode's sizes and budgets.
        seed: the run's seed (data, models, samplers).
        device: torch device of the training runs.
        hierarchy: ``"restrict"`` (R), ``"resolve"`` (S) or ``"both"``.
        cost: Giles' costs for ``mlmc-R``/``mlmc-S``: ``"measured"`` seconds or ``"grid"`` units.
        nproc: with 2 or more, ``mlmc-R``'s first steps are re-run under DDP (``gloo``,
            ``shard="levels"``, float64) and compared with one process.
        authors_sum: add ``mlmc-geom-sum`` (the authors' ``sum`` reduction).
        methods: replaces ``config.methods`` (``None``: the mode's).
    """

    result: Result
    out_dir: Path
    config: Config
    seed: int
    device: str
    hierarchy: HierarchyChoice = "both"
    cost: CostKind = "measured"
    nproc: int = 1
    authors_sum: bool = False
    methods: tuple[Method, ...] | None = None


@dataclass(frozen=True)
class Study:
    """One table or figure of the paper, reproduced: ``run(ctx)`` adds its rows and claims."""

    name: str
    title: str
    run: Callable[[Context], None]
