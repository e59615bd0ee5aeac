r"""NPC of continuous class distributions: densities on a grid, and the Gaussian closed form.

With class densities ``f_k`` (paper §3, the continuous setting),

.. math::

    \mathrm{NPC}_K = \frac{\int \max_k f_k(v)\,dv - 1}{K - 1}.

For ``K = 2`` this is the total-variation distance ``sup_A |P_1(A) − P_2(A)|``; for
``N(μ_1, σ²)`` against ``N(μ_2, σ²)`` it is ``2Φ(|μ_1 − μ_2| / 2σ) − 1`` (the densities cross at the
midpoint). The binned estimator of :func:`potcontrast.npc` converges to it as the samples grow
with suitably shrinking bins; version 0.1 has no density estimator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sciml_core import InputError

from ._formula import npc_from_histograms

__all__ = ["npc_from_densities", "npc_gaussian"]


def npc_from_densities(pdfs: Any, dx: float) -> float:
    r"""``(∫ max_k f_k − 1)/(K − 1)`` for densities sampled on a uniform grid (Riemann sum).

    Each density is renormalised by its own Riemann sum ``Σ_i f_k(v_i) dx`` first, so a density
    truncated by the grid still counts as a probability distribution; the result then equals
    :func:`npc_from_histograms` of the grid cells' masses.

    Args:
        pdfs: ``(K, G)`` non-negative density values on a uniform grid, ``K >= 2``.
        dx: Grid spacing ``> 0``.

    Returns:
        The NPC, in ``[0, 1]``.

    Examples:
        >>> import numpy as np
        >>> v = np.linspace(-10, 12, 22001)
        >>> f = np.exp(-0.5 * (v[None] - np.array([[0.0], [2.0]])) ** 2) / np.sqrt(2 * np.pi)
        >>> round(npc_from_densities(f, v[1] - v[0]), 6) == round(npc_gaussian(0, 2, 1), 6)
        True
    """
    try:
        f = np.asarray(pdfs, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputError(f"pdfs must be real (K, G) densities on a grid; got {err}") from None
    if f.ndim != 2:
        raise InputError(f"pdfs must be (K, G) densities on a grid; got shape {f.shape}")
    if f.shape[0] < 2:
        raise InputError(f"pdfs: need at least 2 classes (K >= 2); got K = {f.shape[0]}")
    if not np.all(np.isfinite(f)):
        raise InputError("pdfs must be finite; got NaN or inf")
    if np.any(f < 0):
        raise InputError("pdfs must be non-negative; got a negative density value")
    empty = np.flatnonzero(f.sum(axis=1) == 0)
    if empty.size:
        raise InputError(f"pdfs: class {int(empty[0])} has zero density everywhere on the grid")
    try:
        step = float(dx)
    except (TypeError, ValueError):
        step = float("nan")
    if not (math.isfinite(step) and step > 0):
        raise InputError(f"dx must be a finite number > 0; got {dx!r}")
    value = npc_from_histograms(f * step)
    return float(value)


def npc_gaussian(mu1: float, mu2: float, sigma: float) -> float:
    r"""Closed form for two equal-variance Gaussians: ``2Φ(|μ_1 − μ_2| / (2σ)) − 1``.

    Args:
        mu1: Mean of class 1.
        mu2: Mean of class 2.
        sigma: Common standard deviation ``> 0``.

    Returns:
        ``erf(|μ_1 − μ_2| / (2√2 σ))``.

    Examples:
        >>> round(npc_gaussian(0.0, 1.0, 1.0), 4)
        0.3829
    """
    try:
        s = float(sigma)
    except (TypeError, ValueError):
        s = float("nan")
    if not (math.isfinite(s) and s > 0):
        raise InputError(f"sigma must be a finite number > 0; got {sigma!r}")
    try:
        delta = abs(float(mu1) - float(mu2))
    except (TypeError, ValueError):
        delta = float("nan")
    if not math.isfinite(delta):
        raise InputError(f"mu1 and mu2 must be finite; got {mu1!r}, {mu2!r}")
    return math.erf(delta / (2.0 * math.sqrt(2.0) * s))
