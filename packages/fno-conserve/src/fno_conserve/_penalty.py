"""Soft-penalty baseline: a loss term on the conservation residual (never exact)."""

from __future__ import annotations

import torch
from torch import nn

from sciml_core import InputError

from ._constraints import Constraints, LinearConstraint, as_constraint_list


class ConservationPenalty(nn.Module):
    r"""Penalty
    :math:`\lambda \, \mathrm{mean}_b \sum_j \big((C_j u - b_j) / (s_j(y) + \epsilon)\big)^2`.

    The scale :math:`s_j(y) = \sum_i |w_i \phi_j y_i|` (or :math:`Q(y)` for a quadratic law) comes
    from the target, so the weight :math:`\lambda` is dimensionless. It reduces the residual as
    :math:`\lambda` grows but never makes it vanish: the baseline the exact correction beats.

    Args:
        constraints: laws (as for :class:`ConservationCorrection`).
        weight: :math:`\lambda \ge 0`.
        eps: :math:`\epsilon > 0` guarding a zero scale.

    Examples:
        >>> from fno_conserve import LinearConstraint
        >>> pen = ConservationPenalty(LinearConstraint.mass(), weight=1.0)
        >>> y = torch.ones(1, 1, 8)
        >>> pen(y, y, y).item()
        0.0
    """

    def __init__(self, constraints: Constraints, weight: float = 1.0, eps: float = 1e-8) -> None:
        super().__init__()
        self.constraints = as_constraint_list(constraints)
        if not float(weight) >= 0:
            raise InputError(f"weight: expected a non-negative float, got {weight!r}")
        if not float(eps) > 0:
            raise InputError(f"eps: expected a positive float, got {eps!r}")
        self.weight, self.eps = float(weight), float(eps)

    def forward(self, u: torch.Tensor, x: torch.Tensor | None, y: torch.Tensor) -> torch.Tensor:
        """The penalty (a scalar) of output ``u`` for input ``x`` and target ``y``.

        Shapes:
            ``u``, ``y`` ``(B, C, *spatial)``; ``x`` ``(B, C_in, *spatial)``; output ``()``.
        """
        if not isinstance(y, torch.Tensor) or y.shape != u.shape:
            raise InputError(
                f"y: expected the target with u's shape {tuple(u.shape)}, got {y!r:.60}"
            )
        total = u.new_zeros(())
        for law in self.constraints:
            r = law.residual(u, x)  # (B, m)
            if isinstance(law, LinearConstraint):
                b = law.target_values(x, u.shape[0], dtype=u.dtype, device=u.device)
                scale = law.scale(y, x) - b.abs()  # sum_i |w_i phi_j y_i|
            else:
                scale = law.value(y).unsqueeze(1)
            total = total + ((r / (scale + self.eps)) ** 2).sum(dim=1).mean()
        return self.weight * total
