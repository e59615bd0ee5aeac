"""Solver result record, shared argument checks and a (preconditioned) conjugate-gradient core."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from sciml_core import InputError, check_finite

from ._operator import LinearOperator, check_tensor

Callback = Callable[[int], None]
"""Progress hook of the iterative solvers: called with the 1-based iteration (or solve) count
after each iteration; it only observes (e.g. advances a progress bar) and returns nothing."""


@dataclass
class SolverResult:
    """Output of every solver.

    Attributes:
        x: the reconstruction (input dtype and device).
        iterations: iterations performed.
        converged: whether the stopping rule (tolerance or discrepancy) was met.
        history: per-iteration lists, e.g. ``"objective"``, ``"residual"`` (and ``"psnr"`` only
            when a reference image was passed): numbers, or one list per iteration (e.g.
            ``"psnr_each"`` of :meth:`AdversarialRegularizer.reconstruct`).
    """

    x: torch.Tensor
    iterations: int
    converged: bool
    history: dict[str, list[Any]] = field(default_factory=dict)


def check_operator(A: object, name: str = "A") -> LinearOperator:
    if not isinstance(A, LinearOperator):
        raise InputError(f"{name}: expected a LinearOperator, got {type(A).__name__}")
    return A


def check_data(A: LinearOperator, y: object, name: str = "y") -> torch.Tensor:
    t = check_tensor(y, name, allow_complex=A.complex_range)
    check_finite(t, name)
    if A.out_shape is not None:
        k = len(A.out_shape)
        if t.ndim < k or tuple(t.shape[t.ndim - k :]) != A.out_shape:
            raise InputError(
                f"{name}: expected trailing shape {A.out_shape}, got shape {tuple(t.shape)}"
            )
    return t


def check_like(x0: torch.Tensor | None, ref: torch.Tensor, name: str = "x0") -> None:
    if x0 is None:
        return
    check_tensor(x0, name)
    if x0.shape != ref.shape:
        raise InputError(f"{name}: expected shape {tuple(ref.shape)}, got {tuple(x0.shape)}")
    if x0.device != ref.device:
        raise InputError(f"{name}: expected device {ref.device}, got {x0.device}")
    if x0.dtype != ref.dtype:
        raise InputError(f"{name}: expected dtype {ref.dtype}, got {x0.dtype}")
    check_finite(x0, name)


def check_positive(value: object, name: str, *, allow_zero: bool = False) -> float:
    bound = ">= 0" if allow_zero else "> 0"
    bad = InputError(f"{name}: expected a finite number {bound}, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise bad
    return float(value)


def check_count(value: object, name: str, *, minimum: int = 1) -> int:
    """An iteration count: an integer ``>= minimum`` (``2.5`` or ``-1`` are refused, not cut)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def check_iterate(x: torch.Tensor, k: int, solver: str) -> None:
    if not bool(torch.isfinite(x).all()):
        raise FloatingPointError(f"{solver}: iterate became NaN/inf at iteration {k}")


def image_shape(A: LinearOperator, y: torch.Tensor) -> tuple[int, ...]:
    """Trailing input shape of ``A`` (from ``A.in_shape`` or from ``A* y``)."""
    if A.in_shape is not None:
        return A.in_shape
    return tuple(A._adj(y).shape[-2:])


def sqnorm_upper(A: LinearOperator, y: torch.Tensor) -> float:
    """Upper value of ``A.sqnorm()`` (certified where the operator knows a bound)."""
    shape = None if A.in_shape is not None else image_shape(A, y)
    return float(A.sqnorm(shape=shape).upper)


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.sum(a * b)


def conjugate_gradient(
    apply: Callable[[torch.Tensor], torch.Tensor],
    b: torch.Tensor,
    x0: torch.Tensor | None = None,
    *,
    max_iter: int = 500,
    tol: float = 1e-10,
    precond: Callable[[torch.Tensor], torch.Tensor] | None = None,
    callback: Callback | None = None,
) -> SolverResult:
    """(Preconditioned) CG for ``apply(x) = b`` with ``apply`` symmetric positive (semi)definite.

    Stops when the residual norm falls below ``tol * ||b||``; history holds the residual norms.
    ``callback(k)`` is called after iteration ``k`` (progress reporting).
    """
    x = torch.zeros_like(b) if x0 is None else x0.clone()
    r = b - apply(x) if x0 is not None else b.clone()
    z = precond(r) if precond is not None else r
    p = z.clone()
    rz = _dot(r, z)
    bnorm = float(torch.linalg.vector_norm(b))
    hist: list[float] = []
    if bnorm == 0.0:
        return SolverResult(torch.zeros_like(b), 0, True, {"residual": [0.0]})
    converged = False
    k = 0
    for k in range(1, max_iter + 1):
        ap = apply(p)
        pap = _dot(p, ap)
        if float(pap) <= 0:
            converged = float(torch.linalg.vector_norm(r)) <= tol * bnorm
            break
        a = rz / pap
        x = x + a * p
        r = r - a * ap
        rn = float(torch.linalg.vector_norm(r))
        hist.append(rn)
        if callback is not None:
            callback(k)
        if rn <= tol * bnorm:
            converged = True
            break
        z = precond(r) if precond is not None else r
        rz_new = _dot(r, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    check_iterate(x, k, "conjugate_gradient")
    return SolverResult(x, k, converged, {"residual": hist})
