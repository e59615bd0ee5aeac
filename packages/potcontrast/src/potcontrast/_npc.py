r"""Multi-class normalized potential contrast (NPC): the estimator and its result object.

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

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sciml_core import InputError

from ._binning import Binning, check_bins, dtype_range, make_binning, unique_binnings
from ._classes import class_index
from ._sparsity import SPARSITY_THRESHOLD, SparseBinsWarning, sparsity_floor

__all__ = [
    "NPCResult",
    "analyze",
    "npc",
    "npc_from_histograms",
    "npc_from_samples",
    "pc",
]

_ROUNDOFF = 1e-12


# -- the formula on histograms --------------------------------------------------------------------
def _npc_core(hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NPC and class of each bin from histograms ``(..., K, M)`` (counts or probabilities)."""
    k = hist.shape[-2]
    totals = hist.sum(axis=-1)  # (..., K)
    p = hist / totals[..., None]  # p_k(b)
    cls = p.argmax(axis=-2)  # (..., M), first maximum = lowest class index
    won = np.take_along_axis(hist, cls[..., None, :], axis=-2)[..., 0, :]  # c_{a(b)}(b)
    one_hot = cls[..., None, :] == np.arange(k)[:, None]  # (..., K, M)
    w = np.where(one_hot, won[..., None, :], 0).sum(axis=-1)  # W_k, exact for integer counts
    s = (w / totals).sum(axis=-1)  # sum_b max_k p_k(b) = sum_k W_k / n_k
    value = (s - 1.0) / (k - 1)
    if np.any(value < -_ROUNDOFF) or np.any(value > 1.0 + _ROUNDOFF):
        raise AssertionError(f"NPC outside [0, 1] beyond round-off: {value}")
    return np.clip(value, 0.0, 1.0), cls


def _tv_matrix(hist: np.ndarray) -> np.ndarray:
    """Pairwise two-class NPC (total variation) ``(..., K, K)``."""
    k = hist.shape[-2]
    out = np.zeros((*hist.shape[:-2], k, k))
    for i in range(k):
        for j in range(i + 1, k):
            v, _ = _npc_core(hist[..., [i, j], :])
            out[..., i, j] = out[..., j, i] = v
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
    value, _ = _npc_core(h)
    return float(value) if value.ndim == 0 else value


# -- inputs -> binned samples ---------------------------------------------------------------------
def _as_stack(image: Any, band_axis: int | None, name: str = "image") -> tuple[np.ndarray, bool]:
    """Return an ``(H, W, B)`` view of the image, and whether it was a single band."""
    img = np.asarray(image)
    if img.dtype == np.bool_:
        img = img.astype(np.uint8)
    if not (np.issubdtype(img.dtype, np.integer) or np.issubdtype(img.dtype, np.floating)):
        raise InputError(f"{name} must be a real integer or float array; got dtype {img.dtype}")
    if img.ndim == 2:
        if band_axis is not None:
            raise InputError(f"band_axis={band_axis} given but {name} is 2-D (one band)")
        return img[..., None], True
    if img.ndim != 3:
        raise InputError(f"{name} must be (H, W) or a 3-D stack; got shape {img.shape}")
    axis = 2 if band_axis is None else band_axis
    if not isinstance(axis, numbers.Integral) or not -3 <= axis < 3:
        raise InputError(f"band_axis must be an int in [-3, 2] for a 3-D {name}; got {band_axis}")
    moved = np.moveaxis(img, int(axis), -1)
    if min(moved.shape) == 0:
        raise InputError(f"{name} is empty: shape {img.shape}")
    return moved, False


def _check_policy(value: str, name: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"{name} must be one of {allowed}; got {value!r}")


def _explicit_ranges(range_: Any, n_bands: int, dtype: np.dtype) -> np.ndarray:
    """Resolve every range form except None to a ``(B, 2)`` float array."""
    if isinstance(range_, str):
        if range_ != "dtype":
            raise InputError(
                f'range must be (lo, hi), a (B, 2) array, None or "dtype"; got {range_!r}'
            )
        return np.tile(np.array(dtype_range(dtype)), (n_bands, 1))
    try:
        r = np.asarray(range_, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputError(f"range must be (lo, hi) or a (B, 2) array; got {range_!r}") from err
    if r.shape == (2,):
        r = np.tile(r, (n_bands, 1))
    elif r.shape != (n_bands, 2):
        raise InputError(
            f"range must be (lo, hi) or an array of shape ({n_bands}, 2); got shape {r.shape}"
        )
    if not np.all(np.isfinite(r)):
        raise InputError(f"range must be finite; got {r.tolist()}")
    bad = np.flatnonzero(r[:, 0] > r[:, 1])
    if bad.size:
        raise InputError(f"range must have lo <= hi; band {int(bad[0])} has {r[bad[0]].tolist()}")
    return r


def _band_ranges(moved: np.ndarray, nan_policy: str) -> np.ndarray:
    """``range=None``: (min, max) of the whole band of the image, per band."""
    lo = moved.min(axis=(0, 1))
    hi = moved.max(axis=(0, 1))
    if np.issubdtype(moved.dtype, np.floating):
        nan_bands = np.flatnonzero(np.isnan(lo) | np.isnan(hi))
        if nan_bands.size and nan_policy == "omit":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lo = np.nanmin(moved, axis=(0, 1))
                hi = np.nanmax(moved, axis=(0, 1))
            nan_bands = np.flatnonzero(np.isnan(lo))
        if nan_bands.size:
            raise InputError(
                f"range=None: band {int(nan_bands[0])} of the image contains NaN, so its "
                "(min, max) is undefined; pass an explicit range or nan_policy='omit'"
            )
        inf_bands = np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi)))
        if inf_bands.size:
            raise InputError(
                f"range=None: band {int(inf_bands[0])} of the image contains inf; pass an explicit "
                "range"
            )
    return np.stack([lo.astype(np.float64), hi.astype(np.float64)], axis=1)


@dataclass(frozen=True, eq=False)
class _Binned:
    """Samples of one call after binning."""

    bin_idx: np.ndarray  # (B, n) intp, -1 where the sample is not counted
    class_id: np.ndarray  # (n,) intp
    counts: np.ndarray  # (B, K, M) int64
    binnings: tuple[Binning, ...]
    labels: np.ndarray  # (K,)
    n_dropped: np.ndarray  # (B, K) int64
    single: bool
    values: np.ndarray  # (n, B) sample values (clamped under out_of_range="clip")

    @property
    def n_valid(self) -> np.ndarray:
        return self.counts.sum(axis=-1)


def _count_per(flags: np.ndarray, class_id: np.ndarray, k: int) -> np.ndarray:
    """``(B, n)`` bool -> ``(B, K)`` counts per band and class."""
    b = flags.shape[0]
    out = np.zeros((b, k), dtype=np.int64)
    for i in range(b):
        out[i] = np.bincount(class_id[flags[i]], minlength=k)
    return out


def _first_bad(per: np.ndarray, labels: np.ndarray) -> tuple[int, Any, int]:
    band, k = (int(x) for x in np.argwhere(per > 0)[0])
    return band, labels[k].item(), int(per[band, k])


def _bin_samples(
    values: np.ndarray,
    class_id: np.ndarray,
    labels: np.ndarray,
    ranges: np.ndarray | None,
    bins: int | np.ndarray | str,
    *,
    from_data: bool,
    out_of_range: str,
    nan_policy: str,
    single: bool,
    stacklevel: int,
    name: str = "image",
) -> _Binned:
    """Bin ``(n, B)`` sample values of ``K`` classes, applying the NaN and out-of-range policies."""
    n_bands = values.shape[1]
    k = labels.size
    if isinstance(bins, int):
        assert ranges is not None
        built: dict[tuple[float, float], Binning] = {}  # bands with equal ranges share one
        for lo, hi in ranges.tolist():
            if (lo, hi) not in built:
                built[(lo, hi)] = make_binning(lo, hi, bins, values.dtype, from_data=from_data)
        binnings = tuple(built[(lo, hi)] for lo, hi in ranges.tolist())
    elif isinstance(bins, str):
        binnings = unique_binnings(values)
    else:
        binnings = (make_binning(0.0, 0.0, bins, values.dtype, from_data=False),) * n_bands
    m = binnings[0].n_bins
    if all(bn is binnings[0] for bn in binnings):
        idx = binnings[0].indices(values).T  # (B, n): one call for every band
    else:
        idx = np.stack([bn.indices(values[:, i]) for i, bn in enumerate(binnings)])

    if np.issubdtype(values.dtype, np.floating):
        nan = np.isnan(values).T
    else:
        nan = np.zeros((1, 1), dtype=bool)  # broadcasts: integer data has no NaN
    dropped = np.zeros((n_bands, k), dtype=np.int64)
    if nan.any():
        per = _count_per(nan, class_id, k)
        band, lab, cnt = _first_bad(per, labels)
        if nan_policy == "raise":
            raise InputError(
                f"{name}: {int(per.sum())} labelled samples are NaN (e.g. {cnt} of class {lab!r} "
                f"in band {band}); pass nan_policy='omit' to leave them out"
            )
        warnings.warn(
            f"nan_policy='omit': left out {int(per.sum())} NaN samples (per band and class: "
            f"{per.tolist()})",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
        dropped += per
    outside = (idx < 0) & ~nan
    if outside.any():
        per = _count_per(outside, class_id, k)
        band, lab, cnt = _first_bad(per, labels)
        bn = binnings[band]
        if out_of_range == "raise":
            raise InputError(
                f"{name}: {int(per.sum())} labelled samples lie outside the range (e.g. {cnt} of "
                f"class {lab!r} in band {band}, range ({bn.lo}, {bn.hi})); widen range, or pass "
                "out_of_range='drop' (the reference's silent behaviour) or 'clip'"
            )
        if out_of_range == "drop":
            warnings.warn(
                f"out_of_range='drop': left out {int(per.sum())} samples outside the range (per "
                f"band and class: {per.tolist()})",
                RuntimeWarning,
                stacklevel=stacklevel,
            )
            dropped += per
        else:
            warnings.warn(
                f"out_of_range='clip': clamped {int(per.sum())} samples to the range (per band and "
                f"class: {per.tolist()})",
                RuntimeWarning,
                stacklevel=stacklevel,
            )
            values = values.astype(np.result_type(values.dtype, binnings[0].edges.dtype))
            for i, bn in enumerate(binnings):
                bad = outside[i]
                if bad.any():
                    lo_edge, hi_edge = bn.edges[0], bn.edges[-1]
                    clipped = np.where(values[bad, i] < lo_edge, lo_edge, hi_edge)
                    idx[i, bad] = bn.indices(clipped)
                    values[bad, i] = clipped
    flat = (np.arange(n_bands) * (k * m))[:, None] + idx
    flat += class_id * m
    counted = flat.reshape(-1) if not (nan.any() or outside.any()) else flat[idx >= 0]
    counts = np.bincount(counted, minlength=n_bands * k * m).reshape(n_bands, k, m)
    n_valid = counts.sum(axis=-1)
    if np.any(n_valid == 0):
        band, kk = (int(x) for x in np.argwhere(n_valid == 0)[0])
        owner = "classes" if name == "image" else name
        raise InputError(
            f"{owner}: class {labels[kk].item()!r} (index {kk}) has no valid sample in band {band}"
        )
    return _Binned(
        idx, class_id, counts.astype(np.int64), binnings, labels, dropped, single, values
    )


def _gather(
    img: np.ndarray, band_axis: int | None, moved: np.ndarray, flat: np.ndarray
) -> np.ndarray:
    """Values ``(n, B)`` of the pixels ``flat`` (flat indices into ``H x W``) in every band."""
    if img.ndim == 3 and img.flags.c_contiguous:
        axis = (2 if band_axis is None else int(band_axis)) % 3
        if axis == 0:  # (B, H, W), e.g. a multi-page TIFF: a take along the pixel axis
            return img.reshape(img.shape[0], -1).take(flat, axis=1).T
        if axis == 2:  # (H, W, B)
            return img.reshape(-1, img.shape[2]).take(flat, axis=0)
    rows, cols = np.unravel_index(flat, moved.shape[:2])
    return moved[rows, cols]


def _bin_image(
    image: Any,
    classes: Any,
    *,
    bins: Any = 256,
    range: Any = None,
    band_axis: int | None = None,
    background: Any = 0,
    out_of_range: str = "raise",
    nan_policy: str = "raise",
    stacklevel: int = 4,
) -> _Binned:
    _check_policy(out_of_range, "out_of_range", ("raise", "drop", "clip"))
    _check_policy(nan_policy, "nan_policy", ("raise", "omit"))
    moved, single = _as_stack(image, band_axis)
    bins = check_bins(bins)
    shape = moved.shape[:2]
    ci = class_index(classes, shape, background=background)
    img = np.asarray(image)
    img = img.astype(np.uint8) if img.dtype == np.bool_ else img
    values = _gather(img, band_axis, moved, ci.flat)  # (n, B): one gather for all bands
    n_bands = moved.shape[2]
    if not isinstance(bins, int):
        if range is not None:
            raise InputError(
                'range must be None when bins is an array of edges or "unique" (the bins define '
                "the range)"
            )
        ranges = None
    elif range is None:
        ranges = _band_ranges(moved, nan_policy)
    else:
        ranges = _explicit_ranges(range, n_bands, moved.dtype)
    return _bin_samples(
        values,
        ci.class_id,
        ci.labels,
        ranges,
        bins,
        from_data=range is None,
        out_of_range=out_of_range,
        nan_policy=nan_policy,
        single=single,
        stacklevel=stacklevel,
    )


def _warn_sparse(binned: _Binned, stacklevel: int) -> None:
    k = binned.labels.size
    m = binned.counts.shape[-1]
    n_min = int(binned.n_valid.min())
    est = sparsity_floor(k, m, n_min)
    if est > SPARSITY_THRESHOLD:
        warnings.warn(
            f"{m} bins for as few as {n_min} samples per class: NPC of identically distributed "
            f"classes would already be about {est:.2f} (c_K*sqrt(M/n_min)); use fewer bins, or "
            "compare with permutation_null()",
            SparseBinsWarning,
            stacklevel=stacklevel,
        )


def _values(binned: _Binned) -> np.ndarray:
    value, _ = _npc_core(binned.counts)
    return value


def _out(value: np.ndarray, single: bool) -> float | np.ndarray:
    return float(value[0]) if single else value


# -- public entry points --------------------------------------------------------------------------
def npc(
    image: Any,
    classes: Any,
    *,
    bins: Any = 256,
    range: Any = None,
    band_axis: int | None = None,
    background: Any = 0,
    out_of_range: str = "raise",
    nan_policy: str = "raise",
) -> float | np.ndarray:
    r"""Multi-class normalized potential contrast of labelled pixels, per band.

    .. math::

        \mathrm{NPC}_K = \frac{\sum_b \max_k p_k(b) - 1}{K - 1},\qquad
        p_k(b) = \frac{\#\{x \in S_k : \mathrm{bin}(I(x)) = b\}}
                      {\#\{x \in S_k : I(x) \in [lo, hi]\}}

    (Peaslee, Breger & Schönlieb 2025, §3; the binning is ``np.histogram``'s, spec §1.2). All bands
    of a stack are computed in one vectorised pass: one gather of the labelled pixels, one
    ``np.bincount`` over (band, class, bin).

    Args:
        image: ``(H, W)`` image, or a 3-D stack whose band axis is ``band_axis`` (default: last).
            Any integer or float dtype (kept as is: 12/16-bit data are not squeezed to 8 bits);
            bool becomes {0, 1}.
        classes: Integer label image ``(H, W)`` (classes: the sorted labels other than
            ``background``), bool masks ``(K, H, W)``, or a list of ``K`` bool masks or integer
            ``(row, col)`` coordinate arrays ``(n_k, 2)``. Masks may overlap.
        bins: Number of equal-width bins ``M``, an array of strictly increasing edges, or
            ``"unique"``: one bin per distinct pooled sample value of each band (exact for
            integer data; ``range`` must then be None and the range is the samples' min/max).
        range: ``(lo, hi)`` for all bands, a ``(B, 2)`` array, ``None`` for the (min, max) of the
            **whole band of the image** (the reference's default), or ``"dtype"`` for
            ``(0, 2**bits)`` of unsigned integer images. ``lo == hi`` is widened by ±0.5 (NPC 0).
        band_axis: Band axis of a 3-D stack.
        background: Label value of unlabelled pixels in a label image.
        out_of_range: ``"raise"`` (default), ``"drop"`` (the reference's silent behaviour, with
            a warning) or ``"clip"`` (clamp to the range, with a warning).
        nan_policy: ``"raise"`` (default) or ``"omit"`` (leave NaN samples out, with a warning;
            with ``range=None`` the band's range then ignores NaN too).

    Returns:
        A float for a 2-D image, else an array ``(B,)``.

    Raises:
        InputError: Any bad input (see the package README's error table).

    Warns:
        SparseBinsWarning: When ``c_K sqrt(M / n_min) > 0.1`` (bias floor, see ``sparsity_floor``).

    Examples:
        >>> import numpy as np
        >>> img = np.zeros((40, 50), dtype=np.uint8)
        >>> img[:, 25:] = 200
        >>> labels = np.zeros((40, 50), dtype=int)
        >>> labels[:, :10], labels[:, 40:] = 1, 2
        >>> npc(img, labels, bins=2, range=(0, 256))
        1.0
        >>> npc(img, labels, bins=1, range=(0, 256))
        0.0
    """
    binned = _bin_image(
        image,
        classes,
        bins=bins,
        range=range,
        band_axis=band_axis,
        background=background,
        out_of_range=out_of_range,
        nan_policy=nan_policy,
    )
    _warn_sparse(binned, stacklevel=3)
    return _out(_values(binned), binned.single)


def _samples_to_values(samples: Any) -> tuple[np.ndarray, np.ndarray, bool, int]:
    if not isinstance(samples, Sequence) or isinstance(samples, str | bytes):
        raise InputError(f"samples must be a list of K arrays; got {type(samples).__name__}")
    arrays = [np.asarray(s) for s in samples]
    if len(arrays) < 2:
        raise InputError(f"samples: need at least 2 classes (K >= 2); got K = {len(arrays)}")
    ndims = {a.ndim for a in arrays}
    if ndims == {1}:
        single = True
        arrays = [a[:, None] for a in arrays]
    elif ndims == {2} and len({a.shape[1] for a in arrays}) == 1:
        single = False
    else:
        shapes = [a.shape for a in arrays]
        raise InputError(
            f"samples must all be (n_k,) or all (n_k, B) with the same B; got {shapes}"
        )
    for i, a in enumerate(arrays):
        if a.dtype == np.bool_:
            arrays[i] = a.astype(np.uint8)
        elif not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
            raise InputError(f"samples[{i}] must be real numbers; got dtype {a.dtype}")
    values = np.concatenate(arrays, axis=0)
    class_id = np.repeat(np.arange(len(arrays), dtype=np.intp), [a.shape[0] for a in arrays])
    return values, class_id, single, len(arrays)


def _bin_from_samples(
    samples: Any,
    *,
    bins: Any,
    range: Any,
    out_of_range: str,
    nan_policy: str,
    stacklevel: int = 4,
) -> _Binned:
    _check_policy(out_of_range, "out_of_range", ("raise", "drop", "clip"))
    _check_policy(nan_policy, "nan_policy", ("raise", "omit"))
    values, class_id, single, k = _samples_to_values(samples)
    bins = check_bins(bins)
    labels = np.arange(k)  # every class, the empty ones included: they must raise, not vanish
    n_bands = values.shape[1]
    if values.shape[0] == 0:
        raise InputError("samples: every class is empty")
    if not isinstance(bins, int):
        if range is not None:
            raise InputError(
                'range must be None when bins is an array of edges or "unique" (the bins define '
                "the range)"
            )
        ranges = None
    elif range is None:
        ranges = _band_ranges(values[:, None, :], nan_policy)
    else:
        ranges = _explicit_ranges(range, n_bands, values.dtype)
    return _bin_samples(
        values,
        class_id,
        labels,
        ranges,
        bins,
        from_data=range is None,
        out_of_range=out_of_range,
        nan_policy=nan_policy,
        single=single,
        stacklevel=stacklevel,
        name="samples",
    )


def npc_from_samples(
    samples: Any,
    *,
    bins: Any = 256,
    range: Any = None,
    out_of_range: str = "raise",
    nan_policy: str = "raise",
) -> float | np.ndarray:
    """NPC from per-class sample values (no image).

    Same formula and binning as :func:`npc`. With ``range=None`` the range is the pooled (min, max)
    of the samples (there is no image to take it from), per band.

    Args:
        samples: List of ``K`` arrays, all ``(n_k,)`` (one band) or all ``(n_k, B)``.
        bins: As in :func:`npc`.
        range: As in :func:`npc`, except ``None`` (pooled sample min/max).
        out_of_range: As in :func:`npc`.
        nan_policy: As in :func:`npc`.

    Returns:
        A float for 1-D samples, else ``(B,)``.

    Examples:
        >>> import numpy as np
        >>> npc_from_samples([np.full(500, 0.2), np.full(300, 0.8)], bins=2, range=(0, 1))
        1.0
    """
    binned = _bin_from_samples(
        samples, bins=bins, range=range, out_of_range=out_of_range, nan_policy=nan_policy
    )
    _warn_sparse(binned, stacklevel=3)
    return _out(_values(binned), binned.single)


def pc(image: Any, classes: Any, *, scale: Any = None, **npc_kwargs: Any) -> float | np.ndarray:
    """Potential contrast ``PC = scale · NPC`` (Shaus et al. 2017, as the reference computes it).

    The reference prints ``PC = NPC · (hi − lo)`` with its resolved range, so with its default
    range (0, 256) 8-bit PC is ``256 · NPC``; Shaus et al. use ``L = 255`` (pass ``scale=255``).

    Args:
        image: As in :func:`npc`.
        classes: As in :func:`npc`.
        scale: ``None`` (default) for ``hi − lo`` of each band's resolved range (before widening,
            so a constant band gives 0), or a finite number > 0.
        **npc_kwargs: Passed to :func:`npc`.

    Returns:
        A float for a 2-D image, else ``(B,)``.

    Examples:
        >>> import numpy as np
        >>> img = np.repeat(np.array([[10, 200]], dtype=np.uint8), 400, axis=0)
        >>> masks = np.stack([img == 10, img == 200])
        >>> pc(img, masks, bins=2, range=(0, 256))
        256.0
        >>> pc(img, masks, bins=2, range=(0, 256), scale=255)
        255.0
    """
    s = None
    if scale is not None:
        try:
            s = float(scale)
        except (TypeError, ValueError):
            s = float("nan")
        if not (np.isfinite(s) and s > 0):
            raise InputError(f"scale must be a finite number > 0; got {scale!r}")
    res = analyze(image, classes, **npc_kwargs)
    value = res.pc if s is None else res.npc * s
    return float(value[0]) if res.single else value


_LOOKUP_CHUNK = 1 << 16  # pixels per np.take: its intp index buffer then stays in cache


def _lookup(table: np.ndarray, band: np.ndarray, out: np.ndarray) -> None:
    """``out[...] = table[band]`` for an integer band, in cache-sized chunks."""
    if band.flags.c_contiguous and out.flags.c_contiguous:
        src, dst = band.reshape(-1), out.reshape(-1)
        for s in range(0, src.size, _LOOKUP_CHUNK):
            np.take(table, src[s : s + _LOOKUP_CHUNK], out=dst[s : s + _LOOKUP_CHUNK])
        return
    rows = max(1, _LOOKUP_CHUNK // max(band.shape[1], 1))
    for r in range(0, band.shape[0], rows):
        out[r : r + rows] = table.take(band[r : r + rows])


# -- the result object ----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NPCResult:
    """Everything :func:`analyze` computes. Arrays carry the band axis (``B = 1`` for one band).

    Attributes:
        npc: ``(B,)`` NPC per band.
        pc: ``(B,)`` PC = NPC · (hi − lo) of the resolved range.
        histograms: ``(B, K, M)`` int64 counts.
        bin_edges: ``(B, M + 1)`` edges (float64 copies of numpy's edges).
        range: ``(B, 2)`` resolved range before any widening.
        class_labels: ``(K,)`` class labels.
        class_of_bin: ``(B, M)`` arg-max class index of each bin (ties and empty bins: lowest).
        balanced_accuracy: ``(B,)`` balanced accuracy of the bin-wise Bayes classifier,
            ``(1 + (K − 1) NPC) / K``.
        pairwise: ``(B, K, K)`` two-class NPC (total variation) of every pair of classes.
        n_samples: ``(B, K)`` samples counted per band and class.
        n_dropped: ``(B, K)`` samples left out (non-zero only under ``"drop"``/``"omit"``).
        single: True when the input was one 2-D band.
    """

    npc: np.ndarray
    pc: np.ndarray
    histograms: np.ndarray
    bin_edges: np.ndarray
    range: np.ndarray
    class_labels: np.ndarray
    class_of_bin: np.ndarray
    balanced_accuracy: np.ndarray
    pairwise: np.ndarray
    n_samples: np.ndarray
    n_dropped: np.ndarray
    single: bool = False
    binnings: tuple[Binning, ...] = field(default=(), repr=False)

    def rank_bands(self) -> np.ndarray:
        """Band indices sorted by decreasing NPC (ties: lower band first)."""
        return np.argsort(-self.npc, kind="stable")

    def class_map(self, image: Any, *, band_axis: int | None = None) -> np.ndarray:
        """Class index of every pixel by the arg-max class of its bin; ``-1`` outside the range.

        The reference's visualisation, without its wrap-around (values below ``lo`` there get the
        last bin's class) and its crash (values at ``hi + 1`` or above). For uint8/uint16 images
        it is one table lookup per pixel (``class_of_bin`` composed with each grey level's bin).

        Args:
            image: The analysed image (same band count; same layout rules as :func:`npc`).
            band_axis: As in :func:`npc`.

        Returns:
            An array of the image's shape, int8 (int16 for more than 127 classes).
        """
        moved, _ = _as_stack(image, band_axis)
        if moved.shape[2] != self.npc.size:
            raise InputError(f"image has {moved.shape[2]} bands but the result has {self.npc.size}")
        k = self.class_labels.size
        dtype = np.int8 if k <= 127 else np.int16
        img = np.asarray(image)
        out = np.empty(img.shape, dtype=dtype)
        axis = 2 if band_axis is None else band_axis
        out_moved = out[..., None] if img.ndim == 2 else np.moveaxis(out, axis, -1)
        lookup = moved.dtype in (np.uint8, np.uint16)
        levels: dict[tuple[Any, ...], np.ndarray] = {}  # level -> bin, shared by equal binnings
        for b, bn in enumerate(self.binnings):
            cob = self.class_of_bin[b].astype(dtype)
            if lookup:
                key = (bn.first, bn.last, bn.edges.tobytes())
                if key not in levels:
                    levels[key] = bn.indices(
                        np.arange(1 << (8 * moved.dtype.itemsize), dtype=moved.dtype)
                    )
                lvl = levels[key]
                table = np.where(lvl >= 0, cob[lvl], -1).astype(dtype)
                _lookup(table, moved[..., b], out_moved[..., b])
            else:
                idx = bn.indices(moved[..., b])
                out_moved[..., b] = np.where(idx >= 0, cob[idx], -1)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field (arrays as nested lists)."""
        return {
            "npc": self.npc.tolist(),
            "pc": self.pc.tolist(),
            "balanced_accuracy": self.balanced_accuracy.tolist(),
            "range": self.range.tolist(),
            "class_labels": self.class_labels.tolist(),
            "n_samples": self.n_samples.tolist(),
            "n_dropped": self.n_dropped.tolist(),
            "pairwise": self.pairwise.tolist(),
            "class_of_bin": self.class_of_bin.tolist(),
            "bin_edges": self.bin_edges.tolist(),
            "histograms": self.histograms.tolist(),
        }


def _result(binned: _Binned) -> NPCResult:
    value, cls = _npc_core(binned.counts)
    ranges = np.array([[bn.lo, bn.hi] for bn in binned.binnings])
    return NPCResult(
        npc=value,
        pc=value * (ranges[:, 1] - ranges[:, 0]),
        histograms=binned.counts,
        bin_edges=np.stack([bn.edges.astype(np.float64) for bn in binned.binnings]),
        range=ranges,
        class_labels=binned.labels,
        class_of_bin=cls,
        balanced_accuracy=(1.0 + (binned.labels.size - 1) * value) / binned.labels.size,
        pairwise=_tv_matrix(binned.counts),
        n_samples=binned.n_valid,
        n_dropped=binned.n_dropped,
        single=binned.single,
        binnings=binned.binnings,
    )


def analyze(image: Any, classes: Any, **npc_kwargs: Any) -> NPCResult:
    """NPC with everything behind it: histograms, class of each bin, pairwise matrix, ...

    Args:
        image: As in :func:`npc`.
        classes: As in :func:`npc`.
        **npc_kwargs: ``bins``, ``range``, ``band_axis``, ``background``, ``out_of_range``,
            ``nan_policy`` as in :func:`npc`.

    Returns:
        The :class:`NPCResult`.

    Examples:
        >>> import numpy as np
        >>> img = np.repeat(np.arange(4, dtype=np.uint8), 100).reshape(20, 20)
        >>> labels = np.repeat([1, 1, 2, 3], 100).reshape(20, 20)
        >>> res = analyze(img, labels, bins=4, range=(0, 4))
        >>> res.npc.tolist(), res.class_of_bin.tolist()
        ([1.0], [[0, 0, 1, 2]])
    """
    binned = _bin_image(image, classes, **npc_kwargs)
    _warn_sparse(binned, stacklevel=3)
    return _result(binned)
