"""The baselines, with the same loop, cost accounting and :class:`~mlmc_ops.History`:
single-level training (fine, or coarse-only evaluated at the fine grid) and a coarse-to-fine
curriculum (neuraloperator's ``IncrementalDataProcessor`` idea: the coarse phases optimise a
biased objective)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from sciml_core import InputError, SeedLike, as_torch_generator, root_seed

from ._cost import grid_cost
from ._estimator import LossFn, check_deterministic, per_sample_loss
from ._trainer import Trainer

__all__ = ["CurriculumTrainer", "SingleLevelTrainer"]


def _check_pool(x: torch.Tensor, y: torch.Tensor, batch_size: int, where: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim < 3 or x.shape[0] != y.shape[0]:
        raise InputError(f"{where}: expected x (N, C, *spatial) and y with N samples each")
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or not 1 <= batch_size <= x.shape[0]
    ):
        raise InputError(f"batch_size: expected 1..{x.shape[0]} (the pool), got {batch_size!r}")


class SingleLevelTrainer(Trainer):
    """Plain minibatch training on one resolution: ``mean_B l(theta; w)``, ``b n^d`` units/step.

    Examples:
        >>> import torch
        >>> x = torch.randn(32, 1, 8, 8)
        >>> model = torch.nn.Conv2d(1, 1, 3, padding=1)
        >>> loss = lambda p, t: ((p - t) ** 2).mean(dim=(1, 2, 3))
        >>> t = SingleLevelTrainer(model, x, x, loss, torch.optim.SGD(model.parameters(), 0.1),
        ...                        batch_size=4, seed=0)
        >>> _ = t.fit(steps=2)
        >>> t.cost_units
        512.0
    """

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        loss_fn: LossFn,
        optimizer: torch.optim.Optimizer,
        batch_size: int,
        *,
        scheduler: Any = None,
        seed: SeedLike = 0,
    ) -> None:
        super().__init__(model, optimizer, scheduler=scheduler)
        _check_pool(x, y, batch_size, "x, y")
        self.x, self.y, self.loss_fn, self.batch_size = x, y, loss_fn, batch_size
        self.seed = root_seed(seed)
        self.generator = as_torch_generator(self.seed)

    def _next_cost(self) -> float:
        return float(self.batch_size * grid_cost(int(self.x.shape[-1]), self.x.ndim - 2))

    def _step(self) -> tuple[float, list[float]]:
        self.model.train()
        check_deterministic(self.model)
        rows = torch.randperm(self.x.shape[0], generator=self.generator)[: self.batch_size]
        self.optimizer.zero_grad(set_to_none=True)
        loss = per_sample_loss(self.model, self.x[rows], self.y[rows], self.loss_fn).mean()
        loss.backward()
        self.optimizer.step()
        return float(loss.detach()), [float(loss.detach())]

    def _config(self) -> dict[str, Any]:
        return {
            "trainer": "SingleLevelTrainer",
            "resolution": int(self.x.shape[-1]),
            "n_samples": int(self.x.shape[0]),
            "batch_size": self.batch_size,
        }

    def _extra_state(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])


class CurriculumTrainer(Trainer):
    """Coarse-to-fine curriculum: ``schedule = ((n_0, s_0), (n_1, s_1), ...)`` trains ``s_k``
    steps at resolution ``n_k`` on ``data_by_resolution[n_k] = (x, y)``, then stays at the last.

    Examples:
        >>> import torch
        >>> x = torch.randn(16, 1, 8, 8)
        >>> data = {4: (x[..., ::2, ::2], x[..., ::2, ::2]), 8: (x, x)}
        >>> model = torch.nn.Conv2d(1, 1, 3, padding=1)
        >>> loss = lambda p, t: ((p - t) ** 2).mean(dim=(1, 2, 3))
        >>> t = CurriculumTrainer(model, data, loss, torch.optim.SGD(model.parameters(), 0.1),
        ...                       batch_size=2, schedule=((4, 1), (8, 1)))
        >>> _ = t.fit(steps=2)
        >>> t.cost_units  # 2 * 16 + 2 * 64
        160.0
    """

    def __init__(
        self,
        model: nn.Module,
        data_by_resolution: Mapping[int, tuple[torch.Tensor, torch.Tensor]],
        loss_fn: LossFn,
        optimizer: torch.optim.Optimizer,
        *,
        batch_size: int,
        schedule: Sequence[tuple[int, int]],
        scheduler: Any = None,
        seed: SeedLike = 0,
    ) -> None:
        super().__init__(model, optimizer, scheduler=scheduler)
        self.schedule = [(int(n), int(s)) for n, s in schedule]
        if not self.schedule or any(s < 0 for _, s in self.schedule):
            raise InputError(f"schedule: expected (resolution, steps) pairs, got {schedule!r}")
        for n, _ in self.schedule:
            if n not in data_by_resolution:
                raise InputError(
                    f"schedule: resolution {n} has no data; data_by_resolution has "
                    f"{sorted(data_by_resolution)}"
                )
            _check_pool(*data_by_resolution[n], batch_size, f"data_by_resolution[{n}]")
        self.data = dict(data_by_resolution)
        self.loss_fn, self.batch_size = loss_fn, batch_size
        self.seed = root_seed(seed)
        self.generator = as_torch_generator(self.seed)

    def resolution(self) -> int:
        """Resolution of the next step."""
        done = 0
        for n, s in self.schedule:
            done += s
            if self.step_count < done:
                return n
        return self.schedule[-1][0]

    def _next_cost(self) -> float:
        x = self.data[self.resolution()][0]
        return float(self.batch_size * grid_cost(int(x.shape[-1]), x.ndim - 2))

    def _step(self) -> tuple[float, list[float]]:
        self.model.train()
        check_deterministic(self.model)
        x, y = self.data[self.resolution()]
        rows = torch.randperm(x.shape[0], generator=self.generator)[: self.batch_size]
        self.optimizer.zero_grad(set_to_none=True)
        loss = per_sample_loss(self.model, x[rows], y[rows], self.loss_fn).mean()
        loss.backward()
        self.optimizer.step()
        return float(loss.detach()), [float(loss.detach())]

    def _config(self) -> dict[str, Any]:
        return {
            "trainer": "CurriculumTrainer",
            "schedule": [list(p) for p in self.schedule],
            "batch_size": self.batch_size,
        }

    def _extra_state(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
