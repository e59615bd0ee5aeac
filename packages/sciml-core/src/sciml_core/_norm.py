"""Operator 2-norm: power-iteration lower bounds and proven upper bounds."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, NamedTuple

import numpy as np

from ._backend import is_tensor, loaded_torch
from ._errors import InputError
from ._seed import SeedLike, as_generator, as_torch_generator

__all__ = ["NormEstimate", "estimate_operator_norm", "matrix_norm_bound"]

_F64_EPS = float(np.finfo(np.float64).eps)
_ROUNDING_UNITS = 16.0  # units of roundoff by which a computed bound may overshoot


class NormEstimate(NamedTuple):
    r"""Bounds on an operator norm :math:`\|A\|_2`: ``lower <= ||A|| <= upper`` when certified.

    Attributes:
        lower: A lower bound (the norm of :math:`A` on a computed vector, rounded down by a few
            units of roundoff).
        upper: An upper bound; proven only when ``certified`` is True, a heuristic otherwise.
        certified: True only when ``upper`` is a proven bound. Step sizes and other safety
            decisions must use ``upper`` of a certified estimate.
        iterations: Power iterations used (0 for :func:`matrix_norm_bound`).
    """

    lower: float
    upper: float
    certified: bool
    iterations: int = 0


def _is_matrix(a: Any) -> bool:
    if callable(a):
        return False
    if is_tensor(a) or isinstance(a, np.ndarray):
        return a.ndim == 2
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(a) and a.ndim == 2


def _coo_parts(matrix: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]] | None:
    """Rows, columns, values (duplicates summed) and shape of a sparse matrix; None if dense."""
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(matrix):
        csr = sparse.csr_matrix(matrix)
        csr.sum_duplicates()
        coo = csr.tocoo()
        return np.asarray(coo.row), np.asarray(coo.col), np.asarray(coo.data), coo.shape
    if is_tensor(matrix) and matrix.layout != loaded_torch().strided:  # type: ignore[union-attr]
        coo = matrix.detach().to_sparse_coo().coalesce().cpu()
        idx = coo.indices().numpy()
        vals = coo.values()
        if not vals.is_complex():
            vals = vals.double()
        return idx[0], idx[1], vals.numpy(), tuple(coo.shape)
    return None


def matrix_norm_bound(matrix: Any) -> NormEstimate:
    r"""Proven bounds on the spectral norm of an explicit matrix, without any iteration.

    .. math::
        \max\Big(\max_j \|a_{:,j}\|_2,\ \max_i \|a_{i,:}\|_2,\ \frac{\|A\|_F}{\sqrt{\min(m,n)}}\Big)
        \;\le\; \|A\|_2 \;\le\;
        \min\Big(\|A\|_F,\ \sqrt{\|A\|_1 \|A\|_\infty}\Big),

    with :math:`\|A\|_1` the largest absolute column sum and :math:`\|A\|_\infty` the largest
    absolute row sum. Sums are accumulated in float64 and the bounds are widened by the worst-case
    summation error, so they hold for the matrix as stored.

    Args:
        matrix: Dense numpy array, scipy sparse matrix or array, or dense or sparse (COO/CSR)
            torch tensor; real or complex, shape ``(m, n)``.

    Returns:
        ``NormEstimate(lower, upper, certified=True, iterations=0)``.

    Raises:
        InputError: not a 2-d matrix, or entries are not finite.

    Examples:
        >>> est = matrix_norm_bound(np.diag([3.0, 1.0]))
        >>> est.lower <= 3.0 <= est.upper, round(est.upper, 9), est.certified
        (True, 3.0, True)
    """
    parts = _coo_parts(matrix)
    if parts is not None:
        rows, cols, vals, shape = parts
        m, n = int(shape[0]), int(shape[1])
        mag = np.abs(vals.astype(np.complex128 if np.iscomplexobj(vals) else np.float64))
        col_abs = np.bincount(cols, weights=mag, minlength=n)
        row_abs = np.bincount(rows, weights=mag, minlength=m)
        col_sq = np.bincount(cols, weights=mag**2, minlength=n)
        row_sq = np.bincount(rows, weights=mag**2, minlength=m)
        count = max(vals.size, 1)
    else:
        if is_tensor(matrix):
            t = matrix.detach().cpu()
            a = t.numpy() if t.is_complex() else t.double().numpy()
        else:
            a = np.asarray(matrix)
        if a.ndim != 2:
            raise InputError(f"matrix must be 2-d; got shape {a.shape}")
        m, n = a.shape
        mag = np.abs(a.astype(np.complex128 if np.iscomplexobj(a) else np.float64))
        col_abs, row_abs = mag.sum(axis=0), mag.sum(axis=1)
        col_sq, row_sq = (mag**2).sum(axis=0), (mag**2).sum(axis=1)
        count = max(a.size, 1)
    if not np.all(np.isfinite(mag)):
        raise InputError("matrix must have finite entries; got NaN or inf")
    if m == 0 or n == 0:
        return NormEstimate(0.0, 0.0, True, 0)
    fro = math.sqrt(float(col_sq.sum()))
    upper = min(fro, math.sqrt(float(col_abs.max()) * float(row_abs.max())))
    lower = max(
        math.sqrt(float(col_sq.max())), math.sqrt(float(row_sq.max())), fro / math.sqrt(min(m, n))
    )
    # Worst-case error of summing `count` non-negative terms (plus the square roots).
    slack = (count + 4) * _F64_EPS
    return NormEstimate(lower * (1.0 - slack), upper * (1.0 + slack), True, 0)


def _random_like(example: Any, seed: SeedLike) -> Any:
    if is_tensor(example):
        torch = loaded_torch()
        assert torch is not None
        gen = as_torch_generator(seed, device="cpu")
        real = torch.float64
        if example.is_complex():
            z = torch.complex(
                torch.randn(example.shape, generator=gen, dtype=real),
                torch.randn(example.shape, generator=gen, dtype=real),
            )
            return z.to(example.device, example.dtype)
        dtype = example.dtype if example.is_floating_point() else torch.get_default_dtype()
        return torch.randn(example.shape, generator=gen, dtype=real).to(example.device, dtype)
    arr = np.asarray(example)
    rng = as_generator(seed)
    if np.iscomplexobj(arr):
        z = rng.standard_normal(arr.shape) + 1j * rng.standard_normal(arr.shape)
        return z.astype(arr.dtype)
    dtype = arr.dtype if arr.dtype.kind == "f" else np.float64
    return rng.standard_normal(arr.shape).astype(dtype)


def _vec_norm(u: Any) -> float:
    """Euclidean norm accumulated in double precision, whatever the working dtype.

    A float32 reduction over 10^5 entries is off by several units of float32 roundoff, enough to
    push a "lower bound" above the true norm; in float64 its error is far below float32's.
    """
    if is_tensor(u):
        torch = loaded_torch()
        assert torch is not None
        wide = torch.complex128 if u.is_complex() else torch.float64
        return float(torch.linalg.vector_norm(u.to(wide)))
    arr = np.asarray(u).ravel()
    return float(np.linalg.norm(arr.astype(np.complex128 if np.iscomplexobj(arr) else np.float64)))


def _unit_roundoff(u: Any) -> float:
    if is_tensor(u):
        torch = loaded_torch()
        assert torch is not None
        dtype = u.dtype.to_real() if u.is_complex() else u.dtype
        return float(torch.finfo(dtype).eps)
    return float(np.finfo(np.asarray(u).real.dtype).eps)


def estimate_operator_norm(
    forward: Any,
    adjoint: Callable[[Any], Any] | None,
    example: Any,
    *,
    iters: int = 100,
    tol: float = 1e-7,
    seed: SeedLike = 0,
    upper_bound: float | None = None,
) -> NormEstimate:
    r"""Estimate :math:`\|A\|_2` by power iteration on :math:`A^*A`, with honest bounds.

    From a seeded random :math:`x_0`, iterate :math:`x_{k+1} = A^*Ax_k / \|A^*Ax_k\|`. Every
    iterate gives the lower bounds :math:`\|Ax_k\| / \|x_k\| \le \|A\|` and
    :math:`\sqrt{\|A^*Ax_k\| / \|x_k\|} \le \|A\|`, with every norm accumulated in float64
    (a float32 reduction alone can overshoot by several units of roundoff); ``lower`` is the
    best one seen, rounded down by a few units of roundoff of the working dtype. Iteration stops
    when ``lower`` changes by less than ``tol`` (relative) and the geometric extrapolation of the
    changes predicts less than ``tol / 2`` still to come, or after ``iters`` steps. Convergence
    is linear with ratio :math:`(\sigma_2/\sigma_1)^2`. With a near-tie at the top,
    :math:`\sigma_2 = (1 - g)\sigma_1`, ``lower`` still comes within about :math:`g` of
    :math:`\sigma_1` (any mix of the two singular vectors is that good), but its changes are
    then of order :math:`g^2` per step, so the iteration may stop with ``lower`` short by up to
    :math:`g \sigma_1` although ``tol`` is smaller, and the heuristic ``upper`` below can then
    lie under the norm. ``lower`` stays a lower bound in every case.

    ``upper`` is proven (``certified=True``) only if it comes from ``upper_bound`` or from
    :func:`matrix_norm_bound` when ``forward`` is an explicit matrix; then it is the smaller of
    the two (and ``lower`` is at least the matrix bound's ``lower``). Otherwise
    ``upper = best * (1 + 16 u) * (1 + max(10 * tol, 10 * predicted remaining error))``, with
    ``best`` the bound before rounding down and ``u`` the unit roundoff, is a heuristic and
    ``certified=False``: callers that need safety (step sizes) must not rely on it.

    Args:
        forward: :math:`x \mapsto Ax`, or an explicit matrix (numpy, scipy sparse, torch), in
            which case ``adjoint`` may be None and the matrix bound certifies ``upper``.
        adjoint: :math:`y \mapsto A^*y` (None only for an explicit matrix).
        example: A domain element (numpy array or tensor) giving shape, dtype and device of the
            iterates; real or complex.
        iters: Maximum number of iterations (>= 1).
        tol: Relative change of ``lower`` below which iteration stops (> 0).
        seed: Seed of :math:`x_0`.
        upper_bound: A known proven upper bound on :math:`\|A\|_2`, if any.

    Returns:
        ``NormEstimate(lower, upper, certified, iterations)``.

    Raises:
        InputError: invalid ``iters``/``tol``/``upper_bound``, ``upper_bound`` below the
            proven lower bound (so it cannot be a bound of this operator), or an explicit
            matrix whose ``example`` has the wrong size (or, for a tensor, dtype or device).

    Examples:
        >>> A = np.diag([2.0, 1.0, 0.5])
        >>> est = estimate_operator_norm(lambda x: A @ x, lambda y: A.T @ y, np.zeros(3))
        >>> round(est.lower, 6), est.certified
        (2.0, False)
        >>> est = estimate_operator_norm(A, None, np.zeros(3))
        >>> est.lower <= 2.0 <= est.upper, est.certified
        (True, True)
    """
    if isinstance(iters, bool) or not isinstance(iters, int) or iters < 1:
        raise InputError(f"iters must be an int >= 1; got {iters!r}")
    if not (isinstance(tol, int | float) and tol > 0):
        raise InputError(f"tol must be > 0; got {tol!r}")
    proven: float | None = None
    matrix_lower = 0.0
    if upper_bound is not None:
        proven = float(upper_bound)
        if not (proven >= 0 and math.isfinite(proven)):
            raise InputError(f"upper_bound must be a finite number >= 0; got {upper_bound!r}")
    if _is_matrix(forward):
        matrix = forward
        bounds = matrix_norm_bound(matrix)
        proven = bounds.upper if proven is None else min(proven, bounds.upper)
        matrix_lower = bounds.lower
        _check_matrix_example(matrix, example)
        forward, adjoint = _matrix_maps(matrix)
    elif not callable(forward):
        raise InputError(f"forward must be callable or a 2-d matrix; got {type(forward).__name__}")
    if adjoint is None or not callable(adjoint):
        raise InputError("adjoint must be callable (it may be None only for an explicit matrix)")

    torch = loaded_torch()
    no_grad = torch.no_grad() if (torch is not None and is_tensor(example)) else nullcontext()
    with no_grad:
        best, iterations, remaining, u = _power_iteration(
            forward, adjoint, example, iters, tol, seed
        )
    # Rounding in the working dtype can make `best` overshoot by a few units of roundoff: the
    # lower bound is rounded down by that much, the heuristic upper bound up by it.
    slack = _ROUNDING_UNITS * u
    lower = max(best * (1.0 - slack), matrix_lower)
    if proven is not None:
        if proven < lower:
            raise InputError(
                f"upper_bound={proven!r} is below the proven lower bound {lower!r} of this "
                "operator; it cannot be an upper bound"
            )
        return NormEstimate(lower, proven, True, iterations)
    margin = max(10.0 * tol, 10.0 * remaining)
    return NormEstimate(lower, best * (1.0 + slack) * (1.0 + margin), False, iterations)


def _check_matrix_example(matrix: Any, example: Any) -> None:
    n = int(matrix.shape[1])
    shape = tuple(example.shape) if hasattr(example, "shape") else np.shape(example)
    if int(np.prod(shape)) != n or (not is_tensor(matrix) and shape[:1] != (n,)):
        raise InputError(
            f"example must be a vector of matrix.shape[1] = {n} entries; got shape {shape}"
        )
    if is_tensor(matrix):
        if not is_tensor(example):
            raise InputError("example must be a torch tensor when the matrix is one")
        if example.dtype != matrix.dtype or example.device != matrix.device:
            raise InputError(
                f"example must have the matrix's dtype and device ({matrix.dtype}, "
                f"{matrix.device}); got ({example.dtype}, {example.device})"
            )


def _matrix_maps(matrix: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    if is_tensor(matrix):
        mh = matrix.conj().transpose(0, 1) if matrix.is_complex() else matrix.transpose(0, 1)

        def fwd_t(x: Any) -> Any:
            return (matrix @ x.reshape(-1, 1)).reshape(-1)

        def adj_t(y: Any) -> Any:
            return (mh @ y.reshape(-1, 1)).reshape(-1)

        return fwd_t, adj_t
    mh_np = matrix.conj().T

    def fwd(x: Any) -> Any:
        return np.asarray(matrix @ x)

    def adj(y: Any) -> Any:
        return np.asarray(mh_np @ y)

    return fwd, adj


def _power_iteration(
    forward: Callable[[Any], Any],
    adjoint: Callable[[Any], Any],
    example: Any,
    iters: int,
    tol: float,
    seed: SeedLike,
) -> tuple[float, int, float, float]:
    """Return (best bound seen, iterations, estimated remaining relative error, unit roundoff)."""
    x = _random_like(example, seed)
    x = x / _vec_norm(x)
    best = 0.0
    change = previous = math.inf
    remaining = math.inf
    iterations = 0
    u = _unit_roundoff(x)
    for k in range(1, iters + 1):
        iterations = k
        # The stored iterate is unit only up to rounding in the working dtype: divide by its
        # norm as stored, so the bounds hold for the vector actually used.
        norm_x = _vec_norm(x)
        if norm_x == 0.0:  # the iterate underflowed: nothing more to learn
            break
        ax = forward(x)
        norm_ax = _vec_norm(ax)
        ahax = adjoint(ax)
        norm_ahax = _vec_norm(ahax)
        candidate = max(norm_ax / norm_x, math.sqrt(norm_ahax / norm_x))
        if not math.isfinite(candidate):
            raise InputError("the operator produced NaN or inf during the power iteration")
        change = max(candidate - best, 0.0) / candidate if candidate > 0 else 0.0
        best = max(best, candidate)
        # The changes shrink geometrically with ratio r ~ (sigma_2 / sigma_1)^2; the error left
        # is about change * r / (1 - r). Stop when both the step and that tail are below tol.
        ratio = min(change / previous, 1.0 - 1e-12) if math.isfinite(previous) else 1.0 - 1e-12
        if previous == 0.0:
            ratio = 0.0
        remaining = change * ratio / (1.0 - ratio)
        previous = change
        if norm_ahax == 0.0 or (change < tol and remaining < 0.5 * tol):
            remaining = 0.0 if norm_ahax == 0.0 else remaining
            break
        x = ahax / norm_ahax
    return best, iterations, remaining, u
