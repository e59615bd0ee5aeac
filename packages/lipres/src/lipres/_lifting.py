r"""The norm-constrained lifting :math:`x \mapsto Ux + b` from :math:`(\mathbb R^d, \ell_2)`.

``norm="l2"``: :math:`\|U\|_2 \le 1` (the gradient-only architecture of Theorem 3.1).
``norm="mixed"``: three top rows :math:`\|u_j\|_2 \le 1` and a lower block :math:`\|L\|_2 \le 1`,
so :math:`\|Ux\|_\star = \max(|u_1^Tx|, |u_2^Tx|, |u_3^Tx|, \|Lx\|_2) \le \|x\|_2` (spec §2.3).
The official code normalises the upper rows but never the lower block (its normalisation is
commented out, spec §4 item 1): its networks are not certified end to end. Here both are rescaled
inside ``forward`` with exact norms.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ._affine import rescale, row_scales
from ._common import SAFETY, check_choice, check_features, check_int
from ._norms import HIDDEN_NORMS, HiddenNorm, spectral_norm

__all__ = ["Lifting"]


class Lifting(nn.Module):
    r"""Lifting :math:`x \mapsto Ux + b`, 1-Lipschitz from ℓ2 to the hidden norm.

    Args:
        in_features: d.
        width: m (>= 3 for ``norm="mixed"``).
        norm: ``"l2"`` or ``"mixed"`` (the hidden norm it maps into).

    Shapes:
        x: ``[B, d]`` -> ``[B, m]``.

    Examples:
        >>> lift = Lifting(2, 6, norm="mixed")
        >>> with torch.no_grad():
        ...     _ = lift.weight.mul_(50.0)
        >>> lift.lipschitz_bound() <= 1.0
        True
    """

    in_norm = "l2"

    def __init__(self, in_features: int, width: int, *, norm: HiddenNorm = "l2") -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.norm: HiddenNorm = check_choice(norm, "norm", HIDDEN_NORMS)
        self.width = check_int(width, "width", minimum=3 if norm == "mixed" else 1)
        self.out_norm = self.norm
        self.weight = nn.Parameter(torch.empty(width, in_features))
        self.bias = nn.Parameter(torch.empty(width))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Orthogonal U (scaled by 1 - 1e-6), uniform bias as ``nn.Linear``."""
        with torch.no_grad():
            nn.init.orthogonal_(self.weight)
            self.weight.mul_(1.0 - SAFETY)
            bound = 1.0 / math.sqrt(self.in_features)
            self.bias.uniform_(-bound, bound)

    def matrix(self) -> Tensor:
        """The effective U, rescaled to the constraint with exact norms."""
        if self.norm == "l2":
            return rescale(self.weight, spectral_norm(self.weight).upper)
        with torch.no_grad():
            row = torch.linalg.vector_norm(self.weight[:3].detach().double(), dim=1)
            scale = row_scales(row).to(self.weight.dtype)
        top = self.weight[:3] * scale[:, None]
        low = self.weight[3:]
        if low.shape[0]:
            low = rescale(low, spectral_norm(low).upper)
        return torch.cat([top, low], dim=0)

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``[B, d]`` -> ``[B, m]``."""
        check_features(x, self.in_features)
        return nn.functional.linear(x, self.matrix(), self.bias)

    def lipschitz_bound(self) -> float:
        """Exact bound from ℓ2 to the hidden norm, from the effective (stored) weights."""
        u = self.matrix().detach().double()
        if self.norm == "l2":
            return spectral_norm(u).upper
        top = float(torch.linalg.vector_norm(u[:3], dim=1).max())
        low = spectral_norm(u[3:]).upper if u.shape[0] > 3 else 0.0
        return max(top, low)

    def constrain_(self) -> None:
        """Store the effective weights (idempotent)."""
        with torch.no_grad():
            self.weight.copy_(self.matrix())

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        lin = nn.Linear(self.in_features, self.width).to(self.bias.dtype)
        with torch.no_grad():
            lin.weight.copy_(self.matrix())
            lin.bias.copy_(self.bias)
        return [("map", lin.to(self.bias.device))]

    def config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "width": self.width, "norm": self.norm}

    def extra_repr(self) -> str:
        return f"{self.in_features} -> {self.width}, norm={self.norm!r}"
