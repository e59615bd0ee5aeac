"""Spec §5.2, format independence (exact): one scene as 8-bit, 12-bit and float, 256 bins.

Band 1 of the synthetic manuscript, quantised as uint8 ``v8`` on (0, 256), as 12-bit uint16
``16·v8 + u`` with a seeded dither ``u`` in {0..15} on (0, 4096), and as float ``v8/256`` on
(0, 1): the three give the same NPC bit for bit, while PC scales with the format (256 / 4096 / 1).
"""

from __future__ import annotations

import numpy as np

from sciml_core import sample_generator

from .._npc import result_from_binned
from .._samples import bin_image
from .context import Context
from .data import run_manuscript
from .tables import tidy

__all__ = ["FORMATS", "run"]

BAND = 1
"""The manuscript band the scene is taken from."""

FORMATS: dict[str, tuple[str, tuple[int, int], float]] = {
    "uint8": ("uint8", (0, 256), 256.0),
    "uint12": ("12-bit uint16", (0, 4096), 4096.0),
    "float64": ("float64 v8/256", (0, 1), 1.0),
}
"""Stable id -> (table label, range, PC scale ``hi − lo``) of every format."""


def run(ctx: Context) -> None:
    """Add the ``format_independence`` table and its claim."""
    ms = run_manuscript(ctx)
    band, labels = ms.stack[..., BAND], ms.labels
    v8 = (band >> 4).astype(np.uint8)
    u = sample_generator(ctx.seed, ctx.config.format_seed_index).integers(0, 16, v8.shape)
    images = {
        "uint8": v8,
        "uint12": (16 * v8.astype(np.uint16) + u).astype(np.uint16),
        "float64": v8.astype(np.float64) / 256.0,
    }
    npc: dict[str, float] = {}
    pc: dict[str, float] = {}
    for key, (_, rng_arg, _) in FORMATS.items():
        r = result_from_binned(bin_image(images[key], labels, bins=256, range=rng_arg))
        npc[key], pc[key] = float(r.npc[0]), float(r.pc[0])
    ctx.result.add_table(
        "format_independence",
        "One scene in three formats, 256 bins (the claim compares the unrounded values)",
        ["format", "range", "npc", "pc"],
        tidy(
            [
                [label, str(rng_arg), npc[key], pc[key]]
                for key, (label, rng_arg, _) in FORMATS.items()
            ]
        ),
    )
    same = npc["uint8"] == npc["uint12"] == npc["float64"]  # bit for bit, before rounding
    scaled = all(pc[key] == npc[key] * scale for key, (_, _, scale) in FORMATS.items())
    ctx.result.add_claim(
        "NPC is independent of the image format (8-bit, 12-bit, float) while PC scales with it",
        "identical NPC bit for bit; PC = 256 / 4096 / 1 x NPC",
        f"NPC {npc['uint8']:.6g} / {npc['uint12']:.6g} / {npc['float64']:.6g} "
        f"({'bit-identical' if same else 'NOT bit-identical'}); "
        f"PC {pc['uint8']:.6g} / {pc['uint12']:.6g} / {pc['float64']:.6g}",
        bool(same and scaled),
    )
