"""Quadrature-weighted relative Lp loss (discretisation-consistent)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import torch
from torch import nn

from sciml_core import InputError

from ._grid import RULES, Rule, quadrature_weights

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS: tuple[Reduction, ...] = get_args(Reduction)
"""How :class:`RelLpLoss` reduces over the batch."""


class RelLpLoss(nn.Module):
    r"""Relative Lp error :math:`\|u - y\|_{L^p_W} / \|y\|_{L^p_W}` per sample, mean over the batch.

    :math:`\|f\|_{L^p_W}^p = \sum_c \sum_i w_i |f_{c,i}|^p` with quadrature weights ``w`` of
    ``rule``,
    so the value approximates the continuous relative error and does not depend on the grid
    (for ``p = 2`` and band-limited periodic fields it is exactly the same at every resolution).

    Args:
        p: exponent (``p >= 1``).
        rule: quadrature rule (``"periodic"``, ``"trapezoid"``, ``"cells"``).
        lengths: box side lengths.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` over the batch.

    Examples:
        >>> y = torch.ones(2, 1, 8)
        >>> RelLpLoss()(1.5 * y, y).item()
        0.5
    """

    def __init__(
        self,
        p: float = 2,
        rule: Rule = "periodic",
        lengths: float | Sequence[float] = 1.0,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        if not float(p) >= 1:
            raise InputError(f"p: expected p >= 1, got {p!r}")
        if rule not in RULES:
            raise InputError(f"rule: expected one of {RULES}, got {rule!r}")
        if reduction not in REDUCTIONS:
            raise InputError(f"reduction: expected one of {REDUCTIONS}, got {reduction!r}")
        self.p, self.rule, self.lengths, self.reduction = float(p), rule, lengths, reduction

    def forward(self, u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Relative error of ``u`` against ``y``.

        Shapes:
            ``u``, ``y`` ``(B, C, *spatial)``; output ``()`` (``"mean"``, ``"sum"``) or ``(B,)``
            (``"none"``).
        """
        if not isinstance(u, torch.Tensor) or not isinstance(y, torch.Tensor) or u.shape != y.shape:
            raise InputError(
                f"u, y: expected tensors of the same shape (B, C, *spatial), got "
                f"{getattr(u, 'shape', type(u))} and {getattr(y, 'shape', type(y))}"
            )
        if u.ndim < 3:
            raise InputError(f"u: expected shape (B, C, *spatial), got {tuple(u.shape)}")
        w = quadrature_weights(
            tuple(u.shape[2:]), self.lengths, self.rule, dtype=u.dtype, device=u.device
        )
        dims = tuple(range(1, u.ndim))
        num = ((u - y).abs() ** self.p * w).sum(dim=dims) ** (1 / self.p)
        den = (y.abs() ** self.p * w).sum(dim=dims) ** (1 / self.p)
        rel = num / den
        if self.reduction == "mean":
            return rel.mean()
        if self.reduction == "sum":
            return rel.sum()
        return rel
