r"""Companion separability measures, from the same per-class samples and binning as NPC.

Users rank bands and processed images with these beside NPC (spec §2.2):

* Fisher ratio ``(μ_1 − μ_2)² / (σ_1² + σ_2²)``; for ``K`` classes the equal-weight scatter form
  ``2 S_B / S_W`` with ``S_B = mean_k (μ_k − μ̄)²`` and ``S_W = mean_k σ_k²``, which reduces to the
  two-class ratio at ``K = 2`` (our normalisation). Parametric: it changes under non-linear grey
  level transforms, which NPC ignores.
* Bhattacharyya distance ``B``: from the binned distributions, ``−ln Σ_b √(p q)``, or Gaussian,
  ``¼ (μ_1 − μ_2)² / (σ_1² + σ_2²) + ½ ln((σ_1² + σ_2²) / (2 σ_1 σ_2))``.
* Jeffries–Matusita ``JM = 2 (1 − e^{−B})`` in ``[0, 2]`` (``form="squared"``, the default) or its
  square root in ``[0, √2]`` (``form="root"``).
  Bhattacharyya and JM are pairwise; for ``K > 2`` the value is the mean over pairs.
* Kolmogorov–Smirnov statistic of the binned data and the AUC (``K = 2`` only): threshold
  transforms only, so ``KS <= NPC`` (NPC maximises over all transforms of the bins).

Every function takes the same ``image, classes, **npc_kwargs`` as :func:`potcontrast.npc` and
returns a float for a 2-D image, ``(B,)`` for a stack.
"""

from __future__ import annotations

import itertools
import typing
from typing import Any, Literal

import numpy as np

from sciml_core import InputError

from ._samples import BinnedSamples, band_output, bin_image

__all__ = [
    "BHATTACHARYYA_MODELS",
    "JM_FORMS",
    "BhattacharyyaModel",
    "JMForm",
    "auc",
    "bhattacharyya",
    "fisher_ratio",
    "jeffries_matusita",
    "ks_statistic",
]

BhattacharyyaModel = Literal["histogram", "gaussian"]
"""Bhattacharyya distance from the binned distributions, or from Gaussian fits of the classes."""
BHATTACHARYYA_MODELS: tuple[BhattacharyyaModel, ...] = typing.get_args(BhattacharyyaModel)

JMForm = Literal["squared", "root"]
"""Jeffries–Matusita as ``2 (1 − e^{−B})`` in [0, 2], or its square root in [0, √2]."""
JM_FORMS: tuple[JMForm, ...] = typing.get_args(JMForm)


def _moments(binned: BinnedSamples) -> tuple[np.ndarray, np.ndarray]:
    """Per band and class mean and (population) variance of the counted samples: ``(B, K)``."""
    n_bands, k = binned.counts.shape[:2]
    mean = np.zeros((n_bands, k))
    var = np.zeros((n_bands, k))
    for b in range(n_bands):
        valid = binned.bin_idx[b] >= 0
        v = binned.values[valid, b].astype(np.float64)
        cls = binned.class_id[valid]
        n = np.bincount(cls, minlength=k)
        mean[b] = np.bincount(cls, weights=v, minlength=k) / n
        var[b] = np.bincount(cls, weights=(v - mean[b][cls]) ** 2, minlength=k) / n
    return mean, var


def _probabilities(binned: BinnedSamples) -> np.ndarray:
    return binned.counts / binned.counts.sum(axis=-1, keepdims=True)


def fisher_ratio(image: Any, classes: Any, **npc_kwargs: Any) -> float | np.ndarray:
    """Fisher ratio ``(μ_1 − μ_2)² / (σ_1² + σ_2²)``, multi-class ``2 S_B / S_W`` (equal weights).

    Examples:
        >>> import numpy as np
        >>> img = np.array([[0.0, 2.0, 4.0, 6.0]])
        >>> float(fisher_ratio(img, np.array([[1, 1, 2, 2]]), bins=4))
        8.0
    """
    binned = bin_image(image, classes, **npc_kwargs)
    mean, var = _moments(binned)
    s_b = ((mean - mean.mean(axis=1, keepdims=True)) ** 2).mean(axis=1)
    s_w = var.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(s_w > 0, 2.0 * s_b / np.where(s_w > 0, s_w, 1.0), np.inf)
    value = np.where((s_b == 0) & (s_w == 0), 0.0, value)
    return band_output(value, binned.single)


def _bhattacharyya_pairs(binned: BinnedSamples, model: BhattacharyyaModel) -> np.ndarray:
    """``(B, P)`` Bhattacharyya distance of every pair of classes."""
    if model not in BHATTACHARYYA_MODELS:
        raise InputError(f"model must be one of {BHATTACHARYYA_MODELS}; got {model!r}")
    k = binned.counts.shape[1]
    pairs = list(itertools.combinations(range(k), 2))
    if model == "histogram":
        p = _probabilities(binned)
        coeff = np.stack([np.sqrt(p[:, i] * p[:, j]).sum(axis=-1) for i, j in pairs], axis=1)
        with np.errstate(divide="ignore"):
            return -np.log(np.minimum(coeff, 1.0))
    mean, var = _moments(binned)
    out = []
    for i, j in pairs:
        s = var[:, i] + var[:, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            term = 0.25 * (mean[:, i] - mean[:, j]) ** 2 / s + 0.5 * np.log(
                s / (2.0 * np.sqrt(var[:, i] * var[:, j]))
            )
        out.append(np.where(s > 0, term, np.where(mean[:, i] == mean[:, j], 0.0, np.inf)))
    return np.stack(out, axis=1)


def bhattacharyya(
    image: Any, classes: Any, *, model: BhattacharyyaModel = "histogram", **npc_kwargs: Any
) -> float | np.ndarray:
    """Bhattacharyya distance (mean over pairs of classes), histogram or Gaussian model.

    Examples:
        >>> import numpy as np
        >>> img = np.array([[0, 1, 0, 1]], dtype=np.uint8)
        >>> float(bhattacharyya(img, np.array([[1, 1, 2, 2]]), bins=2, range=(0, 2)))
        0.0
    """
    binned = bin_image(image, classes, **npc_kwargs)
    return band_output(_bhattacharyya_pairs(binned, model).mean(axis=1), binned.single)


def jeffries_matusita(
    image: Any,
    classes: Any,
    *,
    form: JMForm = "squared",
    model: BhattacharyyaModel = "histogram",
    **npc_kwargs: Any,
) -> float | np.ndarray:
    """Jeffries–Matusita distance, mean over pairs: ``2(1 − e^{−B})`` in [0, 2] or its root.

    Args:
        image: As in :func:`potcontrast.npc`.
        classes: As in :func:`potcontrast.npc`.
        form: ``"squared"`` (default): ``2 (1 − e^{−B}) ∈ [0, 2]``; ``"root"``: its square root,
            in ``[0, √2]``.
        model: ``"histogram"`` or ``"gaussian"`` Bhattacharyya distance.
        **npc_kwargs: As in :func:`potcontrast.npc`.

    Examples:
        >>> import numpy as np
        >>> img = np.array([[0, 0, 1, 1]], dtype=np.uint8)
        >>> float(jeffries_matusita(img, np.array([[1, 1, 2, 2]]), bins=2, range=(0, 2)))
        2.0
    """
    if form not in JM_FORMS:
        raise InputError(f"form must be one of {JM_FORMS}; got {form!r}")
    binned = bin_image(image, classes, **npc_kwargs)
    jm = 2.0 * (1.0 - np.exp(-_bhattacharyya_pairs(binned, model)))
    if form == "root":
        jm = np.sqrt(jm)
    return band_output(jm.mean(axis=1), binned.single)


def _two_class(binned: BinnedSamples, name: str) -> np.ndarray:
    if binned.counts.shape[1] != 2:
        raise InputError(f"{name} needs exactly 2 classes; got K = {binned.counts.shape[1]}")
    return _probabilities(binned)


def ks_statistic(image: Any, classes: Any, **npc_kwargs: Any) -> float | np.ndarray:
    """Kolmogorov–Smirnov statistic of the binned data, ``max_b |F_1(b) − F_2(b)|`` (``K = 2``).

    It is NPC restricted to single-threshold transforms, so ``KS <= NPC``.

    Examples:
        >>> import numpy as np
        >>> img = np.array([[0, 1, 2, 0, 1, 2]], dtype=np.uint8)
        >>> float(ks_statistic(img, np.array([[1, 1, 1, 2, 2, 2]]), bins=3, range=(0, 3)))
        0.0
    """
    binned = bin_image(image, classes, **npc_kwargs)
    p = _two_class(binned, "ks_statistic")
    cdf = np.cumsum(p, axis=-1)
    return band_output(np.abs(cdf[:, 0] - cdf[:, 1]).max(axis=-1), binned.single)


def auc(image: Any, classes: Any, **npc_kwargs: Any) -> float | np.ndarray:
    """AUC ``P(bin(X_2) > bin(X_1)) + ½ P(bin(X_2) = bin(X_1))`` for ``K = 2`` (binned data).

    Equal to the Mann-Whitney ``U`` of class 2 over class 1 divided by ``n_1 n_2`` (a tie counts
    one half), computed from the integer counts, so two identical classes give exactly 0.5.

    Examples:
        >>> import numpy as np
        >>> img = np.array([[0, 0, 1, 1]], dtype=np.uint8)
        >>> float(auc(img, np.array([[1, 1, 2, 2]]), bins=2, range=(0, 2)))
        1.0
    """
    binned = bin_image(image, classes, **npc_kwargs)
    _two_class(binned, "auc")
    # Mann-Whitney U of class 2 over class 1 from the exact integer counts, a tie counted as one
    # half: 2U = sum_b c_2(b) (2 #{bin(X_1) < b} + c_1(b)); two identical classes give exactly 1/2
    c1, c2 = binned.counts[:, 0], binned.counts[:, 1]
    below = np.cumsum(c1, axis=-1) - c1
    twice_u = (c2 * (2 * below + c1)).sum(axis=-1)
    value = twice_u / (2.0 * c1.sum(axis=-1) * c2.sum(axis=-1))
    return band_output(value, binned.single)
