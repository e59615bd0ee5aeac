"""Ellipse phantoms (Shepp-Logan, seeded random ellipses) and their exact sinograms."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from sciml_core import InputError, root_seed, sample_generator

if TYPE_CHECKING:
    from ._ray import RayTransform

# columns: density, semi-axis a (along the rotated x-axis), semi-axis b, x0, y0, angle (degrees)
_SHEPP_LOGAN = np.array(
    [
        [2.00, 0.6900, 0.9200, 0.00, 0.0000, 0.0],
        [-0.98, 0.6624, 0.8740, 0.00, -0.0184, 0.0],
        [-0.02, 0.1100, 0.3100, 0.22, 0.0000, -18.0],
        [-0.02, 0.1600, 0.4100, -0.22, 0.0000, 18.0],
        [0.01, 0.2100, 0.2500, 0.00, 0.3500, 0.0],
        [0.01, 0.0460, 0.0460, 0.00, 0.1000, 0.0],
        [0.01, 0.0460, 0.0460, 0.00, -0.1000, 0.0],
        [0.01, 0.0460, 0.0230, -0.08, -0.6050, 0.0],
        [0.01, 0.0230, 0.0230, 0.00, -0.6060, 0.0],
        [0.01, 0.0230, 0.0460, 0.06, -0.6050, 0.0],
    ]
)
# Toft's modified densities (better contrast); same geometry
_MODIFIED_DENSITY = np.array([1.0, -0.8, -0.2, -0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])


def shepp_logan_ellipses(modified: bool = True) -> np.ndarray:
    """Ellipse table ``(10, 6)``: density, a, b, x0, y0, angle in radians."""
    e = _SHEPP_LOGAN.copy()
    if modified:
        e[:, 0] = _MODIFIED_DENSITY
    e[:, 5] = np.deg2rad(e[:, 5])
    return e


def _check_params(params: np.ndarray | torch.Tensor, name: str = "params") -> np.ndarray:
    p = np.asarray(params.detach().cpu().numpy() if isinstance(params, torch.Tensor) else params)
    p = p.astype(np.float64)
    if p.ndim != 2 or p.shape[1] != 6:
        raise InputError(f"{name}: expected an array of shape (K, 6), got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise InputError(f"{name}: contains NaN or inf")
    if np.any(p[:, 1:3] <= 0):
        raise InputError(f"{name}: semi-axes (columns 1 and 2) must be positive")
    return p


def rasterize_ellipses(params: np.ndarray, n: int, *, supersample: int = 4) -> np.ndarray:
    r"""Pixel averages (``supersample``:sup:`2` point samples each) of a sum of ellipses.

    Pixel ``(r, c)`` of the ``n x n`` image covers the cell centred at
    :math:`(x, y) = (-1 + h(c + \tfrac12), 1 - h(r + \tfrac12))`, :math:`h = 2/n`.
    """
    p = _check_params(params)
    if isinstance(supersample, bool) or int(supersample) < 1:
        raise InputError(f"supersample: expected a positive integer, got {supersample!r}")
    ss = int(supersample)
    h = 2.0 / n
    sub = (np.arange(n * ss) + 0.5) * (h / ss)
    xs = -1.0 + sub
    ys = 1.0 - sub
    img = np.zeros((n * ss, n * ss))
    m = n * ss
    for rho, a, b, x0, y0, phi in p:
        # only the samples in the ellipse's bounding square (half-side max(a, b)), widened by
        # one sample each way: every sample outside it fails the test below anyway
        r = max(a, b)
        c0 = max(int(np.searchsorted(xs, x0 - r)) - 1, 0)
        c1 = min(int(np.searchsorted(xs, x0 + r, side="right")) + 1, m)
        r0 = max(int(np.searchsorted(-ys, -(y0 + r))) - 1, 0)
        r1 = min(int(np.searchsorted(-ys, -(y0 - r), side="right")) + 1, m)
        if c0 >= c1 or r0 >= r1:
            continue
        cphi, sphi = np.cos(phi), np.sin(phi)
        dx = xs[None, c0:c1] - x0
        dy = ys[r0:r1, None] - y0
        u = dx * cphi + dy * sphi
        v = -dx * sphi + dy * cphi
        img[r0:r1, c0:c1] += rho * ((u / a) ** 2 + (v / b) ** 2 <= 1.0)
    return img.reshape(n, ss, n, ss).mean(axis=(1, 3))


def shepp_logan(n: int, modified: bool = True, *, supersample: int = 4) -> torch.Tensor:
    r"""The (modified) Shepp-Logan phantom on :math:`[-1, 1]^2`, ``n x n``, float32.

    Kak and Slaney, Table 3.1; ``modified=True`` uses Toft's densities (1, -0.8, -0.2, ...),
    as scikit-image's ``shepp_logan_phantom``.

    Examples:
        >>> x = shepp_logan(64)
        >>> x.shape, round(float(x.max()), 2)
        (torch.Size([64, 64]), 1.0)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise InputError(f"n: expected an integer >= 2, got {n!r}")
    img = rasterize_ellipses(shepp_logan_ellipses(modified), int(n), supersample=supersample)
    return torch.from_numpy(img).to(torch.float32)


def _one_random(rng: np.random.Generator, n_ellipses: tuple[int, int]) -> np.ndarray:
    k = int(rng.integers(n_ellipses[0], n_ellipses[1] + 1))
    rows: list[list[float]] = []
    while len(rows) < k:
        r = 0.6 * np.sqrt(rng.uniform())
        ang = rng.uniform(0, 2 * np.pi)
        a, b = rng.uniform(0.05, 0.4, size=2)
        phi = rng.uniform(0, np.pi)
        rho = rng.uniform(0.1, 1.0)
        if r + max(a, b) > 0.95:  # resample ellipses that may leave the disc of radius 0.95
            continue
        rows.append([rho, a, b, r * np.cos(ang), r * np.sin(ang), phi])
    return np.array(rows)


def random_ellipses(
    n: int,
    n_images: int,
    *,
    seed: int | np.random.Generator | torch.Generator | None = None,
    n_ellipses: tuple[int, int] = (5, 15),
    supersample: int = 4,
    callback: Callable[[int], None] | None = None,
) -> tuple[torch.Tensor, list[np.ndarray]]:
    r"""Seeded random-ellipse phantoms with their ellipse tables.

    Image ``i`` draws from ``SeedSequence(seed, spawn_key=(i,))``: :math:`K \sim U\{5..15\}`
    ellipses, centre uniform in the disc of radius 0.6, semi-axes :math:`U[0.05, 0.4]`, angle
    :math:`U[0, \pi)`, density :math:`U[0.1, 1]`, additive, each inside the disc of radius 0.95
    (resampled otherwise). The densities are then divided by the maximum of the
    supersampled raster, so images and analytic sinograms share one scale (max 1, no clipping).
    ``callback(i)`` is called after image ``i`` (1-based; progress reporting).

    Returns:
        ``images (n_images, 1, n, n)`` float32 and a list of ``(K_i, 6)`` tables (density, a, b,
        x0, y0, angle in radians) for :func:`ellipse_sinogram`.

    Examples:
        >>> x, params = random_ellipses(32, 2, seed=0)
        >>> x.shape, len(params), bool(0.9 < float(x[0].max()) <= 1.0)
        (torch.Size([2, 1, 32, 32]), 2, True)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise InputError(f"n: expected an integer >= 2, got {n!r}")
    if isinstance(n_images, bool) or not isinstance(n_images, int | np.integer) or n_images < 1:
        raise InputError(f"n_images: expected a positive integer, got {n_images!r}")
    lo, hi = n_ellipses
    if not 1 <= lo <= hi:
        raise InputError(f"n_ellipses: expected 1 <= low <= high, got {n_ellipses}")
    base = root_seed(seed)
    imgs, tables = [], []
    for i in range(int(n_images)):
        p = _one_random(sample_generator(base, i), (int(lo), int(hi)))
        fine = rasterize_ellipses(p, int(n) * int(supersample), supersample=1)
        p[:, 0] /= fine.max()
        imgs.append(rasterize_ellipses(p, int(n), supersample=supersample))
        tables.append(p)
        if callback is not None:
            callback(i + 1)
    return torch.from_numpy(np.stack(imgs)[:, None]).to(torch.float32), tables


def _ellipse_projection(p: np.ndarray, theta: np.ndarray, s: np.ndarray) -> np.ndarray:
    out = np.zeros((len(theta), len(s)))
    for rho, a, b, x0, y0, phi in p:
        shift = x0 * np.cos(theta) + y0 * np.sin(theta)  # (N_theta,)
        th = theta - phi
        r2 = (a * np.cos(th)) ** 2 + (b * np.sin(th)) ** 2
        ss = s[None, :] - shift[:, None]
        inside = np.clip(r2[:, None] - ss**2, 0.0, None)
        out += 2 * rho * a * b * np.sqrt(inside) / r2[:, None]
    return out


def ellipse_sinogram(
    params: np.ndarray | list[np.ndarray], ray: RayTransform, *, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    r"""Exact parallel-beam projections of ellipse phantoms on ``ray``'s geometry.

    For an ellipse of density :math:`\rho`, semi-axes :math:`a, b`, centred at 0 with its
    :math:`a`-axis along :math:`x`: :math:`p_\theta(s) = 2\rho ab\sqrt{r^2(\theta) - s^2}
    / r^2(\theta)` for :math:`|s| \le r(\theta)`, :math:`r^2 = a^2\cos^2\theta + b^2
    \sin^2\theta`; a centre :math:`(x_0, y_0)` shifts :math:`s` by :math:`x_0\cos\theta + y_0
    \sin\theta` and a rotation by :math:`\varphi` shifts :math:`\theta` (Kak and Slaney, ch. 3).

    Args:
        params: one ``(K, 6)`` table or a list of them.
        ray: the geometry (angles and detector positions are read from it).

    Returns:
        ``(N_theta, n_det)`` for one table, ``(N, 1, N_theta, n_det)`` for a list.

    Examples:
        >>> from invprob_core import RayTransform
        >>> A = RayTransform(32, angles=4)
        >>> ellipse_sinogram(shepp_logan_ellipses(), A).shape
        torch.Size([4, 32])
    """
    if isinstance(params, list | tuple):
        sins = [_ellipse_projection(_check_params(p), ray.theta, ray.s) for p in params]
        return torch.from_numpy(np.stack(sins)[:, None]).to(dtype)
    return torch.from_numpy(_ellipse_projection(_check_params(params), ray.theta, ray.s)).to(dtype)
