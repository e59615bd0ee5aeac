r"""Singular value decompositions of weight matrices, in float64, with a fixed sign convention.

Every factorisation in this package starts here: ``M = U diag(S) V^T`` computed in float64 on
the CPU (``torch.linalg.svd(full_matrices=False)``), each singular pair's sign chosen so that the
largest-magnitude entry of ``u_i`` is positive (so the factors are reproducible), and the proximal
nuclear-norm step, the singular-value soft threshold

.. math::

    \operatorname{prox}_{\tau \|\cdot\|_*}(M)
      = U \operatorname{diag}(\max(\sigma_i - \tau, 0)) V^\top .
"""

from __future__ import annotations

import torch
from torch import nn

from sciml_core import InputError

__all__ = ["singular_value_threshold", "svd"]


def svd(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(U, S, Vh)`` of a matrix, in float64 on the CPU, sign-normalised.

    Args:
        matrix: ``m x n``.

    Returns:
        ``U`` (``m x k``), ``S`` (``k``, non-increasing), ``Vh`` (``k x n``), ``k = min(m, n)``.

    Examples:
        >>> u, s, vh = svd(torch.tensor([[0.0, -2.0], [1.0, 0.0]]))
        >>> s.tolist(), bool((u.abs().argmax(0) == u.argmax(0)).all())
        ([2.0, 1.0], True)
    """
    if matrix.ndim != 2:
        raise ValueError(f"svd needs a matrix; got shape {tuple(matrix.shape)}")
    m = matrix.detach().to(device="cpu", dtype=torch.float64)
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    idx = u.abs().argmax(dim=0)
    sign = torch.sign(u[idx, torch.arange(u.shape[1])])
    sign[sign == 0] = 1.0
    return u * sign, s, vh * sign[:, None]


def singular_value_threshold(weight: torch.Tensor, tau: float) -> torch.Tensor:
    r"""The proximal step of :math:`\tau\|\mathrm{mat}(W)\|_*`: soft-threshold the singular values.

    Args:
        weight: ``O x I`` or ``O x I x k_h x k_w``.
        tau: Threshold, ``>= 0``.

    Returns:
        A tensor of ``weight``'s shape, dtype and device with singular values
        :math:`\max(\sigma_i - \tau, 0)` and the same singular vectors.

    Raises:
        InputError: ``tau`` is negative or not finite.

    Examples:
        >>> w = torch.diag(torch.tensor([3.0, 0.5]))
        >>> singular_value_threshold(w, 1.0).diagonal().tolist()
        [2.0, 0.0]
    """
    tau = float(tau)
    if not tau >= 0.0 or tau == float("inf"):
        raise InputError(f"tau must be a finite number >= 0; got {tau}")
    u, s, vh = svd(weight.reshape(weight.shape[0], -1))
    out = (u * (s - tau).clamp_min(0.0)) @ vh
    return out.reshape(weight.shape).to(dtype=weight.dtype, device=weight.device)


def layer_weight(layer: nn.Module) -> torch.Tensor:
    """``layer.weight`` as a tensor (torch's stubs type a module attribute as ``Tensor | Module``).

    Raises:
        TypeError: ``layer`` has no tensor ``weight`` (a mistake of our own code: callers pass
            ``nn.Conv2d`` / ``nn.Linear`` layers only).
    """
    w = getattr(layer, "weight", None)
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"{type(layer).__name__} has no weight tensor")
    return w


def copy_bias(dst: nn.Module, src: torch.Tensor | None) -> None:
    """Copy ``src`` into ``dst.bias`` (nothing when ``src`` is None); call under ``no_grad``.

    Raises:
        TypeError: ``src`` is given but ``dst`` has no bias tensor (our own mistake).
    """
    if src is None:
        return
    bias = getattr(dst, "bias", None)
    if not isinstance(bias, torch.Tensor):
        raise TypeError(f"{type(dst).__name__} has no bias to copy into")
    bias.copy_(src)
