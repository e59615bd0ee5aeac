"""Labelled samples: from an image (any band layout) or per-class lists to binned samples.

Every entry point of the package reduces its input to the same thing, a :class:`BinnedSamples`:
the ``(n, B)`` values of the labelled pixels in every band (one gather for all bands), their class,
and one bin index per sample and band, with the two policies for samples that cannot be binned
applied on the way (spec §3.2-§3.4):

* NaN samples: ``nan_policy="raise"`` (default) or ``"omit"`` (left out, with a warning, as the
  reference does silently).
* Samples outside the range: ``out_of_range="raise"`` (default), ``"drop"`` (left out, with a
  warning: the reference's silent behaviour) or ``"clip"`` (clamped to the range, with a warning).

A class left with no valid sample in some band is refused, wherever it sits (the reference gives
NaN or a wrong number depending on its position). The counts are one ``np.bincount`` over
(band, class, bin).
"""

from __future__ import annotations

import numbers
import typing
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sciml_core import InputError

from ._binning import (
    Binning,
    band_ranges,
    check_bins,
    check_histogram_size,
    explicit_ranges,
    make_binning,
    unique_binnings,
)
from ._classes import class_index

__all__ = [
    "NAN_POLICIES",
    "OUT_OF_RANGE_POLICIES",
    "BinnedSamples",
    "NanPolicy",
    "OutOfRange",
    "as_stack",
    "band_output",
    "bin_image",
    "bin_sample_lists",
]

OutOfRange = Literal["raise", "drop", "clip"]
"""What to do with labelled samples outside the range: refuse, leave out, or clamp."""
OUT_OF_RANGE_POLICIES: tuple[OutOfRange, ...] = typing.get_args(OutOfRange)

NanPolicy = Literal["raise", "omit"]
"""What to do with NaN samples: refuse, or leave out."""
NAN_POLICIES: tuple[NanPolicy, ...] = typing.get_args(NanPolicy)


def as_stack(image: Any, band_axis: int | None, name: str = "image") -> tuple[np.ndarray, bool]:
    """An ``(H, W, B)`` view of ``image``, and whether it was a single 2-D band.

    Args:
        image: ``(H, W)``, or a 3-D stack whose band axis is ``band_axis`` (default: last). Any
            integer or float dtype; bool becomes uint8.
        band_axis: Band axis of a 3-D stack (``-3 .. 2``), or None.
        name: The argument's name in error messages.

    Raises:
        InputError: Not a real array, not 2-D/3-D, a bad ``band_axis``, an empty stack.
    """
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
    axis = int(axis) % 3
    moved = img if axis == 2 else img.transpose([a for a in range(3) if a != axis] + [axis])
    if min(moved.shape) == 0:
        raise InputError(f"{name} is empty: shape {img.shape}")
    return moved, False


def _check_policy(value: str, name: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"{name} must be one of {allowed}; got {value!r}")


def band_output(value: np.ndarray, single: bool) -> float | np.ndarray:
    """A per-band result as the entry points return it: a float for one 2-D band, else ``(B,)``."""
    return float(value[0]) if single else value


@dataclass(frozen=True, eq=False)
class BinnedSamples:
    """The labelled samples of one call, binned.

    Attributes:
        bin_idx: ``(B, n)`` intp bin of every sample in every band, ``-1`` where it is not
            counted (NaN under ``"omit"``, outside the range under ``"drop"``).
        class_id: ``(n,)`` intp class index of every sample, ``0..K-1``.
        counts: ``(B, K, M)`` int64 histograms.
        binnings: One :class:`Binning` per band (bands with equal ranges share one object).
        labels: ``(K,)`` class labels.
        n_dropped: ``(B, K)`` int64 samples left out by the policies.
        single: True when the input was one 2-D band (or 1-D sample lists).
        values: ``(n, B)`` sample values (clamped under ``out_of_range="clip"``).
    """

    bin_idx: np.ndarray
    class_id: np.ndarray
    counts: np.ndarray
    binnings: tuple[Binning, ...]
    labels: np.ndarray
    n_dropped: np.ndarray
    single: bool
    values: np.ndarray

    @property
    def n_valid(self) -> np.ndarray:
        """``(B, K)`` samples counted per band and class."""
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


def _bin_values(
    values: np.ndarray,
    class_id: np.ndarray,
    labels: np.ndarray,
    ranges: np.ndarray | None,
    bins: int | np.ndarray | str,
    *,
    from_data: bool,
    out_of_range: OutOfRange,
    nan_policy: NanPolicy,
    single: bool,
    stacklevel: int,
    name: str = "image",
) -> BinnedSamples:
    """Bin ``(n, B)`` sample values of ``K`` classes, applying the NaN and out-of-range policies."""
    n_bands = values.shape[1]
    k = labels.size
    if isinstance(bins, int):
        check_histogram_size(n_bands, k, bins)  # before numpy allocates the edges
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

    dropped = np.zeros((n_bands, k), dtype=np.int64)
    if idx.size and idx.min() >= 0:  # the common case: every sample binned, one reduction
        flat = class_id * m if n_bands == 1 else (np.arange(n_bands) * (k * m))[:, None] + idx
        flat += idx[0] if n_bands == 1 else class_id * m
        counts = np.bincount(flat.ravel(order="K"), minlength=n_bands * k * m)
        return _checked(
            idx,
            class_id,
            counts.reshape(n_bands, k, m),
            binnings,
            labels,
            dropped,
            single,
            values,
            name,
        )
    if np.issubdtype(values.dtype, np.floating):
        nan = np.isnan(values).T
    else:
        nan = np.zeros((1, 1), dtype=bool)  # broadcasts: integer data has no NaN
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
    counted = flat.ravel(order="K") if not (nan.any() or outside.any()) else flat[idx >= 0]
    counts = np.bincount(counted, minlength=n_bands * k * m).reshape(n_bands, k, m)
    return _checked(idx, class_id, counts, binnings, labels, dropped, single, values, name)


def _checked(
    idx: np.ndarray,
    class_id: np.ndarray,
    counts: np.ndarray,
    binnings: tuple[Binning, ...],
    labels: np.ndarray,
    dropped: np.ndarray,
    single: bool,
    values: np.ndarray,
    name: str,
) -> BinnedSamples:
    """The :class:`BinnedSamples`, after refusing a class with no valid sample in some band."""
    n_valid = counts.sum(axis=-1)
    if n_valid.min() == 0:
        band, kk = (int(x) for x in np.argwhere(n_valid == 0)[0])
        owner = "classes" if name == "image" else name
        raise InputError(
            f"{owner}: class {labels[kk].item()!r} (index {kk}) has no valid sample in band {band}"
        )
    return BinnedSamples(
        idx,
        class_id,
        counts.astype(np.int64, copy=False),
        binnings,
        labels,
        dropped,
        single,
        values,
    )


def _gather(
    img: np.ndarray, band_axis: int | None, moved: np.ndarray, flat: np.ndarray
) -> np.ndarray:
    """Values ``(n, B)`` of the pixels ``flat`` (flat indices into ``H x W``) in every band."""
    if img.ndim == 2 and img.flags.c_contiguous:  # one band: no multi-band set-up
        return img.reshape(-1).take(flat)[:, None]
    if img.ndim == 3 and img.flags.c_contiguous:
        axis = (2 if band_axis is None else int(band_axis)) % 3
        if axis == 0:  # (B, H, W), e.g. a multi-page TIFF: a take along the pixel axis
            return img.reshape(img.shape[0], -1).take(flat, axis=1).T
        if axis == 2:  # (H, W, B)
            return img.reshape(-1, img.shape[2]).take(flat, axis=0)
    rows, cols = np.unravel_index(flat, moved.shape[:2])
    return moved[rows, cols]


def bin_image(
    image: Any,
    classes: Any,
    *,
    bins: Any = 256,
    range: Any = None,
    band_axis: int | None = None,
    background: Any = 0,
    out_of_range: OutOfRange = "raise",
    nan_policy: NanPolicy = "raise",
    stacklevel: int = 4,
) -> BinnedSamples:
    """Gather the labelled pixels of every band of ``image`` and bin them.

    Args:
        image: As in :func:`potcontrast.npc`.
        classes: As in :func:`potcontrast.npc`.
        bins: As in :func:`potcontrast.npc`.
        range: As in :func:`potcontrast.npc`.
        band_axis: As in :func:`potcontrast.npc`.
        background: As in :func:`potcontrast.npc`.
        out_of_range: As in :func:`potcontrast.npc`.
        nan_policy: As in :func:`potcontrast.npc`.
        stacklevel: Of the policy warnings, counted as ``warnings.warn`` counts from the binning
            helper (4: the caller of a public function that called this one).

    Returns:
        The :class:`BinnedSamples`.

    Raises:
        InputError: Any bad input (spec §4.3).
    """
    _check_policy(out_of_range, "out_of_range", OUT_OF_RANGE_POLICIES)
    _check_policy(nan_policy, "nan_policy", NAN_POLICIES)
    moved, single = as_stack(image, band_axis)
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
        ranges = band_ranges(moved, omit_nan=nan_policy == "omit")
    else:
        ranges = explicit_ranges(range, n_bands, moved.dtype)
    return _bin_values(
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


def bin_sample_lists(
    samples: Any,
    *,
    bins: Any,
    range: Any,
    out_of_range: OutOfRange,
    nan_policy: NanPolicy,
    stacklevel: int = 4,
) -> BinnedSamples:
    """Bin per-class sample lists (no image); ``range=None`` is the pooled sample (min, max).

    Args:
        samples: List of ``K`` arrays, all ``(n_k,)`` (one band) or all ``(n_k, B)``.
        bins: As in :func:`potcontrast.npc`.
        range: As in :func:`potcontrast.npc`, except ``None`` (pooled sample min/max).
        out_of_range: As in :func:`potcontrast.npc`.
        nan_policy: As in :func:`potcontrast.npc`.
        stacklevel: As in :func:`bin_image`.

    Returns:
        The :class:`BinnedSamples`.
    """
    _check_policy(out_of_range, "out_of_range", OUT_OF_RANGE_POLICIES)
    _check_policy(nan_policy, "nan_policy", NAN_POLICIES)
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
        ranges = band_ranges(values[:, None, :], omit_nan=nan_policy == "omit")
    else:
        ranges = explicit_ranges(range, n_bands, values.dtype)
    return _bin_values(
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
