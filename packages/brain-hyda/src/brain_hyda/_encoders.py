"""TinyUNet: the small 3-D U-Net this package pre-trains on its synthetic brains (CPU backbone).

Four encoder stages of widths ``(8, 16, 32, 64)``, each one 3×3×3 convolution, InstanceNorm with
affine parameters and LeakyReLU (0.01), stride 2 from the second stage on; the decoder upsamples
(trilinear ×2), concatenates the skip and applies the same conv unit, and a 1×1×1 head gives the
class logits. ``encoder(x)`` returns the four stage maps, finest first (the ``MultiScaleEncoder``
protocol every adapter here takes); ``decoder(maps)`` returns the last decoder map (before the
head), so an adapter can put its own head on a frozen decoder.
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MultiScaleEncoder", "TinyUNet", "UNetDecoder", "UNetEncoder"]


class MultiScaleEncoder(Protocol):
    """What the adapters need of a backbone: per-scale channels and maps, finest first."""

    channels: tuple[int, ...]

    def __call__(self, x: Tensor) -> list[Tensor]: ...


def _unit(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, stride=stride, padding=1),
        nn.InstanceNorm3d(cout, affine=True),
        nn.LeakyReLU(0.01),
    )


class UNetEncoder(nn.Module):
    """The encoder half of :class:`TinyUNet`.

    Shapes:
        forward: ``(B, C_in, S, S, S)`` -> ``[(B, w_0, S, ...), (B, w_1, S/2, ...), ...]``.
    """

    def __init__(self, in_channels: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.channels = tuple(widths)
        cins = (in_channels, *widths[:-1])
        self.stages = nn.ModuleList(
            _unit(cin, cout, 1 if i == 0 else 2) for i, (cin, cout) in enumerate(zip(cins, widths))
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        """Stage maps, finest first.

        Shapes:
            x: ``(B, C_in, S, S, S)`` -> list of ``(B, w_i, S / 2^i, ...)``.
        """
        maps = []
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        return maps


class UNetDecoder(nn.Module):
    """The decoder half of :class:`TinyUNet` (without the head).

    Shapes:
        forward: list of ``(B, w_i, S / 2^i, ...)`` -> ``(B, w_0, S, S, S)``.
    """

    def __init__(self, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.ups = nn.ModuleList(
            _unit(widths[i + 1] + widths[i], widths[i], 1) for i in reversed(range(len(widths) - 1))
        )

    def forward(self, maps: list[Tensor]) -> Tensor:
        """The finest decoder map.

        Shapes:
            maps: list of ``(B, w_i, S / 2^i, ...)`` -> ``(B, w_0, S, S, S)``.
        """
        x = maps[-1]
        for up, skip in zip(self.ups, reversed(maps[:-1])):
            x = F.interpolate(x, size=skip.shape[2:], mode="trilinear", align_corners=False)
            x = up(torch.cat([x, skip], dim=1))
        return x


class TinyUNet(nn.Module):
    """A small 3-D U-Net with ``.encoder``, ``.decoder`` and ``.head``.

    Args:
        in_channels: Input channels (1 for a single-modality backbone).
        num_classes: Output classes.
        widths: Channel widths of the stages.

    Shapes:
        forward: ``(B, C_in, S, S, S)`` -> logits ``(B, num_classes, S, S, S)``; ``S`` divisible
        by ``2^(len(widths) - 1)``.

    Examples:
        >>> net = TinyUNet(1, 5)
        >>> tuple(net(torch.zeros(2, 1, 16, 16, 16)).shape)
        (2, 5, 16, 16, 16)
        >>> sum(p.numel() for p in net.encoder.parameters())
        73152
    """

    def __init__(
        self, in_channels: int = 1, num_classes: int = 5, widths: tuple[int, ...] = (8, 16, 32, 64)
    ) -> None:
        super().__init__()
        self.encoder = UNetEncoder(in_channels, tuple(widths))
        self.decoder = UNetDecoder(tuple(widths))
        self.head = nn.Conv3d(widths[0], num_classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Class logits per voxel.

        Shapes:
            x: ``(B, C_in, S, S, S)`` -> ``(B, num_classes, S, S, S)``.
        """
        return self.head(self.decoder(self.encoder(x)))
