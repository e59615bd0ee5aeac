"""The convergent-regularisation plot: linear PnP as the noise level goes to zero.

One phantom, ``y0 = A x`` (the theorem is about the discrete equation), relative noise from 1e-1
to 1e-4, ``cfg.conv_draws`` draws each, the generalised-Tikhonov fixed point of PnP (float64):
(a) error to the R-minimising solution ``x_R`` with ``tau = min(1, 10 d)``, (b) the same with
``tau = 1`` fixed, (c) error to the true image, which stays above ``||x_R - x|| / ||x||`` (the
sparse-view null space); and (a) again for periodic deblurring.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from sciml_core import root_seed

from .._blur import Blur, gaussian_kernel
from .._noise import add_noise
from .._phantoms import random_ellipses
from .._pnp import CirculantDenoiser, LinearPnP
from .._ray import RayTransform
from . import figures
from .registry import Context

LEVELS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
"""Relative noise levels ``d / ||y0||``."""


def _convergent_tau(rel: float) -> float:
    """``tau(d) = min(1, 10 d / ||y0||)``: ``alpha = tau / eta`` proportional to the noise."""
    return min(1.0, 10 * rel)


def run(ctx: Context) -> None:
    """Add the ``convergence`` table and figure and the three convergence claims."""
    cfg = ctx.config
    n, s = cfg.conv_n, cfg.seeds
    base = root_seed(ctx.seed)
    A = RayTransform(n, angles=cfg.conv_angles)
    train, _ = random_ellipses(n, cfg.conv_train, seed=base + s.convergence_train)
    D = CirculantDenoiser.fit_wiener(train.double(), cfg.denoiser_sigma)
    x_true, _ = random_ellipses(n, 1, seed=base + s.convergence_truth)
    x_true = x_true.double()
    y0 = A(x_true)
    pnp = LinearPnP(A, D)
    x_r = pnp.limit(y0).x
    a, b, c = [], [], []
    for rel in LEVELS:
        ea, eb, ec = [], [], []
        for j in range(cfg.conv_draws):
            # relative level: e = rel ||y0|| / sqrt(m) xi, so ||e|| ~ rel ||y0||
            y, _ = add_noise(y0, rel, seed=base + s.convergence_ct_noise + j)
            xa = pnp.fixed_point(y, _convergent_tau(rel)).x
            xb = pnp.fixed_point(y, 1.0).x
            ea.append(_rel(xa, x_r))
            eb.append(_rel(xb, x_r))
            ec.append(_rel(xa, x_true))
        a.append(ea)
        b.append(eb)
        c.append(ec)
    gap = _rel(x_r, x_true)

    # periodic deblurring: everything diagonal in Fourier
    Ab = Blur(gaussian_kernel(1.0), "circular", shape=(n, n))
    pb = LinearPnP(Ab, D)
    yb0 = Ab(x_true)
    xbr = pb.limit(yb0).x
    db = []
    for rel in LEVELS:
        e = []
        for j in range(cfg.conv_draws):
            y, _ = add_noise(yb0, rel, seed=base + s.convergence_blur_noise + j)
            e.append(_rel(pb.fixed_point(y, _convergent_tau(rel)).x, xbr))
        db.append(e)

    name = figures.convergence(
        ctx.out_dir,
        n,
        cfg.conv_angles,
        LEVELS,
        [
            (a, "(a) ||x_d - x_R|| / ||x_R||, tau = min(1, 10 d/||y||)"),
            (b, "(b) same, tau = 1 fixed"),
            (c, "(c) ||x_d - x_true|| / ||x_true||, convergent tau"),
        ],
        gap,
        db,
    )
    ctx.result.add_figure(
        name,
        "Linear PnP as a convergent regularisation: error against noise level, log-log, "
        f"mean +- std over {cfg.conv_draws} draws",
    )
    ctx.result.add_table(
        "convergence",
        f"Linear PnP error vs relative noise (CT {n}x{n}, {cfg.conv_angles} angles, y0 = A x, "
        "float64)",
        [
            "rel. noise",
            "(a) to x_R, tau ~ d",
            "(b) to x_R, tau = 1",
            "(c) to x_true, tau ~ d",
            "deblur (a)",
        ],
        [
            [lv, *(round(float(np.mean(v)), 5) for v in (p, q, r, t))]
            for lv, p, q, r, t in zip(LEVELS, a, b, c, db, strict=True)
        ],
    )
    _claims(
        ctx,
        {
            "a": [float(np.mean(v)) for v in a],
            "b": [float(np.mean(v)) for v in b],
            "c": [float(np.mean(v)) for v in c],
        },
        gap,
    )


def _rel(x: torch.Tensor, ref: torch.Tensor) -> float:
    """``||x - ref|| / ||ref||``."""
    return float((x - ref).norm() / ref.norm())


def _claims(ctx: Context, curves: dict[str, list[float]], gap: float) -> None:
    """(a) decreases to at most half its first value; (b) plateaus; (c) stays above ``gap``."""
    a, b, c = curves["a"], curves["b"], curves["c"]
    ctx.result.add_claim(
        "convergent linear PnP: error to x_R falls with the noise level",
        "(a) strictly decreasing over rel. noise 1e-1..1e-4 and final <= 0.5 x first",
        " ".join(f"{v:.4f}" for v in a),
        all(p > q for p, q in itertools.pairwise(a)) and a[-1] <= 0.5 * a[0],
    )
    ctx.result.add_claim(
        "fixed-parameter linear PnP plateaus",
        "(b) last three points within 1 %",
        " ".join(f"{v:.4f}" for v in b),
        max(b[-3:]) <= 1.01 * min(b[-3:]),
    )
    ctx.result.add_claim(
        "sparse-view null space: the error to the true image does not vanish",
        "(c) decreases towards ||x_R - x_true||/||x_true|| > 0 and stays above it",
        f"(c) {' '.join(f'{v:.4f}' for v in c)}; gap {gap:.4f}",
        gap > 0 and all(p > q for p, q in itertools.pairwise(c)) and min(c) >= gap,
    )
