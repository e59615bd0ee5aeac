"""The CT table's method comparison at one noise level: 13 reconstructions of the test phantoms.

Every parameter (Tikhonov and TV alpha, PnP tau, AR/ACR lambda factor and stopping index) is
chosen on the validation phantoms, never on the test set; Tikhonov and PnP (Wiener) are also
reported with their parameter chosen per test image by the discrepancy principle.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from .._adversarial import AdversarialRegularizer
from .._operator import LinearOperator
from .._pdhg import pdhg_tv
from .._pnp import CirculantDenoiser, LinearPnP
from .._ray import RayTransform
from .._tikhonov import discrepancy_alpha, tikhonov
from .config import Config
from .ct_data import CTData, NoiseLevel
from .evaluate import TAU_DP, best_on_validation, factor_and_stop, scores, stop_index
from .priors import CriticName, Denoisers, TrainedCritic

Method = Literal[
    "fbp",
    "tikhonov_validation",
    "tikhonov_discrepancy",
    "tv",
    "pnp_wiener_validation",
    "pnp_wiener_discrepancy",
    "pnp_mse_validation",
    "gd_validation_stop",
    "ar",
    "ar_control_lambda0",
    "ar_control_untrained",
    "ar_control_untrained_scaled",
    "acr",
]
"""Stable keys of the compared methods, in the table's row order (claims read numbers by them)."""
METHODS: tuple[Method, ...] = typing.get_args(Method)

LABELS: dict[Method, str] = {
    "fbp": "FBP (Hann)",
    "tikhonov_validation": "Tikhonov (validation alpha)",
    "tikhonov_discrepancy": "Tikhonov (discrepancy)",
    "tv": "TV-PDHG",
    "pnp_wiener_validation": "PnP Wiener (validation tau)",
    "pnp_wiener_discrepancy": "PnP Wiener (discrepancy)",
    "pnp_mse_validation": "PnP MSE-trained (validation tau)",
    "gd_validation_stop": "GD on data term (validation stopping index)",
    "ar": "AR",
    "ar_control_lambda0": "AR control: lambda=0 (GD on data term)",
    "ar_control_untrained": "AR control: untrained critic",
    "ar_control_untrained_scaled": "AR control: untrained critic, gradient-normalised",
    "acr": "ACR",
}
"""Display label of each method in the table and the figure."""

CRITIC_METHOD: dict[CriticName, Method] = {"AR": "ar", "ACR": "acr"}

ALPHA_GRID = [10.0**e for e in np.arange(-3.0, 1.01, 0.5)]
"""Tikhonov alpha candidates (1e-3 .. 10)."""
TV_GRID = [10.0**e for e in np.arange(-3.0, -1.49, 0.5)]
"""TV alpha candidates (1e-3 .. 3e-2)."""
TAU_GRID = [10.0**e for e in np.arange(-3.0, 0.01, 0.5)]
"""PnP tau candidates (1e-3 .. 1)."""


@dataclass(frozen=True)
class MethodRun:
    """One method's reconstructions of the test phantoms.

    Attributes:
        x: reconstructions ``(N_test, 1, n, n)``.
        psnr, ssim: per test image (data range 1).
        param: the chosen parameter, as shown in the table.
        seconds: wall time, parameter choice included.
    """

    x: torch.Tensor
    psnr: list[float]
    ssim: list[float]
    param: str
    seconds: float


def compare(
    data: CTData,
    level: NoiseLevel,
    cfg: Config,
    denoisers: Denoisers,
    critics: dict[CriticName, TrainedCritic],
    scaled_untrained: tuple[AdversarialRegularizer, float] | None,
) -> tuple[dict[Method, MethodRun], dict[CriticName, float]]:
    """Run every method at one noise level.

    Args:
        data: phantoms and operator.
        level: noisy validation and test data.
        cfg: budgets (``tv_iters``, ``recon_steps``).
        denoisers: PnP's Wiener and MSE-trained denoisers.
        critics: the trained critics (AR and ACR, or ACR only) with their untrained twins.
        scaled_untrained: the gradient-normalised untrained AR control and its divisor (None
            without AR).

    Returns:
        ``(runs in row order, per critic the held-out gap E psi(FBP(y_test)) - E psi(x_test))``.
    """
    A, x_va, x_te = data.A, data.x_val, data.x_test
    y_va, y_te, d_te = level.y_val, level.y_test, level.delta_test
    runs: dict[Method, MethodRun] = {}

    def record(key: Method, x: torch.Tensor, param: str, t_start: float) -> None:
        p, q = scores(x, x_te)
        runs[key] = MethodRun(x, p, q, param, time.perf_counter() - t_start)

    t0 = time.perf_counter()
    record("fbp", A.fbp(y_te, filter="hann"), "Hann window", t0)

    t0 = time.perf_counter()
    alpha, _ = best_on_validation(ALPHA_GRID, lambda a: tikhonov(A, y_va, a, tol=1e-6).x, x_va)
    record("tikhonov_validation", tikhonov(A, y_te, alpha, tol=1e-6).x, f"alpha={alpha:.3g}", t0)
    t0 = time.perf_counter()
    xs, alphas = [], []
    for i in range(len(y_te)):
        a, r = discrepancy_alpha(A, y_te[i : i + 1], float(d_te[i]), TAU_DP, rtol=1e-3)
        xs.append(r.x)
        alphas.append(a)
    record("tikhonov_discrepancy", torch.cat(xs), f"median alpha={np.median(alphas):.3g}", t0)

    t0 = time.perf_counter()
    its = cfg.tv_iters
    a_tv, _ = best_on_validation(
        TV_GRID, lambda a: pdhg_tv(A, y_va, a, nonneg=True, max_iter=its).x, x_va
    )
    record(
        "tv",
        pdhg_tv(A, y_te, a_tv, nonneg=True, max_iter=its).x,
        f"alpha={a_tv:.3g}, {its} its",
        t0,
    )

    _pnp(A, level, x_va, denoisers, record)
    gaps = adversarial(A, level, x_va, x_te, cfg.recon_steps, critics, scaled_untrained, record)
    return runs, gaps


Record = Callable[[Method, torch.Tensor, str, float], None]


def _pnp(
    A: LinearOperator, level: NoiseLevel, x_va: torch.Tensor, denoisers: Denoisers, record: Record
) -> None:
    """Linear PnP, tau chosen on validation (both denoisers) and, for Wiener, per test image by
    the discrepancy principle (float64 solves)."""
    y_va, y_te, d_te = level.y_val, level.y_test, level.delta_test
    validated: tuple[tuple[Method, CirculantDenoiser], ...] = (
        ("pnp_wiener_validation", denoisers.wiener),
        ("pnp_mse_validation", denoisers.learned),
    )
    for key, D in validated:
        pnp = LinearPnP(A, D)
        t0 = time.perf_counter()

        def on_validation(tau: float, pnp: LinearPnP = pnp) -> torch.Tensor:
            return pnp.fixed_point(y_va.double(), tau).x.float()

        tau, _ = best_on_validation(TAU_GRID, on_validation, x_va)
        record(key, pnp.fixed_point(y_te.double(), tau).x.float(), f"tau={tau:.3g}", t0)
        if key == "pnp_wiener_validation":
            t0 = time.perf_counter()
            xs, taus = [], []
            for i in range(len(y_te)):
                t, r = pnp.tau_by_discrepancy(
                    y_te[i : i + 1].double(), float(d_te[i]), TAU_DP, rtol=1e-3
                )
                xs.append(r.x.float())
                taus.append(t)
            record("pnp_wiener_discrepancy", torch.cat(xs), f"median tau={np.median(taus):.3g}", t0)


def adversarial(
    A: RayTransform,
    level: NoiseLevel,
    x_va: torch.Tensor,
    x_te: torch.Tensor,
    steps: int,
    critics: Mapping[CriticName, TrainedCritic],
    scaled_untrained: tuple[AdversarialRegularizer, float] | None,
    record: Record,
    *,
    gd_steps: int | None = None,
) -> dict[CriticName, float]:
    """Gradient descent on the data term, AR with its three controls, and ACR (those of
    ``critics``; also run by :mod:`.ar_shipped` with the shipped AR critic).

    ``steps`` bounds the stopping indices of the critics, ``gd_steps`` (default ``steps``) that
    of gradient descent on the data term, whose validated stop may lie later than AR's."""
    y_va, y_te = level.y_val, level.y_test
    lam0 = AdversarialRegularizer.lambda_heuristic(A, x_va, y_va)
    t0 = time.perf_counter()
    # lambda = 0 (plain gradient descent on the data term) with its own stopping index chosen on
    # the validation phantoms: a fair classical baseline (Landweber-type)
    gd = next(iter(critics.values())).trained  # lam = 0: the critic is never evaluated
    k_gd = stop_index(gd, A, y_va, x_va, 0.0, steps if gd_steps is None else gd_steps)
    record("gd_validation_stop", gd.reconstruct(A, y_te, 0.0, steps=k_gd).x, f"{k_gd} GD steps", t0)
    gaps: dict[CriticName, float] = {}
    for name, critic in critics.items():
        ar = critic.trained
        t0 = time.perf_counter()
        fac, k_ar = factor_and_stop(ar, A, y_va, x_va, lam0, steps)
        lam = fac * lam0
        record(
            CRITIC_METHOD[name],
            ar.reconstruct(A, y_te, lam, steps=k_ar).x,
            f"lam={fac:g} x heuristic {lam0:.3g}, {k_ar} GD steps (of {steps})",
            t0,
        )
        with torch.no_grad():
            gaps[name] = float(
                ar.critic(A.fbp(y_te, filter="hann")).mean() - ar.critic(x_te).mean()
            )
        if name == "AR":
            if scaled_untrained is None:
                raise ValueError("the AR controls need the gradient-normalised untrained critic")
            t0 = time.perf_counter()
            record(
                "ar_control_lambda0",
                ar.reconstruct(A, y_te, 0.0, steps=k_ar).x,
                f"{k_ar} GD steps (AR's)",
                t0,
            )
            t0 = time.perf_counter()
            record(
                "ar_control_untrained",
                critic.untrained.reconstruct(A, y_te, lam, steps=k_ar).x,
                f"lam={lam:.3g}, {k_ar} GD steps (AR's)",
                t0,
            )
            scaled, g_unt = scaled_untrained
            t0 = time.perf_counter()
            f_s, k_s = factor_and_stop(scaled, A, y_va, x_va, lam0, steps)
            record(
                "ar_control_untrained_scaled",
                scaled.reconstruct(A, y_te, f_s * lam0, steps=k_s).x,
                f"critic / {g_unt:.2g}, lam={f_s:g} x heuristic, {k_s} GD steps "
                "(both chosen on validation)",
                t0,
            )
    return gaps
