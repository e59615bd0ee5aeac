"""Scores and parameter choice on validation phantoms (never on the test set)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from sciml_core import psnr, ssim

from .._adversarial import AdversarialRegularizer
from .._operator import LinearOperator

TAU_DP = 1.1
"""Discrepancy-principle factor of every parameter chosen by the discrepancy principle."""

FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
"""AR / ACR: ``lambda = factor x heuristic``, the factor chosen on validation phantoms."""


def scores(x: torch.Tensor, ref: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-image PSNR and SSIM (data range 1, float64) of ``x`` against ``ref``.

    Shapes:
        x, ref: ``(B, 1, H, W)``; returns two lists of length ``B``.
    """
    p = [psnr(x[i, 0].double(), ref[i, 0].double(), data_range=1.0) for i in range(len(x))]
    s = [ssim(x[i, 0].double(), ref[i, 0].double(), data_range=1.0) for i in range(len(x))]
    return p, s


def best_on_validation(
    values: Sequence[float], recon: Callable[[float], torch.Tensor], x_val: torch.Tensor
) -> tuple[float, float]:
    """The parameter of ``values`` whose reconstruction has the best mean validation PSNR.

    Returns:
        ``(parameter, its mean validation PSNR)``; ties keep the first.
    """
    best = (values[0], -math.inf)
    for v in values:
        p, _ = scores(recon(v), x_val)
        if float(np.mean(p)) > best[1]:
            best = (v, float(np.mean(p)))
    return best


def stop_index(
    ar: AdversarialRegularizer,
    A: LinearOperator,
    y_val: torch.Tensor,
    x_val: torch.Tensor,
    lam: float,
    steps: int,
) -> int:
    """Early-stopping index (1-based) with the best mean validation PSNR along one run."""
    p = ar.reconstruct(A, y_val, lam, steps=steps, x_true=x_val).history["psnr"]
    return int(np.argmax(p)) + 1


def factor_and_stop(
    reg: AdversarialRegularizer,
    A: LinearOperator,
    y_val: torch.Tensor,
    x_val: torch.Tensor,
    lam0: float,
    steps: int,
) -> tuple[float, int]:
    """Lambda factor (of :data:`FACTORS`) and early-stopping index chosen together on the
    validation phantoms.

    Psi is not convex and unbounded below: the iterates drift once the data term no longer holds
    them, so the paper's reconstructions stop early. The whole sweep runs as one batch.

    Returns:
        ``(factor, stopping index (1-based))``.
    """
    nf, nv = len(FACTORS), len(y_val)
    lam = lam0 * torch.tensor(FACTORS, dtype=y_val.dtype).repeat_interleave(nv)
    hist = reg.reconstruct(
        A, y_val.repeat(nf, 1, 1, 1), lam, steps=steps, x_true=x_val.repeat(nf, 1, 1, 1)
    ).history["psnr_each"]  # (steps, factor x phantom)
    mean = np.asarray(hist).reshape(steps, nf, nv).mean(-1)
    k, f = np.unravel_index(int(np.argmax(mean)), mean.shape)
    return FACTORS[int(f)], int(k) + 1
