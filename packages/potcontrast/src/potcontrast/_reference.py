"""The authors' per-band workflow, re-derived from its description: the test oracle and bench peer.

The reference (``wallacepeaslee/Multiple-Class-Normalized-Potential-Contrast`` at ``b7f6c34``) is
two module-level scripts working on one 2-D image. Written here from the algorithm they describe,
with no file I/O, and kept faithful (same numpy calls, same Python loops, same quirks), because
the benchmark's speedups are only honest against the real workflow:

* ``Multiple_Source_NPC.py``: per class, a boolean-mask gather of the whole image and one
  ``np.histogram(values, bins, range)``; counts divided by their sum; a Python loop over bins sums
  the per-bin maximum over classes; ``PC = NPC · (hi − lo)``; ``range=None`` means the (min, max)
  of the whole image. The visualisation assigns each bin its arg-max class with Python's ``max``
  (ties to the lowest index), ``np.digitize``-s the **whole image** against the edges with the last
  edge raised by 1, and looks the classes up (values below ``lo`` get index −1 and wrap to the last
  bin's class; values at ``hi + 1`` or above raise ``IndexError``).
* ``PC_Original.py`` (two classes): the binarised image ``T(v) = class_of_bin(v) · (hi − lo) + lo``
  over the whole image, then the difference of the class means of ``T``; ``NPC = PC / (hi − lo)``.

Not part of the public API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ReferenceOutput", "reference_class_map", "reference_npc", "reference_pc_original"]


@dataclass
class ReferenceOutput:
    """What the reference script leaves in its variables for one band."""

    npc: float
    pc: float
    data_range: tuple[Any, Any]
    counts: list[np.ndarray]
    distributions: list[np.ndarray]
    edges: np.ndarray


def reference_npc(
    image: np.ndarray, masks: list[np.ndarray], num_bins: int, data_range: Any = None
) -> ReferenceOutput:
    """``Multiple_Source_NPC.py``'s computation on one 2-D band (in memory).

    Args:
        image: ``(H, W)`` band.
        masks: ``K`` bool masks ``(H, W)``.
        num_bins: ``M``.
        data_range: ``(lo, hi)`` or None (whole-image min/max, as numpy scalars).

    Returns:
        The script's ``NPC``, ``PC``, ``dataRange``, counts, distributions and edges.
    """
    n_classes = len(masks)
    assert n_classes > 1, "Please supply more than 1 mask."
    if data_range is None:
        data_range = (np.min(image), np.max(image))
    hists = [np.histogram(image[m], bins=num_bins, range=data_range, density=False) for m in masks]
    dists = [h[0].astype("float") / np.sum(h[0]) for h in hists]
    total = sum([max([d[b] for d in dists]) for b in range(num_bins)])
    value = (total - 1) / (n_classes - 1)
    return ReferenceOutput(
        npc=value,
        pc=value * (data_range[1] - data_range[0]),
        data_range=data_range,
        counts=[h[0] for h in hists],
        distributions=dists,
        edges=hists[0][1],
    )


def reference_bin_class(distributions: list[np.ndarray]) -> np.ndarray:
    """Arg-max class of every bin with Python's ``max`` (first maximum wins), as floats."""
    n_classes, num_bins = len(distributions), distributions[0].size
    bin_class = np.zeros(num_bins) - 1
    for b in range(num_bins):
        bin_class[b] = max(range(n_classes), key=lambda k: distributions[k][b])
    return bin_class


def reference_class_map(image: np.ndarray, out: ReferenceOutput) -> np.ndarray:
    """The script's whole-image class map (float class indices), before its PNG rescale."""
    bin_class = reference_bin_class(out.distributions)
    edges = out.edges.copy()
    edges[-1] += 1
    mapped_bins = np.digitize(image, edges, right=False) - 1
    return bin_class[mapped_bins]


def reference_pc_original(
    image: np.ndarray, masks: list[np.ndarray], num_bins: int, data_range: Any = None
) -> tuple[float, float, np.ndarray]:
    """``PC_Original.py``: binarise the image by the arg-max class, then difference of class means.

    Args:
        image: ``(H, W)`` band.
        masks: Two bool masks, foreground then background.
        num_bins: ``M``.
        data_range: ``(lo, hi)`` or None.

    Returns:
        ``(npc, pc, bin_class)``.
    """
    assert len(masks) == 2, "This is for PC, and should have exactly two masks."
    out = reference_npc(image, masks, num_bins, data_range)
    lo, hi = out.data_range
    binarised = reference_class_map(image, out) * (hi - lo) + lo
    value_pc = np.mean(binarised[masks[1]]) - np.mean(binarised[masks[0]])
    return value_pc / (hi - lo), value_pc, reference_bin_class(out.distributions)
