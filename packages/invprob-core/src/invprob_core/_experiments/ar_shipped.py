"""The quick run's adversarial-regulariser claims, measured with the shipped critic.

At the quick budget a critic trained in the run cannot help (150 steps at 32x32: AR does not beat
gradient descent; the critic-budget sweep puts the advantage at 64x64 after about 2000 steps).
So ``--quick`` loads the critic shipped in the package (:mod:`.shipped_critic`, made by
:mod:`.train_critic` on phantoms of its own seed streams) and runs the full run's AR protocol
(:func:`.ct_methods.adversarial`) at the critic's setting (64x64, 60 angles, analytic
sinograms, 3 % / 5 % noise) on fresh validation and test phantoms: AR with its lambda factor and
stopping index chosen on the validation phantoms, against gradient descent on the data term with
its own validated stopping index, the controls (lambda = 0 and the untrained critic with AR's
lambda and steps; the untrained critic gradient-normalised with its own validated lambda and
stop), FBP and TV with its validated alpha. A ``--seed`` whose streams would meet the critic's
training seeds is refused.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from sciml_core import InputError, root_seed

from .._adversarial import AdversarialRegularizer
from .._noise import add_noise
from .._pdhg import pdhg_tv
from .._phantoms import ellipse_sinogram, random_ellipses
from .._ray import RayTransform
from . import figures
from .config import ShippedAR
from .ct import Values, ar_claims
from .ct_data import NoiseLevel
from .ct_methods import LABELS, TV_GRID, Method, MethodRun, adversarial
from .evaluate import best_on_validation, scores
from .priors import ScaledCritic, TrainedCritic, grad_norm
from .shipped_critic import SHIPPED_FILE, ShippedCritic, load_shipped_critic
from .train_critic import training_data

if TYPE_CHECKING:  # the registry imports the studies
    from .registry import Context

ROWS: tuple[Method, ...] = (
    "fbp",
    "tv",
    "gd_validation_stop",
    "ar",
    "ar_control_lambda0",
    "ar_control_untrained",
    "ar_control_untrained_scaled",
)
"""The methods of the ``ar_shipped`` table, in row order."""


def study_seeds(ctx: Context, levels: int) -> set[int]:
    """Every seed the study draws its phantoms and noise from."""
    base, s = root_seed(ctx.seed), ctx.config.seeds
    noise = {
        base + off + s.level_stride * k
        for off in (s.shipped_validation_noise, s.shipped_test_noise)
        for k in range(levels)
    }
    return {base + s.shipped_validation, base + s.shipped_test} | noise


def check_disjoint(ctx: Context, shipped: ShippedCritic) -> None:
    """Refuse a ``--seed`` whose phantom or noise seeds trained the shipped critic."""
    clash = study_seeds(ctx, len(shipped.recipe.etas)) & shipped.training_seeds()
    if clash:
        raise InputError(
            f"--seed: {ctx.seed} would draw the test phantoms or noise of the shipped-critic "
            f"study from seeds {sorted(clash)} that trained the critic; choose another seed"
        )


def run(ctx: Context) -> None:
    """Add the ``ar_shipped`` table, two figures and the AR claims."""
    cfg, res = ctx.config, ctx.result
    sa = cfg.shipped_ar
    if sa is None:
        raise ValueError("ar_shipped runs only in a mode with a shipped critic (--quick)")
    shipped = load_shipped_critic()
    check_disjoint(ctx, shipped)
    r, s, base = shipped.recipe, cfg.seeds, root_seed(ctx.seed)
    A = RayTransform(r.n, angles=r.angles)
    x_va, p_va = random_ellipses(r.n, cfg.validation, seed=base + s.shipped_validation)
    x_te, p_te = random_ellipses(r.n, sa.test, seed=base + s.shipped_test)
    s_va, s_te = ellipse_sinogram(p_va, A), ellipse_sinogram(p_te, A)
    # the untrained control divided by its mean gradient norm on clean/FBP midpoints of training
    # images: the first 64 of the critic's own training set (element i does not depend on count)
    x_64, fbp_64 = training_data(dataclasses.replace(r, train=64), shipped.seeds)
    g_unt = grad_norm(shipped.untrained.critic, 0.5 * (x_64 + fbp_64))
    scaled = (AdversarialRegularizer(ScaledCritic(shipped.untrained.critic, g_unt)), g_unt)
    critic = TrainedCritic(
        shipped.trained, shipped.untrained, list(shipped.provenance["curve"]), 0.0
    )

    values: Values = {}
    table: list[list[object]] = []
    shown: dict[Method, MethodRun] = {}
    y_shown = s_te
    for k, eta in enumerate(r.etas):
        y_va, _ = add_noise(s_va, eta, seed=base + s.shipped_validation_noise + s.level_stride * k)
        y_te, d_te = add_noise(s_te, eta, seed=base + s.shipped_test_noise + s.level_stride * k)
        level = NoiseLevel(eta, y_va, y_te, d_te)
        runs, gap = _compare(A, level, x_va, x_te, sa, critic, scaled)
        values[eta, "ar", "critic_gap"] = gap
        for key in ROWS:
            run_ = runs[key]
            values[eta, key, "psnr"] = float(np.mean(run_.psnr))
            table.append(
                [
                    f"{100 * eta:g}%",
                    LABELS[key],
                    round(float(np.mean(run_.psnr)), 2),
                    round(float(np.std(run_.psnr)), 2),
                    round(float(np.mean(run_.ssim)), 4),
                    round(float(np.std(run_.ssim)), 4),
                    run_.param,
                    round(run_.seconds, 2),
                ]
            )
        if k == 0:
            shown, y_shown = {key: runs[key] for key in ROWS}, y_te

    steps = shipped.steps
    made = (
        f"shipped critic {SHIPPED_FILE}: LunzCritic trained {steps} steps on {r.train} phantoms "
        f"of its own seed streams (train_critic --seed {shipped.provenance['seed']})"
    )
    etas = ", ".join(f"{100 * e:g}%" for e in r.etas)
    res.add_table(
        "ar_shipped",
        f"AR with the {made}; CT {r.n}x{r.n} random ellipses, {r.angles} angles, analytic "
        f"sinograms, Gaussian noise {etas}, {sa.test} test phantoms; lambda factors and "
        f"stopping indices (within {sa.recon_steps} steps, {sa.gd_steps} for gradient descent "
        f"on the data term) and TV alpha chosen on {cfg.validation} validation phantoms",
        [
            "noise",
            "method",
            "PSNR mean",
            "PSNR std",
            "SSIM mean",
            "SSIM std",
            "parameter",
            "seconds",
        ],
        table,
    )
    panels = [(LABELS[m], _np(run_.x[0, 0]), run_.psnr[0]) for m, run_ in shown.items()]
    name = figures.ct_reconstructions(
        ctx.out_dir, _np(x_te[0, 0]), panels, name="ar_shipped_reconstructions.png"
    )
    res.add_figure(
        name, f"Shipped-critic study: test phantom 0 at {100 * r.etas[0]:g}% noise (PSNR in dB)"
    )
    name = figures.ct_sinogram_training(
        ctx.out_dir,
        _np(y_shown[0, 0]),
        {f"AR (shipped, {steps} steps)": critic.curve},
        name="ar_shipped_sinogram_training.png",
    )
    res.add_figure(name, "Sinogram of its test phantom 0; the shipped critic's training curve")
    ar_claims(res, r.etas, f"{steps} steps ({made})", values, acr=False)


def _compare(
    A: RayTransform,
    level: NoiseLevel,
    x_va: torch.Tensor,
    x_te: torch.Tensor,
    sa: ShippedAR,
    critic: TrainedCritic,
    scaled: tuple[AdversarialRegularizer, float],
) -> tuple[dict[Method, MethodRun], float]:
    """FBP, TV, then gradient descent, AR and its controls at one noise level.

    Returns:
        ``(runs by method, held-out gap E psi(FBP(y_test)) - E psi(x_test))``.
    """
    runs: dict[Method, MethodRun] = {}

    def record(key: Method, x: torch.Tensor, param: str, t_start: float) -> None:
        p, q = scores(x, x_te)
        runs[key] = MethodRun(x, p, q, param, time.perf_counter() - t_start)

    y_va, y_te = level.y_val, level.y_test
    t0 = time.perf_counter()
    record("fbp", A.fbp(y_te, filter="hann"), "Hann window", t0)
    t0 = time.perf_counter()
    its = sa.tv_iters
    a_tv, _ = best_on_validation(
        TV_GRID, lambda a: pdhg_tv(A, y_va, a, nonneg=True, max_iter=its).x, x_va
    )
    tv = pdhg_tv(A, y_te, a_tv, nonneg=True, max_iter=its).x
    record("tv", tv, f"alpha={a_tv:.3g}, {its} its", t0)
    gaps = adversarial(
        A, level, x_va, x_te, sa.recon_steps, {"AR": critic}, scaled, record, gd_steps=sa.gd_steps
    )
    return runs, gaps["AR"]


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
