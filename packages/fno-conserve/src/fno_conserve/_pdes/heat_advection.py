"""Heat and linear advection on the periodic unit interval, solved exactly in Fourier."""

from __future__ import annotations

import math

import numpy as np

from sciml_core import InputError


def heat_solve(u0: np.ndarray, *, nu: float = 0.01, t: float = 1.0) -> np.ndarray:
    r"""Exact :math:`u_t = \nu u_{xx}`: :math:`\hat u(k, t) = e^{-\nu (2\pi k)^2 t} \hat u_0(k)`.

    ``u0`` is ``(B, N)`` (band-limited: the Nyquist mode is dropped); returns ``(B, N)``.
    """
    u0 = np.asarray(u0, dtype=np.float64)
    if not nu > 0:
        raise InputError(f"nu: expected a positive diffusivity, got {nu}")
    n = u0.shape[-1]
    k = np.fft.rfftfreq(n, d=1.0 / n)
    factor = np.exp(-nu * (2 * math.pi * k) ** 2 * t) * (k < n / 2)
    return np.fft.irfft(np.fft.rfft(u0) * factor, n=n)


def advection_solve(u0: np.ndarray, c: np.ndarray | float, *, t: float = 1.0) -> np.ndarray:
    r"""Exact :math:`u_t + c u_x = 0`: :math:`\hat u(k, t) = e^{-2\pi i k c t} \hat u_0(k)`.

    ``c`` is one speed per sample (``(B,)``) or a float; returns ``(B, N)`` (``u0(x - c t)`` for
    band-limited ``u0``).
    """
    u0 = np.asarray(u0, dtype=np.float64)
    n = u0.shape[-1]
    c = np.broadcast_to(np.asarray(c, dtype=np.float64), u0.shape[:-1])[..., None]
    k = np.fft.rfftfreq(n, d=1.0 / n)
    factor = np.exp(-2j * math.pi * k * c * t) * (k < n / 2)
    return np.fft.irfft(np.fft.rfft(u0) * factor, n=n)
