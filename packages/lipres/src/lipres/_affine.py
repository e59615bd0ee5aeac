r"""The norm-constrained interlayer map of the fixed-width architecture (spec §2.3).

.. math::
    z \mapsto Az + c, \qquad A = \begin{bmatrix} a_1^T \\ a_2^T \\ a_3^T \\ 0 \;|\; Q \end{bmatrix},
    \quad \|a_j\|_{\star,*} \le 1, \quad \|Q\|_2 \le 1 .

For :math:`\|z\|_\star = \max(|z_1|, |z_2|, |z_3|, \|z_{4:}\|_2)` the operator norm of ``A`` is
exactly :math:`\max(\max_j \|a_j\|_{\star,*}, \|Q\|_2)`: :math:`|a_j^Tz| \le \|a_j\|_{\star,*}
\|z\|_\star` with equality attained, and :math:`\|Qz_{4:}\|_2 \le \|Q\|_2\|z\|_\star`. The
official ``IntermediateAffine`` (the maps that make Theorem 4.1's fixed-width density work)
rescales each row by :math:`\max(1, \|a_j\|_{\star,*})` after every optimiser step and takes
:math:`Q = \exp(\tfrac12(S - S^T))`, orthogonal. Here the rows are rescaled inside ``forward``
(so no step is ever uncertified) and ``Q`` is the Cayley transform
:math:`(I + K)^{-1}(I - K)` of :math:`K = \tfrac12(S - S^T)`, orthogonal like the exponential at
about a sixth of its cost (width 128: 6 ms against 34 ms per map, forward and backward, one CPU
thread), initialised at :math:`S = 0` (:math:`Q = I`, where the transform's derivative is
largest). In floating point ``Q`` is orthogonal only up to rounding, so the forward still bounds
its norm, without an SVD: :func:`lipres.orthogonal_norm_bound` proves
:math:`\|Q\|_2^2 \le 1 + \|Q^TQ - I\|_F` (plus the product's rounding) from one float64
product, and a bound above 1 rescales ``Q`` by ``(1 - 1e-6)/bound`` (0.1.1 took the exact SVD norm
here at every forward; the certificate, :meth:`MixedNormAffine.lipschitz_bound`, still does).

**Why orthogonal, not merely** :math:`\|Q\|_2 \le 1`. The certificate needs only the norm bound,
and lipres 0.1.0 used a free matrix rescaled by its exact norm. That is a defect for training:
``Q`` sits on the main path of the hidden state (no skip connection), and Adam's per-coordinate
steps spread its singular values within one epoch (digits, width 128, depth 8: median 0.5 with
the largest held at 1), so eight maps in a row contract the features and the classifier stalled
(training accuracy 0.25 after 8 epochs; 0.95 with orthogonal ``Q``; CHANGELOG).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from ._common import SAFETY, check_features, check_int
from ._norms import dual_norm, orthogonal_norm_bound, spectral_norm

__all__ = ["MixedNormAffine", "live_spectral_norm", "rescale", "rescale_rows", "row_scales"]

NormFn = Callable[[Tensor], Tensor]
"""A differentiable norm of a weight (its value is replaced by the exact one, §2.5)."""


def live_spectral_norm(weight: Tensor) -> Tensor:
    """``‖W‖₂`` in the weight's dtype, differentiable (``∂σ₁/∂W = u₁v₁ᵀ``)."""
    return torch.linalg.matrix_norm(weight, ord=2)


def _with_gradient_of(live: Tensor, exact: Tensor) -> Tensor:
    """A tensor whose value is ``exact`` and whose gradient is ``live``'s."""
    return live - live.detach() + exact


def rescale(weight: Tensor, norm: float, norm_fn: NormFn | None = None) -> Tensor:
    """``weight`` if its (float64, proven) norm is <= 1, else ``weight * (1 - 1e-6) / norm``.

    A weight of norm exactly 1 in float64 (``e_1``, ``(1, -1)/√2`` is not, ``±1`` is) is kept,
    so exact constructions (|x|, max of affine functions) stay exact; a rescaled one lands at
    ``1 - 1e-6``, far enough below 1 that float32 storage cannot push its float64 norm above 1
    (spec §4 item 8).

    With ``norm_fn`` (the norm as a differentiable function of the weight) the factor carries
    the gradient of ``(1 - 1e-6)/norm_fn(weight)`` while its value stays the exact
    ``(1 - 1e-6)/norm``: the normalisation ``W ↦ W/‖W‖`` is then differentiated as a
    parametrisation, so an optimiser sees the gradient with its radial part removed (the
    projected gradient) instead of pushing the raw weight outward against a constant factor.
    Without it (or without autograd) the factor is a constant.
    """
    if norm <= 1.0:
        return weight
    factor = (1.0 - SAFETY) / norm
    if norm_fn is None or not (torch.is_grad_enabled() and weight.requires_grad):
        return weight * factor
    live = (1.0 - SAFETY) / norm_fn(weight)
    exact = torch.as_tensor(factor, dtype=weight.dtype, device=weight.device)
    return weight * _with_gradient_of(live, exact)


def row_scales(norms: Tensor) -> Tensor:
    """Per-row factors of :func:`rescale` (float64 in, float64 out)."""
    return torch.where(norms <= 1.0, torch.ones_like(norms), (1.0 - SAFETY) / norms)


def rescale_rows(rows: Tensor, norm_fn: NormFn) -> Tensor:
    """Each row of ``rows`` (``[k, m]``) through :func:`rescale` with its own norm ``norm_fn``
    (row-wise, differentiable): exact float64 factors, the normalisation's gradient."""
    exact = norm_fn(rows.detach().double())
    scale = row_scales(exact).to(rows.dtype)
    active = exact > 1.0
    if not (torch.is_grad_enabled() and rows.requires_grad and bool(active.any())):
        return rows * scale[:, None]
    live = (1.0 - SAFETY) / norm_fn(rows)
    factor = torch.where(active.to(rows.device), _with_gradient_of(live, scale), scale)
    return rows * factor[:, None]


def _mixed_dual(rows: Tensor) -> Tensor:
    return dual_norm(rows, "mixed")


class MixedNormAffine(nn.Module):
    r"""Affine map :math:`z \mapsto Az + c` non-expansive in the mixed norm (see module docstring).

    Args:
        width: m >= 3.

    Shapes:
        z: ``[B, m]`` -> ``[B, m]``.

    Examples:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> aff = MixedNormAffine(6)
        >>> with torch.no_grad():
        ...     _ = aff.rows.mul_(10.0)
        >>> aff.lipschitz_bound() <= 1.0
        True
    """

    in_norm = "mixed"
    out_norm = "mixed"

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = check_int(width, "width", minimum=3)
        self.rows = nn.Parameter(torch.empty(3, width))
        self.skew = nn.Parameter(torch.empty(width - 3, width - 3))
        self.bias = nn.Parameter(torch.empty(width))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Rows e1, e2, e3 (the official init), S = 0 (Q = I), bias N(0, 0.1²)."""
        with torch.no_grad():
            self.rows.zero_()
            self.rows[0, 0] = self.rows[1, 1] = self.rows[2, 2] = 1.0
            self.skew.zero_()
            nn.init.normal_(self.bias, std=0.1)

    def orthogonal(self) -> Tensor:
        r"""``[m-3, m-3]``: the Cayley transform :math:`(I + K)^{-1}(I - K)` of the skew part
        :math:`K = \tfrac12(S - S^T)` of ``skew``, orthogonal up to rounding."""
        k = 0.5 * (self.skew - self.skew.T)
        eye = torch.eye(k.shape[0], dtype=k.dtype, device=k.device)
        return torch.linalg.solve(eye + k, eye - k)

    def matrix(self) -> Tensor:
        """The effective ``A`` (``[m, m]``), rows and Q rescaled to norm <= 1 - 1e-6."""
        rows = rescale_rows(self.rows, _mixed_dual)
        m = self.width
        if m == 3:
            return rows
        q = self.orthogonal()
        q = rescale(q, orthogonal_norm_bound(q))
        bottom = torch.cat([q.new_zeros(m - 3, 3), q], dim=1)
        return torch.cat([rows, bottom], dim=0)

    def forward(self, z: Tensor) -> Tensor:
        """Shapes: ``[B, m]`` -> ``[B, m]``."""
        check_features(z, self.width, "z")
        return nn.functional.linear(z, self.matrix(), self.bias)

    def lipschitz_bound(self) -> float:
        r"""Exact operator norm in :math:`\|\cdot\|_\star`: max of the rows' dual norms and ‖Q‖₂."""
        a = self.matrix().detach().double()
        rows = float(dual_norm(a[:3], "mixed").max())
        q = spectral_norm(a[3:, 3:]).upper if self.width > 3 else 0.0
        return max(rows, q)

    def constrain_(self) -> None:
        """Store the rescaled rows in place (the forward is unchanged by it; Q needs nothing)."""
        with torch.no_grad():
            scale = row_scales(dual_norm(self.rows.double(), "mixed"))
            self.rows.mul_(scale.to(self.rows.dtype)[:, None])

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        """One ``nn.Linear`` with the effective matrix."""
        lin = nn.Linear(self.width, self.width).to(self.bias.dtype)
        with torch.no_grad():
            lin.weight.copy_(self.matrix())
            lin.bias.copy_(self.bias)
        return [("map", lin.to(self.bias.device))]

    def config(self) -> dict[str, Any]:
        return {"width": self.width}

    def extra_repr(self) -> str:
        return f"{self.width}, bound={self.lipschitz_bound():.6g}"
