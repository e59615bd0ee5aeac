"""Spec §5.1, the equalities (exact): NPC from the histogram formula equals every other form of it.

On seeded random cases (K = 2..5, M in {8, 64, 256}, n_k in {20, 2000}, uint8/uint16/float64):
the re-derived reference script, ``npc_from_histograms``, the chance-corrected balanced accuracy
``(K·BA* − 1)/(K − 1)`` of an explicit arg-max classifier, and for K = 2 the total variation
``½‖p − q‖₁`` and PC_Original's binarise-then-mean algorithm divided by ``hi − lo``.
"""

from __future__ import annotations

import numpy as np

from sciml_core import sample_generator
from sciml_core.cli import progress

from .._formula import npc_from_histograms
from .._npc import npc_from_samples
from .._reference import reference_npc, reference_pc_original
from .context import Context
from .tables import tidy

__all__ = ["FORMS", "run"]

FORMS: dict[str, str] = {
    "reference": "reference script",
    "histograms": "npc_from_histograms",
    "balanced_accuracy": "(K BA* - 1)/(K - 1)",
    "total_variation": "1/2 ||p - q||_1 (K = 2)",
    "pc_original": "PC_Original / (hi - lo) (K = 2)",
}
"""Stable id -> table label of every form compared with the histogram formula."""


def _row_image(samples: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One-row image holding every class's samples, and the K masks that pick them out."""
    img = np.concatenate(samples)[None, :]
    owner = np.repeat(np.arange(len(samples)), [s.size for s in samples])
    return img, [(owner == i)[None, :] for i in range(len(samples))]


def run(ctx: Context) -> None:
    """Add the ``equalities`` table (worst difference per form) and its claim."""
    n_cases = ctx.config.equality_cases
    worst = dict.fromkeys(FORMS, 0.0)
    for i in progress(range(n_cases), desc="equalities", leave=False):
        rng = sample_generator(ctx.seed, ctx.config.equality_seed_index + i)
        k = int(rng.integers(2, 6))
        m = int(rng.choice([8, 64, 256]))
        kind = ["u8", "u16", "f64"][i % 3]
        sizes = rng.choice([20, 2000], k)
        if kind == "f64":
            lo, hi = 0.0, 1.0
            samples = [np.clip(rng.normal(rng.uniform(0.2, 0.8), 0.15, n), lo, hi) for n in sizes]
        else:
            hi = 256.0 if kind == "u8" else 65536.0
            lo = 0.0
            dtype = np.uint8 if kind == "u8" else np.uint16
            samples = [
                np.clip(rng.normal(rng.uniform(0.2, 0.8), 0.15, n) * hi, 0, hi - 1).astype(dtype)
                for n in sizes
            ]
        value = float(npc_from_samples(samples, bins=m, range=(lo, hi)))
        img, masks = _row_image(samples)
        ref = reference_npc(img, masks, m, (lo, hi))
        counts = np.stack(ref.counts)
        p = counts / counts.sum(axis=1, keepdims=True)
        best = p.argmax(axis=0)
        idx = np.clip(((np.concatenate(samples) - lo) / (hi - lo) * m).astype(int), 0, m - 1)
        owner = np.repeat(np.arange(k), sizes)
        ba = np.mean([np.mean(best[idx[owner == j]] == j) for j in range(k)])
        worst["reference"] = max(worst["reference"], abs(value - float(ref.npc)))
        worst["histograms"] = max(
            worst["histograms"], abs(value - float(npc_from_histograms(counts)))
        )
        worst["balanced_accuracy"] = max(
            worst["balanced_accuracy"], abs(value - (k * ba - 1) / (k - 1))
        )
        if k == 2:
            tv = 0.5 * np.abs(p[0] - p[1]).sum()
            worst["total_variation"] = max(worst["total_variation"], abs(value - tv))
            npc_orig = reference_pc_original(img, masks, m, (lo, hi))[0]
            worst["pc_original"] = max(worst["pc_original"], abs(value - float(npc_orig)))
    ctx.result.add_table(
        "equalities",
        f"Max |NPC - other form| over {n_cases} seeded cases (K = 2..5, M in {{8, 64, 256}}, "
        "n_k in {20, 2000}, uint8/uint16/float64)",
        ["form", "max_abs_difference"],
        tidy([[label, worst[form]] for form, label in FORMS.items()]),
    )
    overall = max(worst.values())
    ctx.result.add_claim(
        "NPC equals the TV distance (K = 2), PC_Original / (hi - lo), the chance-corrected "
        "balanced accuracy of the bin-wise Bayes classifier, and the reference script",
        "all differences <= 1e-12",
        f"max difference {overall:.1e} over {n_cases} cases",
        bool(overall <= 1e-12),
    )
