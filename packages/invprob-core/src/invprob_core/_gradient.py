"""Finite-difference gradient with Neumann boundary; its adjoint is minus the divergence."""

from __future__ import annotations

import math
from typing import Literal

import torch

from sciml_core import InputError

from ._operator import LinearOperator, Shape


class Gradient(LinearOperator):
    r"""Forward differences :math:`(\nabla x)_{ij} = (x_{i+1,j} - x_{ij},\ x_{i,j+1} - x_{ij})`.

    Neumann boundary: the difference leaving the image is 0. The adjoint is
    :math:`\nabla^* = -\mathrm{div}` (backward differences), and :math:`\|\nabla\|^2 \le 8`
    (unit spacing), the certified bound used by PDHG.

    Args:
        shape: optional fixed image shape ``(H, W)``.
        boundary: ``"neumann"`` (the only mode in v0.1).

    Shapes:
        x: ``(..., H, W)`` -> ``(..., 2, H, W)`` (vertical, horizontal differences).

    Examples:
        >>> import torch
        >>> Gradient()(torch.arange(4.0).reshape(1, 2, 2)).tolist()
        [[[[2.0, 2.0], [0.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]]]]
    """

    def __init__(
        self, shape: Shape | None = None, boundary: Literal["neumann"] = "neumann"
    ) -> None:
        if boundary != "neumann":
            raise InputError(f"boundary: expected 'neumann', got {boundary!r}")
        super().__init__(shape, None if shape is None else (2, *shape))
        self.boundary = boundary

    def output_shape(self, in_shape: Shape) -> Shape:
        return (2, *in_shape[-2:])

    def _fwd(self, x: torch.Tensor) -> torch.Tensor:
        out = x.new_zeros(*x.shape[:-2], 2, *x.shape[-2:])
        out[..., 0, :-1, :] = x[..., 1:, :] - x[..., :-1, :]
        out[..., 1, :, :-1] = x[..., :, 1:] - x[..., :, :-1]
        return out

    def _adj(self, y: torch.Tensor) -> torch.Tensor:
        gv, gh = y[..., 0, :, :], y[..., 1, :, :]
        out = y.new_zeros(gv.shape)
        out[..., :-1, :] -= gv[..., :-1, :]
        out[..., 1:, :] += gv[..., :-1, :]
        out[..., :, :-1] -= gh[..., :, :-1]
        out[..., :, 1:] += gh[..., :, :-1]
        return out

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        r"""Negative divergence :math:`\nabla^* y = -\mathrm{div}\, y`.

        Shapes:
            y: ``(..., 2, H, W)`` -> ``(..., H, W)``.
        """
        if isinstance(y, torch.Tensor) and (y.ndim < 3 or y.shape[-3] != 2):
            raise InputError(f"y: expected shape (..., 2, H, W), got {tuple(y.shape)}")
        return super().adjoint(y)

    def upper_bound(self, in_shape: Shape | None = None) -> float | None:
        return math.sqrt(8.0)
