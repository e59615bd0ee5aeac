"""1-D viscous Burgers on the periodic unit interval, pseudo-spectral ETDRK4 (Kassam & Trefethen
2005)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sciml_core import InputError


def etdrk4_coefficients(
    lin: np.ndarray, dt: float, contour_points: int = 32
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""ETDRK4 coefficients for ``v' = L v + N(v)`` with diagonal ``L`` (contour integrals, M
    points).

    Returns ``E = e^{hL}``, ``E2 = e^{hL/2}``, ``Q``, ``f1``, ``f2``, ``f3`` (Kassam & Trefethen
    2005,
    eq. 2.5 and section 5), each evaluated by the mean over ``M`` points on a circle of radius 1
    around ``hL`` so that the removable singularities at ``hL = 0`` cause no cancellation.
    """
    hl = dt * lin
    r = np.exp(1j * math.pi * (np.arange(1, contour_points + 1) - 0.5) / contour_points)
    lr = hl[..., None] + r
    q = dt * np.real(np.mean((np.exp(lr / 2) - 1) / lr, axis=-1))
    f1 = dt * np.real(np.mean((-4 - lr + np.exp(lr) * (4 - 3 * lr + lr**2)) / lr**3, axis=-1))
    f2 = dt * np.real(np.mean((2 + lr + np.exp(lr) * (-2 + lr)) / lr**3, axis=-1))
    f3 = dt * np.real(np.mean((-4 - 3 * lr - lr**2 + np.exp(lr) * (4 - lr)) / lr**3, axis=-1))
    return np.exp(hl), np.exp(hl / 2), q, f1, f2, f3


def _n_steps(t: float, dt: float) -> int:
    n = round(t / dt)
    if n < 1 or abs(n * dt - t) > 1e-9 * max(1.0, t):
        raise InputError(f"dt: the final time {t} must be a positive multiple of dt={dt}")
    return n


def burgers_solve(
    u0: np.ndarray,
    *,
    nu: float = 0.01,
    t_final: float = 1.0,
    dt: float = 1e-3,
    snapshots: int = 1,
    dealias: bool = True,
) -> np.ndarray:
    r"""Solve :math:`u_t + (u^2/2)_x = \nu u_{xx}` on ``[0, 1)`` periodic from ``u0``.

    Pseudo-spectral in ``x`` (rfft, 2/3-rule dealiasing of the quadratic term), ETDRK4 in time with
    ``L = -nu (2 pi k)^2`` and ``N(v) = -(i 2 pi k / 2) F[u^2]``. The mean (the ``k = 0`` mode) is
    untouched by every stage, so mass is conserved to rounding.

    Args:
        u0: initial states ``(B, N)``.
        nu: viscosity.
        t_final: time of the (last) snapshot.
        dt: time step (``t_final / snapshots`` must be a multiple of it).
        snapshots: number of equally spaced output times ``t_final/snapshots, ..., t_final``.
        dealias: apply the 2/3 rule.

    Returns:
        ``(B, snapshots, N)`` states.
    """
    u0 = np.asarray(u0, dtype=np.float64)
    if u0.ndim != 2:
        raise InputError(f"u0: expected shape (B, N), got {u0.shape}")
    if not nu > 0:
        raise InputError(f"nu: expected a positive viscosity, got {nu}")
    n = u0.shape[1]
    k = np.fft.rfftfreq(n, d=1.0 / n)
    lin = -nu * (2 * math.pi * k) ** 2
    g = -0.5j * 2 * math.pi * k
    mask = (k < n / 3) if dealias else (k < n / 2)
    e, e2, q, f1, f2, f3 = etdrk4_coefficients(lin, dt)

    def nonlinear(v: np.ndarray) -> np.ndarray:
        return g * mask * np.fft.rfft(np.fft.irfft(v, n=n) ** 2)

    v = np.fft.rfft(u0) * (k < n / 2)
    steps = _n_steps(t_final / snapshots, dt)
    out = np.empty((u0.shape[0], snapshots, n))
    for s in range(snapshots):
        for _ in range(steps):
            nv = nonlinear(v)
            a = e2 * v + q * nv
            na = nonlinear(a)
            b = e2 * v + q * na
            nb = nonlinear(b)
            c = e2 * a + q * (2 * nb - nv)
            nc = nonlinear(c)
            v = e * v + nv * f1 + 2 * (na + nb) * f2 + nc * f3
        out[:, s] = np.fft.irfft(v, n=n)
    return out


def cole_hopf_solution(
    u0_antiderivative_coeffs: Callable[[np.ndarray], np.ndarray], nu: float, t: float, n: int
) -> np.ndarray:
    r"""Exact viscous Burgers solution by Cole-Hopf, for a zero-mean initial condition.

    :math:`u = -2\nu \phi_x/\phi`, :math:`\phi_t = \nu \phi_{xx}`,
    :math:`\phi_0 = \exp(-U_0 / (2\nu))` with :math:`U_0' = u_0`. ``u0_antiderivative_coeffs`` is a
    callable ``x -> U_0(x)`` (periodic). The heat equation is solved exactly in Fourier on a fine
    grid (``8 n`` points) and the result sampled at the ``n`` periodic points.
    """
    fine = 8 * n
    x = np.arange(fine) / fine
    phi0 = np.exp(-u0_antiderivative_coeffs(x) / (2 * nu))
    k = np.fft.rfftfreq(fine, d=1.0 / fine)
    ph = np.fft.rfft(phi0) * np.exp(-nu * (2 * math.pi * k) ** 2 * t)
    phi = np.fft.irfft(ph, n=fine)
    phi_x = np.fft.irfft(2j * math.pi * k * ph, n=fine)
    return (-2 * nu * phi_x / phi)[::8]
