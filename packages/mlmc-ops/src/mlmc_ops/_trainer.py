"""Training loops with honest cost accounting, checkpoints and resume.

Every trainer counts **cost units** (grid points of every forward + backward sample, see
:mod:`mlmc_ops._cost`) and **training seconds** (the steps only: evaluation is excluded; CUDA is
synchronised before the clock is read). ``fit`` runs until the first of ``steps``,
``cost_budget`` and ``time_budget`` (totals since the start, so a resumed run stops where an
uninterrupted one does) and never starts a step that would exceed the cost budget.
"""

from __future__ import annotations

import json
import math
import os
import time
import typing
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from sciml_core import InputError, SeedLike, load_checkpoint, root_seed, save_checkpoint

from .__about__ import __version__
from ._allocation import giles_allocation
from ._cost import level_costs, step_cost
from ._data import MultiLevelData
from ._distributed import DistributedConfig, average_gradients, shard_items, world
from ._estimator import LossFn, Weighting, check_deterministic, level_sums, mlmc_loss
from ._sampler import LevelBatch, MLMCBatch, MLMCSampler, Pairing
from ._stats import estimate_level_stats

__all__ = ["History", "MLMCTrainer", "Trainer"]

AllocationCost = Literal["units", "seconds"]
ALLOCATION_COSTS: tuple[AllocationCost, ...] = typing.get_args(AllocationCost)

EvalFn = Callable[[nn.Module], float]


@dataclass
class History:
    """What a trainer did.

    Attributes:
        steps: per step ``{"step", "loss", "level_terms", "cost_units", "seconds"}`` (cumulative
            cost and training seconds after the step).
        evals: per evaluation ``{"step", "seconds", "cost_units", "metric"}``.
        allocations: every batch-size allocation used ``{"step", "batch_sizes", "reason", ...}``.
        gaps: per step and correction ``l``: ``mean_{S_l} l_{l-1} - mean_{S_{l-1}} l_{l-1}``
            (the finite-set warning, module :mod:`mlmc_ops._estimator`).
        time_to_target, cost_to_target: first evaluation with ``metric <= target``.
    """

    steps: list[dict[str, Any]] = field(default_factory=list)
    evals: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[list[float]] = field(default_factory=list)
    time_to_target: float | None = None
    cost_to_target: float | None = None

    def to_json(self) -> str:
        """JSON text (stored in checkpoints)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> History:
        """Inverse of :meth:`to_json`."""
        return cls(**json.loads(text))


def _sync(model: nn.Module) -> None:
    p = next(model.parameters(), None)
    if p is not None and p.is_cuda:
        torch.cuda.synchronize(p.device)


class Trainer:
    """The loop shared by every trainer: budgets, timing, evaluation, checkpoints.

    Subclasses implement ``_next_cost()`` (cost units of the next step) and ``_step()`` (one
    optimiser step, returning the loss and the level terms), and describe themselves in
    ``_config()`` (checked on resume). ``extra_config`` (JSON-ready, e.g. the model's
    constructor arguments) is stored beside it in every checkpoint and checked on resume too.
    """

    package = "mlmc-ops"

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        *,
        scheduler: Any = None,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.extra_config = dict(extra_config or {})
        try:
            json.dumps(self.extra_config)
        except (TypeError, ValueError) as err:
            raise InputError(f"extra_config: expected JSON-ready values ({err})") from None
        self.step_count = 0
        self.cost_units = 0.0
        self.seconds = 0.0
        self.history = History()

    # -- hooks -----------------------------------------------------------------------------
    def _next_cost(self) -> float:
        raise NotImplementedError

    def _step(self) -> tuple[float, list[float]]:
        raise NotImplementedError

    def _config(self) -> dict[str, Any]:
        raise NotImplementedError

    def full_config(self) -> dict[str, Any]:
        """The configuration a checkpoint stores: the trainer's own plus ``extra_config``
        (under ``"extra"``, when given)."""
        own = self._config()
        return {**own, "extra": self.extra_config} if self.extra_config else own

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        del state

    def _before_step(self) -> None:
        """Called before each step (re-allocation)."""

    # -- the loop --------------------------------------------------------------------------
    def fit(
        self,
        *,
        steps: int | None = None,
        cost_budget: float | None = None,
        time_budget: float | None = None,
        eval_fn: EvalFn | None = None,
        eval_every: int | None = None,
        target: float | None = None,
    ) -> History:
        """Train until the first total is reached (at least one of them must be given).

        Args:
            steps: total optimiser steps since the start.
            cost_budget: total cost units since the start (a step that would exceed it is not
                started).
            time_budget: total training seconds since the start.
            eval_fn: ``eval_fn(model) -> metric`` (lower is better), not timed.
            eval_every: evaluate every this many steps and after the last step.
            target: record the first training seconds and cost units at which
                ``metric <= target``.
        """
        if steps is None and cost_budget is None and time_budget is None:
            raise InputError("fit: expected at least one of steps, cost_budget, time_budget")
        for name, value in (
            ("steps", steps),
            ("cost_budget", cost_budget),
            ("time_budget", time_budget),
        ):
            if value is not None and not (
                isinstance(value, int | float) and value >= 0 and math.isfinite(value)
            ):
                raise InputError(f"{name}: expected a non-negative number, got {value!r}")
        if eval_every is not None and (not isinstance(eval_every, int) or eval_every < 1):
            raise InputError(f"eval_every: expected a positive integer, got {eval_every!r}")
        last_eval = -1
        while True:
            if steps is not None and self.step_count >= steps:
                break
            if time_budget is not None and self.seconds >= time_budget:
                break
            self._before_step()
            if cost_budget is not None and self.cost_units + self._next_cost() > cost_budget:
                break
            _sync(self.model)
            t0 = time.perf_counter()
            cost = self._next_cost()
            loss, terms = self._step()
            if self.scheduler is not None:
                self.scheduler.step()
            _sync(self.model)
            self.seconds += time.perf_counter() - t0
            self.cost_units += cost
            self.step_count += 1
            self.history.steps.append(
                {
                    "step": self.step_count,
                    "loss": loss,
                    "level_terms": terms,
                    "cost_units": self.cost_units,
                    "seconds": self.seconds,
                }
            )
            if eval_fn is not None and eval_every is not None and self.step_count % eval_every == 0:
                self._evaluate(eval_fn, target)
                last_eval = self.step_count
        if eval_fn is not None and last_eval != self.step_count:
            self._evaluate(eval_fn, target)
        return self.history

    def _evaluate(self, eval_fn: EvalFn, target: float | None) -> None:
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            metric = float(eval_fn(self.model))
        self.model.train(was_training)
        self.history.evals.append(
            {
                "step": self.step_count,
                "seconds": self.seconds,
                "cost_units": self.cost_units,
                "metric": metric,
            }
        )
        if target is not None and metric <= target and self.history.time_to_target is None:
            self.history.time_to_target = self.seconds
            self.history.cost_to_target = self.cost_units

    # -- checkpoints -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Checkpoint model, optimiser, scheduler, sampler state, counters and history
        (``sciml_core.save_checkpoint``, package ``mlmc-ops``)."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "counters": {
                "step": self.step_count,
                "cost_units": self.cost_units,
                "seconds": self.seconds,
            },
            "history_json": self.history.to_json(),
            "extra": self._extra_state(),
        }
        return save_checkpoint(
            path,
            state,
            config=self.full_config(),
            package=self.package,
            version=__version__,
            overwrite=overwrite,
        )

    def load(self, path: str | os.PathLike[str], *, argument: str = "path") -> None:
        """Resume from :meth:`save`'s file; refuses another package, another major.minor
        version (both named) or another trainer configuration (errors name ``argument``)."""
        ckpt = load_checkpoint(path, package=self.package, version=__version__, argument=argument)
        own = json.loads(json.dumps(self.full_config()))
        if ckpt.config != own:
            diff = sorted(
                k for k in set(own) | set(ckpt.config) if own.get(k) != ckpt.config.get(k)
            )
            parts = [f"{k}: {ckpt.config.get(k)!r} vs {own.get(k)!r}" for k in diff]
            raise InputError(
                f"{argument}: checkpoint {str(path)!r} was written by a trainer configured "
                f"differently ({', '.join(parts)})"
            )
        st = ckpt.state_dict
        self.model.load_state_dict(st["model"])
        self.optimizer.load_state_dict(st["optimizer"])
        if self.scheduler is not None and st["scheduler"] is not None:
            self.scheduler.load_state_dict(st["scheduler"])
        self.step_count = int(st["counters"]["step"])
        self.cost_units = float(st["counters"]["cost_units"])
        self.seconds = float(st["counters"]["seconds"])
        self.history = History.from_json(st["history_json"])
        self._load_extra_state(st["extra"])


class MLMCTrainer(Trainer):
    """Train ``model`` with the MLMC gradient (:func:`~mlmc_ops.mlmc_loss`).

    Args:
        model: any module accepting inputs at every resolution of ``data``.
        data: the level pools.
        loss_fn: per-sample loss ``(prediction, target) -> (B,)``.
        optimizer: over ``model``'s parameters.
        batch_sizes: ``(b_0, ..., b_L)``, or ``"giles"``: allocate from pilot statistics of the
            current model at the first step (and every ``reallocate_every`` steps) for
            ``step_budget`` cost per step.
        pairing: ``"disjoint"`` or ``"nested"``.
        weighting: ``"mean"`` (unbiased) or ``"sum"`` (the authors' sweep setting).
        scheduler: stepped after every optimiser step.
        reallocate_every: with ``"giles"``: steps between pilots.
        step_budget: with ``"giles"``: cost per step (in ``allocation_cost`` units).
        allocation_cost: costs for Giles: ``"units"`` (grid points) or ``"seconds"`` (measured).
        n_pilot: pilot samples per level.
        min_samples: Giles' floor per level.
        distributed: shard steps over the ranks of an initialised process group.
        allow_stochastic: skip the dropout/batch-norm check.
        seed: the sample-index generator (the same on every rank).
        extra_config: stored in checkpoints and checked on resume (e.g. the model's arguments).

    Examples:
        >>> import torch
        >>> from mlmc_ops import MultiLevelData
        >>> x = torch.randn(64, 1, 8, 8)
        >>> data = MultiLevelData.from_fine(x, x.roll(1, -1), (4, 8), n_samples=(48, 16))
        >>> model = torch.nn.Conv2d(1, 1, 3, padding=1)
        >>> loss = lambda p, t: ((p - t) ** 2).mean(dim=(1, 2, 3))
        >>> trainer = MLMCTrainer(model, data, loss, torch.optim.Adam(model.parameters(), 1e-2),
        ...                       batch_sizes=(8, 2), seed=0)
        >>> h = trainer.fit(steps=3)
        >>> trainer.cost_units == 3 * (8 * 16 + 2 * (64 + 16))
        True
    """

    def __init__(
        self,
        model: nn.Module,
        data: MultiLevelData,
        loss_fn: LossFn,
        optimizer: torch.optim.Optimizer,
        *,
        batch_sizes: Sequence[int] | Literal["giles"],
        pairing: Pairing = "disjoint",
        weighting: Weighting = "mean",
        scheduler: Any = None,
        reallocate_every: int | None = None,
        step_budget: float | None = None,
        allocation_cost: AllocationCost = "units",
        n_pilot: int = 64,
        min_samples: int = 1,
        distributed: DistributedConfig | None = None,
        allow_stochastic: bool = False,
        seed: SeedLike = 0,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model, optimizer, scheduler=scheduler, extra_config=extra_config)
        self.data = data
        self.loss_fn = loss_fn
        self.weighting: Weighting = weighting
        self.allow_stochastic = allow_stochastic
        self.distributed = distributed
        self.seed = root_seed(seed)
        self.giles = isinstance(batch_sizes, str)
        if self.giles:
            if batch_sizes != "giles":
                raise InputError(f"batch_sizes: expected integers or 'giles', got {batch_sizes!r}")
            if step_budget is None or not step_budget > 0:
                raise InputError(
                    f"step_budget: 'giles' needs a positive budget, got {step_budget!r}"
                )
            initial: Sequence[int] = [1] * data.n_levels
        else:
            initial = batch_sizes  # type: ignore[assignment]  # the str case is handled above
        if reallocate_every is not None and (
            not isinstance(reallocate_every, int) or reallocate_every < 1
        ):
            raise InputError(
                f"reallocate_every: expected a positive integer, got {reallocate_every!r}"
            )
        if allocation_cost not in ALLOCATION_COSTS:
            raise InputError(
                f"allocation_cost: expected one of {ALLOCATION_COSTS}, got {allocation_cost!r}"
            )
        self.reallocate_every = reallocate_every
        self.step_budget = step_budget
        self.allocation_cost: AllocationCost = allocation_cost
        self.n_pilot = n_pilot
        self.min_samples = min_samples
        self.sampler = MLMCSampler(data, initial, pairing=pairing, seed=self.seed)
        self._costs = level_costs(data.resolutions, data.dim)
        self._allocated_at: int | None = None
        if not self.giles:
            self._record_allocation(self.sampler.batch_sizes, "given")

    @property
    def batch_sizes(self) -> tuple[int, ...]:
        """The batch sizes of the next step."""
        return self.sampler.batch_sizes

    def set_batch_sizes(
        self, batch_sizes: Sequence[int], *, reason: str = "set", **info: Any
    ) -> None:
        """Use ``batch_sizes`` from the next step on (recorded in ``history.allocations``)."""
        self.sampler.set_batch_sizes(batch_sizes)
        self._record_allocation(self.sampler.batch_sizes, reason, **info)

    def _record_allocation(self, sizes: Sequence[int], reason: str, **info: Any) -> None:
        self.history.allocations.append(
            {"step": self.step_count, "batch_sizes": list(sizes), "reason": reason, **info}
        )

    def allocate(self, *, budget: float, seed: SeedLike = None) -> None:
        """Pilot statistics on the current model, then Giles' allocation for ``budget`` per
        step (in ``allocation_cost`` units); recorded with the pilot ``V``, ``C`` and bias."""
        stats = estimate_level_stats(
            self.model,
            self.data,
            self.loss_fn,
            n_pilot=self.n_pilot,
            seed=self.seed + 7919 * (self.step_count + 1) if seed is None else seed,
        )
        costs = stats.cost_units if self.allocation_cost == "units" else stats.cost_seconds
        alloc = giles_allocation(
            stats.V, costs, budget=budget, min_samples=self.min_samples, v_single=stats.V_single
        )
        self.set_batch_sizes(
            alloc.n_int,
            reason="giles",
            stats=stats.as_dict(),
            predicted_speedup=alloc.predicted_speedup,
        )

    def _before_step(self) -> None:
        if not self.giles:
            return
        due = self._allocated_at is None or (
            self.reallocate_every is not None
            and self.step_count - self._allocated_at >= self.reallocate_every
        )
        if due:
            self.allocate(budget=float(self.step_budget))  # type: ignore[arg-type]  # checked
            self._allocated_at = self.step_count

    def _next_cost(self) -> float:
        return float(step_cost(self.data.resolutions, self.sampler.batch_sizes, self.data.dim))

    def _step(self) -> tuple[float, list[float]]:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        indices = self.sampler.indices()
        batch = self.sampler.batch(indices)
        if self.distributed is None:
            est = mlmc_loss(
                self.model,
                batch,
                self.loss_fn,
                weighting=self.weighting,
                allow_stochastic=self.allow_stochastic,
            )
            est.value.backward()
            self.optimizer.step()
            self._record_gaps(est.coarse_on_corrections.tolist(), est.fine_on_levels.tolist())
            return float(est.value.detach()), est.level_terms.tolist()
        return self._distributed_step(batch)

    def _record_gaps(self, coarse: list[float], fine: list[float]) -> None:
        self.history.gaps.append([coarse[j] - fine[j - 1] for j in range(1, len(coarse))])

    def _distributed_step(self, batch: MLMCBatch) -> tuple[float, list[float]]:
        import torch.distributed as dist

        assert self.distributed is not None
        if not self.allow_stochastic:
            check_deterministic(self.model)
        rank, size = world()
        sizes = [len(lev) for lev in batch.levels]
        weights = [1.0 / b if self.weighting == "mean" else 1.0 for b in sizes]
        items = shard_items(sizes, self._costs, size, rank, self.distributed.shard)
        n_lev = len(sizes)
        p0 = next(self.model.parameters())
        # per level: sum of differences, of coarse losses, of fine losses (detached)
        sums = torch.zeros(3, n_lev, dtype=torch.float64, device=p0.device)
        value: torch.Tensor | None = None
        for j, rows in items:
            part: LevelBatch = batch.levels[j].select(rows)
            diff, coarse, fine = level_sums(self.model, part, self.loss_fn)
            term = diff * (size * weights[j])
            value = term if value is None else value + term
            sums[0, j] += float(diff.detach())
            sums[1, j] += float(coarse) if j > 0 else 0.0
            sums[2, j] += float(fine)
        if value is not None:
            value.backward()
        average_gradients(self.model)
        self.optimizer.step()
        dist.all_reduce(sums, op=dist.ReduceOp.SUM)
        terms = [float(sums[0, j]) * weights[j] for j in range(n_lev)]
        coarse_mean = [float(sums[1, j]) / sizes[j] for j in range(n_lev)]
        fine_mean = [float(sums[2, j]) / sizes[j] for j in range(n_lev)]
        self._record_gaps(coarse_mean, fine_mean)
        return sum(terms), terms

    def _config(self) -> dict[str, Any]:
        return {
            "trainer": "MLMCTrainer",
            "resolutions": list(self.data.resolutions),
            "n_samples": list(self.data.n_samples),
            "pairing": self.sampler.pairing,
            "weighting": self.weighting,
            "giles": self.giles,
            "shard": None if self.distributed is None else self.distributed.shard,
        }

    def _extra_state(self) -> dict[str, Any]:
        return {"sampler": self.sampler.state_dict(), "allocated_at": self._allocated_at}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state["sampler"])
        self._allocated_at = state["allocated_at"]
