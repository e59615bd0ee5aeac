r"""Chebyshev filters :math:`Y = \sum_{k=0}^{K-1} T_k(\hat L) X \Theta_k` (paper eq. 1; K terms).

Three strategies give the same values:

* ``'accumulate'``: :math:`T_0X = X`, :math:`T_1X = \hat LX`, :math:`T_kX = 2\hat LT_{k-1}X -
  T_{k-2}X`, ``out += (T_kX) Θ_k`` (PyG's order of operations);
* ``'stacked'``: one GEMM ``[N, K·Fin] @ [K·Fin, Fout]`` over all :math:`T_kX` (DGL's layout);
* ``'clenshaw'``: :math:`C_k = X\Theta_k`, :math:`b_k = C_k + 2\hat L b_{k+1} - b_{k+2}`,
  :math:`Y = C_0 + \hat L b_1 - b_2`: the SpMMs run on ``Fout`` channels instead of ``Fin``.

``memory_efficient=True`` wraps the filter in a custom autograd function that stores only
``X`` and ``Θ`` (memory :math:`O(NF)` instead of :math:`O(KNF)`) and recomputes in the backward:

.. math::
    \partial\Theta_k = (T_k(\hat L)X)^T G, \qquad
    \partial X = \sum_k T_k(\hat L^T)\, G\Theta_k^T \ \text{(one Clenshaw pass on } \hat L^T),

about 3(K-1) SpMMs in forward plus backward instead of 2(K-1).
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any, Literal

import torch
from torch import Tensor

from sciml_core import InputError

from ._laplacian import ScaledLaplacian

__all__ = ["STRATEGIES", "Strategy", "cheb_basis", "cheb_filter"]

Strategy = Literal["auto", "accumulate", "stacked", "clenshaw"]
"""Order of operations of the filter (same values; ``'auto'`` picks by Fin and Fout)."""
STRATEGIES: tuple[Strategy, ...] = typing.get_args(Strategy)


def cheb_basis(lap: ScaledLaplacian, x: Tensor, K: int) -> Iterator[Tensor]:
    r"""Yield :math:`T_0(\hat L)x, \dots, T_{K-1}(\hat L)x` by the three-term recursion.

    Args:
        lap: the scaled Laplacian.
        x: node features ``[N, F]`` (or ``[B, N, F]``).
        K: number of terms (``K - 1`` hops).

    Examples:
        >>> ei = torch.tensor([[0, 1], [1, 0]])
        >>> lap = ScaledLaplacian.from_graph((ei, None, 2))
        >>> [t.squeeze(1).tolist() for t in cheb_basis(lap, torch.tensor([[1.0], [0.0]]), 3)]
        [[1.0, 0.0], [0.0, -1.0], [1.0, 0.0]]
    """
    _check_k(K)
    t0 = x
    yield t0
    if K == 1:
        return
    t1 = lap @ x
    yield t1
    for _ in range(2, K):
        t0, t1 = t1, 2.0 * (lap @ t1) - t0
        yield t1


def _check_k(K: Any) -> None:
    if isinstance(K, bool) or not isinstance(K, int) or K < 1:
        raise InputError(f"K: expected an integer >= 1 (the number of Chebyshev terms), got {K!r}")


def _filter_accumulate(lap: ScaledLaplacian, x: Tensor, weight: Tensor) -> Tensor:
    out: Tensor | None = None
    for k, tk in enumerate(cheb_basis(lap, x, weight.shape[0])):
        term = tk @ weight[k]
        out = term if out is None else out + term
    assert out is not None
    return out


def _filter_stacked(lap: ScaledLaplacian, x: Tensor, weight: Tensor) -> Tensor:
    K, fin, fout = weight.shape
    basis = torch.cat(list(cheb_basis(lap, x, K)), dim=-1)  # [..., N, K·Fin]
    return basis @ weight.reshape(K * fin, fout)


def _clenshaw(lap: ScaledLaplacian, coef: Any, K: int) -> Tensor:
    """:math:`\\sum_k T_k(\\hat L) C_k` with ``coef(k)`` giving :math:`C_k` (computed lazily)."""
    if K == 1:
        return coef(0)
    b1 = coef(K - 1)  # b_{K-1}; b_K = b_{K+1} = 0
    b2: Tensor | None = None
    for k in range(K - 2, 0, -1):
        nb = coef(k) + 2.0 * (lap @ b1)
        if b2 is not None:
            nb = nb - b2
        b1, b2 = nb, b1
    out = coef(0) + lap @ b1
    return out if b2 is None else out - b2


def _filter_clenshaw(lap: ScaledLaplacian, x: Tensor, weight: Tensor) -> Tensor:
    return _clenshaw(lap, lambda k: x @ weight[k], weight.shape[0])


_STRATEGY_FN = {
    "accumulate": _filter_accumulate,
    "stacked": _filter_stacked,
    "clenshaw": _filter_clenshaw,
}


def _auto(weight: Tensor) -> Strategy:
    # Clenshaw's SpMMs run on Fout channels, the recursion's on Fin channels
    return "clenshaw" if weight.shape[2] < weight.shape[1] else "accumulate"


class _MemoryEfficientFilter(torch.autograd.Function):
    """Chebyshev filter whose backward recomputes the recursion instead of storing K terms."""

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, weight: Tensor, lap: ScaledLaplacian, strategy: Strategy
    ) -> Tensor:
        """``Σ_k T_k(L̂) x Θ_k`` without keeping the ``T_k x``.

        Shapes:
            x: ``[N, Fin]`` or ``[B, N, Fin]``; weight: ``[K, Fin, Fout]``; output: ``[N, Fout]``
            or ``[B, N, Fout]``.
        """
        ctx.lap = lap
        ctx.save_for_backward(x, weight)
        with torch.no_grad():
            return _STRATEGY_FN[strategy](lap, x, weight)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:
        x, weight = ctx.saved_tensors
        lap: ScaledLaplacian = ctx.lap
        K, fin, fout = weight.shape
        gx = gw = None
        if ctx.needs_input_grad[1]:
            g2 = g.reshape(-1, fout)
            gw = torch.empty_like(weight)
            for k, tk in enumerate(cheb_basis(lap, x, K)):
                gw[k] = tk.reshape(-1, fin).t() @ g2
        if ctx.needs_input_grad[0]:
            gx = _clenshaw(lap.T, lambda k: g @ weight[k].t(), K)
        return gx, gw, None, None


def cheb_filter(
    lap: ScaledLaplacian,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    *,
    strategy: Strategy = "auto",
    memory_efficient: bool = False,
) -> Tensor:
    r"""Apply the Chebyshev filter :math:`Y = \sum_{k=0}^{K-1} T_k(\hat L) X \Theta_k + b`.

    Args:
        lap: the scaled Laplacian :math:`\hat L` (its ``dtype``/``device`` must match ``x``).
        x: node features.
        weight: :math:`\Theta`, ``K`` stacked ``[Fin, Fout]`` matrices (K terms, K − 1 hops).
        bias: optional ``[Fout]``.
        strategy: ``'accumulate'``, ``'stacked'``, ``'clenshaw'`` or ``'auto'`` (Clenshaw when
            ``Fout < Fin``, else accumulate).
        memory_efficient: recompute the recursion in the backward (memory flat in K).

    Returns:
        The filtered features.

    Shapes:
        x: ``[N, Fin]`` or ``[B, N, Fin]``; weight: ``[K, Fin, Fout]``; output: ``[N, Fout]`` or
        ``[B, N, Fout]``.

    Examples:
        >>> ei = torch.tensor([[0, 1], [1, 0]])
        >>> lap = ScaledLaplacian.from_graph((ei, None, 2))
        >>> w = torch.ones(2, 1, 1)     # T_0 + T_1 = I + L̂
        >>> cheb_filter(lap, torch.tensor([[1.0], [0.0]]), w).squeeze(1).tolist()
        [1.0, -1.0]
    """
    if not isinstance(weight, Tensor) or weight.dim() != 3:
        raise InputError(
            "weight: expected a tensor [K, Fin, Fout], "
            f"got {getattr(weight, 'shape', type(weight))}"
        )
    if x.shape[-1] != weight.shape[1]:
        raise InputError(
            f"x: expected {weight.shape[1]} features (weight's Fin), got {x.shape[-1]}"
        )
    _check_k(int(weight.shape[0]))
    if strategy not in STRATEGIES:
        raise InputError(f"strategy: expected one of {STRATEGIES}, got {strategy!r}")
    if strategy == "auto":
        strategy = _auto(weight)
    if memory_efficient and torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
        out = _MemoryEfficientFilter.apply(x.contiguous(), weight, lap, strategy)
    else:
        out = _STRATEGY_FN[strategy](lap, x, weight)
    return out if bias is None else out + bias
