r"""The NPC formula on per-class histograms, and the class of each bin.

With ``K >= 2`` classes of labelled pixels, per-class histograms on ``M`` bins normalised per class
(equal class priors), ``p_k(b) = c_k(b) / n_k``, Peaslee, Breger & Schönlieb (EUSIPCO 2025, §3)
define

.. math::

    \mathrm{NPC}_K = \frac{\sum_b \max_k p_k(b) - 1}{K - 1} \in [0, 1].

For ``K = 2`` this is the potential contrast of Shaus et al. divided by the grey-level span,
``PC / L = TV(p_1, p_2) = ½‖p_1 − p_2‖₁`` (paper §2). Writing ``a(b)`` for the arg-max class of bin
``b`` (ties to the lowest index) and ``W_k = Σ_{b: a(b) = k} c_k(b)`` for the samples of class ``k``
that the bin-wise Bayes classifier gets right,

.. math::

    \sum_b \max_k p_k(b) = \sum_k W_k / n_k = K \cdot \mathrm{BA}^*,
    \qquad \mathrm{NPC}_K = \frac{K\,\mathrm{BA}^* - 1}{K - 1},

where ``BA*`` is the balanced accuracy of the equal-prior Bayes classifier that sees only the
binned grey value (our derivation; the tests check it against an explicit classifier). We compute
NPC in this second form: the ``W_k`` are exact integer sums, so identical classes give exactly 0,
bin-disjoint classes exactly 1, and the round-off is a few ulp instead of the reference's
bin-by-bin float sum.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sciml_core import InputError

__all__ = ["npc_and_class_of_bin", "npc_from_histograms", "pairwise_npc"]

_ROUNDOFF = 1e-12


def npc_and_class_of_bin(hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NPC and the arg-max class of each bin, from histograms (counts or probabilities).

    Args:
        hist: ``(..., K, M)`` non-negative histograms, every class with positive mass (checked by
            the callers).

    Returns:
        ``(value, class_of_bin)``: NPC ``(...)`` clipped to ``[0, 1]`` (only round-off is ever
        clipped; a larger excess is a bug and raises ``AssertionError``), and ``(..., M)`` the
        arg-max class of each bin (ties and empty bins: the lowest class index).
    """
    k, m = hist.shape[-2:]
    totals = hist.sum(axis=-1)  # (..., K)
    cls = (hist / totals[..., None]).argmax(axis=-2)  # (..., M), arg-max of p_k(b): lowest wins
    if np.issubdtype(hist.dtype, np.integer):
        # W_k as one bincount of the winning counts by (batch, class): integer-valued floats, exact
        nb = math.prod(hist.shape[:-2])
        rows = np.arange(nb)
        cb = cls.reshape(nb, m)
        won = hist.reshape(nb, k, m)[rows[:, None], cb, np.arange(m)]  # c_{a(b)}(b)
        key = (cb + (rows * k)[:, None]).ravel()
        w = np.bincount(key, weights=won.ravel(), minlength=nb * k).reshape(totals.shape)
    else:
        won = np.take_along_axis(hist, cls[..., None, :], axis=-2)[..., 0, :]  # c_{a(b)}(b)
        one_hot = cls[..., None, :] == np.arange(k)[:, None]  # (..., K, M)
        w = np.where(one_hot, won[..., None, :], 0).sum(axis=-1)  # W_k
    s = (w / totals).sum(axis=-1)  # sum_b max_k p_k(b) = sum_k W_k / n_k
    value = (s - 1.0) / (k - 1)
    if value.size and (value.min() < -_ROUNDOFF or value.max() > 1.0 + _ROUNDOFF):
        raise AssertionError(f"NPC outside [0, 1] beyond round-off: {value}")
    return np.clip(value, 0.0, 1.0), cls


def pairwise_npc(hist: np.ndarray) -> np.ndarray:
    """Two-class NPC (total variation) of every pair of classes, ``(..., K, K)``."""
    k = hist.shape[-2]
    i, j = np.triu_indices(k, 1)
    # every pair at once, with the arithmetic of a two-class call of npc_and_class_of_bin:
    # bin b goes to j only if p_j(b) > p_i(b) (ties to the lower index), W exact integer sums
    totals = hist.sum(axis=-1)
    p = hist / totals[..., None]
    win = p[..., j, :] > p[..., i, :]  # (..., P, M)
    w_i = np.where(win, 0, hist[..., i, :]).sum(axis=-1)
    w_j = np.where(win, hist[..., j, :], 0).sum(axis=-1)
    v = w_i / totals[..., i] + w_j / totals[..., j] - 1.0
    if np.any(v < -_ROUNDOFF) or np.any(v > 1.0 + _ROUNDOFF):
        raise AssertionError(f"pairwise NPC outside [0, 1] beyond round-off: {v}")
    v = np.clip(v, 0.0, 1.0)
    out = np.zeros((*hist.shape[:-2], k, k))
    out[..., i, j] = v
    out[..., j, i] = v
    return out


def npc_from_histograms(
    hist: Any, *, class_axis: int = -2, bin_axis: int = -1
) -> float | np.ndarray:
    r"""NPC from per-class histograms: ``(Σ_b max_k p_k(b) − 1)/(K − 1)``, ``p_k = h_k / Σ_b h_k``.

    Args:
        hist: Counts or (unnormalised) probabilities with a class axis of length ``K >= 2`` and a
            bin axis of length ``M``; any further axes are batch axes (bands, ...).
        class_axis: Axis of the classes.
        bin_axis: Axis of the bins.

    Returns:
        A float for ``(K, M)`` input, else an array over the batch axes.

    Raises:
        InputError: Fewer than 2 classes, negative or non-finite entries, a class with zero mass.

    Examples:
        >>> npc_from_histograms([[3, 1, 0], [0, 1, 3]])
        0.75
        >>> npc_from_histograms([[1, 1], [1, 1], [0, 2]])
        0.25
    """
    h = np.asarray(hist)
    if h.ndim < 2 or not (
        np.issubdtype(h.dtype, np.integer) or np.issubdtype(h.dtype, np.floating)
    ):
        raise InputError(
            f"hist must be a real array with a class and a bin axis; got shape {h.shape} dtype "
            f"{h.dtype}"
        )
    h = np.moveaxis(h, (class_axis, bin_axis), (-2, -1))
    if h.shape[-2] < 2:
        raise InputError(f"hist: need at least 2 classes (K >= 2); got K = {h.shape[-2]}")
    if np.issubdtype(h.dtype, np.floating) and not np.all(np.isfinite(h)):
        raise InputError("hist must be finite; got NaN or inf")
    if np.any(h < 0):
        raise InputError("hist must be non-negative; got a negative entry")
    empty = h.sum(axis=-1) == 0
    if np.any(empty):
        where = np.argwhere(empty)[0]
        raise InputError(
            f"hist: class {int(where[-1])} has zero mass (at batch index {where[:-1]})"
        )
    if np.issubdtype(h.dtype, np.integer):
        h = h.astype(np.int64)
    value, _ = npc_and_class_of_bin(h)
    return float(value) if value.ndim == 0 else value
