"""Periodic Gaussian random fields drawn per sample, band-limited and resolution-independent."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from sciml_core import InputError

Spectrum = Callable[[np.ndarray], np.ndarray]
"""Variance ``lambda_k`` of each frequency: integer frequencies ``(n, dim)`` -> ``(n,)``."""


@lru_cache(maxsize=32)
def _draw_order(dim: int, k_max: int) -> np.ndarray:
    """Frequencies with ``max_a |k_a| < k_max``, sorted by shell ``max_a |k_a|`` then lexically.

    Drawing in this order makes the coefficients of low frequencies independent of ``k_max``: a
    field drawn for a finer grid agrees with the coarse one on every frequency both can hold.
    """
    r = np.arange(-k_max + 1, k_max)
    ks = np.stack(np.meshgrid(*([r] * dim), indexing="ij"), -1).reshape(-1, dim)
    shell = np.abs(ks).max(axis=1)
    order = np.lexsort((*ks.T[::-1], shell))
    return ks[order]


def grf_coefficients(
    rng: np.random.Generator, dim: int, k_max: int, spectrum: Spectrum
) -> tuple[np.ndarray, np.ndarray]:
    """Complex coefficients ``c_k = sqrt(lambda_k) (a + i b)``, ``a, b ~ N(0, 1)``,
    ``|k_a| < k_max``.

    Returns ``(ks (n, dim) int, c (n,) complex)``.
    """
    ks = _draw_order(dim, k_max)
    z = rng.standard_normal((ks.shape[0], 2))
    lam = spectrum(ks)
    return ks, np.sqrt(lam) * (z[:, 0] + 1j * z[:, 1])


def evaluate_fourier(
    ks: np.ndarray, c: np.ndarray, shape: tuple[int, ...], *, real: bool = True
) -> np.ndarray:
    r"""``f(x) = sum_k c_k e^{2 pi i k.x}`` on the periodic grid ``shape`` (real part if ``real``).

    Only frequencies with ``|k_a| < N_a / 2`` are used (no Nyquist), so the same coefficients give
    the
    same band-limited function at every resolution.
    """
    dim = len(shape)
    keep = np.all(np.abs(ks) < np.asarray(shape) / 2, axis=1)
    grid = np.zeros(shape, dtype=complex)
    idx = tuple((ks[keep, a] % shape[a]) for a in range(dim))
    np.add.at(grid, idx, c[keep])
    f = np.fft.ifftn(grid, norm="forward")
    return f.real if real else f


def matern_spectrum(sigma: float, tau: float, alpha: float) -> Spectrum:
    r"""``lambda_k = sigma^2 (4 pi^2 |k|^2 + tau^2)^{-alpha}`` (covariance
    ``sigma^2 (-Delta + tau^2)^{-alpha}``).

    With ``c_k = sqrt(lambda_k)(a + i b)`` and ``f = Re sum_k c_k e^{2 pi i k x}`` the field has
    covariance ``sum_k lambda_k cos(2 pi k (x - y))``: pointwise variance ``sum_k lambda_k``.
    """
    if not (sigma > 0 and tau > 0 and alpha > 0):
        raise InputError(
            f"sigma, tau, alpha: expected positive GRF parameters, got {sigma}, {tau}, {alpha}"
        )

    def spectrum(ks: np.ndarray) -> np.ndarray:
        k2 = (ks.astype(float) ** 2).sum(axis=1)
        return sigma**2 * (4 * math.pi**2 * k2 + tau**2) ** (-alpha)

    return spectrum


def periodic_grf(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    *,
    sigma: float,
    tau: float,
    alpha: float,
    k_max: int | None = None,
    zero_mean: bool = False,
) -> np.ndarray:
    """One band-limited periodic GRF sample on the grid ``shape`` (see :func:`matern_spectrum`)."""
    dim = len(shape)
    k_max = k_max if k_max is not None else (max(shape) + 1) // 2
    ks, c = grf_coefficients(rng, dim, k_max, matern_spectrum(sigma, tau, alpha))
    if zero_mean:
        c = np.where(np.all(ks == 0, axis=1), 0.0, c)
    return evaluate_fourier(ks, c, shape)
