"""Seeded synthetic data for ``potcontrast reproduce``: a multispectral manuscript, imaged from a
physical story.

The paper applies multi-class NPC to a multispectral medieval music manuscript (parchment, ink,
bleed-through from the back page) to compare bands and processed images. That data is not public,
so this module images a synthetic leaf. Each band is made from the same physical story (the
package README tells it, with every parameter's source or reason); no parameter was chosen to
make a claim of the reproduction hold.

* **Parchment** reflects ``R_p(λ)``, rising from the UV to the near infrared (:func:`parchment`),
  with a slowly varying texture and a low-frequency illumination field.
* **Ink** (iron-gall) absorbs with optical density ``D · a(λ)``: ``a`` is 1 in the UV and visible
  and weakens towards the infrared (:func:`ink_absorbance`); ``D`` varies from stroke to stroke.
  Light crosses the ink twice (in and out), so an inked pixel reflects
  ``R_p · 10^(−2 D a(λ))``.
* **Bleed-through** is the back page's ink seen through the parchment: a fraction ``τ(λ)`` of the
  light the front returns has reached the back surface (:func:`translucency`, rising with
  wavelength), and there it meets the back ink's absorption, blurred by the light's diffusion
  through the parchment and mirrored. A pixel over back ink reflects
  ``R_p · (1 − τ(λ) (1 − 10^(−2 D_b a(λ))))``, ``D_b`` the blurred back density.
* The camera blurs the reflectance (point spread function about a pixel wide), adds Gaussian noise
  whose standard deviation follows the silicon sensor's quantum efficiency
  (:func:`noise_sigma`), and quantises to 12 bits.

Ground truth: ink where the front has a stroke; bleed-through where the back has one and the
front does not; parchment elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sciml_core import SeedLike, root_seed, sample_generator

__all__ = [
    "PHYSICS",
    "Manuscript",
    "Physics",
    "ink_absorbance",
    "manuscript",
    "noise_sigma",
    "parchment",
    "translucency",
]

PARCHMENT, INK, BLEED = 0, 1, 2
CLASS_NAMES = ("parchment", "ink", "bleed-through")


@dataclass(frozen=True)
class Physics:
    """Every parameter of the imaging story (reflectances and densities are fractions of 1).

    The package README states the source or the reason of each value; none was tuned to make a
    claim of the reproduction hold.

    Attributes:
        wavelength_range: First and last band centre, nm: the UV (365 nm LED) to NIR (940 nm
            LED) span of the spec's capture set.
        parchment_uv: Parchment reflectance at 365 nm (strong UV absorption of aged collagen).
        parchment_nir: Parchment reflectance in the NIR plateau.
        parchment_rise_nm: e-folding length of the rise from UV to NIR.
        texture: Relative standard deviation of the parchment's slow texture (follicles, cockling).
        illumination: Amplitude of each of the two cosine terms of the uneven lighting.
        ink_density: Mean optical density ``D`` of a front or back stroke (one pass).
        ink_density_spread: ``D`` is uniform on ``ink_density · (1 ± spread)`` per stroke.
        ink_fade_nm: Wavelength where iron-gall ink has lost half its absorbance.
        ink_fade_width_nm: Width of that fade (logistic).
        translucency_max: Fraction ``τ`` of the returned light that has crossed the leaf, in the
            NIR limit.
        translucency_mid_nm: Wavelength where ``τ`` reaches half its maximum.
        translucency_width_nm: Width of the rise of ``τ`` (logistic).
        diffusion_px: Standard deviation (pixels) of the blur of the back ink by diffusion
            through the leaf.
        psf_px: Standard deviation (pixels) of the camera's point spread function.
        read_noise: Noise standard deviation (fraction of full scale) at quantum efficiency 1.
        qe_peak: Peak quantum efficiency of the silicon sensor.
        qe_peak_nm: Wavelength of the peak.
        qe_width_nm: Gaussian width of the quantum-efficiency curve.
        coverage: Fraction of the page covered by the front strokes, and by the back strokes.
    """

    wavelength_range: tuple[float, float] = (365.0, 940.0)
    parchment_uv: float = 0.25
    parchment_nir: float = 0.82
    parchment_rise_nm: float = 120.0
    texture: float = 0.03
    illumination: float = 0.04
    ink_density: float = 0.4
    ink_density_spread: float = 0.3
    ink_fade_nm: float = 800.0
    ink_fade_width_nm: float = 60.0
    translucency_max: float = 0.5
    translucency_mid_nm: float = 550.0
    translucency_width_nm: float = 50.0
    diffusion_px: float = 1.5
    psf_px: float = 0.7
    read_noise: float = 0.008
    qe_peak: float = 0.7
    qe_peak_nm: float = 600.0
    qe_width_nm: float = 300.0
    coverage: float = 0.08


PHYSICS = Physics()
"""The parameters the reproduction uses."""


def parchment(wavelengths: np.ndarray, ph: Physics = PHYSICS) -> np.ndarray:
    """Parchment reflectance ``R_p(λ) = R_nir − (R_nir − R_uv) exp(−(λ − 365) / L)``."""
    lam = np.asarray(wavelengths, dtype=np.float64)
    rise = np.exp(-(lam - ph.wavelength_range[0]) / ph.parchment_rise_nm)
    return ph.parchment_nir - (ph.parchment_nir - ph.parchment_uv) * rise


def ink_absorbance(wavelengths: np.ndarray, ph: Physics = PHYSICS) -> np.ndarray:
    """Relative absorbance ``a(λ)`` of iron-gall ink: 1 in the visible, fading in the NIR."""
    lam = np.asarray(wavelengths, dtype=np.float64)
    return 1.0 / (1.0 + np.exp((lam - ph.ink_fade_nm) / ph.ink_fade_width_nm))


def translucency(wavelengths: np.ndarray, ph: Physics = PHYSICS) -> np.ndarray:
    """Fraction ``τ(λ)`` of the returned light that has crossed the leaf to the back page."""
    lam = np.asarray(wavelengths, dtype=np.float64)
    z = (lam - ph.translucency_mid_nm) / ph.translucency_width_nm
    return ph.translucency_max / (1.0 + np.exp(-z))


def noise_sigma(wavelengths: np.ndarray, ph: Physics = PHYSICS) -> np.ndarray:
    """Noise standard deviation per band: ``read_noise / sqrt(QE(λ))`` (fraction of full scale)."""
    lam = np.asarray(wavelengths, dtype=np.float64)
    qe = ph.qe_peak * np.exp(-(((lam - ph.qe_peak_nm) / ph.qe_width_nm) ** 2))
    return ph.read_noise / np.sqrt(qe)


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


def _strokes(
    shape: tuple[int, int], coverage: float, rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[np.ndarray, float]]]:
    """Thick random segments covering ``coverage`` of the page: the mask and each stroke's
    ``(mask, weight)``, ``weight`` uniform on [0, 1) (drawn per stroke for its ink density)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    mask = np.zeros(shape, dtype=bool)
    strokes = []
    while mask.mean() < coverage:
        p0 = rng.uniform([0, 0], [h, w])
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.08, 0.3) * max(h, w)
        p1 = p0 + length * np.array([np.sin(angle), np.cos(angle)])
        half = rng.uniform(0.006, 0.012) * max(h, w)
        d = p1 - p0
        s = np.clip(((yy - p0[0]) * d[0] + (xx - p0[1]) * d[1]) / (d @ d), 0.0, 1.0)
        dist2 = (yy - p0[0] - s * d[0]) ** 2 + (xx - p0[1] - s * d[1]) ** 2
        one = dist2 <= half * half
        mask |= one
        strokes.append((one, float(rng.uniform())))
    return mask, strokes


def _density(
    shape: tuple[int, int], strokes: list[tuple[np.ndarray, float]], ph: Physics
) -> np.ndarray:
    """Optical density of the ink of every pixel (a later stroke covers an earlier one)."""
    dens = np.zeros(shape)
    for one, weight in strokes:
        dens[one] = ph.ink_density * (1.0 + ph.ink_density_spread * (2.0 * weight - 1.0))
    return dens


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (edges reflected), radius 3 sigma."""
    if sigma <= 0:
        return image
    r = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = image
    for axis in (0, 1):
        padded = np.pad(out, [(r, r) if a == axis else (0, 0) for a in (0, 1)], mode="reflect")
        acc = np.zeros_like(out, dtype=np.float64)
        n = out.shape[axis]
        for i, w in enumerate(taps):
            acc += w * (padded[i : i + n] if axis == 0 else padded[:, i : i + n])
        out = acc
    return out


def _smooth_field(shape: tuple[int, int], amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """``1 +`` two low-frequency cosines of the given amplitude (random frequency and phase)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    field = np.ones(shape)
    for _ in range(2):
        fy, fx = rng.uniform(0.3, 1.2, 2)
        phase = rng.uniform(0, 2 * np.pi)
        field += amplitude * np.cos(2 * np.pi * (fy * yy + fx * xx) + phase)
    return field


def manuscript(
    size: int = 256,
    bands: int = 12,
    *,
    per_class: int = 3000,
    seed: SeedLike = 0,
    physics: Physics = PHYSICS,
) -> Manuscript:
    """The synthetic manuscript: layout from sample 0 of ``seed``, band ``b`` from sample ``b + 1``.

    Args:
        size: Canvas side ``H = W``.
        bands: Number of bands ``B``, wavelengths evenly over ``physics.wavelength_range``.
        per_class: Labelled pixels per class (all of a class if it has fewer).
        seed: Seed; band ``b`` depends only on ``(seed, b + 1)``.
        physics: The imaging story's parameters.

    Returns:
        The :class:`Manuscript`.

    Examples:
        >>> m = manuscript(64, 3, per_class=50, seed=0)
        >>> m.stack.shape, m.stack.dtype, sorted(set(m.labels.ravel().tolist()))
        ((64, 64, 3), dtype('uint16'), [0, 1, 2, 3])
    """
    ph = physics
    base = root_seed(seed)
    rng = sample_generator(base, 0)
    shape = (size, size)
    front, front_strokes = _strokes(shape, ph.coverage, rng)
    back, back_strokes = _strokes(shape, ph.coverage, rng)
    back = back[:, ::-1]  # the back page seen from the front: mirrored left-right
    truth = np.full(shape, PARCHMENT, dtype=np.int8)
    truth[back] = BLEED
    truth[front] = INK
    labels = np.zeros(shape, dtype=np.int32)
    for c in (PARCHMENT, INK, BLEED):
        where = np.flatnonzero(truth.ravel() == c)
        pick = rng.choice(where, min(per_class, where.size), replace=False)
        labels.ravel()[pick] = c + 1
    d_front = _density(shape, front_strokes, ph)
    d_back = _blur(_density(shape, back_strokes, ph)[:, ::-1], ph.diffusion_px)
    texture = _smooth_field(shape, ph.texture, rng)  # the leaf's, the same in every band
    wavelengths = np.linspace(*ph.wavelength_range, bands)
    r_p, a, tau = (
        parchment(wavelengths, ph),
        ink_absorbance(wavelengths, ph),
        translucency(wavelengths, ph),
    )
    sigma = noise_sigma(wavelengths, ph)
    stack = np.empty((*shape, bands), dtype=np.uint16)
    for b in range(bands):
        g = sample_generator(base, b + 1)
        front_t = 10.0 ** (-2.0 * a[b] * d_front)
        back_t = 1.0 - tau[b] * (1.0 - 10.0 ** (-2.0 * a[b] * d_back))
        reflect = r_p[b] * texture * _smooth_field(shape, ph.illumination, g) * front_t * back_t
        value = _blur(reflect, ph.psf_px) + g.normal(0.0, sigma[b], shape)
        stack[..., b] = np.clip(np.round(value * 4095.0), 0, 4095).astype(np.uint16)
    return Manuscript(stack, truth, labels, wavelengths)
