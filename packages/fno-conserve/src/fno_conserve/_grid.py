"""Grids and quadrature weights on boxes ``[0, L_1) x ... x [0, L_d)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import torch

from sciml_core import InputError

Rule = Literal["periodic", "trapezoid", "cells"]
RULES: tuple[Rule, ...] = get_args(Rule)
"""Quadrature rules: periodic (equal weights), trapezoid (node grid), cells (midpoint)."""

GridKind = Literal["periodic", "nodes", "cells"]
GRID_KINDS: tuple[GridKind, ...] = get_args(GridKind)
"""Grid kinds: periodic points ``i L/N``, nodes ``i L/(N-1)``, cell centres ``(i + 1/2) L/N``."""


def _as_shape(shape: int | Sequence[int], name: str = "shape") -> tuple[int, ...]:
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(n) for n in shape)
    if not shape or any(n < 1 for n in shape):
        raise InputError(f"{name}: expected one or more positive sizes, got {shape}")
    return shape


def _as_lengths(lengths: float | Sequence[float], dim: int) -> tuple[float, ...]:
    if isinstance(lengths, int | float):
        lengths = (float(lengths),) * dim
    lengths = tuple(float(v) for v in lengths)
    if len(lengths) != dim or any(not v > 0 for v in lengths):
        raise InputError(f"lengths: expected {dim} positive box lengths, got {lengths}")
    return lengths


def grid_1d(
    n: int,
    kind: GridKind,
    length: float = 1.0,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Coordinates of ``n`` points on ``[0, length]`` for one grid kind.

    ``"periodic"``: ``i L / n`` (endpoint excluded); ``"nodes"``: ``i L / (n - 1)`` (both ends);
    ``"cells"``: ``(i + 1/2) L / n`` (cell centres).
    """
    if kind not in GRID_KINDS:
        raise InputError(f"kind: expected one of {GRID_KINDS}, got {kind!r}")
    i = torch.arange(n, dtype=dtype, device=device)
    if kind == "periodic":
        return i * (length / n)
    if kind == "cells":
        return (i + 0.5) * (length / n)
    if n < 2:
        raise InputError(f"shape: a 'nodes' grid needs at least 2 points per axis, got {n}")
    return i * (length / (n - 1))


def grid(
    shape: int | Sequence[int],
    kind: GridKind = "periodic",
    lengths: float | Sequence[float] = 1.0,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Coordinates of a tensor-product grid.

    Args:
        shape: points per axis ``(N_1, ..., N_d)``.
        kind: ``"periodic"`` (``x_i = i L/N``), ``"nodes"`` (``x_i = i L/(N-1)``) or
            ``"cells"`` (``x_i = (i + 1/2) L/N``).
        lengths: box side lengths (one float for all axes).

    Returns:
        Tensor ``(d, N_1, ..., N_d)``: ``out[a]`` is the ``a``-th coordinate at every point.

    Examples:
        >>> grid(4).squeeze(0).tolist()
        [0.0, 0.25, 0.5, 0.75]
        >>> grid((2, 3), "cells").shape
        torch.Size([2, 2, 3])
    """
    shape = _as_shape(shape)
    lengths = _as_lengths(lengths, len(shape))
    axes = [
        grid_1d(n, kind, length, dtype=dtype, device=device)
        for n, length in zip(shape, lengths, strict=True)
    ]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=0)


def quadrature_weights(
    shape: int | Sequence[int],
    lengths: float | Sequence[float] = 1.0,
    rule: Rule = "periodic",
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Tensor-product quadrature weights ``w`` with ``sum_i w_i f(x_i) ~ int f``.

    ``"periodic"``: ``w_i = L/N`` on the periodic grid (spectrally accurate for periodic ``f``);
    ``"trapezoid"``: ``h = L/(N-1)`` with half weights at both ends (node grid);
    ``"cells"``: ``w_i = L/N`` at cell centres (midpoint rule). In ``d`` dimensions the weights are
    products of the 1-D weights.

    Args:
        shape: points per axis.
        lengths: box side lengths.
        rule: ``"periodic"``, ``"trapezoid"`` or ``"cells"``.

    Returns:
        Tensor of shape ``shape``, all entries positive, summing to the box volume.

    Examples:
        >>> quadrature_weights(5, rule="trapezoid").tolist()
        [0.125, 0.25, 0.25, 0.25, 0.125]
        >>> float(quadrature_weights((4, 8)).sum())
        1.0
    """
    if rule not in RULES:
        raise InputError(f"rule: expected one of {RULES}, got {rule!r}")
    shape = _as_shape(shape)
    lengths = _as_lengths(lengths, len(shape))
    out = torch.ones((), dtype=dtype, device=device)
    for n, length in zip(shape, lengths, strict=True):
        if rule == "trapezoid":
            if n < 2:
                raise InputError(f"shape: the trapezoid rule needs >= 2 points per axis, got {n}")
            w = torch.full((n,), length / (n - 1), dtype=dtype, device=device)
            w[0] = w[-1] = 0.5 * length / (n - 1)
        else:
            w = torch.full((n,), length / n, dtype=dtype, device=device)
        out = out.unsqueeze(-1) * w
    return out


_RULE_GRID: dict[Rule, GridKind] = {"periodic": "periodic", "trapezoid": "nodes", "cells": "cells"}


def rule_grid_kind(rule: Rule) -> GridKind:
    """The grid kind on which a quadrature rule lives."""
    if rule not in RULES:
        raise InputError(f"rule: expected one of {RULES}, got {rule!r}")
    return _RULE_GRID[rule]
