"""Exact, twice (indeed arbitrarily often) differentiable application of linear operators.

For a linear map ``A`` the vector-Jacobian product of ``x -> A x`` is ``g -> A* g`` and that of
``y -> A* y`` is ``g -> A g``. Each direction is an ``autograd.Function`` whose backward calls the
*other* function (not the raw kernel), so the backward pass is itself recorded when
``create_graph=True`` and higher derivatives are exact. This avoids the once-differentiable VJP
adjoints that hurt unrolled and bilevel solvers elsewhere (deepinv issue #511).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from ._operator import LinearOperator


class _Forward(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, op: LinearOperator) -> torch.Tensor:
        """``op._fwd(x)``; backward applies ``op._adj``.

        Shapes:
            x: ``(..., *in_shape)`` -> ``(..., *out_shape)``.
        """
        ctx.op = op
        return op._fwd(x)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None]:
        return _Adjoint.apply(g, ctx.op), None


class _Adjoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, y: torch.Tensor, op: LinearOperator) -> torch.Tensor:
        """``op._adj(y)``; backward applies ``op._fwd``.

        Shapes:
            y: ``(..., *out_shape)`` -> ``(..., *in_shape)``.
        """
        ctx.op = op
        return op._adj(y)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None]:
        return _Forward.apply(g, ctx.op), None


def apply_forward(op: LinearOperator, x: torch.Tensor) -> torch.Tensor:
    """``A x`` through the exact autograd pair (raw kernel when no gradient is needed)."""
    if torch.is_grad_enabled() and x.requires_grad:
        return _Forward.apply(x, op)
    return op._fwd(x)


def apply_adjoint(op: LinearOperator, y: torch.Tensor) -> torch.Tensor:
    """``A* y`` through the exact autograd pair (raw kernel when no gradient is needed)."""
    if torch.is_grad_enabled() and y.requires_grad:
        return _Adjoint.apply(y, op)
    return op._adj(y)
