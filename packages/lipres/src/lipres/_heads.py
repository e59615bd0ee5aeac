r"""Output maps: a scalar functional and a classifier head (spec §2.3-2.4).

``ScalarHead``: :math:`f(z) = c\,v^Tz + \beta` with :math:`\|v\|_{\text{dual}} \le 1` and
:math:`|c| \le L`; its Lipschitz constant from the hidden norm is exactly :math:`|c|\,
\|v\|_{\text{dual}}` (the official code bounds :math:`\|v\|_1 \le 1`, a stricter, sufficient
condition; we use the exact dual norm).

``ClassifierHead``: :math:`f_j(z) = v_j^Tz + \beta_j`, unconstrained. A certificate needs only the
Lipschitz constants of the margins :math:`f_y - f_j`, which are exactly
:math:`\|v_y - v_j\|_{\text{dual}}` times the backbone's bound
(:meth:`ClassifierHead.margin_table`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ._affine import rescale
from ._common import check_choice, check_features, check_int, check_number
from ._norms import HIDDEN_NORMS, HiddenNorm, dual_norm, spectral_norm

__all__ = ["ClassifierHead", "ScalarHead"]


class ScalarHead(nn.Module):
    r"""Scalar output :math:`c\,v^Tz + \beta`, :math:`\|v\|_{\text{dual}} \le 1`, :math:`|c| \le L`.

    Args:
        width: m.
        norm: hidden norm, ``"l2"`` or ``"mixed"``.
        scale: L, the largest :math:`|c|` (the network's Lipschitz target).

    Shapes:
        z: ``[B, m]`` -> ``[B]``.

    Examples:
        >>> head = ScalarHead(5, norm="mixed")
        >>> with torch.no_grad():
        ...     _ = head.weight.fill_(3.0)
        >>> head.lipschitz_bound() <= 1.0
        True
    """

    out_norm = "l2"

    def __init__(self, width: int, *, norm: HiddenNorm = "l2", scale: float = 1.0) -> None:
        super().__init__()
        self.width = check_int(width, "width", minimum=1)
        self.norm: HiddenNorm = check_choice(norm, "norm", HIDDEN_NORMS)
        self.in_norm = self.norm
        self.scale = check_number(scale, "scale", strict=True)
        self.weight = nn.Parameter(torch.empty(width))
        self.c = nn.Parameter(torch.empty(()))
        self.bias = nn.Parameter(torch.empty(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """v uniform with dual norm scaled to 1, c = L, bias 0."""
        with torch.no_grad():
            self.weight.uniform_(-1.0, 1.0)
            self.weight.div_(float(dual_norm(self.weight.double(), self.norm)))
            self.c.fill_(self.scale)
            self.bias.zero_()

    def effective(self) -> tuple[Tensor, Tensor]:
        """The applied ``(v, c)``: v with dual norm <= 1 (see :func:`rescale`), c clamped to ±L."""
        with torch.no_grad():
            n = float(dual_norm(self.weight.detach().double(), self.norm))
        return rescale(self.weight, n), self.c.clamp(-self.scale, self.scale)

    def forward(self, z: Tensor) -> Tensor:
        """Shapes: ``[B, m]`` -> ``[B]``."""
        check_features(z, self.width, "z")
        v, c = self.effective()
        return c * (z @ v) + self.bias

    def lipschitz_bound(self) -> float:
        """Exact: ``|c| * dual_norm(v)`` of the applied weights, in float64."""
        v, c = self.effective()
        return abs(float(c.detach())) * float(dual_norm(v.detach().double(), self.norm))

    def constrain_(self) -> None:
        """Store the applied v and c."""
        v, c = self.effective()
        with torch.no_grad():
            self.weight.copy_(v)
            self.c.copy_(c)

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        v, c = self.effective()
        lin = nn.Linear(self.width, 1).to(self.bias.dtype)
        with torch.no_grad():
            lin.weight.copy_((c * v)[None, :])
            lin.bias.copy_(self.bias.reshape(1))
        return [("map", lin.to(self.bias.device)), ("map", nn.Flatten(0, -1))]

    def config(self) -> dict[str, Any]:
        return {"width": self.width, "norm": self.norm, "scale": self.scale}

    def extra_repr(self) -> str:
        return f"{self.width}, norm={self.norm!r}, scale={self.scale}"


class ClassifierHead(nn.Module):
    r"""Logits :math:`f(z) = Vz + \beta`, unconstrained rows; margins certified by their dual norms.

    Args:
        width: m.
        n_classes: K >= 2.
        norm: hidden norm, ``"l2"`` or ``"mixed"``.

    Shapes:
        z: ``[B, m]`` -> ``[B, K]``.

    Examples:
        >>> head = ClassifierHead(4, 3)
        >>> table = head.margin_table()
        >>> table.shape, bool((table.diagonal() == 0).all())
        (torch.Size([3, 3]), True)
    """

    out_norm = "l2"

    def __init__(self, width: int, n_classes: int, *, norm: HiddenNorm = "l2") -> None:
        super().__init__()
        self.width = check_int(width, "width", minimum=1)
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.norm: HiddenNorm = check_choice(norm, "norm", HIDDEN_NORMS)
        self.in_norm = self.norm
        self.weight = nn.Parameter(torch.empty(n_classes, width))
        self.bias = nn.Parameter(torch.empty(n_classes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Linear``'s uniform init."""
        bound = 1.0 / math.sqrt(self.width)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.bias.uniform_(-bound, bound)

    def forward(self, z: Tensor) -> Tensor:
        """Shapes: ``[B, m]`` -> ``[B, K]``."""
        check_features(z, self.width, "z")
        return nn.functional.linear(z, self.weight, self.bias)

    def margin_table(self, *, differentiable: bool = False) -> Tensor:
        r"""``[K, K]``: entry (y, j) is :math:`\|v_y - v_j\|_{\text{dual}}` (float64 unless
        ``differentiable``, then in the weights' dtype with gradients, for :class:`MarginLoss`)."""
        w = self.weight if differentiable else self.weight.detach().double()
        diff = w[:, None, :] - w[None, :, :]
        return dual_norm(diff, self.norm)

    def lipschitz_bound(self) -> float:
        r"""Proven ℓ2 bound of the logits: :math:`\|V\|_2` (ℓ2 hidden) or
        :math:`(\sum_j \|v_j\|_{\star,*}^2)^{1/2}` (mixed hidden)."""
        w = self.weight.detach().double()
        if self.norm == "l2":
            return spectral_norm(w).upper
        return float(torch.linalg.vector_norm(dual_norm(w, "mixed"))) * (1 + 1e-12)

    def constrain_(self) -> None:
        """Nothing to constrain."""

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        lin = nn.Linear(self.width, self.n_classes).to(self.bias.dtype)
        with torch.no_grad():
            lin.weight.copy_(self.weight)
            lin.bias.copy_(self.bias)
        return [("map", lin.to(self.bias.device))]

    def config(self) -> dict[str, Any]:
        return {"width": self.width, "n_classes": self.n_classes, "norm": self.norm}

    def extra_repr(self) -> str:
        return f"{self.width} -> {self.n_classes}, norm={self.norm!r}"
