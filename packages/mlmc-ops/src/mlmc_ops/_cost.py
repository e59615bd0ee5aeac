"""Cost accounting in grid-point units: ``C_l = n_l^d`` per sample and resolution.

The unit ignores the ``log n`` of the FFT and every per-call overhead (said in every output that
reports it); measured wall time is always reported beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sciml_core import InputError

__all__ = ["grid_cost", "level_costs", "step_cost"]


def grid_cost(resolution: int, dim: int) -> int:
    """Cost units of one sample at ``resolution`` points per axis in ``dim`` dimensions: ``n^d``.

    Examples:
        >>> grid_cost(16, 2), grid_cost(64, 2) // grid_cost(16, 2)
        (256, 16)
    """
    if not isinstance(resolution, int) or resolution < 1:
        raise InputError(f"resolution: expected a positive integer, got {resolution!r}")
    if not isinstance(dim, int) or dim < 1:
        raise InputError(f"dim: expected a positive integer, got {dim!r}")
    return resolution**dim


def level_costs(resolutions: Sequence[int], dim: int) -> list[int]:
    """Cost units ``C'_l = C_l + C_{l-1}`` (``C_{-1} = 0``) of one sample of level term ``l``:
    a correction evaluates the same sample at two adjacent resolutions.

    Examples:
        >>> level_costs((16, 32), 2)
        [256, 1280]
    """
    c = [grid_cost(n, dim) for n in resolutions]
    return [c[0]] + [c[j] + c[j - 1] for j in range(1, len(c))]


def step_cost(resolutions: Sequence[int], batch_sizes: Sequence[int], dim: int) -> int:
    """Cost units of one MLMC step: ``sum_l b_l (n_l^d + n_{l-1}^d)`` with ``n_{-1} = 0``.

    Examples:
        >>> step_cost((16, 32), (8, 2), 2)  # 8 * 256 + 2 * (1024 + 256)
        4608
    """
    if len(batch_sizes) != len(resolutions):
        raise InputError(
            f"batch_sizes: expected one per level ({len(resolutions)}), got {list(batch_sizes)}"
        )
    return sum(b * c for b, c in zip(batch_sizes, level_costs(resolutions, dim), strict=True))
