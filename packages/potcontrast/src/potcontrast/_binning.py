"""Binning: range resolution and bin indices that agree with ``numpy.histogram`` exactly.

The reference scripts bin each class with ``np.histogram(values, bins=M, range=(lo, hi))``. The
rules this module reproduces, value for value (spec §1.2):

* ``M`` equal-width bins on ``[lo, hi]`` with edges ``e_j = lo + j (hi - lo) / M``; bins are
  left-closed ``[e_j, e_{j+1})`` and the last bin is closed, so ``hi`` falls in bin ``M - 1``.
  A value outside ``[lo, hi]`` (or NaN) belongs to no bin (index ``-1`` here).
* ``lo == hi`` is widened to ``(lo - 0.5, hi + 0.5)``.
* The edges are built in numpy's bin dtype: the data's float type for float data (float32 edges
  for float32 data), float64 for integer data. A float32 value within ~1e-7 (relative) of an edge
  can therefore fall on the other side of it than in float64; we follow numpy's rule.
* An explicit array of edges follows numpy's non-uniform rule: ``e_i <= v < e_{i+1}``, the last
  bin closed, values compared in the common dtype of data and edges.

For unsigned/signed integer data whose bin width is an integer power of two on an integer range
(8-bit data with 256 bins on (0, 256), 12-bit data with 256 bins on (0, 4096), ...), the bin
index is ``(v - lo) >> s`` with no float arithmetic; this fast path gives the same indices as the
general one (the edges are then exact binary numbers), which the tests check.

The range comes first (spec §1.6): :func:`explicit_ranges` turns ``(lo, hi)``, a ``(B, 2)`` array
or ``"dtype"`` into one range per band, and :func:`band_ranges` gives ``range=None``'s (min, max)
of the whole band of the image.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from sciml_core import InputError

__all__ = [
    "MAX_BINS",
    "MAX_HISTOGRAM_COUNTS",
    "Binning",
    "band_ranges",
    "check_bins",
    "check_histogram_size",
    "dtype_range",
    "explicit_ranges",
    "make_binning",
    "unique_binnings",
]

MAX_HISTOGRAM_COUNTS = 2**26
"""Most counts the histograms of one call may hold, ``bands x classes x bins`` (67,108,864).

The counts are int64, so that is 512 MiB; computing NPC, the class of each bin and the pairwise
matrix from them takes about four times as much at the peak. An integer ``bins`` that would need
more is refused before anything is allocated (``np.histogram`` would try, and fail with a
``MemoryError`` after minutes of swapping, or at once for ``bins=10**12``). ``bins="unique"`` and
explicit edges are not limited: their size is bounded by data already in memory.
"""

MAX_BINS = MAX_HISTOGRAM_COUNTS // 2
"""Most equal-width bins any call can use: one band and the minimum of two classes (33,554,432)."""


@dataclass(frozen=True, eq=False)
class Binning:
    """How the values of one band are binned.

    Attributes:
        lo: Resolved lower end of the range, before any widening (what PC is scaled by).
        hi: Resolved upper end of the range, before any widening.
        edges: ``(M + 1,)`` histogram edges in numpy's bin dtype (after widening ``lo == hi``).
        uniform: True for ``M`` equal-width bins (the ``bins=int`` form).
        first: The scalar numpy's histogram compares and subtracts as the first edge.
        last: The scalar numpy's histogram compares against as the last edge.
    """

    lo: float
    hi: float
    edges: np.ndarray
    uniform: bool
    first: Any
    last: Any

    @property
    def n_bins(self) -> int:
        """Number of bins ``M``."""
        return int(self.edges.size - 1)

    def indices(self, values: np.ndarray) -> np.ndarray:
        """Bin index of every value, ``-1`` for values outside the range and for NaN.

        Args:
            values: Real array of any shape and dtype.

        Returns:
            ``intp`` array of the same shape, entries in ``{-1, 0, ..., M - 1}``.
        """
        values = np.asarray(values)
        if values.dtype == np.bool_:
            values = values.astype(np.uint8)
        shift = self.integer_shift(values.dtype)
        if shift is not None:
            return self._integer_indices(values, shift)
        if self.uniform:
            return self._uniform_indices(values)
        return self._edge_indices(values)

    # -- the three paths -------------------------------------------------------------------------
    def integer_shift(self, dtype: np.dtype) -> int | None:
        """``s`` such that integer values of ``dtype`` bin as ``(v - lo) >> s``, else None.

        That is the case when the bins are equal, the range has integer ends and the bin width
        is ``2**s``.
        """
        if not (self.uniform and np.issubdtype(dtype, np.integer)):
            return None
        lo, hi, m = self.first, self.last, self.n_bins
        if not (isinstance(lo, float) and lo.is_integer() and hi.is_integer()):
            return None
        if max(abs(lo), abs(hi)) >= 2.0**52:
            return None
        width, rem = divmod(int(hi) - int(lo), m)
        if rem or width < 1 or width & (width - 1):
            return None
        return width.bit_length() - 1

    def _integer_indices(self, values: np.ndarray, shift: int) -> np.ndarray:
        lo, hi = int(self.first), int(self.last)
        offset = np.subtract(values, lo, dtype=np.intp)
        idx = np.right_shift(offset, shift, out=offset)  # bin (v - lo) >> s, in place
        info = np.iinfo(values.dtype)
        if info.min >= lo and info.max < hi:  # every value of the dtype is in [lo, hi)
            return idx
        if values.size and values.min() >= lo and values.max() <= hi:
            return np.minimum(idx, self.n_bins - 1, out=idx)  # hi itself is in the last bin
        idx[(values < lo) | (values > hi)] = -1
        idx[values == hi] = self.n_bins - 1
        return idx

    def _uniform_indices(self, values: np.ndarray) -> np.ndarray:
        # The same operations, in the same dtypes, as numpy's uniform-bin histogram: a float
        # estimate of the index, then a correction by one against the edges in either direction.
        m = self.n_bins
        first, last, edges = self.first, self.last, self.edges
        with np.errstate(invalid="ignore"):
            keep = (values >= first) & (values <= last)
        out = np.full(values.shape, -1, dtype=np.intp)
        v = values[keep].astype(edges.dtype, copy=False)
        denom = np.subtract(last, first, dtype=np.result_type(last, first))
        idx = (((v - first) / denom) * m).astype(np.intp)
        idx[idx == m] -= 1
        idx[v < edges[idx]] -= 1
        idx[(v >= edges[idx + 1]) & (idx != m - 1)] += 1
        out[keep] = idx
        return out

    def _edge_indices(self, values: np.ndarray) -> np.ndarray:
        common = np.result_type(values.dtype, self.edges.dtype)
        v = values.astype(common, copy=False)
        e = self.edges.astype(common, copy=False)
        with np.errstate(invalid="ignore"):
            keep = (v >= e[0]) & (v <= e[-1])
        idx = np.searchsorted(e, v, side="right").astype(np.intp) - 1
        # hi is in the last non-empty bin: bin M - 1 for increasing edges, the first bin that
        # ends at hi when trailing edges repeat it ("unique" bins padded to a common M)
        last = min(int(np.searchsorted(e, e[-1], side="left")), self.n_bins - 1)
        idx[v == e[-1]] = last
        idx[~keep] = -1
        return idx


def check_histogram_size(
    n_bands: int, n_classes: int, n_bins: int, *, argument: str = "bins"
) -> None:
    """Refuse ``n_bins`` equal-width bins when the histograms would exceed the memory limit.

    Args:
        n_bands: Bands ``B``.
        n_classes: Classes ``K``.
        n_bins: Bins ``M``.
        argument: How the caller named the bin count (``"bins"``, ``"--bins"``).

    Raises:
        InputError: ``B · K · M > MAX_HISTOGRAM_COUNTS``; the message names ``argument``, the
            limit and the most bins these bands and classes allow.

    Examples:
        >>> check_histogram_size(16, 3, 65536)
        >>> check_histogram_size(1, 2, 10**12)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sciml_core._errors.InputError: bins: 1000000000000 bins for 1 band(s) and 2 classes ...
    """
    counts = n_bands * n_classes * n_bins
    if counts > MAX_HISTOGRAM_COUNTS:
        most = MAX_HISTOGRAM_COUNTS // (n_bands * n_classes)
        raise InputError(
            f"{argument}: {n_bins} bins for {n_bands} band(s) and {n_classes} classes need "
            f"{counts:,} histogram counts; at most {MAX_HISTOGRAM_COUNTS:,} (2**26, 512 MiB of "
            f"int64) are allowed, so at most {most:,} bins here"
        )


def check_bins(bins: Any) -> int | np.ndarray | str:
    """Validate ``bins``: a positive int, >= 2 strictly increasing finite edges, or "unique"."""
    if isinstance(bins, str):
        if bins == "unique":
            return bins
        raise InputError(
            f'bins must be a positive int, an array of edges or "unique"; got the string {bins!r}'
        )
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        if bins < 1:
            raise InputError(f"bins must be >= 1; got {bins}")
        return int(bins)
    if isinstance(bins, bool | float | numbers.Real):
        raise InputError(f"bins must be a positive int or an array of edges; got {bins!r}")
    edges = np.asarray(bins)
    if edges.ndim != 1 or edges.size < 2 or not np.issubdtype(edges.dtype, np.number):
        raise InputError(
            f"bins as an array must be 1-D real edges with at least 2 entries; got shape "
            f"{edges.shape} dtype {edges.dtype}"
        )
    if np.iscomplexobj(edges) or not np.all(np.isfinite(edges)):
        raise InputError("bins as an array of edges must be finite and real")
    if np.any(edges[1:] <= edges[:-1]):
        raise InputError("bins as an array of edges must be strictly increasing")
    return edges


def dtype_range(dtype: np.dtype, name: str = "range") -> tuple[float, float]:
    """The ``range="dtype"`` rule: (0, 2**bits) for unsigned, (min, max + 1) for signed integers.

    Examples:
        >>> dtype_range(np.dtype(np.uint8))
        (0.0, 256.0)
        >>> dtype_range(np.dtype(np.int16))
        (-32768.0, 32768.0)
    """
    if dtype == np.bool_:
        return (0.0, 2.0)
    if not np.issubdtype(dtype, np.integer):
        raise InputError(
            f'{name}="dtype" needs an integer image; got dtype {dtype} (pass an explicit (lo, hi))'
        )
    info = np.iinfo(dtype)
    return (float(info.min), float(info.max) + 1.0)


def _exact_float(x: Any) -> bool:
    """A finite Python float, or a Python int that float64 holds exactly."""
    if isinstance(x, float):
        return math.isfinite(x)
    return isinstance(x, int) and not isinstance(x, bool) and abs(x) <= 2**53


def explicit_ranges(range_: Any, n_bands: int, dtype: np.dtype) -> np.ndarray:
    """Resolve every ``range`` form except None to one ``(lo, hi)`` per band.

    Args:
        range_: ``(lo, hi)`` for every band, a ``(B, 2)`` array, or ``"dtype"``
            (:func:`dtype_range` of ``dtype``).
        n_bands: Number of bands ``B``.
        dtype: dtype of the image (for ``"dtype"``).

    Returns:
        ``(B, 2)`` float64, finite, ``lo <= hi`` in every band.

    Raises:
        InputError: Any other form, a wrong shape, a non-finite end, ``lo > hi``.

    Examples:
        >>> explicit_ranges((0, 4096), 2, np.dtype(np.uint16)).tolist()
        [[0.0, 4096.0], [0.0, 4096.0]]
    """
    if isinstance(range_, str):
        if range_ != "dtype":
            raise InputError(
                f'range must be (lo, hi), a (B, 2) array, None or "dtype"; got {range_!r}'
            )
        return np.tile(np.array(dtype_range(dtype)), (n_bands, 1))
    if (
        isinstance(range_, tuple | list)
        and len(range_) == 2
        and all(_exact_float(x) for x in range_)
        and range_[0] <= range_[1]
    ):  # the common (lo, hi) of Python numbers: no array round trip
        return np.array([[float(range_[0]), float(range_[1])]] * n_bands)
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


def band_ranges(stack: np.ndarray, *, omit_nan: bool) -> np.ndarray:
    """``range=None``: the (min, max) of the whole band of the image, per band.

    Args:
        stack: ``(H, W, B)`` image (or ``(n, 1, B)`` pooled samples).
        omit_nan: Ignore NaN (``nan_policy="omit"``); otherwise a band holding NaN is refused.

    Returns:
        ``(B, 2)`` float64.

    Raises:
        InputError: A band holds NaN (unless ``omit_nan``) or inf, so its range is undefined.
    """
    lo = stack.min(axis=(0, 1))
    hi = stack.max(axis=(0, 1))
    if np.issubdtype(stack.dtype, np.floating):
        nan_bands = np.flatnonzero(np.isnan(lo) | np.isnan(hi))
        if nan_bands.size and omit_nan:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lo = np.nanmin(stack, axis=(0, 1))
                hi = np.nanmax(stack, axis=(0, 1))
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


def unique_binnings(values: np.ndarray) -> tuple[Binning, ...]:
    """``bins="unique"``: one bin per distinct value of each band's samples ``(n, B)``.

    Band ``b`` with distinct values ``u_0 < ... < u_{m-1}`` gets the edges
    ``(u_0, ..., u_{m-1}, u_{m-1})``: bin ``i`` is ``[u_i, u_{i+1})`` and the last bin the single
    value ``u_{m-1}`` (``np.histogram``'s rule for these edges). Bands with fewer distinct values
    are padded to the common ``M`` with empty bins at ``u_{m-1}``, which change no NPC. NaN is
    ignored here (the NaN policy applies later).
    """
    uniq = []
    for b in range(values.shape[1]):
        col = values[:, b]
        if np.issubdtype(col.dtype, np.floating):
            col = col[~np.isnan(col)]
        if col.size == 0:
            raise InputError(f'bins="unique": band {b} has no non-NaN sample')
        uniq.append(np.unique(col))
    m = max(u.size for u in uniq)
    out = []
    for u in uniq:
        edges = np.concatenate([u, np.repeat(u[-1:], m + 1 - u.size)])
        out.append(Binning(float(u[0]), float(u[-1]), edges, False, u[0], u[-1]))
    return tuple(out)


def make_binning(
    lo: float, hi: float, bins: int | np.ndarray, data_dtype: np.dtype, *, from_data: bool
) -> Binning:
    """Build the :class:`Binning` numpy's histogram would use for one band.

    Args:
        lo: Lower end of the resolved range.
        hi: Upper end of the resolved range (``lo <= hi``).
        bins: Number of equal-width bins, or an explicit array of edges (then ``lo``/``hi`` are
            the first and last edge).
        data_dtype: dtype of the values to be binned.
        from_data: True when the range is the band's own (min, max) (``range=None``): numpy then
            sees scalars of the data's dtype, which decides the arithmetic of float32 edges.

    Returns:
        The band's binning.
    """
    if not isinstance(bins, int):
        return Binning(float(bins[0]), float(bins[-1]), bins, False, bins[0], bins[-1])
    if bins <= _CACHED_BINS:
        # the sign of a zero end is part of the key: -0.0 == 0.0, but numpy keeps the sign
        signs = (math.copysign(1.0, lo), math.copysign(1.0, hi))
        return _cached_binning(float(lo), float(hi), signs, bins, np.dtype(data_dtype), from_data)
    return _uniform_binning(lo, hi, bins, np.dtype(data_dtype), from_data)


_CACHED_BINS = 4096
"""Equal-width binnings of at most this many bins are built once per (range, bins, dtype)."""


@functools.lru_cache(maxsize=64)
def _cached_binning(
    lo: float,
    hi: float,
    signs: tuple[float, float],
    bins: int,
    data_dtype: np.dtype,
    from_data: bool,
) -> Binning:
    """:func:`_uniform_binning`, built once per key; it is shared, so its edges live in an
    immutable ``bytes`` buffer (numpy refuses to make such an array writeable)."""
    bn = _uniform_binning(lo, hi, bins, data_dtype, from_data)
    edges = np.frombuffer(bn.edges.tobytes(), dtype=bn.edges.dtype)
    object.__setattr__(bn, "edges", edges)  # a frozen dataclass, not yet shared
    return bn


def _uniform_binning(
    lo: float, hi: float, bins: int, data_dtype: np.dtype, from_data: bool
) -> Binning:
    """The :class:`Binning` of ``bins`` equal bins on ``[lo, hi]`` (see :func:`make_binning`)."""
    if from_data and np.issubdtype(data_dtype, np.floating):
        first: Any = data_dtype.type(lo)
        last: Any = data_dtype.type(hi)
    else:
        first, last = float(lo), float(hi)
    if first == last:
        first, last = first - 0.5, last + 0.5
    probe = np.empty(0, dtype=data_dtype if data_dtype != np.bool_ else np.uint8)
    bin_dtype = np.result_type(first, last, probe)
    if np.issubdtype(bin_dtype, np.integer):
        bin_dtype = np.result_type(bin_dtype, float)
    edges = np.linspace(first, last, bins + 1, endpoint=True, dtype=bin_dtype)
    if np.any(edges[:-1] >= edges[1:]):
        raise InputError(
            f"bins={bins} is too many for the range ({lo}, {hi}) in {bin_dtype}: the edges are not "
            "distinct"
        )
    return Binning(float(lo), float(hi), edges, True, first, last)
