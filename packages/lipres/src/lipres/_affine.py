r"""The norm-constrained interlayer map of the fixed-width architecture (spec §2.3).

.. math::
    z \mapsto Az + c, \qquad A = \begin{bmatrix} a_1^T \\ a_2^T \\ a_3^T \\ 0 \;|\; Q \end{bmatrix},
    \quad \|a_j\|_{\star,*} \le 1, \quad \|Q\|_2 \le 1 .

For :math:`\|z\|_\star = \max(|z_1|, |z_2|, |z_3|, \|z_{4:}\|_2)` the operator norm of ``A`` is
exactly :math:`\max(\max_j \|a_j\|_{\star,*}, \|Q\|_2)`: :math:`|a_j^Tz| \le \|a_j\|_{\star,*}
\|z\|_\star` with equality attained, and :math:`\|Qz_{4:}\|_2 \le \|Q\|_2\|z\|_\star`. The
official ``IntermediateAffine`` (the maps that make Theorem 4.1's fixed-width density work)
rescales each row by :math:`\max(1, \|a_j\|_{\star,*})` after every optimiser step and takes
:math:`Q = \exp(\tfrac12(S - S^T))`, orthogonal. Here the rescaling happens inside ``forward``
(so no step is ever uncertified), and ``Q`` is any matrix rescaled to :math:`\|Q\|_2 \le 1` by its
exact norm (initialised orthogonal): the non-expansiveness needs only the norm bound, and the
matrix exponential's forward and backward cost about 7 ms per map and step on one CPU thread
(85 % of a width-8 training step), a rescaled matrix about 0.2 ms.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ._common import SAFETY, check_features, check_int
from ._norms import dual_norm, spectral_norm

__all__ = ["MixedNormAffine", "rescale", "row_scales"]


def rescale(weight: Tensor, norm: float) -> Tensor:
    """``weight`` if its (float64, proven) norm is <= 1, else ``weight * (1 - 1e-6) / norm``.

    A weight of norm exactly 1 in float64 (``e_1``, ``(1, -1)/√2`` is not, ``±1`` is) is kept,
    so exact constructions (|x|, max of affine functions) stay exact; a rescaled one lands at
    ``1 - 1e-6``, far enough below 1 that float32 storage cannot push its float64 norm above 1
    (spec §4 item 8). The factor is a constant for autograd.
    """
    if norm <= 1.0:
        return weight
    return weight * ((1.0 - SAFETY) / norm)


def row_scales(norms: Tensor) -> Tensor:
    """Per-row factors of :func:`rescale` (float64 in, float64 out)."""
    return torch.where(norms <= 1.0, torch.ones_like(norms), (1.0 - SAFETY) / norms)


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
        self.block = nn.Parameter(torch.empty(width - 3, width - 3))
        self.bias = nn.Parameter(torch.empty(width))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Rows e1, e2, e3 (the official init), Q orthogonal, bias N(0, 0.1²)."""
        with torch.no_grad():
            self.rows.zero_()
            self.rows[0, 0] = self.rows[1, 1] = self.rows[2, 2] = 1.0
            if self.width > 3:
                nn.init.orthogonal_(self.block)
                self.block.mul_(1.0 - SAFETY)
            nn.init.normal_(self.bias, std=0.1)

    def matrix(self) -> Tensor:
        """The effective ``A`` (``[m, m]``), rows and Q rescaled to norm <= 1 - 1e-6."""
        with torch.no_grad():
            scale = row_scales(dual_norm(self.rows.detach().double(), "mixed"))
        rows = self.rows * scale.to(self.rows.dtype)[:, None]
        m = self.width
        if m == 3:
            return rows
        q = rescale(self.block, spectral_norm(self.block).upper)
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
        """Store the rescaled rows and Q in place (the forward is unchanged by it)."""
        with torch.no_grad():
            scale = row_scales(dual_norm(self.rows.double(), "mixed"))
            self.rows.mul_(scale.to(self.rows.dtype)[:, None])
            if self.width > 3:
                self.block.copy_(rescale(self.block, spectral_norm(self.block).upper))

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
