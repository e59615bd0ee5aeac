"""2-D Darcy flow ``-div(a grad u) = f`` on the unit square, ``u = 0`` on the boundary."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from sciml_core import InputError


def darcy_solve(a: np.ndarray, f: np.ndarray | float = 1.0) -> np.ndarray:
    r"""Cell-centred finite volumes for :math:`-\nabla\cdot(a\nabla u) = f`,
    :math:`u|_{\partial\Omega} = 0`.

    ``n x n`` cells of size ``h = 1/n``, values at cell centres; interior faces use the harmonic
    mean of the two cell coefficients, boundary faces impose ``u = 0`` at half a cell's distance
    (coefficient ``2 a / h^2``); a sparse direct solve. Second order for smooth ``a``.

    Args:
        a: coefficient at the cell centres ``(n, n)``, positive.
        f: right-hand side ``(n, n)`` or a constant.

    Returns:
        ``u`` at the cell centres ``(n, n)``.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise InputError(f"a: expected a square (n, n) coefficient, got {a.shape}")
    if not np.all(a > 0):
        raise InputError("a: the coefficient must be positive everywhere")
    n = a.shape[0]
    h2 = (1.0 / n) ** 2
    f = np.broadcast_to(np.asarray(f, dtype=np.float64), (n, n))
    idx = np.arange(n * n).reshape(n, n)
    diag = np.zeros((n, n))
    rows, cols, vals = [], [], []
    for axis in (0, 1):
        lo = [slice(None)] * 2
        hi = [slice(None)] * 2
        lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
        a_lo, a_hi = a[tuple(lo)], a[tuple(hi)]
        coef = 2 * a_lo * a_hi / (a_lo + a_hi) / h2
        diag[tuple(lo)] += coef
        diag[tuple(hi)] += coef
        rows += [idx[tuple(lo)].ravel(), idx[tuple(hi)].ravel()]
        cols += [idx[tuple(hi)].ravel(), idx[tuple(lo)].ravel()]
        vals += [-coef.ravel(), -coef.ravel()]
        for end in (0, n - 1):
            sl = [slice(None)] * 2
            sl[axis] = slice(end, end + 1)
            diag[tuple(sl)] += 2 * a[tuple(sl)] / h2
    rows.append(idx.ravel())
    cols.append(idx.ravel())
    vals.append(diag.ravel())
    mat = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n * n, n * n)
    )
    return spla.spsolve(mat, f.ravel()).reshape(n, n)


def neumann_grf_coefficients(
    rng: np.random.Generator, k_max: int = 32, tau: float = 3.0, alpha: float = 2.0
) -> np.ndarray:
    r"""Coefficients of a cosine-series GRF with covariance :math:`(-\Delta + \tau^2 I)^{-\alpha}`.

    ``c_{k1 k2} = sqrt(lambda_k) xi``, :math:`\lambda_k = (\pi^2 |k|^2 + \tau^2)^{-\alpha}`; the
    draw
    does not depend on the grid, so every resolution sees the same random field.
    """
    k = np.arange(k_max)
    lam = (math.pi**2 * (k[:, None] ** 2 + k[None, :] ** 2) + tau**2) ** (-alpha)
    return np.sqrt(lam) * rng.standard_normal((k_max, k_max))


def evaluate_cosine_series(c: np.ndarray, n: int) -> np.ndarray:
    """``g(x, y) = sum c_{k1 k2} cos(pi k1 x) cos(pi k2 y)`` at the ``n x n`` cell centres."""
    x = (np.arange(n) + 0.5) / n
    basis = np.cos(math.pi * np.outer(x, np.arange(c.shape[0])))  # (n, K)
    return basis @ c @ basis.T


def darcy_coefficient(g: np.ndarray, high: float = 12.0, low: float = 3.0) -> np.ndarray:
    """Piecewise-constant coefficient ``a = high`` where ``g >= 0``, else ``low``."""
    return np.where(g >= 0, high, low)
