r"""The margin-aware training loss of the certified classifiers (ours; spec §2.4).

Cross-entropy at temperature ``T`` on the logits shifted by a margin of ``μ`` in input distance:

.. math::
    \ell(x, y) = \mathrm{CE}\Big(\tfrac1T\big(f_j(x) + \mu\,M_{yj}\,[j \ne y]\big)_j,\; y\Big),

:math:`M_{yj}` the Lipschitz constant of :math:`f_y - f_j` (the classifier's
``margin_lipschitz()``, made differentiable). A point with zero loss has certified radius
:math:`\ge \mu`. For a model without a margin table, :math:`M_{yj} = \sqrt2` (a 1-Lipschitz
logit map).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ._common import check_number

__all__ = ["MarginLoss"]


class MarginLoss(nn.Module):
    """Cross-entropy with a certified margin ``margin`` at temperature ``temperature``.

    Args:
        margin: μ >= 0 (input-space distance).
        temperature: T > 0.

    Shapes:
        logits: ``[B, K]``, y: ``[B]``, table: ``[K, K]`` or None -> scalar.

    Examples:
        >>> loss = MarginLoss(0.5, 0.25)
        >>> logits = torch.tensor([[5.0, 0.0]])
        >>> float(loss(logits, torch.tensor([0]))) < float(loss(logits, torch.tensor([1])))
        True
    """

    def __init__(self, margin: float = 0.25, temperature: float = 0.25) -> None:
        super().__init__()
        self.margin = check_number(margin, "margin")
        self.temperature = check_number(temperature, "temperature", strict=True)

    def forward(self, logits: Tensor, y: Tensor, table: Tensor | None = None) -> Tensor:
        """Shapes: ``[B, K]``, ``[B]``, ``[K, K]`` -> ``[]``."""
        k = logits.shape[1]
        if table is None:
            table = torch.full((k, k), math.sqrt(2.0), dtype=logits.dtype, device=logits.device)
            table.fill_diagonal_(0.0)
        shift = self.margin * table.to(logits)[y]  # [B, K], zero at the true class
        return nn.functional.cross_entropy((logits + shift) / self.temperature, y)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, temperature={self.temperature}"
