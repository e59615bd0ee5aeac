r"""Norms a certificate may use: exact spectral norms, power iteration, mixed norms, conv norms.

Certificates in this package rest only on :func:`spectral_norm` (an SVD in float64, widened by
its backward-error bound, so ``upper`` is proven up to the stated SVD accuracy) and on closed-form
norms (row norms, dual norms). :func:`power_step` gives a *lower* bound; it may set a step size
during training (``norm="power"``) but never a certificate (spec §2.5, §4 item 2).

The mixed norm of the fixed-width architecture (spec §2.3) on :math:`z \in \mathbb R^m`, ``m >= 3``:

.. math::
    \|z\|_\star = \max(|z_1|, |z_2|, |z_3|, \|z_{4:}\|_2), \qquad
    \|a\|_{\star,*} = |a_1| + |a_2| + |a_3| + \|a_{4:}\|_2 .
"""

from __future__ import annotations

import math
import typing
from typing import Literal

import torch
from torch import Tensor

from sciml_core import NormEstimate

__all__ = [
    "HIDDEN_NORMS",
    "HiddenNorm",
    "conv_operator_norm",
    "dual_norm",
    "hidden_norm",
    "power_step",
    "spectral_norm",
]

HiddenNorm = Literal["l2", "mixed"]
HIDDEN_NORMS: tuple[HiddenNorm, ...] = typing.get_args(HiddenNorm)

_F64_EPS = float(torch.finfo(torch.float64).eps)


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
