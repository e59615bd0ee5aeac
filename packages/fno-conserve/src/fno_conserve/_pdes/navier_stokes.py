"""2-D incompressible Navier-Stokes in vorticity form on the periodic unit square."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from sciml_core import InputError

from .burgers import _n_steps


def default_forcing(n: int) -> np.ndarray:
    """The FNO paper's forcing ``0.1 (sin 2 pi (x + y) + cos 2 pi (x + y))`` on an ``n x n``
    grid."""
    x = np.arange(n) / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    return 0.1 * (np.sin(2 * math.pi * (X + Y)) + np.cos(2 * math.pi * (X + Y)))


def navier_stokes_solve(
    w0: np.ndarray,
    *,
    nu: float = 1e-3,
    t_final: float = 2.0,
    dt: float = 1e-2,
    forcing: np.ndarray | Literal["default"] | None = "default",
    snapshots: int = 1,
) -> np.ndarray:
    r"""Solve :math:`\omega_t + u\cdot\nabla\omega = \nu\Delta\omega + f`,
    :math:`-\Delta\psi = \omega`,
    :math:`u = (\psi_y, -\psi_x)`, from ``w0`` (``(B, N, N)``, axis 1 is ``x``, axis 2 is ``y``).

    Pseudo-spectral (rfft2, 2/3-rule dealiasing of ``u . grad omega``), Crank-Nicolson for the
    viscous
    term and Heun (explicit trapezoid) for advection and forcing. The ``k = 0`` mode of the
    right-hand side is set to zero (``u . grad omega = div(u omega)`` has zero mean), so the mean
    vorticity is conserved to rounding.

    Returns:
        ``(B, snapshots, N, N)``.
    """
    w0 = np.asarray(w0, dtype=np.float64)
    if w0.ndim != 3 or w0.shape[1] != w0.shape[2]:
        raise InputError(f"w0: expected shape (B, N, N), got {w0.shape}")
    if not nu > 0:
        raise InputError(f"nu: expected a positive viscosity, got {nu}")
    n = w0.shape[1]
    kx = np.fft.fftfreq(n, d=1.0 / n)[:, None] * np.ones((1, n // 2 + 1))
    ky = np.fft.rfftfreq(n, d=1.0 / n)[None, :] * np.ones((n, 1))
    lap = -4 * math.pi**2 * (kx**2 + ky**2)
    inv_lap = np.where(
        lap == 0, 0.0, -1.0 / np.where(lap == 0, 1.0, lap)
    )  # psi_hat = w_hat / |k|^2
    mask = (np.abs(kx) < n / 3) & (ky < n / 3)
    band = (np.abs(kx) < n / 2) & (ky < n / 2)
    if isinstance(forcing, str):
        forcing = default_forcing(n)
    f_hat = np.zeros((n, n // 2 + 1), dtype=complex) if forcing is None else np.fft.rfft2(forcing)
    f_hat = f_hat * band
    f_hat[0, 0] = 0.0

    def rhs(wh: np.ndarray) -> np.ndarray:
        psi = wh * inv_lap
        ux = np.fft.irfft2(2j * math.pi * ky * psi, s=(n, n))
        uy = np.fft.irfft2(-2j * math.pi * kx * psi, s=(n, n))
        wx = np.fft.irfft2(2j * math.pi * kx * wh, s=(n, n))
        wy = np.fft.irfft2(2j * math.pi * ky * wh, s=(n, n))
        adv = np.fft.rfft2(ux * wx + uy * wy) * mask
        out = f_hat - adv
        out[..., 0, 0] = 0.0
        return out

    a = 1 + 0.5 * dt * nu * (-lap)
    b = 1 - 0.5 * dt * nu * (-lap)
    wh = np.fft.rfft2(w0) * band
    steps = _n_steps(t_final / snapshots, dt)
    out = np.empty((w0.shape[0], snapshots, n, n))
    for s in range(snapshots):
        for _ in range(steps):
            r0 = rhs(wh)
            pred = (b * wh + dt * r0) / a
            wh = (b * wh + 0.5 * dt * (r0 + rhs(pred))) / a
        out[:, s] = np.fft.irfft2(wh, s=(n, n))
    return out
