"""Seeded synthetic multi-site, multi-sequence brains (the spec's section 7.1 generator).

Subject ``i`` of a stream (``pretrain``, ``segmentation``, ``classification``) is drawn from
``SeedSequence(seed, spawn_key=(stream, i))``, so the first subjects are the same however many are
asked for. Anatomy on an ``S³`` grid (radii scale with ``S / 32``): a brain ellipsoid of radii
``(13, 11, 12)·U(0.92, 1.05)`` with centre jitter ``N(0, 0.8²)``; grey matter is the brain minus
the ellipsoid shrunk by 2.2 voxels; two ventricles of radii ``(3, 2, 1.6)·v`` at ±3.5 voxels
(``v ~ N(1, 0.12)``, disease ``N(v_d, 0.12)``); white matter the rest. 0–3 lesions (ellipsoids of
radii ``U(1.5, 3.5)`` cut to white matter) and 0–3 **look-alikes** (spots of radius
``U(1.0, 1.6)`` in grey matter: lesion-bright on FLAIR, 0.8 on T2, grey on T1; labelled grey
matter when pretraining and background in the lesion task). Tissue intensities (CSF, grey, white,
lesion): T1 (0.20, 0.60, 0.90, 0.55), FLAIR (0.08, 0.60, 0.45, ℓ), T2 (0.95, 0.55, 0.40, 0.80),
PET (0.10, 0.85, 0.45, 0.45; blurred σ 1.2; ``1 − δ`` in a fixed ellipsoid for disease).

**Site model** ``(σ_blur per axis, β, γ, σ_n)``: ``x ← x^γ · exp(β f)`` in the brain (``f``
smoothed white noise, σ 6, unit std), Gaussian blur, ``a x + (b + N(0, σ_n²))·brain`` with
``a ~ U(0.75, 1.25)``, ``b ~ U(−0.1, 0.1)``, then a z-score over the brain's voxels (background
0). **Corruption** (probability ``corrupt`` per subject): one of T1 or FLAIR, at random, is
blurred (σ 1.5) and gets ``N(0, 0.8²)`` noise before normalisation (``corruption`` id 0 for T1,
1 for FLAIR, -1 for none): the useful modality then differs per patient.

**Corruption knobs** (``corrupt_kind``, ``corrupt_noise``, ``corrupt_blur``; defaults the spec's
``"white"``, 0.8, 1.5). Measured on the TinyUNet pre-trained here (README, "Per-patient
headroom"): T1 carries almost no lesion the frozen encoder can find (a T1 lesion, 0.55, looks like
grey matter, 0.60; lesion Dice 0.03 on clean T1), so the lesion lives on FLAIR alone, and the
spec's white noise on a corrupted FLAIR only removes signal: every fusion, static or per-patient,
then outputs little there, and a static fusion loses almost nothing to one that knows the patient.
``"correlated"`` smooths the noise with the corruption's blur: lesion-sized bright and dark blobs
that lesion-scale averaging (what the encoder does to white noise) does not remove. A corrupted
FLAIR then shows false lesions, so the best FLAIR weight differs by patient (trust it when T1 is
the corrupted one, distrust it when FLAIR is): one static fusion must compromise, and knowing the
patient's condition pays.
"""

from __future__ import annotations

import typing
from typing import Any, Literal

import numpy as np
from scipy.ndimage import gaussian_filter

from sciml_core import InputError

__all__ = [
    "CORRUPT_KINDS",
    "PRESETS",
    "PRETRAIN_SITES",
    "TARGET_SITES",
    "CorruptKind",
    "Preset",
    "synthetic_brains",
]

Preset = Literal["pretrain", "segmentation", "classification"]
PRESETS: tuple[Preset, ...] = typing.get_args(Preset)
CorruptKind = Literal["white", "correlated"]
CORRUPT_KINDS: tuple[CorruptKind, ...] = typing.get_args(CorruptKind)
_STREAM = {"pretrain": 0, "segmentation": 1, "classification": 2}

# (blur σ per axis, bias β, gamma γ, noise σ_n)
PRETRAIN_SITES: tuple[tuple[tuple[float, float, float], float, float, float], ...] = (
    ((0.0, 0.0, 0.0), 0.05, 1.0, 0.04),
    ((0.5, 0.5, 0.5), 0.10, 0.9, 0.05),
    ((0.0, 0.0, 0.0), 0.15, 1.15, 0.06),
    ((0.7, 0.2, 0.2), 0.05, 1.0, 0.05),
    ((0.3, 0.3, 0.3), 0.20, 0.85, 0.04),
    ((0.0, 0.0, 0.0), 0.10, 1.25, 0.07),
)
TARGET_SITES: tuple[tuple[tuple[float, float, float], float, float, float], ...] = (
    ((1.3, 0.3, 0.3), 0.10, 0.7, 0.06),
    ((0.0, 0.0, 0.0), 0.35, 1.45, 0.09),
)
_INTENSITY = {  # CSF, grey, white, lesion
    "T1": (0.20, 0.60, 0.90, 0.55),
    "FLAIR": (0.08, 0.60, 0.45, None),
    "T2": (0.95, 0.55, 0.40, 0.80),
    "PET": (0.10, 0.85, 0.45, 0.45),
}
_LOOKALIKE = {"T1": 0.60, "FLAIR": None, "T2": 0.80, "PET": 0.85}
_DEFAULT_MODALITIES = {
    "pretrain": ("T1", "FLAIR", "T2"),
    "segmentation": ("T1", "FLAIR"),
    "classification": ("T1", "PET"),
}


def _ellipsoid(grid: np.ndarray, centre: np.ndarray, radii: np.ndarray) -> np.ndarray:
    return (((grid - centre[:, None, None, None]) / radii[:, None, None, None]) ** 2).sum(0) <= 1.0


def _corrupt(
    x: np.ndarray,
    brain: np.ndarray,
    rng: np.random.Generator,
    kind: str,
    noise: float,
    blur: float,
) -> np.ndarray:
    """The per-subject corruption of one sequence, before normalisation.

    ``"white"`` (the spec's): blur ``σ = blur``, then white noise of std ``noise`` in the brain.
    ``"correlated"``: blur ``σ = blur`` and add noise smoothed by the same blur (a noisy
    acquisition low-pass filtered with the image), rescaled to std ``noise`` over the whole
    grid (then kept inside the brain, like the white noise): blobs of the
    blur's size, i.e. of a lesion's size, bright and dark, that a frozen encoder's channels
    cannot tell from lesions.
    """
    blurred = gaussian_filter(x, blur) if blur > 0 else x
    field = rng.normal(0, 1.0, x.shape)
    if kind == "correlated" and blur > 0:
        field = gaussian_filter(field, blur)
        field /= field.std() + 1e-12
    return blurred + noise * field * brain


def _subject(
    rng: np.random.Generator,
    *,
    preset: str,
    size: int,
    modalities: tuple[str, ...],
    sites: tuple[Any, ...],
    corrupt: float,
    corrupt_kind: str,
    corrupt_noise: float,
    corrupt_blur: float,
    lesion_flair: float,
    disease: bool,
) -> dict[str, Any]:
    sc = size / 32.0
    grid = np.stack(np.meshgrid(*(np.arange(size, dtype=float),) * 3, indexing="ij"))
    centre = np.full(3, (size - 1) / 2) + rng.normal(0, 0.8, 3) * sc
    radii = np.array([13.0, 11.0, 12.0]) * rng.uniform(0.92, 1.05) * sc
    brain = _ellipsoid(grid, centre, radii)
    inner = _ellipsoid(grid, centre, np.maximum(radii - 2.2 * sc, 0.5))
    grey = brain & ~inner
    v = rng.normal(1.45 if disease else 1.0, 0.12)
    vr = np.array([3.0, 2.0, 1.6]) * max(v, 0.3) * sc
    vent = np.zeros_like(brain)
    for side in (-1.0, 1.0):
        vent |= _ellipsoid(grid, centre + np.array([0.0, 0.0, side * 3.5 * sc]), vr)
    vent &= inner
    white = inner & ~vent
    lesion = np.zeros_like(brain)
    for _ in range(int(rng.integers(0, 4))):
        wm = np.argwhere(white)
        c = wm[rng.integers(len(wm))].astype(float)
        lesion |= _ellipsoid(grid, c, rng.uniform(1.5, 3.5, 3) * sc) & white
    looks = np.zeros_like(brain)
    for _ in range(int(rng.integers(0, 4))):
        gm = np.argwhere(grey)
        c = gm[rng.integers(len(gm))].astype(float)
        looks |= _ellipsoid(grid, c, np.full(3, rng.uniform(1.0, 1.6) * sc)) & grey
    site_id = int(rng.integers(len(sites)))
    blur, beta, gamma, sigma_n = sites[site_id]
    which = -1
    if rng.uniform() < corrupt:
        which = int(rng.integers(2))  # 0: T1, 1: FLAIR
    pet_region = _ellipsoid(
        grid,
        np.full(3, (size - 1) / 2) + np.array([0, 3.0, 0]) * sc,
        np.array([5.0, 4.0, 5.0]) * sc,
    )
    volumes = {}
    for name in modalities:
        csf, g_i, w_i, l_i = _INTENSITY[name]
        l_i = lesion_flair if l_i is None else l_i
        look = _LOOKALIKE[name]
        look = lesion_flair if look is None else look
        x = np.zeros((size,) * 3)
        x[grey] = g_i
        x[white] = w_i
        x[vent] = csf
        x[looks] = look
        x[lesion] = l_i
        if name == "PET":
            if disease:
                x[pet_region & brain] *= 1.0 - 0.30
            x = gaussian_filter(x, 1.2) * brain
        f = gaussian_filter(rng.normal(size=x.shape), 6.0)
        f /= f.std() + 1e-12
        x = np.where(brain, np.clip(x, 0, None) ** gamma * np.exp(beta * f), 0.0)
        if any(blur):
            x = gaussian_filter(x, blur)
        a, b = rng.uniform(0.75, 1.25), rng.uniform(-0.1, 0.1)
        x = a * x + (b + rng.normal(0, sigma_n, x.shape)) * brain
        if (which == 0 and name == "T1") or (which == 1 and name == "FLAIR"):
            x = _corrupt(x, brain, rng, corrupt_kind, corrupt_noise, corrupt_blur)
        vals = x[brain]
        x = np.where(brain, (x - vals.mean()) / (vals.std() + 1e-8), 0.0)
        volumes[name] = x.astype(np.float32)
    if preset == "pretrain":
        labels = np.zeros((size,) * 3, np.int64)
        labels[grey | looks] = 1
        labels[white] = 2
        labels[vent] = 3
        labels[lesion] = 4
    else:
        labels = lesion.astype(np.int64)
    return {
        "volumes": volumes,
        "labels": labels,
        "site": site_id,
        "corruption": which,
        "lesion_in_white": float((lesion & white).sum()) / lesion.sum() if lesion.any() else np.nan,
        "lookalike_in_grey": float((looks & grey).sum()) / looks.sum() if looks.any() else np.nan,
    }


def synthetic_brains(
    n: int,
    *,
    preset: Preset = "segmentation",
    size: int = 32,
    sites: Literal["pretrain", "target"] | None = None,
    corrupt: float | None = None,
    corrupt_kind: CorruptKind = "white",
    corrupt_noise: float = 0.8,
    corrupt_blur: float = 1.5,
    modalities: tuple[str, ...] | None = None,
    seed: int = 0,
    start: int = 0,
) -> dict[str, Any]:
    """``n`` synthetic subjects ``start, …, start + n − 1`` of a preset's stream.

    Args:
        n: Number of subjects (>= 1).
        preset: ``"pretrain"`` (T1, FLAIR, T2; 5 classes; pretraining sites), ``"segmentation"``
            (T1, FLAIR; lesion vs background; unseen target sites; corruption 1.0; lesion FLAIR
            0.75) or ``"classification"`` (T1, PET; disease and control alternate).
        size: Grid edge ``S``.
        sites: ``"pretrain"`` or ``"target"`` (default: the preset's).
        corrupt: Probability of the per-subject corruption (default: 1.0 for segmentation).
        corrupt_kind: ``"white"`` (the spec's: blur, then white noise) or ``"correlated"``
            (noise smoothed by the blur: lesion-sized bright and dark blobs).
        corrupt_noise: Std of the corruption's noise, in the units of the tissue intensities
            before normalisation (the spec's 0.8; ``"correlated"``: std after smoothing).
        corrupt_blur: σ in voxels of the corruption's Gaussian blur (the spec's 1.5).
        modalities: Sequences to make (default: the preset's).
        seed: Root seed.
        start: Index of the first subject.

    Returns:
        ``{"volumes": {m: (n, 1, S, S, S) float32}, "labels": (n, S, S, S) int64,
        "patient_labels": (n,), "site": (n,), "corruption": (n,), "modalities": [...],
        "lesion_in_white": (n,), "lookalike_in_grey": (n,)}`` (the last two NaN for a subject
        without lesions or look-alikes).

    Examples:
        >>> d = synthetic_brains(2, size=16, seed=0)
        >>> d["volumes"]["FLAIR"].shape, d["labels"].shape, d["corruption"].tolist()
        ((2, 1, 16, 16, 16), (2, 16, 16, 16), [0, 0])
    """
    if preset not in PRESETS:
        raise InputError(f"preset: expected one of {PRESETS}; got {preset!r}")
    if n < 1:
        raise InputError(f"n: expected >= 1; got {n}")
    if size < 8:
        raise InputError(f"size: expected >= 8; got {size}")
    mods = _DEFAULT_MODALITIES[preset] if modalities is None else tuple(modalities)
    unknown = [m for m in mods if m not in _INTENSITY]
    if unknown or len(set(mods)) != len(mods):
        raise InputError(
            f"modalities: expected distinct names from {tuple(_INTENSITY)}; got {mods}"
        )
    if corrupt_kind not in CORRUPT_KINDS:
        raise InputError(f"corrupt_kind: expected one of {CORRUPT_KINDS}; got {corrupt_kind!r}")
    for name, value in (("corrupt_noise", corrupt_noise), ("corrupt_blur", corrupt_blur)):
        if not (np.isfinite(value) and value >= 0):
            raise InputError(f"{name}: expected a finite number >= 0; got {value}")
    site_kind = sites or ("pretrain" if preset == "pretrain" else "target")
    site_table = PRETRAIN_SITES if site_kind == "pretrain" else TARGET_SITES
    p_corrupt = (1.0 if preset == "segmentation" else 0.0) if corrupt is None else float(corrupt)
    flair = 1.0 if preset == "pretrain" else 0.75
    subjects = []
    for i in range(start, start + n):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM[preset], i)))
        disease = preset == "classification" and i % 2 == 1
        subjects.append(
            _subject(
                rng,
                preset=preset,
                size=size,
                modalities=mods,
                sites=site_table,
                corrupt=p_corrupt,
                corrupt_kind=corrupt_kind,
                corrupt_noise=corrupt_noise,
                corrupt_blur=corrupt_blur,
                lesion_flair=flair,
                disease=disease,
            )
        )
    return {
        "volumes": {m: np.stack([s["volumes"][m] for s in subjects])[:, None] for m in mods},
        "labels": np.stack([s["labels"] for s in subjects]),
        "patient_labels": np.array(
            [i % 2 if preset == "classification" else 0 for i in range(start, start + n)]
        ),
        "site": np.array([s["site"] for s in subjects]),
        "corruption": np.array([s["corruption"] for s in subjects]),
        "modalities": list(mods),
        "lesion_in_white": np.array([s["lesion_in_white"] for s in subjects]),
        "lookalike_in_grey": np.array([s["lookalike_in_grey"] for s in subjects]),
    }
