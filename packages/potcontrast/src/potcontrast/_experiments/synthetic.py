"""Seeded synthetic data for ``potcontrast reproduce``: a multispectral manuscript.

The paper applies multi-class NPC to a multispectral medieval music manuscript (parchment, ink,
bleed-through from the back page) to compare bands and processed images. That data is not public,
so this module builds an analogue whose answer is known by construction (spec §5.3):

* front-ink strokes (thick random segments, about 8 % of the pixels) and back-page strokes (an
  independent set, mirrored left-right, about 8 %; front ink wins where they cross);
* ``B`` bands at wavelengths spread evenly over 365–940 nm, class means on smooth spectral curves:
  parchment rises from 0.45 (UV) to 0.85 (NIR); the ink stays dark (0.35 below the parchment)
  through the visible and fades towards the parchment in the NIR; bleed-through is a weaker copy
  of the ink, as dark as the ink in the blue and nearly invisible in the red;
* per band a low-frequency multiplicative illumination field and Gaussian noise (σ = 0.04), then
  quantisation to 12-bit ``uint16``.

So the two-class contrast ink/parchment is high in every visible band, including the blue ones
where bleed-through looks exactly like ink, while the three classes are best told apart where the
bleed-through is half-way between ink and parchment (around 575 nm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sciml_core import SeedLike, root_seed, sample_generator

__all__ = ["Manuscript", "class_means", "manuscript"]

PARCHMENT, INK, BLEED = 0, 1, 2
CLASS_NAMES = ("parchment", "ink", "bleed-through")


@dataclass(frozen=True, eq=False)
class Manuscript:
    """A synthetic manuscript.

    Attributes:
        stack: ``(H, W, B)`` uint16 12-bit image.
        truth: ``(H, W)`` class of every pixel (0 parchment, 1 ink, 2 bleed-through).
        labels: ``(H, W)`` user-like labels: ``1 + class`` at a random sample of pixels per
            class, 0 elsewhere.
        wavelengths: ``(B,)`` nm.
    """

    stack: np.ndarray
    truth: np.ndarray
    labels: np.ndarray
    wavelengths: np.ndarray


def class_means(wavelengths: np.ndarray) -> np.ndarray:
    """Mean reflectance ``(B, 3)`` of parchment, ink and bleed-through at each wavelength."""
    t = (np.asarray(wavelengths, dtype=np.float64) - 365.0) / (940.0 - 365.0)
    parchment = 0.45 + 0.40 * t
    lam = np.asarray(wavelengths, dtype=np.float64)
    depth = 0.02 + 0.33 / (1.0 + np.exp((lam - 770.0) / 35.0))  # ink below parchment; NIR fade
    weight = 1.0 / (
        1.0 + np.exp((lam - 575.0) / 22.0)
    )  # bleed-through: ink-dark in blue, gone in red
    ink = parchment - depth
    bleed = parchment - depth * weight
    return np.stack([parchment, ink, bleed], axis=1)


def _strokes(shape: tuple[int, int], coverage: float, rng: np.random.Generator) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    mask = np.zeros(shape, dtype=bool)
    while mask.mean() < coverage:
        p0 = rng.uniform([0, 0], [h, w])
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.08, 0.3) * max(h, w)
        p1 = p0 + length * np.array([np.sin(angle), np.cos(angle)])
        half = rng.uniform(0.006, 0.012) * max(h, w)
        d = p1 - p0
        s = np.clip(((yy - p0[0]) * d[0] + (xx - p0[1]) * d[1]) / (d @ d), 0.0, 1.0)
        dist2 = (yy - p0[0] - s * d[0]) ** 2 + (xx - p0[1] - s * d[1]) ** 2
        mask |= dist2 <= half * half
    return mask


def _illumination(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    field = np.ones(shape)
    for _ in range(2):
        fy, fx = rng.uniform(0.3, 1.2, 2)
        phase = rng.uniform(0, 2 * np.pi)
        field += 0.04 * np.cos(2 * np.pi * (fy * yy + fx * xx) + phase)
    return field


def manuscript(
    size: int = 256, bands: int = 12, *, per_class: int = 3000, seed: SeedLike = 0
) -> Manuscript:
    """The synthetic manuscript: layout from sample 0 of ``seed``, band ``b`` from sample ``b + 1``.

    Args:
        size: Canvas side ``H = W``.
        bands: Number of bands ``B``, wavelengths evenly over 365–940 nm.
        per_class: Labelled pixels per class (all of a class if it has fewer).
        seed: Seed; band ``b`` depends only on ``(seed, b + 1)``.

    Returns:
        The :class:`Manuscript`.

    Examples:
        >>> m = manuscript(64, 3, per_class=50, seed=0)
        >>> m.stack.shape, m.stack.dtype, sorted(set(m.labels.ravel().tolist()))
        ((64, 64, 3), dtype('uint16'), [0, 1, 2, 3])
    """
    base = root_seed(seed)
    rng = sample_generator(base, 0)
    shape = (size, size)
    front = _strokes(shape, 0.08, rng)
    back = _strokes(shape, 0.08, rng)[:, ::-1]
    truth = np.full(shape, PARCHMENT, dtype=np.int8)
    truth[back] = BLEED
    truth[front] = INK
    labels = np.zeros(shape, dtype=np.int32)
    for c in (PARCHMENT, INK, BLEED):
        where = np.flatnonzero(truth.ravel() == c)
        pick = rng.choice(where, min(per_class, where.size), replace=False)
        labels.ravel()[pick] = c + 1
    wavelengths = np.linspace(365.0, 940.0, bands)
    means = class_means(wavelengths)
    stack = np.empty((*shape, bands), dtype=np.uint16)
    for b in range(bands):
        g = sample_generator(base, b + 1)
        value = means[b][truth] * _illumination(shape, g) + g.normal(0.0, 0.04, shape)
        stack[..., b] = np.clip(np.round(value * 4095.0), 0, 4095).astype(np.uint16)
    return Manuscript(stack, truth, labels, wavelengths)
