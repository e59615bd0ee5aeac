"""Statistics for the binned estimator: a permutation null and percentile-bootstrap intervals.

The binned NPC is biased upward with many bins and few samples (see ``sparsity_floor``). Two
seeded tools help a user read a value:

* :func:`permutation_null` permutes the class labels among the pooled samples (class sizes kept)
  and recomputes NPC: its mean is the value that identically distributed classes of these sizes
  would show with this binning, and its p-value tests "all classes have the same distribution".
* :func:`bootstrap_ci` resamples each class's samples with replacement (within the class, sizes
  kept; range and bins fixed as resolved for the observed value) and takes percentiles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sciml_core import InputError, SeedLike, root_seed

from ._formula import npc_and_class_of_bin
from ._samples import BinnedSamples, bin_image
from ._sparsity import warn_if_sparse

__all__ = ["NullResult", "bootstrap_ci", "null_values", "permutation_null"]

_CHUNK_ELEMENTS = 2_000_000  # bounds the temporary (chunk, n) and (chunk, K, M) arrays


@dataclass(frozen=True, eq=False)
class NullResult:
    """Permutation null per band (arrays ``(B,)``; ``null`` is ``(n_perm, B)``).

    Attributes:
        observed: NPC of the labelled samples.
        null_mean: Mean NPC with permuted labels: the sparsity floor for these sizes and bins.
        null_std: Standard deviation of the null values.
        p_value: ``(1 + #{null >= observed}) / (1 + n_perm)`` (ties within 1e-12 count).
        excess_over_null: ``observed − null_mean``. A distance from the null, **not** a
            bias-corrected NPC: the upward bias depends on the unknown class distributions and
            equals ``null_mean`` only when all classes are identical.
        null: The null values.
    """

    observed: np.ndarray
    null_mean: np.ndarray
    null_std: np.ndarray
    p_value: np.ndarray
    excess_over_null: np.ndarray
    null: np.ndarray

    @property
    def n_perm(self) -> int:
        """Number of permutations."""
        return int(self.null.shape[0])


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name} must be a positive int; got {value!r}")
    return int(value)


def _band_generators(seed: SeedLike, n_bands: int) -> list[np.random.Generator]:
    """Every band replays the same stream (``default_rng(root_seed(seed))``), so band ``b`` of a
    stack gets exactly the draws it gets when analysed alone with the same ``seed`` (common random
    numbers across bands; an ``int`` seed gives the single-band stream ``default_rng(seed)``)."""
    root = root_seed(seed)
    return [np.random.default_rng(root) for _ in range(n_bands)]


def null_values(
    binned: BinnedSamples,
    n_perm: int,
    seed: SeedLike,
    *,
    on_progress: Callable[[int], object] | None = None,
) -> np.ndarray:
    """NPC of ``n_perm`` label permutations of the binned samples, per band: ``(n_perm, B)``.

    The core of :func:`permutation_null` (which adds the summary statistics); every band replays
    the same seeded stream.

    Args:
        binned: The binned samples.
        n_perm: Number of permutations.
        seed: Seed (see :func:`permutation_null`).
        on_progress: Called with the number of permutations just done (of ``n_perm · B`` in
            all), e.g. a progress bar's ``update``.
    """
    k = binned.labels.size
    m = binned.counts.shape[-1]
    out = np.empty((n_perm, binned.counts.shape[0]))
    for b, rng in enumerate(_band_generators(seed, binned.counts.shape[0])):
        valid = binned.bin_idx[b] >= 0
        bins = binned.bin_idx[b, valid]
        cls = binned.class_id[valid]
        chunk = max(1, _CHUNK_ELEMENTS // max(bins.size, k * m))
        for start in range(0, n_perm, chunk):
            c = min(chunk, n_perm - start)
            labels = rng.permuted(np.broadcast_to(cls, (c, cls.size)), axis=1)
            flat = (np.arange(c)[:, None] * k + labels) * m + bins[None, :]
            counts = np.bincount(flat.ravel(), minlength=c * k * m).reshape(c, k, m)
            out[start : start + c, b] = npc_and_class_of_bin(counts)[0]
            if on_progress is not None:
                on_progress(c)
    return out


def permutation_null(
    image: Any, classes: Any, *, n_perm: int = 200, seed: SeedLike = None, **npc_kwargs: Any
) -> NullResult:
    """NPC under the null "all classes have the same distribution", by label permutation.

    Each permutation reassigns the class labels among the pooled samples of a band, keeping the
    class sizes; all permutations of a chunk are counted with one ``np.bincount``.

    Args:
        image: As in :func:`potcontrast.npc`.
        classes: As in :func:`potcontrast.npc`.
        n_perm: Number of permutations.
        seed: Seed for the permutations (every band replays the same stream, so a band of a
            stack gets the same null as that band alone).
        **npc_kwargs: As in :func:`potcontrast.npc`.

    Returns:
        The :class:`NullResult`.

    Examples:
        >>> import numpy as np
        >>> img = np.repeat(np.arange(2, dtype=np.uint8), 200).reshape(20, 20)
        >>> labels = np.repeat([1, 2], 200).reshape(20, 20)
        >>> res = permutation_null(img, labels, bins=2, range=(0, 2), n_perm=99, seed=0)
        >>> res.observed.tolist(), res.p_value.tolist()
        ([1.0], [0.01])
    """
    n_perm = _check_count(n_perm, "n_perm")
    binned = bin_image(image, classes, **npc_kwargs)
    warn_if_sparse(binned.counts, stacklevel=3)
    observed = npc_and_class_of_bin(binned.counts)[0]
    null = null_values(binned, n_perm, seed)
    mean = null.mean(axis=0)
    return NullResult(
        observed=observed,
        null_mean=mean,
        null_std=null.std(axis=0),
        p_value=(1 + (null >= observed - 1e-12).sum(axis=0)) / (1 + n_perm),
        excess_over_null=observed - mean,
        null=null,
    )


def _bootstrap_values(binned: BinnedSamples, n_boot: int, seed: SeedLike) -> np.ndarray:
    n_bands, k, m = binned.counts.shape
    out = np.empty((n_boot, n_bands))
    chunk = max(1, _CHUNK_ELEMENTS // (k * m))
    for b, rng in enumerate(_band_generators(seed, n_bands)):
        for start in range(0, n_boot, chunk):
            c = min(chunk, n_boot - start)
            rep = np.zeros((c, k, m), dtype=np.int64)
            for j in range(k):
                counts = binned.counts[b, j]
                nz = np.flatnonzero(counts)
                n_j = int(counts.sum())
                # Resampling n_j samples with replacement from the class's own samples gives
                # multinomial(n_j, empirical p_j) counts over its occupied bins.
                rep[:, j, nz] = rng.multinomial(n_j, counts[nz] / n_j, size=c)
            out[start : start + c, b] = npc_and_class_of_bin(rep)[0]
    return out


def bootstrap_ci(
    image: Any,
    classes: Any,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: SeedLike = None,
    **npc_kwargs: Any,
) -> np.ndarray:
    """Percentile-bootstrap interval of NPC per band, resampling within each class.

    Every replicate resamples each class's samples with replacement (class sizes kept; range and
    bins fixed as resolved for the observed value); the interval is the ``(1 − level)/2`` and
    ``(1 + level)/2`` quantiles of the replicate NPCs. Because NPC depends on the samples only
    through their bin counts, a replicate's counts are drawn directly as
    ``multinomial(n_k, p̂_k)`` over the class's occupied bins: the same distribution as index
    resampling, at ``O(n_boot · occupied bins)`` cost. The interval inherits the estimator's
    upward bias with sparse bins.

    Args:
        image: As in :func:`potcontrast.npc`.
        classes: As in :func:`potcontrast.npc`.
        n_boot: Number of bootstrap replicates.
        level: Confidence level in ``(0, 1)``.
        seed: Seed for the resampling (every band replays the same stream, as in
            :func:`permutation_null`).
        **npc_kwargs: As in :func:`potcontrast.npc`.

    Returns:
        ``(B, 2)`` lower and upper ends per band (``B = 1`` for a 2-D image).

    Examples:
        >>> import numpy as np
        >>> img = np.repeat(np.arange(2, dtype=np.uint8), 200).reshape(20, 20)
        >>> labels = np.repeat([1, 2], 200).reshape(20, 20)
        >>> bootstrap_ci(img, labels, bins=2, range=(0, 2), seed=0).tolist()
        [[1.0, 1.0]]
    """
    n_boot = _check_count(n_boot, "n_boot")
    lvl = float(level)
    if not 0.0 < lvl < 1.0:
        raise InputError(f"level must be in (0, 1); got {level!r}")
    binned = bin_image(image, classes, **npc_kwargs)
    warn_if_sparse(binned.counts, stacklevel=3)
    values = _bootstrap_values(binned, n_boot, seed)
    return np.quantile(values, [(1.0 - lvl) / 2.0, (1.0 + lvl) / 2.0], axis=0).T
