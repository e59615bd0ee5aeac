"""Measurement noise: white Gaussian and CT photon counts; each returns the noise level delta."""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from sciml_core import InputError, check_finite, root_seed, sample_generator

from ._operator import check_tensor

SeedLike = int | np.random.Generator | torch.Generator | None


def add_noise(
    y: torch.Tensor, level: float, *, seed: SeedLike = None, relative: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""White Gaussian noise per sample: :math:`e_i = \eta \|y_i\|/\sqrt{m}\, \xi_i` (relative).

    Sample ``i`` (index along dimension 0) draws :math:`\xi_i \sim N(0, I)` from
    ``SeedSequence(seed, spawn_key=(i,))``, so it does not depend on the batch size. With
    ``relative=False`` the standard deviation is ``level`` itself.

    Args:
        y: clean data ``(B, ...)``.
        level: :math:`\eta` (relative) or the standard deviation (absolute), ``>= 0``.
        seed: seed of the draws.
        relative: scale by :math:`\|y_i\|/\sqrt m` (``m`` entries per sample).

    Returns:
        ``(y_delta, delta)`` with ``delta (B,)`` the realised :math:`\|e_i\|`.

    Examples:
        >>> import torch
        >>> yd, d = add_noise(torch.ones(2, 100), 0.1, seed=0)
        >>> bool(torch.allclose(d, (yd - 1).flatten(1).norm(dim=1)))
        True
    """
    check_tensor(y, "y")
    check_finite(y, "y")
    if y.ndim < 1 or y.shape[0] < 1:
        raise InputError(f"y: expected shape (B, ...) with B >= 1, got {tuple(y.shape)}")
    if not (isinstance(level, int | float) and level >= 0 and math.isfinite(level)):
        raise InputError(f"level: expected a finite number >= 0, got {level!r}")
    base = root_seed(seed)
    m = int(np.prod(y.shape[1:])) if y.ndim > 1 else 1
    xi = np.stack([sample_generator(base, i).standard_normal(m) for i in range(y.shape[0])])
    xi_t = torch.from_numpy(xi).to(y.device, y.dtype).reshape(y.shape)
    if relative:
        scale = y.reshape(y.shape[0], -1).norm(dim=1) / math.sqrt(m)
    else:
        scale = torch.ones(y.shape[0], dtype=y.dtype, device=y.device)
    e = (float(level) * scale).reshape(-1, *([1] * (y.ndim - 1))) * xi_t
    return y + e, e.reshape(y.shape[0], -1).norm(dim=1)


def add_poisson_noise(
    y: torch.Tensor, photons: float, *, seed: SeedLike = None, mu_scale: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""CT photon-count noise on line integrals ``y`` (Beer-Lambert), with a delta estimate.

    Counts :math:`N_j \sim \mathrm{Poisson}(I_0 e^{-\mu y_j})` (:math:`I_0` = ``photons``,
    :math:`\mu` = ``mu_scale``), back-transformed :math:`y^\delta_j = -\log(N_j/I_0)/\mu`.
    Zero counts have no logarithm: they are replaced by 0.5 counts (a documented rule; a
    ``RuntimeWarning`` says how many). The noise level is the delta-method estimate
    :math:`\delta = (\sum_j e^{\mu y_j}/(\mu^2 I_0))^{1/2}` of :math:`\|y^\delta - y\|`, from
    :math:`\mathrm{Var}[\log N] \approx 1/E[N]`. Sample ``i`` (dimension 0) draws from
    ``SeedSequence(seed, spawn_key=(i,))``.

    Returns:
        ``(y_delta, delta)``, ``delta (B,)``.
    """
    check_tensor(y, "y")
    check_finite(y, "y")
    if not (isinstance(photons, int | float) and photons > 0 and math.isfinite(photons)):
        raise InputError(f"photons: expected a positive finite number, got {photons!r}")
    if not (isinstance(mu_scale, int | float) and mu_scale > 0 and math.isfinite(mu_scale)):
        raise InputError(f"mu_scale: expected a positive finite number, got {mu_scale!r}")
    base = root_seed(seed)
    y64 = y.detach().cpu().to(torch.float64).numpy()
    lam = photons * np.exp(-mu_scale * y64)
    counts = np.stack(
        [sample_generator(base, i).poisson(lam[i]).astype(np.float64) for i in range(y.shape[0])]
    )
    zeros = int((counts == 0).sum())
    if zeros:
        warnings.warn(
            f"add_poisson_noise: {zeros} zero counts replaced by 0.5 counts",
            RuntimeWarning,
            stacklevel=2,
        )
        counts[counts == 0] = 0.5
    yd = -np.log(counts / photons) / mu_scale
    delta = np.sqrt(
        (np.exp(mu_scale * y64) / (mu_scale**2 * photons)).reshape(y.shape[0], -1).sum(1)
    )
    return (
        torch.from_numpy(yd).to(y.device, y.dtype),
        torch.from_numpy(delta).to(y.device, y.dtype),
    )
