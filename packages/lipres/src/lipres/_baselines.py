r"""Baselines: an unconstrained ResNet and a spectrally normalised MLP (spec §5.4).

``UnconstrainedResNet``: the same width and depth, residual blocks
:math:`z + W_2\,\mathrm{ReLU}(W_1z + b)`, free lifting and head. Its bound
:math:`\|U\|_2\prod_i(1 + \|W_{2,i}\|_2\|W_{1,i}\|_2)\|V\|_2` (exact norms) is proven but
loose; it is what its certificate can use.

``SpectralNormMLP``: :math:`z \mapsto \sigma(Wz + b)` with every :math:`\|W\|_2 \le 1` (exact
norms, rescaled in ``forward``), GroupSort-2 (MaxMin over pairs, norm preserving; Anil et al. 2019)
or ReLU: the classic "spectral normalisation" 1-Lipschitz network, without residual blocks.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterator
from typing import Any, Literal

import torch
from torch import Tensor, nn

from ._affine import rescale
from ._certify import chain_bound
from ._common import check_choice, check_features, check_int
from ._norms import spectral_norm

__all__ = [
    "BASELINE_ACTIVATIONS",
    "GroupSort2",
    "SpectralLinear",
    "SpectralNormMLP",
    "UnconstrainedResNet",
]

BaselineActivation = Literal["groupsort", "relu"]
BASELINE_ACTIVATIONS: tuple[BaselineActivation, ...] = typing.get_args(BaselineActivation)


class GroupSort2(nn.Module):
    """Sort consecutive pairs of features (MaxMin): 1-Lipschitz and norm preserving in ℓ2.

    Shapes:
        z: ``[B, 2n]`` -> ``[B, 2n]``.

    Examples:
        >>> GroupSort2()(torch.tensor([[1.0, 3.0, 2.0, -1.0]])).tolist()
        [[3.0, 1.0, 2.0, -1.0]]
    """

    in_norm = "l2"
    out_norm = "l2"

    def forward(self, z: Tensor) -> Tensor:
        """Shapes: ``[B, 2n]`` -> ``[B, 2n]``."""
        if z.shape[-1] % 2:
            check_features(z, z.shape[-1] + 1, "z")
        pairs = z.reshape(*z.shape[:-1], -1, 2)
        return torch.stack([pairs.amax(-1), pairs.amin(-1)], dim=-1).reshape(z.shape)

    def lipschitz_bound(self) -> float:
        return 1.0

    def reset_parameters(self) -> None:
        """No parameters."""


class SpectralLinear(nn.Module):
    r"""``nn.Linear`` with :math:`\|W\|_2 \le 1`, rescaled by the exact norm in ``forward``.

    Shapes:
        x: ``[B, d_in]`` -> ``[B, d_out]``.

    Examples:
        >>> lin = SpectralLinear(4, 3)
        >>> with torch.no_grad():
        ...     _ = lin.weight.mul_(9.0)
        >>> lin.lipschitz_bound() <= 1.0
        True
    """

    in_norm = "l2"
    out_norm = "l2"

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.out_features = check_int(out_features, "out_features", minimum=1)
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Orthogonal weight, uniform bias."""
        with torch.no_grad():
            nn.init.orthogonal_(self.weight)
            b = 1.0 / math.sqrt(self.in_features)
            self.bias.uniform_(-b, b)

    def matrix(self) -> Tensor:
        return rescale(self.weight, spectral_norm(self.weight).upper)

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``[B, d_in]`` -> ``[B, d_out]``."""
        check_features(x, self.in_features)
        return nn.functional.linear(x, self.matrix(), self.bias)

    def lipschitz_bound(self) -> float:
        return spectral_norm(self.matrix().detach()).upper

    def constrain_(self) -> None:
        with torch.no_grad():
            self.weight.copy_(self.matrix())

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        lin = nn.Linear(self.in_features, self.out_features).to(self.bias.dtype)
        with torch.no_grad():
            lin.weight.copy_(self.matrix())
            lin.bias.copy_(self.bias)
        return [("map", lin.to(self.bias.device))]

    def extra_repr(self) -> str:
        return f"{self.in_features} -> {self.out_features}"


class SpectralNormMLP(nn.Module):
    """Spectrally normalised MLP (exact norms): ``depth`` hidden layers of ``width`` units.

    Args:
        in_features: d.
        out_features: outputs (logits K, or 1 for a scalar).
        width: hidden width (even for ``"groupsort"``).
        depth: hidden layers >= 1.
        activation: ``"groupsort"`` or ``"relu"``.

    Shapes:
        x: ``[B, d]`` -> ``[B, out_features]``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        width: int,
        depth: int,
        *,
        activation: BaselineActivation = "groupsort",
    ) -> None:
        super().__init__()
        self.activation = check_choice(activation, "activation", BASELINE_ACTIVATIONS)
        check_int(depth, "depth", minimum=1)
        check_int(width, "width", minimum=2)
        layers: list[nn.Module] = []
        d = in_features
        for _ in range(depth):
            layers += [
                SpectralLinear(d, width),
                GroupSort2() if activation == "groupsort" else nn.ReLU(),
            ]
            d = width
        layers.append(SpectralLinear(d, out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``[B, d]`` -> ``[B, out_features]``."""
        return self.layers(x)

    def lipschitz_bound(self) -> float:
        return chain_bound(self.layers.named_children(), owner="SpectralNormMLP.layers")


class UnconstrainedResNet(nn.Module):
    r"""The accuracy ceiling: a free ResNet of the same width and depth (see module docstring).

    Args:
        in_features: d.
        out_features: outputs (K logits, or 1 for a scalar squeezed to ``[B]``).
        width: m.
        depth: number of residual blocks.

    Shapes:
        x: ``[B, d]`` -> ``[B, K]`` (``[B]`` when ``out_features == 1``).
    """

    def __init__(self, in_features: int, out_features: int, width: int, depth: int) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.out_features = check_int(out_features, "out_features", minimum=1)
        check_int(depth, "depth", minimum=0)
        self.lift = nn.Linear(in_features, width)
        self.inner = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        self.outer = nn.ModuleList([nn.Linear(width, width, bias=False) for _ in range(depth)])
        self.head = nn.Linear(width, out_features)
        with torch.no_grad():
            for lin in self.outer:
                typing.cast(nn.Linear, lin).weight.mul_(0.1)

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``[B, d]`` -> ``[B, K]`` or ``[B]``."""
        check_features(x, self.in_features)
        z = self.lift(x)
        for w1, w2 in zip(self.inner, self.outer, strict=True):
            z = z + w2(torch.relu(w1(z)))
        out = self.head(z)
        return out.squeeze(-1) if self.out_features == 1 else out

    def named_maps(self) -> Iterator[tuple[str, nn.Module]]:
        yield "lift", self.lift
        yield "head", self.head

    def lipschitz_bound(self) -> float:
        """Proven, loose: ``‖U‖ Π (1 + ‖W2‖ ‖W1‖) ‖V‖`` with exact norms."""
        total = spectral_norm(self.lift.weight).upper * spectral_norm(self.head.weight).upper
        for w1, w2 in zip(self.inner, self.outer, strict=True):
            a, b = typing.cast(nn.Linear, w1).weight, typing.cast(nn.Linear, w2).weight
            total *= 1.0 + spectral_norm(a).upper * spectral_norm(b).upper
        return total

    def config(self) -> dict[str, Any]:
        return {
            "class": "UnconstrainedResNet",
            "in_features": self.in_features,
            "out_features": self.out_features,
            "width": self.lift.out_features,
            "depth": len(self.inner),
        }
