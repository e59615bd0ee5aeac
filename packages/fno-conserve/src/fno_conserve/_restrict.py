"""Restriction and prolongation between grids of the same samples (multi-resolution data)."""

from __future__ import annotations

from types import EllipsisType
from typing import Literal, get_args

import torch
import torch.nn.functional as F

from sciml_core import InputError

RestrictMethod = Literal["spectral", "subsample", "average", "inject"]
RESTRICT_METHODS: tuple[RestrictMethod, ...] = get_args(RestrictMethod)
"""Restriction methods of :func:`restrict`."""

ProlongMethod = Literal["spectral", "constant"]
PROLONG_METHODS: tuple[ProlongMethod, ...] = get_args(ProlongMethod)
"""Prolongation methods of :func:`prolong`."""


def _check(u: torch.Tensor, factor: int) -> tuple[int, ...]:
    if not isinstance(u, torch.Tensor) or u.ndim < 3 or not u.is_floating_point():
        raise InputError(
            f"u: expected a floating tensor (B, C, *spatial), got "
            f"{tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__}"
        )
    if not isinstance(factor, int) or factor < 1:
        raise InputError(f"factor: expected a positive integer, got {factor!r}")
    return tuple(u.shape[2:])


def _spectral_resample(u: torch.Tensor, new_shape: tuple[int, ...]) -> torch.Tensor:
    """Keep the frequencies with ``|k_a| < min(N_a, M_a)/2`` and evaluate on the new periodic
    grid."""
    dims = tuple(range(2, u.ndim))
    uh = torch.fft.rfftn(u, dim=dims, norm="forward")
    out = uh.new_zeros((*u.shape[:2], *new_shape[:-1], new_shape[-1] // 2 + 1))
    old_shape = tuple(u.shape[2:])
    keep = [(min(o, n) + 1) // 2 for o, n in zip(old_shape, new_shape, strict=True)]
    # frequencies 0..keep-1 and -(keep'-1)..-1 on the full axes (never a Nyquist frequency)
    index_sets: list[list[tuple[slice, slice]]] = []
    for a, (o, n, k) in enumerate(zip(old_shape, new_shape, keep, strict=True)):
        if a == len(old_shape) - 1:
            index_sets.append([(slice(0, k), slice(0, k))])
        else:
            neg = (min(o, n) - 1) // 2
            sets = [(slice(0, k), slice(0, k))]
            if neg > 0:
                sets.append((slice(o - neg, o), slice(n - neg, n)))
            index_sets.append(sets)

    def fill(axis: int, src_idx: tuple[slice, ...], dst_idx: tuple[slice, ...]) -> None:
        if axis == len(index_sets):
            out[(..., *dst_idx)] = uh[(..., *src_idx)]
            return
        for s, d in index_sets[axis]:
            fill(axis + 1, (*src_idx, s), (*dst_idx, d))

    fill(0, (), ())
    return torch.fft.irfftn(out, s=new_shape, dim=dims, norm="forward")


def _every(factor: int, dim: int) -> tuple[EllipsisType | slice, ...]:
    """Index of every ``factor``-th point along each of the last ``dim`` axes."""
    index: list[EllipsisType | slice] = [Ellipsis]
    index += [slice(None, None, factor)] * dim
    return tuple(index)


def restrict(u: torch.Tensor, factor: int, method: RestrictMethod = "spectral") -> torch.Tensor:
    """Restrict fields ``(B, C, *spatial)`` to a grid ``factor`` times coarser per axis.

    * ``"spectral"``: periodic data; keep ``|k| < N_c/2`` and evaluate on the coarse periodic grid
      (equals ``"subsample"`` for band-limited fields).
    * ``"subsample"``: every ``factor``-th point of a periodic grid.
    * ``"average"``: mean over ``factor^d`` blocks (cell-centred data: preserves the cell-rule
      integral exactly).
    * ``"inject"``: node grids with ``N = factor (N_c - 1) + 1`` points, every ``factor``-th node.

    Examples:
        >>> u = torch.arange(8.0).reshape(1, 1, 8)
        >>> restrict(u, 2, "average").tolist()
        [[[0.5, 2.5, 4.5, 6.5]]]
    """
    shape = _check(u, factor)
    if method not in RESTRICT_METHODS:
        raise InputError(f"method: expected one of {RESTRICT_METHODS}, got {method!r}")
    if method == "inject":
        if any((n - 1) % factor for n in shape):
            raise InputError(f"u: 'inject' needs N - 1 divisible by {factor} per axis, got {shape}")
        return u[_every(factor, len(shape))]
    if any(n % factor for n in shape):
        raise InputError(f"u: grid {shape} is not divisible by factor {factor}")
    if method == "subsample":
        return u[_every(factor, len(shape))]
    if method == "average":
        pool = F.avg_pool1d if len(shape) == 1 else F.avg_pool2d
        if len(shape) > 2:
            raise InputError(f"u: 'average' supports 1-D and 2-D grids, got {shape}")
        return pool(u, factor)
    return _spectral_resample(u, tuple(n // factor for n in shape))


def prolong(u: torch.Tensor, factor: int, method: ProlongMethod = "spectral") -> torch.Tensor:
    """Prolong fields to a grid ``factor`` times finer per axis.

    ``"spectral"``: zero-padding of the spectrum (band-limited interpolation), so
    ``restrict(prolong(u)) == u`` for fields without a Nyquist component; ``"constant"``: repeat
    each value over its block (the adjoint-like partner of ``"average"``).

    Examples:
        >>> u = torch.tensor([[[1.0, 2.0]]])
        >>> prolong(u, 2, "constant").tolist()
        [[[1.0, 1.0, 2.0, 2.0]]]
    """
    shape = _check(u, factor)
    if method == "constant":
        out = u
        for a in range(len(shape)):
            out = out.repeat_interleave(factor, dim=2 + a)
        return out
    if method not in PROLONG_METHODS:
        raise InputError(f"method: expected one of {PROLONG_METHODS}, got {method!r}")
    return _spectral_resample(u, tuple(n * factor for n in shape))
