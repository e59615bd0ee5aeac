"""The CT table's data: random-ellipse phantoms, analytic sinograms, noise, pooled FBP artefacts."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._noise import add_noise
from .._phantoms import ellipse_sinogram, random_ellipses
from .._ray import RayTransform
from .config import Config


@dataclass(frozen=True)
class CTData:
    """Phantoms and sinograms shared by every noise level.

    Attributes:
        A: the ray transform (``n x n`` images, ``angles`` angles).
        x_train, x_val, x_test: phantoms, ``(N, 1, n, n)``, float32, data range 1.
        s_val, s_test: their analytic (noise-free) sinograms, ``(N, 1, angles, n)``.
        fbp_train: Hann-filtered FBP of the noisy training sinograms, training image ``i`` at
            noise level ``etas[i % len(etas)]``: the artefacts both critics learn from.
    """

    A: RayTransform
    x_train: torch.Tensor
    x_val: torch.Tensor
    x_test: torch.Tensor
    s_val: torch.Tensor
    s_test: torch.Tensor
    fbp_train: torch.Tensor


@dataclass(frozen=True)
class NoiseLevel:
    """Noisy validation and test data at one relative noise level ``eta``.

    Attributes:
        eta: relative noise level.
        y_val, y_test: noisy analytic sinograms, ``(N, 1, angles, n)``.
        delta_test: the realised noise norm of each test sinogram, ``(N_test,)``.
    """

    eta: float
    y_val: torch.Tensor
    y_test: torch.Tensor
    delta_test: torch.Tensor


def build(cfg: Config, base: int) -> CTData:
    """Phantoms, analytic sinograms and the pooled training artefacts (``base = root_seed``)."""
    A = RayTransform(cfg.n, angles=cfg.angles)
    s = cfg.seeds
    x_tr, p_tr = random_ellipses(cfg.n, cfg.train, seed=base + s.ct_train)
    x_va, p_va = random_ellipses(cfg.n, cfg.validation, seed=base + s.ct_validation)
    x_te, p_te = random_ellipses(cfg.n, cfg.test, seed=base + s.ct_test)
    s_tr, s_va, s_te = (ellipse_sinogram(p, A) for p in (p_tr, p_va, p_te))
    # training image i carries noise level etas[i % L]: one critic for all levels
    y_tr = torch.empty_like(s_tr)
    levels = len(cfg.etas)
    for k, eta in enumerate(cfg.etas):
        seed = base + s.ct_train_noise + s.level_stride * k
        y_tr[k::levels], _ = add_noise(s_tr[k::levels], eta, seed=seed)
    fbp_tr = A.fbp(y_tr, filter="hann")
    return CTData(A, x_tr, x_va, x_te, s_va, s_te, fbp_tr)


def noise_level(data: CTData, cfg: Config, base: int, k: int) -> NoiseLevel:
    """Noisy validation and test sinograms at level ``cfg.etas[k]``."""
    eta, s = cfg.etas[k], cfg.seeds
    y_va, _ = add_noise(data.s_val, eta, seed=base + s.ct_validation_noise + s.level_stride * k)
    y_te, d_te = add_noise(data.s_test, eta, seed=base + s.ct_test_noise + s.level_stride * k)
    return NoiseLevel(eta, y_va, y_te, d_te)
