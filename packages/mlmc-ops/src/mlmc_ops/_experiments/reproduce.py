"""``mlmc-ops reproduce``: the registered studies, in order, into one ``result.json``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sciml_core import InputError, Result
from sciml_core.cli import progress

from ..__about__ import __version__
from .config import (
    COST_KINDS,
    HIERARCHY_CHOICES,
    METHODS,
    Config,
    CostKind,
    HierarchyChoice,
    Method,
    config_for,
)
from .context import Context
from .registry import STUDIES


def reproduce(
    out_dir: Path,
    *,
    quick: bool,
    seed: int,
    device: str = "cpu",
    studies: Sequence[str] | None = None,
    hierarchy: HierarchyChoice = "both",
    cost: CostKind | None = None,
    nproc: int = 1,
    authors_sum: bool = False,
    methods: Sequence[str] | None = None,
    config: Config | None = None,
) -> Path:
    """Run ``studies`` (default: all, in registry order), write ``result.json``, return its path.

    Args:
        out_dir: folder of ``result.json`` and the figures.
        quick: the ``QUICK`` configuration (else ``FULL``).
        seed: the run's seed.
        device: torch device of the training runs (``"auto"``: CUDA if available).
        studies: names in :data:`.registry.STUDIES` (default all).
        hierarchy: ``"restrict"`` (mlmc-R only), ``"resolve"`` (mlmc-S only) or ``"both"``.
        cost: Giles' costs for mlmc-R/mlmc-S: ``"measured"`` seconds or ``"grid"`` units
            (default: the mode's ``Config.cost``).
        nproc: 2 or more also re-runs mlmc-R's first five steps under DDP (``gloo``).
        authors_sum: also run ``mlmc-geom-sum`` (the authors' ``sum`` reduction).
        methods: the Darcy study's methods (default: the mode's; ``single-fine`` is always
            run, its trained model gives the pilots).
        config: replaces the mode's configuration (sweeps); its ``mode`` decides the claims.

    Raises:
        InputError: an unknown study, hierarchy or cost, or ``nproc < 1``.
    """
    names = list(STUDIES) if studies is None else list(studies)
    unknown = [name for name in names if name not in STUDIES]
    if unknown:
        raise InputError(f"studies: unknown {unknown}; registered: {list(STUDIES)}")
    if hierarchy not in HIERARCHY_CHOICES:
        raise InputError(f"hierarchy: expected one of {HIERARCHY_CHOICES}, got {hierarchy!r}")
    cfg = config_for(quick) if config is None else config
    cost = cfg.cost if cost is None else cost
    if cost not in COST_KINDS:
        raise InputError(f"cost: expected one of {COST_KINDS}, got {cost!r}")
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise InputError(f"nproc: expected a positive integer, got {nproc!r}")
    chosen: tuple[Method, ...] | None = None
    if methods is not None:
        bad = [m for m in methods if m not in METHODS or m == "mlmc-geom-sum"]
        if bad or not methods:
            known = [m for m in METHODS if m != "mlmc-geom-sum"]
            raise InputError(f"methods: expected some of {known}, got {list(methods)}")
        chosen = tuple(m for m in METHODS if m in methods or m == "single-fine")
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    result = Result("mlmc-ops", __version__, seed=seed, device=device, quick=quick)
    ctx = Context(
        result,
        Path(out_dir),
        cfg,
        seed,
        device,
        hierarchy=hierarchy,
        cost=cost,
        nproc=nproc,
        authors_sum=authors_sum,
        methods=chosen,
    )
    for name in progress(names, desc="reproduce", unit="study"):
        STUDIES[name].run(ctx)
    return result.save(out_dir)
