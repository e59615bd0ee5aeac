"""Pilot statistics of the level terms: variances ``V_l``, coarse-only bias, costs.

``V_0 = tr Cov grad l_0``, ``V_l = tr Cov(grad l_l - grad l_{l-1})``, ``V_SL = tr Cov grad l_L``,
estimated from per-sample gradients streamed in chunks (memory ``O(chunk_size * P)``; sums and
sums of squares per coordinate are accumulated in float64). The bias of training on level ``l``
alone, ``||E grad l_l - E grad l_L|| / ||E grad l_L||``, follows from the telescoping sum of the
correction means, so no sample is needed at every level.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from sciml_core import InputError, SeedLike, as_torch_generator

from ._cost import grid_cost
from ._data import MultiLevelData
from ._estimator import LossFn
from ._per_sample import iter_per_sample_gradients

__all__ = ["LevelStats", "estimate_level_stats"]


@dataclass(frozen=True)
class LevelStats:
    """Pilot estimates (each from ``n_pilot`` samples of its level: orders of magnitude only).

    Attributes:
        V: ``(V_0, ..., V_L)``.
        V_single: ``V_SL`` (finest level alone).
        bias: relative gradient bias of training on level ``l`` alone (``0`` at ``L``).
        cost_units: ``C_l = n_l^d`` per sample and resolution (FFT logs, overheads ignored).
        cost_seconds: measured forward + backward seconds per sample at ``n_l``.
        n_pilot: samples used per level.
    """

    V: tuple[float, ...]
    V_single: float
    bias: tuple[float, ...]
    cost_units: tuple[float, ...]
    cost_seconds: tuple[float, ...]
    n_pilot: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


class _Moments:
    def __init__(self) -> None:
        self.n = 0
        self.s: torch.Tensor | None = None
        self.s2: torch.Tensor | None = None

    def add(self, g: torch.Tensor) -> None:
        g = g.detach().to(torch.float64)
        self.n += g.shape[0]
        s, s2 = g.sum(0), (g * g).sum(0)
        self.s = s if self.s is None else self.s + s
        self.s2 = s2 if self.s2 is None else self.s2 + s2

    def mean(self) -> torch.Tensor:
        if self.s is None:
            raise ValueError("no samples accumulated")
        return self.s / self.n

    def trace_cov(self) -> float:
        if self.s is None or self.s2 is None or self.n < 2:
            raise ValueError("need at least two samples")
        return float(((self.s2 - self.s * self.s / self.n) / (self.n - 1)).sum().clamp_min(0))


def _seconds_per_sample(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn
) -> float:
    model.zero_grad(set_to_none=True)
    loss_fn(model(x), y).mean().backward()  # warm-up
    if x.is_cuda:
        torch.cuda.synchronize(x.device)
    t0 = time.perf_counter()
    loss_fn(model(x), y).mean().backward()
    if x.is_cuda:
        torch.cuda.synchronize(x.device)
    model.zero_grad(set_to_none=True)
    return (time.perf_counter() - t0) / x.shape[0]


def estimate_level_stats(
    model: nn.Module,
    data: MultiLevelData,
    loss_fn: LossFn,
    *,
    n_pilot: int = 64,
    chunk_size: int = 8,
    time_batch: int = 16,
    seed: SeedLike = 0,
) -> LevelStats:
    """Estimate :class:`LevelStats` on ``min(n_pilot, N_l)`` random samples of each level.

    Args:
        model: the current model (its parameters are not changed).
        data: the level pools.
        loss_fn: per-sample loss.
        n_pilot: samples per level (at least 2).
        chunk_size: per-sample gradients per ``vmap`` call.
        time_batch: batch size of the wall-time measurement.
        seed: which pilot samples.
    """
    if isinstance(n_pilot, bool) or not isinstance(n_pilot, int) or n_pilot < 2:
        raise InputError(f"n_pilot: expected an integer >= 2, got {n_pilot!r}")
    g = as_torch_generator(seed)
    V, means, used, seconds = [], [], [], []
    single = _Moments()
    for j, lev in enumerate(data.levels):
        m = min(n_pilot, len(lev))
        if m < 2:
            raise InputError(f"data: level {j} has {len(lev)} sample(s); the pilot needs 2")
        rows = torch.randperm(len(lev), generator=g)[:m]
        x, y = lev.x[rows], lev.y[rows]
        diff = _Moments()
        fine_chunks = iter_per_sample_gradients(model, x, y, loss_fn, chunk_size=chunk_size)
        if lev.x_coarse is None or lev.y_coarse is None:
            for gf in fine_chunks:
                diff.add(gf)
                if j == data.n_levels - 1:
                    single.add(gf)
        else:
            coarse_chunks = iter_per_sample_gradients(
                model, lev.x_coarse[rows], lev.y_coarse[rows], loss_fn, chunk_size=chunk_size
            )
            for gf, gc in zip(fine_chunks, coarse_chunks, strict=True):
                diff.add(gf - gc)
                if j == data.n_levels - 1:
                    single.add(gf)
        V.append(diff.trace_cov())
        means.append(diff.mean())
        used.append(m)
        tb = min(time_batch, m)
        seconds.append(_seconds_per_sample(model, x[:tb], y[:tb], loss_fn))
    fine_mean = torch.stack(means).sum(0)  # E grad l_L by telescoping
    norm = float(fine_mean.norm())
    bias = []
    for j in range(data.n_levels):
        rest = torch.stack(means[j + 1 :]).sum(0) if j + 1 < data.n_levels else None
        bias.append(0.0 if rest is None else float(rest.norm()) / max(norm, 1e-300))
    return LevelStats(
        V=tuple(V),
        V_single=single.trace_cov(),
        bias=tuple(bias),
        cost_units=tuple(float(grid_cost(n, data.dim)) for n in data.resolutions),
        cost_seconds=tuple(seconds),
        n_pilot=tuple(used),
    )
