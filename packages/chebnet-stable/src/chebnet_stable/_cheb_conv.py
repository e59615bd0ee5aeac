r"""ChebConv with PyG's semantics, a cached Laplacian and an optional memory-lean backward."""

from __future__ import annotations

import math
import typing
from typing import Any, Literal

import torch
from torch import Tensor, nn

from sciml_core import InputError

from ._chebyshev import STRATEGIES, Strategy, _check_k, cheb_filter
from ._laplacian import Normalization, ScaledLaplacian, check_normalization

__all__ = ["INITS", "ChebConv", "Init", "as_laplacian"]

Init = Literal["glorot", "variance_preserving"]
"""Glorot per term (PyG parity) or Glorot times √(2/(K+1)) (gain ≈ 1 at any K)."""
INITS: tuple[Init, ...] = typing.get_args(Init)


def as_laplacian(
    graph: Any,
    x: Tensor,
    *,
    normalization: Normalization | None,
    edge_weight: Tensor | None = None,
    batch: Tensor | None = None,
    lambda_max: Any = None,
    symmetrize: bool | None = None,
) -> ScaledLaplacian:
    """The scaled Laplacian for ``x``: the cached one (moved to x's dtype/device) or a fresh one."""
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise InputError(f"x: expected a floating-point tensor, got {getattr(x, 'dtype', type(x))}")
    # a sum of finite numbers can overflow, but any NaN or inf makes it non-finite: the
    # elementwise check runs only then (one reduction instead of a mask and a reduction)
    xd = x.detach()
    if not bool(torch.isfinite(xd.sum())) and not bool(torch.isfinite(xd).all()):
        raise InputError("x: node features contain NaN or inf")
    if isinstance(graph, ScaledLaplacian):
        if edge_weight is not None or batch is not None or lambda_max is not None:
            raise InputError(
                "graph: a ScaledLaplacian already fixes edge weights, batch and lambda_max; "
                "pass them to ScaledLaplacian.from_graph instead"
            )
        if graph.normalization != normalization:
            raise InputError(
                f"graph: the Laplacian has normalization {graph.normalization!r}, "
                f"the layer expects {normalization!r}"
            )
        return graph.to(x.device, x.dtype)
    n = int(x.shape[-2]) if x.dim() >= 2 else int(x.shape[0])
    return ScaledLaplacian.from_graph(
        graph,
        normalization=normalization,
        lambda_max=lambda_max,
        batch=batch,
        edge_weight=edge_weight,
        num_nodes=n,
        symmetrize=symmetrize,
        dtype=x.dtype,
        device=x.device,
    )


def init_cheb_weight(weight: Tensor, *, init: Init) -> None:
    """Glorot-uniform per term (PyG), optionally times √(2/(K+1)) so the layer's gain is ≈ 1."""
    K, fin, fout = weight.shape
    bound = math.sqrt(6.0 / (fin + fout))
    if init == "variance_preserving":
        bound *= math.sqrt(2.0 / (K + 1))
    with torch.no_grad():
        weight.uniform_(-bound, bound)


class ChebConv(nn.Module):
    r"""Chebyshev spectral graph convolution (Defferrard et al. 2016; Hariri et al. 2025, eq. 1).

    .. math::
        Y = \sum_{k=0}^{K-1} T_k(\hat L)\, X\, \Theta_k + b,\qquad
        \hat L = \frac{2L}{\lambda_{\max}} - I,

    with :math:`T_0X = X`, :math:`T_1X = \hat LX`, :math:`T_kX = 2\hat LT_{k-1}X - T_{k-2}X`.

    **K is the number of terms** (as in PyG and the authors' code): one layer reaches ``K − 1`` hops
    and ``K = 1`` is a bias-carrying linear layer. (The paper's eqs. 1 and 7 sum ``k = 0..K``.)

    Outputs equal PyG's ``ChebConv`` with the same weights (:meth:`from_pyg`), for every
    normalisation, with one documented difference: for ``normalization=None`` without an explicit
    ``lambda_max``, PyG uses ``2·max degree`` over the whole mini-batch, we use it **per graph**, so
    our outputs do not depend on what else is in the batch. For ``'rw'`` the operator applied is
    :math:`I - AD^{-1}` (PyG's source-to-target direction), the transpose of :math:`I - D^{-1}A`.

    Args:
        in_channels: input features ``Fin``.
        out_channels: output features ``Fout``.
        K: number of Chebyshev terms (≥ 1).
        normalization: ``'sym'``, ``'rw'`` or ``None``.
        bias: learn an additive bias.
        init: ``'glorot'`` (per term, PyG parity; the layer's gain grows like √((K+1)/2)) or
            ``'variance_preserving'`` (Glorot times √(2/(K+1)): gain ≈ 1 at any K).
        strategy: see :func:`cheb_filter`.
        memory_efficient: recompute the recursion in the backward (memory flat in K).
        symmetrize: what to do with directed input (see :meth:`ScaledLaplacian.from_graph`).

    Shapes:
        x: ``[N, Fin]``; graph: a :class:`ScaledLaplacian` (warm path, built once) or any graph form
        (cold path, rebuilt on each call as PyG does); output: ``[N, Fout]``.

    Examples:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> conv = ChebConv(4, 2, K=3)
        >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> lap = ScaledLaplacian.from_graph((ei, None, 3))   # built once, reused
        >>> conv(torch.randn(3, 4), lap).shape
        torch.Size([3, 2])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        K: int,
        *,
        normalization: Normalization | None = "sym",
        bias: bool = True,
        init: Init = "glorot",
        strategy: Strategy = "auto",
        memory_efficient: bool = False,
        symmetrize: bool | None = None,
    ) -> None:
        super().__init__()
        _check_k(K)
        for name, val in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(val, bool) or not isinstance(val, int) or val < 1:
                raise InputError(f"{name}: expected an integer >= 1, got {val!r}")
        if init not in INITS:
            raise InputError(f"init: expected one of {INITS}, got {init!r}")
        if strategy not in STRATEGIES:
            raise InputError(f"strategy: expected one of {STRATEGIES}, got {strategy!r}")
        self.in_channels, self.out_channels, self.K = in_channels, out_channels, K
        self.normalization = check_normalization(normalization)
        self.init, self.strategy = init, strategy
        self.memory_efficient, self.symmetrize = memory_efficient, symmetrize
        self.weight = nn.Parameter(torch.empty(K, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot (or variance-preserving) weights, zero bias."""
        init_cheb_weight(self.weight, init=self.init)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(
        self,
        x: Tensor,
        graph: Any,
        *,
        edge_weight: Tensor | None = None,
        batch: Tensor | None = None,
        lambda_max: Any = None,
    ) -> Tensor:
        """Filter ``x`` on ``graph`` (see the class docstring).

        Shapes:
            x: ``[N, Fin]``; edge_weight: ``[E]`` (cold path only); batch: ``[N]``; lambda_max:
            a scalar or ``[num_graphs]``; output: ``[N, Fout]``.
        """
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise InputError(
                f"x: expected [N, {self.in_channels}], got {tuple(getattr(x, 'shape', ()))}"
            )
        lap = as_laplacian(
            graph,
            x,
            normalization=self.normalization,
            edge_weight=edge_weight,
            batch=batch,
            lambda_max=lambda_max,
            symmetrize=self.symmetrize,
        )
        return cheb_filter(
            lap,
            x,
            self.weight,
            self.bias,
            strategy=self.strategy,
            memory_efficient=self.memory_efficient,
        )

    # ------------------------------------------------------------------ PyG interop
    @classmethod
    def from_pyg(cls, module: Any, **kwargs: Any) -> ChebConv:
        """A ChebConv with the weights of a PyG ``ChebConv`` (``Θ_k = lins[k].weight^T``)."""
        lins = module.lins
        conv = cls(
            module.in_channels,
            module.out_channels,
            len(lins),
            normalization=module.normalization,
            bias=module.bias is not None,
            **kwargs,
        )
        with torch.no_grad():
            for k, lin in enumerate(lins):
                conv.weight[k].copy_(lin.weight.t())
            if module.bias is not None:
                assert conv.bias is not None
                conv.bias.copy_(module.bias)
        return conv

    def to_pyg_state_dict(self) -> dict[str, Tensor]:
        """This layer's weights as a PyG ``ChebConv`` ``state_dict``."""
        out = {f"lins.{k}.weight": self.weight[k].detach().t().clone() for k in range(self.K)}
        if self.bias is not None:
            out["bias"] = self.bias.detach().clone()
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, K={self.K}, "
            f"normalization={self.normalization!r}, init={self.init!r}, "
            f"memory_efficient={self.memory_efficient}"
        )
