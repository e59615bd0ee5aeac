r"""Norms a certificate may use: exact spectral norms, power iteration, mixed norms, conv norms.

Certificates in this package rest only on :func:`spectral_norm` (an SVD in float64, widened by
its backward-error bound, so ``upper`` is proven up to the stated SVD accuracy) and on closed-form
norms (row norms, dual norms). :func:`power_step` gives a *lower* bound; it may set a step size
during training (``norm="power"``) but never a certificate (spec §2.5, §4 item 2).

Two cheaper norms set the step caps of the training forward, both proven upper bounds:
:func:`gram_spectral_norm` (exact: the largest eigenvalue of the smaller Gram matrix, about 1.5x
cheaper than the SVD) and :func:`verified_spectral_norm` (a Cholesky certificate that
:math:`\|W\|_2^2 \le s` for an ``s`` within ``1e-4`` of the exact value, about 4x cheaper than
the SVD at width 256; the default of :class:`lipres.GradientStep`).

The mixed norm of the fixed-width architecture (spec §2.3) on :math:`z \in \mathbb R^m`, ``m >= 3``:

.. math::
    \|z\|_\star = \max(|z_1|, |z_2|, |z_3|, \|z_{4:}\|_2), \qquad
    \|a\|_{\star,*} = |a_1| + |a_2| + |a_3| + \|a_{4:}\|_2 .
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from sciml_core import NormEstimate

__all__ = [
    "HIDDEN_NORMS",
    "HiddenNorm",
    "conv_operator_norm",
    "dual_norm",
    "exact_spectral_norm",
    "gram_spectral_norm",
    "hidden_norm",
    "orthogonal_norm_bound",
    "power_step",
    "spectral_norm",
    "verified_spectral_norm",
]

HiddenNorm = Literal["l2", "mixed"]
HIDDEN_NORMS: tuple[HiddenNorm, ...] = typing.get_args(HiddenNorm)

_F64_EPS = float(torch.finfo(torch.float64).eps)
_U64 = _F64_EPS / 2.0  # unit roundoff of float64
_F64_TINY = float(torch.finfo(torch.float64).tiny)

VERIFY_STEPS: tuple[float, ...] = (1e-5, 1e-4)
"""Relative margins above the Rayleigh quotient that :func:`verified_spectral_norm` tries, in
order, before it falls back to the exact eigenvalue: its bound is never above the exact norm by
more than a factor ``sqrt(1 + 1e-4)`` (plus float64 rounding)."""

SMALL_GRAM = 96
"""Below this Gram size (``min(k, d) < 96``) :func:`exact_spectral_norm` takes the SVD and
:func:`verified_spectral_norm` returns it: there the SVD costs less than the Python steps of the
Lanczos loop or the eigensolver's set-up (one thread: width 32, SVD about 0.1 ms; width 128,
Gram eigenvalue about 1.5x and the verified bound about 1.6x cheaper than the SVD; width 256,
about 1.5x and 3-4x)."""

LANCZOS_STEPS = 10
"""Lanczos steps of :func:`verified_spectral_norm` (warm-started during training: the Ritz value
is then within about ``1e-6`` of the top eigenvalue at width 256, so the first margin passes)."""


def _gamma(k: int) -> float:
    """Higham's ``gamma_k = k u / (1 - k u)`` for float64, doubled for blocked BLAS/LAPACK kernels
    (the constant of a blocked dot product or factorisation is at most that of the plain one
    times a small factor; 2 is generous at the sizes used here)."""
    ku = 2.0 * k * _U64
    return ku / (1.0 - ku)


def _up(x: float) -> float:
    """``x`` rounded up past any float64 rounding of the few operations that computed it."""
    return x * (1.0 + 8.0 * _U64) + _F64_TINY


def _scaled_gram(weight: Tensor) -> tuple[Tensor, float, float, int]:
    r"""The smaller Gram matrix of ``W 2^-e`` in float64 and a proven bound on its error.

    ``W`` (``[k, d]``) with its largest entry outside ``(2^-400, 2^400)`` is first scaled by a power
    of two (exact) so that its largest entry lies in ``[1/2, 1)``: the Gram entries can neither
    overflow nor lose everything to underflow. With
    ``G = W^TW`` (``d <= k``) or ``W W^T`` (``k < d``) and ``n`` the summed dimension, each computed
    entry satisfies :math:`|\hat G - G| \le \gamma_n |W|^T|W|` (Higham, ASNA Thm 3.5), hence
    :math:`\|\hat G - G\|_2 \le \gamma_n \| |W| \|_2^2 \le \gamma_n \|W\|_F^2`.

    Returns:
        ``(G_hat, err, scale, n)``: ``G_hat`` ``[p, p]`` float64, ``err`` the bound above,
        ``scale = 2^e`` (``||W||_2 = scale * ||W 2^-e||_2``), ``n`` the summed dimension.
    """
    w = weight.detach().to(torch.float64)
    scale = _pow2_scale(float(w.abs().max()))
    if scale != 1.0:
        w = w / scale
    k, d = w.shape
    g = w.T @ w if d <= k else w @ w.T
    n = k if d <= k else d
    return g, _gram_error(float(torch.diagonal(g).sum()), k, d), scale, n


def _pow2_scale(top: float) -> float:
    """``2^e`` with ``top / 2^e`` in ``[1/2, 1)`` when ``top`` (the largest entry) lies outside
    ``(2^-400, 2^400)``, else 1: dividing by it is exact and keeps the Gram entries from
    overflowing or underflowing."""
    if 2.0**-400 < top < 2.0**400:
        return 1.0
    return math.ldexp(1.0, math.frexp(top)[1])


def _gram_error(trace: float, k: int, d: int) -> float:
    """:func:`_scaled_gram`'s bound on the computed Gram matrix's error, from its trace
    (``||W||_F^2``, itself rounded) and the shape ``[k, d]`` of ``W``."""
    n, p = (k, d) if d <= k else (d, k)
    fro2 = trace * (1.0 + _gamma(n + p))
    # + an absolute term for products that fell into the subnormal range
    return _up(_gamma(n) * fro2 + 4.0 * n * max(k, d) * _F64_TINY)


def exact_spectral_norm(weight: Tensor) -> NormEstimate:
    """The cheaper exact norm for the size: :func:`spectral_norm` (SVD) when ``min(k, d) <
    SMALL_GRAM``, else :func:`gram_spectral_norm`; both proven upper ends agree to ``1e-11``."""
    if weight.dim() == 2 and min(weight.shape) < SMALL_GRAM:
        return spectral_norm(weight)
    return gram_spectral_norm(weight)


def gram_spectral_norm(weight: Tensor) -> NormEstimate:
    r"""Exact :math:`\|W\|_2` from the largest eigenvalue of the smaller Gram matrix, in float64.

    :math:`\|W\|_2^2 = \lambda_{\max}(W^TW) = \lambda_{\max}(WW^T)`; the smaller of the two
    (``min(k, d)`` square) costs one product and a symmetric eigenvalue solve, against the SVD's
    bidiagonalisation of ``W`` (width 256, one thread: about 1.5x cheaper). ``upper`` adds the
    Gram matrix's rounding (:func:`_scaled_gram`) and the eigensolver's backward error
    (``16 p eps ||G||_2``, as :func:`spectral_norm` allows the SVD), so it is proven like
    :func:`spectral_norm`'s; the two agree to about ``1e-12`` relative.

    Args:
        weight: ``[k, d]``, any float dtype and device.

    Returns:
        ``NormEstimate(lower, upper, certified=True)``.

    Examples:
        >>> est = gram_spectral_norm(torch.diag(torch.tensor([3.0, 1.0])))
        >>> est.certified, est.lower <= 3.0 <= est.upper, round(est.upper, 9)
        (True, True, 3.0)
    """
    if weight.dim() != 2:
        raise ValueError(f"gram_spectral_norm needs a matrix; got shape {tuple(weight.shape)}")
    top = float(weight.detach().abs().max()) if weight.numel() else 0.0
    if top == 0.0:
        return NormEstimate(0.0, 0.0, True, 0)
    if not math.isfinite(top):
        return spectral_norm(weight)
    g, err, scale, _ = _scaled_gram(weight)
    lam = float(torch.linalg.eigvalsh(g)[-1])
    slack = 16.0 * g.shape[0] * _F64_EPS * abs(lam)
    upper = math.sqrt(_up(max(lam, 0.0) + slack + err)) * (1.0 + 2.0 * _U64)
    lower = math.sqrt(max(lam - slack - err, 0.0))
    return NormEstimate(scale * lower, scale * upper, True, 0)


def _top_ritz(g: Tensor, x: Tensor, steps: int) -> tuple[float, Tensor]:
    """Largest Ritz value and vector of the Krylov space of ``steps`` vectors of the symmetric
    ``g`` from ``x`` (Lanczos with full reorthogonalisation, then Rayleigh-Ritz on the basis):
    a lower estimate of ``lambda_max(g)``, never a bound."""
    k = min(steps, g.shape[0])
    basis = torch.empty(k, g.shape[0], dtype=g.dtype, device=g.device)
    q = x / torch.linalg.vector_norm(x)
    m = k
    for j in range(k):
        basis[j] = q
        if j + 1 == k:
            break
        b = basis[: j + 1]
        w = torch.mv(g, q)
        w = w - torch.mv(b.T, torch.mv(b, w))
        w = w - torch.mv(b.T, torch.mv(b, w))
        nw = torch.linalg.vector_norm(w)
        if not bool(nw > 1e-8):  # an invariant subspace: the Ritz values are exact
            m = j + 1
            break
        q = w / nw
    b = basis[:m]
    vals, vecs = torch.linalg.eigh(b @ (g @ b.T))
    return float(vals[-1]), b.T @ vecs[:, -1]


def verified_spectral_norm(
    weight: Tensor,
    u: Tensor | None = None,
    n_iter: int | None = None,
    *,
    min_size: int | None = None,
) -> tuple[NormEstimate, Tensor]:
    r"""A proven upper bound on :math:`\|W\|_2`, within a factor ``sqrt(1 + 1e-4)`` of it,
    certified by a Cholesky factorisation; cheaper than any exact norm.

    With :math:`\hat G` the smaller Gram matrix of ``W`` in float64 (:func:`_scaled_gram`) and
    :math:`\theta` the largest Ritz value of ``n_iter`` Lanczos steps on it from the warm vector
    ``u`` (a lower estimate of :math:`\|W\|_2^2`), take :math:`s = \theta(1 + \delta)` for
    :math:`\delta` in :data:`VERIFY_STEPS` and factor :math:`A = \mathrm{fl}(sI - \hat G)`. If the
    Cholesky factorisation runs to completion in floating point, its computed factor satisfies
    :math:`\hat R^T\hat R = A + \Delta A`, :math:`|\Delta A| \le \gamma_{p+1}|\hat R^T||\hat R|`
    (Demmel 1989; Higham, ASNA Thm 10.5), and :math:`\||\hat R^T||\hat R|\|_2 \le
    \|\hat R\|_F^2 \le \operatorname{tr}(A)/(1-\gamma_{p+1})`, so
    :math:`\lambda_{\min}(A) \ge -e_3`,
    :math:`e_3 = \gamma_{p+1}\operatorname{tr}(A)/(1-\gamma_{p+1})` (the argument of Rump,
    *Verification of positive definiteness*, BIT 2006). Forming ``A``
    rounds only its diagonal, by at most :math:`e_2 = u\max_i|s - \hat G_{ii}|`, and
    :math:`\hat G` is within :math:`e_1` of the Gram matrix, so

    .. math:: \|W\|_2^2 = \lambda_{\max}(G) \le s + e_1 + e_2 + e_3 .

    The three terms are about ``1e-12 s`` at width 256. If every margin fails (the Ritz value was
    more than ``1e-4`` low) the exact :func:`gram_spectral_norm` is returned. No estimate enters
    the bound: a poor ``u`` costs time (more factorisations), never correctness. A small matrix
    (``min(k, d) <`` :data:`SMALL_GRAM`) gets the exact :func:`spectral_norm`, cheaper there;
    ``min_size=0`` forces the certificate at every size.

    On the CPU the work runs in numpy (``W^T W`` by BLAS's symmetric rank-k update, half the
    products of torch's general one; cheaper small vector operations): about 1.5x cheaper at
    width 256 than the same steps in torch, which run on any other device. The rounding terms
    are the same for both. numpy's BLAS threads follow ``OPENBLAS_NUM_THREADS`` /
    ``OMP_NUM_THREADS`` (or threadpoolctl), not ``torch.set_num_threads``.

    Args:
        weight: ``[k, d]``, any float dtype and device.
        u: ``[d]``, the warm start (a right singular vector estimate); None starts from ones.
        n_iter: Lanczos steps on the Gram matrix before the first margin (>= 1; default
            :data:`LANCZOS_STEPS`).
        min_size: Smallest ``min(k, d)`` that gets the certificate (default :data:`SMALL_GRAM`);
            below it the SVD norm is returned and ``u`` unchanged.

    Returns:
        ``(NormEstimate(lower, upper, certified=True), u_new)``: ``lower`` from the Ritz value,
        ``upper`` the proven bound; ``u_new`` (``[d]``, ``u``'s dtype) the Ritz vector, the next
        warm start.

    Examples:
        >>> w = torch.diag(torch.tensor([3.0, 1.0, 0.5]))
        >>> est, _ = verified_spectral_norm(w)
        >>> est.certified, 3.0 <= est.upper <= 3.0 * (1 + 1e-4)
        (True, True)
    """
    if weight.dim() != 2:
        raise ValueError(f"verified_spectral_norm needs a matrix; got shape {tuple(weight.shape)}")
    k, d = weight.shape
    u0 = torch.ones(d, dtype=weight.dtype, device=weight.device) if u is None else u
    top = float(weight.detach().abs().max()) if weight.numel() else 0.0
    if top == 0.0:
        return NormEstimate(0.0, 0.0, True, 0), u0
    if not math.isfinite(top) or min(k, d) < (SMALL_GRAM if min_size is None else min_size):
        return spectral_norm(weight), u0
    steps = max(LANCZOS_STEPS if n_iter is None else n_iter, 1)
    on_cpu = weight.device.type == "cpu" and not _FORCE_TORCH_PATH
    found = (_verify_numpy if on_cpu else _verify_torch)(weight, u0, steps)
    u_new = found.u.to(device=u0.device, dtype=u0.dtype)
    if found.s is None:
        return gram_spectral_norm(weight), u_new
    upper = math.sqrt(_up(found.s + found.err + found.e2 + found.e3)) * (1.0 + 2.0 * _U64)
    lower = math.sqrt(max(found.theta - found.err, 0.0)) * (1.0 - 2.0 * _U64)
    return NormEstimate(found.scale * lower, found.scale * upper, True, 0), u_new


_FORCE_TORCH_PATH = False
"""Tests set this to run :func:`verified_spectral_norm`'s torch path on the CPU."""


@dataclass(frozen=True)
class _Verified:
    """What a backend of :func:`verified_spectral_norm` found: the Ritz value ``theta``, the
    certified ``s`` (``None`` when every margin failed) with its rounding terms ``err`` (the
    Gram matrix's), ``e2`` (forming ``sI - G``), ``e3`` (the Cholesky's), the exact power-of-two
    ``scale`` and the next warm start ``u`` (``[d]``, normalised)."""

    theta: float
    s: float | None
    err: float
    e2: float
    e3: float
    scale: float
    u: Tensor


def _verify_torch(weight: Tensor, u0: Tensor, steps: int) -> _Verified:
    """The certificate on ``weight``'s device with torch (module function's docstring)."""
    k, d = weight.shape
    g, err, scale, _ = _scaled_gram(weight)
    w = weight.detach().to(torch.float64) / scale  # the scaled W of G (exact: a power of two)
    x = u0.detach().to(torch.float64)
    if d > k:  # G = W W^T acts on the left singular vectors
        x = w @ x
    if not bool(torch.linalg.vector_norm(x) > 0):
        x = torch.ones_like(x)
    theta, x = _top_ritz(g, x, steps)
    u_new = w.T @ x if d > k else x
    u_new = u_new / torch.linalg.vector_norm(u_new).clamp_min(_F64_TINY)
    diag = torch.diagonal(g)
    gam = _gamma(g.shape[0] + 1)
    for delta in VERIFY_STEPS:
        s = theta * (1.0 + delta)
        if not s > 0:
            break
        a = -g
        torch.diagonal(a).add_(s)
        _, info = torch.linalg.cholesky_ex(a)
        if int(info) != 0:
            continue
        e2 = _U64 * float((s - diag).abs().max())
        e3 = gam * float(torch.diagonal(a).sum()) / (1.0 - gam)
        return _Verified(theta, s, err, e2, e3, scale, u_new)
    return _Verified(theta, None, err, 0.0, 0.0, scale, u_new)


def _scaled_gram_numpy(weight: Tensor) -> tuple[np.ndarray, float, float, np.ndarray]:
    """:func:`_scaled_gram` in numpy (``W^T W`` by BLAS's symmetric rank-k update); also returns
    the scaled float64 ``W`` it was formed from."""
    k, d = weight.shape
    w = weight.detach().to(torch.float64).numpy()
    scale = _pow2_scale(float(np.abs(w).max()))
    if scale != 1.0:
        w = w / scale
    g = w.T @ w if d <= k else w @ w.T  # a transposed pair of one array: BLAS syrk
    return g, _gram_error(float(np.trace(g)), k, d), scale, w


def _verify_numpy(weight: Tensor, u0: Tensor, steps: int) -> _Verified:
    """The same certificate with numpy on the CPU, where it costs about 1.5x less at width
    256 (one thread): numpy forms ``W^T W`` with BLAS's symmetric rank-k update (half the
    products of the general one torch calls) and its small vector operations cost less. Every
    step and every rounding term is that of :func:`_verify_torch`; the Cholesky factorisation is
    torch's LAPACK call on the same array (no copy)."""
    k, d = weight.shape
    g, err, scale, w = _scaled_gram_numpy(weight)
    p = g.shape[0]
    x = u0.detach().to(torch.float64).numpy()
    if d > k:
        x = w @ x
    if not float(np.linalg.norm(x)) > 0:
        x = np.ones_like(x)
    # Lanczos with full reorthogonalisation, then Rayleigh-Ritz (as _top_ritz)
    m = min(steps, p)
    basis = np.empty((m, p))
    q = x / np.linalg.norm(x)
    for j in range(m):
        basis[j] = q
        if j + 1 == m:
            break
        b = basis[: j + 1]
        v = g @ q
        v -= b.T @ (b @ v)
        v -= b.T @ (b @ v)
        nv = float(np.linalg.norm(v))
        if not nv > 1e-8:  # an invariant subspace: the Ritz values are exact
            m = j + 1
            break
        q = v / nv
    b = basis[:m]
    vals, vecs = np.linalg.eigh(b @ (g @ b.T))
    theta, x = float(vals[-1]), b.T @ vecs[:, -1]
    u_np = w.T @ x if d > k else x
    u_new = torch.from_numpy(u_np / max(float(np.linalg.norm(u_np)), _F64_TINY))
    diag = np.diagonal(g)
    gam = _gamma(p + 1)
    for delta in VERIFY_STEPS:
        s = theta * (1.0 + delta)
        if not s > 0:
            break
        a = -g
        a[np.diag_indices(p)] += s
        _, info = torch.linalg.cholesky_ex(torch.from_numpy(a))
        if int(info) != 0:
            continue
        e2 = _U64 * float(np.abs(s - diag).max())
        e3 = gam * float(np.trace(a)) / (1.0 - gam)
        return _Verified(theta, s, err, e2, e3, scale, u_new)
    return _Verified(theta, None, err, 0.0, 0.0, scale, u_new)


def orthogonal_norm_bound(q: Tensor) -> float:
    r"""A proven upper bound on :math:`\|Q\|_2` for a nearly orthogonal ``Q``, without an SVD.

    :math:`\|Q\|_2^2 = \lambda_{\max}(Q^TQ) \le 1 + \|Q^TQ - I\|_2 \le 1 + \|Q^TQ - I\|_F`,
    with :math:`Q^TQ` formed in float64 and its rounding (:func:`_scaled_gram`'s ``gamma_n
    ||Q||_F^2``) added. For a ``Q`` orthogonal up to float32 rounding the bound is
    ``1 + O(1e-6)``; for a ``Q`` far from orthogonal it is loose (never wrong).

    Examples:
        >>> 1.0 <= orthogonal_norm_bound(torch.eye(4)) <= 1.0 + 1e-12
        True
    """
    if q.dim() != 2:
        raise ValueError(f"orthogonal_norm_bound needs a matrix; got shape {tuple(q.shape)}")
    if q.numel() == 0:
        return 0.0
    w = q.detach().to(torch.float64)
    g = w.T @ w
    n = w.shape[0]
    fro2 = float(torch.sum(w * w))
    eye = torch.eye(g.shape[0], dtype=g.dtype, device=g.device)
    dev = float(torch.linalg.matrix_norm(g - eye)) * (1.0 + _gamma(g.numel() + 2))
    err = _gamma(n) * fro2 * (1.0 + _gamma(w.numel())) + 4.0 * n * n * _F64_TINY
    return math.sqrt(_up(1.0 + _up(dev) + err)) * (1.0 + 2.0 * _U64)


def _svd_slack(rows: int, cols: int) -> float:
    """Relative backward error of a float64 SVD, as a multiple of the unit roundoff.

    A backward-stable SVD returns the singular values of ``A + E`` with
    ``||E||_2 <= p(m, n) eps ||A||_2`` (Golub and Van Loan, §8.6); by Weyl's inequality the
    largest singular value is then within that much of the true one. We take
    ``p(m, n) = 16 max(m, n)``, generous for LAPACK's bidiagonalisation.
    """
    return 16.0 * max(rows, cols, 1) * _F64_EPS


def spectral_norm(weight: Tensor) -> NormEstimate:
    r"""Exact :math:`\|W\|_2` from a float64 SVD, with proven bounds around it.

    Args:
        weight: A matrix ``[m, n]`` (any float dtype and device; copied to float64).

    Returns:
        ``NormEstimate(lower, upper, certified=True)`` with
        ``upper = s (1 + 16 max(m, n) eps64)``, ``s`` the computed largest singular value.

    Examples:
        >>> est = spectral_norm(torch.diag(torch.tensor([3.0, 1.0])))
        >>> est.certified, est.lower <= 3.0 <= est.upper, round(est.upper, 9)
        (True, True, 3.0)
    """
    w = weight.detach().to(torch.float64)
    if w.dim() != 2:
        raise ValueError(f"spectral_norm needs a matrix; got shape {tuple(w.shape)}")
    if w.numel() == 0:
        return NormEstimate(0.0, 0.0, True, 0)
    s = float(torch.linalg.matrix_norm(w, ord=2))
    slack = _svd_slack(*w.shape)
    return NormEstimate(s * (1.0 - slack), s * (1.0 + slack), True, 0)


def power_step(weight: Tensor, u: Tensor, n_iter: int) -> tuple[float, Tensor]:
    r"""``n_iter`` warm-started power steps on :math:`W^TW`; a *lower* bound on :math:`\|W\|_2`.

    From the stored right singular vector estimate ``u`` (``[n]``):
    :math:`v = Wu/\|Wu\|`, :math:`u = W^Tv/\|W^Tv\|`, :math:`\hat\sigma = \|Wu\|`. The value
    never exceeds :math:`\|W\|_2` (up to rounding), so a step size capped with it can break the
    1-Lipschitz property (spec §4 item 2): use it for speed only.

    Args:
        weight: ``[m, n]``.
        u: ``[n]``, the previous estimate (updated copy returned).
        n_iter: Number of steps (>= 1).

    Returns:
        ``(sigma_hat, u_new)``.
    """
    with torch.no_grad():
        w = weight.detach()
        x = u.to(w.dtype)
        sigma = 0.0
        for _ in range(n_iter):
            v = w @ x
            sigma = float(torch.linalg.vector_norm(v))
            if sigma == 0.0:
                break
            x = w.T @ (v / sigma)
            x = x / torch.linalg.vector_norm(x).clamp_min(torch.finfo(w.dtype).tiny)
        v = w @ x
        sigma = float(torch.linalg.vector_norm(v.to(torch.float64)))
    return sigma, x.to(u.dtype)


def hidden_norm(z: Tensor, kind: HiddenNorm) -> Tensor:
    r"""Row-wise norm of ``z`` (``[B, m]``): ℓ2 or the mixed :math:`\|\cdot\|_\star`.

    Examples:
        >>> z = torch.tensor([[1.0, -2.0, 0.5, 3.0, 4.0]])
        >>> hidden_norm(z, "mixed").tolist(), hidden_norm(z, "l2").shape
        ([5.0], torch.Size([1]))
    """
    if kind == "l2":
        return torch.linalg.vector_norm(z, dim=-1)
    top = z[..., :3].abs()
    rest = torch.linalg.vector_norm(z[..., 3:], dim=-1, keepdim=True)
    return torch.cat([top, rest], dim=-1).amax(dim=-1)


def dual_norm(a: Tensor, kind: HiddenNorm) -> Tensor:
    r"""Row-wise dual norm of ``a`` (``[..., m]``): ℓ2, or :math:`\|a\|_{\star,*}` for ``"mixed"``.

    For every ``z``, :math:`|a^Tz| \le \|a\|_{\text{dual}}\,\|z\|` with equality attained, so a
    linear functional's Lipschitz constant from :math:`(\mathbb R^m, \|\cdot\|)` is exactly
    its dual norm.

    Examples:
        >>> dual_norm(torch.tensor([1.0, -2.0, 0.5, 3.0, 4.0]), "mixed").item()
        8.5
    """
    if kind == "l2":
        return torch.linalg.vector_norm(a, dim=-1)
    return a[..., :3].abs().sum(dim=-1) + torch.linalg.vector_norm(a[..., 3:], dim=-1)


def conv_operator_norm(
    kernel: Tensor, image_size: tuple[int, int], *, padding: Literal["circular", "zeros"]
) -> NormEstimate:
    r"""ℓ2 operator norm of a stride-1 2-d convolution, exact (circular) or a proven bound (zeros).

    With circular padding on an :math:`N_1 \times N_2` grid the operator is block-circulant and
    diagonalised by the 2-d DFT: its singular values are those of the :math:`c_{out}\times c_{in}`
    matrices :math:`\hat K(\omega) = \sum_{p} K_{:,:,p} e^{-2\pi i \langle \omega, p\rangle / N}`
    over all frequencies (Sedghi, Gupta, Long 2019, Theorem 6), so
    :math:`\|A\|_2 = \max_\omega \|\hat K(\omega)\|_2`. With zero padding the operator is a
    restriction of the circular one on the :math:`(N + k - 1)`-grid (embed the zero-extended image,
    convolve without wrap-around, crop), so that value is an upper bound.

    Args:
        kernel: ``[c_out, c_in, k1, k2]`` (cross-correlation weights, as ``nn.Conv2d``).
        image_size: ``(N1, N2)`` of the input.
        padding: ``"circular"`` or ``"zeros"`` (same-size output, odd kernels).

    Returns:
        ``NormEstimate`` with ``certified=True``; exact (up to the SVD slack) for circular.

    Examples:
        >>> k = torch.zeros(1, 1, 3, 3); k[0, 0, 1, 1] = 2.0
        >>> round(conv_operator_norm(k, (8, 8), padding="circular").upper, 9)
        2.0
    """
    c_out, c_in, k1, k2 = kernel.shape
    n1, n2 = image_size
    if padding == "zeros":
        n1, n2 = n1 + k1 - 1, n2 + k2 - 1
    if k1 > n1 or k2 > n2:
        raise ValueError(f"kernel {k1}x{k2} larger than the grid {n1}x{n2}")
    w = kernel.detach().to(torch.float64)
    spec = torch.fft.fft2(w, s=(n1, n2))  # [c_out, c_in, n1, n2]
    mats = spec.permute(2, 3, 0, 1)  # [n1, n2, c_out, c_in]
    s = float(torch.linalg.matrix_norm(mats, ord=2).amax())
    slack = _svd_slack(c_out, c_in) + 4.0 * math.log2(max(n1 * n2, 2)) * _F64_EPS
    return NormEstimate(s * (1.0 - slack), s * (1.0 + slack), True, 0)
