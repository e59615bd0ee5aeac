"""The workloads that ``bench`` and the reproduction's speed study time (spec §6).

The peer is :mod:`potcontrast._reference`, the reference scripts' computation re-derived without
file I/O: per band, ``K`` boolean-mask gathers of the whole band, one ``np.histogram`` per class,
a Python loop over bins, and (``+map``) the whole-band ``np.digitize`` class map. It gets each
band as a contiguous 2-D array (as Pillow would hand it over) and the masks as bool arrays; file
I/O and the reference's PNG rescale are left out of its time. Ours gets the ``(B, H, W)`` stack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._npc import analyze
from .._reference import reference_class_map, reference_npc

__all__ = ["BenchCase", "make_stack", "ours_end_to_end", "reference_workflow"]


@dataclass(frozen=True)
class BenchCase:
    """One benchmark input: a ``bands`` x ``size`` x ``size`` stack of ``bits``-bit integers
    (uint8 for 8 bits, else uint16), ``k`` classes of ``per_class`` labelled pixels, ``bins``
    equal bins on the format's range ``(0, 2**bits)``."""

    size: int
    bands: int
    k: int
    bins: int = 256
    per_class: int = 3000
    group: str = ""
    bits: int = 12

    @property
    def label(self) -> str:
        """``B x size^2 bits-bit K=k M=bins``, the row label of the case."""
        return f"{self.bands}x{self.size}^2 {self.bits}-bit K={self.k} M={self.bins}"

    @property
    def value_range(self) -> tuple[int, int]:
        """The format's range ``(0, 2**bits)``, as the reference is told it."""
        return (0, 1 << self.bits)


def make_stack(case: BenchCase, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A ``(B, H, W)`` stack and ``(K, H, W)`` disjoint masks of ``per_class`` pixels.

    Background values are uniform on the lower half of the format's range; labelled pixels of
    class ``k`` are brightened by ``k`` tenths of the range (400 levels at 12 bits) so that NPC is
    neither 0 nor 1.
    """
    rng = np.random.default_rng(seed)
    n = case.size * case.size
    dtype = np.uint8 if case.bits <= 8 else np.uint16
    top = 1 << case.bits
    img = rng.integers(0, top // 2, (case.bands, case.size, case.size), dtype=dtype)
    chosen = rng.choice(n, case.k * case.per_class, replace=False).reshape(case.k, -1)
    masks = np.zeros((case.k, n), dtype=bool)
    flat = img.reshape(case.bands, n)
    step = top * 400 // 4096
    for k in range(case.k):
        masks[k, chosen[k]] = True
        flat[:, chosen[k]] += dtype(step * k)
    return img, masks.reshape(case.k, case.size, case.size)


def reference_workflow(
    img: np.ndarray,
    masks: list[np.ndarray],
    bins: int,
    with_map: bool,
    value_range: tuple[int, int] = (0, 4096),
) -> list[float]:
    """The peer: the authors' per-band loop (re-derived) on a ``(B, H, W)`` stack.

    Per band: the per-class histograms by boolean-mask gathers, and with ``with_map`` the
    whole-band ``np.digitize`` class map. Returns NPC per band.
    """
    values = []
    for b in range(img.shape[0]):
        band = img[b]
        out = reference_npc(band, masks, bins, value_range)
        if with_map:
            reference_class_map(band, out)
        values.append(out.npc)
    return values


def ours_end_to_end(
    img: np.ndarray, masks: np.ndarray, bins: int, value_range: tuple[int, int] = (0, 4096)
) -> np.ndarray:
    """Ours on the same job: NPC and class map of every band of a ``(B, H, W)`` stack at once."""
    res = analyze(img, masks, bins=bins, range=value_range, band_axis=0)
    res.class_map(img, band_axis=0)
    return res.npc
