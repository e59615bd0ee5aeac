"""The methods of the Darcy study, each a trainer plus what happens at fractions of the budget.

A :class:`Run` trains one method with one learning rate and seed towards the budget ``G``
(grid units), stops at every budget point (evaluation) and hook (MLMC re-allocation), and can
be continued: the learning rate is chosen on validation at the smallest budget point and the
chosen run goes on (the others are dropped).

Per-step costs (grid units, ``n_L = resolutions[-1]``):

* ``single-fine``: ``batch`` samples at ``n_L``: the budget unit ``b n_L^2``.
* ``mlmc-R`` / ``mlmc-S`` (disjoint pairing, mean): the first ``geom_fraction`` of the budget with
  a geometric schedule (``k = 2``) scaled to one single-fine step's units, then Giles'
  allocation for one single-fine step's cost (grid units, or measured seconds with
  ``--cost measured``) from a pilot on the current model, re-estimated at ``reallocate_at``.
* ``mlmc-geom``: the authors' schedule, ``k = 2`` for batches, nested pairing, finest batch
  ``batch``, mean (``mlmc-geom-sum``: their ``sum`` reduction).
* ``coarse-only``: ``batch`` samples at ``n_0`` (block averages), evaluated at ``n_L``.
* ``curriculum``: ``batch`` samples at ``n_0``, then ``n_1``, ... (block averages), the budget in
  equal parts per resolution.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .._allocation import coupled_costs, geometric_schedule, giles_allocation
from .._baselines import CurriculumTrainer, SingleLevelTrainer
from .._cost import grid_cost, step_cost
from .._stats import estimate_level_stats
from .._trainer import MLMCTrainer, Trainer
from .config import Config, CostKind, Method
from .data import DarcyData, make_loss, make_model, rel_error

Hook = Callable[[Trainer], None]


@dataclass
class Run:
    """One method, one learning rate, one seed, trained towards ``budget`` grid units.

    Attributes:
        method, lr, seed: what it is.
        trainer: the trainer (its history holds steps and allocations).
        budget: ``G`` in grid units.
        hooks: ``(fraction, action)`` run when the cost reaches ``fraction * G``.
        points: ``{"fraction", "cost_units", "seconds", "steps", "val", "test"}`` per budget point.
        wall: wall seconds spent in :meth:`advance` (training, hooks, evaluation).
    """

    method: Method
    lr: float
    seed: int
    trainer: Trainer
    budget: float
    hooks: list[tuple[float, Hook]]
    points: list[dict[str, Any]] = field(default_factory=list)
    wall: float = 0.0
    _done: float = 0.0

    def advance(self, to: float, fractions: tuple[float, ...], data: DarcyData) -> None:
        """Train up to ``to * G``, running hooks and evaluations at the fractions on the way."""
        t0 = time.perf_counter()
        marks = sorted(
            {f for f, _ in self.hooks if self._done < f <= to}
            | {f for f in fractions if self._done < f <= to}
        )
        for f in marks:
            self.trainer.fit(cost_budget=f * self.budget)
            if f in fractions:
                self.points.append(
                    {
                        "fraction": f,
                        "cost_units": self.trainer.cost_units,
                        "seconds": self.trainer.seconds,
                        "steps": self.trainer.step_count,
                        "val": rel_error(self.trainer.model, *data.val),
                        "test": rel_error(self.trainer.model, *data.test),
                    }
                )
            for g, hook in self.hooks:
                if g == f:
                    hook(self.trainer)
        self._done = max(self._done, to)
        self.wall += time.perf_counter() - t0

    def at(self, fraction: float) -> dict[str, Any]:
        """The budget point at ``fraction``."""
        return next(p for p in self.points if p["fraction"] == fraction)


def geometric_within(cfg: Config, budget_units: float) -> tuple[int, ...]:
    """The ``k = 2`` geometric schedule with the largest base whose step costs at most
    ``budget_units`` (one single-fine step)."""
    unit = geometric_schedule(len(cfg.resolutions), 2, 1)
    base = max(1, int(budget_units // step_cost(cfg.resolutions, unit, 2)))
    return geometric_schedule(len(cfg.resolutions), 2, base)


def _giles_hook(cfg: Config, data: DarcyData, h: str, cost: CostKind, seed: int) -> Hook:
    fine_step = cfg.batch * grid_cost(cfg.resolutions[-1], 2)

    def hook(trainer: Trainer) -> None:
        assert isinstance(trainer, MLMCTrainer)
        stats = estimate_level_stats(
            trainer.model,
            data.train[h],
            make_loss(),
            n_pilot=cfg.n_pilot,
            seed=seed + 7919 * (trainer.step_count + 1),
        )
        if cost == "grid":
            costs, step_budget = stats.cost_units, float(fine_step)
        else:
            costs = stats.cost_seconds
            step_budget = cfg.batch * stats.cost_seconds[-1]
        floor = cfg.min_samples * sum(coupled_costs(costs))
        if floor > step_budget:  # measured seconds: overheads can make the floor dearer
            sizes = (cfg.min_samples,) * len(costs)
            trainer.set_batch_sizes(
                sizes,
                reason=f"giles floor ({cost} costs: one single-fine step cannot pay "
                f"min_samples={cfg.min_samples} at every level)",
                stats=stats.as_dict(),
                predicted_speedup=None,
                step_units=step_cost(cfg.resolutions, sizes, 2),
            )
            return
        alloc = giles_allocation(
            stats.V, costs, budget=step_budget, min_samples=cfg.min_samples, v_single=stats.V_single
        )
        trainer.set_batch_sizes(
            alloc.n_int,
            reason=f"giles ({cost} costs, pilot on the current model)",
            stats=stats.as_dict(),
            predicted_speedup=alloc.predicted_speedup,
            step_units=step_cost(cfg.resolutions, alloc.n_int, 2),
        )

    return hook


def make_run(
    method: Method,
    lr: float,
    seed: int,
    cfg: Config,
    data: DarcyData,
    *,
    cost: CostKind,
    device: str,
) -> Run:
    """Build the trainer and hooks of ``method`` (nothing trained yet)."""
    from fno_conserve import restrict

    fine = cfg.resolutions[-1]
    budget = float(cfg.steps * cfg.batch * grid_cost(fine, 2))
    model = make_model(cfg, seed, device)
    opt = torch.optim.Adam(model.parameters(), lr)
    loss = make_loss()
    hooks: list[tuple[float, Hook]] = []
    trainer: Trainer
    if method == "single-fine":
        trainer = SingleLevelTrainer(model, data.x, data.y, loss, opt, cfg.batch, seed=seed)
    elif method == "coarse-only":
        f = fine // cfg.resolutions[0]
        trainer = SingleLevelTrainer(
            model,
            restrict(data.x, f, "average"),
            restrict(data.y, f, "average"),
            loss,
            opt,
            cfg.batch,
            seed=seed,
        )
    elif method == "curriculum":
        by_res = {
            n: (restrict(data.x, fine // n, "average"), restrict(data.y, fine // n, "average"))
            if n != fine
            else (data.x, data.y)
            for n in cfg.resolutions
        }
        share = budget / len(cfg.resolutions)
        schedule = [
            (n, int(share // (cfg.batch * grid_cost(n, 2)))) for n in cfg.resolutions[:-1]
        ] + [(fine, 0)]
        trainer = CurriculumTrainer(
            model, by_res, loss, opt, batch_size=cfg.batch, schedule=schedule, seed=seed
        )
    elif method in ("mlmc-geom", "mlmc-geom-sum"):
        trainer = MLMCTrainer(
            model,
            data.train["R"],
            loss,
            opt,
            batch_sizes=geometric_schedule(len(cfg.resolutions), 2, cfg.batch),
            pairing="nested",
            weighting="sum" if method == "mlmc-geom-sum" else "mean",
            seed=seed,
        )
    elif method in ("mlmc-R", "mlmc-S"):
        h = method[-1]
        trainer = MLMCTrainer(
            model,
            data.train[h],
            loss,
            opt,
            batch_sizes=geometric_within(cfg, cfg.batch * grid_cost(fine, 2)),
            pairing="disjoint",
            seed=seed,
        )
        hook = _giles_hook(cfg, data, h, cost, seed)
        hooks = [(f, hook) for f in (cfg.geom_fraction, *cfg.reallocate_at)]
    else:  # pragma: no cover - Method is closed
        raise ValueError(f"unknown method {method!r}")
    return Run(method, lr, seed, trainer, budget, hooks)


def run_selected(
    method: Method,
    seed: int,
    cfg: Config,
    data: DarcyData,
    *,
    cost: CostKind,
    device: str,
    lr: float | None = None,
) -> tuple[Run, list[dict[str, Any]]]:
    """Run ``method`` to the full budget; the learning rate from ``cfg.lrs`` chosen on
    validation at ``cfg.fractions[0]`` (or ``lr`` when given, e.g. for a second seed).

    Returns:
        The chosen run and one row per candidate ``{"lr", "val", "test", "chosen", "wall"}``.
    """
    first = cfg.fractions[0]
    candidates = (lr,) if lr is not None else cfg.lrs
    runs = []
    for c in candidates:
        r = make_run(method, c, seed, cfg, data, cost=cost, device=device)
        if len(candidates) > 1:
            r.advance(first, cfg.fractions, data)
        runs.append(r)
    best = runs[0] if len(runs) == 1 else min(runs, key=lambda r: (r.at(first)["val"], r.lr))
    best.advance(1.0, cfg.fractions, data)
    rows = [
        {
            "lr": r.lr,
            "val": r.at(first)["val"],
            "test": r.at(first)["test"],
            "chosen": r is best,
            "wall": r.wall,
        }
        for r in runs
    ]
    return best, rows
