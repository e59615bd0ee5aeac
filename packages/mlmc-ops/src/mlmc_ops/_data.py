"""Multilevel data: per level term the same samples at two adjacent resolutions.

Level ``0`` holds ``N_0`` samples at ``n_0``; level ``l >= 1`` holds ``N_l`` samples at ``n_l``
and the **same** samples at ``n_{l-1}`` (the coupling that keeps ``V_l`` small). A level set is a
*pool* to draw batches from. Two layouts:

* disjoint pools (``n_samples`` a sequence): level ``l`` has its own samples (ids recorded);
* one shared pool (``n_samples`` an int): every level holds the same samples at its two
  resolutions, which the ``"nested"`` pairing needs.

This is the only module that uses ``fno_conserve``, imported inside :meth:`MultiLevelData.generate`
and :meth:`MultiLevelData.from_fine`, so ``import mlmc_ops`` does not load it.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import torch

from sciml_core import InputError, SeedLike, as_torch_generator

from ._levels import check_resolutions

__all__ = ["HIERARCHIES", "RESTRICTIONS", "Hierarchy", "LevelSet", "MultiLevelData", "Restriction"]

Hierarchy = Literal["restrict", "resolve"]
HIERARCHIES: tuple[Hierarchy, ...] = typing.get_args(Hierarchy)
"""(R) solve on the finest grid and restrict; (S) solve the same random input on every grid."""

Restriction = Literal["average", "spectral", "subsample"]
RESTRICTIONS: tuple[Restriction, ...] = typing.get_args(Restriction)
"""``fno_conserve.restrict`` methods offered by :meth:`MultiLevelData.from_fine`."""


@dataclass(frozen=True)
class LevelSet:
    """The pool of level term ``l``.

    Attributes:
        resolution: ``n_l``.
        x, y: inputs ``(N_l, C_in, *spatial_l)`` and targets ``(N_l, C_out, *spatial_l)``.
        x_coarse, y_coarse: the same samples at ``n_{l-1}`` (``None`` for level 0).
        ids: ``(N_l,)`` int64 sample ids (generator indices or rows of the fine pool).
    """

    resolution: int
    x: torch.Tensor
    y: torch.Tensor
    x_coarse: torch.Tensor | None
    y_coarse: torch.Tensor | None
    ids: torch.Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])


def _spatial(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(t.shape[2:])


class MultiLevelData:
    """Level sets ``S_0, ..., S_L`` of a resolution hierarchy (see the module docstring).

    Args:
        levels: one :class:`LevelSet` per level, coarsest first.
        hierarchy: how the coarse data were made (recorded; ``"custom"`` for user data).
        generation_seconds: wall time spent making the data (recorded).

    Raises:
        InputError: a level is empty, sizes disagree, resolutions are not increasing, or a
            correction's coarse resolution is not the previous level's.

    Examples:
        >>> x = torch.randn(6, 1, 8, 8, dtype=torch.float64)
        >>> data = MultiLevelData.from_fine(x, 2 * x, (4, 8), n_samples=(4, 2), seed=0)
        >>> data.n_samples, data.resolutions, data.shared_pool
        ((4, 2), (4, 8), False)
    """

    def __init__(
        self,
        levels: Sequence[LevelSet],
        *,
        hierarchy: str = "custom",
        generation_seconds: float = 0.0,
    ) -> None:
        self.levels = tuple(levels)
        if not self.levels:
            raise InputError("levels: expected at least one level, got none")
        check_resolutions([lev.resolution for lev in self.levels], argument="resolutions")
        for j, lev in enumerate(self.levels):
            n = lev.resolution
            if len(lev) == 0:
                raise InputError(f"levels[{j}]: expected at least one sample, got an empty level")
            if lev.y.shape[0] != len(lev) or lev.ids.shape != (len(lev),):
                raise InputError(
                    f"levels[{j}]: x, y and ids must have the same number of samples, got "
                    f"{lev.x.shape[0]}, {lev.y.shape[0]}, {tuple(lev.ids.shape)}"
                )
            if lev.x.ndim < 3 or any(s != n for s in _spatial(lev.x)):
                raise InputError(
                    f"levels[{j}].x: expected (N, C, {n}, ...) at resolution {n}, got "
                    f"{tuple(lev.x.shape)}"
                )
            if j == 0:
                if lev.x_coarse is not None or lev.y_coarse is not None:
                    raise InputError("levels[0]: the coarsest level has no coarse half")
                continue
            nc = self.levels[j - 1].resolution
            if lev.x_coarse is None or lev.y_coarse is None:
                raise InputError(f"levels[{j}]: a correction needs the same samples at {nc}")
            if lev.x_coarse.shape[0] != len(lev) or lev.y_coarse.shape[0] != len(lev):
                raise InputError(
                    f"levels[{j}]: coarse half has {lev.x_coarse.shape[0]} samples, expected "
                    f"{len(lev)}"
                )
            if any(s != nc for s in _spatial(lev.x_coarse)):
                raise InputError(
                    f"levels[{j}].x_coarse: expected resolution {nc} (the previous level), got "
                    f"{tuple(lev.x_coarse.shape)}"
                )
        self.hierarchy = hierarchy
        self.generation_seconds = float(generation_seconds)

    def __repr__(self) -> str:
        return (
            f"MultiLevelData(resolutions={self.resolutions}, n_samples={self.n_samples}, "
            f"hierarchy={self.hierarchy!r})"
        )

    @property
    def resolutions(self) -> tuple[int, ...]:
        """``(n_0, ..., n_L)``."""
        return tuple(lev.resolution for lev in self.levels)

    @property
    def n_samples(self) -> tuple[int, ...]:
        """``(N_0, ..., N_L)``, the pool size of each level."""
        return tuple(len(lev) for lev in self.levels)

    @property
    def n_levels(self) -> int:
        """``L + 1``."""
        return len(self.levels)

    @property
    def dim(self) -> int:
        """Spatial dimension ``d``."""
        return self.levels[0].x.ndim - 2

    @property
    def shared_pool(self) -> bool:
        """True when every level holds the same samples (needed by the nested pairing)."""
        first = self.levels[0].ids
        return all(torch.equal(lev.ids, first) for lev in self.levels)

    def to(self, device: Any = None, dtype: torch.dtype | None = None) -> MultiLevelData:
        """A copy on ``device`` with floating tensors cast to ``dtype`` (ids stay int64)."""

        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device=device, dtype=dtype)

        levels = [
            replace(
                lev,
                x=lev.x.to(device=device, dtype=dtype),
                y=lev.y.to(device=device, dtype=dtype),
                x_coarse=move(lev.x_coarse),
                y_coarse=move(lev.y_coarse),
            )
            for lev in self.levels
        ]
        return MultiLevelData(
            levels, hierarchy=self.hierarchy, generation_seconds=self.generation_seconds
        )

    def map(
        self,
        fx: Callable[[torch.Tensor], torch.Tensor],
        fy: Callable[[torch.Tensor], torch.Tensor],
    ) -> MultiLevelData:
        """Apply the same pointwise normalisation ``fx`` to every input and ``fy`` to every
        target, at every level (a level-dependent normalisation would break the coupling)."""

        def opt(f: Callable[[torch.Tensor], torch.Tensor], t: torch.Tensor | None) -> Any:
            return None if t is None else f(t)

        levels = [
            replace(
                lev,
                x=fx(lev.x),
                y=fy(lev.y),
                x_coarse=opt(fx, lev.x_coarse),
                y_coarse=opt(fy, lev.y_coarse),
            )
            for lev in self.levels
        ]
        return MultiLevelData(
            levels, hierarchy=self.hierarchy, generation_seconds=self.generation_seconds
        )

    @classmethod
    def from_pairs(
        cls,
        level0: tuple[torch.Tensor, torch.Tensor],
        corrections: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]],
    ) -> MultiLevelData:
        """Build from user tensors: ``level0 = (x, y)`` at ``n_0`` and, per correction,
        ``(x_fine, y_fine, x_coarse, y_coarse)`` of the same samples (ids ``0..N_l-1`` per level).
        """
        x0, y0 = level0
        levels = [LevelSet(x0.shape[-1], x0, y0, None, None, torch.arange(x0.shape[0]))]
        for xf, yf, xc, yc in corrections:
            levels.append(LevelSet(xf.shape[-1], xf, yf, xc, yc, torch.arange(xf.shape[0])))
        return cls(levels)

    @classmethod
    def from_fine(
        cls,
        x: torch.Tensor,
        y: torch.Tensor,
        resolutions: Sequence[int],
        n_samples: int | Sequence[int] | None = None,
        *,
        restrict: Restriction = "average",
        seed: SeedLike = 0,
    ) -> MultiLevelData:
        """Hierarchy (R) from fine data ``x, y`` ``(N, C, n_L, ...)``: coarse levels are
        ``fno_conserve.restrict(., n_L / n_l, restrict)`` of the fine samples.

        Args:
            x, y: fine inputs and targets.
            resolutions: ``(n_0, ..., n_L)``, each dividing ``n_L``, which must be ``x``'s grid.
            n_samples: ``None`` (every level holds all ``N`` samples: one shared pool), an int
                (the first ``n`` samples, shared) or ``(N_0, ..., N_L)`` (disjoint sets drawn at
                random from the ``N`` rows with ``seed``; ``sum N_l <= N``).
            restrict: ``"average"`` (cell-centred data), ``"spectral"`` or ``"subsample"``.
            seed: for the disjoint split.
        """
        from fno_conserve import restrict as fno_restrict

        levels_n = check_resolutions(resolutions, nested=True)
        if restrict not in RESTRICTIONS:
            raise InputError(f"restrict: expected one of {RESTRICTIONS}, got {restrict!r}")
        if not isinstance(x, torch.Tensor) or x.ndim < 3 or x.shape[-1] != levels_n[-1]:
            raise InputError(
                f"x: expected (N, C, {levels_n[-1]}, ...) at the finest resolution, got "
                f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}"
            )
        if not isinstance(y, torch.Tensor) or y.shape[0] != x.shape[0]:
            raise InputError("y: expected as many samples as x")
        total = x.shape[0]
        if n_samples is None or isinstance(n_samples, int):
            count = total if n_samples is None else n_samples
            if not 1 <= count <= total:
                raise InputError(f"n_samples: expected 1..{total}, got {count}")
            rows = [torch.arange(count)] * len(levels_n)
        else:
            sizes = list(n_samples)
            if len(sizes) != len(levels_n) or any(not isinstance(s, int) or s < 1 for s in sizes):
                raise InputError(
                    f"n_samples: expected {len(levels_n)} positive integers, got {sizes}"
                )
            if sum(sizes) > total:
                raise InputError(f"n_samples: {sizes} sum to more than the {total} samples given")
            perm = torch.randperm(total, generator=as_torch_generator(seed))
            starts = [sum(sizes[:j]) for j in range(len(sizes))]
            rows = [perm[s : s + k].sort().values for s, k in zip(starts, sizes, strict=True)]

        def at(t: torch.Tensor, n: int) -> torch.Tensor:
            f = levels_n[-1] // n
            return t if f == 1 else fno_restrict(t, f, restrict)

        levels = []
        for j, n in enumerate(levels_n):
            xr, yr = x[rows[j]], y[rows[j]]
            coarse = (None, None) if j == 0 else (at(xr, levels_n[j - 1]), at(yr, levels_n[j - 1]))
            levels.append(LevelSet(n, at(xr, n), at(yr, n), coarse[0], coarse[1], rows[j]))
        return cls(levels, hierarchy="restrict")

    @classmethod
    def generate(
        cls,
        pde: str = "darcy",
        n_samples: int | Sequence[int] = 64,
        resolutions: Sequence[int] = (16, 32, 64),
        *,
        hierarchy: Hierarchy = "restrict",
        seed: SeedLike = 0,
        offset: int = 0,
        show_progress: bool = False,
        **pde_params: float,
    ) -> MultiLevelData:
        """Generate level sets with ``fno_conserve.generate``.

        Disjoint pools (``n_samples`` a sequence): level ``l`` takes sample indices
        ``offset + N_0 + ... + N_{l-1}`` onwards. Under ``"restrict"`` each level set is solved
        on the finest grid and restricted; under ``"resolve"`` it is solved at ``n_l`` and
        ``n_{l-1}`` from the random input drawn on the finest grid (``input_resolution``, so no
        finest solve is needed for coarse level sets). A shared pool (an int) is one call with
        every level.
        """
        from fno_conserve import generate as fno_generate

        levels_n = check_resolutions(resolutions, nested=hierarchy == "restrict")
        if hierarchy not in HIERARCHIES:
            raise InputError(f"hierarchy: expected one of {HIERARCHIES}, got {hierarchy!r}")
        fine = levels_n[-1]
        pde_name: Any = pde  # fno_conserve checks the name (its Literal is not ours to copy)
        extra: dict[str, Any] = dict(pde_params)

        def call(
            count: int, res: int, grids: tuple[int, ...], start: int, n_input: int | None
        ) -> list[Any]:
            return fno_generate(
                pde_name,
                count,
                res,
                seed=seed,
                resolutions=grids,
                hierarchy=hierarchy,
                show_progress=show_progress,
                offset=start,
                input_resolution=n_input,
                **extra,
            )

        t0 = time.perf_counter()
        if isinstance(n_samples, int):
            if n_samples < 1:
                raise InputError(f"n_samples: expected a positive integer, got {n_samples}")
            out = call(n_samples, fine, levels_n, offset, None)
            ids = torch.arange(offset, offset + n_samples)
            levels = [
                LevelSet(
                    n,
                    out[j]["x"],
                    out[j]["y"],
                    None if j == 0 else out[j - 1]["x"],
                    None if j == 0 else out[j - 1]["y"],
                    ids,
                )
                for j, n in enumerate(levels_n)
            ]
        else:
            sizes = list(n_samples)
            if len(sizes) != len(levels_n) or any(not isinstance(s, int) or s < 1 for s in sizes):
                raise InputError(
                    f"n_samples: expected {len(levels_n)} positive integers, got {sizes}"
                )
            levels = []
            start = offset
            for j, (n, count) in enumerate(zip(levels_n, sizes, strict=True)):
                want = (n,) if j == 0 else (levels_n[j - 1], n)
                if hierarchy == "restrict":
                    got = call(count, fine, want if n == fine else (*want, fine), start, None)
                else:
                    got = call(count, n, want, start, fine)
                ids = torch.arange(start, start + count)
                if j == 0:
                    levels.append(LevelSet(n, got[0]["x"], got[0]["y"], None, None, ids))
                else:
                    levels.append(
                        LevelSet(n, got[1]["x"], got[1]["y"], got[0]["x"], got[0]["y"], ids)
                    )
                start += count
        return cls(levels, hierarchy=hierarchy, generation_seconds=time.perf_counter() - t0)
