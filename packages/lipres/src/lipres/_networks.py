r"""The two 1-Lipschitz ResNets of Murari, Furuya, Schönlieb (2025) and their classifier.

``architecture="gradient"`` (Theorem 3.1: dense when width and depth grow; exact on
piecewise-affine targets): ℓ2 throughout,

.. math:: f = \text{head} \circ R_L \circ \dots \circ R_1 \circ U, \quad \|U\|_2 \le 1,

with gradient blocks :math:`R_i` (:class:`~lipres.GradientStep`) and :math:`\|v\|_2 \le 1`.

``architecture="fixed-width"`` (Theorem 4.1: dense at a fixed hidden width m >= 3 once
norm-constrained affine maps sit between the blocks): the hidden state carries the mixed norm
:math:`\|z\|_\star`,

.. math:: f = \text{head} \circ A_L \circ R^{\text{aug}}_L \circ \dots \circ A_1 \circ
   R^{\text{aug}}_1 \circ U,

with augmented blocks (max/min + gradient, :class:`~lipres.AugmentedGradientStep`), interlayer
maps :class:`~lipres.MixedNormAffine` and a head with :math:`\|v\|_{\star,*} \le 1`, the order of
the official ``InvNet`` (``z = block(z); z = affine(z)``). Every map is constrained, so
:meth:`LipResNet.lipschitz_bound` (the product of exact per-map bounds) is at most ``lipschitz``.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any, Literal

from torch import Tensor, nn

from sciml_core import InputError

from ._affine import MixedNormAffine
from ._certify import chain_bound
from ._common import (
    ACTIVATIONS,
    NORM_MODES,
    Activation,
    NormMode,
    check_choice,
    check_features,
    check_int,
    check_number,
)
from ._gradient_step import GradientStep
from ._heads import ClassifierHead, ScalarHead
from ._lifting import Lifting
from ._maxmin import AugmentedGradientStep
from ._norms import HiddenNorm

__all__ = ["ARCHITECTURES", "Architecture", "LipResNet", "LipResNetClassifier"]

Architecture = Literal["gradient", "fixed-width"]
ARCHITECTURES: tuple[Architecture, ...] = typing.get_args(Architecture)


class _Backbone(nn.Module):
    """Lifting, blocks and interlayer maps shared by the regressor and the classifier."""

    def __init__(
        self,
        in_features: int,
        width: int,
        depth: int,
        architecture: Architecture,
        activation: Activation,
        step: str | float,
        norm: NormMode,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.architecture: Architecture = check_choice(architecture, "architecture", ARCHITECTURES)
        fixed = architecture == "fixed-width"
        if fixed and (isinstance(width, int) and not isinstance(width, bool) and width < 3):
            raise InputError(f"width: the fixed-width architecture needs width >= 3, got {width}")
        self.width = check_int(width, "width", minimum=1)
        self.depth = check_int(depth, "depth", minimum=0)
        self.activation: Activation = check_choice(activation, "activation", ACTIVATIONS)
        self.norm: NormMode = check_choice(norm, "norm", NORM_MODES)
        self.step = step
        self.hidden_norm: HiddenNorm = "mixed" if fixed else "l2"
        self.lift: nn.Module = Lifting(in_features, width, norm=self.hidden_norm)
        opts: dict[str, Any] = {"activation": activation, "step": step, "norm": norm}
        blocks: list[nn.Module] = [
            AugmentedGradientStep(width, **opts) if fixed else GradientStep(width, **opts)
            for _ in range(depth)
        ]
        self.blocks = nn.ModuleList(blocks)
        self.maps = nn.ModuleList([MixedNormAffine(width) for _ in range(depth if fixed else 0)])

    def named_maps(self) -> Iterator[tuple[str, nn.Module]]:
        yield "lift", self.lift
        for i, block in enumerate(self.blocks):
            yield f"blocks.{i}", block
            if len(self.maps):
                yield f"maps.{i}", self.maps[i]

    def features(self, x: Tensor) -> Tensor:
        check_features(x, self.in_features)
        for _, module in self.named_maps():
            x = module(x)
        return x

    def config(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "width": self.width,
            "depth": self.depth,
            "architecture": self.architecture,
            "activation": self.activation,
            "step": self.step,
            "norm": self.norm,
        }


class LipResNet(_Backbone):
    r"""A scalar 1-Lipschitz ResNet (gradient or fixed-width architecture, see module docstring).

    Args:
        in_features: d.
        width: hidden width m (>= 3 for ``"fixed-width"``).
        depth: number of blocks L >= 0.
        architecture: ``"gradient"`` or ``"fixed-width"``.
        lipschitz: the target Lipschitz constant L > 0 (the head's scale bound).
        activation, step, norm: as :class:`~lipres.GradientStep`.

    Shapes:
        x: ``[B, d]`` -> ``[B]``.

    Examples:
        >>> import torch
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> net = LipResNet(2, 8, 3, architecture="fixed-width").double()
        >>> x = torch.randn(200, 2, dtype=torch.float64)
        >>> y = torch.randn(200, 2, dtype=torch.float64)
        >>> ratio = (net(x) - net(y)).abs() / (x - y).norm(dim=1)
        >>> bound = net.lipschitz_bound()
        >>> bound <= 1.0, bool(ratio.max() <= bound)
        (True, True)
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        depth: int,
        *,
        architecture: Architecture = "gradient",
        lipschitz: float = 1.0,
        activation: Activation = "relu",
        step: str | float = "learned",
        norm: NormMode = "verified",
    ) -> None:
        super().__init__(in_features, width, depth, architecture, activation, step, norm)
        self.lipschitz = check_number(lipschitz, "lipschitz", strict=True)
        self.head: nn.Module = ScalarHead(width, norm=self.hidden_norm, scale=self.lipschitz)

    def named_maps(self) -> Iterator[tuple[str, nn.Module]]:
        """Every map in order: ``lift``, ``blocks.i`` (and ``maps.i``), ``head``."""
        yield from super().named_maps()
        yield "head", self.head

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``[B, d]`` -> ``[B]``."""
        return self.features(x)

    def lipschitz_bound(self) -> float:
        """Proven ℓ2 bound: the product of the exact bounds of every map (raises
        :class:`~lipres.NotCertifiedError` naming an unconstrained one)."""
        return chain_bound(self.named_maps(), owner=type(self).__name__)

    def config(self) -> dict[str, Any]:
        return {"class": "LipResNet", **super().config(), "lipschitz": self.lipschitz}

    def extra_repr(self) -> str:
        return f"architecture={self.architecture!r}, width={self.width}, depth={self.depth}"


class LipResNetClassifier(_Backbone):
    r"""A 1-Lipschitz ResNet backbone with an unconstrained linear head, certified by margins.

    The margin :math:`f_y - f_j` is :math:`L_z\|v_y - v_j\|_{\text{dual}}`-Lipschitz
    (:meth:`margin_lipschitz`), which :func:`~lipres.certified_radius` uses.

    Args:
        in_features: d.
        n_classes: K >= 2.
        width, depth, architecture, activation, step, norm: as :class:`LipResNet`.

    Shapes:
        x: ``[B, d]`` -> ``[B, K]``.

    Examples:
        >>> import torch
        >>> net = LipResNetClassifier(4, 3, width=6, depth=2)
        >>> net(torch.randn(5, 4)).shape, net.margin_lipschitz().shape
        (torch.Size([5, 3]), torch.Size([3, 3]))
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        width: int,
        depth: int,
        *,
        architecture: Architecture = "gradient",
        activation: Activation = "relu",
        step: str | float = "learned",
        norm: NormMode = "verified",
    ) -> None:
        super().__init__(in_features, width, depth, architecture, activation, step, norm)
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.head: nn.Module = ClassifierHead(width, n_classes, norm=self.hidden_norm)

    def named_maps(self) -> Iterator[tuple[str, nn.Module]]:
        """Every map in order: ``lift``, ``blocks.i`` (and ``maps.i``), ``head``."""
        yield from super().named_maps()
        yield "head", self.head

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``[B, d]`` -> ``[B, K]``."""
        return self.features(x)

    def backbone_bound(self) -> float:
        """Proven bound of ``x -> z`` from ℓ2 to the hidden norm."""
        maps = [(n, m) for n, m in self.named_maps() if n != "head"]
        return chain_bound(maps, owner=type(self).__name__)

    def lipschitz_bound(self) -> float:
        """Proven ℓ2 -> ℓ2 bound of the logits (backbone bound times the head's)."""
        return chain_bound(self.named_maps(), owner=type(self).__name__)

    def margin_lipschitz(self) -> Tensor:
        """``[K, K]`` float64: the Lipschitz constant of each margin ``f_y - f_j``."""
        head = self.head
        if not isinstance(head, ClassifierHead):
            raise InputError(f"head: expected a ClassifierHead, got {type(head).__name__}")
        return self.backbone_bound() * head.margin_table()

    def training_margin_table(self) -> Tensor:
        """Differentiable ``[K, K]`` dual norms of the head's row differences (backbone bound
        taken as its certified upper value 1), for :class:`~lipres.MarginLoss`."""
        head = self.head
        if not isinstance(head, ClassifierHead):
            raise InputError(f"head: expected a ClassifierHead, got {type(head).__name__}")
        return head.margin_table(differentiable=True)

    def config(self) -> dict[str, Any]:
        return {"class": "LipResNetClassifier", **super().config(), "n_classes": self.n_classes}

    def extra_repr(self) -> str:
        return (
            f"architecture={self.architecture!r}, width={self.width}, depth={self.depth}, "
            f"classes={self.n_classes}"
        )
