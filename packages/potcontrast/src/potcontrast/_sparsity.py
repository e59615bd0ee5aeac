"""The small-sample bias floor of binned NPC, and the warning it triggers.

The binned estimator is biased upward: even when every class has the same distribution, the
empirical histograms differ, and ``sum_b max_k p_k(b)`` exceeds 1. Under that null the floor grows
roughly like ``c_K sqrt(M / n_min)`` for ``M <= n_min`` (``M`` bins, ``n_min`` the smallest class).
The constants are our fit to a null experiment (all classes i.i.d. N(0, 1), range (-5, 5),
40 seeded replicates, n in {100 ... 10 000}, M in {16, 64, 256}); they are a planning estimate,
not a bound, and ``potcontrast reproduce`` re-measures the floor.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["SPARSITY_THRESHOLD", "SparseBinsWarning", "sparsity_floor", "warn_if_sparse"]

_FLOOR_C = {2: 0.39, 3: 0.30, 4: 0.25, 5: 0.21}
SPARSITY_THRESHOLD = 0.1
"""A :class:`SparseBinsWarning` is emitted when :func:`sparsity_floor` exceeds this value."""


class SparseBinsWarning(UserWarning):
    """Too many bins for the number of samples: NPC is then dominated by its upward bias.

    Examples:
        >>> issubclass(SparseBinsWarning, UserWarning)
        True
    """


def sparsity_floor(n_classes: int, n_bins: int, n_min: int) -> float:
    """Estimated NPC of identically distributed classes: ``c_K sqrt(M / n_min)``.

    ``c_2 = 0.39, c_3 = 0.30, c_4 = 0.25, c_5 = 0.21`` (``c_5`` for ``K > 5``), fitted for
    ``M <= n_min``; above that the true floor saturates below 1 and the estimate only grows.

    Args:
        n_classes: ``K >= 2``.
        n_bins: ``M``.
        n_min: Smallest number of valid samples of any class (in any band).

    Returns:
        The estimate (not clipped to 1).

    Examples:
        >>> round(sparsity_floor(3, 256, 3000), 4)
        0.0876
        >>> round(sparsity_floor(2, 256, 100), 3)
        0.624
    """
    c = _FLOOR_C.get(n_classes, _FLOOR_C[5])
    return c * math.sqrt(n_bins / max(n_min, 1))


def warn_if_sparse(counts: np.ndarray, *, stacklevel: int) -> None:
    """Emit a :class:`SparseBinsWarning` when :func:`sparsity_floor` exceeds the threshold.

    Args:
        counts: ``(B, K, M)`` histograms of the labelled samples.
        stacklevel: As for ``warnings.warn`` (1 is this function, 3 the caller of a public
            function that calls it).
    """
    k = counts.shape[1]
    m = counts.shape[-1]
    n_min = int(counts.sum(axis=-1).min())
    est = sparsity_floor(k, m, n_min)
    if est > SPARSITY_THRESHOLD:
        warnings.warn(
            f"{m} bins for as few as {n_min} samples per class: NPC of identically distributed "
            f"classes would already be about {est:.2f} (c_K*sqrt(M/n_min)); use fewer bins, or "
            "compare with permutation_null()",
            SparseBinsWarning,
            stacklevel=stacklevel,
        )
