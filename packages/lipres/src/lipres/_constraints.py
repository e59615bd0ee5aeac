"""In-place maintenance of the constraints: projection and exact norm refresh (spec §5.3).

Every lipres layer applies its constraint inside ``forward`` from its raw parameters (rescaled
weights, capped step), with exact norms by default, so any optimiser and scheduler work unchanged
and no forward is ever uncertified. :func:`constrain_` additionally stores the constrained values
in the raw parameters (keeps them bounded; the forward is unchanged by it), and
:func:`refresh_norms_` re-computes the exact norms that ``norm="power"`` layers cap their steps
with.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._gradient_step import GradientStep

__all__ = ["ConstrainedOptimizer", "constrain_", "refresh_norms_"]


def constrain_(model: nn.Module) -> nn.Module:
    """Store every lipres layer's constrained weights and exact step caps in place; returns it.

    Examples:
        >>> block = GradientStep(3)
        >>> with torch.no_grad():
        ...     _ = block.tau.fill_(50.0)
        >>> tau = float(constrain_(block).tau.detach())
        >>> tau <= 2.0 / float(torch.linalg.matrix_norm(block.weight.detach(), 2)) ** 2
        True
    """
    for module in model.modules():
        fn = getattr(module, "constrain_", None)
        if callable(fn):
            fn()
    return model


def refresh_norms_(model: nn.Module, *, exact: bool = True) -> nn.Module:
    """Refresh the stored spectral norms of every gradient block (exact by default); returns it."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, GradientStep):
                module.refresh_norm_(exact=exact)
    return model


class ConstrainedOptimizer:
    """Wrap an optimiser so that :func:`constrain_` runs after every ``step()``.

    Args:
        optimizer: any ``torch.optim.Optimizer``.
        model: the model whose constraints to store.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, model: nn.Module) -> None:
        self.optimizer = optimizer
        self.model = model

    def step(self, closure: Any = None) -> Any:
        out = self.optimizer.step(closure)
        constrain_(self.model)
        return out

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.optimizer, name)
