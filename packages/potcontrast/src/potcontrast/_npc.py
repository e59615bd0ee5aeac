r"""NPC of labelled pixels of an image or stack, and everything behind it (:class:`NPCResult`).

The entry points :func:`npc`, :func:`npc_from_samples`, :func:`pc` and :func:`analyze` bin the
labelled samples (:mod:`._samples`) and apply the formula on the per-class histograms
(:mod:`._formula`),

.. math::

    \mathrm{NPC}_K = \frac{\sum_b \max_k p_k(b) - 1}{K - 1} \in [0, 1]

(Peaslee, Breger & Schönlieb, EUSIPCO 2025, §3), for all bands of a stack in one pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sciml_core import InputError

from . import _kernels
from ._binning import Binning
from ._formula import npc_and_class_of_bin, npc_from_histograms, pairwise_npc
from ._samples import (
    BinnedSamples,
    NanPolicy,
    OutOfRange,
    as_stack,
    band_output,
    bin_image,
    bin_sample_lists,
)
from ._sparsity import warn_if_sparse

__all__ = [
    "NPCResult",
    "analyze",
    "npc",
    "npc_from_histograms",
    "npc_from_samples",
    "pc",
    "result_from_binned",
]


def _values(binned: BinnedSamples) -> np.ndarray:
    value, _ = npc_and_class_of_bin(binned.counts)
    return value


# -- public entry points --------------------------------------------------------------------------
def npc(
    image: Any,
    classes: Any,
    *,
    bins: Any = 256,
    range: Any = None,
    band_axis: int | None = None,
    background: Any = 0,
    out_of_range: OutOfRange = "raise",
    nan_policy: NanPolicy = "raise",
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
            A count is limited to ``B · K · M <= 2**26`` histogram counts (512 MiB of int64).
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
        InputError: Any bad input (see the package README's error table), ``bins`` beyond the
            histogram limit included.

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
    binned = bin_image(
        image,
        classes,
        bins=bins,
        range=range,
        band_axis=band_axis,
        background=background,
        out_of_range=out_of_range,
        nan_policy=nan_policy,
    )
    warn_if_sparse(binned.counts, stacklevel=3)
    return band_output(_values(binned), binned.single)


def npc_from_samples(
    samples: Any,
    *,
    bins: Any = 256,
    range: Any = None,
    out_of_range: OutOfRange = "raise",
    nan_policy: NanPolicy = "raise",
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
    binned = bin_sample_lists(
        samples, bins=bins, range=range, out_of_range=out_of_range, nan_policy=nan_policy
    )
    warn_if_sparse(binned.counts, stacklevel=3)
    return band_output(_values(binned), binned.single)


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


_LOOKUP_CHUNK = 1 << 16
"""Indices per ``np.take`` of a class-map lookup: the index buffer (512 KiB) is allocated once
per class map, not once per chunk or band (a fresh buffer each time costs page faults)."""


def _pair_table(table: np.ndarray) -> np.ndarray:
    """The 65,536-entry int16 table of class pairs of a 256-entry int8 ``table``.

    The uint16 view of two 8-bit pixels (a, b) is ``hi * 256 + lo``, with ``(lo, hi) = (a, b)``
    on a little-endian machine and ``(b, a)`` on a big-endian one; the entry ``class(hi) * 256 +
    class(lo)``, viewed as two int8, holds the classes in the pixels' order on either.
    """
    t = table.view(np.uint8).astype(np.uint16)
    return ((t[:, None] << 8) | t[None, :]).view(np.int16).reshape(-1)


def _lookup(table: np.ndarray, band: np.ndarray, out: np.ndarray, buf: np.ndarray) -> None:
    """``out[...] = table[band]`` for an integer band, in cache-sized chunks.

    For a contiguous uint8 band two pixels are looked up at once: the band read as uint16 indexes
    a 65,536-entry table of class pairs (half the lookups).
    """
    if not (band.flags.c_contiguous and out.flags.c_contiguous):
        rows = max(1, _LOOKUP_CHUNK // max(band.shape[1], 1))
        for r in range(0, band.shape[0], rows):
            out[r : r + rows] = table.take(band[r : r + rows])
        return
    src, dst = band.reshape(-1), out.reshape(-1)
    if band.dtype == np.uint8 and out.itemsize == 1 and src.size % 2 == 0:
        table, src, dst = _pair_table(table), src.view(np.uint16), dst.view(np.int16)
    for s in range(0, src.size, _LOOKUP_CHUNK):
        e = min(src.size, s + _LOOKUP_CHUNK)
        idx = buf[: e - s]
        idx[...] = src[s:e]
        # every index is below the table's size: "clip" never clips, and unlike "raise" it
        # writes into out without a buffer
        np.take(table, idx, out=dst[s:e], mode="clip")


_SHIFT_CHUNK = 1 << 15
"""Pixel pairs per chunk of :func:`_shifted_lookup` (a 128 KiB slice of the band, 256 KiB of
indices: with the 128 KiB pair table they stay in a 2 MiB L2 cache; measured 10-20 % faster on
16 x 2000^2 than ``_LOOKUP_CHUNK`` pairs)."""


def _shifted_lookup(
    bn: Binning,
    cob: np.ndarray,
    band: np.ndarray,
    out: np.ndarray,
    buf: np.ndarray,
    level_table: Callable[[], np.ndarray],
) -> bool:
    """Class map of a contiguous uint16 band whose bins are ``v >> s`` and fit in 8 bits.

    Chunk by chunk, shifts the values to 8-bit bins (one SIMD pass into a small buffer that stays
    in cache) and looks their classes up two at a time (the pair table of :func:`_lookup`),
    about twice as fast as one lookup per 16-bit level; the band is read once from memory and
    the map written once. Applies when the range starts at 0, the bin width is ``2**s`` and
    ``M <= 256``; returns False otherwise, having written nothing. When the range ends below
    65536, a chunk holding a value at or above ``hi`` (outside the range: class ``-1``) is found
    by its maximum, read while the chunk is in cache, and mapped through ``level_table()``, the
    class of every 16-bit level (:meth:`NPCResult.class_map`'s, asked for only when such a
    chunk occurs) instead: no separate pass over the band for the check.
    """
    if not (
        band.dtype == np.uint16
        and out.dtype == np.int8
        and band.flags.c_contiguous
        and out.flags.c_contiguous
        and bn.n_bins <= 256
        and bn.first == 0
    ):
        return False
    shift = bn.integer_shift(band.dtype)
    if shift is None:
        return False
    table = np.zeros(256, dtype=out.dtype)
    table[: cob.size] = cob
    checked = bn.last <= np.iinfo(np.uint16).max  # values at or above hi can occur
    by_level: list[np.ndarray] = []  # level_table(), asked for once, at the first need

    def classes_of(values: np.ndarray) -> np.ndarray:
        if not by_level:
            by_level.append(level_table())
        return by_level[0].take(values)

    src, dst = band.reshape(-1), out.reshape(-1)
    if _kernels.enabled():  # one compiled pass (numba); chunks outside the range as below
        hi = int(bn.last) if checked else None
        left = _kernels.shifted_classes(src, shift, table, hi, dst)
        if left is not None:  # None: numba did not import; the numpy lookups below run
            for s, e in left:
                dst[s:e] = classes_of(src[s:e])
            return True
    n_pairs = src.size // 2
    chunk = min(n_pairs, _SHIFT_CHUNK, buf.size)
    pairs, dst2 = _pair_table(table), dst[: 2 * n_pairs].view(np.int16)
    bins8 = np.empty(2 * chunk, dtype=np.uint8)
    for s in range(0, n_pairs, max(chunk, 1)):
        e = min(n_pairs, s + chunk)
        values = src[2 * s : 2 * e]
        if checked and values.max() >= bn.last:
            dst[2 * s : 2 * e] = classes_of(values)
            continue
        b8 = bins8[: 2 * (e - s)]
        np.right_shift(values, shift, out=b8, casting="unsafe")  # < M <= 256
        idx = buf[: e - s]
        idx[...] = b8.view(np.uint16)
        np.take(pairs, idx, out=dst2[s:e], mode="clip")  # indices < 65536: nothing clipped
    if src.size % 2:
        last = src[-1]
        dst[-1] = classes_of(last) if checked and last >= bn.last else table[last >> shift]
    return True


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
        it is a table lookup (``class_of_bin`` composed with each grey level's bin), two pixels
        at a time for a contiguous uint8 band, and for a contiguous uint16 band whose bins are
        ``v >> s`` from 0 (at most 256 bins) through its 8-bit bins.

        Args:
            image: The analysed image (same band count; same layout rules as :func:`npc`).
            band_axis: As in :func:`npc`.

        Returns:
            An array of the image's shape, int8 (int16 for more than 127 classes).
        """
        moved, _ = as_stack(image, band_axis)
        if moved.shape[2] != self.npc.size:
            raise InputError(f"image has {moved.shape[2]} bands but the result has {self.npc.size}")
        k = self.class_labels.size
        dtype = np.int8 if k <= 127 else np.int16
        img = np.asarray(image)
        out = np.empty(img.shape, dtype=dtype)
        axis = 2 if band_axis is None else band_axis
        out_moved = out[..., None] if img.ndim == 2 else np.moveaxis(out, axis, -1)
        lookup = moved.dtype in (np.uint8, np.uint16)
        levels: dict[int, np.ndarray] = {}  # level -> bin (M outside), shared by equal binnings
        buf = np.empty(_LOOKUP_CHUNK if lookup else 0, dtype=np.intp)  # one for every band

        def level_table(bn: Binning, cob: np.ndarray) -> np.ndarray:
            """The class of every level of the integer dtype, -1 outside the range."""
            if id(bn) not in levels:
                lvl = bn.indices(np.arange(1 << (8 * moved.dtype.itemsize), dtype=moved.dtype))
                lvl[lvl < 0] = bn.n_bins
                levels[id(bn)] = lvl
            return np.append(cob, np.array(-1, dtype=dtype)).take(levels[id(bn)])

        for b, bn in enumerate(self.binnings):
            cob = self.class_of_bin[b].astype(dtype)
            band, band_out = moved[..., b], out_moved[..., b]
            classes = functools.partial(level_table, bn, cob)
            if _shifted_lookup(bn, cob, band, band_out, buf, classes):
                continue
            if lookup:
                _lookup(classes(), band, band_out, buf)
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


def result_from_binned(binned: BinnedSamples) -> NPCResult:
    """The :class:`NPCResult` of binned samples (what :func:`analyze` returns, without its
    sparse-bins warning: callers that measure the bias floor themselves use this)."""
    value, cls = npc_and_class_of_bin(binned.counts)
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
        pairwise=pairwise_npc(binned.counts),
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
    binned = bin_image(image, classes, **npc_kwargs)
    warn_if_sparse(binned.counts, stacklevel=3)
    return result_from_binned(binned)
