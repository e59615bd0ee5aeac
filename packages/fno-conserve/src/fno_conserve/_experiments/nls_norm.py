"""Case 2: the quadratic law on NLS (``int |psi|^2``): plain, post-hoc Q1 rescale, Q1 in training
and adaptive Q2, with rollout. No accuracy ordering is predicted; exactness is the claim."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .._train import Variant
from .cases import run_case

if TYPE_CHECKING:
    from .registry import Context

NAME = "nls_norm"
VARIANTS: list[Variant] = ["plain", "posthoc", "rescale", "adaptive-rescale"]
EXACT: list[Variant] = ["posthoc", "rescale", "adaptive-rescale"]


def run(ctx: Context) -> None:
    """Train and evaluate every variant; tables and claims (no figures)."""
    t0 = time.perf_counter()
    run_case(ctx, NAME, "nls", "norm", VARIANTS, ctx.config.nls)
    claims(ctx)
    ctx.timings.append(("nls-norm", time.perf_counter() - t0, "no ordering predicted"))


def claims(ctx: Context) -> None:
    """Exactness of each corrected variant and the plain model's violation, read by key."""
    values, res = ctx.values, ctx.result
    for v in EXACT:
        w = values[NAME, v, "cons_max_rel_f32"]
        res.add_claim(
            f"{NAME}: {v} conserves int |psi|^2 exactly in float32",
            "max relative |Q(u*) - c| <= 1e-6",
            f"{w:.3g}",
            w <= 1e-6,
        )
    q = values[NAME, "plain", "cons_max_rel_f32"]
    res.add_claim(
        f"{NAME}: the unconstrained model violates the norm law",
        "plain max relative |Q(u) - c| >= 1e-4",
        f"{q:.3g}",
        q >= 1e-4,
    )
