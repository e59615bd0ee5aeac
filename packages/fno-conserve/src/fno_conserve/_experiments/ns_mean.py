"""Case 3 (full run only): 2-D Navier-Stokes vorticity with the zero-mean law; plain, post-hoc,
projection and adaptive. The exact variants' floor is the claim; no accuracy ordering."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .._train import Variant
from .cases import EPS32, run_case

if TYPE_CHECKING:
    from .registry import Context

NAME = "ns_mean"
VARIANTS: list[Variant] = ["plain", "posthoc", "projection", "adaptive"]
EXACT: list[Variant] = ["posthoc", "projection", "adaptive"]


def run(ctx: Context) -> None:
    """Train and evaluate every variant (skipped when the config has no 2-D case)."""
    if ctx.config.ns is None:
        return
    t0 = time.perf_counter()
    run_case(ctx, NAME, "navier-stokes", "mean-zero", VARIANTS, ctx.config.ns, dim=2)
    claims(ctx)
    ctx.timings.append(("ns-mean", time.perf_counter() - t0, ""))


def claims(ctx: Context) -> None:
    """The corrected variants keep the mean vorticity at zero (section 2.5 relative measure)."""
    values = ctx.values
    # relative to sum |w_i omega_i|, as for the other cases: an absolute bound would depend on
    # the vorticity's magnitude
    w32 = max(values[NAME, v, "cons_max_rel_f32"] for v in EXACT)
    a32 = max(values[NAME, v, "cons_max_abs_f32"] for v in EXACT)
    ctx.result.add_claim(
        f"{NAME}: corrected variants keep the mean vorticity at zero (float32)",
        "max relative conservation error <= 10 eps(float32) = 1.2e-6",
        f"{w32:.3g} ({w32 / EPS32:.2f} eps; max |int w| {a32:.3g})",
        w32 <= 10 * EPS32,
    )
