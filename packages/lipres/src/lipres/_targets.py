r"""1-Lipschitz targets of the approximation study (spec §6.1), all exactly 1-Lipschitz in ℓ2.

Each target maps ``[N, d]`` points to ``[N]`` values. Distance functions to a set are 1-Lipschitz
(triangle inequality); :math:`|x|`, the triangle wave of slope ±1 and a maximum of affine functions
with :math:`\|a_j\|_2 \le 1` are piecewise affine with every slope of norm at most 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from sciml_core import InputError, SeedLike, as_generator

from ._common import check_int, check_number

__all__ = [
    "abs_target",
    "distance_to_circle",
    "distance_to_points",
    "distance_to_square_boundary",
    "grid",
    "max_affine",
    "random_max_affine",
    "random_points",
    "triangle_wave",
]

Target = Callable[[Tensor], Tensor]


def _check_points(x: Tensor, d: int) -> None:
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != d:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise InputError(f"x: expected shape [N, {d}], got {got}")


def abs_target() -> Target:
    """:math:`x \\mapsto |x|` on ``[N, 1]``.

    Examples:
        >>> abs_target()(torch.tensor([[-2.0], [3.0]])).tolist()
        [2.0, 3.0]
    """

    def f(x: Tensor) -> Tensor:
        _check_points(x, 1)
        return x[:, 0].abs()

    return f


def triangle_wave(period: float = 1.0) -> Target:
    """Slope ±1 triangle wave, 0 at multiples of ``period``, peak ``period / 2`` between."""
    p = check_number(period, "period", strict=True)

    def f(x: Tensor) -> Tensor:
        _check_points(x, 1)
        t = torch.remainder(x[:, 0], p)
        return torch.minimum(t, p - t)

    return f


def distance_to_circle(radius: float = 1.0) -> Target:
    """:math:`x \\mapsto |\\,\\|x\\|_2 - r\\,|` on ``[N, 2]`` (concave kink at the origin)."""
    r = check_number(radius, "radius")

    def f(x: Tensor) -> Tensor:
        _check_points(x, 2)
        return (torch.linalg.vector_norm(x, dim=1) - r).abs()

    return f


def distance_to_square_boundary(half_side: float = 1.0) -> Target:
    """Distance to the boundary of :math:`[-s, s]^2` on ``[N, 2]``."""
    s = check_number(half_side, "half_side", strict=True)

    def f(x: Tensor) -> Tensor:
        _check_points(x, 2)
        q = x.abs() - s
        outside = torch.linalg.vector_norm(q.clamp_min(0.0), dim=1)
        inside = q.amax(dim=1).clamp_max(0.0)
        return (outside + inside).abs()

    return f


def distance_to_points(points: Tensor | np.ndarray | Sequence[Sequence[float]]) -> Target:
    """:math:`x \\mapsto \\min_i \\|x - p_i\\|_2` for points ``[P, d]``."""
    pts = torch.as_tensor(np.asarray(points, dtype=np.float64))
    if pts.dim() != 2 or pts.shape[0] < 1:
        raise InputError(f"points: expected shape [P >= 1, d], got {tuple(pts.shape)}")

    def f(x: Tensor) -> Tensor:
        _check_points(x, pts.shape[1])
        return torch.cdist(x, pts.to(x)).amin(dim=1)

    return f


def max_affine(a: Tensor | np.ndarray, b: Tensor | np.ndarray) -> Target:
    """:math:`x \\mapsto \\max_j (a_j^Tx + b_j)`, rows rescaled to :math:`\\|a_j\\|_2 \\le 1`."""
    am = torch.as_tensor(np.asarray(a, dtype=np.float64))
    bm = torch.as_tensor(np.asarray(b, dtype=np.float64))
    if am.dim() != 2 or bm.shape != (am.shape[0],):
        raise InputError(
            f"a, b: expected shapes [J, d] and [J], got {tuple(am.shape)}, {tuple(bm.shape)}"
        )
    am = am / torch.linalg.vector_norm(am, dim=1, keepdim=True).clamp_min(1.0)

    def f(x: Tensor) -> Tensor:
        _check_points(x, am.shape[1])
        return (x @ am.to(x).T + bm.to(x)).amax(dim=1)

    return f


def random_points(
    n: int, *, low: float = -1.5, high: float = 1.5, seed: SeedLike = 0
) -> np.ndarray:
    """``n`` seeded points, uniform in ``[low, high]^2``."""
    check_int(n, "n", minimum=1)
    return as_generator(seed).uniform(low, high, size=(n, 2))


def random_max_affine(n: int, *, seed: SeedLike = 0) -> Target:
    """Max of ``n`` seeded affine functions on the plane: unit-norm slopes, offsets in [-1, 1]."""
    check_int(n, "n", minimum=1)
    rng = as_generator(seed)
    angles = rng.uniform(0.0, 2.0 * np.pi, size=n)
    a = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return max_affine(a, rng.uniform(-1.0, 1.0, size=n))


def grid(
    bounds: Sequence[tuple[float, float]], n: int, *, dtype: torch.dtype = torch.float32
) -> Tensor:
    """A uniform grid with ``n`` points per axis on the box ``bounds`` (``[n**d, d]``).

    Examples:
        >>> grid([(0.0, 1.0), (0.0, 2.0)], 3).shape
        torch.Size([9, 2])
    """
    check_int(n, "n", minimum=2)
    axes = [torch.linspace(float(lo), float(hi), n, dtype=torch.float64) for lo, hi in bounds]
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([m.reshape(-1) for m in mesh], dim=1).to(dtype)
