r"""A certified 1-Lipschitz image critic (spec §5.2, §5.6): ``(B, C, H, W) -> (B,)``.

.. math:: f(x) = v^T\,\mathrm{vec}(R_L \circ \dots \circ R_1(Mx)) + \beta,

``M`` a 1×1 convolution (channel lift, operator norm exactly :math:`\|M\|_2 \le 1`), :math:`R_i`
convolutional gradient blocks (:class:`~lipres.GradientConv2d`), and one functional with
:math:`\|v\|_2 \le 1` on the flattened image. No global mean pool: averaging ``N`` pixels is
:math:`1/\sqrt N`-Lipschitz, which would leave the critic far below 1-Lipschitz (spec §4 item 10).
It satisfies ``invprob_core.AdversarialRegularizer``'s contract: ``lipschitz_bound() <= 1.0``
(exactly, in float64) and ``project()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from ._affine import rescale
from ._certify import chain_bound
from ._common import SAFETY, check_choice, check_int
from ._constraints import constrain_
from ._conv import PADDINGS, GradientConv2d, Padding, check_image, parse_image_size
from ._norms import spectral_norm

__all__ = ["LipCritic"]


class _ChannelLift(nn.Module):
    """1×1 convolution ``M`` with ``‖M‖₂ <= 1 - 1e-6`` (its operator norm on images is ‖M‖₂)."""

    in_norm = "l2"
    out_norm = "l2"

    def __init__(self, in_channels: int, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(width, in_channels))
        self.bias = nn.Parameter(torch.zeros(width))
        with torch.no_grad():
            nn.init.orthogonal_(self.weight)
            self.weight.mul_(1.0 - SAFETY)

    def matrix(self) -> Tensor:
        return rescale(self.weight, spectral_norm(self.weight).upper)

    def forward(self, x: Tensor) -> Tensor:
        return torch.einsum("oc,bchw->bohw", self.matrix(), x) + self.bias[:, None, None]

    def lipschitz_bound(self) -> float:
        return spectral_norm(self.matrix().detach()).upper

    def constrain_(self) -> None:
        with torch.no_grad():
            self.weight.copy_(self.matrix())

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        width, c = self.weight.shape
        conv = nn.Conv2d(c, width, 1).to(self.weight.dtype)
        with torch.no_grad():
            conv.weight.copy_(self.matrix()[:, :, None, None])
            assert conv.bias is not None
            conv.bias.copy_(self.bias)
        return [("map", conv.to(self.weight.device))]


class _FlatHead(nn.Module):
    """``v^T vec(z) + β`` with ``‖v‖₂ <= 1 - 1e-6``: ``[B, c, H, W] -> [B]``."""

    in_norm = "l2"
    out_norm = "l2"

    def __init__(self, features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(features))
        self.bias = nn.Parameter(torch.zeros(()))
        with torch.no_grad():
            self.weight.normal_()
            self.weight.mul_((1.0 - SAFETY) / float(self.weight.norm()))

    def vector(self) -> Tensor:
        n = float(torch.linalg.vector_norm(self.weight.detach().double()))
        return rescale(self.weight, n)

    def forward(self, z: Tensor) -> Tensor:
        return z.flatten(1) @ self.vector() + self.bias

    def lipschitz_bound(self) -> float:
        return float(torch.linalg.vector_norm(self.vector().detach().double()))

    def constrain_(self) -> None:
        with torch.no_grad():
            self.weight.copy_(self.vector())

    def export_stages(self) -> list[tuple[str, nn.Module]]:
        lin = nn.Linear(self.weight.numel(), 1).to(self.weight.dtype)
        with torch.no_grad():
            lin.weight.copy_(self.vector()[None, :])
            lin.bias.copy_(self.bias.reshape(1))
        dev = self.weight.device
        return [("map", nn.Flatten(1)), ("map", lin.to(dev)), ("map", nn.Flatten(0, -1))]


class LipCritic(nn.Module):
    """Certified 1-Lipschitz critic for images (see the module docstring).

    Args:
        in_channels: C.
        image_size: ``(H, W)`` or an int; other sizes are refused (the norm depends on it).
        width: channels of the hidden state.
        depth: number of convolutional gradient blocks.
        kernel_size: odd kernel of the blocks.
        padding: ``"circular"`` (exact norms) or ``"zeros"`` (proven bounds).

    Shapes:
        x: ``[B, C, H, W]`` -> ``[B]``.

    Examples:
        >>> critic = LipCritic(1, 8, width=4, depth=2)
        >>> critic(torch.randn(3, 1, 8, 8)).shape, critic.lipschitz_bound() <= 1.0
        (torch.Size([3]), True)
    """

    def __init__(
        self,
        in_channels: int,
        image_size: int | tuple[int, int],
        *,
        width: int = 32,
        depth: int = 4,
        kernel_size: int = 3,
        padding: Padding = "circular",
    ) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.width = check_int(width, "width", minimum=1)
        self.depth = check_int(depth, "depth", minimum=0)
        self.padding: Padding = check_choice(padding, "padding", PADDINGS)
        self.kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        self.image_size = parse_image_size(image_size, kernel_size)
        self.blocks = nn.ModuleList(
            [
                GradientConv2d(
                    width, width, kernel_size=kernel_size, padding=padding, image_size=image_size
                )
                for _ in range(depth)
            ]
        )
        self.lift = _ChannelLift(in_channels, width)
        self.head = _FlatHead(width * math.prod(self.image_size))

    def named_maps(self) -> Iterator[tuple[str, nn.Module]]:
        """``lift``, ``blocks.i``, ``head`` in order."""
        yield "lift", self.lift
        for i, block in enumerate(self.blocks):
            yield f"blocks.{i}", block
        yield "head", self.head

    def forward(self, x: Tensor) -> Tensor:
        """Shapes: ``[B, C, H, W]`` -> ``[B]``."""
        check_image(x, self.in_channels, self.image_size)
        for _, module in self.named_maps():
            x = module(x)
        return x

    def lipschitz_bound(self) -> float:
        """Proven ℓ2 bound (<= 1.0 exactly in float64)."""
        return chain_bound(self.named_maps(), owner="LipCritic")

    def project(self) -> None:
        """Store the constrained weights (``invprob_core``'s ``fit`` calls it after each step)."""
        constrain_(self)

    def config(self) -> dict[str, Any]:
        return {
            "class": "LipCritic",
            "in_channels": self.in_channels,
            "image_size": list(self.image_size),
            "width": self.width,
            "depth": self.depth,
            "kernel_size": self.kernel_size,
            "padding": self.padding,
        }
